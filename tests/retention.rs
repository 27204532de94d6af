//! Retention (issue "Auditors"): `adflow retention sweep` removes what is past its category's
//! period — hourly platform figures in ClickHouse by monthly partition, refused commands in the
//! access log, CRM identifier keys (crypto-shredding) — keeps what is not, and records each removal
//! per tenant on the tenant's retention ledger.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::clickhouse::clickhouse_url;
use chrono::{Duration, Utc};
use serde_json::json;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

async fn clickhouse(sql: String) -> String {
    reqwest::Client::new()
        .post(clickhouse_url())
        .body(sql)
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn hourly_rows(app: &TestApp, tenant: Uuid) -> u64 {
    clickhouse(format!(
        "SELECT count() FROM {}.performance_hourly WHERE tenant_id = toUUID('{tenant}')",
        app.db.name
    ))
    .await
    .trim()
    .parse()
    .unwrap()
}

#[tokio::test]
async fn a_sweep_removes_what_is_past_its_period_keeps_the_rest_and_records_it() {
    let app = TestApp::spawn(BIN).await;
    let tenant = Uuid::now_v7();
    let now = Utc::now();
    // The analytics projector creates its tables at start: wait for them.
    for _ in 0..100 {
        let tables = clickhouse(format!(
            "SELECT count() FROM system.tables WHERE database = '{}' AND name = 'performance_hourly'",
            app.db.name
        ))
        .await;
        if tables.trim() == "1" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for (age_days, row) in [(200, 1), (1, 2)] {
        let hour = (now - Duration::days(age_days)).format("%Y-%m-%d %H:00:00");
        clickhouse(format!(
            "INSERT INTO {}.performance_hourly (tenant_id, campaign_id, platform, hour, ad_group, ad,
                 keyword, segment_id, impressions, clicks, conversions, cost_micros, revenue_micros,
                 report_id, log_commit, log_prepare, row_index)
             VALUES (toUUID('{tenant}'), toUUID('{}'), 'GOOGLE', toDateTime('{hour}', 'UTC'), 'g',
                 'a', 'k', toUUID('{}'), 100, 5, 1, 1000000, 0, toUUID('{}'), {row}, {row}, 0)",
            app.db.name,
            Uuid::now_v7(),
            Uuid::nil(),
            Uuid::now_v7()
        ))
        .await;
    }
    for age_days in [400, 1] {
        sqlx::query(
            "INSERT INTO access_log (tenant_id, at, actor, method, route, status, code)
             VALUES ($1, now() - make_interval(days => $2), 'user:x', 'POST', '/v1/campaigns', 403,
                     'forbidden')",
        )
        .bind(tenant)
        .bind(age_days)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
    let (old_key, new_key) = (Uuid::now_v7(), Uuid::now_v7());
    for (key_id, age_days) in [(old_key, 800), (new_key, 1)] {
        sqlx::query(
            "INSERT INTO data_subject_keys (key_id, tenant_id, subject_id, key, created_at)
             VALUES ($1, $2, $3, $4, now() - make_interval(days => $5))",
        )
        .bind(key_id)
        .bind(tenant)
        .bind(Uuid::now_v7())
        .bind(vec![7u8; 32])
        .bind(age_days)
        .execute(&app.db.pool)
        .await
        .unwrap();
    }
    assert_eq!(hourly_rows(&app, tenant).await, 2);

    let (ok, output) = app.run_binary(BIN, &["retention", "sweep"]).await;
    assert!(ok, "{output}");

    assert_eq!(
        hourly_rows(&app, tenant).await,
        1,
        "the old month is dropped"
    );
    let access: Vec<i32> = sqlx::query_scalar(
        "SELECT extract(day FROM now() - at)::int FROM access_log WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(access, [1]);
    let live: Vec<Uuid> = sqlx::query_scalar(
        "SELECT key_id FROM data_subject_keys WHERE tenant_id = $1 AND key IS NOT NULL",
    )
    .bind(tenant)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(live, [new_key]);

    // Each removal is in the tenant's trail, by the sweeper.
    let auditor = app.token(TenantId(tenant), Role::Auditor);
    // The history is a read model: wait until it has the three removals (up to 30 s: under the
    // whole suite its projector can lag by several seconds).
    let mut history = None;
    for _ in 0..600 {
        let reply = app
            .graphql(
                Some(&auditor),
                "query($id: ID!) { history(aggregateId: $id) { category entries { eventType actor data } } }",
                json!({"id": tenant}),
            )
            .await;
        let seen = reply.body["data"]["history"]["entries"]
            .as_array()
            .map_or(0, Vec::len);
        history = Some(reply);
        if seen >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let history = history.unwrap();
    let ledger = &history.body["data"]["history"];
    assert_eq!(ledger["category"], "retention", "{:?}", history.body);
    let mut swept: Vec<(String, u64)> = ledger["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["actor"], "system:retention");
            (
                e["data"]["category"].as_str().unwrap().to_owned(),
                e["data"]["removed"].as_u64().unwrap(),
            )
        })
        .collect();
    swept.sort();
    assert_eq!(
        swept,
        [
            ("ACCESS_LOG".to_owned(), 1),
            ("CRM_IDENTIFIERS".to_owned(), 1),
            ("RAW_PLATFORM_DATA".to_owned(), 1)
        ]
    );
    // A second sweep finds nothing more and records nothing.
    let (ok, output) = app.run_binary(BIN, &["retention", "sweep"]).await;
    assert!(ok, "{output}");
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'RetentionApplied' AND tenant_id = $1",
    )
    .bind(tenant)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(events, 3);
}
