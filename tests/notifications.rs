//! Notifications (issue "Integrations", part): an anomaly alert reaches the in-app feed (query,
//! read marks, subscription), a local SMTP sink as an e-mail with the right content, and a
//! Slack-compatible receiver with the documented payload shape — once each, for the users who
//! asked for them; a proposal waiting for approval goes to the feed only by default.

use adflow_application::{Application, Command, Expected};
use adflow_auth::Role;
use adflow_domain::monitoring::{
    monitor_stream_id, AnomalyMetric, CampaignMonitor, Finding, MonitorCommand,
};
use adflow_domain::TenantId;
use adflow_event_store::personal::{SealingStore, SubjectKeys};
use adflow_event_store::postgres::PostgresEventStore;
use adflow_event_store::EventMetadata;
use adflow_testkit::app::TestApp;
use adflow_testkit::eventually;
use adflow_testkit::fixtures::{active_campaign, str_of};
use adflow_testkit::smtp::SmtpSink;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

type Received = Arc<Mutex<Vec<(String, Value)>>>;

async fn slack(State(received): State<Received>, headers: HeaderMap, body: String) -> StatusCode {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let Ok(payload) = serde_json::from_str(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    received.lock().unwrap().push((content_type, payload));
    StatusCode::OK
}

/// A quoted-printable body decoded, as a mail client shows it (RFC 2045 6.7): soft line breaks
/// joined, `=XX` octets restored.
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// What the anomaly worker records when the detector finds spend far above its range.
async fn record_spend_anomaly(app: &TestApp, tenant: TenantId, campaign: Uuid) {
    let pool = app.db.pool.clone();
    let store = SealingStore::new(
        Arc::new(PostgresEventStore::new(pool.clone())),
        SubjectKeys::new(pool),
    );
    Application::new(Arc::new(store))
        .execute::<CampaignMonitor>(Command {
            tenant,
            aggregate_id: monitor_stream_id(campaign),
            expected: Expected::Latest,
            command: MonitorCommand::RecordFindings {
                campaign_id: campaign,
                findings: vec![Finding {
                    metric: AnomalyMetric::Spend,
                    hour: Utc.with_ymd_and_hms(2026, 12, 1, 14, 0, 0).unwrap(),
                    window_hours: 3,
                    observed: Some(480_000_000.0),
                    expected: 120_000_000.0,
                    low: 60_000_000.0,
                    high: Some(200_000_000.0),
                }],
                detector: "seasonal-robust@1".into(),
            },
            metadata: EventMetadata {
                tenant_id: tenant.0,
                actor: "system:anomaly-detector".into(),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::now_v7(),
                extra: Default::default(),
            },
            once_per_cause: false,
        })
        .await
        .unwrap();
}

#[tokio::test]
async fn an_anomaly_alert_reaches_the_feed_the_mail_sink_and_slack_once_each() {
    let sink = SmtpSink::start().await;
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let slack_url = format!(
        "http://localhost:{}/services/T000/B000/xyz",
        listener.local_addr().unwrap().port()
    );
    let router = axum::Router::new()
        .route("/services/T000/B000/xyz", axum::routing::post(slack))
        .with_state(received.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let smtp_url = sink.url();
    let app = TestApp::spawn_with(
        BIN,
        &[
            ("ADFLOW_SMTP_URL", smtp_url.as_str()),
            ("ADFLOW_SMTP_FROM", "Adflow Alerts <alerts@adflow.test>"),
            ("ADFLOW_APP_URL", "https://app.adflow.test"),
            ("ADFLOW_WEBHOOKS_ALLOW_PRIVATE", "true"),
            ("ADFLOW_NOTIFICATION_POLL_MS", "50"),
        ],
    )
    .await;
    let tenant = TenantId(Uuid::now_v7());
    let ana = app.token_for("ana", tenant, Role::Admin);
    let vic = app.token_for("vic", tenant, Role::Viewer);

    // A bad address is refused with the field named; nothing is recorded.
    let refused = app
        .command(
            "/v1/notification-preferences",
            Some(&ana),
            &json!({"email": "ana@localhost"}),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.to_string().contains("email"),
        "{:?}",
        refused.body
    );
    let set = app
        .command(
            "/v1/notification-preferences",
            Some(&ana),
            &json!({"email": "ana@example.com", "slackWebhookUrl": slack_url}),
            &[],
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{:?}", set.body);
    let position = str_of(&set.body, "/position").to_owned();
    let prefs = app
        .graphql(
            Some(&ana),
            "query($p: String) { notificationPreferences(minPosition: $p) { hasEmail hasSlackWebhook channels { kind inApp email slack } } }",
            json!({"p": position}),
        )
        .await;
    let prefs = &prefs.body["data"]["notificationPreferences"];
    assert_eq!(prefs["hasEmail"], true, "{prefs}");
    assert_eq!(prefs["hasSlackWebhook"], true);
    assert_eq!(
        prefs["channels"][1],
        json!({"kind": "APPROVAL_WAITING", "inApp": true, "email": false, "slack": false})
    );
    // The address is sealed in the log.
    let in_clear: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE data::text LIKE '%ana@example.com%'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(in_clear, 0);

    let (campaign_id, version) = active_campaign(&app, &ana, &ana).await;
    let campaign_id: Uuid = campaign_id.parse().unwrap();

    // Vic listens; the detector records a spend anomaly.
    let mut socket = adflow_testkit::ws::connect(&app.subscription_url()).await;
    adflow_testkit::ws::init(&mut socket, &vic).await;
    adflow_testkit::ws::subscribe(
        &mut socket,
        "n",
        "subscription { notificationRaised { id kind severity title campaignId read } }",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    record_spend_anomaly(&app, tenant, campaign_id).await;
    let heard = adflow_testkit::ws::next_data(&mut socket, Duration::from_secs(30)).await;
    let heard = &heard["notificationRaised"];
    assert_eq!(heard["kind"], "ANOMALY_ALERT", "{heard}");
    assert_eq!(heard["severity"], "WARNING");
    assert_eq!(heard["title"], "Anomaly in SPEND: 480.00");
    assert_eq!(heard["campaignId"], campaign_id.to_string());
    let notification = heard["id"].as_str().unwrap().to_owned();

    // The e-mail, at the sink, to Ana only (Vic gave no address).
    let mail = eventually(30, "an e-mail at the sink", || async {
        sink.received().into_iter().next()
    })
    .await;
    assert_eq!(mail.from, "alerts@adflow.test");
    assert_eq!(mail.to, vec!["ana@example.com".to_owned()]);
    let data = mail.data.replace("\r\n", "\n");
    assert!(
        data.contains("Content-Transfer-Encoding: quoted-printable"),
        "{data}"
    );
    let data = quoted_printable(&data);
    assert!(
        data.contains("Subject: [Adflow] WARNING: Anomaly in SPEND: 480.00"),
        "{data}"
    );
    assert!(data.contains("To: ana@example.com"), "{data}");
    for line in [
        "SPEND over the 3 hours to 2026-12-01 14:00 UTC: observed 480.00, expected 120.00 (normal range 60.00 to 200.00).",
        &format!("Campaign: {campaign_id}"),
        &format!("Open it: https://app.adflow.test/campaigns/{campaign_id}"),
    ] {
        assert!(data.contains(line), "{line} not in {data}");
    }

    // The Slack message, in the shape Slack's incoming webhooks document.
    let (content_type, payload) = eventually(30, "a Slack message", || async {
        received.lock().unwrap().first().cloned()
    })
    .await;
    assert_eq!(content_type, "application/json");
    assert_eq!(payload["text"], "WARNING: Anomaly in SPEND: 480.00");
    let blocks = payload["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert_eq!(blocks[0]["text"]["text"], "Anomaly in SPEND: 480.00");
    assert_eq!(blocks[1]["type"], "section");
    assert_eq!(blocks[1]["text"]["type"], "mrkdwn");
    assert!(blocks[1]["text"]["text"]
        .as_str()
        .unwrap()
        .contains("observed 480.00"));
    assert_eq!(blocks[2]["type"], "context");
    assert_eq!(blocks[2]["elements"][0]["type"], "mrkdwn");
    assert!(blocks[2]["elements"][0]["text"]
        .as_str()
        .unwrap()
        .contains(&format!(
            "<https://app.adflow.test/campaigns/{campaign_id}|campaign {campaign_id}>"
        )));

    // A waiting proposal goes to the feed, not by e-mail or Slack (the default for its kind).
    let proposed = app
        .command(
            &format!("/v1/campaigns/{campaign_id}/proposals"),
            Some(&ana),
            &json!({"action": {"kind": "PAUSE"}, "reason": "cost per conversion far above target",
                    "confidenceBasisPoints": 9000, "modelVersion": "rules@1"}),
            &[("if-match", &version.to_string())],
        )
        .await;
    assert_eq!(proposed.status, StatusCode::OK, "{:?}", proposed.body);
    let position = str_of(&proposed.body, "/position").to_owned();
    let feed = app
        .graphql(
            Some(&vic),
            "query($p: String) { notifications(first: 10, minPosition: $p) { unread nextCursor items { id kind title read } } }",
            json!({"p": position}),
        )
        .await;
    let feed = &feed.body["data"]["notifications"];
    assert_eq!(feed["unread"], 2, "{feed}");
    assert_eq!(feed["items"][0]["kind"], "APPROVAL_WAITING", "{feed}");
    assert_eq!(
        feed["items"][0]["title"],
        "Approval waiting: pause the campaign"
    );
    assert_eq!(feed["items"][1]["id"], notification.as_str());

    // Vic reads the alert; Ana's marks are her own.
    let read = app
        .command(
            "/v1/notifications/read",
            Some(&vic),
            &json!({"notificationIds": [notification]}),
            &[],
        )
        .await;
    assert_eq!(read.status, StatusCode::OK, "{:?}", read.body);
    let position = str_of(&read.body, "/position").to_owned();
    let unread = |token: String| {
        let app = &app;
        let position = position.clone();
        async move {
            let reply = app
                .graphql(
                    Some(&token),
                    "query($p: String) { notifications(unreadOnly: true, minPosition: $p) { unread items { kind } } }",
                    json!({"p": position}),
                )
                .await;
            reply.body["data"]["notifications"].clone()
        }
    };
    let vics = unread(vic.clone()).await;
    assert_eq!(vics["unread"], 1, "{vics}");
    assert_eq!(vics["items"], json!([{"kind": "APPROVAL_WAITING"}]));
    assert_eq!(unread(ana.clone()).await["unread"], 2);

    // Once each: nothing more arrives, and the outbox says SENT.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(sink.received().len(), 1);
    assert_eq!(received.lock().unwrap().len(), 1);
    let statuses: Vec<(String, String)> =
        sqlx::query_as("SELECT channel, status FROM notification_deliveries ORDER BY channel")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        statuses,
        vec![
            ("EMAIL".to_owned(), "SENT".to_owned()),
            ("SLACK".to_owned(), "SENT".to_owned())
        ]
    );
    // Another tenant sees none of it.
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let theirs = app
        .graphql(
            Some(&stranger),
            "{ notifications { unread items { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(theirs.body["data"]["notifications"]["unread"], 0);
}

#[tokio::test]
async fn pacing_is_judged_against_the_daily_budgets_once_a_day_per_campaign() {
    use adflow_projections::analytics::Analytics;
    let app = TestApp::spawn(BIN).await;
    let tenant = TenantId(Uuid::now_v7());
    let admin = app.token(tenant, Role::Admin);
    // Two active campaigns with a daily budget of 50 each; on day `d` by noon (plan: 25) one has
    // spent 45 and the other 5.
    let (fast, fast_version) = active_campaign(&app, &admin, &admin).await;
    let (slow, slow_version) = active_campaign(&app, &admin, &admin).await;
    let d = Utc::now().date_naive() + chrono::Days::new(9);
    let mut position = String::new();
    for (campaign, version, cost) in [
        (&fast, fast_version, 45_000_000),
        (&slow, slow_version, 5_000_000),
    ] {
        let body = json!({
            "reportId": Uuid::now_v7(), "platform": "GOOGLE",
            "windowStart": format!("{d}T00:00:00Z"), "windowEnd": format!("{d}T12:00:00Z"),
            "rows": [{"hour": format!("{d}T09:00:00Z"), "adGroup": "Brand", "impressions": 1_000,
                      "clicks": 10, "conversions": 1, "costMicros": cost, "revenueMicros": 0}]
        });
        let reply = app
            .command(
                &format!("/v1/campaigns/{campaign}/performance"),
                Some(&admin),
                &body,
                &[("if-match", &version.to_string())],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        position = str_of(&reply.body, "/position").to_owned();
    }
    let seen = app
        .graphql(
            Some(&admin),
            "query($f: PerformanceFilter!, $min: String) { performance(filter: $f, minPosition: $min) { spendMicros } }",
            json!({"f": {"from": d.to_string(), "to": d.to_string()}, "min": position}),
        )
        .await;
    assert_eq!(
        seen.body["data"]["performance"]["spendMicros"], 50_000_000,
        "{:?}",
        seen.body
    );

    let analytics =
        Analytics::new(&adflow_testkit::clickhouse::clickhouse_url(), &app.db.name).unwrap();
    let noon = d.and_hms_opt(12, 0, 0).unwrap().and_utc();
    assert_eq!(
        adflow::pacing::check(&app.db.pool, &analytics, noon)
            .await
            .unwrap(),
        2
    );
    // An hour later the same judgement raises nothing new: once a day per campaign and kind.
    let later = noon + chrono::Duration::hours(1);
    assert_eq!(
        adflow::pacing::check(&app.db.pool, &analytics, later)
            .await
            .unwrap(),
        0
    );
    let feed = app
        .graphql(
            Some(&admin),
            "{ notifications { unread items { kind severity title body campaignId } } }",
            json!({}),
        )
        .await;
    let items = feed.body["data"]["notifications"]["items"]
        .as_array()
        .unwrap()
        .clone();
    let pacing: Vec<&Value> = items
        .iter()
        .filter(|n| n["kind"] == "PACING_ALERT")
        .collect();
    assert_eq!(pacing.len(), 2, "{items:?}");
    let of = |campaign: &str| {
        pacing
            .iter()
            .find(|n| n["campaignId"] == campaign)
            .copied()
            .unwrap_or_else(|| panic!("no alert for {campaign}: {pacing:?}"))
            .clone()
    };
    let over = of(&fast);
    assert_eq!(over["title"], "Over-spending today");
    assert_eq!(over["severity"], "WARNING");
    assert_eq!(
        over["body"],
        "Spent 45.00 of a daily budget of 50.00 with 50 % of the day gone (plan: 25.00)."
    );
    assert_eq!(of(&slow)["title"], "Under-spending today");
}
