//! Campaign commands over HTTP.

use crate::body::JsonBody;
use crate::context::CommandContext;
use crate::handling::{edit_existing, execute, Target};
use crate::idempotency::run_once;
use crate::problem::ApiError;
use crate::AppState;
use adflow_auth::Action;
use adflow_domain::campaign::{Campaign, CampaignCommand, CreateCampaign};
use adflow_domain::CampaignId;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateCampaignRequest {
    #[schemars(schema_with = "crate::contract::name")]
    pub name: String,
    #[schemars(schema_with = "crate::contract::objective")]
    pub objective: String,
    #[schemars(schema_with = "crate::contract::platforms")]
    pub platforms: Vec<String>,
    /// ISO 4217 code of the account currency; `USD` when absent.
    #[serde(default = "usd")]
    #[schemars(schema_with = "crate::contract::currency")]
    pub currency: String,
    #[schemars(schema_with = "crate::contract::total_budget")]
    pub total_budget_micros: i64,
    /// `YYYY-MM-DD`, UTC.
    #[schemars(schema_with = "crate::contract::date")]
    pub start_date: String,
    #[schemars(schema_with = "crate::contract::date")]
    pub end_date: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RenameCampaignRequest {
    #[schemars(schema_with = "crate::contract::name")]
    pub name: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeBudgetRequest {
    #[schemars(schema_with = "crate::contract::total_budget")]
    pub total_budget_micros: i64,
}

fn usd() -> String {
    "USD".to_owned()
}

pub async fn create(
    State(state): State<AppState>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<CreateCampaignRequest>,
) -> Result<Response, ApiError> {
    context.require(Action::ManageCampaigns, "create campaigns")?;
    let tenant = context.principal.tenant_id;
    run_once(
        &state.pool,
        tenant.0,
        &headers,
        "POST /v1/campaigns",
        &body.canonical,
        || async {
            let id = Uuid::now_v7();
            let request = body.value;
            let command = CampaignCommand::Create(CreateCampaign {
                campaign_id: CampaignId(id),
                tenant_id: tenant,
                name: request.name,
                objective: request.objective,
                platforms: request.platforms,
                currency: request.currency,
                total_budget_micros: request.total_budget_micros,
                start_date: request.start_date,
                end_date: request.end_date,
            });
            let executed =
                execute::<Campaign>(&state.application, &context, id, None, command).await?;
            Ok(executed.respond(StatusCode::CREATED))
        },
    )
    .await
}

/// Runs `command` on an existing campaign (see [`edit_existing`]); outside work's results need the
/// service role.
pub(crate) async fn edit(
    state: AppState,
    context: CommandContext,
    headers: HeaderMap,
    raw_id: String,
    route: &str,
    raw_body: &[u8],
    command: CampaignCommand,
) -> Result<Response, ApiError> {
    let action = match command {
        CampaignCommand::AttachGeneratedStructure { .. }
        | CampaignCommand::FailStructureGeneration { .. }
        | CampaignCommand::RecordDeployment { .. }
        | CampaignCommand::RecordDeploymentFailure { .. }
        | CampaignCommand::ProposeOptimisation { .. } => Action::RecordWorkResults,
        _ => Action::ManageCampaigns,
    };
    let target = Target {
        raw_id,
        route,
        raw_body,
        action,
    };
    edit_existing::<Campaign>(state, context, headers, target, command).await
}

pub async fn rename(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<RenameCampaignRequest>,
) -> Result<Response, ApiError> {
    let command = CampaignCommand::Rename {
        name: body.value.name,
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/rename",
        &body.canonical,
        command,
    )
    .await
}

pub async fn change_budget(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<ChangeBudgetRequest>,
) -> Result<Response, ApiError> {
    let command = CampaignCommand::ChangeBudget {
        total_budget_micros: body.value.total_budget_micros,
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/budget",
        &body.canonical,
        command,
    )
    .await
}
