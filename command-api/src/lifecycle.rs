//! The campaign lifecycle over HTTP: schedule, structure requests and edits, approval, deployment,
//! and the running states. Results of outside work (generated structures, platform deployments)
//! come back through the same door with an admin service token.

use crate::body::JsonBody;
use crate::campaigns::edit;
use crate::context::CommandContext;
use crate::handling::{if_match, Executed};
use crate::problem::ApiError;
use crate::proposals::tenant_guardrails;
use crate::AppState;
use adflow_application::{Command, Expected};
use adflow_auth::Action;
use adflow_domain::audience::Audience;
use adflow_domain::campaign::{
    Campaign, CampaignCommand, PerformanceReported, PerformanceRow, Platform,
};
use adflow_domain::monitoring::{monitor_stream_id, CampaignMonitor, MonitorCommand};
use adflow_domain::performance::{CampaignPerformance, PerformanceCommand};
use adflow_domain::structure::CampaignStructure;
use adflow_domain::Violation;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScheduleRequest {
    /// `YYYY-MM-DD`, UTC.
    #[schemars(schema_with = "crate::contract::date")]
    pub start_date: String,
    #[schemars(schema_with = "crate::contract::date")]
    pub end_date: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StructureRequestRequest {
    #[serde(default)]
    pub instructions: Option<String>,
    /// A template key, for example `b2b-lead-generation`.
    #[serde(default)]
    pub template: Option<String>,
    /// The offer, landing page, seed keywords, markets and brand voice the generator works from.
    #[serde(default)]
    pub brief: Option<adflow_domain::campaign::brief::GenerationBrief>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EditStructureRequest {
    pub structure: CampaignStructure,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RejectRequest {
    pub reasons: Vec<String>,
}

/// The generator's answer to a structure request: a structure, or why there is none.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["structure"]}, {"required": ["failure"]}]))]
pub struct StructureResultRequest {
    #[serde(default)]
    pub model_version: Option<String>,
    #[serde(default)]
    pub structure: Option<CampaignStructure>,
    #[serde(default)]
    pub failure: Option<String>,
}

/// A platform gateway's answer to a deployment: the platform's id, or why it failed.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentResultRequest {
    #[serde(default)]
    pub external_id: Option<String>,
    /// Everything the deployment created, with the platform's ids (with `externalId`).
    #[serde(default)]
    pub resources: Vec<adflow_domain::campaign::ExternalResource>,
    #[serde(default)]
    pub failure: Option<DeploymentFailureRequest>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeploymentFailureRequest {
    pub reason: String,
    pub retryable: bool,
}

fn one_of_violation(path: &str) -> ApiError {
    ApiError::Invalid(vec![Violation {
        path: path.to_owned(),
        code: "one_of".into(),
        message: "send exactly one of the alternatives".into(),
    }])
}

pub async fn change_schedule(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<ScheduleRequest>,
) -> Result<Response, ApiError> {
    let command = CampaignCommand::ChangeSchedule {
        start_date: body.value.start_date,
        end_date: body.value.end_date,
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/schedule",
        &body.canonical,
        command,
    )
    .await
}

pub async fn request_structure(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<StructureRequestRequest>,
) -> Result<Response, ApiError> {
    let command = CampaignCommand::RequestStructure {
        request_id: Uuid::now_v7(),
        instructions: body.value.instructions,
        template: body.value.template,
        brief: body.value.brief,
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/structure-requests",
        &body.canonical,
        command,
    )
    .await
}

pub async fn structure_result(
    State(state): State<AppState>,
    Path((id, request_id)): Path<(String, String)>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<StructureResultRequest>,
) -> Result<Response, ApiError> {
    let request_id: Uuid = request_id.parse().map_err(|_| ApiError::NotFound)?;
    let result = body.value;
    let command = match (result.structure, result.failure) {
        (Some(structure), None) => CampaignCommand::AttachGeneratedStructure {
            request_id,
            model_version: result.model_version.unwrap_or_default(),
            structure,
            guardrails: tenant_guardrails(&state, &context).await?,
        },
        (None, Some(reason)) => CampaignCommand::FailStructureGeneration { request_id, reason },
        _ => return Err(one_of_violation("structure")),
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/structure-requests/result",
        &body.canonical,
        command,
    )
    .await
}

pub async fn edit_structure(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<EditStructureRequest>,
) -> Result<Response, ApiError> {
    let command = CampaignCommand::EditStructure {
        structure: body.value.structure,
        guardrails: tenant_guardrails(&state, &context).await?,
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/structure",
        &body.canonical,
        command,
    )
    .await
}

pub async fn reject_structure(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<RejectRequest>,
) -> Result<Response, ApiError> {
    let command = CampaignCommand::RejectStructure {
        reasons: body.value.reasons,
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/structure/reject",
        &body.canonical,
        command,
    )
    .await
}

pub async fn deployment_result(
    State(state): State<AppState>,
    Path((id, platform)): Path<(String, String)>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<DeploymentResultRequest>,
) -> Result<Response, ApiError> {
    let platform = Platform::parse(&platform.to_ascii_uppercase()).ok_or(ApiError::NotFound)?;
    let result = body.value;
    let command = match (result.external_id, result.failure) {
        (Some(external_id), None) => CampaignCommand::RecordDeployment {
            platform,
            external_id,
            resources: result.resources,
        },
        (None, Some(failure)) => CampaignCommand::RecordDeploymentFailure {
            platform,
            reason: failure.reason,
            retryable: failure.retryable,
        },
        _ => return Err(one_of_violation("externalId")),
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/deployments",
        &body.canonical,
        command,
    )
    .await
}

/// The steps without a body: `approve`, `deploy`, `activate`, `pause`, `resume`, `complete`, `archive`.
pub async fn step(
    State(state): State<AppState>,
    Path((id, step)): Path<(String, String)>,
    context: CommandContext,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let command = match step.as_str() {
        "approve" => CampaignCommand::ApproveStructure,
        "deploy" => CampaignCommand::RequestDeployment,
        "activate" => CampaignCommand::Activate,
        "pause" => CampaignCommand::Pause,
        "resume" => CampaignCommand::Resume,
        "complete" => CampaignCommand::Complete,
        "archive" => CampaignCommand::Archive,
        _ => return Err(ApiError::NotFound),
    };
    let route = format!("POST /v1/campaigns/{step}");
    edit(state, context, headers, id, &route, &[], command).await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AttachSegmentRequest {
    pub audience_id: String,
    pub segment_id: String,
}

/// Targets an audience segment of the same tenant; the campaign's rules decide with the segment's
/// current size estimate.
pub async fn attach_segment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<AttachSegmentRequest>,
) -> Result<Response, ApiError> {
    // The role first: the audience lookup below must not answer callers who may not do this.
    context.require(Action::ManageCampaigns, "target segments")?;
    let unknown = |path: &str, what: &str| {
        ApiError::Invalid(vec![Violation {
            path: path.to_owned(),
            code: "not_found".into(),
            message: format!("no such {what} in your tenant"),
        }])
    };
    let audience_id: Uuid = body
        .value
        .audience_id
        .parse()
        .map_err(|_| unknown("audienceId", "audience"))?;
    let segment_id: Uuid = body
        .value
        .segment_id
        .parse()
        .map_err(|_| unknown("segmentId", "segment"))?;
    let audience = state
        .application
        .load::<Audience>(context.principal.tenant_id, audience_id)
        .await?
        .state
        .ok_or_else(|| unknown("audienceId", "audience"))?;
    let segment = audience
        .segments
        .get(&segment_id)
        .ok_or_else(|| unknown("segmentId", "segment"))?;
    let command = CampaignCommand::AttachSegment {
        audience_id,
        segment_id,
        segment_size: segment.estimated_size,
    };
    edit(
        state,
        context,
        headers,
        id,
        "POST /v1/campaigns/segments",
        &body.canonical,
        command,
    )
    .await
}

/// A platform's performance report (service token). `reportId` makes a resend harmless.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PerformanceRequest {
    pub report_id: Uuid,
    pub platform: Platform,
    pub window_start: chrono::DateTime<chrono::Utc>,
    pub window_end: chrono::DateTime<chrono::Utc>,
    pub rows: Vec<PerformanceRow>,
}

/// Records a report in its campaign's day stream for the platform (not in the campaign's own
/// stream: a report changes nothing the campaign decides on, so the campaign's version stays and
/// `If-Match` is optional; when sent, it must still be the campaign's version). Answers the
/// campaign's id and version, and the report's log position (`null` when it was already recorded).
pub async fn report_performance(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<PerformanceRequest>,
) -> Result<Response, ApiError> {
    context.require(Action::RecordWorkResults, "do this")?;
    let campaign_id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let expected = match headers.get(axum::http::header::IF_MATCH) {
        Some(_) => Some(if_match(&headers)?),
        None => None,
    };
    let request = body.value;
    let report = PerformanceReported {
        report_id: request.report_id,
        granularity: Default::default(),
        platform: request.platform,
        window_start: request.window_start,
        window_end: request.window_end,
        rows: request.rows,
    };
    let tenant = context.principal.tenant_id;
    // The platform and day the report covers, for the campaign's monitor.
    let day = (report.platform, report.window_start.date_naive());
    let route = format!("POST /v1/campaigns/performance {campaign_id}");
    crate::idempotency::run_once(
        &state.pool,
        tenant.0,
        &headers,
        &route,
        &body.canonical,
        || async {
            let campaign = state
                .application
                .load::<Campaign>(tenant, campaign_id)
                .await?;
            let facts = campaign
                .state
                .as_ref()
                .ok_or(ApiError::NotFound)?
                .report_facts(report.report_id);
            if expected.is_some_and(|v| v != campaign.version) {
                return Err(ApiError::VersionConflict {
                    actual: campaign.version,
                });
            }
            let outcome = state
                .application
                .execute::<CampaignPerformance>(Command {
                    tenant,
                    aggregate_id: report.day_stream_id(campaign_id),
                    expected: Expected::Latest,
                    command: PerformanceCommand::Record {
                        restate: false,
                        campaign_id,
                        campaign: facts,
                        report,
                    },
                    metadata: context.metadata(),
                    once_per_cause: false,
                })
                .await?;
            if outcome.position().is_some() {
                // New figures: the campaign's monitor notes them, and an anomaly check follows.
                // The report is recorded either way; a lost note is made up by the next one.
                let note = state
                    .application
                    .execute::<CampaignMonitor>(Command {
                        tenant,
                        aggregate_id: monitor_stream_id(campaign_id),
                        expected: Expected::Latest,
                        command: MonitorCommand::RecordSync {
                            campaign_id,
                            platform: day.0,
                            from: day.1,
                            to: day.1,
                            recorded: 1,
                            restated: 0,
                        },
                        metadata: context.metadata(),
                        once_per_cause: false,
                    })
                    .await;
                if let Err(error) = note {
                    tracing::warn!(%error, %campaign_id, "the report is recorded; its anomaly check is not");
                }
            }
            Ok(Executed {
                id: campaign_id,
                version: campaign.version,
                position: outcome.position(),
            }
            .respond(StatusCode::OK))
        },
    )
    .await
}
