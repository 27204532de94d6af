//! The projector loop: follow the log from the checkpoint (a catch-up subscription), then apply
//! what arrived and move the checkpoint in one short transaction.
//!
//! Events are read before the transaction opens: with the PostgreSQL event store, an open write
//! transaction holds back every log reader in the cluster, so transactions here stay as short as
//! the apply itself. The checkpoint is re-read under a row lock inside the transaction; if it
//! moved (another instance, or a rebuild), the batch is dropped and read again.

use adflow_event_store::{EventReader, Position, RecordedEvent, StoreError};
use async_trait::async_trait;
use futures_util::{FutureExt, StreamExt};
use sqlx::{PgConnection, PgPool};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("read-model database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("ClickHouse: {0}")]
    ClickHouse(#[from] clickhouse::error::Error),
    #[error("configuration: {0}")]
    Configuration(String),
    /// An insert of a writer that died is still running in ClickHouse; retried later.
    #[error("ClickHouse is still running an earlier writer's insert into {0}")]
    EarlierWriterStillInserting(String),
    /// An event this projection cannot read. The projector stops here rather than skip it.
    #[error("cannot project event {event_id} ({event_type}): {reason}")]
    Undecodable {
        event_id: uuid::Uuid,
        event_type: String,
        reason: String,
    },
}

#[async_trait]
pub trait Projection: Send + Sync {
    fn name(&self) -> &'static str;
    /// Deletes everything this projection wrote (the start of a rebuild).
    /// Every table this projection writes (what a reset empties and a rebuild swaps).
    fn tables(&self) -> &'static [&'static str];
    /// Applies one event; events the projection does not care about are ignored.
    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError>;

    /// Applies a batch, in log order. Projections that can write a batch in fewer statements
    /// override it (a rebuild is mostly batches).
    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        for event in events {
            self.apply(tx, event).await?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct ProjectorOptions {
    pub batch_size: usize,
    /// The first pause after a failure (doubling up to `max_backoff`).
    pub retry_pause: Duration,
    /// How often an idle projector checks that nobody moved its checkpoint.
    pub checkpoint_recheck: Duration,
    pub max_backoff: Duration,
}

impl Default for ProjectorOptions {
    fn default() -> Self {
        Self {
            batch_size: 500,
            retry_pause: Duration::from_millis(50),
            checkpoint_recheck: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
        }
    }
}

pub struct Projector {
    reader: Arc<dyn EventReader>,
    pool: PgPool,
    projection: Arc<dyn Projection>,
    options: ProjectorOptions,
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn position_of(row: (i64, i64)) -> Position {
    Position {
        commit: u64::try_from(row.0).unwrap_or(0),
        prepare: u64::try_from(row.1).unwrap_or(0),
    }
}

/// The checkpoint of `projection` (the start of the log if it never ran).
pub async fn checkpoint(pool: &PgPool, projection: &str) -> Result<Position, sqlx::Error> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT commit_id, position FROM projection_checkpoints WHERE projection = $1",
    )
    .bind(projection)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(position_of).unwrap_or(Position::START))
}

/// The wait before another attempt after `failures` failures in a row: `first` doubled per
/// failure, at most `max`; cut short by shutdown.
pub(crate) async fn pause_after_failure(
    first: Duration,
    max: Duration,
    failures: u32,
    shutdown: &mut watch::Receiver<bool>,
) {
    let pause = first
        .saturating_mul(2u32.saturating_pow(failures.min(16)))
        .min(max);
    tokio::select! {
        _ = tokio::time::sleep(pause) => {}
        _ = shutdown.changed() => {}
    }
}

impl Projector {
    pub fn new(
        reader: Arc<dyn EventReader>,
        pool: PgPool,
        projection: Arc<dyn Projection>,
        options: ProjectorOptions,
    ) -> Self {
        Self {
            reader,
            pool,
            projection,
            options,
        }
    }

    pub fn name(&self) -> &'static str {
        self.projection.name()
    }

    pub async fn checkpoint(&self) -> Result<Position, sqlx::Error> {
        checkpoint(&self.pool, self.name()).await
    }

    /// Applies `batch` (the events right after `from`) and moves the checkpoint past it, in one
    /// transaction. `false`, with nothing written, when the checkpoint is no longer at `from`
    /// (another instance got there first, or a rebuild reset it).
    async fn commit_batch(
        &self,
        from: Position,
        batch: &[RecordedEvent],
    ) -> Result<bool, ProjectionError> {
        let name = self.name();
        let Some(last) = batch.last().map(|e| e.position) else {
            return Ok(true);
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO projection_checkpoints (projection) VALUES ($1) ON CONFLICT DO NOTHING",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
        let locked: (i64, i64) =
            sqlx::query_as("SELECT commit_id, position FROM projection_checkpoints WHERE projection = $1 FOR UPDATE")
                .bind(name)
                .fetch_one(&mut *tx)
                .await?;
        if position_of(locked) != from {
            return Ok(false);
        }
        self.projection.apply_batch(&mut tx, batch).await?;
        sqlx::query(
            "UPDATE projection_checkpoints SET commit_id = $2, position = $3, updated_at = now() WHERE projection = $1",
        )
        .bind(name)
        .bind(to_i64(last.commit))
        .bind(to_i64(last.prepare))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Projects one batch read with `read_all`. Returns how many events it applied (0 when caught up).
    pub async fn step(&self) -> Result<usize, ProjectionError> {
        loop {
            let from = self.checkpoint().await?;
            let batch = self.reader.read_all(from, self.options.batch_size).await?;
            if self.commit_batch(from, &batch).await? {
                return Ok(batch.len());
            }
        }
    }

    /// Projects until the log has nothing more to give; returns the number of events applied.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        let mut total = 0u64;
        loop {
            match self.step().await? {
                0 => return Ok(total),
                n => total += n as u64,
            }
        }
    }

    /// Follows the log with a catch-up subscription until `shutdown` turns true, applying whatever
    /// has arrived (up to a batch) in each transaction. After a failure, or when the checkpoint
    /// moved under it, it starts again from the checkpoint in the database (with backoff after
    /// failures).
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let mut failures = 0u32;
        while !*shutdown.borrow() {
            match self.follow(&mut shutdown).await {
                Ok(()) => failures = 0,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(projection = self.name(), %error, failures, "projector failed, restarting from its checkpoint");
                    pause_after_failure(
                        self.options.retry_pause,
                        self.options.max_backoff,
                        failures,
                        &mut shutdown,
                    )
                    .await;
                }
            }
        }
        tracing::info!(projection = self.name(), "projector stopped");
    }

    /// One subscription's worth of `run`: returns `Ok` on shutdown or when the checkpoint moved.
    async fn follow(&self, shutdown: &mut watch::Receiver<bool>) -> Result<(), ProjectionError> {
        let mut from = self.checkpoint().await?;
        let mut subscription = self.reader.subscribe_all(from);
        // While idle, look now and then whether the checkpoint moved (a rebuild reset it).
        let mut recheck = tokio::time::interval(self.options.checkpoint_recheck);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let first = tokio::select! {
                next = subscription.next() => next,
                _ = shutdown.changed() => return Ok(()),
                _ = recheck.tick() => {
                    if self.checkpoint().await? != from {
                        return Ok(());
                    }
                    continue;
                }
            };
            let mut batch = match first {
                Some(Ok(event)) => vec![event],
                Some(Err(error)) => return Err(error.into()),
                None => return Ok(()),
            };
            while batch.len() < self.options.batch_size {
                match subscription.next().now_or_never() {
                    Some(Some(Ok(event))) => batch.push(event),
                    Some(Some(Err(error))) => return Err(error.into()),
                    Some(None) | None => break,
                }
            }
            if !self.commit_batch(from, &batch).await? {
                return Ok(());
            }
            if let Some(last) = batch.last() {
                from = last.position;
            }
        }
    }

    /// Empties the read model and moves the checkpoint back to the start of the log, in one
    /// transaction; whichever projector runs next rebuilds it.
    pub async fn reset(&self) -> Result<(), ProjectionError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO projection_checkpoints (projection) VALUES ($1) \
             ON CONFLICT (projection) DO UPDATE SET commit_id = 0, position = 0, updated_at = now()",
        )
        .bind(self.name())
        .execute(&mut *tx)
        .await?;
        for table in self.projection.tables() {
            sqlx::query(&format!("DELETE FROM {table}"))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
