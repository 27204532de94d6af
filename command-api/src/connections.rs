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

/// A Google Ads customer to connect.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoogleConnectRequest {
    /// The customer id (`123-456-7890`).
    #[schemars(schema_with = "crate::contract::google_customer_id")]
    pub account_id: String,
    /// The manager account access goes through, if any.
    #[serde(default)]
    #[schemars(schema_with = "crate::contract::google_login_customer_id")]
    pub login_customer_id: Option<String>,
    #[schemars(schema_with = "crate::contract::refresh_token")]
    pub refresh_token: String,
}

/// A LinkedIn ad account to connect.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkedInConnectRequest {
    /// The ad account's id, or its URN (`urn:li:sponsoredAccount:510000001`).
    #[schemars(schema_with = "crate::contract::linkedin_ad_account")]
    pub account_id: String,
    #[schemars(schema_with = "crate::contract::refresh_token")]
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

pub const MAX_SECRET_CHARS: usize = 4_096;

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

pub async fn connect_google(
    State(state): State<AppState>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<GoogleConnectRequest>,
) -> Result<Response, ApiError> {
    let request = body.value;
    let command = TenantCommand::ConnectPlatform {
        platform: Platform::Google,
        account_id: request.account_id,
        login_customer_id: request.login_customer_id,
    };
    connect(
        state,
        context,
        headers,
        &body.canonical,
        command,
        &request.refresh_token,
    )
    .await
}

pub async fn connect_linkedin(
    State(state): State<AppState>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<LinkedInConnectRequest>,
) -> Result<Response, ApiError> {
    let request = body.value;
    let command = TenantCommand::ConnectPlatform {
        platform: Platform::Linkedin,
        account_id: request.account_id,
        login_customer_id: None,
    };
    connect(
        state,
        context,
        headers,
        &body.canonical,
        command,
        &request.refresh_token,
    )
    .await
}

async fn connect(
    state: AppState,
    context: CommandContext,
    headers: HeaderMap,
    canonical: &[u8],
    command: TenantCommand,
    refresh_token: &str,
) -> Result<Response, ApiError> {
    context.require(Action::ManageSettings, "connect ad accounts")?;
    let TenantCommand::ConnectPlatform { platform, .. } = command else {
        return Err(ApiError::NotFound);
    };
    let token = refresh_token.trim().to_owned();
    if token.is_empty()
        || token.chars().count() > MAX_SECRET_CHARS
        || token.chars().any(char::is_control)
    {
        return Err(ApiError::Invalid(vec![
            adflow_domain::violation::Violation {
                path: "refreshToken".into(),
                code: "invalid".into(),
                message: format!("1 to {MAX_SECRET_CHARS} characters without control characters"),
            },
        ]));
    }
    let platforms = platforms(&state)?;
    let tenant = context.principal.tenant_id;
    let route = format!(
        "POST /v1/settings/platform-connections/{}",
        platform.as_str()
    );
    run_once(
        &state.pool,
        tenant.0,
        &headers,
        &route,
        canonical,
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
