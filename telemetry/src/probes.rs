//! `/readyz`: the answer every process gives, and the PostgreSQL check most of them make.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// How long a dependency may take to answer before the process calls itself unready.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

/// `"ok"`, or why PostgreSQL did not answer `SELECT 1` within [`CHECK_TIMEOUT`].
pub async fn postgres(pool: &sqlx::PgPool) -> Result<(), String> {
    match tokio::time::timeout(CHECK_TIMEOUT, sqlx::query("SELECT 1").execute(pool)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {} s", CHECK_TIMEOUT.as_secs())),
    }
}

/// `200 {"status": "ready", "checks": …}` when every check passed, else `503` with `unready`.
pub fn answer(ready: bool, checks: serde_json::Map<String, serde_json::Value>) -> Response {
    let (status, word) = if ready {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unready")
    };
    (
        status,
        axum::Json(serde_json::json!({"status": word, "checks": checks})),
    )
        .into_response()
}

/// `/readyz` of a process that needs only PostgreSQL.
pub async fn postgres_only(pool: &sqlx::PgPool) -> Response {
    let checked = postgres(pool).await;
    let word = checked
        .as_ref()
        .err()
        .cloned()
        .unwrap_or_else(|| "ok".to_owned());
    answer(
        checked.is_ok(),
        [("postgres".to_owned(), serde_json::Value::String(word))]
            .into_iter()
            .collect(),
    )
}
