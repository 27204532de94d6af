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
    #[schemars(schema_with = "crate::contract::webhook_url")]
    pub url: String,
    /// Event types to send (`CampaignRenamed`, ...); all of the tenant's when empty.
    #[serde(default)]
    #[schemars(schema_with = "crate::contract::event_types")]
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

/// What `contract::webhook_url` documents: `http(s)://` a host name of lowercase labels each
/// starting with a letter, an optional port 1–65535, a path of unreserved characters; at most
/// 2,000 characters.
pub(crate) fn receiver_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let (host, port) = match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let label = |l: &str| {
        l.starts_with(|c: char| c.is_ascii_lowercase())
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    };
    let port_ok = port.is_none_or(|p| {
        !p.starts_with('0')
            && p.len() <= 5
            && p.parse::<u32>().is_ok_and(|n| (1..=65_535).contains(&n))
    });
    let path_ok = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._~-".contains(c));
    url.len() <= 2_000 && host.split('.').all(label) && port_ok && path_ok
}

/// 32 random bytes, the Standard Webhooks way.
pub(crate) fn new_secret() -> String {
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
    if !receiver_url(&request.url) || reqwest::Url::parse(&request.url).is_err() {
        violations.push(
            "url",
            "invalid",
            "must be an http or https URL with a host name, an optional port and a plain path",
        );
    }
    if request.event_types.len() > 100 {
        violations.push("eventTypes", "too_many", "at most 100 event types");
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

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayRequest {
    /// `COMMIT:PREPARE`, as deliveries carry it in `data.position`: the event there and every
    /// later one of the subscription's types is sent again, in order.
    #[schemars(regex(pattern = r"^[0-9]{1,19}:[0-9]{1,19}$"))]
    pub from_position: String,
}

/// What a replay or a deletion answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookChanged {
    pub id: Uuid,
}

/// Replays a subscription from a log position (manual redelivery): its cursor goes back to just
/// before it, its failure count is cleared, and a disabled subscription is enabled again.
pub async fn replay(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    body: JsonBody<ReplayRequest>,
) -> Result<Json<WebhookChanged>, ApiError> {
    context.require(Action::ManageSettings, "manage webhooks")?;
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let position: adflow_event_store::Position =
        body.value.from_position.parse().map_err(|_| {
            let mut violations = Violations::new();
            violations.push("fromPosition", "invalid", "must be COMMIT:PREPARE");
            ApiError::Invalid(violations.into_vec())
        })?;
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    // The cursor is the last position delivered: the one just before `position`.
    let (commit, prepare) = if position.prepare > 0 {
        (clamp(position.commit), clamp(position.prepare - 1))
    } else {
        (clamp(position.commit.saturating_sub(1)), i64::MAX)
    };
    let replayed = sqlx::query(
        "UPDATE webhook_subscriptions
            SET cursor_commit = $3, cursor_prepare = $4, attempts = 0, failing_since = NULL,
                next_attempt_at = NULL, disabled_at = NULL, disabled_reason = NULL
          WHERE id = $1 AND tenant_id = $2",
    )
    .bind(id)
    .bind(context.principal.tenant_id.0)
    .bind(commit)
    .bind(prepare)
    .execute(&state.pool)
    .await?;
    if replayed.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(Json(WebhookChanged { id }))
}

/// Deletes a subscription; its delivery log goes with it.
pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
) -> Result<Json<WebhookChanged>, ApiError> {
    context.require(Action::ManageSettings, "manage webhooks")?;
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let mut tx = state.pool.begin().await?;
    let owned: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM webhook_subscriptions WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(context.principal.tenant_id.0)
    .fetch_optional(&mut *tx)
    .await?;
    if owned.is_none() {
        return Err(ApiError::NotFound);
    }
    sqlx::query("DELETE FROM webhook_deliveries WHERE subscription_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Json(WebhookChanged { id }))
}

#[cfg(test)]
mod tests {
    use super::receiver_url;

    #[test]
    fn receiver_urls_are_checked_as_documented() {
        for good in [
            "http://localhost:45123/hooks",
            "https://hooks.example.com",
            "https://a.b/x/y_z.~-",
            "http://a:65535",
        ] {
            assert!(receiver_url(good), "{good}");
        }
        for bad in [
            "0",
            "ftp://a",
            "http://127.0.0.1/x",
            "http://a:0",
            "http://a:65536",
            "http://a:080",
            "http://A.com",
            "http://a..b",
            "http://a/x?y=1",
            "http://",
        ] {
            assert!(!receiver_url(bad), "{bad}");
        }
    }
}
