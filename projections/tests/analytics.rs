//! The ClickHouse analytics projector against the real stores: figures equal an independent sum of
//! the generated reports to the unit, whatever runs concurrently and whatever fails when.

use adflow_domain::metrics::PerformanceTotals;
use adflow_event_store::postgres::PostgresEventStore;
use adflow_projections::analytics::queries::{self, Slice};
use adflow_projections::analytics::synthetic::{
    append_reports, campaigns, first_day, log_end, ExpectedFigures, ReportShape,
};
use adflow_projections::analytics::{Analytics, AnalyticsOptions, AnalyticsProjector};
use adflow_testkit::clickhouse::{clickhouse_url, fresh_clickhouse_database, PrivateClickHouse};
use chrono::NaiveDate;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

fn all_days(tenant: Uuid, campaign: Option<Uuid>) -> Slice {
    Slice {
        tenant_id: tenant,
        campaign_id: campaign,
        from: first_day(),
        to: NaiveDate::from_ymd_opt(2026, 12, 31).unwrap(),
    }
}

/// Waits until the projector's checkpoint reaches the end of the log.
async fn wait_for_checkpoint(store: &PostgresEventStore, analytics: &Analytics, events: u64) {
    let end = log_end(store, events).await.unwrap();
    for _ in 0..600 {
        if let Ok(at) = queries::checkpoint(analytics, "").await {
            if at >= end {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the analytics projector did not reach {end}");
}

async fn assert_figures(analytics: &Analytics, expected: &ExpectedFigures) {
    for (tenant, campaign) in expected.campaigns() {
        let want = expected.campaign_total(tenant, campaign);
        let slice = all_days(tenant, Some(campaign));
        assert_eq!(
            queries::totals(analytics, &slice).await.unwrap(),
            want,
            "rollup of {campaign}"
        );
        assert_eq!(
            queries::fact_totals(analytics, &slice).await.unwrap(),
            want,
            "facts of {campaign}"
        );
        let days = queries::daily(analytics, &slice).await.unwrap();
        assert_eq!(
            days,
            expected.campaign_days(tenant, campaign),
            "days of {campaign}"
        );
    }
    // A tenant sees its own figures only.
    let stranger = all_days(Uuid::now_v7(), None);
    assert_eq!(
        queries::totals(analytics, &stranger).await.unwrap(),
        PerformanceTotals::default()
    );
}

fn fast() -> AnalyticsOptions {
    AnalyticsOptions {
        max_fact_rows: 20_000,
        linger: Duration::from_millis(20),
        retry_pause: Duration::from_millis(20),
        max_backoff: Duration::from_millis(500),
        ..AnalyticsOptions::default()
    }
}

#[tokio::test]
async fn figures_equal_an_independent_sum_while_appends_run_concurrently() {
    let db = adflow_testkit::fresh_database().await;
    let store = Arc::new(PostgresEventStore::new(db.pool.clone()));
    let analytics = Analytics::new(&clickhouse_url(), &fresh_clickhouse_database().await).unwrap();
    let projector =
        AnalyticsProjector::new(store.clone(), db.pool.clone(), analytics.clone(), fast());
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(async move { projector.run(shutdown).await });

    let expected = Arc::new(Mutex::new(ExpectedFigures::default()));
    let targets = campaigns(2, 3);
    let writers: Vec<_> = (0..4)
        .map(|w| {
            // Half the writers in the shape logs had before reports got their own streams: both
            // shapes must sum the same way.
            let shape = [ReportShape::DayStreams, ReportShape::CampaignStream][w as usize % 2];
            tokio::spawn(append_reports(
                store.clone(),
                shape,
                expected.clone(),
                targets.clone(),
                w,
                25,
                200,
            ))
        })
        .collect();
    for writer in writers {
        writer.await.unwrap().unwrap();
    }
    let appended = expected.lock().unwrap().reports;
    wait_for_checkpoint(&store, &analytics, appended).await;
    let expected = std::mem::take(&mut *expected.lock().unwrap());
    assert_figures(&analytics, &expected).await;
    let hash = queries::content_hash(&analytics, "").await.unwrap();
    assert_eq!((hash.events, hash.facts), (expected.reports, expected.rows));

    // A rebuild from zero, swapped in under the running projector, reads the same.
    let rebuilt = adflow_projections::analytics::rebuild::rebuild_and_swap(
        store.clone(),
        &db.pool,
        &analytics,
        |_| {},
    )
    .await
    .unwrap();
    assert_eq!(rebuilt, expected.reports);
    assert_eq!(queries::content_hash(&analytics, "").await.unwrap(), hash);
    stop.send(true).unwrap();
    running.await.unwrap();
    analytics.drop_database().await.unwrap();
}

#[tokio::test]
async fn two_writers_on_the_same_tables_never_sum_a_batch_twice() {
    let db = adflow_testkit::fresh_database().await;
    let store = Arc::new(PostgresEventStore::new(db.pool.clone()));
    let analytics = Analytics::new(&clickhouse_url(), &fresh_clickhouse_database().await).unwrap();
    analytics.ensure_tables("").await.unwrap();
    let expected = Arc::new(Mutex::new(ExpectedFigures::default()));
    append_reports(
        store.clone(),
        ReportShape::DayStreams,
        expected.clone(),
        campaigns(1, 2),
        11,
        60,
        50,
    )
    .await
    .unwrap();
    let both: Vec<_> = (0..2)
        .map(|_| {
            let projector = AnalyticsProjector::new(
                store.clone(),
                db.pool.clone(),
                analytics.clone(),
                AnalyticsOptions {
                    max_events: 7,
                    ..fast()
                },
            );
            tokio::spawn(async move { projector.catch_up().await.unwrap() })
        })
        .collect();
    let mut applied = 0;
    for projector in both {
        applied += projector.await.unwrap();
    }
    assert_eq!(applied, 60, "every event applied by exactly one of them");
    let expected = expected.lock().unwrap().clone();
    assert_figures(&analytics, &expected).await;
    analytics.drop_database().await.unwrap();
}

#[tokio::test]
async fn clickhouse_killed_and_restarted_mid_run_loses_and_doubles_nothing() {
    let mut server = PrivateClickHouse::start().await;
    let db = adflow_testkit::fresh_database().await;
    let store = Arc::new(PostgresEventStore::new(db.pool.clone()));
    let analytics = Analytics::new(&server.url(), "analytics").unwrap();
    let projector =
        AnalyticsProjector::new(store.clone(), db.pool.clone(), analytics.clone(), fast());
    let (stop, shutdown) = watch::channel(false);
    let running = tokio::spawn(async move { projector.run(shutdown).await });

    let expected = Arc::new(Mutex::new(ExpectedFigures::default()));
    let targets = campaigns(2, 2);
    let writer = tokio::spawn(append_reports(
        store.clone(),
        ReportShape::DayStreams,
        expected.clone(),
        targets.clone(),
        3,
        250,
        300,
    ));
    // Kill the server while batches are being written, three times, appending all along.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(700)).await;
        server.kill().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        server.resume().await;
    }
    writer.await.unwrap().unwrap();
    let appended = expected.lock().unwrap().reports;
    wait_for_checkpoint(&store, &analytics, appended).await;
    let expected = std::mem::take(&mut *expected.lock().unwrap());
    assert_figures(&analytics, &expected).await;
    let live = queries::content_hash(&analytics, "").await.unwrap();
    assert_eq!((live.events, live.facts), (250, 250 * 300));

    // The same log projected once, without faults, into another database: the same content.
    let reference = Analytics::new(&server.url(), "reference").unwrap();
    reference.ensure_tables("").await.unwrap();
    AnalyticsProjector::new(store.clone(), db.pool.clone(), reference.clone(), fast())
        .catch_up()
        .await
        .unwrap();
    assert_eq!(queries::content_hash(&reference, "").await.unwrap(), live);
    stop.send(true).unwrap();
    running.await.unwrap();
}

#[tokio::test]
async fn a_rollup_from_before_ad_groups_is_replaced_and_refilled_from_the_log() {
    let db = adflow_testkit::fresh_database().await;
    let store = Arc::new(PostgresEventStore::new(db.pool.clone()));
    let analytics = Analytics::new(&clickhouse_url(), &fresh_clickhouse_database().await).unwrap();
    let expected = Arc::new(Mutex::new(ExpectedFigures::default()));
    append_reports(
        store.clone(),
        ReportShape::DayStreams,
        expected.clone(),
        campaigns(1, 2),
        5,
        20,
        30,
    )
    .await
    .unwrap();
    // The rollup as the first release created it: no ad_group column, and a checkpoint that
    // claims the whole log was summed into it.
    let client = analytics.client().clone().with_database("default");
    let database = analytics.database().to_owned();
    client
        .query(&format!("CREATE DATABASE {database}"))
        .execute()
        .await
        .unwrap();
    client
        .query(&format!(
            "CREATE TABLE {database}.performance_daily (tenant_id UUID, campaign_id UUID, day Date, \
               platform String, segment_id UUID, impressions UInt64, clicks UInt64, conversions UInt64, \
               cost_micros UInt64, revenue_micros UInt64, fact_rows UInt64, checkpoint_commit_step Int64, \
               checkpoint_prepare_step Int64) ENGINE = SummingMergeTree((impressions, clicks, conversions, \
               cost_micros, revenue_micros, fact_rows, checkpoint_commit_step, checkpoint_prepare_step)) \
             ORDER BY (tenant_id, campaign_id, day, platform, segment_id)"
        ))
        .execute()
        .await
        .unwrap();
    let appended = expected.lock().unwrap().reports;
    let end = log_end(store.as_ref(), appended).await.unwrap();
    client
        .query(&format!(
            "INSERT INTO {database}.performance_daily (tenant_id, day, platform, checkpoint_commit_step, \
               checkpoint_prepare_step) VALUES (toUUID('00000000-0000-0000-0000-000000000000'), \
               toDate('1970-01-01'), '', {}, {})",
            end.commit, end.prepare
        ))
        .execute()
        .await
        .unwrap();

    analytics.ensure_tables("").await.unwrap();
    assert_eq!(
        queries::checkpoint(&analytics, "").await.unwrap(),
        Default::default(),
        "the outdated rollup and its checkpoint are gone"
    );
    let projector =
        AnalyticsProjector::new(store.clone(), db.pool.clone(), analytics.clone(), fast());
    projector.catch_up().await.unwrap();
    let expected = std::mem::take(&mut *expected.lock().unwrap());
    assert_figures(&analytics, &expected).await;
    analytics.drop_database().await.unwrap();
}
