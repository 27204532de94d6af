//! A user's notification inbox over HTTP: where each kind of notice reaches the caller (in-app,
//! e-mail, Slack) and marking notices read. Every role may; each caller has one inbox of its own
//! (a token's subject, an API key), so nobody sets or reads another's.

use crate::body::JsonBody;
use crate::context::CommandContext;
use crate::idempotency::{run_once, CommandResponse};
use crate::problem::ApiError;
use crate::AppState;
use adflow_application::{Command, Expected};
use adflow_domain::notifications::{inbox_id, Channels, Inbox, InboxCommand, NoticeKind};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PreferencesRequest {
    /// Where e-mail goes; none: no e-mail. Kept sealed, erased with the user.
    #[serde(default)]
    #[schemars(schema_with = "crate::contract::email_address_or_null")]
    pub email: Option<String>,
    /// A Slack (or compatible) incoming-webhook URL; none: no Slack messages.
    #[serde(default)]
    #[schemars(schema_with = "crate::contract::webhook_url_or_null")]
    pub slack_webhook_url: Option<String>,
    /// Per kind of notice, the channels it goes to; kinds left out keep their defaults (in-app
    /// always; e-mail and Slack for all but APPROVAL_WAITING).
    #[serde(default)]
    pub channels: BTreeMap<NoticeKind, Channels>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MarkReadRequest {
    /// 1 to 500 notification ids from the GraphQL feed.
    #[schemars(length(min = 1, max = 500))]
    pub notification_ids: Vec<Uuid>,
}

/// What an inbox command answers.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboxUpdated {
    /// The caller's inbox.
    pub id: Uuid,
    pub version: u64,
    /// The log position of the change: pass it as `minPosition` to read it back.
    pub position: Option<String>,
}

async fn execute_on_inbox(
    state: &AppState,
    context: &CommandContext,
    command: InboxCommand,
) -> Result<CommandResponse, ApiError> {
    let inbox = inbox_id(&context.principal.actor());
    let outcome = state
        .application
        .execute::<Inbox>(Command {
            tenant: context.principal.tenant_id,
            aggregate_id: inbox,
            expected: Expected::Latest,
            command,
            metadata: context.metadata(),
            once_per_cause: false,
        })
        .await?;
    Ok(CommandResponse {
        status: StatusCode::OK,
        body: json!(InboxUpdated {
            id: inbox,
            version: outcome.version(),
            position: outcome.position().map(|p| p.to_string()),
        }),
        etag: None,
        replay_body: None,
    })
}

/// Sets the caller's notification preferences (replacing the previous ones).
pub async fn set_preferences(
    State(state): State<AppState>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<PreferencesRequest>,
) -> Result<Response, ApiError> {
    let request = body.value;
    // The same check as a webhook subscription's URL (and what the contract documents).
    if request
        .slack_webhook_url
        .as_deref()
        .is_some_and(|url| !crate::webhooks::receiver_url(url))
    {
        let mut violations = adflow_domain::Violations::new();
        violations.push(
            "slackWebhookUrl",
            "invalid",
            "must be an http or https URL with a host name, an optional port and a plain path",
        );
        return Err(ApiError::Invalid(violations.into_vec()));
    }
    let command = InboxCommand::SetPreferences {
        subject: context.principal.actor(),
        email: request.email,
        slack_webhook_url: request.slack_webhook_url,
        channels: request.channels,
    };
    let tenant = context.principal.tenant_id.0;
    run_once(
        &state.pool,
        tenant,
        &headers,
        "PUT /v1/notification-preferences",
        &body.canonical,
        || execute_on_inbox(&state, &context, command),
    )
    .await
}

/// Marks notices of the caller's feed read.
pub async fn mark_read(
    State(state): State<AppState>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<MarkReadRequest>,
) -> Result<Response, ApiError> {
    let command = InboxCommand::MarkRead {
        notification_ids: body.value.notification_ids,
    };
    let tenant = context.principal.tenant_id.0;
    run_once(
        &state.pool,
        tenant,
        &headers,
        "POST /v1/notifications/read",
        &body.canonical,
        || execute_on_inbox(&state, &context, command),
    )
    .await
}
