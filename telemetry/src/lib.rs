//! Prometheus metrics for every Adflow process. Code anywhere records through the `metrics`
//! facade (`metrics::counter!`, `histogram!`, `gauge!`: free when no recorder is installed, as in
//! unit tests); each binary installs the one recorder at start ([`install`]) and serves
//! [`render`] on `/metrics` (the APIs on their own port, the other processes on
//! `ADFLOW_OPS_ADDR`). The series and their labels are listed in [`SERIES`] (README "Operating").

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::collections::BTreeSet;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

pub use metrics;

pub mod probes;
pub mod traces;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Every series Adflow records, with what it counts.
pub const SERIES: [(&str, &str); 12] = [
    (
        "adflow_http_requests_total",
        "requests per api, method, route and status",
    ),
    (
        "adflow_http_request_duration_seconds",
        "request latency per api, method and route",
    ),
    (
        "adflow_graphql_operations_total",
        "GraphQL operations per operation name and outcome",
    ),
    (
        "adflow_graphql_operation_duration_seconds",
        "GraphQL latency per operation name",
    ),
    (
        "adflow_append_duration_seconds",
        "one append to the log, per aggregate category",
    ),
    (
        "adflow_projection_lag_events",
        "events in the log a projection has not applied yet",
    ),
    (
        "adflow_jetstream_consumer_pending",
        "messages a durable consumer has not been delivered yet",
    ),
    (
        "adflow_worker_batch_duration_seconds",
        "one batch of a worker, per work type",
    ),
    (
        "adflow_platform_api_calls_total",
        "calls to an ad platform per platform and outcome",
    ),
    (
        "adflow_platform_quota_remaining",
        "calls left today of the configured daily quota, per platform",
    ),
    (
        "adflow_model_duration_seconds",
        "one model call of the ML worker (a batch)",
    ),
    (
        "adflow_projection_lag_seconds",
        "age of the oldest event a projection has not applied",
    ),
];

/// Latency buckets, in seconds: a millisecond to a minute.
const BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0, 60.0,
];

/// Installs the process's recorder (once; later calls keep the first).
pub fn install() {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new())
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder installed first (a test harness) keeps recording; this one then
        // renders nothing, which is what a process without metrics would show.
        let _ = metrics::set_global_recorder(recorder);
        handle
    });
}

/// The Prometheus text exposition of everything recorded so far.
pub fn render() -> String {
    HANDLE
        .get()
        .map(PrometheusHandle::render)
        .unwrap_or_default()
}

/// Distinct client-chosen label values kept (GraphQL operation names); later ones are `other`, so
/// that clients cannot grow the registry without bound.
pub const MAX_CLIENT_LABELS: usize = 200;

static CLIENT_LABELS: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());

/// `name` as a label value when it is a plain identifier of at most 64 characters and one of the
/// first [`MAX_CLIENT_LABELS`] seen; `other` otherwise.
pub fn client_label(name: &str) -> String {
    let plain = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !plain {
        return "other".to_owned();
    }
    let Ok(mut seen) = CLIENT_LABELS.lock() else {
        return "other".to_owned();
    };
    if seen.contains(name) || seen.len() < MAX_CLIENT_LABELS {
        seen.insert(name.to_owned());
        name.to_owned()
    } else {
        "other".to_owned()
    }
}

/// An axum middleware recording each request's count and latency under its route template
/// (`/v1/campaigns/{id}/rename`, never the concrete path: bounded label values).
pub async fn track_requests(api: &'static str, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let span = tracing::info_span!(
        "request",
        otel.name = format!("{method} {route}"),
        http.request.method = %method,
        http.route = %route,
        api
    );
    traces::continue_from(
        &span,
        request
            .headers()
            .get(traces::TRACEPARENT)
            .and_then(|v| v.to_str().ok()),
    );
    let started = Instant::now();
    let response = tracing::Instrument::instrument(next.run(request), span).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(
        "adflow_http_request_duration_seconds",
        "api" => api, "method" => method.clone(), "route" => route.clone()
    )
    .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        "adflow_http_requests_total",
        "api" => api, "method" => method, "route" => route, "status" => status
    )
    .increment(1);
    response
}
