//! The `activity` read model: every event of every aggregate, with who, when and why, for the
//! history screens (the state after each event is derived by the query side from the log).

use crate::live::{announce, Change, ChangeKind};
use crate::runtime::{Projection, ProjectionError};
use adflow_domain::aggregate::parse_stream_name;
use adflow_event_store::RecordedEvent;
use async_trait::async_trait;
use sqlx::PgConnection;

pub struct ActivityProjection;

#[async_trait]
impl Projection for ActivityProjection {
    fn name(&self) -> &'static str {
        "activity"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["activity"]
    }

    /// One multi-row insert per batch.
    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let mut rows = Rows::default();
        for event in events {
            let Some((category, tenant, id)) = parse_stream_name(&event.stream_name) else {
                continue;
            };
            rows.tenant.push(tenant.0);
            rows.aggregate.push(id);
            rows.version
                .push(i64::try_from(event.stream_version).unwrap_or(i64::MAX));
            rows.category.push(category.to_owned());
            rows.event_type.push(event.event_type.clone());
            rows.schema_version
                .push(i32::try_from(event.schema_version).unwrap_or(i32::MAX));
            rows.actor.push(event.metadata.actor.clone());
            rows.correlation.push(event.metadata.correlation_id);
            rows.causation.push(event.metadata.causation_id);
            rows.recorded_at.push(event.recorded_at);
            rows.data.push(event.data.clone());
        }
        if rows.tenant.is_empty() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO activity (tenant_id, aggregate_id, stream_version, category, event_type, schema_version, \
               actor, correlation_id, causation_id, recorded_at, data) \
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::text[], $6::int[], \
               $7::text[], $8::uuid[], $9::uuid[], $10::timestamptz[], $11::jsonb[]) \
             ON CONFLICT (tenant_id, aggregate_id, stream_version) DO NOTHING",
        )
        .bind(&rows.tenant)
        .bind(&rows.aggregate)
        .bind(&rows.version)
        .bind(&rows.category)
        .bind(&rows.event_type)
        .bind(&rows.schema_version)
        .bind(&rows.actor)
        .bind(&rows.correlation)
        .bind(&rows.causation)
        .bind(&rows.recorded_at)
        .bind(&rows.data)
        .execute(&mut *tx)
        .await?;
        for event in events {
            announce_anomaly(tx, event).await?;
        }
        Ok(())
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let Some((category, tenant, id)) = parse_stream_name(&event.stream_name) else {
            return Ok(());
        };
        sqlx::query(
            "INSERT INTO activity (tenant_id, aggregate_id, stream_version, category, event_type, schema_version, \
               actor, correlation_id, causation_id, recorded_at, data) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
             ON CONFLICT (tenant_id, aggregate_id, stream_version) DO NOTHING",
        )
        .bind(tenant.0)
        .bind(id)
        .bind(i64::try_from(event.stream_version).unwrap_or(i64::MAX))
        .bind(category)
        .bind(&event.event_type)
        .bind(i32::try_from(event.schema_version).unwrap_or(i32::MAX))
        .bind(&event.metadata.actor)
        .bind(event.metadata.correlation_id)
        .bind(event.metadata.causation_id)
        .bind(event.recorded_at)
        .bind(&event.data)
        .execute(&mut *tx)
        .await?;
        announce_anomaly(tx, event).await
    }
}

/// Subscribers hear of anomalies from here: this read model is where they are read from.
async fn announce_anomaly(
    tx: &mut PgConnection,
    event: &RecordedEvent,
) -> Result<(), ProjectionError> {
    if event.event_type != adflow_domain::monitoring::MonitorEvent::ANOMALY_DETECTED {
        return Ok(());
    }
    let Some((_, tenant, _)) = parse_stream_name(&event.stream_name) else {
        return Ok(());
    };
    let Some(campaign) = event
        .data
        .get("campaignId")
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse().ok())
    else {
        return Ok(());
    };
    let mut change = Change::new(ChangeKind::Anomaly, tenant.0, campaign, event);
    change.monitor_version = Some(event.stream_version);
    announce(tx, &change).await?;
    Ok(())
}

/// Column arrays for one batch insert.
#[derive(Default)]
struct Rows {
    tenant: Vec<uuid::Uuid>,
    aggregate: Vec<uuid::Uuid>,
    version: Vec<i64>,
    category: Vec<String>,
    event_type: Vec<String>,
    schema_version: Vec<i32>,
    actor: Vec<String>,
    correlation: Vec<uuid::Uuid>,
    causation: Vec<uuid::Uuid>,
    recorded_at: Vec<chrono::DateTime<chrono::Utc>>,
    data: Vec<serde_json::Value>,
}
