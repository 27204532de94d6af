//! The write path's one error type: the domain's answer kept apart from the store's failures.

use adflow_domain::Rejection;
use adflow_event_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The domain refused the command (a business answer; retrying the same command cannot help).
    #[error(transparent)]
    Rejected(Rejection),
    /// The command names a version of an aggregate that has no events.
    #[error("the aggregate does not exist")]
    NotFound,
    /// The stream moved past the version the caller decided on.
    #[error("the aggregate is at version {actual}")]
    VersionConflict { actual: u64 },
    /// Others kept writing the stream through every round of a `Latest` command.
    #[error("{stream}: still contended after several attempts")]
    Contended { stream: String },
    /// The stream holds events this code cannot read or that describe an impossible history.
    #[error("unreadable history: {0}")]
    CorruptHistory(String),
    /// The store failed (unreachable, timed out...): transient, worth a retry.
    #[error(transparent)]
    Store(#[from] StoreError),
}
