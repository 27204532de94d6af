use crate::error::StoreError;
use crate::model::{AppendOutcome, ExpectedVersion, NewEvent, Position, RecordedEvent};
use async_trait::async_trait;
use futures_util::stream::BoxStream;

/// A live feed of the global log: first everything after the checkpoint, then new events as they
/// commit, with no gap between the two. An `Err` item reports a passing failure; the feed goes on
/// from where it was.
pub type EventSubscription = BoxStream<'static, Result<RecordedEvent, StoreError>>;

#[async_trait]
pub trait EventAppender: Send + Sync {
    /// Appends `events` to `stream` atomically, if the stream is at `expected`. Re-appending events
    /// whose ids are already stored as exactly this append succeeds and writes nothing.
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, StoreError>;
}

#[async_trait]
pub trait EventReader: Send + Sync {
    /// Events of one stream from version `from` (1 = the first) on, at most `limit`. A stream that
    /// does not exist reads as empty.
    async fn read_stream(
        &self,
        stream: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// Events of the global log after `after`, in log order, at most `limit`. Never returns an event
    /// while an event that sorts before it could still appear: a checkpoint taken from the last
    /// event returned is safe.
    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError>;

    /// A catch-up subscription to the global log after `after`.
    fn subscribe_all(&self, after: Position) -> EventSubscription;
}

pub trait EventStore: EventAppender + EventReader {}

impl<T: EventAppender + EventReader> EventStore for T {}
