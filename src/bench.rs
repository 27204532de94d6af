//! Benchmarks that print numbers; docs/benchmarks.md records them with the command that made them.
//! Each run works in its own scratch database (`adflow_bench_*`), dropped at the end.

use crate::config::Config;
use crate::platform::PlatformError;
use adflow::scratch::Scratch;
use adflow_event_store::postgres::PostgresEventStore;
use adflow_event_store::{
    EventAppender, EventMetadata, EventReader, ExpectedVersion, NewEvent, Position,
};
use adflow_projections::{Projector, ProjectorOptions};
use clap::Subcommand;
use futures_util::StreamExt;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[derive(Subcommand)]
pub enum Bench {
    /// Single-event appends from concurrent writers, next to raw one-row INSERT transactions.
    Append {
        #[arg(long, default_value_t = 16)]
        writers: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Projection and subscription lag while appending at a fixed rate.
    Lag {
        /// Appended events per second.
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Rebuild throughput: fills a log with campaign histories, then rebuilds each read model.
    Rebuild {
        /// Campaigns to create; each gets a creation, a rename and a budget change (3 events).
        #[arg(long, default_value_t = 20_000)]
        campaigns: u64,
    },
    /// ClickHouse: projects a log of performance reports into empty analytics tables (events/s,
    /// fact rows/s), then measures the analytics lag while appending reports at a fixed rate.
    Analytics {
        /// Reports in the log to project.
        #[arg(long, default_value_t = 2_000)]
        reports: usize,
        /// Hourly rows per report.
        #[arg(long, default_value_t = 1_000)]
        rows: usize,
        /// Appended reports per second while measuring lag (0 skips it).
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// The command API under load from this process while `adflow all` serves in another:
    /// concurrent clients renaming their campaigns with `If-Match`.
    Commands {
        #[arg(long, default_value_t = 16)]
        clients: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// The platform gateways against the sandbox in this process: deployment of a structure
    /// (requests, seconds) and report sync (rows/s, next to the bare pull).
    Platforms {
        #[arg(long, default_value_t = 20)]
        ad_groups: usize,
        #[arg(long, default_value_t = 20)]
        keywords: usize,
        /// Days of reports to sync.
        #[arg(long, default_value_t = 30)]
        days: u64,
    },
    /// The GraphQL API under load from this process while `adflow all` serves in another:
    /// the campaign list and 30-day analytics queries over seeded fact rows.
    Graphql {
        /// Campaigns of the tenant the list pages through.
        #[arg(long, default_value_t = 2_000)]
        campaigns: u64,
        /// Fact rows seeded into ClickHouse over 30 days.
        #[arg(long, default_value_t = 10_000_000)]
        fact_rows: u64,
        /// Campaign list requests per second.
        #[arg(long, default_value_t = 500)]
        list_rate: u64,
        /// Analytics requests per second.
        #[arg(long, default_value_t = 20)]
        analytics_rate: u64,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
    },
}

pub async fn run(config: &Config, bench: Bench) -> Result<(), PlatformError> {
    let scratch = Scratch::create(config).await?;
    let result = match bench {
        Bench::Append { writers, seconds } => {
            append(&scratch.pool, writers, Duration::from_secs(seconds)).await
        }
        Bench::Lag { rate, seconds } => {
            lag(&scratch.pool, rate, Duration::from_secs(seconds)).await
        }
        Bench::Rebuild { campaigns } => rebuild(&scratch.pool, campaigns).await,
        Bench::Analytics {
            reports,
            rows,
            rate,
            seconds,
        } => {
            let scratch_analytics = adflow_projections::analytics::Analytics::new(
                &config.clickhouse_url,
                &format!("adflow_bench_{}", Uuid::new_v4().simple()),
            )?;
            let result = analytics(
                &scratch.pool,
                &scratch_analytics,
                reports,
                rows,
                rate,
                Duration::from_secs(seconds),
            )
            .await;
            scratch_analytics.drop_database().await?;
            result
        }
        Bench::Platforms {
            ad_groups,
            keywords,
            days,
        } => crate::bench_platforms::run(config, &scratch, ad_groups, keywords, days.max(1)).await,
        Bench::Commands { clients, seconds } => {
            let result = crate::bench_commands::run(config, &scratch, clients, seconds).await;
            // The server created its ClickHouse tables in a database of the scratch's name.
            adflow_projections::analytics::Analytics::new(&config.clickhouse_url, &scratch.name)?
                .drop_database()
                .await?;
            result
        }
        Bench::Graphql {
            campaigns,
            fact_rows,
            list_rate,
            analytics_rate,
            seconds,
        } => {
            let scratch_analytics = adflow_projections::analytics::Analytics::new(
                &config.clickhouse_url,
                &scratch.name,
            )?;
            let options = crate::bench_graphql::LoadOptions {
                campaigns,
                fact_rows,
                list_rate,
                analytics_rate,
                seconds,
            };
            let result = crate::bench_graphql::run(
                config,
                &scratch.pool,
                &scratch.name,
                &scratch_analytics,
                options,
            )
            .await;
            scratch_analytics.drop_database().await?;
            result
        }
    };
    scratch.drop_database(config).await?;
    result
}

pub(crate) fn event(tenant: Uuid, data: serde_json::Value, event_type: &str) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: event_type.into(),
        schema_version: 1,
        data,
        metadata: EventMetadata {
            tenant_id: tenant,
            actor: "system:bench".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            extra: BTreeMap::new(),
        },
    }
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

pub(crate) fn report(label: &str, count: usize, elapsed: Duration, mut latencies: Vec<Duration>) {
    latencies.sort();
    println!(
        "{label:<34} {count:>8} in {:>5.1}s = {:>8.0}/s   latency p50 {:>6.2} ms  p99 {:>6.2} ms",
        elapsed.as_secs_f64(),
        count as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
    );
}

/// Runs `writers` loops of `op` for `duration`; returns (count, elapsed, latencies).
async fn hammer<F, Fut>(
    writers: usize,
    duration: Duration,
    op: F,
) -> Result<(usize, Duration, Vec<Duration>), PlatformError>
where
    F: Fn(usize, u64) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), PlatformError>> + Send,
{
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..writers {
        let op = op.clone();
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                op(writer, n).await?;
                latencies.push(t.elapsed());
                n += 1;
            }
            Ok::<_, PlatformError>(latencies)
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        all.extend(joined.map_err(|e| PlatformError::Usage(e.to_string()))??);
    }
    Ok((all.len(), started.elapsed(), all))
}

/// `append_events` as a migration defines it, for swapping in this scratch database only.
fn append_function(migration: &str) -> Result<String, PlatformError> {
    let start = migration
        .find("FUNCTION append_events(\n")
        .ok_or_else(|| PlatformError::Usage("no append_events in the migration".into()))?;
    let end = migration[start..]
        .find("$$;")
        .map(|i| start + i + 3)
        .ok_or_else(|| PlatformError::Usage("append_events has no end".into()))?;
    Ok(format!("CREATE OR REPLACE {}", &migration[start..end]))
}

/// The append benchmark with the hash chain (what runs), then what the chain costs: rounds of
/// single-event appends alternating between the chained `append_events` (0014's) and the
/// unchained one (0001's) on the same scratch database. This machine's throughput drifts by more
/// than the chain costs between phases a minute apart, so each round's ratio compares two phases
/// seconds apart and the median of the rounds is the figure.
async fn append(pool: &PgPool, writers: usize, duration: Duration) -> Result<(), PlatformError> {
    const ROUNDS: usize = 5;
    // 0001's function, given the content-hash argument the adapter now sends (and ignoring it).
    let unchained = append_function(include_str!("../schemas/migrations/0001_event_store.sql"))?
        .replace(
            "p_extra_metadata jsonb[]\n)",
            "p_extra_metadata jsonb[],\n    p_content_hashes bytea[]\n)",
        );
    let chained = append_function(include_str!(
        "../schemas/migrations/0014_chain_content_hash.sql"
    ))?;
    println!("with the hash chain (0014's append_events, what runs):");
    sqlx::raw_sql(&chained).execute(pool).await?;
    append_rate(pool, writers, duration).await?;
    let round_length = (duration / 2).max(Duration::from_secs(1));
    println!(
        "\nthe chain's cost: {ROUNDS} rounds of {}s with it, then {}s without, single-event appends",
        round_length.as_secs(),
        round_length.as_secs()
    );
    let mut ratios = Vec::new();
    for round in 1..=ROUNDS {
        let mut rates = [0.0; 2];
        for (rate, function) in rates.iter_mut().zip([&chained, &unchained]) {
            sqlx::raw_sql(function).execute(pool).await?;
            *rate = single_appends(pool, writers, round_length).await?;
        }
        let ratio = rates[0] / rates[1].max(1e-9);
        println!(
            "round {round}: {:.0} appends/s with the chain, {:.0} without: {:+.1} %",
            rates[0],
            rates[1],
            (ratio - 1.0) * 100.0
        );
        ratios.push(ratio);
    }
    sqlx::raw_sql(&chained).execute(pool).await?;
    let (with, without) = function_cost(pool, &unchained).await?;
    // The writer's share: the content hash the adapter computes before each append.
    let sample = event(Uuid::now_v7(), bench_payload(0), "BenchAppended");
    let started = Instant::now();
    const HASHES: u32 = 100_000;
    for _ in 0..HASHES {
        std::hint::black_box(adflow_event_store::chain::content_hash(
            "bench-stream_1",
            std::hint::black_box(&sample),
        ));
    }
    println!(
        "the writer's content hash (this build): {:.1} µs per event",
        started.elapsed().as_secs_f64() * 1e6 / f64::from(HASHES)
    );
    println!(
        "in the database alone, 40 alternations of 500 single-event appends each: {:.1} µs per \
         append with the chain, {:.1} µs without: {:+.1} %",
        with,
        without,
        (with / without.max(1e-9) - 1.0) * 100.0
    );
    ratios.sort_by(f64::total_cmp);
    println!(
        "\nhash chain cost, median of {ROUNDS} rounds: {:+.1} % (rounds from {:+.1} % to {:+.1} %)",
        (ratios[ROUNDS / 2] - 1.0) * 100.0,
        (ratios[0] - 1.0) * 100.0,
        (ratios[ROUNDS - 1] - 1.0) * 100.0
    );
    Ok(())
}

/// The chain's cost inside PostgreSQL, without the client: the chained and the unchained
/// `append_events` called alternately, 500 appends at a time, from one session, so that drift
/// weighs on both alike. Returns µs per append (with, without).
async fn function_cost(pool: &PgPool, unchained: &str) -> Result<(f64, f64), PlatformError> {
    let renamed = unchained.replace(
        "FUNCTION append_events(",
        "FUNCTION bench_append_events_unchained(",
    );
    sqlx::raw_sql(&renamed).execute(pool).await?;
    sqlx::raw_sql(CHAIN_COST_FUNCTION).execute(pool).await?;
    let row: (f64, f64) = sqlx::query_as(
        r#"SELECT with_chain, without_chain FROM bench_chain_cost('{"n": 1, "campaignId":
           "0193a6c2-5f1e-7c3a-9b2d-4e8f1a2b3c4d", "name": "Q3 pipeline, DACH finance leaders",
           "objective": "LEAD_GENERATION", "platforms": ["GOOGLE", "LINKEDIN"], "currency": "EUR",
           "totalBudgetMicros": 1500000000, "startDate": "2026-07-01",
           "endDate": "2026-09-30"}'::jsonb)"#,
    )
    .fetch_one(pool)
    .await?;
    Ok(row)
}

/// µs per append of the chained and the unchained function, alternated in one session.
const CHAIN_COST_FUNCTION: &str = r#"
CREATE OR REPLACE FUNCTION bench_chain_cost(d jsonb)
RETURNS TABLE (with_chain float8, without_chain float8) LANGUAGE plpgsql AS $$
DECLARE
    t uuid := gen_random_uuid();
    run text := md5(random()::text);
    content bytea := sha256(convert_to(d::text, 'UTF8'));
    started timestamptz;
    chained interval := '0';
    unchained interval := '0';
BEGIN
    FOR round IN 1..40 LOOP
        started := clock_timestamp();
        FOR s IN 1..50 LOOP FOR v IN 0..9 LOOP
            PERFORM append_events('benchc-' || run || '_' || round || '_' || s, v, t,
                ARRAY[gen_random_uuid()], ARRAY['BenchAppended'], ARRAY[1], ARRAY[d],
                ARRAY['system:bench'], ARRAY[t], ARRAY[t], ARRAY[NULL::jsonb], ARRAY[content]);
        END LOOP; END LOOP;
        chained := chained + (clock_timestamp() - started);
        started := clock_timestamp();
        FOR s IN 1..50 LOOP FOR v IN 0..9 LOOP
            PERFORM bench_append_events_unchained('benchu-' || run || '_' || round || '_' || s, v,
                t, ARRAY[gen_random_uuid()], ARRAY['BenchAppended'], ARRAY[1], ARRAY[d],
                ARRAY['system:bench'], ARRAY[t], ARRAY[t], ARRAY[NULL::jsonb], ARRAY[content]);
        END LOOP; END LOOP;
        unchained := unchained + (clock_timestamp() - started);
    END LOOP;
    with_chain := extract(epoch FROM chained) * 1e6 / 20000;
    without_chain := extract(epoch FROM unchained) * 1e6 / 20000;
    RETURN NEXT;
END;
$$;
"#;

/// Raw one-row INSERTs, then single-event appends through the adapter; returns the appends/s.
pub(crate) async fn append_rate(
    pool: &PgPool,
    writers: usize,
    duration: Duration,
) -> Result<f64, PlatformError> {
    println!(
        "{writers} concurrent writers, {}s each phase, one event (or row) per transaction",
        duration.as_secs()
    );
    let raw_pool = pool.clone();
    let (count, elapsed, latencies) = hammer(writers, duration, move |_, n| {
        let pool = raw_pool.clone();
        async move {
            sqlx::query("INSERT INTO raw_inserts (payload) VALUES ($1)")
                .bind(serde_json::json!({ "n": n }))
                .execute(&pool)
                .await?;
            Ok(())
        }
    })
    .await?;
    report("raw one-row INSERT transactions", count, elapsed, latencies);

    // The baseline is the store without group commit: one append, one transaction. The same
    // appends with group commit show what sharing commits buys at the store itself.
    let mut baseline = 0.0;
    for group_commit in [false, true] {
        let (count, elapsed, latencies) = appends(pool, writers, duration, group_commit).await?;
        let label = if group_commit {
            "event appends (expected version), group commit"
        } else {
            "event appends (expected version), one transaction each"
        };
        report(label, count, elapsed, latencies);
        if !group_commit {
            baseline = count as f64 / elapsed.as_secs_f64();
        }
    }
    Ok(baseline)
}

/// Single-event appends, one transaction each, for `duration`: appends/s.
async fn single_appends(
    pool: &PgPool,
    writers: usize,
    duration: Duration,
) -> Result<f64, PlatformError> {
    let (count, elapsed, _) = appends(pool, writers, duration, false).await?;
    Ok(count as f64 / elapsed.as_secs_f64())
}

/// The size of a typical event (a campaign's creation): the chain hashes every byte of it.
fn bench_payload(n: u64) -> serde_json::Value {
    serde_json::json!({
        "n": n,
        "campaignId": "0193a6c2-5f1e-7c3a-9b2d-4e8f1a2b3c4d",
        "name": "Q3 pipeline, DACH finance leaders",
        "objective": "LEAD_GENERATION",
        "platforms": ["GOOGLE", "LINKEDIN"],
        "currency": "EUR",
        "totalBudgetMicros": 1_500_000_000,
        "startDate": "2026-07-01",
        "endDate": "2026-09-30"
    })
}

/// `writers` tasks appending one event at a time to streams of their own, for `duration`.
async fn appends(
    pool: &PgPool,
    writers: usize,
    duration: Duration,
    group_commit: bool,
) -> Result<(usize, Duration, Vec<Duration>), PlatformError> {
    let store = PostgresEventStore::new(pool.clone());
    let store = Arc::new(if group_commit {
        store.with_group_commit(adflow_event_store::postgres::GroupCommitOptions::default())
    } else {
        store
    });
    let tenant = Uuid::now_v7();
    let run = Uuid::now_v7().simple().to_string();
    let (count, elapsed, latencies) = hammer(writers, duration, move |writer, n| {
        let (store, run) = (store.clone(), run.clone());
        async move {
            let stream = format!("bench-{run}_{writer}");
            store
                .append(
                    &stream,
                    ExpectedVersion::Exact(n),
                    vec![event(tenant, bench_payload(n), "BenchAppended")],
                )
                .await?;
            Ok(())
        }
    })
    .await?;
    Ok((count, elapsed, latencies))
}

async fn lag(pool: &PgPool, rate: u64, duration: Duration) -> Result<(), PlatformError> {
    const WRITERS: u64 = 16;
    let store = Arc::new(PostgresEventStore::with_poll_interval(
        pool.clone(),
        Duration::from_millis(5),
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let projector = Projector::new(
        store.clone(),
        pool.clone(),
        Arc::new(adflow_projections::campaigns::CampaignsProjection),
        ProjectorOptions::default(),
    );
    let projector_task = tokio::spawn({
        let stopped = stopped.clone();
        async move { projector.run(stopped).await }
    });

    // Acknowledged appends, waiting to be seen: by position (projection) and by id (subscription).
    let by_position: Arc<Mutex<BTreeMap<Position, Instant>>> = Arc::default();
    let by_id: Arc<Mutex<HashMap<Uuid, Instant>>> = Arc::default();
    // Delivery times by event id; matched with the acknowledgement times at the end, since a
    // delivery may come before the writer has recorded its acknowledgement.
    let delivered: Arc<Mutex<Vec<(Uuid, Instant)>>> = Arc::default();
    let subscription_task = tokio::spawn({
        let (store, delivered, mut stopped) = (store.clone(), delivered.clone(), stopped.clone());
        async move {
            let mut subscription = store.subscribe_all(Position::START);
            loop {
                tokio::select! {
                    _ = stopped.changed() => break,
                    next = subscription.next() => match next {
                        Some(Ok(event)) => {
                            if let Ok(mut d) = delivered.lock() {
                                d.push((event.event_id, Instant::now()));
                            }
                        }
                        Some(Err(_)) => {}
                        None => break,
                    }
                }
            }
        }
    });
    let checkpoint_task = tokio::spawn({
        let (pool, by_position, mut stopped) = (pool.clone(), by_position.clone(), stopped.clone());
        async move {
            let mut lags = Vec::new();
            loop {
                if let Ok(reached) = adflow_projections::checkpoint(&pool, "campaigns").await {
                    let seen = Instant::now();
                    if let Ok(mut pending) = by_position.lock() {
                        let later = pending.split_off(&Position {
                            commit: reached.commit,
                            prepare: reached.prepare + 1,
                        });
                        lags.extend(
                            pending
                                .values()
                                .map(|acked| seen.saturating_duration_since(*acked)),
                        );
                        *pending = later;
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(1)) => {}
                    _ = stopped.changed() => break,
                }
            }
            lags
        }
    });

    let interval = Duration::from_secs_f64(WRITERS as f64 / rate as f64);
    let started = Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (store, by_position, by_id) = (store.clone(), by_position.clone(), by_id.clone());
        writers.spawn(async move {
            let tenant = Uuid::now_v7();
            let mut ticks = tokio::time::interval(interval);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut sent = 0u64;
            while started.elapsed() < duration {
                ticks.tick().await;
                let id = Uuid::now_v7();
                let created = event(
                    tenant,
                    serde_json::json!({
                        "campaignId": id, "tenantId": tenant, "name": format!("bench {writer}-{sent}"),
                        "objective": "ENGAGEMENT", "platforms": ["GOOGLE", "LINKEDIN"],
                        "totalBudgetMicros": 10_000_000_000i64, "startDate": "2027-01-01", "endDate": "2027-03-31"
                    }),
                    "CampaignCreated",
                );
                let event_id = created.event_id;
                if let Ok(outcome) = store
                    .append(&format!("campaign-{tenant}_{id}"), ExpectedVersion::NoStream, vec![created])
                    .await
                {
                    let acked = Instant::now();
                    if let Ok(mut m) = by_position.lock() {
                        m.insert(outcome.position, acked);
                    }
                    if let Ok(mut m) = by_id.lock() {
                        m.insert(event_id, acked);
                    }
                    sent += 1;
                }
            }
            sent
        });
    }
    let mut sent = 0;
    while let Some(joined) = writers.join_next().await {
        sent += joined.unwrap_or(0);
    }
    let elapsed = started.elapsed();
    // Let the readers drain, then stop everything.
    for _ in 0..1000 {
        let projected = by_position.lock().map(|m| m.is_empty()).unwrap_or(true);
        let seen = delivered.lock().map(|d| d.len() as u64).unwrap_or(0);
        if projected && seen >= sent {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let _ = stop.send(true);
    let projection_lags = checkpoint_task.await.unwrap_or_default();
    let _ = subscription_task.await;
    let _ = projector_task.await;
    let subscription_lags: Vec<Duration> = {
        let acked = by_id.lock().map(|m| m.clone()).unwrap_or_default();
        let delivered = delivered.lock().map(|d| d.clone()).unwrap_or_default();
        delivered
            .iter()
            .filter_map(|(id, seen)| acked.get(id).map(|a| seen.saturating_duration_since(*a)))
            .collect()
    };
    println!(
        "appended {sent} events in {:.1}s = {:.0}/s (target {rate}/s, {WRITERS} writers)",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64()
    );
    for (label, mut lags) in [
        (
            "subscription lag (append ack -> delivered)",
            subscription_lags,
        ),
        ("projection lag (append ack -> checkpoint)", projection_lags),
    ] {
        lags.sort();
        println!(
            "{label:<44} n={:<6} p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms",
            lags.len(),
            percentile(&lags, 0.50).as_secs_f64() * 1e3,
            percentile(&lags, 0.99).as_secs_f64() * 1e3,
            lags.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    }
    Ok(())
}

async fn rebuild(pool: &PgPool, campaigns: u64) -> Result<(), PlatformError> {
    let store = Arc::new(PostgresEventStore::new(pool.clone()));
    let tenant = Uuid::now_v7();
    let started = Instant::now();
    // Filled by 8 writers, one three-event append per campaign.
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..8u64 {
        let store = store.clone();
        writers.spawn(async move {
            for n in (writer..campaigns).step_by(8) {
                let id = Uuid::now_v7();
                let history = vec![
                    event(
                        tenant,
                        serde_json::json!({
                            "campaignId": id, "tenantId": tenant, "name": format!("bench {n}"),
                            "objective": "ENGAGEMENT", "platforms": ["GOOGLE"], "currency": "EUR",
                            "totalBudgetMicros": 10_000_000_000i64, "startDate": "2027-01-01", "endDate": "2027-03-31"
                        }),
                        "CampaignCreated",
                    ),
                    event(tenant, serde_json::json!({ "name": format!("renamed {n}") }), "CampaignRenamed"),
                    event(tenant, serde_json::json!({ "totalBudgetMicros": 20_000_000_000i64 }), "CampaignBudgetChanged"),
                ];
                let mut history = history;
                history[0].schema_version = 2;
                store.append(&format!("campaign-{tenant}_{id}"), ExpectedVersion::NoStream, history).await?;
            }
            Ok::<_, PlatformError>(())
        });
    }
    while let Some(joined) = writers.join_next().await {
        joined.map_err(|e| PlatformError::Usage(e.to_string()))??;
    }
    let events = campaigns * 3;
    println!(
        "filled the log with {events} events in {:.1}s",
        started.elapsed().as_secs_f64()
    );
    for projection in adflow_projections::all() {
        let name = projection.name();
        let projector = Projector::new(
            store.clone(),
            pool.clone(),
            projection,
            ProjectorOptions::default(),
        );
        projector.reset().await?;
        let started = Instant::now();
        let applied = projector.catch_up().await?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "rebuilt {name:<10} {applied:>8} events in {seconds:>6.1}s = {:>7.0} events/s",
            applied as f64 / seconds.max(1e-9)
        );
    }
    Ok(())
}

async fn analytics(
    pool: &PgPool,
    analytics: &adflow_projections::analytics::Analytics,
    reports: usize,
    rows: usize,
    rate: u64,
    duration: Duration,
) -> Result<(), PlatformError> {
    use adflow_projections::analytics::synthetic::{
        append_reports, campaigns, ExpectedFigures, ReportShape,
    };
    use adflow_projections::analytics::{queries, AnalyticsOptions, AnalyticsProjector};
    let store = Arc::new(PostgresEventStore::new(pool.clone()));
    let expected = Arc::new(Mutex::new(ExpectedFigures::default()));
    let targets = campaigns(4, 25);
    let started = Instant::now();
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..4 {
        writers.spawn(append_reports(
            store.clone(),
            ReportShape::DayStreams,
            expected.clone(),
            targets.clone(),
            writer,
            reports / 4,
            rows,
        ));
    }
    while let Some(joined) = writers.join_next().await {
        joined.map_err(|e| PlatformError::Usage(e.to_string()))??;
    }
    let fact_rows = (reports / 4 * 4 * rows) as f64;
    println!(
        "filled the log with {} reports x {rows} rows in {:.1}s",
        reports / 4 * 4,
        started.elapsed().as_secs_f64()
    );

    analytics.ensure_tables("").await?;
    let projector = AnalyticsProjector::new(
        store.clone(),
        pool.clone(),
        analytics.clone(),
        AnalyticsOptions::default(),
    );
    let started = Instant::now();
    let applied = projector.catch_up().await?;
    let seconds = started.elapsed().as_secs_f64().max(1e-9);
    println!(
        "projected into ClickHouse: {applied} events in {seconds:.1}s = {:.0} events/s, {:.0} fact rows/s",
        applied as f64 / seconds,
        fact_rows / seconds
    );
    if rate == 0 {
        return Ok(());
    }

    // Lag: from an append's return to the checkpoint in ClickHouse covering it.
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let live = tokio::spawn(async move { projector.run(shutdown).await });
    let appended: Arc<Mutex<Vec<(Position, Instant)>>> = Arc::default();
    // Four appenders on four campaigns: one stream's appends are serial (each waits for its
    // commit), which alone would cap the rate near 300 appends/s here.
    const APPENDERS: u64 = 4;
    let mut appenders = tokio::task::JoinSet::new();
    for appender in 0..APPENDERS {
        let appended = appended.clone();
        let store = store.clone();
        appenders.spawn(async move {
            let mut generator =
                adflow_projections::analytics::synthetic::SyntheticReports::new(99 + appender);
            let per_appender = (rate / APPENDERS).max(1) as u32;
            let mut tick = tokio::time::interval(Duration::from_secs(1) / per_appender);
            let until = Instant::now() + duration;
            let (tenant, campaign) = (Uuid::now_v7(), Uuid::now_v7());
            let day = adflow_projections::analytics::synthetic::first_day();
            while Instant::now() < until {
                tick.tick().await;
                let report =
                    generator.report(adflow_domain::campaign::Platform::Google, day, 10, &[]);
                let (stream, event) = ReportShape::DayStreams.event(tenant, campaign, report);
                if let Ok(outcome) = store
                    .append(&stream, ExpectedVersion::Any, vec![event])
                    .await
                {
                    if let Ok(mut appended) = appended.lock() {
                        appended.push((outcome.position, Instant::now()));
                    }
                }
            }
        });
    }
    let mut latencies = Vec::new();
    let mut next = 0usize;
    loop {
        while appenders.try_join_next().is_some() {}
        let done = appenders.is_empty();
        let checkpoint = queries::checkpoint(analytics, "").await?;
        let seen = Instant::now();
        if let Ok(mut appended) = appended.lock() {
            // Four appenders finish their appends out of log order.
            appended[next..].sort_by_key(|(position, _)| *position);
            while next < appended.len() && appended[next].0 <= checkpoint {
                latencies.push(seen.saturating_duration_since(appended[next].1));
                next += 1;
            }
            if done && next == appended.len() {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let _ = stop.send(true);
    let _ = live.await;
    report(
        &format!("analytics lag at {rate} appends/s"),
        latencies.len(),
        duration,
        latencies,
    );
    Ok(())
}
