//! The GraphQL load benchmark: starts `adflow all` as a second process on scratch databases,
//! seeds campaigns through the log and 10 million fact rows into ClickHouse, then sends queries
//! at a fixed rate over loopback and prints latency percentiles and throughput.
//!
//! The rate is open-loop: requests leave on schedule whether or not earlier ones finished, so a
//! stalled server shows up in the numbers instead of slowing the load down. Latency counts from
//! the moment a request is handed to the client; how late requests left against their schedule
//! (tokio's timer has millisecond resolution) is printed next to it, so a generator that fell
//! behind cannot hide.

use crate::platform::PlatformError;
use adflow_auth::{Authenticator, Role};
use adflow_domain::TenantId;
use adflow_event_store::postgres::PostgresEventStore;
use adflow_event_store::{EventAppender, ExpectedVersion};
use adflow_projections::analytics::Analytics;
use serde_json::{json, Value};
use sqlx::PgPool;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub struct LoadOptions {
    pub campaigns: u64,
    pub fact_rows: u64,
    pub list_rate: u64,
    pub analytics_rate: u64,
    pub seconds: u64,
}

/// The first day of the seeded performance; the analytics queries cover it and the 29 after.
const FIRST_DAY: &str = "2026-06-01";
const LAST_DAY: &str = "2026-06-30";
/// Campaigns that get performance rows (each gets fact_rows / this many).
const CAMPAIGNS_WITH_FACTS: u64 = 200;

pub async fn run(
    config: &crate::config::Config,
    pool: &PgPool,
    database: &str,
    analytics: &Analytics,
    options: LoadOptions,
) -> Result<(), PlatformError> {
    let secret = format!("bench-{}", Uuid::new_v4());
    let (mut server, urls) = crate::bench_server::start(config, database, &secret, &[]).await?;
    let query_url = urls.query;
    let outcome = measure(pool, analytics, &query_url, &secret, &options).await;
    server.kill().await.ok();
    outcome
}

async fn seed_campaigns(
    pool: &PgPool,
    tenant: Uuid,
    campaigns: u64,
) -> Result<(Vec<Uuid>, String), PlatformError> {
    let store = Arc::new(PostgresEventStore::new(pool.clone()));
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..8u64 {
        let store = store.clone();
        writers.spawn(async move {
            let mut ids = Vec::new();
            let mut last = None;
            for n in (writer..campaigns).step_by(8) {
                let id = Uuid::now_v7();
                let objective = ["LEAD_GENERATION", "WEBSITE_VISITS", "ENGAGEMENT"][(n % 3) as usize];
                let created = crate::bench::event(
                    tenant,
                    json!({
                        "campaignId": id, "tenantId": tenant, "name": format!("Campaign {n:05}"),
                        "objective": objective,
                        "platforms": if n % 2 == 0 { json!(["GOOGLE"]) } else { json!(["LINKEDIN", "GOOGLE"]) },
                        "currency": "EUR", "totalBudgetMicros": 1_000_000_000i64 * (1 + (n % 50) as i64),
                        "startDate": FIRST_DAY, "endDate": "2026-12-31"
                    }),
                    "CampaignCreated",
                );
                let mut created = created;
                created.schema_version = 2;
                let outcome = store
                    .append(&format!("campaign-{tenant}_{id}"), ExpectedVersion::NoStream, vec![created])
                    .await?;
                ids.push(id);
                last = Some(outcome.position);
            }
            Ok::<_, PlatformError>((ids, last))
        });
    }
    let mut ids = Vec::new();
    let mut last = None;
    while let Some(joined) = writers.join_next().await {
        let (some, position) = joined.map_err(|e| PlatformError::Usage(e.to_string()))??;
        ids.extend(some);
        last = last.max(position);
    }
    Ok((ids, last.map(|p| p.to_string()).unwrap_or_default()))
}

/// Fact rows straight into ClickHouse (a bench tenant's; not in the log), then their rollup.
async fn seed_facts(
    analytics: &Analytics,
    tenant: Uuid,
    campaigns: &[Uuid],
    rows: u64,
) -> Result<(), PlatformError> {
    analytics.ensure_tables("").await?;
    let list: Vec<String> = campaigns
        .iter()
        .take(CAMPAIGNS_WITH_FACTS as usize)
        .map(|id| format!("toUUID('{id}')"))
        .collect();
    let n = list.len().max(1);
    let client = analytics.client();
    // 720 hours × n campaigns × 2 platforms × 10 ad groups; values vary with the row number.
    client
        .query(&format!(
            "INSERT INTO performance_hourly (tenant_id, campaign_id, platform, hour, ad_group, ad, keyword, \
               segment_id, impressions, clicks, conversions, cost_micros, revenue_micros, report_id, \
               log_commit, log_prepare, row_index) \
             SELECT toUUID('{tenant}'), arrayElement([{campaigns}], (number % {n}) + 1), \
               if(intDiv(number, {n}) % 2 = 0, 'google', 'linkedin'), \
               toDateTime('{FIRST_DAY} 00:00:00', 'UTC') + (intDiv(number, {n} * 2) % 720) * 3600, \
               concat('ad group ', toString(intDiv(number, {n} * 2 * 720) % 10)), '', '', \
               toUUID('00000000-0000-0000-0000-000000000000'), \
               100 + number % 900, number % 40, number % 3, 1000000 + (number % 997) * 1000, \
               (number % 5) * 2000000, toUUID('00000000-0000-0000-0000-000000000000'), \
               number + 1, 0, 0 \
             FROM system.numbers LIMIT {rows}",
            campaigns = list.join(", "),
        ))
        .execute()
        .await
        .map_err(adflow_projections::ProjectionError::from)?;
    client
        .query(&format!(
            "INSERT INTO performance_daily (tenant_id, campaign_id, day, platform, segment_id, ad_group, \
               impressions, clicks, conversions, cost_micros, revenue_micros, fact_rows, checkpoint_commit_step, \
               checkpoint_prepare_step) \
             SELECT tenant_id, campaign_id, toDate(hour), platform, segment_id, ad_group, sum(impressions), \
               sum(clicks), sum(conversions), sum(cost_micros), sum(revenue_micros), count(), 0, 0 \
             FROM performance_hourly WHERE tenant_id = toUUID('{tenant}') \
             GROUP BY tenant_id, campaign_id, toDate(hour), platform, segment_id, ad_group"
        ))
        .execute()
        .await
        .map_err(adflow_projections::ProjectionError::from)?;
    Ok(())
}

struct Load {
    label: String,
    query: &'static str,
    variables: Value,
    rate: u64,
}

async fn measure(
    pool: &PgPool,
    analytics: &Analytics,
    url: &str,
    secret: &str,
    options: &LoadOptions,
) -> Result<(), PlatformError> {
    let tenant = Uuid::now_v7();
    let token = Authenticator::hs256(secret.as_bytes())
        .issue("bench", TenantId(tenant), Role::Manager, 3_600)
        .map_err(|e| PlatformError::Usage(e.to_string()))?;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .build()
        .map_err(|e| PlatformError::Usage(e.to_string()))?;
    let endpoint = format!("{url}/graphql");

    let started = Instant::now();
    let (campaigns, position) = seed_campaigns(pool, tenant, options.campaigns).await?;
    let seen = post(
        &http,
        &endpoint,
        &token,
        "query($min: String) { campaigns(first: 1, minPosition: $min) { edges { cursor } } }",
        json!({"min": position}),
    )
    .await?;
    if seen["errors"].is_array() {
        return Err(PlatformError::Usage(format!(
            "the list did not catch up: {seen}"
        )));
    }
    println!(
        "seeded {} campaigns through the log and projected them in {:.1}s",
        campaigns.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    seed_facts(analytics, tenant, &campaigns, options.fact_rows).await?;
    println!(
        "seeded {} fact rows (30 days, {} campaigns) and their rollup in {:.1}s",
        options.fact_rows,
        CAMPAIGNS_WITH_FACTS.min(campaigns.len() as u64),
        started.elapsed().as_secs_f64()
    );

    let window = json!({"from": FIRST_DAY, "to": LAST_DAY});
    let loads = [
        Load {
            label: format!("campaign list (20) at {}/s", options.list_rate),
            query: "{ campaigns(first: 20, sort: NAME) { edges { node { id name status objective platforms \
                      totalBudgetMicros startDate endDate } } pageInfo { endCursor hasNextPage } } }",
            variables: json!({}),
            rate: options.list_rate,
        },
        Load {
            label: format!("30-day daily series at {}/s", options.analytics_rate),
            query: "query($f: PerformanceFilter!) { performance(filter: $f) { impressions clicks spendMicros ctr roas } \
                      performanceSeries(filter: $f, granularity: DAY) { start metrics { impressions clicks spendMicros ctr } } }",
            variables: json!({"f": window}),
            rate: options.analytics_rate,
        },
        Load {
            label: format!("30-day ad-group breakdown at {}/s", options.analytics_rate),
            query: "query($f: PerformanceFilter!) { performanceBreakdown(filter: $f, by: AD_GROUP) { key metrics { impressions clicks cpcMicros } } }",
            variables: json!({"f": window}),
            rate: options.analytics_rate,
        },
    ];
    for load in loads {
        // One request first, so that a broken query fails loudly instead of being timed.
        let sample = post(&http, &endpoint, &token, load.query, load.variables.clone()).await?;
        if sample["errors"].is_array() || sample["data"].is_null() {
            return Err(PlatformError::Usage(format!("{}: {sample}", load.label)));
        }
        fire(
            &http,
            &endpoint,
            &token,
            &load,
            Duration::from_secs(options.seconds),
        )
        .await;
    }
    Ok(())
}

async fn post(
    http: &reqwest::Client,
    endpoint: &str,
    token: &str,
    query: &str,
    variables: Value,
) -> Result<Value, PlatformError> {
    let response = http
        .post(endpoint)
        .bearer_auth(token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .map_err(|e| PlatformError::Usage(e.to_string()))?;
    response
        .json()
        .await
        .map_err(|e| PlatformError::Usage(e.to_string()))
}

/// Sends `load` at its rate for `duration` and prints what it measured.
async fn fire(
    http: &reqwest::Client,
    endpoint: &str,
    token: &str,
    load: &Load,
    duration: Duration,
) {
    let interval = Duration::from_secs(1) / load.rate.max(1) as u32;
    let started = tokio::time::Instant::now();
    let mut requests = tokio::task::JoinSet::new();
    let mut sent = 0u32;
    while started.elapsed() < duration {
        let scheduled = started + interval * sent;
        tokio::time::sleep_until(scheduled).await;
        sent += 1;
        let (http, endpoint, token) = (http.clone(), endpoint.to_owned(), token.to_owned());
        let body = json!({"query": load.query, "variables": load.variables});
        requests.spawn(async move {
            let late = scheduled.elapsed();
            let sent = tokio::time::Instant::now();
            let response = http
                .post(endpoint)
                .bearer_auth(token)
                .json(&body)
                .send()
                .await;
            let ok = match response {
                Ok(response) => {
                    response.status().is_success()
                        && response
                            .json::<Value>()
                            .await
                            .is_ok_and(|v| v["errors"].is_null())
                }
                Err(_) => false,
            };
            (ok, sent.elapsed(), late)
        });
    }
    let mut latencies = Vec::new();
    let mut lateness = Vec::new();
    let mut failed = 0usize;
    while let Some(done) = requests.join_next().await {
        match done {
            Ok((true, latency, late)) => {
                latencies.push(latency);
                lateness.push(late);
            }
            _ => failed += 1,
        }
    }
    lateness.sort();
    let elapsed = started.elapsed();
    latencies.sort();
    let at = |p: f64| crate::bench::percentile(&latencies, p).as_secs_f64() * 1e3;
    println!(
        "{:<36} {:>6} ok {:>4} failed in {:>5.1}s = {:>6.0}/s   p50 {:>7.2} ms  p95 {:>7.2} ms  p99 {:>7.2} ms   (sent late: p99 {:.2} ms)",
        load.label,
        latencies.len(),
        failed,
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        at(0.50),
        at(0.95),
        at(0.99),
        crate::bench::percentile(&lateness, 0.99).as_secs_f64() * 1e3,
    );
}
