//! API keys as credentials: a key authenticates when its id names a live key of the
//! `api_keys` table and its secret's SHA-256 matches the stored one.

use adflow_auth::{Principal, Role};
use adflow_domain::TenantId;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use uuid::Uuid;

/// The SHA-256 a key's secret is stored as.
pub fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// The caller a key stands for; `None` for a key that is unknown, revoked or wrong, so that
/// nothing tells them apart.
pub async fn authenticate(
    pool: &PgPool,
    key_id: Uuid,
    secret: &str,
) -> Result<Option<Principal>, sqlx::Error> {
    let row: Option<(Uuid, String, Vec<u8>)> = sqlx::query_as(
        "SELECT tenant_id, role, secret_hash FROM api_keys WHERE key_id = $1 AND revoked_at IS NULL",
    )
    .bind(key_id)
    .fetch_optional(pool)
    .await?;
    let Some((tenant, role, stored)) = row else {
        return Ok(None);
    };
    // Hashes of equal length compared in full: no early exit to time.
    let given = hash(secret);
    let same = stored.len() == given.len()
        && stored
            .iter()
            .zip(&given)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    let Some(role) = Role::parse(&role).filter(|_| same) else {
        return Ok(None);
    };
    // At most one write a minute per key.
    sqlx::query(
        "UPDATE api_keys SET last_used_at = now() WHERE key_id = $1 \
           AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')",
    )
    .bind(key_id)
    .execute(pool)
    .await?;
    Ok(Some(Principal::api_key(key_id, TenantId(tenant), role)))
}
