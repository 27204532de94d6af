//! `Idempotency-Key`: the first successful response to a key is stored (per tenant, for 24 hours)
//! and replayed to every retry with the same body; the same key with another body is refused.
//!
//! A key is claimed with an insert before the command runs, so of many parallel retries exactly
//! one executes; the others are told it is in flight (409, `Retry-After`) or get the replay.
//! A failed command releases its claim, so the client can retry it.

use crate::problem::ApiError;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use std::future::Future;
use uuid::Uuid;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// What a successful command answers; stored as is for replays.
#[derive(Debug, Clone)]
pub struct CommandResponse {
    pub status: StatusCode,
    pub body: serde_json::Value,
    pub etag: Option<String>,
    /// What a replay answers with when it must not repeat the first answer: a secret shown once
    /// is never stored, so a replay of `POST /v1/api-keys` names the key without its secret.
    pub replay_body: Option<serde_json::Value>,
}

impl IntoResponse for CommandResponse {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(etag) = self.etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
            response
                .headers_mut()
                .insert(axum::http::header::ETAG, etag);
        }
        response
    }
}

fn key_from(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| ApiError::BadIdempotencyKey)?;
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::BadIdempotencyKey);
    }
    Ok(Some(key.to_owned()))
}

/// The request's identity: its route and its body (commands pass their canonical JSON,
/// `JsonBody::canonical`).
fn fingerprint(route: &str, body: &[u8]) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(route.as_bytes());
    hash.update([0]);
    hash.update(body);
    hash.finalize().to_vec()
}

/// request hash, response status, response body, ETag
type StoredRow = (
    Vec<u8>,
    Option<i16>,
    Option<serde_json::Value>,
    Option<String>,
);

enum Claim {
    Won,
    Replay(CommandResponse),
    InFlight,
    Reused,
}

async fn claim(pool: &PgPool, tenant: Uuid, key: &str, hash: &[u8]) -> Result<Claim, ApiError> {
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idempotency_key = $2 \
         AND created_at < now() - interval '24 hours'",
    )
    .bind(tenant)
    .bind(key)
    .execute(pool)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (tenant_id, idempotency_key, request_hash) VALUES ($1, $2, $3) \
         ON CONFLICT DO NOTHING",
    )
    .bind(tenant)
    .bind(key)
    .bind(hash)
    .execute(pool)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Claim::Won);
    }
    let stored: Option<StoredRow> = sqlx::query_as(
        "SELECT request_hash, response_status, response_body, response_etag FROM idempotency_keys \
         WHERE tenant_id = $1 AND idempotency_key = $2",
    )
    .bind(tenant)
    .bind(key)
    .fetch_optional(pool)
    .await?;
    Ok(match stored {
        // Released between our insert and our read: the client may simply retry.
        None => Claim::InFlight,
        Some((stored_hash, _, _, _)) if stored_hash != hash => Claim::Reused,
        Some((_, Some(status), Some(body), etag)) => Claim::Replay(CommandResponse {
            status: u16::try_from(status)
                .ok()
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::OK),
            body,
            etag,
            replay_body: None,
        }),
        Some(_) => Claim::InFlight,
    })
}

/// Runs `command` at most once per tenant and `Idempotency-Key` (when the header is present).
pub async fn run_once<F, Fut>(
    pool: &PgPool,
    tenant: Uuid,
    headers: &HeaderMap,
    route: &str,
    body: &[u8],
    command: F,
) -> Result<Response, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<CommandResponse, ApiError>>,
{
    let Some(key) = key_from(headers)? else {
        return command().await.map(IntoResponse::into_response);
    };
    let hash = fingerprint(route, body);
    match claim(pool, tenant, &key, &hash).await? {
        Claim::Reused => Err(ApiError::IdempotencyKeyReused),
        Claim::InFlight => Err(ApiError::IdempotencyKeyInFlight),
        Claim::Replay(stored) => {
            let mut response = stored.into_response();
            response
                .headers_mut()
                .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
            Ok(response)
        }
        Claim::Won => {
            match command().await {
                Ok(response) => {
                    sqlx::query(
                    "UPDATE idempotency_keys SET response_status = $3, response_body = $4, response_etag = $5 \
                     WHERE tenant_id = $1 AND idempotency_key = $2",
                )
                .bind(tenant)
                .bind(&key)
                .bind(i16::try_from(response.status.as_u16()).unwrap_or(200))
                .bind(response.replay_body.as_ref().unwrap_or(&response.body))
                .bind(&response.etag)
                .execute(pool)
                .await?;
                    Ok(response.into_response())
                }
                Err(error) => {
                    sqlx::query("DELETE FROM idempotency_keys WHERE tenant_id = $1 AND idempotency_key = $2")
                    .bind(tenant)
                    .bind(&key)
                    .execute(pool)
                    .await?;
                    Err(error)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fingerprint;

    #[test]
    fn the_route_is_part_of_the_request() {
        let body = br#"{"budget":1,"name":"a"}"#;
        assert_eq!(
            fingerprint("POST /v1/campaigns", body),
            fingerprint("POST /v1/campaigns", body)
        );
        assert_ne!(
            fingerprint("POST /v1/campaigns", body),
            fingerprint("POST /v1/audiences", body)
        );
    }
}
