//! The NATS dispatcher against the real JetStream: work requests are published once, even when
//! the dispatcher crashes after publishing and before moving its checkpoint.

use adflow_event_store::postgres::PostgresEventStore;
use adflow_event_store::{
    EventAppender, EventMetadata, EventReader, ExpectedVersion, NewEvent, Position,
};
use adflow_projections::dispatcher::{Dispatcher, DispatcherOptions};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

fn nats_url() -> String {
    std::env::var("ADFLOW_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into())
}

fn event(tenant: Uuid, event_type: &str, data: serde_json::Value) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: event_type.into(),
        schema_version: 1,
        data,
        metadata: EventMetadata {
            tenant_id: tenant,
            actor: "system:test".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            extra: BTreeMap::new(),
        },
    }
}

#[tokio::test]
async fn work_requests_are_published_once_even_after_a_crash_before_the_checkpoint() {
    let db = adflow_testkit::fresh_database().await;
    let store = Arc::new(PostgresEventStore::new(db.pool.clone()));
    let tenant = Uuid::now_v7();
    let mut requested = Vec::new();
    for n in 0..3 {
        let campaign = Uuid::now_v7();
        let ask = event(
            tenant,
            "StructureGenerationRequested",
            serde_json::json!({"requestId": Uuid::now_v7()}),
        );
        requested.push(ask.event_id);
        let other = event(
            tenant,
            "CampaignRenamed",
            serde_json::json!({"name": format!("c{n}")}),
        );
        store
            .append(
                &format!("campaign-{tenant}_{campaign}"),
                ExpectedVersion::Any,
                vec![other, ask],
            )
            .await
            .unwrap();
    }
    // The log may be held back for a moment by other tests' transactions.
    for _ in 0..1000 {
        if store.read_all(Position::START, 10).await.unwrap().len() == 6 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let suffix = Uuid::now_v7().simple().to_string();
    let options = DispatcherOptions {
        stream: format!("ADFLOW_TEST_{suffix}"),
        subject_prefix: format!("test{suffix}"),
        ..DispatcherOptions::default()
    };
    let dispatcher =
        Dispatcher::connect(store.clone(), db.pool.clone(), &nats_url(), options.clone())
            .await
            .expect("NATS with JetStream must run on ADFLOW_NATS_URL (ops/setup.sh starts it)");
    while dispatcher.step().await.unwrap() > 0 {}
    let stream = dispatcher
        .jetstream()
        .get_stream(&options.stream)
        .await
        .unwrap();
    assert_eq!(
        stream.get_info().await.unwrap().state.messages,
        3,
        "only the work requests"
    );

    let first = stream.get_raw_message(1).await.unwrap();
    assert_eq!(
        first.subject.as_str(),
        format!("test{suffix}.structure.requested")
    );
    let body: serde_json::Value = serde_json::from_slice(&first.payload).unwrap();
    assert_eq!(body["eventId"], requested[0].to_string());
    assert_eq!(body["tenantId"], tenant.to_string());

    // A crash after publishing and before the checkpoint: everything is published again...
    sqlx::query("DELETE FROM projection_checkpoints WHERE projection = $1")
        .bind(Dispatcher::CHECKPOINT)
        .execute(&db.pool)
        .await
        .unwrap();
    while dispatcher.step().await.unwrap() > 0 {}
    // ...and JetStream keeps one copy of each.
    assert_eq!(stream.get_info().await.unwrap().state.messages, 3);
    dispatcher
        .jetstream()
        .delete_stream(&options.stream)
        .await
        .unwrap();
}
