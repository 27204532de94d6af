//! Inbound webhooks (issue "Integrations", part): a CRM pushes leads and offline conversions
//! signed the Standard Webhooks way; a replayed message, a stale timestamp, a bad signature or an
//! unknown endpoint records nothing; what is accepted becomes events, the lead's contact sealed.

use adflow_auth::Role;
use adflow_domain::inbound::lead_subject;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::{campaign, str_of};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

/// Signs as a sender following the Standard Webhooks specification would.
fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

async fn push(
    app: &TestApp,
    path: &str,
    secret: &str,
    id: &str,
    age_seconds: i64,
    body: &Value,
) -> (StatusCode, Value) {
    let body = body.to_string();
    let timestamp = chrono::Utc::now().timestamp() - age_seconds;
    let response = app
        .http
        .post(format!("{}{path}", app.command_url))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", sign(secret, id, timestamp, &body))
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn count(app: &TestApp, event_type: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = $1")
        .bind(event_type)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn signed_pushes_become_events_once_and_nothing_else_gets_in() {
    let app = TestApp::spawn(BIN).await;
    let tenant = TenantId(Uuid::now_v7());
    let admin = app.token(tenant, Role::Admin);
    let manager = app.token(tenant, Role::Manager);
    let refused = app
        .command(
            "/v1/inbound-endpoints",
            Some(&manager),
            &json!({"source": "CRM"}),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let created = app
        .command(
            "/v1/inbound-endpoints",
            Some(&admin),
            &json!({"source": "LINKEDIN_LEAD_GEN"}),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let path = str_of(&created.body, "/path").to_owned();
    let secret = str_of(&created.body, "/secret").to_owned();
    let made = app
        .command("/v1/campaigns", Some(&manager), &campaign("Leads"), &[])
        .await;
    let campaign_id = str_of(&made.body, "/id").to_owned();
    let email = format!("lead+{}@example.com", Uuid::now_v7());
    let lead = json!({"type": "lead.submitted", "campaignId": campaign_id,
        "leadId": "urn:li:leadGenFormResponse:1", "formId": "urn:li:leadGenForm:9",
        "submittedAt": "2026-12-01T09:30:00Z", "email": email, "name": "Ana Ruiz"});

    let (status, answer) = push(&app, &path, &secret, "msg_1", 0, &lead).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["duplicate"], false);
    assert_eq!(answer["recorded"], true);
    // The same message again: a duplicate, nothing recorded.
    let (status, answer) = push(&app, &path, &secret, "msg_1", 0, &lead).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["duplicate"], true, "{answer}");
    // Another message with the same lead (a platform's retry): recorded once all the same.
    let (_, answer) = push(&app, &path, &secret, "msg_2", 0, &lead).await;
    assert_eq!(
        (answer["duplicate"].clone(), answer["recorded"].clone()),
        (json!(false), json!(false))
    );
    assert_eq!(count(&app, "LeadCaptured").await, 1);

    // Nothing unsigned, stale, forged or misaddressed gets in.
    let other = json!({"type": "lead.submitted", "campaignId": campaign_id,
        "leadId": "urn:li:leadGenFormResponse:2", "formId": "f", "submittedAt": "2026-12-01T09:30:00Z"});
    let (status, answer) = push(&app, &path, &secret, "msg_3", 301, &other).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["code"], "bad_signature");
    assert!(answer["detail"].as_str().unwrap().contains("timestamp"));
    let forged = "whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let (status, _) = push(&app, &path, forged, "msg_4", 0, &other).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = push(
        &app,
        &format!("/v1/inbound/{}", Uuid::now_v7()),
        &secret,
        "msg_5",
        0,
        &other,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let unsigned = app
        .http
        .post(format!("{}{path}", app.command_url))
        .json(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let (status, answer) = push(
        &app,
        &path,
        &secret,
        "msg_6",
        0,
        &json!({"type": "lead.submitted", "campaignId": Uuid::now_v7(), "leadId": "x",
                "formId": "f", "submittedAt": "2026-12-01T09:30:00Z"}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    let (status, answer) = push(&app, &path, &secret, "msg_7", 0, &json!({"type": "nope"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert_eq!(count(&app, "LeadCaptured").await, 1);

    // An offline conversion from the CRM.
    let deal = json!({"type": "conversion.offline", "campaignId": campaign_id,
        "conversionId": "deal-981", "occurredAt": "2026-12-02T12:00:00Z",
        "valueMicros": 12_500_000_000i64, "currency": "EUR"});
    let (status, answer) = push(&app, &path, &secret, "msg_8", 0, &deal).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["recorded"], true);
    let recorded: Value = sqlx::query_scalar(
        "SELECT data FROM events WHERE event_type = 'OfflineConversionRecorded'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(recorded["valueMicros"], 12_500_000_000i64);
    assert_eq!(recorded["currency"], "EUR");

    // The lead's contact is sealed in the log, under the lead's own subject, and erasable.
    let in_clear: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE data::text LIKE '%' || $1 || '%'")
            .bind(&email)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(in_clear, 0);
    let subject = lead_subject(&email);
    // The export scans the log, which shows an append once no older transaction is open.
    let export = adflow_testkit::eventually(30, "the lead in the export", || async {
        let exported = app
            .http
            .get(format!("{}/v1/data-subjects/{subject}", app.command_url))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        (exported["records"].as_array()?.len() >= 2).then_some(exported)
    })
    .await;
    let values: Vec<&str> = export["records"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["value"].as_str())
        .collect();
    assert!(values.contains(&email.as_str()), "{export}");
    assert!(values.contains(&"Ana Ruiz"), "{export}");
    let actor: String =
        sqlx::query_scalar("SELECT actor FROM events WHERE event_type = 'LeadCaptured'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(actor.starts_with("inbound:"), "{actor}");
}
