//! The HTTP command API: the only door through which integrators change state.
//!
//! Every command: authenticate (bearer JWT) → authorise (role table) → parse (problem+json on any
//! bad input) → load the aggregate → decide (pure domain) → append with the expected version →
//! answer `{id, version, position}` with an `ETag`. `position` lets a client wait for its write in
//! the query API.

mod access_log;
mod api_keys;
mod audiences;
pub mod body;
mod campaigns;
mod connections;
pub mod context;
mod contract;
mod data_subjects;
pub mod handling;
pub mod idempotency;
mod inbound;
mod lifecycle;
mod notifications;
pub mod openapi;
mod optimisation;
pub mod problem;
mod proposals;
pub mod rate_limit;
mod report_schedules;
mod webhooks;

pub use rate_limit::RateLimits;

use adflow_auth::Authenticator;
use axum::routing::{get, post};
use axum::Router;
use sqlx::PgPool;
use std::time::Duration;

#[derive(Clone)]
pub struct AppState {
    /// The one write path (and the aggregates' current state).
    pub application: adflow_application::Application,
    /// The command API's own tables (idempotency keys).
    pub pool: PgPool,
    pub auth: Authenticator,
    pub limits: RateLimits,
    /// Nesting limit of JSON bodies, checked before they are parsed.
    pub input_limits: adflow_input_limits::InputLimits,
    /// The ad platforms and the credential store (connections); `None` where none is configured.
    pub platforms: Option<std::sync::Arc<adflow_platforms::Platforms>>,
}

pub fn router(state: AppState) -> Router {
    // Built once: the document only changes with the code.
    let spec = std::sync::Arc::new(openapi::document());
    Router::new()
        .route("/v1/campaigns", post(campaigns::create))
        .route("/v1/settings/guardrails", post(proposals::set_guardrails))
        .route(
            "/v1/notification-preferences",
            post(notifications::set_preferences),
        )
        .route("/v1/notifications/read", post(notifications::mark_read))
        .route(
            "/v1/settings/decision-rules",
            post(optimisation::set_decision_rules),
        )
        .route(
            "/v1/campaigns/{id}/optimization-runs",
            post(optimisation::request_run),
        )
        .route(
            "/v1/settings/platform-connections/google",
            post(connections::connect_google),
        )
        .route(
            "/v1/settings/platform-connections/linkedin",
            post(connections::connect_linkedin),
        )
        .route(
            "/v1/settings/platform-connections/{platform}/disconnect",
            post(connections::disconnect),
        )
        .route(
            "/v1/settings/platform-connections/{platform}/test",
            post(connections::test),
        )
        .route("/v1/campaigns/{id}/proposals", post(proposals::propose))
        .route(
            "/v1/campaigns/{id}/performance",
            post(lifecycle::report_performance),
        )
        .route(
            "/v1/campaigns/{id}/proposals/{proposal}/approve",
            post(proposals::approve),
        )
        .route(
            "/v1/campaigns/{id}/proposals/{proposal}/decline",
            post(proposals::decline),
        )
        .route("/v1/campaigns/{id}/rename", post(campaigns::rename))
        .route("/v1/campaigns/{id}/budget", post(campaigns::change_budget))
        .route(
            "/v1/campaigns/{id}/segments",
            post(lifecycle::attach_segment),
        )
        .route(
            "/v1/campaigns/{id}/schedule",
            post(lifecycle::change_schedule),
        )
        .route(
            "/v1/campaigns/{id}/structure-requests",
            post(lifecycle::request_structure),
        )
        .route(
            "/v1/campaigns/{id}/structure-requests/{request_id}/result",
            post(lifecycle::structure_result),
        )
        .route(
            "/v1/campaigns/{id}/structure",
            post(lifecycle::edit_structure),
        )
        .route(
            "/v1/campaigns/{id}/structure/reject",
            post(lifecycle::reject_structure),
        )
        .route(
            "/v1/campaigns/{id}/deployments/{platform}",
            post(lifecycle::deployment_result),
        )
        .route("/v1/campaigns/{id}/{step}", post(lifecycle::step))
        .route("/v1/audiences", post(audiences::define))
        .route("/v1/audiences/{id}/segments", post(audiences::add_segment))
        .route(
            "/v1/audiences/{id}/segments/{segment}/estimate",
            post(audiences::estimate_segment),
        )
        .route(
            "/v1/audiences/{id}/segments/{segment}/personas",
            post(audiences::add_persona),
        )
        .route(
            "/v1/audiences/{id}/account-lists",
            post(audiences::import_account_list),
        )
        .route(
            "/v1/audiences/{id}/segmentation-requests",
            post(audiences::request_segmentation),
        )
        .route("/v1/data-subjects/{id}", get(data_subjects::export))
        .route("/v1/data-subjects/{id}/erase", post(data_subjects::erase))
        .route("/v1/inbound-endpoints", post(inbound::create_endpoint))
        .route("/v1/inbound/{id}", post(inbound::receive))
        .route("/v1/report-schedules", post(report_schedules::create))
        .route(
            "/v1/report-schedules/{id}",
            axum::routing::delete(report_schedules::delete),
        )
        .route(
            "/v1/report-schedules/{id}/run",
            post(report_schedules::run_now),
        )
        .route("/v1/webhooks", post(webhooks::subscribe))
        .route("/v1/webhooks/{id}/replay", post(webhooks::replay))
        .route("/v1/webhooks/{id}", axum::routing::delete(webhooks::delete))
        .route(
            "/v1/webhooks/{id}/rotate-secret",
            post(webhooks::rotate_secret),
        )
        .route("/v1/api-keys", post(api_keys::create))
        .route("/v1/api-keys/{id}/revoke", post(api_keys::revoke))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/v1/version", get(version))
        .route(
            "/openapi.json",
            get(move || async move { axum::Json(spec) }),
        )
        .route(
            "/docs",
            get(|| async { axum::response::Html(openapi::DOCS_PAGE) }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            access_log::record_refusals,
        ))
        .fallback(|| async { problem::ApiError::NotFound })
        .method_not_allowed_fallback(|| async { problem::ApiError::MethodNotAllowed })
        .route(
            "/metrics",
            get(|| async {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4",
                    )],
                    adflow_telemetry::render(),
                )
            }),
        )
        .layer(axum::middleware::from_fn(context::correlate))
        .layer(axum::middleware::from_fn(|request, next| {
            adflow_telemetry::track_requests("command", request, next)
        }))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .with_state(state)
}

/// What is running: the package version and the event contracts it reads and writes.
pub async fn version() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({
        "name": "adflow",
        "version": env!("CARGO_PKG_VERSION"),
        "api": "command",
        "openapi": "/openapi.json",
        "eventContracts": adflow_domain::contracts::event_contracts().len(),
    }))
}

/// Ready when PostgreSQL (the command tables, and the log with the local event store) answers
/// within a second: `200 {"status": "ready"}`, else `503` naming what failed. `/healthz` only says
/// the process is alive.
async fn readyz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    adflow_telemetry::probes::postgres_only(&state.pool).await
}
