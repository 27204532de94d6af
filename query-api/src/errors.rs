//! GraphQL errors with a stable `extensions.code`.

use async_graphql::{ErrorExtensions, ServerError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    /// The caller's role may not read this field (see the role table in `auth`).
    Forbidden,
    BadUserInput,
    /// The read model did not reach the requested `minPosition` in time.
    StaleRead,
    Unavailable,
    Internal,
    /// The document is not GraphQL.
    ParseFailed,
    /// The document does not fit the schema (unknown field, wrong argument type...).
    ValidationFailed,
    /// Refused before execution: deeper than the schema's depth limit.
    QueryTooDeep,
    /// Refused before execution: more than the schema's complexity limit.
    QueryTooComplex,
    /// Refused before parsing: the body or the document is larger than the configured limit.
    InputTooLarge,
    /// Refused before parsing: the document or its variables nest deeper than the limit.
    InputTooDeep,
    /// The HTTP request is not one GraphQL operation as JSON (malformed JSON, a batch).
    BadRequest,
    /// The caller (or its tenant) sent more requests than its limit per minute; see
    /// `Retry-After`.
    RateLimited,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::StaleRead => "STALE_READ",
            ErrorCode::Unavailable => "UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
            ErrorCode::ParseFailed => "GRAPHQL_PARSE_FAILED",
            ErrorCode::ValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            ErrorCode::QueryTooDeep => "QUERY_TOO_DEEP",
            ErrorCode::QueryTooComplex => "QUERY_TOO_COMPLEX",
            ErrorCode::InputTooLarge => "INPUT_TOO_LARGE",
            ErrorCode::InputTooDeep => "INPUT_TOO_DEEP",
            ErrorCode::BadRequest => "BAD_REQUEST",
            ErrorCode::RateLimited => "RATE_LIMITED",
        }
    }

    pub fn error(self, message: impl Into<String>) -> async_graphql::Error {
        let code = self.as_str();
        async_graphql::Error::new(message).extend_with(|_, extensions| extensions.set("code", code))
    }
}

/// Codes every response's errors, over HTTP and over WebSocket alike (`with_codes`).
pub struct CodedErrors;

impl async_graphql::extensions::ExtensionFactory for CodedErrors {
    fn create(&self) -> std::sync::Arc<dyn async_graphql::extensions::Extension> {
        std::sync::Arc::new(CodedErrors)
    }
}

#[async_trait::async_trait]
impl async_graphql::extensions::Extension for CodedErrors {
    async fn request(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        next: async_graphql::extensions::NextRequest<'_>,
    ) -> async_graphql::Response {
        let mut response = next.run(ctx).await;
        with_codes(&mut response.errors);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &async_graphql::extensions::ExtensionContext<'_>,
        stream: futures_util::stream::BoxStream<'s, async_graphql::Response>,
        next: async_graphql::extensions::NextSubscribe<'_>,
    ) -> futures_util::stream::BoxStream<'s, async_graphql::Response> {
        use futures_util::StreamExt;
        next.run(ctx, stream)
            .map(|mut response| {
                with_codes(&mut response.errors);
                response
            })
            .boxed()
    }
}

/// Gives the errors async-graphql raises itself (parsing, validation, limits) a code too, so a
/// client can rely on `extensions.code` being present on every error.
fn with_codes(errors: &mut [ServerError]) {
    for error in errors {
        let coded = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if coded {
            continue;
        }
        // Values that do not fit their type (an impossible date, "abc" for a Long, an enum value
        // that does not exist) are the client's mistakes, wherever async-graphql noticed them.
        let bad_input = [
            "Failed to parse",
            "Invalid value for argument",
            "Invalid value for variable",
        ]
        .iter()
        .any(|marker| error.message.contains(marker));
        let code = if bad_input {
            ErrorCode::BadUserInput
        } else if error.message.contains("nested too deep") {
            ErrorCode::QueryTooDeep
        } else if error.message.contains("too complex") {
            ErrorCode::QueryTooComplex
        } else if error.message.contains(" --> ") {
            ErrorCode::ParseFailed
        } else if error.path.is_empty() {
            ErrorCode::ValidationFailed
        } else {
            ErrorCode::Internal
        };
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("code", code.as_str());
    }
}

/// Database failures are logged and reported without their details.
pub fn database(error: sqlx::Error) -> async_graphql::Error {
    tracing::error!(%error, "read model query failed");
    ErrorCode::Unavailable.error("the read model is unavailable, try again")
}

/// ClickHouse failures likewise.
pub fn analytics(error: adflow_projections::ProjectionError) -> async_graphql::Error {
    tracing::error!(%error, "analytics query failed");
    ErrorCode::Unavailable.error("analytics are unavailable, try again")
}
