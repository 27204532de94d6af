//! Client documents are measured before async-graphql parses them: its parser recurses once per
//! nesting level, and a stack overflow aborts the whole process (see `adflow-input-limits`).
//! The extension covers every way in (HTTP and WebSocket); `read_request` also guards the HTTP
//! body's JSON before serde sees it.

use crate::errors::ErrorCode;
use adflow_input_limits::{InputLimitError, InputLimits};
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::{ServerError, ServerResult, Value};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Refuses documents and variables over the limits before anything parses or walks them.
pub struct InputGuard(pub InputLimits);

impl ExtensionFactory for InputGuard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(InputGuardExtension(self.0))
    }
}

struct InputGuardExtension(InputLimits);

#[async_trait::async_trait]
impl Extension for InputGuardExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: async_graphql::Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<async_graphql::Request> {
        check(&self.0, &request).map_err(server_error)?;
        next.run(ctx, request).await
    }
}

fn check(limits: &InputLimits, request: &async_graphql::Request) -> Result<(), InputLimitError> {
    limits.check_query(&request.query)?;
    let deepest = request
        .variables
        .values()
        .map(|value| value_nesting(value, limits.max_json_nesting))
        .max()
        .unwrap_or(0);
    if deepest > limits.max_json_nesting {
        return Err(InputLimitError::TooDeep {
            limit: limits.max_json_nesting,
        });
    }
    Ok(())
}

/// The nesting of a variable's value, without recursion (it may have come over a WebSocket,
/// where serde_json's own limit of 128 levels is the only one before this).
fn value_nesting(value: &Value, stop_above: usize) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(value, 0usize)];
    while let Some((value, depth)) = pending.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match value {
            Value::List(items) => Box::new(items.iter()),
            Value::Object(fields) => Box::new(fields.values()),
            _ => continue,
        };
        let depth = depth + 1;
        deepest = deepest.max(depth);
        if deepest > stop_above {
            return deepest;
        }
        pending.extend(children.map(|child| (child, depth)));
    }
    deepest
}

pub fn code(error: &InputLimitError) -> ErrorCode {
    match error {
        InputLimitError::TooLarge { .. } => ErrorCode::InputTooLarge,
        InputLimitError::TooDeep { .. } => ErrorCode::InputTooDeep,
    }
}

fn server_error(error: InputLimitError) -> ServerError {
    let mut server_error = ServerError::new(error.to_string(), None);
    server_error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code(&error).as_str());
    server_error
}

/// A request-level failure (no operation ran): `{"data": null, "errors": [{message, code}]}`.
pub fn request_error(status: StatusCode, code: ErrorCode, message: impl ToString) -> Response {
    let body = serde_json::json!({
        "data": null,
        "errors": [{ "message": message.to_string(), "extensions": { "code": code.as_str() } }]
    });
    (status, axum::Json(body)).into_response()
}

/// The body of `POST /graphql`: one operation as JSON, within the size and nesting limits.
pub async fn read_request(
    limits: &InputLimits,
    body: axum::body::Body,
) -> Result<async_graphql::Request, Response> {
    let bytes = axum::body::to_bytes(body, limits.max_request_bytes)
        .await
        .map_err(|_| {
            request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::InputTooLarge,
                format!(
                    "the request body is larger than {} bytes",
                    limits.max_request_bytes
                ),
            )
        })?;
    limits
        .check_json(&bytes)
        .map_err(|error| request_error(StatusCode::BAD_REQUEST, code(&error), error))?;
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(request_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "batched requests are not supported: send one operation per request",
        ));
    }
    serde_json::from_slice(&bytes).map_err(|error| {
        request_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            format!(
                "the request body must be a JSON object {{\"query\", \"variables\"?, \"operationName\"?}}: {error}"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_measured_without_recursion() {
        let mut value = Value::from(1);
        for _ in 0..100_000 {
            value = Value::List(vec![value]);
        }
        assert_eq!(value_nesting(&value, 32), 33);
        // Dropping the value recurses too; leak it rather than overflow the test's stack.
        std::mem::forget(value);
        let flat = Value::List(vec![Value::from(1), Value::List(vec![])]);
        assert_eq!(value_nesting(&flat, 32), 2);
    }
}
