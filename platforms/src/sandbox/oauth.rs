//! OAuth2 refresh-token grants, in Google's and LinkedIn's answer shapes. Any refresh token is
//! good until revoked through `/_sandbox/revoke`; access tokens live an hour (Google) or 60 days
//! (LinkedIn) in real time.

use super::{percent_decode, Sandbox};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;
use std::time::{Duration, Instant};

pub(super) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/google/token", post(google))
        .route("/linkedin/oauth/v2/accessToken", post(linkedin))
}

fn form(body: &str) -> std::collections::HashMap<String, String> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (percent_decode(k), percent_decode(v)))
        .collect()
}

fn grant(sandbox: &Sandbox, body: &str, lifetime: Duration) -> Result<String, &'static str> {
    let form = form(body);
    if form.get("grant_type").map(String::as_str) != Some("refresh_token") {
        return Err("unsupported_grant_type");
    }
    let refresh = form.get("refresh_token").cloned().unwrap_or_default();
    let mut world = sandbox.world();
    if refresh.is_empty() || world.revoked.contains(&refresh) {
        return Err("invalid_grant");
    }
    let access = format!("sandbox-access-{}", uuid::Uuid::new_v4().simple());
    world
        .tokens
        .insert(access.clone(), (refresh, Instant::now() + lifetime));
    Ok(access)
}

async fn google(State(sandbox): State<Sandbox>, body: String) -> Response {
    match grant(&sandbox, &body, Duration::from_secs(3599)) {
        Ok(access) => Json(json!({"access_token": access, "expires_in": 3599, "scope": "https://www.googleapis.com/auth/adwords", "token_type": "Bearer"})).into_response(),
        Err(error) => (StatusCode::BAD_REQUEST, Json(json!({"error": error, "error_description": "Token has been expired or revoked."}))).into_response(),
    }
}

async fn linkedin(State(sandbox): State<Sandbox>, body: String) -> Response {
    match grant(&sandbox, &body, Duration::from_secs(5_183_999)) {
        Ok(access) => Json(json!({"access_token": access, "expires_in": 5_183_999, "refresh_token_expires_in": 31_535_999})).into_response(),
        Err(error) => (StatusCode::BAD_REQUEST, Json(json!({"error": error, "error_description": "The provided authorization grant or refresh token is invalid, expired or revoked."}))).into_response(),
    }
}

/// The refresh token behind a bearer header, if the access token is live.
pub(super) fn authorized(sandbox: &Sandbox, headers: &axum::http::HeaderMap) -> bool {
    let Some(token) = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    else {
        return false;
    };
    let world = sandbox.world();
    world
        .tokens
        .get(token)
        .is_some_and(|(refresh, until)| *until > Instant::now() && !world.revoked.contains(refresh))
}
