//! The batch path of a projection writes exactly what applying every event alone writes.

use adflow_event_store::postgres::PostgresEventStore;
use adflow_event_store::{
    EventAppender, EventMetadata, EventReader, ExpectedVersion, NewEvent, Position,
};
use adflow_projections::{Projector, ProjectorOptions};
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

fn event(tenant: Uuid, event_type: &str, schema_version: u32, data: serde_json::Value) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: event_type.into(),
        schema_version,
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

async fn digests(pool: &sqlx::PgPool) -> Vec<String> {
    let mut out = Vec::new();
    for (table, key) in [
        ("campaigns", "tenant_id, campaign_id"),
        ("activity", "tenant_id, aggregate_id, stream_version"),
    ] {
        let digest: String = sqlx::query_scalar(&format!(
            "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY {key}), '')) FROM {table} t"
        ))
        .fetch_one(pool)
        .await
        .unwrap();
        out.push(digest);
    }
    out
}

#[tokio::test]
async fn one_event_at_a_time_and_whole_batches_build_the_same_read_models() {
    let db = adflow_testkit::fresh_database().await;
    let store = Arc::new(PostgresEventStore::new(db.pool.clone()));
    let tenant = Uuid::now_v7();
    let mut total = 0;
    for n in 0..40 {
        let id = Uuid::now_v7();
        let stream = format!("campaign-{tenant}_{id}");
        let created = if n % 2 == 0 {
            // Old campaigns are version 1 (upcast to USD), newer ones version 2.
            event(
                tenant,
                "CampaignCreated",
                1,
                serde_json::json!({
                    "campaignId": id, "tenantId": tenant, "name": format!("c{n}"), "objective": "ENGAGEMENT",
                    "platforms": ["GOOGLE", "LINKEDIN"], "totalBudgetMicros": 1_000_000 + n,
                    "startDate": "2027-01-01", "endDate": "2027-02-01"
                }),
            )
        } else {
            event(
                tenant,
                "CampaignCreated",
                2,
                serde_json::json!({
                    "campaignId": id, "tenantId": tenant, "name": format!("c{n}"), "objective": "LEAD_GENERATION",
                    "platforms": ["LINKEDIN"], "currency": "EUR", "totalBudgetMicros": 2_000_000 + n,
                    "startDate": "2027-01-01", "endDate": "2027-03-01"
                }),
            )
        };
        let mut history = vec![
            created,
            event(
                tenant,
                "CampaignRenamed",
                1,
                serde_json::json!({"name": format!("r{n}")}),
            ),
        ];
        if n % 3 == 0 {
            history.push(event(
                tenant,
                "CampaignBudgetChanged",
                1,
                serde_json::json!({"totalBudgetMicros": 9_000_000}),
            ));
            history.push(event(
                tenant,
                "CampaignScheduleChanged",
                1,
                serde_json::json!({"startDate": "2027-01-02", "endDate": "2027-04-01"}),
            ));
            history.push(event(
                tenant,
                "StructureGenerationRequested",
                1,
                serde_json::json!({"requestId": Uuid::now_v7()}),
            ));
        }
        total += history.len();
        // Some campaigns get their later events in a second append, as live traffic would.
        let later = if n % 4 == 0 {
            history.split_off(1)
        } else {
            vec![]
        };
        store
            .append(&stream, ExpectedVersion::NoStream, history)
            .await
            .unwrap();
        if !later.is_empty() {
            store
                .append(&stream, ExpectedVersion::Exact(1), later)
                .await
                .unwrap();
        }
    }
    for _ in 0..1000 {
        if store
            .read_all(Position::START, total + 1)
            .await
            .unwrap()
            .len()
            == total
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }

    let mut results = Vec::new();
    for batch_size in [1, 7, 500] {
        for projection in adflow_projections::all() {
            let projector = Projector::new(
                store.clone(),
                db.pool.clone(),
                projection,
                ProjectorOptions {
                    batch_size,
                    ..ProjectorOptions::default()
                },
            );
            projector.reset().await.unwrap();
            projector.catch_up().await.unwrap();
        }
        results.push(digests(&db.pool).await);
    }
    assert_eq!(results[0], results[1]);
    assert_eq!(results[0], results[2]);
    let rows: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM campaigns WHERE currency = 'USD' AND status = 'STRUCTURE_REQUESTED'",
    )
    .fetch_one(&db.pool)
    .await
    .unwrap();
    assert_eq!(rows, 7, "upcast v1 creations that asked for a structure");
}
