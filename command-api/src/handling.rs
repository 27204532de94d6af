//! Load → decide → append, the same for every aggregate.

use crate::context::CommandContext;
use crate::idempotency::CommandResponse;
use crate::problem::ApiError;
use adflow_domain::aggregate::{stream_name, Aggregate};
use adflow_domain::DomainEvent;
use adflow_event_store::{EventStore, ExpectedVersion, NewEvent, Position};
use axum::http::{HeaderMap, StatusCode};
use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

const PAGE: usize = 500;

/// The version the client last read, from `If-Match` (`3`, `"3"` or `W/"3"`).
pub fn if_match(headers: &HeaderMap) -> Result<u64, ApiError> {
    let value = headers
        .get(axum::http::header::IF_MATCH)
        .ok_or(ApiError::PreconditionRequired)?
        .to_str()
        .map_err(|_| ApiError::BadIfMatch)?
        .trim();
    let value = value.strip_prefix("W/").unwrap_or(value).trim_matches('"');
    value.parse().map_err(|_| ApiError::BadIfMatch)
}

pub fn etag(version: u64) -> String {
    format!("\"{version}\"")
}

/// Where a command landed.
pub struct Executed {
    pub id: Uuid,
    pub version: u64,
    /// `None` when the command changed nothing.
    pub position: Option<Position>,
}

impl Executed {
    pub fn respond(self, status: StatusCode) -> CommandResponse {
        CommandResponse {
            status,
            body: json!({
                "id": self.id,
                "version": self.version,
                "position": self.position.map(|p| p.to_string()),
            }),
            etag: Some(etag(self.version)),
            replay_body: None,
        }
    }
}

/// The current state and version of one aggregate's stream (`None`, 0 when it has no events).
pub async fn load<A: Aggregate>(
    store: &dyn EventStore,
    stream: &str,
) -> Result<(Option<A::State>, u64), ApiError> {
    let mut history = Vec::new();
    let mut version = 0;
    loop {
        let page = store.read_stream(stream, version + 1, PAGE).await?;
        let full = page.len() == PAGE;
        for recorded in page {
            version = recorded.stream_version;
            let event = A::Event::from_payload(
                &recorded.event_type,
                recorded.schema_version,
                &recorded.data,
            )
            .map_err(|e| ApiError::Internal(format!("{stream}@{version}: {e}")))?;
            history.push(event);
        }
        if !full {
            break;
        }
    }
    let state =
        A::fold(history.iter()).map_err(|e| ApiError::Internal(format!("{stream}: {e}")))?;
    Ok((state, version))
}

/// Runs `command` against aggregate `id` of the caller's tenant. `expected` is the client's
/// If-Match version (`None` for creation, which expects no stream).
pub async fn execute<A: Aggregate>(
    store: &dyn EventStore,
    context: &CommandContext,
    id: Uuid,
    expected: Option<u64>,
    command: A::Command,
) -> Result<Executed, ApiError> {
    let stream = stream_name::<A>(context.principal.tenant_id, id);
    let (state, version) = load::<A>(store, &stream).await?;
    if let Some(expected) = expected {
        if version == 0 {
            return Err(ApiError::NotFound);
        }
        if expected != version {
            return Err(ApiError::VersionConflict { actual: version });
        }
    }
    let decided = A::decide(state.as_ref(), &command, Utc::now()).map_err(ApiError::Rejected)?;
    if decided.is_empty() {
        return Ok(Executed {
            id,
            version,
            position: None,
        });
    }
    let metadata = context.metadata();
    let events = decided
        .iter()
        .map(|event| {
            let payload = event.to_payload();
            NewEvent {
                event_id: Uuid::now_v7(),
                event_type: payload.event_type.to_owned(),
                schema_version: payload.schema_version,
                data: payload.data,
                metadata: metadata.clone(),
            }
        })
        .collect();
    let outcome = store
        .append(&stream, ExpectedVersion::Exact(version), events)
        .await?;
    tracing::info!(%stream, version = outcome.stream_version, position = %outcome.position, "appended");
    Ok(Executed {
        id,
        version: outcome.stream_version,
        position: Some(outcome.position),
    })
}

/// Which existing aggregate a command targets, and what the caller must be allowed to do.
pub struct Target<'a> {
    /// The id from the path, as typed (a malformed id is a 404).
    pub raw_id: String,
    /// Names the command in the idempotency fingerprint.
    pub route: &'a str,
    pub raw_body: &'a [u8],
    pub action: adflow_auth::Action,
}

/// A command to an existing aggregate: role check, `If-Match`, `Idempotency-Key`, then load →
/// decide → append; answers `200 {id, version, position}` with the new `ETag`.
pub async fn edit_existing<A: Aggregate>(
    state: crate::AppState,
    context: CommandContext,
    headers: HeaderMap,
    target: Target<'_>,
    command: A::Command,
) -> Result<axum::response::Response, ApiError>
where
    A::Command: Send,
{
    context.require(target.action, "do this")?;
    let id: Uuid = target.raw_id.parse().map_err(|_| ApiError::NotFound)?;
    let expected = if_match(&headers)?;
    let route = format!("{} {id}", target.route);
    crate::idempotency::run_once(
        &state.pool,
        context.principal.tenant_id.0,
        &headers,
        &route,
        target.raw_body,
        || async {
            let executed =
                execute::<A>(state.store.as_ref(), &context, id, Some(expected), command).await?;
            Ok(executed.respond(StatusCode::OK))
        },
    )
    .await
}
