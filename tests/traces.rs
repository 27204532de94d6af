//! Traces (issue "Operating Adflow", part): an in-process OTLP receiver gets the spans every
//! process exports and finds one trace from an HTTP command (its `traceparent` chosen here) through
//! the dispatcher's publication to the ML worker's answer, whose event carries the same trace.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::{campaign, str_of};
use axum::body::Bytes;
use axum::extract::State;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use reqwest::StatusCode;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

/// (trace id, span name, service name)
type Spans = Arc<Mutex<Vec<(String, String, String)>>>;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

async fn receive(State(spans): State<Spans>, body: Bytes) -> StatusCode {
    let Ok(request) = ExportTraceServiceRequest::decode(body) else {
        return StatusCode::BAD_REQUEST;
    };
    let mut spans = spans.lock().unwrap();
    for resource in request.resource_spans {
        let service = resource
            .resource
            .iter()
            .flat_map(|r| &r.attributes)
            .find(|a| a.key == "service.name")
            .and_then(|a| a.value.as_ref())
            .map(|v| format!("{:?}", v.value))
            .unwrap_or_default();
        for scope in resource.scope_spans {
            for span in scope.spans {
                spans.push((hex(&span.trace_id), span.name, service.clone()));
            }
        }
    }
    StatusCode::OK
}

#[tokio::test]
async fn one_trace_runs_from_the_http_command_to_the_ml_workers_answer() {
    let spans = Spans::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let router = axum::Router::new()
        .route("/v1/traces", axum::routing::post(receive))
        .with_state(spans.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let app = TestApp::spawn_with(
        BIN,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("ADFLOW_ML_WORKER", "true"),
        ],
    )
    .await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let created = app
        .command("/v1/campaigns", Some(&manager), &campaign("Traced"), &[])
        .await;
    let id = str_of(&created.body, "/id").to_owned();
    let trace = Uuid::new_v4().simple().to_string();
    let traceparent = format!(
        "00-{trace}-{}-01",
        &Uuid::new_v4().simple().to_string()[..16]
    );
    let requested = app
        .command(
            &format!("/v1/campaigns/{id}/structure-requests"),
            Some(&manager),
            &json!({"brief": {
                "offer": "Cloud cost management for SaaS companies: find idle resources and cut your AWS bill",
                "landingPageUrl": "https://acme.example/cloud-costs",
                "businessName": "Acme Cloud", "seedKeywords": ["cloud cost management"]}}),
            &[("if-match", "1"), ("traceparent", &traceparent)],
        )
        .await;
    assert_eq!(requested.status, StatusCode::OK, "{:?}", requested.body);

    // The worker's answer is an event of the same trace.
    let mut answered = None;
    for _ in 0..600 {
        answered = sqlx::query_scalar::<_, serde_json::Value>(
            "SELECT extra_metadata FROM events WHERE event_type = 'StructureGenerated' AND stream_name LIKE '%' || $1",
        )
        .bind(&id)
        .fetch_optional(&app.db.pool)
        .await
        .unwrap();
        if answered.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let answered = answered.expect("no structure within 60 s");
    assert!(
        answered["traceparent"]
            .as_str()
            .unwrap_or("")
            .contains(&trace),
        "{answered}"
    );
    let requested_event: serde_json::Value = sqlx::query_scalar(
        "SELECT extra_metadata FROM events WHERE event_type = 'StructureGenerationRequested' AND stream_name LIKE '%' || $1",
    )
    .bind(&id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(requested_event["traceparent"]
        .as_str()
        .unwrap()
        .contains(&trace));

    // And the receiver has the trace's spans from the three processes.
    let wanted = [
        "POST /v1/campaigns/{id}/structure-requests",
        "publish",
        "answer structure.requested",
    ];
    let mut found = Vec::new();
    for _ in 0..300 {
        found = spans
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _, _)| *t == trace)
            .map(|(_, name, service)| (name.clone(), service.clone()))
            .collect::<Vec<_>>();
        if wanted
            .iter()
            .all(|w| found.iter().any(|(name, _)| name.starts_with(w)))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for w in wanted {
        assert!(
            found.iter().any(|(name, _)| name.starts_with(w)),
            "no span {w} in the trace: {found:?}"
        );
    }
    let services: std::collections::BTreeSet<&str> =
        found.iter().map(|(_, service)| service.as_str()).collect();
    assert!(
        services.len() >= 2,
        "spans from the API and the ML worker: {services:?}"
    );
}
