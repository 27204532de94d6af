//! Integrators' API keys through HTTP: shown once, stored hashed, scoped to a tenant and a role,
//! revocable, last use recorded, recorded as the actor of what they cause.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::{campaign, str_of};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn an_api_key_acts_with_its_role_in_its_tenant_until_revoked() {
    let app = TestApp::spawn(env!("CARGO_BIN_EXE_adflow")).await;
    let tenant = TenantId(Uuid::now_v7());
    let admin = app.token(tenant, Role::Admin);
    let manager = app.token(tenant, Role::Manager);

    let refused = app
        .command(
            "/v1/api-keys",
            Some(&manager),
            &json!({"name": "CRM", "role": "manager"}),
            &[],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "only an Admin manages keys"
    );
    let invalid = app
        .command(
            "/v1/api-keys",
            Some(&admin),
            &json!({"name": " ", "role": "owner"}),
            &[],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.body["errors"].as_array().map(Vec::len), Some(2));

    let created = app
        .command(
            "/v1/api-keys",
            Some(&admin),
            &json!({"name": "HubSpot sync", "role": "manager"}),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let key = str_of(&created.body, "/key").to_owned();
    let key_id = str_of(&created.body, "/id").to_owned();
    assert!(key.starts_with("adf_"));
    let stored: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM api_keys WHERE position($1 in encode(secret_hash, 'escape')) > 0 OR name = $1",
    )
    .bind(&key)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(stored, 0, "the secret is not stored");

    // The key creates a campaign in its tenant, as itself.
    let made = app
        .command("/v1/campaigns", Some(&key), &campaign("By key"), &[])
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let actor: String = sqlx::query_scalar(
        "SELECT actor FROM events WHERE stream_name LIKE '%' || $1 AND event_type = 'CampaignCreated'",
    )
    .bind(str_of(&made.body, "/id"))
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(actor, format!("key:{key_id}"));
    let used: bool =
        sqlx::query_scalar("SELECT last_used_at IS NOT NULL FROM api_keys WHERE key_id = $1::uuid")
            .bind(&key_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert!(used, "last use recorded");
    // Its role holds: a manager key may not change settings.
    let settings = app
        .command(
            "/v1/settings/guardrails",
            Some(&key),
            &json!({"autoApply": false, "minConfidenceBasisPoints": 9000, "maxDailyBudgetChangeBasisPoints": 2000}),
            &[],
        )
        .await;
    assert_eq!(settings.status, StatusCode::FORBIDDEN);

    // A tampered secret, and another tenant's admin, get nowhere.
    let tampered = format!("{}x", &key[..key.len() - 1]);
    let forged = app
        .command("/v1/campaigns", Some(&tampered), &campaign("x"), &[])
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let theirs = app
        .command(
            &format!("/v1/api-keys/{key_id}/revoke"),
            Some(&stranger),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    let revoked = app
        .command(
            &format!("/v1/api-keys/{key_id}/revoke"),
            Some(&admin),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{:?}", revoked.body);
    let after = app
        .command("/v1/campaigns", Some(&key), &campaign("x"), &[])
        .await;
    assert_eq!(
        after.status,
        StatusCode::UNAUTHORIZED,
        "a revoked key is refused"
    );
}

#[tokio::test]
async fn the_identity_providers_tokens_are_accepted_when_its_jwks_is_configured() {
    use adflow_testkit::identity_provider::{provider_token, JWKS};
    let jwks = std::env::temp_dir().join(format!("adflow-jwks-{}.json", Uuid::now_v7()));
    std::fs::write(&jwks, JWKS).unwrap();
    let app = TestApp::spawn_with(
        env!("CARGO_BIN_EXE_adflow"),
        &[
            ("ADFLOW_JWKS_PATH", jwks.to_str().unwrap()),
            ("ADFLOW_JWT_ISSUER", "https://id.example/"),
            ("ADFLOW_JWT_AUDIENCE", "adflow"),
        ],
    )
    .await;
    let tenant = Uuid::now_v7();
    let exp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 300;
    let claims = json!({"sub": "auth0|7", "tenant": tenant, "role": "manager",
                        "iss": "https://id.example/", "aud": "adflow", "exp": exp});
    let token = provider_token(jsonwebtoken::Algorithm::ES256, "ec-test", &claims);
    let made = app
        .command("/v1/campaigns", Some(&token), &campaign("Via SSO"), &[])
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let read = app
        .graphql(
            Some(&token),
            "query($min: String) { campaigns(minPosition: $min) { edges { node { name } } } }",
            json!({"min": str_of(&made.body, "/position")}),
        )
        .await;
    assert_eq!(
        read.body["data"]["campaigns"]["edges"][0]["node"]["name"],
        "Via SSO"
    );
    let mut foreign = claims.clone();
    foreign["aud"] = json!("another-app");
    let refused = app
        .command(
            "/v1/campaigns",
            Some(&provider_token(
                jsonwebtoken::Algorithm::ES256,
                "ec-test",
                &foreign,
            )),
            &campaign("x"),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    std::fs::remove_file(jwks).ok();
}
