//! Outbound webhook subscriptions (Admin): a URL, the event types wanted (all when empty) and a
//! signing secret, shown once. Rotating the secret keeps the previous one valid too (both sign)
//! until the next rotation. Delivery is the projections process's (`src/webhooks/`).

use crate::body::JsonBody;
use crate::context::CommandContext;
use crate::problem::ApiError;
use crate::AppState;
use adflow_auth::Action;
use adflow_domain::Violations;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where to POST each event (http or https).
    #[schemars(length(min = 1, max = 2000))]
    pub url: String,
    /// Event types to send (`CampaignRenamed`, ...); all of the tenant's when empty.
    #[serde(default)]
    #[schemars(length(max = 100))]
    pub event_types: Vec<String>,
}

/// A subscription, with its signing secret (shown in this answer only).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSecret {
    pub id: Uuid,
    /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

/// 32 random bytes, the Standard Webhooks way.
fn new_secret() -> String {
    use base64::Engine;
    let bytes: Vec<u8> = Uuid::new_v4()
        .as_bytes()
        .iter()
        .chain(Uuid::new_v4().as_bytes())
        .copied()
        .collect();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

pub async fn subscribe(
    State(state): State<AppState>,
    context: CommandContext,
    body: JsonBody<WebhookRequest>,
) -> Result<(StatusCode, Json<WebhookSecret>), ApiError> {
    context.require(Action::ManageSettings, "manage webhooks")?;
    let request = body.value;
    let mut violations = Violations::new();
    match reqwest::Url::parse(&request.url) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {}
        _ => violations.push("url", "invalid", "must be an http or https URL"),
    }
    if request.url.len() > 2_000 {
        violations.push("url", "too_long", "at most 2000 characters");
    }
    for (index, event_type) in request.event_types.iter().enumerate() {
        let known = adflow_domain::contracts::event_contracts()
            .iter()
            .any(|c| c.event_type == event_type);
        if !known {
            violations.push(
                format!("eventTypes/{index}"),
                "unknown",
                "not an Adflow event type",
            );
        }
    }
    if !violations.is_empty() {
        return Err(ApiError::Invalid(violations.into_vec()));
    }
    let id = Uuid::now_v7();
    let secret = new_secret();
    // New subscriptions start at the end of the log: they get what happens from now on.
    sqlx::query(
        "INSERT INTO webhook_subscriptions (id, tenant_id, url, event_types, secrets,
                                            cursor_commit, cursor_prepare)
         SELECT $1, $2, $3, $4, ARRAY[$5],
                coalesce(max(commit_id), 0), coalesce(max(position), 0)
           FROM events",
    )
    .bind(id)
    .bind(context.principal.tenant_id.0)
    .bind(&request.url)
    .bind(&request.event_types)
    .bind(&secret)
    .execute(&state.pool)
    .await?;
    Ok((StatusCode::CREATED, Json(WebhookSecret { id, secret })))
}

pub async fn rotate_secret(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
) -> Result<Json<WebhookSecret>, ApiError> {
    context.require(Action::ManageSettings, "manage webhooks")?;
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let secret = new_secret();
    let rotated = sqlx::query(
        "UPDATE webhook_subscriptions SET secrets = ARRAY[$3, secrets[1]]
          WHERE id = $1 AND tenant_id = $2",
    )
    .bind(id)
    .bind(context.principal.tenant_id.0)
    .bind(&secret)
    .execute(&state.pool)
    .await?;
    if rotated.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(Json(WebhookSecret { id, secret }))
}
