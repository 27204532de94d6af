//! The analytics projector inside the running binary: killed in the middle of its batches and
//! started again, it ends with exactly what a rebuild from zero builds.

use adflow_event_store::postgres::PostgresEventStore;
use adflow_projections::analytics::queries::{self, Slice};
use adflow_projections::analytics::synthetic::{
    append_reports, campaigns, first_day, log_end, ExpectedFigures, ReportShape,
};
use adflow_projections::analytics::Analytics;
use adflow_testkit::app::TestApp;
use adflow_testkit::clickhouse::clickhouse_url;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test]
async fn the_projector_killed_mid_batch_and_restarted_equals_a_rebuild_from_zero() {
    let mut app = TestApp::spawn(env!("CARGO_BIN_EXE_adflow")).await;
    let store = Arc::new(PostgresEventStore::new(app.db.pool.clone()));
    let analytics = Analytics::new(&clickhouse_url(), &app.db.name).unwrap();
    let expected = Arc::new(Mutex::new(ExpectedFigures::default()));
    let targets = campaigns(2, 2);
    let writer = tokio::spawn(append_reports(
        store.clone(),
        ReportShape::DayStreams,
        expected.clone(),
        targets,
        5,
        120,
        1_000,
    ));
    // Batches of up to 200,000 fact rows take a while to write: kills land inside them.
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        app.crash_and_restart().await;
    }
    writer.await.unwrap().unwrap();
    let appended = expected.lock().unwrap().reports;
    let end = log_end(store.as_ref(), appended).await.unwrap();
    let mut caught_up = false;
    for _ in 0..600 {
        if queries::checkpoint(&analytics, "")
            .await
            .is_ok_and(|at| at >= end)
        {
            caught_up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(caught_up, "the restarted projector did not reach {end}");

    let expected = expected.lock().unwrap().clone();
    for (tenant, campaign) in expected.campaigns() {
        let slice = Slice {
            tenant_id: tenant,
            campaign_id: Some(campaign),
            from: first_day(),
            to: first_day() + chrono::Days::new(30),
        };
        assert_eq!(
            queries::totals(&analytics, &slice).await.unwrap(),
            expected.campaign_total(tenant, campaign)
        );
    }
    let after_crashes = queries::content_hash(&analytics, "").await.unwrap();
    assert_eq!(
        (after_crashes.events, after_crashes.facts),
        (expected.reports, expected.rows)
    );

    let (ok, stderr) = app.run_cli(&["projections", "rebuild", "analytics"]).await;
    assert!(ok, "rebuild failed: {stderr}");
    assert_eq!(
        queries::content_hash(&analytics, "").await.unwrap(),
        after_crashes
    );
    analytics.drop_database().await.unwrap();
}
