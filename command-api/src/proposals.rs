//! Optimisation proposals and the tenant's guardrails over HTTP. Models (with a service token)
//! propose; people approve or decline; the tenant's admins set the guardrails.

use crate::body::JsonBody;
use crate::campaigns::edit;
use crate::context::CommandContext;
use crate::handling::execute;
use crate::idempotency::run_once;
use crate::problem::ApiError;
use crate::AppState;
use adflow_auth::Action;
use adflow_domain::campaign::{CampaignCommand, Guardrails, ProposedAction};
use adflow_domain::tenant::{TenantCommand, TenantSettings};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GuardrailsRequest {
    pub auto_apply: bool,
    pub min_confidence_basis_points: u32,
    pub max_daily_budget_change_basis_points: u32,
    #[serde(default)]
    pub max_daily_spend_micros: Option<i64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProposalRequest {
    /// `{"kind": "PAUSE"}`, `{"kind": "RESUME"}` or `{"kind": "CHANGE_BUDGET", "totalBudgetMicros": …}`.
    pub action: ProposedAction,
    pub reason: String,
    pub confidence_basis_points: u32,
    pub model_version: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeclineRequest {
    pub reason: String,
}

/// Sets the caller's tenant's guardrails (Admin). The settings stream is keyed by the tenant id.
pub async fn set_guardrails(
    State(state): State<AppState>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<GuardrailsRequest>,
) -> Result<Response, ApiError> {
    let request = body.value;
    let command = TenantCommand::SetGuardrails(Guardrails {
        auto_apply: request.auto_apply,
        min_confidence_basis_points: request.min_confidence_basis_points,
        max_daily_budget_change_basis_points: request.max_daily_budget_change_basis_points,
        max_daily_spend_micros: request.max_daily_spend_micros,
    });
    set_tenant_setting(
        state,
        context,
        headers,
        "POST /v1/settings/guardrails",
        &body.canonical,
        command,
    )
    .await
}

/// A tenant-wide setting (Admin): on the settings stream, keyed by the tenant id; once per
/// `Idempotency-Key`.
pub(crate) async fn set_tenant_setting(
    state: AppState,
    context: CommandContext,
    headers: HeaderMap,
    route: &str,
    canonical: &[u8],
    command: TenantCommand,
) -> Result<Response, ApiError> {
    context.require(Action::ManageSettings, "change the tenant's settings")?;
    let tenant = context.principal.tenant_id;
    run_once(
        &state.pool,
        tenant.0,
        &headers,
        route,
        canonical,
        || async {
            let executed =
                execute::<TenantSettings>(&state.application, &context, tenant.0, None, command)
                    .await?;
            Ok(executed.respond(StatusCode::OK))
        },
    )
    .await
}

pub async fn propose(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<ProposalRequest>,
) -> Result<Response, ApiError> {
    let guardrails = tenant_guardrails(&state, &context).await?;
    let request = body.value;
    let command = CampaignCommand::ProposeOptimisation {
        proposal_id: Uuid::now_v7(),
        action: request.action,
        reason: request.reason,
        confidence_basis_points: request.confidence_basis_points,
        model_version: request.model_version,
        guardrails,
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/proposals",
        &body.canonical,
        command,
    )
    .await
}

/// The caller's tenant's guardrails (the defaults when it never set any).
pub(crate) async fn tenant_guardrails(
    state: &AppState,
    context: &CommandContext,
) -> Result<Guardrails, ApiError> {
    Ok(state
        .application
        .guardrails(context.principal.tenant_id)
        .await?)
}

fn proposal_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

pub async fn approve(
    State(state): State<AppState>,
    Path((id, proposal)): Path<(String, String)>,
    context: CommandContext,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let command = CampaignCommand::ApproveProposal {
        proposal_id: proposal_id(&proposal)?,
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/proposals/approve",
        &[],
        command,
    )
    .await
}

pub async fn decline(
    State(state): State<AppState>,
    Path((id, proposal)): Path<(String, String)>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<DeclineRequest>,
) -> Result<Response, ApiError> {
    let command = CampaignCommand::DeclineProposal {
        proposal_id: proposal_id(&proposal)?,
        reason: body.value.reason,
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/proposals/decline",
        &body.canonical,
        command,
    )
    .await
}
