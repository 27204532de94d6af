//! The checkpoint moves with the rows or not at all: a projector that fails in the middle of a
//! batch leaves both untouched, and the retry produces exactly what a clean run produces.

use adflow_event_store::postgres::PostgresEventStore;
use adflow_event_store::{EventAppender, EventMetadata, ExpectedVersion, NewEvent, RecordedEvent};
use adflow_projections::campaigns::CampaignsProjection;
use adflow_projections::{Projection, ProjectionError, Projector, ProjectorOptions};
use async_trait::async_trait;
use sqlx::PgConnection;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use uuid::Uuid;

/// The campaigns projection, made to fail once after `fail_after` events of a run.
struct Flaky {
    inner: CampaignsProjection,
    applied: AtomicUsize,
    fail_after: usize,
}

#[async_trait]
impl Projection for Flaky {
    fn name(&self) -> &'static str {
        "campaigns"
    }
    fn tables(&self) -> &'static [&'static str] {
        self.inner.tables()
    }
    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        if self.applied.fetch_add(1, Ordering::SeqCst) == self.fail_after {
            return Err(ProjectionError::Database(sqlx::Error::PoolClosed));
        }
        self.inner.apply(tx, event).await
    }
}

fn created(tenant: Uuid, id: Uuid, n: usize) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "CampaignCreated".into(),
        schema_version: 1,
        data: serde_json::json!({
            "campaignId": id, "tenantId": tenant, "name": format!("c{n}"), "objective": "ENGAGEMENT",
            "platforms": ["GOOGLE"], "totalBudgetMicros": 1_000_000 + n as i64,
            "startDate": "2027-01-01", "endDate": "2027-02-01"
        }),
        metadata: EventMetadata {
            tenant_id: tenant,
            actor: "system:test".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            extra: BTreeMap::new(),
        },
    }
}

/// Waits until `count` events are visible in the log. With the PostgreSQL store, a write
/// transaction anywhere in the cluster (another test's) briefly holds back what readers see.
async fn wait_visible(store: &PostgresEventStore, count: usize) {
    use adflow_event_store::{EventReader, Position};
    for _ in 0..1000 {
        if store.read_all(Position::START, count).await.unwrap().len() == count {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("{count} events never became visible");
}

async fn digest(pool: &sqlx::PgPool) -> (i64, String) {
    sqlx::query_as(
        "SELECT count(*), md5(coalesce(string_agg(c::text, '|' ORDER BY tenant_id, campaign_id), '')) FROM campaigns c",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_failure_mid_batch_rolls_back_rows_and_checkpoint_together() {
    let db = adflow_testkit::fresh_database().await;
    let store = Arc::new(PostgresEventStore::new(db.pool.clone()));
    let tenant = Uuid::now_v7();
    for n in 0..30 {
        let id = Uuid::now_v7();
        store
            .append(
                &format!("campaign-{tenant}_{id}"),
                ExpectedVersion::NoStream,
                vec![created(tenant, id, n)],
            )
            .await
            .unwrap();
    }
    wait_visible(&store, 30).await;
    let options = ProjectorOptions {
        batch_size: 10,
        ..ProjectorOptions::default()
    };
    let flaky = Arc::new(Flaky {
        inner: CampaignsProjection,
        applied: AtomicUsize::new(0),
        fail_after: 15,
    });
    let projector = Projector::new(store.clone(), db.pool.clone(), flaky, options.clone());
    assert_eq!(projector.step().await.unwrap(), 10);
    let checkpoint = projector.checkpoint().await.unwrap();
    assert!(projector.step().await.is_err(), "the 16th event fails");
    assert_eq!(
        projector.checkpoint().await.unwrap(),
        checkpoint,
        "the checkpoint did not move"
    );
    assert_eq!(
        digest(&db.pool).await.0,
        10,
        "no row of the failed batch is visible"
    );
    assert_eq!(projector.catch_up().await.unwrap(), 20);
    let resumed = digest(&db.pool).await;
    assert_eq!(resumed.0, 30);

    let clean = Projector::new(
        store,
        db.pool.clone(),
        Arc::new(CampaignsProjection),
        options,
    );
    clean.reset().await.unwrap();
    assert_eq!(digest(&db.pool).await.0, 0);
    assert_eq!(clean.catch_up().await.unwrap(), 30);
    assert_eq!(
        digest(&db.pool).await,
        resumed,
        "resumed run == rebuild from zero"
    );
}

#[tokio::test]
async fn an_unreadable_event_stops_the_projector_instead_of_being_skipped() {
    let db = adflow_testkit::fresh_database().await;
    let store = Arc::new(PostgresEventStore::new(db.pool.clone()));
    let tenant = Uuid::now_v7();
    let id = Uuid::now_v7();
    let mut bad = created(tenant, id, 0);
    bad.data = serde_json::json!({"name": 42});
    store
        .append(
            &format!("campaign-{tenant}_{id}"),
            ExpectedVersion::NoStream,
            vec![bad],
        )
        .await
        .unwrap();
    wait_visible(&store, 1).await;
    let projector = Projector::new(
        store,
        db.pool.clone(),
        Arc::new(CampaignsProjection),
        ProjectorOptions::default(),
    );
    match projector.step().await {
        Err(ProjectionError::Undecodable { event_type, .. }) => {
            assert_eq!(event_type, "CampaignCreated")
        }
        other => panic!("expected an undecodable event, got {other:?}"),
    }
    assert_eq!(
        projector.checkpoint().await.unwrap(),
        adflow_event_store::Position::START
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_projector_follows_new_events_and_redoes_a_reset_read_model() {
    let db = adflow_testkit::fresh_database().await;
    let store = Arc::new(PostgresEventStore::new(db.pool.clone()));
    let projector = Arc::new(Projector::new(
        store.clone(),
        db.pool.clone(),
        Arc::new(CampaignsProjection),
        ProjectorOptions::default(),
    ));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn({
        let projector = projector.clone();
        async move { projector.run(stopped).await }
    });
    let tenant = Uuid::now_v7();
    let wait_for_rows = |want: i64| {
        let pool = db.pool.clone();
        async move {
            for _ in 0..1000 {
                if digest(&pool).await.0 == want {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            panic!("the read model never reached {want} rows");
        }
    };
    for n in 0..5 {
        let id = Uuid::now_v7();
        store
            .append(
                &format!("campaign-{tenant}_{id}"),
                ExpectedVersion::NoStream,
                vec![created(tenant, id, n)],
            )
            .await
            .unwrap();
    }
    wait_for_rows(5).await;
    let before = digest(&db.pool).await;

    // A rebuild that resets the read model and then dies: the running projector redoes it.
    projector.reset().await.unwrap();
    wait_for_rows(5).await;
    assert_eq!(digest(&db.pool).await, before);

    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(5), running)
        .await
        .expect("the projector stops on shutdown")
        .unwrap();
}
