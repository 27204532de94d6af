//! Inbound webhooks: platforms and CRMs push lead-form submissions and offline conversions.
//! An Admin creates an endpoint per source (`POST /v1/inbound-endpoints`, its secret shown once);
//! the sender POSTs to `/v1/inbound/{endpoint}` signed the Standard Webhooks way (`webhook-id`,
//! `webhook-timestamp` within five minutes, `webhook-signature`). A message id seen before is
//! answered as a duplicate and records nothing; what a message carries becomes an event of the
//! campaign's inbound ledger through the one write path (which records each lead or deal id once).
//!
//! The receiver takes no bearer token: the signature is its authentication.

use crate::body::JsonBody;
use crate::context::CommandContext;
use crate::problem::ApiError;
use crate::AppState;
use adflow_application::{Command, Expected};
use adflow_auth::Action;
use adflow_domain::campaign::Campaign;
use adflow_domain::inbound::{inbound_stream_id, InboundCommand, InboundLedger, LeadSource};
use adflow_domain::{TenantId, Violations};
use adflow_event_store::EventMetadata;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InboundEndpointRequest {
    /// Who pushes to it.
    pub source: LeadSource,
}

/// A new endpoint: where to push, and the secret to sign with (shown in this answer only).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboundEndpointCreated {
    pub id: Uuid,
    /// `/v1/inbound/{id}` on this API.
    pub path: String,
    pub secret: String,
}

/// One pushed message.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase", deny_unknown_fields)]
enum Pushed {
    #[serde(rename = "lead.submitted")]
    Lead {
        campaign_id: Uuid,
        lead_id: String,
        form_id: String,
        submitted_at: DateTime<Utc>,
        #[serde(default)]
        email: Option<String>,
        #[serde(default)]
        name: Option<String>,
    },
    #[serde(rename = "conversion.offline")]
    OfflineConversion {
        campaign_id: Uuid,
        conversion_id: String,
        occurred_at: DateTime<Utc>,
        value_micros: i64,
        currency: String,
    },
}

/// What a push answers.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Received {
    /// Whether this message id was received before (nothing was recorded this time).
    pub duplicate: bool,
    /// Whether an event was recorded: not for a duplicate message, nor for a lead or deal id
    /// recorded before.
    pub recorded: bool,
    pub position: Option<String>,
}

pub async fn create_endpoint(
    State(state): State<AppState>,
    context: CommandContext,
    body: JsonBody<InboundEndpointRequest>,
) -> Result<(StatusCode, Json<InboundEndpointCreated>), ApiError> {
    context.require(Action::ManageSettings, "manage inbound webhooks")?;
    let id = Uuid::now_v7();
    let secret = crate::webhooks::new_secret();
    let source = serde_json::to_value(body.value.source)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    sqlx::query(
        "INSERT INTO inbound_endpoints (id, tenant_id, source, secret) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(context.principal.tenant_id.0)
    .bind(&source)
    .bind(&secret)
    .execute(&state.pool)
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(InboundEndpointCreated {
            id,
            path: format!("/v1/inbound/{id}"),
            secret,
        }),
    ))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

pub async fn receive(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Received>, ApiError> {
    let unverified = || ApiError::BadSignature("webhook-signature does not verify".into());
    let endpoint: Uuid = id.parse().map_err(|_| unverified())?;
    let found: Option<(Uuid, String, String)> =
        sqlx::query_as("SELECT tenant_id, source, secret FROM inbound_endpoints WHERE id = $1")
            .bind(endpoint)
            .fetch_optional(&state.pool)
            .await?;
    // An unknown endpoint answers as a bad signature does: nothing tells a prober which exist.
    let Some((tenant, source, secret)) = found else {
        return Err(unverified());
    };
    let message_id = header(&headers, "webhook-id");
    adflow_callers::signing::verify(
        std::slice::from_ref(&secret),
        message_id,
        header(&headers, "webhook-timestamp"),
        header(&headers, "webhook-signature"),
        &body,
        Utc::now().timestamp(),
    )
    .map_err(|why| ApiError::BadSignature(why.to_string()))?;
    let message_id = message_id.unwrap_or_default().to_owned();
    let seen: Option<String> = sqlx::query_scalar(
        "SELECT message_id FROM inbound_messages WHERE endpoint_id = $1 AND message_id = $2",
    )
    .bind(endpoint)
    .bind(&message_id)
    .fetch_optional(&state.pool)
    .await?;
    if seen.is_some() {
        return Ok(Json(Received {
            duplicate: true,
            recorded: false,
            position: None,
        }));
    }
    let pushed: Pushed = serde_json::from_slice(&body)
        .map_err(|e| ApiError::MalformedJson(format!("not an inbound message: {e}")))?;
    let source: LeadSource = serde_json::from_value(serde_json::Value::String(source))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let (campaign_id, command) = match pushed {
        Pushed::Lead {
            campaign_id,
            lead_id,
            form_id,
            submitted_at,
            email,
            name,
        } => (
            campaign_id,
            InboundCommand::RecordLead {
                campaign_id,
                source,
                lead_id,
                form_id,
                submitted_at,
                email,
                name,
            },
        ),
        Pushed::OfflineConversion {
            campaign_id,
            conversion_id,
            occurred_at,
            value_micros,
            currency,
        } => (
            campaign_id,
            InboundCommand::RecordOfflineConversion {
                campaign_id,
                conversion_id,
                occurred_at,
                value_micros,
                currency,
            },
        ),
    };
    let tenant = TenantId(tenant);
    let campaign = state
        .application
        .load::<Campaign>(tenant, campaign_id)
        .await?;
    if campaign.state.is_none() {
        let mut violations = Violations::new();
        violations.push("campaignId", "unknown", "no such campaign in this tenant");
        return Err(ApiError::Invalid(violations.into_vec()));
    }
    let outcome = state
        .application
        .execute::<InboundLedger>(Command {
            tenant,
            aggregate_id: inbound_stream_id(campaign_id),
            expected: Expected::Latest,
            command,
            metadata: EventMetadata {
                tenant_id: tenant.0,
                actor: format!("inbound:{endpoint}"),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::new_v5(&endpoint, message_id.as_bytes()),
                extra: [("webhookId".to_owned(), message_id.clone())]
                    .into_iter()
                    .collect(),
            },
            once_per_cause: false,
        })
        .await?;
    sqlx::query(
        "INSERT INTO inbound_messages (endpoint_id, message_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING",
    )
    .bind(endpoint)
    .bind(&message_id)
    .execute(&state.pool)
    .await?;
    Ok(Json(Received {
        duplicate: false,
        recorded: matches!(outcome, adflow_application::Outcome::Appended { .. }),
        position: outcome.position().map(|p| p.to_string()),
    }))
}
