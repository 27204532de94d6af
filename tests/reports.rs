//! Report exports (issue "Integrations", part): the CSV and XLSX of `GET /v1/reports/performance`
//! open with standard readers (Python's csv and openpyxl) and their totals equal GraphQL's over
//! the same filter, in the current and the previous period; JSON likewise; roles without money
//! get no money columns; bad parameters are problem+json.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
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
