//! The one error type of the crate: what went wrong on a platform, typed so that the workers know
//! whether to retry now, retry later, or give up and say why.

use std::time::Duration;

/// One cause a platform gave, with the field it is about (a path in the platform's request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cause {
    pub code: String,
    pub message: String,
    pub field_path: Option<String>,
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field_path {
            Some(path) => write!(f, "{} at {path}: {}", self.code, self.message),
            None => write!(f, "{}: {}", self.code, self.message),
        }
    }
}

fn list(causes: &[Cause]) -> String {
    causes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum PlatformError {
    /// The platform refused the request as it is: retrying the same request cannot help.
    #[error("refused by the platform: {}", list(.causes))]
    Invalid { causes: Vec<Cause> },
    /// Credentials refused (revoked refresh token, no access to the account).
    #[error("authentication failed: {0}")]
    Auth(String),
    /// The account's daily operations are used up; they come back with the next day.
    #[error("quota exhausted: {message}")]
    QuotaExhausted {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Throttled (429, RESOURCE_TEMPORARILY_EXHAUSTED): retried with backoff.
    #[error("rate limited: {0}")]
    RateLimited(String),
    /// 5xx, a timeout or a dropped connection: the request may or may not have taken effect.
    #[error("platform unavailable: {0}")]
    Unavailable(String),
    #[error("not found on the platform: {0}")]
    NotFound(String),
    /// An answer we cannot read; a bug on one side, not worth retrying.
    #[error("unexpected answer from the platform: {0}")]
    Protocol(String),
    /// The tenant has connected no account of this platform (or its secret is gone).
    #[error("no {0} account is connected")]
    NotConnected(&'static str),
    /// The credential store failed (transient) or holds what this key cannot decrypt.
    #[error("credentials: {0}")]
    Credentials(String),
    /// The structure has no part for this platform, or the account is of another platform.
    #[error("{0}")]
    Unsupported(String),
}

impl PlatformError {
    /// Worth retrying within the same call (after a backoff).
    pub fn transient(&self) -> bool {
        matches!(self, Self::RateLimited(_) | Self::Unavailable(_))
    }

    /// Worth another attempt later (the deployment stays resumable).
    pub fn retryable(&self) -> bool {
        self.transient() || matches!(self, Self::QuotaExhausted { .. })
    }

    /// A timeout or dropped connection: the write may have happened.
    pub fn ambiguous(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}
