//! The PostgreSQL adapter.
//!
//! Appends are one call of the `append_events` function (schemas/migrations/0001_event_store.sql):
//! one round trip, one transaction, writers to different streams never wait for each other.
//! Reads of the global log only return events written by transactions below the reader's snapshot
//! xmin, so an event that commits late can never be skipped (see that migration's header).

use crate::catch_up::{catch_up, CatchUpOptions};
use crate::error::StoreError;
pub use crate::group_commit::{GroupCommit, GroupCommitOptions};
use crate::model::{
    AppendOutcome, EventMetadata, ExpectedVersion, NewEvent, Position, RecordedEvent,
};
use crate::port::{EventAppender, EventReader, EventSubscription};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgDatabaseError, PgPool, PgRow};
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Bounds what one append may carry, so one request cannot hold a stream lock for long.
pub const MAX_EVENTS_PER_APPEND: usize = 1_000;

#[derive(Clone)]
pub struct PostgresEventStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: PgPool,
    /// Set when appends share transactions ([`PostgresEventStore::with_group_commit`]).
    group_commit: Option<GroupCommit>,
    /// Wakes this process's subscriptions when this process appends (other processes are seen
    /// by polling).
    appended: Arc<Notify>,
    catch_up: Arc<CatchUpOptions>,
}

impl PostgresEventStore {
    pub fn new(pool: PgPool) -> Self {
        Self::with_poll_interval(pool, Duration::from_millis(20))
    }

    pub fn with_poll_interval(pool: PgPool, poll_interval: Duration) -> Self {
        Self {
            inner: Arc::new(Inner {
                pool,
                group_commit: None,
                appended: Arc::new(Notify::new()),
                catch_up: Arc::new(CatchUpOptions {
                    batch_size: 500,
                    poll_interval,
                    max_backoff: Duration::from_secs(5),
                }),
            }),
        }
    }

    /// The same store, with concurrent appends sharing one transaction and one commit (see
    /// [`GroupCommit`]). Call it before the store is cloned or subscribed to.
    pub fn with_group_commit(self, options: GroupCommitOptions) -> Self {
        let inner = &self.inner;
        Self {
            inner: Arc::new(Inner {
                pool: inner.pool.clone(),
                group_commit: Some(GroupCommit::start(inner.pool.clone(), options)),
                appended: inner.appended.clone(),
                catch_up: inner.catch_up.clone(),
            }),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.inner.pool
    }
}

pub(crate) fn expected_code(expected: ExpectedVersion) -> Option<i64> {
    match expected {
        ExpectedVersion::Any => None,
        ExpectedVersion::NoStream => Some(-1),
        ExpectedVersion::StreamExists => Some(-2),
        ExpectedVersion::Exact(n) => Some(i64::try_from(n).unwrap_or(i64::MAX)),
    }
}

pub(crate) fn to_u64(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("negative {what}: {value}")))
}

fn map_append_error(stream: &str, expected: ExpectedVersion, error: sqlx::Error) -> StoreError {
    let Some(db) = error
        .as_database_error()
        .and_then(|e| e.try_downcast_ref::<PgDatabaseError>())
    else {
        return StoreError::from(error);
    };
    append_refused(stream, expected, db.code(), db.message(), db.detail())
        .unwrap_or_else(|| StoreError::from(error))
}

/// The store's own refusals of an append (AF001, AF002), by SQLSTATE; `None` for any other error.
pub(crate) fn append_refused(
    stream: &str,
    expected: ExpectedVersion,
    code: &str,
    message: &str,
    detail: Option<&str>,
) -> Option<StoreError> {
    match code {
        "AF001" => Some(StoreError::WrongExpectedVersion {
            stream: stream.to_owned(),
            expected,
            actual: detail.and_then(|d| d.parse().ok()).unwrap_or(0),
        }),
        "AF002" => Some(StoreError::EventIdConflict(message.to_owned())),
        _ => None,
    }
}

/// A concurrent writer took the version this append computed; calling again settles it (as a
/// conflict, an idempotent replay, or a success for `Any`).
pub(crate) fn lost_version_race(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .and_then(|e| e.try_downcast_ref::<PgDatabaseError>())
        .is_some_and(|db| {
            db.code() == "23505" && db.constraint() == Some("events_stream_version_unique")
        })
}

/// How often an append that lost a version race is tried again before giving up.
pub(crate) const RACE_RETRIES: usize = 16;

fn decode_row(row: &PgRow) -> Result<RecordedEvent, StoreError> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    let extra: Option<serde_json::Value> = row.try_get("extra_metadata").map_err(corrupt)?;
    let metadata = EventMetadata {
        tenant_id: row.try_get("tenant_id").map_err(corrupt)?,
        actor: row.try_get("actor").map_err(corrupt)?,
        correlation_id: row.try_get("correlation_id").map_err(corrupt)?,
        causation_id: row.try_get("causation_id").map_err(corrupt)?,
        extra: match extra {
            None => Default::default(),
            Some(extra) => serde_json::from_value(extra)
                .map_err(|e| StoreError::Corrupt(format!("event metadata: {e}")))?,
        },
    };
    let schema_version: i32 = row.try_get("schema_version").map_err(corrupt)?;
    Ok(RecordedEvent {
        position: Position {
            commit: to_u64(row.try_get("commit_id").map_err(corrupt)?, "commit id")?,
            prepare: to_u64(row.try_get("position").map_err(corrupt)?, "position")?,
        },
        stream_name: row.try_get("stream_name").map_err(corrupt)?,
        stream_version: to_u64(
            row.try_get("stream_version").map_err(corrupt)?,
            "stream version",
        )?,
        event_id: row.try_get("event_id").map_err(corrupt)?,
        event_type: row.try_get("event_type").map_err(corrupt)?,
        schema_version: u32::try_from(schema_version)
            .map_err(|_| StoreError::Corrupt(format!("schema version {schema_version}")))?,
        data: row.try_get("data").map_err(corrupt)?,
        metadata,
        recorded_at: row
            .try_get::<DateTime<Utc>, _>("recorded_at")
            .map_err(corrupt)?,
    })
}

const COLUMNS: &str = "position, commit_id, stream_name, stream_version, event_id, event_type, \
                       schema_version, tenant_id, data, actor, correlation_id, causation_id, extra_metadata, \
                       recorded_at";

#[async_trait]
impl EventAppender for PostgresEventStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, StoreError> {
        let append = PreparedAppend::new(stream, expected, events)?;
        let outcome = match &self.inner.group_commit {
            Some(group) => group.append(append).await?,
            None => append_one(&self.inner.pool, &append).await?,
        };
        self.inner.appended.notify_waiters();
        Ok(outcome)
    }
}

/// One append, validated and laid out as the columns `append_events` takes.
pub(crate) struct PreparedAppend {
    pub stream: String,
    pub expected: ExpectedVersion,
    pub tenant: uuid::Uuid,
    pub ids: Vec<uuid::Uuid>,
    pub types: Vec<String>,
    pub versions: Vec<i32>,
    pub data: Vec<serde_json::Value>,
    pub actors: Vec<String>,
    pub correlation_ids: Vec<uuid::Uuid>,
    pub causation_ids: Vec<uuid::Uuid>,
    pub extras: Vec<Option<serde_json::Value>>,
    /// Each event's content hash, which `append_events` links into the stream's chain.
    pub content_hashes: Vec<Vec<u8>>,
}

impl PreparedAppend {
    fn new(
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<Self, StoreError> {
        let Some(first) = events.first() else {
            return Err(StoreError::InvalidAppend(
                "an append needs at least one event",
            ));
        };
        if events.len() > MAX_EVENTS_PER_APPEND {
            return Err(StoreError::InvalidAppend("too many events in one append"));
        }
        let tenant = first.metadata.tenant_id;
        if events.iter().any(|e| e.metadata.tenant_id != tenant) {
            return Err(StoreError::InvalidAppend(
                "all events of one append belong to one tenant",
            ));
        }
        let mut append = PreparedAppend {
            stream: stream.to_owned(),
            expected,
            tenant,
            ids: Vec::with_capacity(events.len()),
            types: Vec::with_capacity(events.len()),
            versions: Vec::with_capacity(events.len()),
            data: Vec::with_capacity(events.len()),
            actors: Vec::with_capacity(events.len()),
            correlation_ids: Vec::with_capacity(events.len()),
            causation_ids: Vec::with_capacity(events.len()),
            extras: Vec::with_capacity(events.len()),
            content_hashes: Vec::with_capacity(events.len()),
        };
        for event in events {
            append
                .content_hashes
                .push(crate::chain::content_hash(stream, &event).to_vec());
            append.ids.push(event.event_id);
            append.types.push(event.event_type);
            append.versions.push(
                i32::try_from(event.schema_version)
                    .map_err(|_| StoreError::InvalidAppend("schema version too large"))?,
            );
            append.data.push(event.data);
            let metadata = event.metadata;
            append.actors.push(metadata.actor);
            append.correlation_ids.push(metadata.correlation_id);
            append.causation_ids.push(metadata.causation_id);
            append.extras.push(if metadata.extra.is_empty() {
                None
            } else {
                Some(
                    serde_json::to_value(&metadata.extra)
                        .map_err(|_| StoreError::InvalidAppend("bad metadata"))?,
                )
            });
        }
        Ok(append)
    }
}

/// One append in its own transaction: one call of `append_events`, called again after a lost
/// version race.
pub(crate) async fn append_one(
    pool: &PgPool,
    append: &PreparedAppend,
) -> Result<AppendOutcome, StoreError> {
    let mut attempt = 0;
    let row = loop {
        let result = sqlx::query(
            "SELECT stream_version, commit_id, log_position \
             FROM append_events($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&append.stream)
        .bind(expected_code(append.expected))
        .bind(append.tenant)
        .bind(&append.ids)
        .bind(&append.types)
        .bind(&append.versions)
        .bind(&append.data)
        .bind(&append.actors)
        .bind(&append.correlation_ids)
        .bind(&append.causation_ids)
        .bind(&append.extras)
        .bind(&append.content_hashes)
        .fetch_one(pool)
        .await;
        match result {
            Err(error) if lost_version_race(&error) && attempt < RACE_RETRIES => attempt += 1,
            other => {
                break other.map_err(|e| map_append_error(&append.stream, append.expected, e))?
            }
        }
    };
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    Ok(AppendOutcome {
        stream_version: to_u64(
            row.try_get("stream_version").map_err(corrupt)?,
            "stream version",
        )?,
        position: Position {
            commit: to_u64(row.try_get("commit_id").map_err(corrupt)?, "commit id")?,
            prepare: to_u64(row.try_get("log_position").map_err(corrupt)?, "position")?,
        },
    })
}

#[async_trait]
impl EventReader for PostgresEventStore {
    async fn read_stream(
        &self,
        stream: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events WHERE stream_name = $1 AND stream_version >= $2 \
             ORDER BY stream_version LIMIT $3"
        ))
        .bind(stream)
        .bind(i64::try_from(from).unwrap_or(i64::MAX))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.inner.pool)
        .await?;
        rows.iter().map(decode_row).collect()
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        // The xmin filter is what keeps readers from skipping late commits; without it this is the
        // classic gap bug (tested in tests/postgres_gaps.rs).
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM events \
             WHERE (commit_id, position) > ($1, $2) \
               AND commit_id < pg_snapshot_xmin(pg_current_snapshot())::text::bigint \
             ORDER BY commit_id, position LIMIT $3"
        ))
        .bind(i64::try_from(after.commit).unwrap_or(i64::MAX))
        .bind(i64::try_from(after.prepare).unwrap_or(i64::MAX))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.inner.pool)
        .await?;
        rows.iter().map(decode_row).collect()
    }

    fn subscribe_all(&self, after: Position) -> EventSubscription {
        catch_up(
            Arc::new(self.clone()),
            self.inner.appended.clone(),
            after,
            self.inner.catch_up.clone(),
        )
    }
}
