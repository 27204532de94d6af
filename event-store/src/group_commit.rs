//! Group commit for the PostgreSQL store: appends that arrive while a commit is under way wait in
//! a queue and go together in the next one — one transaction, one round trip, one WAL flush —
//! the way EventStoreDB batches its writes. Each append keeps its own expected-version check and
//! its own outcome (`append_batch` in schemas/migrations/0009_append_batch.sql runs each in a
//! subtransaction), so a conflict on one stream never fails the others.
//!
//! A lone append is written the ordinary way (no subtransaction to pay for): batching only
//! happens when appends actually queue up behind each other, so it never adds latency at low load.

use crate::error::StoreError;
use crate::model::AppendOutcome;
use crate::model::Position;
use crate::postgres::{append_one, append_refused, expected_code, to_u64, PreparedAppend};
use sqlx::postgres::PgPool;
use sqlx::Row;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};

/// How appends are grouped.
#[derive(Debug, Clone, Copy)]
pub struct GroupCommitOptions {
    /// Appends per transaction at most. Each is a subtransaction; PostgreSQL tracks up to 64 per
    /// transaction in shared memory before other sessions' visibility checks slow down.
    pub max_batch: usize,
    /// Batches in flight at once, each on its own connection.
    pub writers: usize,
}

impl Default for GroupCommitOptions {
    fn default() -> Self {
        Self {
            max_batch: 32,
            writers: 2,
        }
    }
}

struct Pending {
    append: PreparedAppend,
    reply: oneshot::Sender<Result<AppendOutcome, StoreError>>,
}

/// The queue in front of the batch writers; the writers stop when it is dropped.
pub struct GroupCommit {
    queue: mpsc::Sender<Pending>,
}

impl GroupCommit {
    pub(crate) fn start(pool: PgPool, options: GroupCommitOptions) -> Self {
        let max_batch = options.max_batch.clamp(1, 64);
        let writers = options.writers.max(1);
        let (queue, waiting) = mpsc::channel(max_batch * writers * 4);
        let waiting = Arc::new(Mutex::new(waiting));
        for _ in 0..writers {
            tokio::spawn(write_batches(pool.clone(), waiting.clone(), max_batch));
        }
        Self { queue }
    }

    pub(crate) async fn append(&self, append: PreparedAppend) -> Result<AppendOutcome, StoreError> {
        let (reply, outcome) = oneshot::channel();
        let stopped = || StoreError::Unavailable("the group commit writers stopped".into());
        self.queue
            .send(Pending { append, reply })
            .await
            .map_err(|_| stopped())?;
        outcome.await.map_err(|_| stopped())?
    }
}

/// One writer: takes what is waiting (at least one append, at most `max_batch`) and writes it.
async fn write_batches(
    pool: PgPool,
    waiting: Arc<Mutex<mpsc::Receiver<Pending>>>,
    max_batch: usize,
) {
    loop {
        let batch = {
            let mut waiting = waiting.lock().await;
            let Some(first) = waiting.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < max_batch {
                match waiting.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            batch
        };
        write_batch(&pool, batch).await;
    }
}

async fn write_batch(pool: &PgPool, mut batch: Vec<Pending>) {
    if batch.len() == 1 {
        if let Some(lone) = batch.pop() {
            let outcome = append_one(pool, &lone.append).await;
            let _ = lone.reply.send(outcome);
        }
        return;
    }
    // Streams in name order, so that two batches in flight (here or in another process) take
    // their stream locks in the same order and never wait on each other in a cycle. The sort is
    // stable: appends to one stream keep their order.
    batch.sort_by(|a, b| a.append.stream.cmp(&b.append.stream));
    let columns = Columns::of(&batch);
    let result = sqlx::query(
        "SELECT append_index, stream_version, commit_id, log_position, error_code, error_message, \
                error_detail, error_constraint \
         FROM append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&columns.streams)
    .bind(&columns.expected)
    .bind(&columns.tenants)
    .bind(&columns.counts)
    .bind(&columns.ids)
    .bind(&columns.types)
    .bind(&columns.versions)
    .bind(&columns.data)
    .bind(&columns.actors)
    .bind(&columns.correlation_ids)
    .bind(&columns.causation_ids)
    .bind(&columns.extras)
    .bind(&columns.content_hashes)
    .fetch_all(pool)
    .await;
    let rows = match result {
        Ok(rows) if rows.len() == batch.len() => rows,
        Ok(rows) => {
            let error = format!(
                "append_batch answered {} rows for {}",
                rows.len(),
                batch.len()
            );
            for pending in batch {
                let _ = pending.reply.send(Err(StoreError::Corrupt(error.clone())));
            }
            return;
        }
        Err(error) => {
            // The batch was one transaction: none of it was written (or, if the commit's answer
            // was lost, all of it; a retry with the same event ids settles which).
            let error = error.to_string();
            for pending in batch {
                let _ = pending
                    .reply
                    .send(Err(StoreError::Unavailable(error.clone())));
            }
            return;
        }
    };
    for (row, pending) in rows.iter().zip(batch) {
        match outcome_of(row, &pending.append) {
            Settled::Done(outcome) => {
                let _ = pending.reply.send(outcome);
            }
            // Another transaction took the version this append computed: its own transaction
            // settles it (a conflict, an idempotent replay, or a success for `Any`).
            Settled::LostRace => {
                let pool = pool.clone();
                tokio::spawn(async move {
                    let outcome = append_one(&pool, &pending.append).await;
                    let _ = pending.reply.send(outcome);
                });
            }
        }
    }
}

enum Settled {
    Done(Result<AppendOutcome, StoreError>),
    LostRace,
}

fn outcome_of(row: &sqlx::postgres::PgRow, append: &PreparedAppend) -> Settled {
    let read = || -> Result<Settled, sqlx::Error> {
        let code: Option<String> = row.try_get("error_code")?;
        let Some(code) = code else {
            let outcome = (|| {
                Ok(AppendOutcome {
                    stream_version: to_u64(row.try_get("stream_version")?, "stream version")?,
                    position: Position {
                        commit: to_u64(row.try_get("commit_id")?, "commit id")?,
                        prepare: to_u64(row.try_get("log_position")?, "position")?,
                    },
                })
            })();
            return Ok(Settled::Done(outcome));
        };
        let constraint: Option<String> = row.try_get("error_constraint")?;
        if code == "23505" && constraint.as_deref() == Some("events_stream_version_unique") {
            return Ok(Settled::LostRace);
        }
        let message: Option<String> = row.try_get("error_message")?;
        let message = message.unwrap_or_default();
        let detail: Option<String> = row.try_get("error_detail")?;
        let error = append_refused(
            &append.stream,
            append.expected,
            &code,
            &message,
            detail.as_deref().filter(|d| !d.is_empty()),
        )
        .unwrap_or_else(|| StoreError::Unavailable(format!("{code}: {message}")));
        Ok(Settled::Done(Err(error)))
    };
    read().unwrap_or_else(|e| Settled::Done(Err(StoreError::Corrupt(e.to_string()))))
}

/// The batch laid out as `append_batch`'s arrays.
struct Columns {
    streams: Vec<String>,
    expected: Vec<Option<i64>>,
    tenants: Vec<uuid::Uuid>,
    counts: Vec<i32>,
    ids: Vec<uuid::Uuid>,
    types: Vec<String>,
    versions: Vec<i32>,
    data: Vec<serde_json::Value>,
    actors: Vec<String>,
    correlation_ids: Vec<uuid::Uuid>,
    causation_ids: Vec<uuid::Uuid>,
    extras: Vec<Option<serde_json::Value>>,
    content_hashes: Vec<Vec<u8>>,
}

impl Columns {
    fn of(batch: &[Pending]) -> Self {
        let events: usize = batch.iter().map(|p| p.append.ids.len()).sum();
        let mut columns = Columns {
            streams: Vec::with_capacity(batch.len()),
            expected: Vec::with_capacity(batch.len()),
            tenants: Vec::with_capacity(batch.len()),
            counts: Vec::with_capacity(batch.len()),
            ids: Vec::with_capacity(events),
            types: Vec::with_capacity(events),
            versions: Vec::with_capacity(events),
            data: Vec::with_capacity(events),
            actors: Vec::with_capacity(events),
            correlation_ids: Vec::with_capacity(events),
            causation_ids: Vec::with_capacity(events),
            extras: Vec::with_capacity(events),
            content_hashes: Vec::with_capacity(events),
        };
        for pending in batch {
            let append = &pending.append;
            columns.streams.push(append.stream.clone());
            columns.expected.push(expected_code(append.expected));
            columns.tenants.push(append.tenant);
            // At most MAX_EVENTS_PER_APPEND (checked when the append was prepared).
            columns.counts.push(append.ids.len() as i32);
            columns.ids.extend_from_slice(&append.ids);
            columns.types.extend(append.types.iter().cloned());
            columns.versions.extend_from_slice(&append.versions);
            columns.data.extend(append.data.iter().cloned());
            columns.actors.extend(append.actors.iter().cloned());
            columns
                .correlation_ids
                .extend_from_slice(&append.correlation_ids);
            columns
                .causation_ids
                .extend_from_slice(&append.causation_ids);
            columns.extras.extend(append.extras.iter().cloned());
            columns
                .content_hashes
                .extend(append.content_hashes.iter().cloned());
        }
        columns
    }
}
