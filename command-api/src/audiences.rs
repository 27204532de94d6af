//! Audience commands over HTTP.

use crate::body::JsonBody;
use crate::context::CommandContext;
use crate::handling::execute;
use crate::idempotency::run_once;
use crate::problem::ApiError;
use crate::AppState;
use adflow_auth::Action;
use adflow_domain::audience::{Audience, AudienceCommand, DefineAudience};
use adflow_domain::AudienceId;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DefineAudienceRequest {
    pub name: String,
    pub criteria: CriteriaRequest,
}

/// Facet name → values. Within a facet values are OR'd; include facets are AND'd.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CriteriaRequest {
    pub include: BTreeMap<String, Vec<String>>,
    #[serde(default)]
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
        &body.raw,
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
                execute::<Audience>(state.store.as_ref(), &context, id, None, command).await?;
            Ok(executed.respond(StatusCode::CREATED))
        },
    )
    .await
}
