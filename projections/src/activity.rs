//! The `activity` read model: every event of every aggregate, with who, when and why, for the
//! history screens (the state after each event is derived by the query side from the log).

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

    async fn reset(&self, tx: &mut PgConnection) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM activity")
            .execute(tx)
            .await
            .map(|_| ())
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
        .execute(tx)
        .await?;
        Ok(())
    }
}
