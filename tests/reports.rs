//! Report exports (issue "Integrations", part): the CSV and XLSX of `GET /v1/reports/performance`
//! open with standard readers (Python's csv and openpyxl) and their totals equal GraphQL's over
//! the same filter, in the current and the previous period; JSON likewise; roles without money
//! get no money columns; bad parameters are problem+json.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::eventually;
use adflow_testkit::fixtures::{active_campaign, str_of};
use chrono::{Days, NaiveDate, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

/// What a spreadsheet user's standard library reads from the file: `[header, row, ...]`, cells as
/// text (openpyxl's numbers printed by Python).
const READER: &str = r#"
import csv, json, sys
path, kind = sys.argv[1], sys.argv[2]
if kind == "csv":
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
else:
    import openpyxl
    sheet = openpyxl.load_workbook(path, read_only=True)["Performance"]
    rows = [["" if c is None else (repr(c) if isinstance(c, float) else str(c)) for c in r]
            for r in sheet.iter_rows(values_only=True)]
print(json.dumps(rows))
"#;

fn python() -> String {
    std::env::var("ADFLOW_REPORT_READER_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// The file read back by Python, as `[header, rows...]`.
fn read_back(bytes: &[u8], kind: &str) -> Vec<Vec<String>> {
    let dir = std::env::temp_dir().join(format!("adflow-report-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("report.{kind}"));
    std::fs::write(&path, bytes).unwrap();
    let output = std::process::Command::new(python())
        .args(["-c", READER, path.to_str().unwrap(), kind])
        .output()
        .expect("python runs (ops/test.sh installs openpyxl for it)");
    std::fs::remove_dir_all(&dir).ok();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The row whose first cell is `key`, as column → cell.
fn row<'a>(table: &'a [Vec<String>], key: &str) -> std::collections::HashMap<&'a str, &'a str> {
    let found = table
        .iter()
        .find(|r| r[0] == key)
        .unwrap_or_else(|| panic!("no row {key} in {table:?}"));
    table[0]
        .iter()
        .map(String::as_str)
        .zip(found.iter().map(String::as_str))
        .collect()
}

fn number(cell: &str) -> f64 {
    cell.parse()
        .unwrap_or_else(|_| panic!("not a number: {cell:?}"))
}

async fn report(app: &TestApp, token: &str, query: &str) -> reqwest::Response {
    app.http
        .get(format!("{}/v1/reports/performance?{query}", app.query_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn graphql_totals(app: &TestApp, token: &str, from: NaiveDate, to: NaiveDate) -> Value {
    let reply = app
        .graphql(
            Some(token),
            "query($f: PerformanceFilter!) { performance(filter: $f) { impressions clicks conversions spendMicros revenueMicros } }",
            json!({"f": {"from": from.to_string(), "to": to.to_string()}}),
        )
        .await;
    reply.body["data"]["performance"].clone()
}

#[tokio::test]
async fn csv_and_xlsx_open_with_standard_readers_and_their_totals_equal_graphql() {
    let app = TestApp::spawn(BIN).await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let admin = app.token(tenant, Role::Admin);
    let viewer = app.token(tenant, Role::Viewer);
    let (first, v1) = active_campaign(&app, &manager, &admin).await;
    let (second, v2) = active_campaign(&app, &manager, &admin).await;
    // The period: days d..d+1; the previous period: d-2..d-1.
    let d = Utc::now().date_naive() + Days::new(10);
    let previous_day = d - Days::new(2);
    // (campaign, version, day, impressions, clicks, conversions, cost, revenue)
    let rows = [
        (&first, v1, d, 1_000, 50, 5, 40_123_456, 200_000_000),
        (&first, v1, d + Days::new(1), 2_000, 20, 0, 30_000_001, 0),
        (&second, v2, d, 500, 40, 8, 20_000_000, 300_000_000),
        (
            &second,
            v2,
            previous_day,
            800,
            16,
            2,
            10_000_000,
            50_000_000,
        ),
    ];
    let mut position = String::new();
    for (campaign, version, day, impressions, clicks, conversions, cost, revenue) in rows.iter() {
        let at = format!("{day}T09:00:00Z");
        let body = json!({
            "reportId": Uuid::now_v7(), "platform": "GOOGLE",
            "windowStart": at, "windowEnd": format!("{day}T10:00:00Z"),
            "rows": [{"hour": at, "adGroup": "Brand", "impressions": impressions, "clicks": clicks,
                      "conversions": conversions, "costMicros": cost, "revenueMicros": revenue}]
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
    let caught_up = app
        .graphql(
            Some(&manager),
            "query($f: PerformanceFilter!, $min: String) { performance(filter: $f, minPosition: $min) { impressions } }",
            json!({"f": {"from": previous_day.to_string(), "to": (d + Days::new(1)).to_string()}, "min": position}),
        )
        .await;
    assert_eq!(
        caught_up.body["data"]["performance"]["impressions"], 4_300,
        "{:?}",
        caught_up.body
    );
    let current = graphql_totals(&app, &manager, d, d + Days::new(1)).await;
    let previous = graphql_totals(&app, &manager, previous_day, d - Days::new(1)).await;
    assert_eq!(current["impressions"], 3_500);

    let period = format!("from={d}&to={}", d + Days::new(1));
    for kind in ["csv", "xlsx"] {
        let reply = report(
            &app,
            &manager,
            &format!(
                "{period}&groupBy=CAMPAIGN&compare=PREVIOUS_PERIOD&format={}",
                kind.to_uppercase()
            ),
        )
        .await;
        assert_eq!(reply.status(), StatusCode::OK);
        let disposition = reply.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            disposition.ends_with(&format!(".{kind}\"")),
            "{disposition}"
        );
        let table = read_back(&reply.bytes().await.unwrap(), kind);
        assert_eq!(table.len(), 4, "two campaigns and the total: {table:?}");
        let total = row(&table, "TOTAL");
        for (column, figures, field) in [
            ("impressions", &current, "impressions"),
            ("clicks", &current, "clicks"),
            ("conversions", &current, "conversions"),
            ("previous_impressions", &previous, "impressions"),
            ("previous_clicks", &previous, "clicks"),
        ] {
            assert_eq!(
                number(total[column]),
                figures[field].as_f64().unwrap(),
                "{kind} {column}"
            );
        }
        for (column, figures, field) in [
            ("spend", &current, "spendMicros"),
            ("revenue", &current, "revenueMicros"),
            ("previous_spend", &previous, "spendMicros"),
        ] {
            assert_eq!(
                (number(total[column]) * 1e6).round(),
                figures[field].as_f64().unwrap(),
                "{kind} {column}"
            );
        }
        let second_row = row(&table, &second);
        assert_eq!(number(second_row["impressions"]), 500.0);
        assert_eq!(number(second_row["previous_impressions"]), 800.0);
        assert_eq!(number(second_row["impressions_change_pct"]), -37.5);
        assert!(!second_row["campaign_name"].is_empty());
        // The sum of the rows is the total row.
        let summed: f64 = table[1..]
            .iter()
            .filter(|r| r[0] != "TOTAL")
            .map(|r| number(&r[2]))
            .sum();
        assert_eq!(summed, number(total["impressions"]));
    }
    // The CSV's money is exact text.
    let csv = report(&app, &manager, &format!("{period}&groupBy=CAMPAIGN"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains(",70.123457,") || csv.contains(",40.123456,"),
        "{csv}"
    );

    // JSON by day; a Viewer's has no money.
    let by_day: Value = report(&app, &manager, &format!("{period}&groupBy=DAY&format=JSON"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(by_day["rows"][0]["day"], d.to_string(), "{by_day}");
    assert_eq!(by_day["rows"][0]["impressions"], 1_500);
    assert_eq!(by_day["total"]["impressions"], current["impressions"]);
    assert_eq!(by_day["total"]["spend"], "90.123457");
    let viewers: Value = report(&app, &viewer, &format!("{period}&format=JSON"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(viewers["total"]["impressions"], 3_500);
    assert!(viewers["total"].get("spend").is_none(), "{viewers}");

    // Another tenant's report is empty; bad parameters and no credentials are refused.
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let theirs: Value = report(&app, &stranger, &format!("{period}&format=JSON"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["rows"], json!([]));
    assert_eq!(theirs["total"]["impressions"], 0);
    let bad = report(&app, &manager, &format!("{period}&format=PDF")).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        bad.headers()["content-type"].to_str().unwrap(),
        "application/problem+json"
    );
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["code"], "bad_parameter");
    assert!(problem["detail"].as_str().unwrap().starts_with("format "));
    let anonymous = app
        .http
        .get(format!("{}/v1/reports/performance?{period}", app.query_url))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}

/// The attachment of an e-mail, found and decoded by Python's `email` package, then read as CSV.
const MAIL_READER: &str = r#"
import csv, email, email.policy, io, json, sys
message = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
files = [(part.get_filename(), part.get_content_type(), part.get_content()) for part in message.iter_attachments()]
name, kind, content = files[0]
text = content.decode("utf-8") if isinstance(content, bytes) else content
print(json.dumps({"name": name, "type": kind, "subject": message["subject"],
                  "rows": list(csv.reader(io.StringIO(text)))}))
"#;

type Posted = std::sync::Arc<std::sync::Mutex<Vec<(axum::http::HeaderMap, Vec<u8>)>>>;

async fn take(
    axum::extract::State(posted): axum::extract::State<Posted>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::http::StatusCode {
    posted.lock().unwrap().push((headers, body.to_vec()));
    axum::http::StatusCode::NO_CONTENT
}

/// Standard Webhooks verification over the raw body.
fn signed(secret: &str, headers: &axum::http::HeaderMap, body: &[u8]) -> bool {
    use base64::Engine;
    use hmac::Mac;
    let header = |name: &str| headers[name].to_str().unwrap().to_owned();
    let key = base64::engine::general_purpose::STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", header("webhook-id"), header("webhook-timestamp")).as_bytes());
    mac.update(body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

#[tokio::test]
async fn scheduled_reports_arrive_by_webhook_and_by_email_with_graphqls_totals() {
    let sink = adflow_testkit::smtp::SmtpSink::start().await;
    let posted = Posted::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!(
        "http://localhost:{}/reports",
        listener.local_addr().unwrap().port()
    );
    let router = axum::Router::new()
        .route("/reports", axum::routing::post(take))
        .with_state(posted.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    let smtp = sink.url();
    let app = TestApp::spawn_with(
        BIN,
        &[
            ("ADFLOW_SMTP_URL", smtp.as_str()),
            ("ADFLOW_WEBHOOKS_ALLOW_PRIVATE", "true"),
            ("ADFLOW_REPORT_SCHEDULE_POLL_MS", "100"),
        ],
    )
    .await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token_for("mia", tenant, Role::Manager);
    let admin = app.token(tenant, Role::Admin);
    let (campaign, version) = active_campaign(&app, &manager, &admin).await;
    // The schedules' first runs go out at once for yesterday (no performance yet: the campaign
    // starts in a week); a run by hand reports day `d`, inside the campaign's schedule.
    let yesterday = Utc::now().date_naive() - Days::new(1);
    let d = Utc::now().date_naive() + Days::new(8);
    let at = format!("{d}T15:00:00Z");
    let body = json!({
        "reportId": Uuid::now_v7(), "platform": "GOOGLE",
        "windowStart": at, "windowEnd": format!("{d}T16:00:00Z"),
        "rows": [{"hour": at, "adGroup": "Brand", "impressions": 7_000, "clicks": 70,
                  "conversions": 7, "costMicros": 77_000_001, "revenueMicros": 0}]
    });
    let reported = app
        .command(
            &format!("/v1/campaigns/{campaign}/performance"),
            Some(&admin),
            &body,
            &[("if-match", &version.to_string())],
        )
        .await;
    assert_eq!(reported.status, StatusCode::OK, "{:?}", reported.body);
    let seen = app
        .graphql(
            Some(&manager),
            "query($f: PerformanceFilter!, $min: String) { performance(filter: $f, minPosition: $min) { impressions } }",
            json!({"f": {"from": d.to_string(), "to": d.to_string()}, "min": str_of(&reported.body, "/position")}),
        )
        .await;
    assert_eq!(
        seen.body["data"]["performance"]["impressions"], 7_000,
        "{:?}",
        seen.body
    );
    let figures = graphql_totals(&app, &manager, d, d).await;
    let nothing = graphql_totals(&app, &manager, yesterday, yesterday).await;
    assert_eq!(nothing["impressions"], 0);
    let prefs = app
        .command(
            "/v1/notification-preferences",
            Some(&manager),
            &json!({"email": "mia@example.com"}),
            &[],
        )
        .await;
    assert_eq!(prefs.status, StatusCode::OK, "{:?}", prefs.body);
    // Its projection first: the e-mail schedule reads the address from it.
    app.graphql(
        Some(&manager),
        "query($p: String) { notificationPreferences(minPosition: $p) { hasEmail } }",
        json!({"p": str_of(&prefs.body, "/position")}),
    )
    .await;

    let by_hook = app
        .command(
            "/v1/report-schedules",
            Some(&manager),
            &json!({"name": "Daily XLSX", "cadence": "DAILY", "groupBy": "CAMPAIGN", "format": "XLSX",
                    "comparePreviousPeriod": true, "webhookUrl": hook}),
            &[],
        )
        .await;
    assert_eq!(by_hook.status, StatusCode::CREATED, "{:?}", by_hook.body);
    let secret = str_of(&by_hook.body, "/webhookSecret").to_owned();
    let by_mail = app
        .command(
            "/v1/report-schedules",
            Some(&manager),
            &json!({"name": "Daily CSV", "cadence": "DAILY", "groupBy": "CAMPAIGN", "format": "CSV"}),
            &[],
        )
        .await;
    assert_eq!(by_mail.status, StatusCode::CREATED, "{:?}", by_mail.body);
    assert!(by_mail.body["webhookSecret"].is_null());

    // Each destination gets yesterday's (empty) report at once; then the runs by hand for `d`.
    let hook_reports = |count: usize| {
        let posted = posted.clone();
        async move {
            let what = format!("{count} reports at the webhook");
            eventually(30, &what, move || {
                let got = posted.lock().unwrap().clone();
                async move { (got.len() >= count).then_some(got) }
            })
            .await
        }
    };
    let mails = |count: usize| {
        let sink = sink.clone();
        async move {
            let what = format!("{count} report e-mails");
            eventually(30, &what, move || {
                let got = sink.received();
                async move { (got.len() >= count).then_some(got) }
            })
            .await
        }
    };
    let first_hook = hook_reports(1).await;
    let first_mail = mails(1).await;
    for schedule in [&by_hook, &by_mail] {
        let ran = app
            .command(
                &format!("/v1/report-schedules/{}/run", str_of(&schedule.body, "/id")),
                Some(&manager),
                &json!({"periodEnd": d.to_string()}),
                &[],
            )
            .await;
        assert_eq!(ran.status, StatusCode::OK, "{:?}", ran.body);
    }

    // The webhook: signed XLSX files whose totals are GraphQL's, yesterday's and d's.
    let delivered = hook_reports(2).await;
    for ((headers, file), expected) in delivered.iter().zip([&nothing, &figures]) {
        assert!(
            signed(&secret, headers, file),
            "the signature does not verify"
        );
        assert_eq!(
            headers["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        let table = read_back(file, "xlsx");
        let total = row(&table, "TOTAL");
        assert_eq!(
            number(total["impressions"]),
            expected["impressions"].as_f64().unwrap()
        );
        assert_eq!(
            (number(total["spend"]) * 1e6).round(),
            expected["spendMicros"].as_f64().unwrap()
        );
        assert_eq!(number(total["previous_impressions"]), 0.0);
    }
    assert_eq!(first_hook.len(), 1);

    // The e-mails: the CSV attached, read back by Python's email and csv packages.
    let received = mails(2).await;
    assert_eq!(first_mail.len(), 1);
    let mut read = Vec::new();
    for mail in &received {
        assert_eq!(mail.to, vec!["mia@example.com".to_owned()]);
        let dir = std::env::temp_dir().join(format!("adflow-mail-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("report.eml");
        std::fs::write(&path, mail.data.as_bytes()).unwrap();
        let output = std::process::Command::new(python())
            .args(["-c", MAIL_READER, path.to_str().unwrap()])
            .output()
            .unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        read.push(serde_json::from_slice::<Value>(&output.stdout).unwrap());
    }
    assert_eq!(read[0]["type"], "text/csv", "{}", read[0]);
    assert_eq!(
        read[0]["name"],
        format!("Daily-CSV-{yesterday}-{yesterday}.csv")
    );
    assert_eq!(
        read[0]["subject"],
        format!("[Adflow] Daily CSV: {yesterday} to {yesterday}")
    );
    assert_eq!(read[1]["name"], format!("Daily-CSV-{d}-{d}.csv"));
    let rows: Vec<Vec<String>> = serde_json::from_value(read[1]["rows"].clone()).unwrap();
    let total = row(&rows, "TOTAL");
    assert_eq!(
        number(total["impressions"]),
        figures["impressions"].as_f64().unwrap()
    );
    assert_eq!(total["spend"], "77.000001");
    let rows: Vec<Vec<String>> = serde_json::from_value(read[0]["rows"].clone()).unwrap();
    assert_eq!(row(&rows, "TOTAL")["impressions"], "0");

    // Logged, once each, and due again tomorrow at 06:00 UTC.
    let runs: Vec<(NaiveDate, bool, Option<String>)> =
        sqlx::query_as("SELECT period_to, delivered, error FROM report_runs ORDER BY id")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(runs.len(), 4, "{runs:?}");
    assert!(
        runs.iter()
            .all(|(_, delivered, error)| *delivered && error.is_none()),
        "{runs:?}"
    );
    assert_eq!(runs.iter().filter(|(end, _, _)| *end == d).count(), 2);
    let next: Vec<chrono::DateTime<Utc>> =
        sqlx::query_scalar("SELECT next_run_at FROM report_schedules")
            .fetch_all(&app.db.pool)
            .await
            .unwrap();
    for next in next {
        assert!(next > Utc::now());
        assert_eq!(next.format("%H:%M").to_string(), "06:00");
    }
}
