//! The audit history of one aggregate: its events with actor, time and correlation, and the
//! aggregate's state after each one, folded with the domain's own `evolve` (the same code the
//! command side decides with), so an auditor sees exactly what the system saw.

use crate::db::ReadDb;
use crate::errors::{database, ErrorCode};
use crate::freshness::await_position;
use crate::guard::{principal, RoleGuard};
use crate::scalars::Long;
use adflow_auth::Action;
use adflow_domain::history::{self, RecordedPayload};
use adflow_event_store::personal::SubjectKeys;
use async_graphql::{Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use sqlx::Row;
use uuid::Uuid;

pub const DEFAULT_HISTORY_PAGE: i32 = 100;
pub const MAX_HISTORY_PAGE: i32 = 500;

#[derive(SimpleObject, Debug, Clone)]
pub struct HistoryEntry {
    /// The aggregate's version after this event (1 for the first).
    pub version: Long,
    pub event_type: String,
    pub schema_version: i32,
    pub recorded_at: DateTime<Utc>,
    /// Who caused it: `user:<subject>`, `system:<component>`...
    pub actor: String,
    pub correlation_id: ID,
    pub causation_id: ID,
    /// The event as recorded.
    pub data: serde_json::Value,
    /// The aggregate's state after the event.
    pub state_after: serde_json::Value,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct AggregateHistory {
    pub aggregate_id: ID,
    /// campaign, audience or tenant.
    pub category: String,
    pub entries: Vec<HistoryEntry>,
    /// More events follow the last entry: ask again with `afterVersion` set to its version.
    pub has_more: bool,
}

struct ActivityRow {
    version: i64,
    category: String,
    event_type: String,
    schema_version: i32,
    actor: String,
    correlation_id: Uuid,
    causation_id: Uuid,
    recorded_at: DateTime<Utc>,
    data: serde_json::Value,
}

#[derive(Default)]
pub struct HistoryQuery;

#[Object]
impl HistoryQuery {
    /// The events of one of your tenant's aggregates (campaign, audience or the tenant's
    /// settings), oldest first, `first` at a time (at most 500), with the state after each.
    #[graphql(guard = "RoleGuard(Action::ReadAudit)")]
    async fn history(
        &self,
        ctx: &Context<'_>,
        aggregate_id: ID,
        after_version: Option<Long>,
        first: Option<i32>,
        min_position: Option<String>,
    ) -> async_graphql::Result<Option<AggregateHistory>> {
        let principal = principal(ctx)?;
        let first = first.unwrap_or(DEFAULT_HISTORY_PAGE);
        if !(1..=MAX_HISTORY_PAGE).contains(&first) {
            return Err(ErrorCode::BadUserInput
                .error(format!("first must be between 1 and {MAX_HISTORY_PAGE}")));
        }
        let after = after_version.map(|v| v.0).unwrap_or(0).max(0);
        await_position(ctx, "activity", min_position.as_deref()).await?;
        let Ok(id) = Uuid::parse_str(&aggregate_id) else {
            return Ok(None);
        };
        // The states need every event from the first one; one more than the page tells whether
        // more follow.
        let last = after.saturating_add(i64::from(first) + 1);
        let rows = sqlx::query(
            "SELECT stream_version, category, event_type, schema_version, actor, correlation_id, \
               causation_id, recorded_at, data FROM activity \
             WHERE tenant_id = $1 AND aggregate_id = $2 AND stream_version <= $3 ORDER BY stream_version",
        )
        .bind(principal.tenant_id.0)
        .bind(id)
        .bind(last)
        .fetch_all(ctx.data::<ReadDb>()?.statement())
        .await
        .map_err(database)?;
        let mut rows = rows
            .iter()
            .map(|row| {
                Ok(ActivityRow {
                    version: row.try_get("stream_version")?,
                    category: row.try_get("category")?,
                    event_type: row.try_get("event_type")?,
                    schema_version: row.try_get("schema_version")?,
                    actor: row.try_get("actor")?,
                    correlation_id: row.try_get("correlation_id")?,
                    causation_id: row.try_get("causation_id")?,
                    recorded_at: row.try_get("recorded_at")?,
                    data: row.try_get("data")?,
                })
            })
            .collect::<Result<Vec<_>, sqlx::Error>>()
            .map_err(database)?;
        let Some(category) = rows.first().map(|r| r.category.clone()) else {
            return Ok(None);
        };
        let has_more = rows.last().is_some_and(|r| r.version == last);
        if has_more {
            rows.pop();
        }
        let payloads: Vec<RecordedPayload<'_>> = rows
            .iter()
            .map(|row| RecordedPayload {
                event_type: &row.event_type,
                schema_version: u32::try_from(row.schema_version).unwrap_or(0),
                data: &row.data,
            })
            .collect();
        let states = history::states(&category, &payloads).map_err(|error| {
            tracing::error!(%error, "history does not fold");
            ErrorCode::Internal.error("the aggregate's history does not fold")
        })?;
        // Personal values open with their subjects' keys; an erased subject's read as erased.
        let keys = SubjectKeys::new(ctx.data::<ReadDb>()?.statement().clone());
        for row in rows.iter_mut().filter(|row| row.version > after) {
            keys.unseal(principal.tenant_id.0, &mut row.data)
                .await
                .map_err(|error| {
                    tracing::error!(%error, "personal data does not open");
                    ErrorCode::Internal.error("the aggregate's personal data does not open")
                })?;
        }
        let entries = rows
            .into_iter()
            .zip(states)
            .filter(|(row, _)| row.version > after)
            .map(|(row, state_after)| HistoryEntry {
                version: Long(row.version),
                event_type: row.event_type,
                schema_version: row.schema_version,
                recorded_at: row.recorded_at,
                actor: row.actor,
                correlation_id: ID(row.correlation_id.to_string()),
                causation_id: ID(row.causation_id.to_string()),
                data: row.data,
                state_after,
            })
            .collect();
        Ok(Some(AggregateHistory {
            aggregate_id: ID(id.to_string()),
            category,
            entries,
            has_more,
        }))
    }
}
