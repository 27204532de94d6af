//! Every error of the command API, and its RFC 9457 problem+json rendering. Each has a stable
//! `code`; validation problems list every invalid field as a JSON pointer.

use adflow_auth::AuthError;
use adflow_domain::{Rejection, Violation};
use adflow_event_store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    #[error("your role may not {0}")]
    Forbidden(&'static str),
    /// A signed push (an inbound webhook) whose signature or timestamp does not hold.
    #[error("{0}")]
    BadSignature(String),
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the request body nests arrays and objects more than {0} levels deep")]
    NestedTooDeep(usize),
    #[error("the request body must be application/json")]
    UnsupportedMediaType,
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the request is invalid")]
    Invalid(Vec<Violation>),
    #[error("{0}")]
    Rejected(Rejection),
    #[error("the resource does not exist")]
    NotFound,
    #[error("this resource does not accept that method")]
    MethodNotAllowed,
    #[error("this command needs If-Match with the version you last read")]
    PreconditionRequired,
    #[error("If-Match must be a version number, like \"3\"")]
    BadIfMatch,
    #[error("the aggregate is at version {actual}, not the version you sent")]
    VersionConflict { actual: u64 },
    #[error("Idempotency-Key must be 1 to 255 visible ASCII characters")]
    BadIdempotencyKey,
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still being processed")]
    IdempotencyKeyInFlight,
    #[error("too many commands; try again in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    #[error("a backing service is unavailable, try again")]
    Unavailable(String),
    #[error("internal error")]
    Internal(String),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::WrongExpectedVersion { actual, .. } => ApiError::VersionConflict { actual },
            StoreError::Unavailable(e) => ApiError::Unavailable(e),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<adflow_application::AppError> for ApiError {
    fn from(error: adflow_application::AppError) -> Self {
        use adflow_application::AppError;
        match error {
            AppError::Rejected(rejection) => ApiError::Rejected(rejection),
            AppError::NotFound => ApiError::NotFound,
            AppError::VersionConflict { actual } => ApiError::VersionConflict { actual },
            AppError::Contended { stream } => {
                ApiError::Unavailable(format!("{stream} is contended"))
            }
            AppError::CorruptHistory(why) => ApiError::Internal(why),
            AppError::Store(error) => error.into(),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        ApiError::Unavailable(error.to_string())
    }
}

/// An RFC 9457 problem document (`application/problem+json`); also the error schema of the OpenAPI
/// contract.
#[derive(Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: String,
    code: &'a str,
    /// Every invalid field (validation errors only; absent otherwise).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError<'a>>,
    /// The aggregate's version (version conflicts only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    current_version: Option<u64>,
}

#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct FieldError<'a> {
    /// JSON pointer into the request body.
    pointer: String,
    code: &'a str,
    detail: &'a str,
}

impl ApiError {
    pub fn status_and_code(&self) -> (StatusCode, &'static str, &'static str) {
        use ApiError::*;
        match self {
            Unauthenticated(_) => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Authentication required",
            ),
            Forbidden(_) => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not allowed for your role",
            ),
            BadSignature(_) => (
                StatusCode::UNAUTHORIZED,
                "bad_signature",
                "Signature not verified",
            ),
            MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json", "Malformed JSON"),
            NestedTooDeep(_) => (
                StatusCode::BAD_REQUEST,
                "json_too_deep",
                "JSON nested too deep",
            ),
            UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Unsupported media type",
            ),
            PayloadTooLarge(_) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "Payload too large",
            ),
            Invalid(_) | Rejected(Rejection::Invalid(_)) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Validation failed",
            ),
            Rejected(Rejection::AlreadyExists { .. }) => {
                (StatusCode::CONFLICT, "already_exists", "Already exists")
            }
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "Method not allowed",
            ),
            Rejected(Rejection::IllegalTransition { .. }) => (
                StatusCode::CONFLICT,
                "illegal_transition",
                "Not possible now",
            ),
            Rejected(Rejection::NotFound { .. }) | NotFound => {
                (StatusCode::NOT_FOUND, "not_found", "Not found")
            }
            PreconditionRequired => (
                StatusCode::PRECONDITION_REQUIRED,
                "if_match_required",
                "If-Match required",
            ),
            BadIfMatch => (StatusCode::BAD_REQUEST, "bad_if_match", "Bad If-Match"),
            VersionConflict { .. } => {
                (StatusCode::CONFLICT, "version_conflict", "Version conflict")
            }
            BadIdempotencyKey => (
                StatusCode::BAD_REQUEST,
                "bad_idempotency_key",
                "Bad Idempotency-Key",
            ),
            IdempotencyKeyReused => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "Idempotency-Key reused",
            ),
            IdempotencyKeyInFlight => (
                StatusCode::CONFLICT,
                "idempotency_key_in_flight",
                "Request in flight",
            ),
            RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests",
            ),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error",
            ),
        }
    }
}

fn pointer(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("/{path}")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, title) = self.status_and_code();
        // Infrastructure details go to the log, not to the client.
        let detail = match &self {
            ApiError::Unavailable(e) | ApiError::Internal(e) => {
                tracing::error!(error = %e, code, "request failed");
                self.to_string()
            }
            ApiError::Rejected(Rejection::Invalid(_)) => {
                "the command breaks the rules listed in errors".into()
            }
            other => other.to_string(),
        };
        let violations: &[Violation] = match &self {
            ApiError::Invalid(v) => v,
            ApiError::Rejected(Rejection::Invalid(v)) => v.as_slice(),
            _ => &[],
        };
        let problem = Problem {
            kind: format!("https://adflow.dev/problems/{code}"),
            title,
            status: status.as_u16(),
            detail,
            code,
            errors: violations
                .iter()
                .map(|v| FieldError {
                    pointer: pointer(&v.path),
                    code: &v.code,
                    detail: &v.message,
                })
                .collect(),
            current_version: match self {
                ApiError::VersionConflict { actual } => Some(actual),
                _ => None,
            },
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .extensions_mut()
            .insert(crate::access_log::Refusal {
                code,
                reasons: problem
                    .errors
                    .iter()
                    .map(|e| format!("{} {}", e.pointer, e.code))
                    .collect(),
            });
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if matches!(self, ApiError::Unauthenticated(_)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let ApiError::RateLimited {
            retry_after_seconds,
        } = self
        {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        if matches!(self, ApiError::PayloadTooLarge(_)) {
            // The rest of the body was never read: tell the client not to reuse this connection.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        if matches!(
            self,
            ApiError::IdempotencyKeyInFlight | ApiError::Unavailable(_)
        ) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
