//! Metrics and probes of every process (issue "Operating Adflow", part): the command API, the
//! query API, the projections process and the ML worker each serve `/metrics` with the series of
//! what they do, and the processes without an API serve `/healthz` and `/readyz` on
//! `ADFLOW_OPS_ADDR`.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::{campaign, str_of};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

async fn get(app: &TestApp, url: &str) -> (StatusCode, String) {
    let response = app.http.get(url).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The address the process reported on its `ADFLOW_READY` line as `<key>=`.
fn reported(app: &TestApp, key: &str) -> String {
    let output = app.output();
    let line = output
        .lines()
        .find(|l| l.starts_with("ADFLOW_READY "))
        .unwrap_or_else(|| panic!("no ready line in {output}"));
    let address = line
        .split(' ')
        .find_map(|part| part.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key}= in {line}"));
    format!("http://{address}")
}

/// Polls `url` until its body holds every one of `series`.
async fn exposes(app: &TestApp, url: &str, series: &[&str]) -> String {
    let mut last = String::new();
    for _ in 0..300 {
        let (status, body) = get(app, url).await;
        if status == StatusCode::OK && series.iter().all(|s| body.contains(s)) {
            return body;
        }
        last = body;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let missing: Vec<&&str> = series.iter().filter(|s| !last.contains(**s)).collect();
    panic!("{url} lacks {missing:?}:\n{last}");
}

#[tokio::test]
async fn every_process_serves_its_series_and_the_background_ones_their_probes() {
    let app = TestApp::spawn_with(
        BIN,
        &[
            ("ADFLOW_OPS_ADDR", "127.0.0.1:0"),
            ("ADFLOW_ML_WORKER", "true"),
        ],
    )
    .await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let created = app
        .command("/v1/campaigns", Some(&manager), &campaign("Measured"), &[])
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = str_of(&created.body, "/id").to_owned();
    let brief = json!({"brief": {
        "offer": "Cloud cost management for SaaS companies: find idle resources and cut your AWS bill",
        "landingPageUrl": "https://acme.example/cloud-costs",
        "businessName": "Acme Cloud", "seedKeywords": ["cloud cost management"]}});
    let requested = app
        .command(
            &format!("/v1/campaigns/{id}/structure-requests"),
            Some(&manager),
            &brief,
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(requested.status, StatusCode::OK, "{:?}", requested.body);
    let listed = app
        .http
        .post(format!("{}/graphql", app.query_url))
        .bearer_auth(&manager)
        .json(
            &json!({"query": "query Campaigns { campaigns(first: 5) { edges { node { id } } } }",
                      "operationName": "Campaigns"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status(), StatusCode::OK);

    exposes(
        &app,
        &format!("{}/metrics", app.command_url),
        &[
            "adflow_http_requests_total{api=\"command\",method=\"POST\",route=\"/v1/campaigns\",status=\"201\"} 1",
            "adflow_http_request_duration_seconds_bucket{api=\"command\",method=\"POST\",route=\"/v1/campaigns/{id}/structure-requests\"",
            "adflow_append_duration_seconds_count{category=\"campaign\"}",
        ],
    )
    .await;
    exposes(
        &app,
        &format!("{}/metrics", app.query_url),
        &[
            "adflow_graphql_operations_total{operation=\"Campaigns\",outcome=\"ok\"} 1",
            "adflow_graphql_operation_duration_seconds_bucket{operation=\"Campaigns\"",
            "adflow_http_requests_total{api=\"query\",method=\"POST\",route=\"/graphql\",status=\"200\"}",
            "adflow_projection_lag_events{projection=\"campaigns\"}",
        ],
    )
    .await;
    let background = reported(&app, "ops");
    exposes(
        &app,
        &format!("{background}/metrics"),
        &[
            "adflow_projection_lag_events{projection=\"notifications\"}",
            "adflow_projection_lag_seconds{projection=\"analytics\"}",
        ],
    )
    .await;
    // The ML worker answers the structure request: its batch, its consumer, its append.
    let ml = reported(&app, "ml_worker_ops");
    exposes(
        &app,
        &format!("{ml}/metrics"),
        &[
            "adflow_worker_batch_duration_seconds_count{work=\"structure.requested\"} 1",
            "adflow_jetstream_consumer_pending{consumer=\"ml-structure\"}",
            "adflow_append_duration_seconds_count{category=\"campaign\"}",
        ],
    )
    .await;
    for base in [&background, &ml] {
        let (alive, _) = get(&app, &format!("{base}/healthz")).await;
        assert_eq!(alive, StatusCode::OK);
        let (ready, body) = get(&app, &format!("{base}/readyz")).await;
        assert_eq!(ready, StatusCode::OK, "{body}");
    }
}
