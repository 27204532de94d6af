//! GraphQL for integrators (issue "Integrations", part): the command API's API keys work on
//! GraphQL with the same tenant and role; a caller past its GraphQL rate limit gets the coded
//! `RATE_LIMITED` error with `Retry-After`; both APIs answer `GET /v1/version`.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::{campaign, str_of};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

async fn api_key(app: &TestApp, admin: &str, role: &str) -> (String, String) {
    let created = app
        .command(
            "/v1/api-keys",
            Some(admin),
            &json!({"name": "BI export", "role": role}),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    (
        str_of(&created.body, "/id").to_owned(),
        str_of(&created.body, "/key").to_owned(),
    )
}

#[tokio::test]
async fn an_api_key_reads_graphql_with_its_tenant_and_role_until_revoked() {
    let app = TestApp::spawn(BIN).await;
    let tenant = TenantId(Uuid::now_v7());
    let admin = app.token(tenant, Role::Admin);
    let made = app
        .command(
            "/v1/campaigns",
            Some(&admin),
            &campaign("Read by a key"),
            &[],
        )
        .await;
    let id = str_of(&made.body, "/id").to_owned();
    let (key_id, viewer_key) = api_key(&app, &admin, "viewer").await;

    // Read-your-writes: the campaigns read model may be behind the append on a busy machine.
    let position = str_of(&made.body, "/position").to_owned();
    let query = "query($id: ID!, $p: String) { campaign(id: $id, minPosition: $p) { name totalBudgetMicros } }";
    let read = app
        .graphql(Some(&viewer_key), query, json!({"id": id, "p": position}))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(
        read.body["data"]["campaign"]["name"], "Read by a key",
        "{:?}",
        read.body
    );
    // A viewer key is a Viewer: no money.
    assert_eq!(read.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    // Another tenant's campaign does not exist for it.
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let (_, stranger_key) = api_key(&app, &stranger, "admin").await;
    let elsewhere = app
        .graphql(Some(&stranger_key), query, json!({"id": id, "p": position}))
        .await;
    assert!(
        elsewhere.body["data"]["campaign"].is_null(),
        "{:?}",
        elsewhere.body
    );

    let revoked = app
        .command(
            &format!("/v1/api-keys/{key_id}/revoke"),
            Some(&admin),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK);
    let refused = app
        .graphql(Some(&viewer_key), query, json!({"id": id, "p": position}))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        refused.body["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let forged = format!("{}x", &viewer_key[..viewer_key.len() - 1]);
    let refused = app
        .graphql(Some(&forged), query, json!({"id": id, "p": position}))
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn past_its_graphql_limit_a_caller_gets_the_coded_error_and_retry_after() {
    let app = TestApp::spawn_with(BIN, &[("ADFLOW_GRAPHQL_RATE_LIMIT_PER_MINUTE", "5")]).await;
    let tenant = TenantId(Uuid::now_v7());
    let admin = app.token(tenant, Role::Admin);
    let (_, key) = api_key(&app, &admin, "analyst").await;
    for _ in 0..5 {
        let ok = app.graphql(Some(&key), "{ __typename }", json!({})).await;
        assert_eq!(ok.status, StatusCode::OK, "{:?}", ok.body);
    }
    let limited = app.graphql(Some(&key), "{ __typename }", json!({})).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        limited.body["errors"][0]["extensions"]["code"],
        "RATE_LIMITED"
    );
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Another caller of the tenant has its own bucket.
    let other = app.token(tenant, Role::Viewer);
    let ok = app.graphql(Some(&other), "{ __typename }", json!({})).await;
    assert_eq!(ok.status, StatusCode::OK);
}

#[tokio::test]
async fn both_apis_say_their_version() {
    let app = TestApp::spawn(BIN).await;
    for (base, api) in [(&app.command_url, "command"), (&app.query_url, "query")] {
        let reply: serde_json::Value = app
            .http
            .get(format!("{base}/v1/version"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(reply["api"], api);
        assert_eq!(reply["version"], env!("CARGO_PKG_VERSION"));
    }
}

#[tokio::test]
async fn configured_origins_get_cors_and_others_do_not() {
    let app = TestApp::spawn_with(
        BIN,
        &[("ADFLOW_CORS_ALLOWED_ORIGINS", "https://app.example.com")],
    )
    .await;
    for base in [&app.command_url, &app.query_url] {
        let preflight = |origin: &'static str| {
            app.http
                .request(reqwest::Method::OPTIONS, format!("{base}/graphql"))
                .header("origin", origin)
                .header("access-control-request-method", "POST")
                .header(
                    "access-control-request-headers",
                    "authorization,content-type",
                )
                .send()
        };
        let allowed = preflight("https://app.example.com").await.unwrap();
        assert_eq!(
            allowed.headers()["access-control-allow-origin"],
            "https://app.example.com"
        );
        let refused = preflight("https://evil.example").await.unwrap();
        assert!(refused
            .headers()
            .get("access-control-allow-origin")
            .is_none());
    }
}

#[tokio::test]
async fn a_persisted_query_runs_by_its_hash_once_it_was_sent() {
    use sha2::{Digest, Sha256};
    let app = TestApp::spawn(BIN).await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Analyst);
    let query = "{ __typename }";
    let hash: String = Sha256::digest(query.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let persisted = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let send = |body: serde_json::Value| {
        app.http
            .post(format!("{}/graphql", app.query_url))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let unknown: serde_json::Value = send(json!({"extensions": persisted}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        unknown["errors"][0]["message"], "PersistedQueryNotFound",
        "{unknown}"
    );
    let first: serde_json::Value = send(json!({"query": query, "extensions": persisted}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["data"]["__typename"], "Query", "{first}");
    let by_hash: serde_json::Value = send(json!({"extensions": persisted}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_hash["data"]["__typename"], "Query", "{by_hash}");
}
