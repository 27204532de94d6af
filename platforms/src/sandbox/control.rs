//! `/_sandbox`: what a test or an evaluation asks of the sandbox itself.

use super::{FaultRule, Sandbox};
use crate::simulator::Anomaly;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

pub(super) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/truth", get(truth))
        .route("/faults", post(add_fault).delete(clear_faults))
        .route("/clock", get(clock).post(advance))
        .route("/inventory", get(inventory))
        .route("/quota", post(quota))
        .route("/revoke", post(revoke))
        .route("/anomalies", post(anomaly))
}

async fn truth(State(sandbox): State<Sandbox>) -> Json<Value> {
    Json(serde_json::to_value(sandbox.ground_truth()).unwrap_or(Value::Null))
}

async fn add_fault(State(sandbox): State<Sandbox>, Json(rule): Json<FaultRule>) -> StatusCode {
    sandbox.world().faults.push(rule);
    StatusCode::NO_CONTENT
}

async fn clear_faults(State(sandbox): State<Sandbox>) -> StatusCode {
    sandbox.world().faults.clear();
    StatusCode::NO_CONTENT
}

async fn clock(State(sandbox): State<Sandbox>) -> Json<Value> {
    let world = sandbox.world();
    Json(json!({"now": world.clock.now(), "speed": world.clock.speed()}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Advance {
    hours: i64,
}

async fn advance(State(sandbox): State<Sandbox>, Json(advance): Json<Advance>) -> Json<Value> {
    let mut world = sandbox.world();
    world.clock.advance(chrono::Duration::hours(advance.hours));
    Json(json!({"now": world.clock.now()}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Quota {
    google_daily_operations: u64,
    #[serde(default)]
    requests_per_second: Option<u32>,
}

/// Sets the daily operations (and starts a new day), and optionally the rate limit.
async fn quota(State(sandbox): State<Sandbox>, Json(quota): Json<Quota>) -> StatusCode {
    let mut world = sandbox.world();
    world.operations_limit = quota.google_daily_operations;
    world.operations_used = 0;
    if let Some(rps) = quota.requests_per_second {
        world.requests_per_second = rps;
    }
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Revoke {
    refresh_token: String,
}

async fn revoke(State(sandbox): State<Sandbox>, Json(revoke): Json<Revoke>) -> StatusCode {
    sandbox.world().revoked.insert(revoke.refresh_token);
    StatusCode::NO_CONTENT
}

async fn anomaly(State(sandbox): State<Sandbox>, Json(anomaly): Json<Anomaly>) -> StatusCode {
    sandbox.world().market.inject(anomaly);
    StatusCode::NO_CONTENT
}

/// What exists on each platform, for tests: every campaign with its status and children's counts.
async fn inventory(State(sandbox): State<Sandbox>) -> Json<Value> {
    let world = sandbox.world();
    let google: Value = world
        .google
        .iter()
        .map(|(id, customer)| (id.clone(), customer.inventory()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let linkedin: Value = world
        .linkedin
        .iter()
        .map(|(id, account)| (id.clone(), account.inventory()))
        .collect::<serde_json::Map<_, _>>()
        .into();
    Json(
        json!({"google": google, "linkedin": linkedin, "requests": world.requests, "googleOperationsUsed": world.operations_used}),
    )
}
