//! Audience commands over HTTP.

use crate::body::JsonBody;
use crate::context::CommandContext;
use crate::handling::{edit_existing, execute, Target};
use crate::idempotency::run_once;
use crate::problem::ApiError;
use crate::AppState;
use adflow_auth::Action;
use adflow_domain::audience::{Audience, AudienceCommand, DefineAudience, Persona};
use adflow_domain::AudienceId;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefineAudienceRequest {
    #[schemars(schema_with = "crate::contract::name")]
    pub name: String,
    pub criteria: CriteriaRequest,
}

/// Facet name → values. Within a facet values are OR'd; include facets are AND'd.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CriteriaRequest {
    #[schemars(schema_with = "crate::contract::include_facets")]
    pub include: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    #[schemars(schema_with = "crate::contract::exclude_facets")]
    pub exclude: BTreeMap<String, Vec<String>>,
}

pub async fn define(
    State(state): State<AppState>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<DefineAudienceRequest>,
) -> Result<Response, ApiError> {
    context.require(Action::ManageAudiences, "define audiences")?;
    let tenant = context.principal.tenant_id;
    run_once(
        &state.pool,
        tenant.0,
        &headers,
        "POST /v1/audiences",
        &body.canonical,
        || async {
            let id = Uuid::now_v7();
            let request = body.value;
            let command = AudienceCommand::Define(DefineAudience {
                audience_id: AudienceId(id),
                tenant_id: tenant,
                name: request.name,
                include: request.criteria.include,
                exclude: request.criteria.exclude,
            });
            let executed =
                execute::<Audience>(&state.application, &context, id, None, command).await?;
            Ok(executed.respond(StatusCode::CREATED))
        },
    )
    .await
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddSegmentRequest {
    #[schemars(schema_with = "crate::contract::name")]
    pub name: String,
    pub criteria: CriteriaRequest,
    #[serde(default)]
    pub estimated_size: Option<u64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EstimateRequest {
    pub estimated_size: u64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PersonaRequest {
    #[schemars(schema_with = "crate::contract::name")]
    pub name: String,
    #[serde(default)]
    pub titles: Vec<String>,
    #[serde(default)]
    pub seniority: Option<String>,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub pains: Vec<String>,
    #[serde(default)]
    pub messaging_angles: Vec<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountListRequest {
    #[schemars(schema_with = "crate::contract::name")]
    pub name: String,
    /// `CONSENT`, `LEGITIMATE_INTEREST` or `CONTRACT`.
    #[schemars(schema_with = "crate::contract::lawful_basis")]
    pub lawful_basis: String,
    /// SHA-256 of each normalised identifier (lowercased, trimmed e-mail or domain), lowercase hex.
    pub hashed_identifiers: Vec<String>,
}

fn target<'a>(raw_id: String, route: &'a str, raw_body: &'a [u8]) -> Target<'a> {
    Target {
        raw_id,
        route,
        raw_body,
        action: Action::ManageAudiences,
    }
}

pub async fn add_segment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<AddSegmentRequest>,
) -> Result<Response, ApiError> {
    let request = body.value;
    let command = AudienceCommand::AddSegment {
        segment_id: Uuid::now_v7(),
        name: request.name,
        include: request.criteria.include,
        exclude: request.criteria.exclude,
        estimated_size: request.estimated_size,
    };
    let target = target(id, "POST /v1/audiences/segments", &body.canonical);
    edit_existing::<Audience>(state, context, headers, target, command).await
}

fn segment_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

pub async fn estimate_segment(
    State(state): State<AppState>,
    Path((id, segment)): Path<(String, String)>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<EstimateRequest>,
) -> Result<Response, ApiError> {
    let command = AudienceCommand::EstimateSegmentSize {
        segment_id: segment_id(&segment)?,
        estimated_size: body.value.estimated_size,
    };
    let target = target(id, "POST /v1/audiences/segments/estimate", &body.canonical);
    edit_existing::<Audience>(state, context, headers, target, command).await
}

pub async fn add_persona(
    State(state): State<AppState>,
    Path((id, segment)): Path<(String, String)>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<PersonaRequest>,
) -> Result<Response, ApiError> {
    let request = body.value;
    let command = AudienceCommand::AddPersona {
        segment_id: segment_id(&segment)?,
        persona: Persona {
            name: request.name,
            titles: request.titles,
            seniority: request.seniority,
            industry: request.industry,
            pains: request.pains,
            messaging_angles: request.messaging_angles,
        },
    };
    let target = target(id, "POST /v1/audiences/segments/personas", &body.canonical);
    edit_existing::<Audience>(state, context, headers, target, command).await
}

/// CRM account features for the segmentation model (no names, no identifiers).
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SegmentationRequest {
    pub accounts: Vec<adflow_domain::audience::CrmAccount>,
    /// At most this many segments (1 to 10); fewer when small ones must merge to be served.
    pub max_segments: u32,
}

pub async fn request_segmentation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<SegmentationRequest>,
) -> Result<Response, ApiError> {
    let request = body.value;
    let command = AudienceCommand::RequestSegmentation {
        request_id: Uuid::now_v7(),
        accounts: request.accounts,
        max_segments: request.max_segments,
    };
    let target = target(
        id,
        "POST /v1/audiences/segmentation-requests",
        &body.canonical,
    );
    edit_existing::<Audience>(state, context, headers, target, command).await
}

pub async fn import_account_list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<AccountListRequest>,
) -> Result<Response, ApiError> {
    let request = body.value;
    let command = AudienceCommand::ImportAccountList {
        list_id: Uuid::now_v7(),
        name: request.name,
        lawful_basis: request.lawful_basis,
        hashed_identifiers: request.hashed_identifiers,
    };
    let target = target(id, "POST /v1/audiences/account-lists", &body.canonical);
    edit_existing::<Audience>(state, context, headers, target, command).await
}
