//! The analytics projector: follows the log and writes each batch to ClickHouse exactly once.
//!
//! A batch is written in three inserts: facts, domain events (both deduplicated by log position,
//! so writing them twice is harmless), then the daily rollup together with the checkpoint step,
//! in one insert that ClickHouse applies atomically. That last insert commits the batch; after any
//! failure the projector re-reads the checkpoint from ClickHouse and goes on from there, so a
//! batch is summed into the rollup once whatever fails when.
//!
//! Only one writer may commit batches to a set of tables: each batch runs under a PostgreSQL
//! advisory lock (a second instance waits, a rebuild's swap waits for the current batch).

use super::rows::{AnalyticsBatch, DailyRow, EventRow, FactRow};
use super::{queries, Analytics, DAILY, EVENTS, FACTS};
use crate::ProjectionError;
use adflow_event_store::{EventReader, Position, RecordedEvent};
use futures_util::StreamExt;
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct AnalyticsOptions {
    /// Events per batch at most.
    pub max_events: usize,
    /// Fact rows per batch at most (a batch stops after the event that crosses it). It keeps the
    /// rollup insert far below one ClickHouse block (1,048,576 rows), which is what makes it atomic.
    pub max_fact_rows: usize,
    /// How long a live projector gathers events before it writes: few, large inserts suit
    /// ClickHouse (every insert is a part to merge).
    pub linger: Duration,
    pub retry_pause: Duration,
    pub max_backoff: Duration,
}

impl Default for AnalyticsOptions {
    fn default() -> Self {
        Self {
            max_events: 5_000,
            max_fact_rows: 200_000,
            linger: Duration::from_millis(100),
            retry_pause: Duration::from_millis(100),
            max_backoff: Duration::from_secs(5),
        }
    }
}

pub struct AnalyticsProjector {
    reader: Arc<dyn EventReader>,
    pool: PgPool,
    analytics: Analytics,
    suffix: String,
    options: AnalyticsOptions,
}

/// The advisory lock of one set of tables: a stable 64-bit FNV-1a hash of its name.
fn lock_key(database: &str, suffix: &str) -> i64 {
    let name = format!("adflow-analytics:{database}{suffix}");
    let hash = name.bytes().fold(0xcbf29ce484222325u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x100000001b3)
    });
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Holds the writer lock of one set of tables until dropped or released.
pub(crate) struct WriterLock {
    connection: Option<PoolConnection<Postgres>>,
    key: i64,
}

impl WriterLock {
    pub(crate) async fn acquire(
        pool: &PgPool,
        analytics: &Analytics,
        suffix: &str,
    ) -> Result<Self, ProjectionError> {
        let key = lock_key(analytics.database(), suffix);
        let mut connection = pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(key)
            .execute(&mut *connection)
            .await?;
        Ok(Self {
            connection: Some(connection),
            key,
        })
    }

    pub(crate) async fn release(mut self) -> Result<(), ProjectionError> {
        if let Some(mut connection) = self.connection.take() {
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(self.key)
                .execute(&mut *connection)
                .await?;
        }
        Ok(())
    }
}

impl Drop for WriterLock {
    fn drop(&mut self) {
        // Released without `release` (an error on the way): the session's lock must not go back
        // to the pool with the connection, so the connection is closed instead.
        if let Some(connection) = self.connection.take() {
            drop(connection.detach());
        }
    }
}

impl AnalyticsProjector {
    pub fn new(
        reader: Arc<dyn EventReader>,
        pool: PgPool,
        analytics: Analytics,
        options: AnalyticsOptions,
    ) -> Self {
        Self::with_suffix(reader, pool, analytics, "", options)
    }

    /// A projector writing the tables whose names end in `suffix` (a rebuild's shadow tables).
    pub(crate) fn with_suffix(
        reader: Arc<dyn EventReader>,
        pool: PgPool,
        analytics: Analytics,
        suffix: &str,
        options: AnalyticsOptions,
    ) -> Self {
        Self {
            reader,
            pool,
            analytics,
            suffix: suffix.to_owned(),
            options,
        }
    }

    pub fn name(&self) -> &'static str {
        super::NAME
    }

    pub fn analytics(&self) -> &Analytics {
        &self.analytics
    }

    /// The position up to which every event is in ClickHouse.
    pub async fn checkpoint(&self) -> Result<Position, ProjectionError> {
        queries::checkpoint(&self.analytics, &self.suffix).await
    }

    async fn insert<T>(&self, table: &str, rows: &[T::Value<'_>]) -> Result<(), ProjectionError>
    where
        T: clickhouse::RowWrite,
    {
        if rows.is_empty() {
            return Ok(());
        }
        let mut insert = self
            .analytics
            .client()
            .insert::<T>(&format!("{table}{}", self.suffix))
            .await?
            // Named, so that a later writer can see it still running after this process died.
            .with_setting(
                "query_id",
                format!("{}{}", self.writer_tag(), Uuid::now_v7()),
            );
        for row in rows {
            insert.write(row).await?;
        }
        insert.end().await?;
        Ok(())
    }

    /// Writes `batch`; the last insert commits it.
    async fn write(&self, batch: &AnalyticsBatch) -> Result<(), ProjectionError> {
        self.insert::<FactRow>(FACTS, &batch.facts).await?;
        self.insert::<EventRow>(EVENTS, &batch.events).await?;
        self.insert::<DailyRow>(DAILY, &batch.daily_rows()).await
    }

    fn full(&self, batch: &AnalyticsBatch) -> bool {
        batch.events.len() >= self.options.max_events
            || batch.fact_rows() >= self.options.max_fact_rows
    }

    /// The prefix of the query ids of this set of tables' inserts.
    fn writer_tag(&self) -> String {
        format!(
            "adflow-analytics:{}:{}:",
            self.analytics.database(),
            self.suffix
        )
    }

    /// Waits until no insert of an earlier writer into these tables is still running. The writer
    /// lock dies with its process, but an insert the process had sent may still be written by
    /// ClickHouse: reading the checkpoint before it lands would sum a batch twice and move the
    /// checkpoint past events never summed.
    async fn await_earlier_inserts(&self) -> Result<(), ProjectionError> {
        let tag = self.writer_tag();
        for _ in 0..600 {
            let running = self
                .analytics
                .client()
                .query("SELECT count() FROM system.processes WHERE startsWith(query_id, ?)")
                .bind(tag.as_str())
                .fetch_one::<u64>()
                .await?;
            if running == 0 {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(ProjectionError::EarlierWriterStillInserting(tag))
    }

    /// Under the writer lock: commits `batch` if the checkpoint is still where the batch starts.
    /// `false`, with nothing written, when it moved (another writer, or a rebuild's swap).
    async fn commit(&self, batch: &AnalyticsBatch) -> Result<bool, ProjectionError> {
        let lock = WriterLock::acquire(&self.pool, &self.analytics, &self.suffix).await?;
        // Only a dead writer's inserts can be running: live ones hold the lock while inserting.
        if let Err(error) = self.await_earlier_inserts().await {
            lock.release().await?;
            return Err(error);
        }
        if self.checkpoint().await? != batch.from {
            lock.release().await?;
            return Ok(false);
        }
        self.write(batch).await?;
        lock.release().await?;
        Ok(true)
    }

    /// How many events to read next: no more than the batch has room for, judging by the fact
    /// rows per event so far. Events past a full batch are read again by the next step, and with
    /// reports of thousands of rows that waste dominated (reads of 1,000 events to use 200).
    fn next_read(&self, batch: &AnalyticsBatch) -> usize {
        const FIRST_READ: usize = 100;
        const MAX_READ: usize = 1_000;
        let events = batch.events.len();
        let room_for_events = self.options.max_events.saturating_sub(events);
        if events == 0 {
            return room_for_events.clamp(1, FIRST_READ);
        }
        let rows_per_event = batch.fact_rows().div_ceil(events).max(1);
        let room_for_rows = self
            .options
            .max_fact_rows
            .saturating_sub(batch.fact_rows())
            .div_ceil(rows_per_event);
        room_for_events.min(room_for_rows).clamp(1, MAX_READ)
    }

    /// Projects one batch read with `read_all`; returns the number of events (0 when caught up).
    pub async fn step(&self) -> Result<usize, ProjectionError> {
        loop {
            let from = self.checkpoint().await?;
            let mut batch = AnalyticsBatch::new(from);
            let mut at = from;
            while !self.full(&batch) {
                let want = self.next_read(&batch);
                let events = self.reader.read_all(at, want).await?;
                let Some(last) = events.last() else { break };
                at = last.position;
                for event in &events {
                    batch.push(event)?;
                    if self.full(&batch) {
                        break;
                    }
                }
            }
            if batch.is_empty() {
                return Ok(0);
            }
            if self.commit(&batch).await? {
                return Ok(batch.events.len());
            }
        }
    }

    /// Projects until the log has nothing more to give; returns the number of events applied.
    pub async fn catch_up(&self) -> Result<u64, ProjectionError> {
        self.catch_up_with(|_| {}).await
    }

    /// Like repeated `step`s, but a task reads the log ahead while batches are written, so
    /// PostgreSQL (reading) and this process with ClickHouse (writing) work at the same time.
    pub(crate) async fn catch_up_with(
        &self,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, ProjectionError> {
        let mut total = 0u64;
        'restart: loop {
            let from = self.checkpoint().await?;
            let mut pages = ReadAhead::start(self.reader.clone(), from);
            let mut pending: std::collections::VecDeque<RecordedEvent> = Default::default();
            let mut batch = AnalyticsBatch::new(from);
            loop {
                while !self.full(&batch) {
                    if pending.is_empty() {
                        match pages.next().await? {
                            Some(page) => pending.extend(page),
                            None => break,
                        }
                    }
                    match pending.pop_front() {
                        Some(event) => batch.push(&event)?,
                        None => break,
                    }
                }
                if batch.is_empty() {
                    return Ok(total);
                }
                if !self.commit(&batch).await? {
                    // Another writer moved the checkpoint: start over from where it is.
                    continue 'restart;
                }
                total += batch.events.len() as u64;
                progress(total);
                batch = AnalyticsBatch::new(batch.to);
            }
        }
    }

    /// Creates the tables, then follows the log until `shutdown` turns true. Any failure (ClickHouse
    /// or PostgreSQL down, a lost connection) is retried with backoff from the checkpoint in
    /// ClickHouse.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let mut failures = 0u32;
        while !*shutdown.borrow() {
            let outcome = match self.analytics.ensure_tables(&self.suffix).await {
                Ok(()) => self.follow(&mut shutdown).await,
                Err(error) => Err(error),
            };
            match outcome {
                Ok(()) => failures = 0,
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(projection = self.name(), %error, failures, "analytics projector failed, resuming from its checkpoint");
                    crate::runtime::pause_after_failure(
                        self.options.retry_pause,
                        self.options.max_backoff,
                        failures,
                        &mut shutdown,
                    )
                    .await;
                }
            }
        }
        tracing::info!(projection = self.name(), "analytics projector stopped");
    }

    /// One subscription's worth of `run`: `Ok` on shutdown or when the checkpoint moved.
    async fn follow(&self, shutdown: &mut watch::Receiver<bool>) -> Result<(), ProjectionError> {
        let mut from = self.checkpoint().await?;
        let mut subscription = self.reader.subscribe_all(from);
        loop {
            let first = tokio::select! {
                next = subscription.next() => next,
                _ = shutdown.changed() => return Ok(()),
            };
            let mut batch = AnalyticsBatch::new(from);
            match first {
                Some(event) => batch.push(&event?)?,
                None => return Ok(()),
            }
            let deadline = tokio::time::sleep(self.options.linger);
            tokio::pin!(deadline);
            while !self.full(&batch) {
                let event: Option<Result<RecordedEvent, _>> = tokio::select! {
                    next = subscription.next() => next,
                    _ = &mut deadline => break,
                };
                match event {
                    Some(event) => batch.push(&event?)?,
                    None => break,
                }
            }
            if !self.commit(&batch).await? {
                return Ok(());
            }
            from = batch.to;
        }
    }
}

/// Pages of the log read by a task of their own, at most two pages ahead of the consumer.
struct ReadAhead {
    pages: tokio::sync::mpsc::Receiver<Result<Vec<RecordedEvent>, adflow_event_store::StoreError>>,
    task: tokio::task::JoinHandle<()>,
}

impl ReadAhead {
    /// Events per read: performance reports can hold thousands of rows each.
    const PAGE: usize = 100;

    fn start(reader: Arc<dyn EventReader>, from: Position) -> ReadAhead {
        let (sender, pages) = tokio::sync::mpsc::channel(2);
        let task = tokio::spawn(async move {
            let mut at = from;
            loop {
                let page = reader.read_all(at, Self::PAGE).await;
                let last = match &page {
                    Ok(events) => events.last().map(|e| e.position),
                    Err(_) => None,
                };
                let failed = page.is_err();
                if (page.as_ref().is_ok_and(|events| !events.is_empty()) || failed)
                    && sender.send(page).await.is_err()
                {
                    return;
                }
                match last {
                    Some(position) => at = position,
                    None => return,
                }
            }
        });
        ReadAhead { pages, task }
    }

    /// The next page; `None` at the end of the log.
    async fn next(&mut self) -> Result<Option<Vec<RecordedEvent>>, ProjectionError> {
        match self.pages.recv().await {
            Some(page) => Ok(Some(page?)),
            None => Ok(None),
        }
    }
}

impl Drop for ReadAhead {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::lock_key;

    #[test]
    fn each_set_of_tables_has_its_own_stable_lock() {
        assert_eq!(lock_key("adflow", ""), lock_key("adflow", ""));
        assert_ne!(lock_key("adflow", ""), lock_key("adflow", "_rebuild"));
        assert_ne!(lock_key("adflow", ""), lock_key("other", ""));
    }
}
