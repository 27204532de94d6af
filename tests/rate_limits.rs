//! Command rate limits through HTTP: per caller, per tenant, `429` with `Retry-After`, and a
//! refused command appends nothing.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::campaign;
use reqwest::StatusCode;
use uuid::Uuid;

#[tokio::test]
async fn commands_over_a_limit_get_429_with_retry_after_per_caller_and_per_tenant() {
    let app = TestApp::spawn_with(
        env!("CARGO_BIN_EXE_adflow"),
        &[
            ("ADFLOW_RATE_LIMIT_PER_MINUTE", "5"),
            ("ADFLOW_TENANT_RATE_LIMIT_PER_MINUTE", "8"),
        ],
    )
    .await;
    let tenant = TenantId(Uuid::now_v7());
    let alice = app.token_for("alice", tenant, Role::Manager);
    let bob = app.token_for("bob", tenant, Role::Manager);
    let elsewhere = app.token_for("alice", TenantId(Uuid::now_v7()), Role::Manager);
    let create = |token: &str| {
        let token = token.to_owned();
        let app = &app;
        async move {
            app.command("/v1/campaigns", Some(&token), &campaign("Limited"), &[])
                .await
        }
    };

    for _ in 0..5 {
        assert_eq!(create(&alice).await.status, StatusCode::CREATED);
    }
    let limited = create(&alice).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(limited.body["code"], "rate_limited");
    assert_eq!(
        limited.header("content-type"),
        Some("application/problem+json")
    );
    let retry: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=12).contains(&retry), "one interval of 5/min: {retry}");

    // Bob has his own bucket, but the tenant's 8 run out after 3 of his.
    for _ in 0..3 {
        assert_eq!(create(&bob).await.status, StatusCode::CREATED);
    }
    assert_eq!(create(&bob).await.status, StatusCode::TOO_MANY_REQUESTS);
    // Another tenant is not affected.
    assert_eq!(create(&elsewhere).await.status, StatusCode::CREATED);

    let appended: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE event_type = 'CampaignCreated' AND stream_name LIKE '%' || $1 || '%'",
    )
    .bind(tenant.0.to_string())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(appended, 8, "refused commands append nothing");
}
