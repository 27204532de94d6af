//! Load → decide → append, the same for every aggregate.

use crate::context::CommandContext;
use crate::idempotency::CommandResponse;
use crate::problem::ApiError;
use adflow_application::{Application, Command, Expected};
use adflow_domain::aggregate::Aggregate;
use adflow_event_store::Position;
use axum::http::{HeaderMap, StatusCode};
use serde_json::json;
use uuid::Uuid;

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

/// Runs `command` against aggregate `id` of the caller's tenant through the application layer.
/// `expected` is the client's If-Match version (`None` for creation).
pub async fn execute<A: Aggregate>(
    application: &Application,
    context: &CommandContext,
    id: Uuid,
    expected: Option<u64>,
    command: A::Command,
) -> Result<Executed, ApiError>
where
    A::State: Clone + Send + Sync + 'static,
{
    let outcome = application
        .execute::<A>(Command {
            tenant: context.principal.tenant_id,
            aggregate_id: id,
            expected: expected.map_or(Expected::Creation, Expected::Version),
            command,
            metadata: context.metadata(),
            once_per_cause: false,
        })
        .await?;
    Ok(Executed {
        id,
        version: outcome.version(),
        position: outcome.position(),
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
    A::State: Clone + Send + Sync + 'static,
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
                execute::<A>(&state.application, &context, id, Some(expected), command).await?;
            Ok(executed.respond(StatusCode::OK))
        },
    )
    .await
}
