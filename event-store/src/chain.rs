//! Verifying the PostgreSQL log's hash chain (schemas/migrations/0012_event_hash_chain.sql): every
//! event's hash is recomputed from the row itself and its predecessor's stored hash, in one
//! set-based statement, and the first event (in log order) where the chain does not hold is named.

use crate::error::StoreError;
use sqlx::{PgPool, Row};

/// What is wrong at the first bad event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainProblem {
    /// Its content (or its predecessor's hash) no longer matches its hash: altered, or moved.
    Altered,
    /// The version before it is missing from its stream: an event was removed.
    Missing,
    /// It carries no hash at all (written around `append_events`).
    Unchained,
}

/// The first event where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub position: i64,
    pub stream_name: String,
    pub stream_version: i64,
    pub problem: ChainProblem,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub events: i64,
    pub streams: i64,
    pub first_break: Option<ChainBreak>,
}

/// Recomputes every stream's chain from the rows.
pub async fn verify(pool: &PgPool) -> Result<ChainReport, StoreError> {
    let counts = sqlx::query(
        "SELECT count(*) AS events, count(DISTINCT stream_name) AS streams FROM events",
    )
    .fetch_one(pool)
    .await?;
    let first = sqlx::query(
        "WITH chained AS (
             SELECT e.position, e.stream_name, e.stream_version, e.hash,
                    lag(e.hash) OVER w AS previous_hash,
                    lag(e.stream_version) OVER w AS previous_version,
                    event_content(e.stream_name, e.stream_version, e.event_id, e.event_type,
                                       e.schema_version, e.tenant_id, e.data, e.actor,
                                       e.correlation_id, e.causation_id, e.extra_metadata) AS content
               FROM events e
             WINDOW w AS (PARTITION BY e.stream_name ORDER BY e.stream_version)
         )
         SELECT position, stream_name, stream_version,
                CASE WHEN stream_version <> coalesce(previous_version, 0) + 1 THEN 'missing'
                     WHEN hash IS NULL THEN 'unchained'
                     ELSE 'altered' END AS problem
           FROM chained
          WHERE stream_version <> coalesce(previous_version, 0) + 1
             OR hash IS DISTINCT FROM sha256(coalesce(previous_hash, ''::bytea) || content)
          ORDER BY position
          LIMIT 1",
    )
    .fetch_optional(pool)
    .await
    ?;
    let first_break = first
        .map(|row| -> Result<ChainBreak, sqlx::Error> {
            let problem: String = row.try_get("problem")?;
            Ok(ChainBreak {
                position: row.try_get("position")?,
                stream_name: row.try_get("stream_name")?,
                stream_version: row.try_get("stream_version")?,
                problem: match problem.as_str() {
                    "missing" => ChainProblem::Missing,
                    "unchained" => ChainProblem::Unchained,
                    _ => ChainProblem::Altered,
                },
            })
        })
        .transpose()?;
    Ok(ChainReport {
        events: counts.try_get("events")?,
        streams: counts.try_get("streams")?,
        first_break,
    })
}
