use crate::model::ExpectedVersion;

/// Infrastructure answers from the store. A domain rejection is never one of these.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Optimistic concurrency: somebody else wrote to the stream first. `actual` is the stream's
    /// version now (0 when the stream does not exist).
    #[error(
        "wrong expected version on {stream}: expected {expected:?}, the stream is at {actual}"
    )]
    WrongExpectedVersion {
        stream: String,
        expected: ExpectedVersion,
        actual: u64,
    },
    /// Some of the appended event ids are already stored, but not as exactly this append to this
    /// stream: a retry cannot be told apart from a different write, so nothing is written.
    #[error("event ids already used by a different append: {0}")]
    EventIdConflict(String),
    #[error("invalid append: {0}")]
    InvalidAppend(&'static str),
    /// The store could not be reached or failed while answering; the same call may succeed later.
    #[error("event store unavailable: {0}")]
    Unavailable(String),
    /// The store answered with something this code cannot read (a corrupt row, an unknown format).
    #[error("event store returned unreadable data: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        StoreError::Unavailable(error.to_string())
    }
}
