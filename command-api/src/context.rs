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

/// The echo of a client's own `X-Request-Id`.
pub const CLIENT_REQUEST_ID: &str = "x-client-request-id";

/// The correlation id of this request: always a new UUIDv7 of the server's, so that an auditor can
/// trust that one id names one flow (a client could otherwise give two flows the same id, or
/// claim another's). It is returned in `X-Request-Id`. What the client sent to identify the
/// request (`X-Request-Id`, `traceparent`'s trace id) is kept beside it in the events' metadata
/// as `clientRequestId` and `traceId`, and `X-Request-Id` is echoed as `X-Client-Request-Id`.
#[derive(Debug, Clone, Copy)]
pub struct CorrelationId(pub Uuid);

/// The client's references of the request, for the events' metadata.
#[derive(Debug, Clone, Default)]
struct ClientReferences(BTreeMap<String, String>);

fn from_traceparent(headers: &HeaderMap) -> Option<Uuid> {
    let value = headers.get("traceparent")?.to_str().ok()?;
    let mut parts = value.split('-');
    let (_version, trace_id) = (parts.next()?, parts.next()?);
    let id = u128::from_str_radix(trace_id, 16)
        .ok()
        .filter(|id| *id != 0 && trace_id.len() == 32)?;
    Some(Uuid::from_u128(id))
}

/// A client's `X-Request-Id`: up to 200 visible ASCII characters, else ignored.
fn client_request_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(REQUEST_ID)?.to_str().ok()?.trim();
    (!value.is_empty() && value.len() <= 200 && value.bytes().all(|b| b.is_ascii_graphic()))
        .then(|| value.to_owned())
}

fn client_references(headers: &HeaderMap) -> ClientReferences {
    let mut references = BTreeMap::new();
    if let Some(id) = client_request_id(headers) {
        references.insert("clientRequestId".to_owned(), id);
    }
    if let Some(trace) = from_traceparent(headers) {
        references.insert("traceId".to_owned(), trace.simple().to_string());
    }
    ClientReferences(references)
}

/// Middleware: settles the correlation id, opens the request's tracing span with it, and returns it.
pub async fn correlate(mut request: Request, next: Next) -> Response {
    let id = Uuid::now_v7();
    let references = client_references(request.headers());
    let echo = references.0.get("clientRequestId").cloned();
    request.extensions_mut().insert(CorrelationId(id));
    request.extensions_mut().insert(references);
    let span = tracing::info_span!("request", correlation_id = %id, method = %request.method(), path = %request.uri().path());
    let mut response = next.run(request).instrument(span).await;
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    if let Some(value) = echo.and_then(|e| HeaderValue::from_str(&e).ok()) {
        response.headers_mut().insert(CLIENT_REQUEST_ID, value);
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
        let mut extra = self.extra.clone();
        // The request's span, so that the work these events cause joins its trace.
        if let Some(traceparent) = adflow_telemetry::traces::current_traceparent() {
            extra.insert(
                adflow_telemetry::traces::TRACEPARENT.to_owned(),
                traceparent,
            );
        }
        EventMetadata {
            tenant_id: self.principal.tenant_id.0,
            actor: self.principal.actor(),
            correlation_id: self.correlation_id,
            causation_id: self.command_id,
            extra,
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
        if let Some(slot) = parts.extensions.get::<crate::access_log::CallerSlot>() {
            slot.fill(&principal);
        }
        // Before the body is read: a limited caller costs one statement per bucket.
        crate::rate_limit::check(&state.pool, state.limits, &principal).await?;
        let correlation_id = parts
            .extensions
            .get::<CorrelationId>()
            .map(|c| c.0)
            .unwrap_or_else(Uuid::now_v7);
        let mut extra = parts
            .extensions
            .get::<ClientReferences>()
            .cloned()
            .unwrap_or_default()
            .0;
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
    fn client_references_are_kept_beside_the_servers_correlation_id() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID, HeaderValue::from_static("crm-sync-42"));
        headers.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let references = client_references(&headers).0;
        assert_eq!(references["clientRequestId"], "crm-sync-42");
        assert_eq!(references["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
        let mut junk = HeaderMap::new();
        junk.insert("traceparent", HeaderValue::from_static("00-zz-00-01"));
        junk.insert(REQUEST_ID, HeaderValue::from_static("has spaces in it"));
        assert!(client_references(&junk).0.is_empty());
    }
}
