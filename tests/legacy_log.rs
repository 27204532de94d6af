//! A log written before performance reports had their own streams (`tests/fixtures/
//! legacy_log_v1.jsonl`: a campaign taken to ACTIVE, two reports — one sent twice — in the
//! campaign's own stream, a rename and a pause, exported from a run of the code of that time)
//! replays to the same read models: the GraphQL answers recorded by that code in the same run
//! (`legacy_log_v1.answers.json`) come back unchanged from the projections of today. Reports sent
//! after the upgrade go to day streams and add up with the old ones; a resend of an old report
//! is still recognised.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_event_store::Position;
use adflow_testkit::app::TestApp;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

const LOG: &str = include_str!("fixtures/legacy_log_v1.jsonl");
const ANSWERS: &str = include_str!("fixtures/legacy_log_v1.answers.json");

/// Writes the fixture's events as they were stored, recorded_at included, one transaction each.
async fn import(app: &TestApp) -> (TenantId, Uuid, Position) {
    let mut tenant = None;
    let mut campaign = None;
    for line in LOG.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        sqlx::query(
            "INSERT INTO events (stream_name, stream_version, event_id, event_type, schema_version, \
             tenant_id, data, actor, correlation_id, causation_id, extra_metadata, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(event["streamName"].as_str().unwrap())
        .bind(event["streamVersion"].as_i64().unwrap())
        .bind(event["eventId"].as_str().unwrap().parse::<Uuid>().unwrap())
        .bind(event["eventType"].as_str().unwrap())
        .bind(event["schemaVersion"].as_i64().unwrap() as i32)
        .bind(event["tenantId"].as_str().unwrap().parse::<Uuid>().unwrap())
        .bind(&event["data"])
        .bind(event["actor"].as_str().unwrap())
        .bind(event["correlationId"].as_str().unwrap().parse::<Uuid>().unwrap())
        .bind(event["causationId"].as_str().unwrap().parse::<Uuid>().unwrap())
        .bind(Some(&event["extraMetadata"]).filter(|extra| !extra.is_null()))
        .bind(
            chrono::DateTime::parse_from_rfc3339(event["recordedAt"].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono::Utc),
        )
        .execute(&app.db.pool)
        .await
        .unwrap();
        tenant = event["tenantId"]
            .as_str()
            .map(|t| TenantId(t.parse().unwrap()));
        if event["eventType"] == "CampaignCreated" {
            campaign = event["data"]["campaignId"]
                .as_str()
                .map(|c| c.parse().unwrap());
        }
    }
    let (commit, prepare): (i64, i64) = sqlx::query_as(
        "SELECT commit_id, position FROM events ORDER BY commit_id DESC, position DESC LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    (
        tenant.unwrap(),
        campaign.unwrap(),
        Position {
            commit: commit as u64,
            prepare: prepare as u64,
        },
    )
}

/// Asks what the old code was asked, in the same order (analytics first: their `minPosition`
/// waits for ClickHouse, which the campaign's `performance` reads).
async fn answers(app: &TestApp, tenant: TenantId, position: &str, recorded: &Value) -> Value {
    let admin = app.token(tenant, Role::Admin);
    let analyst = app.token(tenant, Role::Analyst);
    let mut answers = serde_json::Map::new();
    for (name, token, variables) in [
        ("performance", &admin, "analytics"),
        ("series", &admin, "analytics"),
        ("daily", &admin, "analytics"),
        ("breakdown", &admin, "analytics"),
        ("history", &analyst, "history"),
        ("campaign", &admin, "campaign"),
    ] {
        let mut variables = recorded["variables"][variables].clone();
        variables["min"] = json!(position);
        let query = recorded["queries"][name].as_str().unwrap();
        // UNAVAILABLE says "try again" (ClickHouse busy under a full test run): so do we.
        let mut reply = app.graphql(Some(token), query, variables.clone()).await;
        for _ in 0..20 {
            if reply.body["errors"][0]["extensions"]["code"] != "UNAVAILABLE" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            reply = app.graphql(Some(token), query, variables.clone()).await;
        }
        answers.insert(name.into(), reply.body);
    }
    Value::Object(answers)
}

#[tokio::test]
async fn a_log_in_the_old_shape_replays_to_the_same_read_models() {
    let app = TestApp::spawn(env!("CARGO_BIN_EXE_adflow")).await;
    let recorded: Value = serde_json::from_str(ANSWERS).unwrap();
    let (tenant, campaign, end) = import(&app).await;
    let now = answers(&app, tenant, &end.to_string(), &recorded).await;
    for (part, answer) in recorded["answers"].as_object().unwrap() {
        assert_eq!(
            &now[part], answer,
            "{part}: today's read models differ from what the old code answered"
        );
    }
    let history = &now["history"]["data"]["history"]["entries"];
    let reports = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|entry| entry["eventType"] == "PerformanceReported")
        .count();
    assert_eq!(
        reports, 2,
        "the old log holds its two reports in the campaign's stream"
    );

    // After the upgrade: a resend of an old report records nothing, a new one lands in a day stream.
    let admin = app.token(tenant, Role::Admin);
    let old_report = history
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["eventType"] == "PerformanceReported")
        .unwrap()["data"]
        .clone();
    let path = format!("/v1/campaigns/{campaign}/performance");
    let resent = app.command(&path, Some(&admin), &old_report, &[]).await;
    assert_eq!(resent.status, StatusCode::OK, "{:?}", resent.body);
    assert_eq!(resent.body["position"], Value::Null, "already recorded");
    let mut new_report = old_report.clone();
    new_report["reportId"] = json!(Uuid::now_v7());
    let sent = app.command(&path, Some(&admin), &new_report, &[]).await;
    assert_eq!(sent.status, StatusCode::OK, "{:?}", sent.body);
    let position = sent.body["position"].as_str().unwrap().to_owned();
    let after = answers(&app, tenant, &position, &recorded).await;
    let before = &recorded["answers"]["performance"]["data"]["performance"];
    let total = &after["performance"]["data"]["performance"];
    let added: i64 = new_report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["impressions"].as_i64().unwrap())
        .sum();
    assert_eq!(
        total["impressions"].as_i64().unwrap(),
        before["impressions"].as_i64().unwrap() + added,
        "{after:?}"
    );
    assert_eq!(
        after["campaign"]["data"]["campaign"]["version"],
        recorded["answers"]["campaign"]["data"]["campaign"]["version"],
        "a new report leaves the campaign's stream as it was"
    );
}
