//! GraphQL errors with a stable `extensions.code`.

use async_graphql::ErrorExtensions;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    BadUserInput,
    /// The read model did not reach the requested `minPosition` in time.
    StaleRead,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::StaleRead => "STALE_READ",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    pub fn error(self, message: impl Into<String>) -> async_graphql::Error {
        let code = self.as_str();
        async_graphql::Error::new(message).extend_with(|_, extensions| extensions.set("code", code))
    }
}

/// Database failures are logged and reported without their details.
pub fn database(error: sqlx::Error) -> async_graphql::Error {
    tracing::error!(%error, "read model query failed");
    ErrorCode::Unavailable.error("the read model is unavailable, try again")
}
