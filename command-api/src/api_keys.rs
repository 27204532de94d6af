//! Integrators' API keys: created by an Admin of the tenant (the secret is in the response and
//! nowhere else: only its SHA-256 is stored), scoped to that tenant and a role, revocable, with
//! the time of last use recorded. A key is sent like a token: `Authorization: Bearer adf_…`.
//!
//! Keys are access configuration: the secret's hash, for authentication, lives in a table of the
//! command API; who issued or revoked which key, with which role, is recorded on the tenant's
//! settings stream (`ApiKeyCreated`, `ApiKeyRevoked`) for auditors. Creating one is deliberately
//! not replayable with `Idempotency-Key`
//! (a stored response would keep the secret): a retried creation makes a second key, and the
//! unused one can be revoked.

use crate::body::JsonBody;
use crate::context::CommandContext;
use crate::idempotency::{run_once, CommandResponse};
use crate::problem::ApiError;
use crate::AppState;
use adflow_application::{Command, Expected};
use adflow_auth::{Action, Principal, Role, API_KEY_PREFIX};
use adflow_callers::api_keys::hash;
use adflow_domain::tenant::{TenantCommand, TenantSettings};
use adflow_domain::Violations;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

/// The longest name of an API key.
pub const NAME_MAX_CHARS: usize = 100;

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// What the key is for ("HubSpot sync").
    #[schemars(schema_with = "crate::contract::api_key_name")]
    pub name: String,
    /// `admin`, `manager`, `analyst`, `viewer` or `auditor`.
    #[schemars(schema_with = "crate::contract::role")]
    pub role: String,
}

/// The new key. `key` is shown this once.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyCreated {
    pub id: Uuid,
    /// The secret bearer value, shown in the first answer only; absent when a retry with the
    /// same Idempotency-Key replays the answer (the secret is never stored).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct ApiKeyRevoked {
    pub id: Uuid,
    pub revoked: bool,
}

/// 244 random bits (two v4 UUIDs), hex.
fn new_secret() -> String {
    format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple())
}

pub async fn create(
    State(state): State<AppState>,
    context: CommandContext,
    headers: HeaderMap,
    body: JsonBody<CreateApiKeyRequest>,
) -> Result<Response, ApiError> {
    context.require(Action::ManageSettings, "manage API keys")?;
    // A retry with the same Idempotency-Key answers with the key it created, never a second one.
    let pool = state.pool.clone();
    run_once(
        &pool,
        context.principal.tenant_id.0,
        &headers,
        "POST /v1/api-keys",
        &body.canonical,
        || mint(state, context, body.value),
    )
    .await
}

async fn mint(
    state: AppState,
    context: CommandContext,
    request: CreateApiKeyRequest,
) -> Result<CommandResponse, ApiError> {
    let mut violations = Violations::new();
    let name =
        adflow_domain::text::required_line(&request.name, "name", NAME_MAX_CHARS, &mut violations);
    let role = Role::parse(&request.role);
    if role.is_none() {
        violations.push(
            "role",
            "unknown",
            "must be admin, manager, analyst, viewer or auditor",
        );
    }
    let Some(role) = role.filter(|_| violations.is_empty()) else {
        return Err(ApiError::Invalid(violations.into_vec()));
    };
    let id = Uuid::now_v7();
    let secret = new_secret();
    // The trail first: a key that authenticates is always on the record (a key whose row then
    // failed to be stored is on the record but never worked).
    record(
        &state,
        &context,
        TenantCommand::RecordApiKeyCreated {
            key_id: id,
            name: name.clone(),
            role: role.as_str().to_owned(),
        },
    )
    .await?;
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO api_keys (key_id, tenant_id, name, role, secret_hash, created_by) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING created_at",
    )
    .bind(id)
    .bind(context.principal.tenant_id.0)
    .bind(&name)
    .bind(role.as_str())
    .bind(hash(&secret))
    .bind(context.principal.actor())
    .fetch_one(&state.pool)
    .await?;
    let created = ApiKeyCreated {
        id,
        key: Some(format!("{API_KEY_PREFIX}{}_{secret}", id.simple())),
        name,
        role: role.as_str().to_owned(),
        created_at,
    };
    let body = serde_json::to_value(&created).map_err(|e| ApiError::Internal(e.to_string()))?;
    let replay = serde_json::to_value(ApiKeyCreated {
        key: None,
        ..created
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(CommandResponse {
        status: StatusCode::CREATED,
        body,
        etag: None,
        replay_body: Some(replay),
    })
}

pub async fn revoke(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    context.require(Action::ManageSettings, "manage API keys")?;
    let pool = state.pool.clone();
    let route = "POST /v1/api-keys/revoke";
    let tenant = context.principal.tenant_id.0;
    // The key id stands in for the (empty) body in the request's fingerprint.
    let identity = id.clone();
    run_once(&pool, tenant, &headers, route, identity.as_bytes(), || {
        revoke_key(state, context, id)
    })
    .await
}

async fn revoke_key(
    state: AppState,
    context: CommandContext,
    id: String,
) -> Result<CommandResponse, ApiError> {
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let revoked = sqlx::query(
        "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE key_id = $1 AND tenant_id = $2",
    )
    .bind(id)
    .bind(context.principal.tenant_id.0)
    .execute(&state.pool)
    .await?;
    if revoked.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    record(
        &state,
        &context,
        TenantCommand::RecordApiKeyRevoked { key_id: id },
    )
    .await?;
    Ok(CommandResponse {
        status: StatusCode::OK,
        body: serde_json::json!(ApiKeyRevoked { id, revoked: true }),
        etag: None,
        replay_body: None,
    })
}

/// Records an API key's creation or revocation on the tenant's settings stream.
async fn record(
    state: &AppState,
    context: &CommandContext,
    command: TenantCommand,
) -> Result<(), ApiError> {
    let tenant = context.principal.tenant_id;
    state
        .application
        .execute::<TenantSettings>(Command {
            tenant,
            aggregate_id: tenant.0,
            expected: Expected::Latest,
            command,
            metadata: context.metadata(),
            once_per_cause: false,
        })
        .await?;
    Ok(())
}

/// The caller an API key stands for; the same error as a bad token for a key that is unknown,
/// revoked or wrong, so that nothing tells them apart.
pub(crate) async fn authenticate(
    pool: &PgPool,
    key_id: Uuid,
    secret: &str,
) -> Result<Principal, ApiError> {
    adflow_callers::api_keys::authenticate(pool, key_id, secret)
        .await?
        .ok_or_else(|| {
            ApiError::Unauthenticated(adflow_auth::AuthError::InvalidToken(
                "unknown or revoked API key".into(),
            ))
        })
}
