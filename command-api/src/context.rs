//! The request-scoped facts every appended event carries: who (from the bearer token), which flow
//! (correlation id), and from where. They are gathered once at the edge, so no handler threads
//! them by hand.

use crate::problem::ApiError;
use crate::AppState;
use adflow_auth::{Action, Principal};
use adflow_event_store::EventMetadata;
use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use tracing::Instrument;
use uuid::Uuid;

pub const REQUEST_ID: &str = "x-request-id";

/// The correlation id of this request: from `traceparent` (its trace id), else from a UUID in
/// `X-Request-Id`, else a new UUIDv7. It is echoed back in `X-Request-Id`.
#[derive(Debug, Clone, Copy)]
pub struct CorrelationId(pub Uuid);

fn from_traceparent(headers: &HeaderMap) -> Option<Uuid> {
    let value = headers.get("traceparent")?.to_str().ok()?;
    let mut parts = value.split('-');
    let (_version, trace_id) = (parts.next()?, parts.next()?);
    let id = u128::from_str_radix(trace_id, 16)
        .ok()
        .filter(|id| *id != 0 && trace_id.len() == 32)?;
    Some(Uuid::from_u128(id))
}

fn correlation_id(headers: &HeaderMap) -> Uuid {
    from_traceparent(headers)
        .or_else(|| headers.get(REQUEST_ID)?.to_str().ok()?.trim().parse().ok())
        .unwrap_or_else(Uuid::now_v7)
}

/// Middleware: settles the correlation id, opens the request's tracing span with it, and returns it.
pub async fn correlate(mut request: Request, next: Next) -> Response {
    let id = correlation_id(request.headers());
    request.extensions_mut().insert(CorrelationId(id));
    let span = tracing::info_span!("request", correlation_id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// An authenticated request: the caller plus the audit facts for the events it causes.
pub struct CommandContext {
    pub principal: Principal,
    pub correlation_id: Uuid,
    /// Identifies this command; the events it appends name it as their causation.
    pub command_id: Uuid,
    extra: BTreeMap<String, String>,
}

impl CommandContext {
    pub fn require(&self, action: Action, what: &'static str) -> Result<(), ApiError> {
        if self.principal.role.may(action) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(what))
        }
    }

    pub fn metadata(&self) -> EventMetadata {
        EventMetadata {
            tenant_id: self.principal.tenant_id.0,
            actor: self.principal.actor(),
            correlation_id: self.correlation_id,
            causation_id: self.command_id,
            extra: self.extra.clone(),
        }
    }
}

impl FromRequestParts<AppState> for CommandContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let authorization = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let principal = match adflow_auth::parse_api_key(adflow_auth::bearer(authorization)?) {
            Some((key_id, secret)) => {
                crate::api_keys::authenticate(&state.pool, key_id, secret).await?
            }
            None => state.auth.authenticate(authorization)?,
        };
        // Before the body is read: a limited caller costs one statement per bucket.
        crate::rate_limit::check(&state.pool, state.limits, &principal).await?;
        let correlation_id = parts
            .extensions
            .get::<CorrelationId>()
            .map(|c| c.0)
            .unwrap_or_else(Uuid::now_v7);
        let mut extra = BTreeMap::new();
        if let Some(ConnectInfo(address)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            extra.insert("clientAddress".to_owned(), address.ip().to_string());
        }
        if let Some(agent) = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
        {
            extra.insert("userAgent".to_owned(), agent.chars().take(256).collect());
        }
        Ok(CommandContext {
            principal,
            correlation_id,
            command_id: Uuid::now_v7(),
            extra,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_correlation_id_comes_from_traceparent_then_request_id() {
        let mut headers = HeaderMap::new();
        headers.insert(
            REQUEST_ID,
            HeaderValue::from_static("0192f0c1-0000-7000-8000-000000000001"),
        );
        assert_eq!(
            correlation_id(&headers).to_string(),
            "0192f0c1-0000-7000-8000-000000000001"
        );
        headers.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        assert_eq!(
            correlation_id(&headers).simple().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        let mut junk = HeaderMap::new();
        junk.insert("traceparent", HeaderValue::from_static("00-zz-00-01"));
        junk.insert(REQUEST_ID, HeaderValue::from_static("not a uuid"));
        assert_eq!(correlation_id(&junk).get_version_num(), 7);
    }
}
