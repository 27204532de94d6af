//! The tenant's ad-platform connections (Admin): connect an account with its OAuth2 refresh
//! token, test it, disconnect it. The log records which account was connected and by whom
//! (`PlatformConnected` on the tenant's settings stream); the token goes to the credential store,
//! encrypted, and is never echoed back.

use crate::body::JsonBody;
use crate::context::CommandContext;
use crate::idempotency::{run_once, CommandResponse};
use crate::problem::ApiError;
use crate::AppState;
use adflow_application::{Command, Expected};
use adflow_auth::Action;
use adflow_domain::campaign::Platform;
use adflow_domain::tenant::{TenantCommand, TenantSettings};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConnectRequest {
    /// Google: the customer id (`123-456-7890`); LinkedIn: the ad account id or its URN.
    pub account_id: String,
    /// Google: the manager account the access goes through.
    #[serde(default)]
    pub login_customer_id: Option<String>,
    /// The OAuth2 refresh token the account's owner granted. Stored encrypted; never shown again.
    pub refresh_token: String,
}

/// The answer of a connection test.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionTested {
    pub ok: bool,
    /// The account's name on the platform.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_name: Option<String>,
    /// Why the platform refused, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether trying again later may succeed.
    pub retryable: bool,
}

const MAX_SECRET_BYTES: usize = 4_096;

fn platform(raw: &str) -> Result<Platform, ApiError> {
    Platform::parse(&raw.to_ascii_uppercase()).ok_or(ApiError::NotFound)
}

fn platforms(state: &AppState) -> Result<&adflow_platforms::Platforms, ApiError> {
    state
        .platforms
        .as_deref()
        .ok_or_else(|| ApiError::Unavailable("no platform gateways are configured".into()))
}

async fn settle(
    state: &AppState,
    context: &CommandContext,
    command: TenantCommand,
) -> Result<CommandResponse, ApiError> {
    let tenant = context.principal.tenant_id;
    let outcome = state
        .application
        .execute::<TenantSettings>(Command {
            tenant,
            aggregate_id: tenant.0,
            expected: Expected::Latest,
            command,
            metadata: context.metadata(),
            once_per_cause: false,
        })
        .await?;
    Ok(crate::handling::Executed {
        id: tenant.0,
        version: outcome.version(),
        position: outcome.position(),
    }
    .respond(StatusCode::OK))
}

pub async fn connect(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<ConnectRequest>,
) -> Result<Response, ApiError> {
    context.require(Action::ManageSettings, "connect ad accounts")?;
    let platform = platform(&raw)?;
    let request = body.value;
    let token = request.refresh_token.trim().to_owned();
    if token.is_empty() || token.len() > MAX_SECRET_BYTES || token.chars().any(char::is_control) {
        return Err(ApiError::Invalid(vec![
            adflow_domain::violation::Violation {
                path: "/refreshToken".into(),
                code: "invalid".into(),
                message: format!("1 to {MAX_SECRET_BYTES} bytes without control characters"),
            },
        ]));
    }
    let platforms = platforms(&state)?;
    let tenant = context.principal.tenant_id;
    let command = TenantCommand::ConnectPlatform {
        platform,
        account_id: request.account_id,
        login_customer_id: request.login_customer_id,
    };
    run_once(
        &state.pool,
        tenant.0,
        &headers,
        "POST /v1/settings/platform-connections",
        &body.canonical,
        || async {
            // Checked before the secret is stored: an invalid account id stores nothing.
            let current = state
                .application
                .load::<TenantSettings>(tenant, tenant.0)
                .await?;
            <TenantSettings as adflow_domain::aggregate::Aggregate>::decide(
                current.state.as_ref(),
                &command,
                chrono::Utc::now(),
            )
            .map_err(|rejection| {
                ApiError::from(adflow_application::AppError::Rejected(rejection))
            })?;
            // The secret first: the event then names an account whose secret is there. A crash
            // between the two leaves an unreferenced secret, replaced by the next connect.
            platforms
                .credentials()
                .store(tenant.0, platform, &token)
                .await
                .map_err(|e| ApiError::Unavailable(e.to_string()))?;
            settle(&state, &context, command).await
        },
    )
    .await
}

pub async fn disconnect(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    context.require(Action::ManageSettings, "disconnect ad accounts")?;
    let platform = platform(&raw)?;
    let platforms = platforms(&state)?;
    let tenant = context.principal.tenant_id;
    run_once(
        &state.pool,
        tenant.0,
        &headers,
        "POST /v1/settings/platform-connections/disconnect",
        b"",
        || async {
            let response = settle(
                &state,
                &context,
                TenantCommand::DisconnectPlatform { platform },
            )
            .await?;
            platforms
                .credentials()
                .remove(tenant.0, platform)
                .await
                .map_err(|e| ApiError::Unavailable(e.to_string()))?;
            Ok(response)
        },
    )
    .await
}

/// Authenticates with the stored token (refreshing the access token) and reads the account.
pub async fn test(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    context: CommandContext,
) -> Result<Response, ApiError> {
    context.require(Action::ManageSettings, "test ad account connections")?;
    let platform = platform(&raw)?;
    let platforms = platforms(&state)?;
    let tenant = context.principal.tenant_id;
    let settings = state
        .application
        .load::<TenantSettings>(tenant, tenant.0)
        .await?;
    let connection = settings
        .state
        .as_ref()
        .and_then(|s| s.connections.get(&platform));
    if connection.is_none() {
        return Err(ApiError::NotFound);
    }
    let tested = match platforms.account(tenant.0, platform, connection).await {
        Err(error) => ConnectionTested {
            ok: false,
            account_name: None,
            retryable: error.retryable(),
            error: Some(error.to_string()),
        },
        Ok(account) => match platforms.gateway(platform).check(&account).await {
            Ok(name) => ConnectionTested {
                ok: true,
                account_name: Some(name),
                error: None,
                retryable: false,
            },
            Err(error) => ConnectionTested {
                ok: false,
                account_name: None,
                retryable: error.retryable(),
                error: Some(error.to_string()),
            },
        },
    };
    Ok((StatusCode::OK, axum::Json(tested)).into_response())
}
