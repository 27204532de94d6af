//! The access log of refused commands (written by the command API), for those who may read the
//! audit trail: who tried what, when, and the problem code it was refused with.

use crate::db::ReadDb;
use crate::errors::{database, ErrorCode};
use crate::guard::{principal, RoleGuard};
use crate::scalars::Long;
use adflow_auth::Action;
use async_graphql::{Context, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use sqlx::Row;

const MAX_ACCESS_LOG_PAGE: i32 = 500;

/// A command the command API refused to an authenticated caller.
#[derive(SimpleObject, Debug, Clone)]
pub struct AccessLogEntry {
    /// Newest entries have the highest ids; pass the last one as `before` for the next page.
    pub id: Long,
    pub at: DateTime<Utc>,
    /// `user:<sub>` or `key:<id>`.
    pub actor: String,
    pub method: String,
    /// The route template (`/v1/campaigns/{id}/rename`), never a body.
    pub route: String,
    pub status: i32,
    /// The problem's code (`forbidden`, `validation_failed`, `version_conflict`, ...).
    pub code: String,
    /// Each violated field as `pointer code`.
    pub reasons: Vec<String>,
    pub correlation_id: Option<ID>,
}

#[derive(Default)]
pub struct AccessLogQuery;

#[Object]
impl AccessLogQuery {
    /// Commands of your tenant the command API refused (who tried what, and why), newest first,
    /// `first` at a time (at most 500), before the entry `before`.
    #[graphql(guard = "RoleGuard(Action::ReadAudit)")]
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        before: Option<Long>,
    ) -> async_graphql::Result<Vec<AccessLogEntry>> {
        let principal = principal(ctx)?;
        let first = first.unwrap_or(50);
        if !(1..=MAX_ACCESS_LOG_PAGE).contains(&first) {
            return Err(ErrorCode::BadUserInput
                .error(format!("first must be between 1 and {MAX_ACCESS_LOG_PAGE}")));
        }
        let rows = sqlx::query(
            "SELECT id, at, actor, method, route, status, code, reasons, correlation_id
               FROM access_log
              WHERE tenant_id = $1 AND ($2::bigint IS NULL OR id < $2)
              ORDER BY id DESC LIMIT $3",
        )
        .bind(principal.tenant_id.0)
        .bind(before.map(|b| b.0))
        .bind(i64::from(first))
        .fetch_all(ctx.data::<ReadDb>()?.statement())
        .await
        .map_err(database)?;
        rows.iter()
            .map(|row| {
                Ok(AccessLogEntry {
                    id: Long(row.try_get("id")?),
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    method: row.try_get("method")?,
                    route: row.try_get("route")?,
                    status: i32::from(row.try_get::<i16, _>("status")?),
                    code: row.try_get("code")?,
                    reasons: row.try_get("reasons")?,
                    correlation_id: row
                        .try_get::<Option<uuid::Uuid>, _>("correlation_id")?
                        .map(|id| ID(id.to_string())),
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(database)
    }
}
