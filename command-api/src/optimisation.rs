//! Optimisation over HTTP: a run on demand (the seeds' `/campaigns/:id/optimize`), answered by the
//! optimiser as events on the campaign's monitor stream, and the tenant's decision rules (Admin).

use crate::body::JsonBody;
use crate::context::CommandContext;
use crate::idempotency::{run_once, CommandResponse};
use crate::problem::ApiError;
use crate::AppState;
use adflow_application::{Command, Expected};
use adflow_auth::Action;
use adflow_domain::campaign::Campaign;
use adflow_domain::monitoring::{monitor_stream_id, CampaignMonitor, MonitorCommand};
use adflow_domain::optimisation::runs::RunTrigger;
use adflow_domain::optimisation::{DecisionRules, SelfApplying};
use adflow_domain::tenant::TenantCommand;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DecisionRulesRequest {
    /// A campaign scoring below this probability (basis points) of beating the target cost per
    /// conversion is proposed for a pause (default 3000).
    pub pause_below_basis_points: u32,
    /// A budget-limited campaign scoring above it is proposed a bigger daily budget (default 8000).
    pub scale_above_basis_points: u32,
    /// Size of one budget or bid step (default 2000 = 20 %).
    pub budget_step_basis_points: u32,
    /// Clicks in the last 7 days before anything is judged (default 100).
    pub min_clicks: u32,
    /// Week-over-week fall of conversions per unit of spend that counts as a decline (default 2000).
    pub decline_basis_points: u32,
    /// Share of a declining line's daily budget one reallocation moves (default 1500).
    pub reallocation_basis_points: u32,
    /// The cost per conversion aimed at; without it no pause or resume is proposed.
    #[serde(default)]
    pub target_cost_per_conversion_micros: Option<i64>,
    /// Which kinds may apply themselves within the guardrails (default: all but resume).
    #[serde(default)]
    pub self_applying: Option<SelfApplying>,
}

/// The answer to a run request.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunAccepted {
    pub run_id: Uuid,
    pub campaign_id: Uuid,
    /// The log position of `OptimisationRunRequested`.
    pub position: Option<String>,
}

/// Sets the caller's tenant's decision rules (Admin).
pub async fn set_decision_rules(
    State(state): State<AppState>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<DecisionRulesRequest>,
) -> Result<Response, ApiError> {
    let r = body.value;
    let command = TenantCommand::SetDecisionRules(DecisionRules {
        pause_below_basis_points: r.pause_below_basis_points,
        scale_above_basis_points: r.scale_above_basis_points,
        budget_step_basis_points: r.budget_step_basis_points,
        min_clicks: r.min_clicks,
        decline_basis_points: r.decline_basis_points,
        reallocation_basis_points: r.reallocation_basis_points,
        target_cost_per_conversion_micros: r.target_cost_per_conversion_micros,
        self_applying: r.self_applying.unwrap_or_default(),
    });
    crate::proposals::set_tenant_setting(
        state,
        context,
        headers,
        "POST /v1/settings/decision-rules",
        &body.canonical,
        command,
    )
    .await
}

/// Asks the optimiser to look at a campaign now: `202 {runId, campaignId, position}`. The answer
/// (`OptimisationRunCompleted`: proposals, or nothing to change) follows on the campaign's
/// `optimizationRuns` in GraphQL.
pub async fn request_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    context.require(Action::ManageCampaigns, "ask for an optimisation run")?;
    let campaign_id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let tenant = context.principal.tenant_id;
    let route = format!("POST /v1/campaigns/optimization-runs {campaign_id}");
    run_once(&state.pool, tenant.0, &headers, &route, &[], || async {
        let campaign = state
            .application
            .load::<Campaign>(tenant, campaign_id)
            .await?;
        if campaign.state.is_none() {
            return Err(ApiError::NotFound);
        }
        let run_id = Uuid::now_v7();
        let outcome = state
            .application
            .execute::<CampaignMonitor>(Command {
                tenant,
                aggregate_id: monitor_stream_id(campaign_id),
                expected: Expected::Latest,
                command: MonitorCommand::RequestRun {
                    campaign_id,
                    run_id,
                    trigger: RunTrigger::OnDemand,
                },
                metadata: context.metadata(),
                once_per_cause: false,
            })
            .await?;
        Ok(CommandResponse {
            status: StatusCode::ACCEPTED,
            body: json!(RunAccepted {
                run_id,
                campaign_id,
                position: outcome.position().map(|p| p.to_string()),
            }),
            etag: None,
            replay_body: None,
        })
    })
    .await
}
