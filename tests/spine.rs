//! End to end through the running binary: HTTP command → event store → projection → GraphQL.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::{Reply, TestApp};
use adflow_testkit::fixtures::{active_campaign, campaign, google_structure, str_of};
use chrono::{Days, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;
use uuid::Uuid;

async fn app() -> TestApp {
    TestApp::spawn(env!("CARGO_BIN_EXE_adflow")).await
}

const CAMPAIGN: &str = "query($id: ID!, $min: String) {
  campaign(id: $id, minPosition: $min) { id name status objective platforms currency totalBudgetMicros version startDate endDate }
}";

const CAMPAIGNS: &str = "query($first: Int, $after: String, $min: String) {
  campaigns(first: $first, after: $after, minPosition: $min) {
    edges { cursor node { id name version } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}";

async fn create(app: &TestApp, token: &str, name: &str) -> Reply {
    let reply = app
        .command("/v1/campaigns", Some(token), &campaign(name), &[])
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
    reply
}

#[tokio::test]
async fn a_created_campaign_is_readable_through_graphql_by_its_tenant_only() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let token = app.token(tenant, Role::Manager);
    let created = create(&app, &token, "Q1 pipeline").await;
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert!(created.header("x-request-id").is_some());
    let id = str_of(&created.body, "/id").to_owned();
    let position = str_of(&created.body, "/position").to_owned();

    let read = app
        .graphql(Some(&token), CAMPAIGN, json!({"id": id, "min": position}))
        .await;
    assert_eq!(read.status, StatusCode::OK);
    let campaign = &read.body["data"]["campaign"];
    assert_eq!(campaign["name"], "Q1 pipeline");
    assert_eq!(campaign["status"], "DRAFT");
    assert_eq!(campaign["objective"], "LEAD_GENERATION");
    assert_eq!(campaign["platforms"], json!(["LINKEDIN", "GOOGLE"]));
    assert_eq!(campaign["totalBudgetMicros"], 25_000_000_000i64);
    assert_eq!(
        campaign["currency"], "USD",
        "the default when the request names none"
    );
    assert_eq!(campaign["version"], 1);

    // Another tenant sees nothing and can change nothing.
    let intruder = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let other = app
        .graphql(Some(&intruder), CAMPAIGN, json!({"id": id}))
        .await;
    assert_eq!(other.body["data"]["campaign"], Value::Null);
    let list = app
        .graphql(Some(&intruder), CAMPAIGNS, json!({"first": 10}))
        .await;
    assert_eq!(list.body["data"]["campaigns"]["edges"], json!([]));
    let rename = app
        .command(
            &format!("/v1/campaigns/{id}/rename"),
            Some(&intruder),
            &json!({"name": "mine"}),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(rename.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn edits_need_the_current_version() {
    let app = app().await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    let id = str_of(&create(&app, &token, "Q1").await.body, "/id").to_owned();
    let path = format!("/v1/campaigns/{id}/rename");

    let missing = app
        .command(&path, Some(&token), &json!({"name": "Q2"}), &[])
        .await;
    assert_eq!(missing.status, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(missing.body["code"], "if_match_required");

    let renamed = app
        .command(
            &path,
            Some(&token),
            &json!({"name": "Q2"}),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    assert_eq!(renamed.body["version"], 2);

    let stale = app
        .command(
            &path,
            Some(&token),
            &json!({"name": "Q3"}),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.body["code"], "version_conflict");
    assert_eq!(stale.body["currentVersion"], 2);
    assert_eq!(
        stale.header("content-type"),
        Some("application/problem+json")
    );

    let budget = app
        .command(
            &format!("/v1/campaigns/{id}/budget"),
            Some(&token),
            &json!({"totalBudgetMicros": 7}),
            &[("if-match", "2")],
        )
        .await;
    assert_eq!(budget.status, StatusCode::OK);
    let position = str_of(&budget.body, "/position").to_owned();
    let read = app
        .graphql(Some(&token), CAMPAIGN, json!({"id": id, "min": position}))
        .await;
    assert_eq!(read.body["data"]["campaign"]["name"], "Q2");
    assert_eq!(read.body["data"]["campaign"]["totalBudgetMicros"], 7);
    assert_eq!(read.body["data"]["campaign"]["version"], 3);
}

#[tokio::test]
async fn bad_input_is_refused_with_every_invalid_field() {
    let app = app().await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let invalid = json!({
        "name": "", "objective": "WIN", "platforms": ["GOOGLE", "TIKTOK"],
        "totalBudgetMicros": 0, "startDate": "2001-01-01", "endDate": "soon"
    });
    let reply = app
        .command("/v1/campaigns", Some(&token), &invalid, &[])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reply.body["code"], "validation_failed");
    assert_eq!(reply.body["status"], 422);
    let pointers: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/name",
            "/objective",
            "/platforms/1",
            "/totalBudgetMicros",
            "/endDate",
            "/startDate"
        ]
    );

    let mut unknown = campaign("x");
    unknown["colour"] = json!("red");
    let reply = app
        .command("/v1/campaigns", Some(&token), &unknown, &[])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body["errors"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("unknown field"));

    let mut wrong_type = campaign("x");
    wrong_type["platforms"] = json!(["LINKEDIN", 3]);
    let reply = app
        .command("/v1/campaigns", Some(&token), &wrong_type, &[])
        .await;
    assert_eq!(reply.body["errors"][0]["pointer"], "/platforms/1");

    let malformed = app
        .http
        .post(format!("{}/v1/campaigns", app.command_url))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let not_json = app
        .http
        .post(format!("{}/v1/campaigns", app.command_url))
        .bearer_auth(&token)
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(not_json.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let huge = app
        .http
        .post(format!("{}/v1/campaigns", app.command_url))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{}\"}}", "a".repeat(200_000)))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        huge.headers()
            .get("connection")
            .and_then(|v| v.to_str().ok()),
        Some("close")
    );

    let audience = json!({"name": "CFOs", "criteria": {"include": {"titles": ["CFO"], "jobFunctions": ["Finance"]}}});
    let reply = app
        .command("/v1/audiences", Some(&token), &audience, &[])
        .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let list = app.graphql(Some(&token), CAMPAIGNS, json!({})).await;
    assert_eq!(
        list.body["data"]["campaigns"]["edges"],
        json!([]),
        "nothing was written"
    );
}

#[tokio::test]
async fn callers_need_a_valid_token_and_a_role_that_may_act() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let none = app
        .command("/v1/campaigns", None, &campaign("x"), &[])
        .await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
    assert_eq!(none.body["code"], "unauthenticated");
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    let forged = app
        .command("/v1/campaigns", Some("e30.e30.sig"), &campaign("x"), &[])
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);

    let viewer = app.token(tenant, Role::Viewer);
    let refused = app
        .command("/v1/campaigns", Some(&viewer), &campaign("x"), &[])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.body["code"], "forbidden");

    let analyst = app.token(tenant, Role::Analyst);
    assert_eq!(
        app.command("/v1/campaigns", Some(&analyst), &campaign("x"), &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let audience = json!({"name": "CFOs in DACH", "criteria": {
        "include": {"locations": ["DE", "AT", "CH"], "titles": ["CFO"]},
        "exclude": {"industries": ["Banking"]}
    }});
    let defined = app
        .command("/v1/audiences", Some(&analyst), &audience, &[])
        .await;
    assert_eq!(defined.status, StatusCode::CREATED, "{:?}", defined.body);
    assert_eq!(
        app.command("/v1/audiences", Some(&viewer), &audience, &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let graphql = app.graphql(None, CAMPAIGNS, json!({})).await;
    assert_eq!(graphql.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        graphql.body["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
    let templates = app
        .graphql(
            Some(&viewer),
            "{ campaignTemplates { key objective platforms } }",
            json!({}),
        )
        .await;
    assert_eq!(
        templates.body["data"]["campaignTemplates"][0]["key"],
        "b2b-lead-generation"
    );
    let viewer_reads = app.graphql(Some(&viewer), CAMPAIGNS, json!({})).await;
    assert_eq!(viewer_reads.status, StatusCode::OK);
    assert!(viewer_reads.body["errors"].is_null());
}

#[tokio::test]
async fn an_idempotency_key_applies_a_command_once() {
    let app = app().await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    let body = campaign("once");
    let key = [("idempotency-key", "create-once-1")];
    let first = app
        .command("/v1/campaigns", Some(&token), &body, &key)
        .await;
    let second = app
        .command("/v1/campaigns", Some(&token), &body, &key)
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body, second.body);
    assert_eq!(second.header("idempotent-replayed"), Some("true"));
    let reused = app
        .command("/v1/campaigns", Some(&token), &campaign("other"), &key)
        .await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.body["code"], "idempotency_key_reused");

    // Twenty parallel identical requests with one key: one campaign.
    let parallel_key = [("idempotency-key", "create-parallel")];
    let body = campaign("parallel");
    let replies = futures_util::future::join_all(
        (0..20).map(|_| app.command("/v1/campaigns", Some(&token), &body, &parallel_key)),
    )
    .await;
    let ids: HashSet<&str> = replies
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .map(|r| str_of(&r.body, "/id"))
        .collect();
    assert_eq!(ids.len(), 1, "{replies:?}");
    for r in &replies {
        assert!(
            matches!(r.status, StatusCode::CREATED | StatusCode::CONFLICT),
            "{r:?}"
        );
    }
    let position = str_of(&first.body, "/position").to_owned();
    let last = app
        .command("/v1/campaigns", Some(&token), &body, &parallel_key)
        .await;
    let list = app
        .graphql(
            Some(&token),
            CAMPAIGNS,
            json!({"first": 50, "min": str_of(&last.body, "/position")}),
        )
        .await;
    assert!(!position.is_empty());
    assert_eq!(
        list.body["data"]["campaigns"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn the_campaign_list_pages_forward_without_gaps_or_repeats() {
    let app = app().await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    let mut last_position = String::new();
    for n in 0..7 {
        last_position = str_of(
            &create(&app, &token, &format!("c{n}")).await.body,
            "/position",
        )
        .to_owned();
    }
    let mut names = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let reply = app
            .graphql(
                Some(&token),
                CAMPAIGNS,
                json!({"first": 3, "after": after, "min": last_position}),
            )
            .await;
        let connection = &reply.body["data"]["campaigns"];
        pages += 1;
        for edge in connection["edges"].as_array().unwrap() {
            names.push(edge["node"]["name"].as_str().unwrap().to_owned());
        }
        assert_eq!(
            connection["pageInfo"]["hasPreviousPage"],
            json!(after.is_some())
        );
        if connection["pageInfo"]["hasNextPage"] == json!(false) {
            break;
        }
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..7).map(|n| format!("c{n}")).collect::<Vec<_>>());

    let too_many = app
        .graphql(Some(&token), CAMPAIGNS, json!({"first": 101}))
        .await;
    assert_eq!(
        too_many.body["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    let bad_cursor = app
        .graphql(Some(&token), CAMPAIGNS, json!({"after": "nope"}))
        .await;
    assert_eq!(
        bad_cursor.body["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    let bad_position = app
        .graphql(Some(&token), CAMPAIGNS, json!({"min": "x"}))
        .await;
    assert_eq!(
        bad_position.body["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
    let future = app
        .graphql(
            Some(&token),
            CAMPAIGNS,
            json!({"min": format!("{}:0", u32::MAX)}),
        )
        .await;
    assert_eq!(future.body["errors"][0]["extensions"]["code"], "STALE_READ");
}

async fn read_model_digest(app: &TestApp) -> String {
    sqlx::query_scalar(
        "SELECT md5(coalesce(string_agg(c::text, '|' ORDER BY tenant_id, campaign_id), '')) FROM campaigns c",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

async fn wait_until_projected(app: &TestApp) {
    for projection in ["campaigns", "audiences", "activity"] {
        wait_until(app, projection).await;
    }
}

async fn wait_until(app: &TestApp, projection: &str) {
    for _ in 0..500 {
        let behind: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM events e, projection_checkpoints p \
               WHERE p.projection = $1 AND (e.commit_id, e.position) > (p.commit_id, p.position)) \
             OR NOT EXISTS (SELECT 1 FROM projection_checkpoints WHERE projection = $1)",
        )
        .bind(projection)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        if !behind {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the {projection} projection did not catch up");
}

#[tokio::test]
async fn a_rebuild_and_a_crash_both_yield_the_same_read_model() {
    let mut app = app().await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    let other = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    for n in 0..12 {
        let token = if n % 3 == 0 { &other } else { &token };
        let id = str_of(&create(&app, token, &format!("c{n}")).await.body, "/id").to_owned();
        if n % 2 == 0 {
            let reply = app
                .command(
                    &format!("/v1/campaigns/{id}/rename"),
                    Some(token),
                    &json!({"name": format!("r{n}")}),
                    &[("if-match", "1")],
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK);
        }
    }
    wait_until_projected(&app).await;
    let before = read_model_digest(&app).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM campaigns")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 12);

    let (ok, stderr) = app.run_cli(&["projections", "rebuild", "campaigns"]).await;
    assert!(ok, "{stderr}");
    assert!(stderr.contains("rebuilt campaigns"), "{stderr}");
    wait_until_projected(&app).await;
    assert_eq!(read_model_digest(&app).await, before);

    // Killed while commands arrive, restarted: the read model still matches the log.
    let url = format!("{}/v1/campaigns", app.command_url);
    let burst: Vec<_> = (0..40)
        .map(|n| {
            let (client, url, token, body) = (
                app.http.clone(),
                url.clone(),
                token.clone(),
                campaign(&format!("b{n}")),
            );
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(n * 5)).await;
                let _ = client.post(url).bearer_auth(token).json(&body).send().await;
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    app.crash_and_restart().await;
    for task in burst {
        task.await.unwrap();
    }
    wait_until_projected(&app).await;
    let after_crash = read_model_digest(&app).await;
    let (ok, stderr) = app.run_cli(&["projections", "rebuild", "campaigns"]).await;
    assert!(ok, "{stderr}");
    wait_until_projected(&app).await;
    assert_eq!(read_model_digest(&app).await, after_crash);
    let (ok, stderr) = app.run_cli(&["projections", "rebuild", "nonsense"]).await;
    assert!(!ok && stderr.contains("no read model"), "{stderr}");
}

#[tokio::test]
async fn unknown_routes_are_problems_and_sigterm_stops_the_process_cleanly() {
    let mut app = app().await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let missing = app
        .command("/v1/nothing-here", Some(&token), &json!({}), &[])
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.body["code"], "not_found");
    let wrong_method = app
        .http
        .get(format!("{}/v1/campaigns", app.command_url))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
    let not_a_uuid = app
        .command(
            "/v1/campaigns/123/rename",
            Some(&token),
            &json!({"name": "x"}),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(not_a_uuid.status, StatusCode::NOT_FOUND);
    assert!(
        app.terminate().await,
        "adflow exits with status 0 on SIGTERM"
    );
}

#[tokio::test]
async fn a_campaign_goes_from_draft_to_active_through_http() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let service = app.token(tenant, Role::Admin);
    let mut body = campaign("Lifecycle");
    body["platforms"] = json!(["GOOGLE"]);
    let created = app
        .command("/v1/campaigns", Some(&manager), &body, &[])
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let id = str_of(&created.body, "/id").to_owned();
    let path = |suffix: &str| format!("/v1/campaigns/{id}/{suffix}");
    let mut version = 1;
    let mut step = |reply: Reply| {
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        version = reply.body["version"].as_u64().unwrap();
        reply
    };

    step(
        app.command(
            &path("structure-requests"),
            Some(&manager),
            &json!({}),
            &[("if-match", "1")],
        )
        .await,
    );
    let request_id: Uuid = sqlx::query_scalar(
        "SELECT (data->>'requestId')::uuid FROM events WHERE event_type = 'StructureGenerationRequested'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let result_path = path(&format!("structure-requests/{request_id}/result"));

    // Only a service (admin) token reports results, and an invalid structure is refused field by field.
    let result = json!({"modelVersion": "structure-gen 0.1.0", "structure": google_structure("Plan campaigns in minutes")});
    let forbidden = app
        .command(&result_path, Some(&manager), &result, &[("if-match", "2")])
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let too_long = json!({"modelVersion": "m", "structure": google_structure("A headline far beyond thirty characters")});
    let invalid = app
        .command(
            &result_path,
            Some(&service),
            &too_long,
            &[("if-match", "2")],
        )
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    let pointers: Vec<&str> = invalid.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/structure/google/adGroups/0/ads/0/headlines/0"]);
    let fine = json!({"modelVersion": "m", "structure": google_structure("B2B ads that convert")});
    step(
        app.command(&result_path, Some(&service), &fine, &[("if-match", "2")])
            .await,
    );

    let resume = app
        .command(
            &path("resume"),
            Some(&manager),
            &json!({}),
            &[("if-match", "3")],
        )
        .await;
    assert_eq!(resume.status, StatusCode::CONFLICT);
    assert_eq!(resume.body["code"], "illegal_transition");
    assert!(resume.body["detail"]
        .as_str()
        .unwrap()
        .contains("STRUCTURE_PREVIEW"));

    step(
        app.command(
            &path("approve"),
            Some(&manager),
            &json!({}),
            &[("if-match", "3")],
        )
        .await,
    );
    step(
        app.command(
            &path("deploy"),
            Some(&manager),
            &json!({}),
            &[("if-match", "4")],
        )
        .await,
    );
    let deployed = step(
        app.command(
            &path("deployments/google"),
            Some(&service),
            &json!({"externalId": "customers/1/campaigns/2"}),
            &[("if-match", "5")],
        )
        .await,
    );
    assert_eq!(
        deployed.body["version"], 7,
        "the last platform also completes the deployment"
    );
    let active = step(
        app.command(
            &path("activate"),
            Some(&manager),
            &json!({}),
            &[("if-match", "7")],
        )
        .await,
    );
    let read = app
        .graphql(
            Some(&manager),
            CAMPAIGN,
            json!({"id": id, "min": str_of(&active.body, "/position")}),
        )
        .await;
    assert_eq!(read.body["data"]["campaign"]["status"], "ACTIVE");
    assert_eq!(read.body["data"]["campaign"]["version"], 8);
    assert_eq!(version, 8);
    let unknown = app
        .command(
            &path("explode"),
            Some(&manager),
            &json!({}),
            &[("if-match", "8")],
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn audiences_grow_segments_personas_and_hashed_account_lists() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let analyst = app.token(tenant, Role::Analyst);
    let viewer = app.token(tenant, Role::Viewer);
    let audience =
        json!({"name": "DACH finance", "criteria": {"include": {"locations": ["DE", "AT"]}}});
    let defined = app
        .command("/v1/audiences", Some(&analyst), &audience, &[])
        .await;
    assert_eq!(defined.status, StatusCode::CREATED);
    let id = str_of(&defined.body, "/id").to_owned();

    let segment = json!({"name": "Mid-market", "criteria": {"include": {"locations": ["DE"], "companySizes": ["201-500"]}}, "estimatedSize": 12000});
    let refused = app
        .command(
            &format!("/v1/audiences/{id}/segments"),
            Some(&viewer),
            &segment,
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let added = app
        .command(
            &format!("/v1/audiences/{id}/segments"),
            Some(&analyst),
            &segment,
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.body);
    let segment_id: Uuid = sqlx::query_scalar(
        "SELECT (data->>'segmentId')::uuid FROM events WHERE event_type = 'SegmentAdded'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let persona = json!({"name": "Finance leader", "titles": ["CFO"], "pains": ["Slow close"], "messagingAngles": ["Close in 3 days"]});
    let with_persona = app
        .command(
            &format!("/v1/audiences/{id}/segments/{segment_id}/personas"),
            Some(&analyst),
            &persona,
            &[("if-match", "2")],
        )
        .await;
    assert_eq!(with_persona.body["version"], 3);

    let plain = json!({"name": "Accounts", "lawfulBasis": "CONSENT", "hashedIdentifiers": ["cfo@example.com"]});
    let leaked = app
        .command(
            &format!("/v1/audiences/{id}/account-lists"),
            Some(&analyst),
            &plain,
            &[("if-match", "3")],
        )
        .await;
    assert_eq!(leaked.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(leaked.body["errors"][0]["pointer"], "/hashedIdentifiers/0");
    assert_eq!(leaked.body["errors"][0]["code"], "not_hashed");
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE data::text LIKE '%cfo@example.com%'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        stored, 0,
        "a plain identifier never reaches the event store"
    );
    let hashed = json!({"name": "Accounts", "lawfulBasis": "CONSENT", "hashedIdentifiers": ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]});
    let imported = app
        .command(
            &format!("/v1/audiences/{id}/account-lists"),
            Some(&analyst),
            &hashed,
            &[("if-match", "3")],
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK);
    let missing = app
        .command(
            &format!("/v1/audiences/{id}/segments/{}/estimate", Uuid::now_v7()),
            Some(&analyst),
            &json!({"estimatedSize": 1}),
            &[("if-match", "4")],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_campaign_targets_only_segments_big_enough_for_its_platforms() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let campaign_id = str_of(&create(&app, &manager, "Targeted").await.body, "/id").to_owned();
    let audience = json!({"name": "DACH", "criteria": {"include": {"locations": ["DE"]}}});
    let audience_id = str_of(
        &app.command("/v1/audiences", Some(&manager), &audience, &[])
            .await
            .body,
        "/id",
    )
    .to_owned();
    for (name, size) in [("small", 500), ("large", 20_000)] {
        let segment = json!({"name": name, "criteria": {"include": {"locations": ["DE"]}}, "estimatedSize": size});
        let version = if name == "small" { "1" } else { "2" };
        let reply = app
            .command(
                &format!("/v1/audiences/{audience_id}/segments"),
                Some(&manager),
                &segment,
                &[("if-match", version)],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let segments: Vec<(String, Uuid)> = sqlx::query_as(
        "SELECT data->>'name', (data->>'segmentId')::uuid FROM events WHERE event_type = 'SegmentAdded' ORDER BY position",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let attach =
        |segment: Uuid| json!({"audienceId": audience_id, "segmentId": segment.to_string()});
    let path = format!("/v1/campaigns/{campaign_id}/segments");
    let small = app
        .command(
            &path,
            Some(&manager),
            &attach(segments[0].1),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(small.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(small.body["errors"][0]["code"], "audience_too_small");
    let large = app
        .command(
            &path,
            Some(&manager),
            &attach(segments[1].1),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(large.status, StatusCode::OK, "{:?}", large.body);
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    let elsewhere = app
        .command("/v1/campaigns", Some(&stranger), &campaign("theirs"), &[])
        .await;
    let their_path = format!("/v1/campaigns/{}/segments", str_of(&elsewhere.body, "/id"));
    let foreign = app
        .command(
            &their_path,
            Some(&stranger),
            &attach(segments[1].1),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(
        foreign.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "another tenant's audience does not exist for them"
    );
    assert_eq!(foreign.body["errors"][0]["pointer"], "/audienceId");
}

/// A Google-only campaign driven to ACTIVE through the API; returns its id and version.

#[tokio::test]
async fn proposals_apply_themselves_only_within_the_tenants_guardrails() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let admin = app.token(tenant, Role::Admin);
    let (id, mut version) = active_campaign(&app, &manager, &admin).await;
    let propose = |budget: i64| {
        json!({"action": {"kind": "CHANGE_BUDGET", "totalBudgetMicros": budget}, "reason": "CPA under target",
               "confidenceBasisPoints": 9000, "modelVersion": "budget-optimiser 0.1.0"})
    };
    let proposals = format!("/v1/campaigns/{id}/proposals");

    // Guardrails off (the default): the proposal waits.
    let waiting = app
        .command(
            &proposals,
            Some(&admin),
            &propose(26_000_000_000),
            &[("if-match", &version.to_string())],
        )
        .await;
    assert_eq!(waiting.status, StatusCode::OK, "{:?}", waiting.body);
    assert_eq!(
        waiting.body["version"].as_u64(),
        Some(version + 1),
        "only proposed"
    );
    version += 1;

    let settings = json!({"autoApply": true, "minConfidenceBasisPoints": 8000, "maxDailyBudgetChangeBasisPoints": 2000});
    assert_eq!(
        app.command("/v1/settings/guardrails", Some(&manager), &settings, &[])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.command("/v1/settings/guardrails", Some(&admin), &settings, &[])
            .await
            .status,
        StatusCode::OK
    );

    // +10 % now applies itself: proposed, applied, budget changed.
    let auto = app
        .command(
            &proposals,
            Some(&admin),
            &propose(27_500_000_000),
            &[("if-match", &version.to_string())],
        )
        .await;
    assert_eq!(
        auto.body["version"].as_u64(),
        Some(version + 3),
        "{:?}",
        auto.body
    );
    version += 3;
    let read = app
        .graphql(
            Some(&manager),
            CAMPAIGN,
            json!({"id": id, "min": str_of(&auto.body, "/position")}),
        )
        .await;
    assert_eq!(
        read.body["data"]["campaign"]["totalBudgetMicros"],
        27_500_000_000i64
    );

    // The waiting one is approved by a person.
    let pending: Uuid = sqlx::query_scalar(
        "SELECT (data->>'proposalId')::uuid FROM events WHERE event_type = 'OptimisationProposed' ORDER BY position LIMIT 1",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let approve = format!("/v1/campaigns/{id}/proposals/{pending}/approve");
    let approved = app
        .command(
            &approve,
            Some(&manager),
            &json!({}),
            &[("if-match", &version.to_string())],
        )
        .await;
    assert_eq!(approved.status, StatusCode::OK, "{:?}", approved.body);
    let again = app
        .command(
            &approve,
            Some(&manager),
            &json!({}),
            &[("if-match", &(version + 2).to_string())],
        )
        .await;
    assert_eq!(again.body["code"], "illegal_transition");
}

/// A digest of every read-model table, for comparing a live read model with a rebuilt one.
async fn all_read_models_digest(app: &TestApp) -> Vec<(String, String)> {
    let mut digests = Vec::new();
    for (table, key) in [
        ("campaigns", "tenant_id, campaign_id"),
        ("campaign_deployments", "tenant_id, campaign_id, platform"),
        ("proposals", "tenant_id, proposal_id"),
        ("audiences", "tenant_id, audience_id"),
        ("audience_segments", "tenant_id, segment_id"),
        ("account_lists", "tenant_id, list_id"),
        ("activity", "tenant_id, aggregate_id, stream_version"),
    ] {
        let digest: String = sqlx::query_scalar(&format!(
            "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY {key}), '')) FROM {table} t"
        ))
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        digests.push((table.to_owned(), digest));
    }
    digests
}

#[tokio::test]
async fn every_read_model_follows_the_whole_lifecycle_and_rebuilds_identically() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let admin = app.token(tenant, Role::Admin);
    let (id, version) = active_campaign(&app, &manager, &admin).await;
    let proposal = json!({"action": {"kind": "PAUSE"}, "reason": "CPA doubled", "confidenceBasisPoints": 7000, "modelVersion": "m"});
    let proposed = app
        .command(
            &format!("/v1/campaigns/{id}/proposals"),
            Some(&admin),
            &proposal,
            &[("if-match", &version.to_string())],
        )
        .await;
    assert_eq!(proposed.status, StatusCode::OK);
    let audience = json!({"name": "DACH", "criteria": {"include": {"locations": ["DE"]}}});
    let audience_id = str_of(
        &app.command("/v1/audiences", Some(&manager), &audience, &[])
            .await
            .body,
        "/id",
    )
    .to_owned();
    let segment = json!({"name": "Finance", "criteria": {"include": {"locations": ["DE"]}}, "estimatedSize": 5000});
    app.command(
        &format!("/v1/audiences/{audience_id}/segments"),
        Some(&manager),
        &segment,
        &[("if-match", "1")],
    )
    .await;
    wait_until_projected(&app).await;

    let (status, deployed): (String, String) = sqlx::query_as(
        "SELECT c.status, d.status FROM campaigns c JOIN campaign_deployments d USING (tenant_id, campaign_id)",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), deployed.as_str()), ("ACTIVE", "DEPLOYED"));
    let pending: i64 =
        sqlx::query_scalar("SELECT count(*) FROM proposals WHERE status = 'PENDING'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        pending, 1,
        "7,000 is below the default confidence floor: the proposal waits"
    );
    let has_structure: bool = sqlx::query_scalar("SELECT structure IS NOT NULL FROM campaigns")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert!(has_structure);
    let (activity, events): (i64, i64) =
        sqlx::query_as("SELECT (SELECT count(*) FROM activity), (SELECT count(*) FROM events)")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(activity, events, "one activity row per event");

    let metrics = app
        .http
        .get(format!("{}/metrics", app.query_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for projection in ["campaigns", "audiences", "activity"] {
        assert!(
            metrics.contains(&format!(
                "adflow_projection_lag_events{{projection=\"{projection}\"}} 0\n"
            )),
            "{metrics}"
        );
    }
    let before = all_read_models_digest(&app).await;
    for projection in ["campaigns", "audiences", "activity"] {
        let (ok, stderr) = app.run_cli(&["projections", "rebuild", projection]).await;
        assert!(ok, "{stderr}");
    }
    wait_until_projected(&app).await;
    assert_eq!(all_read_models_digest(&app).await, before);
}

#[tokio::test]
async fn a_rebuild_swaps_in_while_commands_keep_arriving() {
    let app = app().await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    for n in 0..30 {
        create(&app, &token, &format!("before {n}")).await;
    }
    wait_until_projected(&app).await;
    let url = format!("{}/v1/campaigns", app.command_url);
    let writers: Vec<_> = (0..20)
        .map(|n| {
            let (client, url, token, body) = (
                app.http.clone(),
                url.clone(),
                token.clone(),
                campaign(&format!("during {n}")),
            );
            tokio::spawn(async move {
                tokio::time::sleep(std::time::Duration::from_millis(n * 15)).await;
                let reply = client
                    .post(url)
                    .bearer_auth(token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(reply.status(), StatusCode::CREATED);
            })
        })
        .collect();
    let (ok, stderr) = app.run_cli(&["projections", "rebuild", "campaigns"]).await;
    assert!(ok && stderr.contains("without downtime"), "{stderr}");
    for writer in writers {
        writer.await.unwrap();
    }
    wait_until_projected(&app).await;
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM campaigns")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(rows, 50, "nothing lost or doubled across the swap");
    let live = read_model_digest(&app).await;
    let (ok, stderr) = app.run_cli(&["projections", "rebuild", "campaigns"]).await;
    assert!(ok, "{stderr}");
    wait_until_projected(&app).await;
    assert_eq!(read_model_digest(&app).await, live);
    let leftovers: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'rebuild\\_%' OR nspname LIKE 'retired\\_%'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(leftovers, 0);
}

#[tokio::test]
async fn platforms_report_performance_once_per_report() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let admin = app.token(tenant, Role::Admin);
    let (id, version) = active_campaign(&app, &manager, &admin).await;
    let day = Utc::now().date_naive() + Days::new(7);
    let report = |clicks: i64| {
        json!({
            "reportId": "0192f0c1-0000-7000-8000-00000000beef", "platform": "GOOGLE",
            "windowStart": format!("{day}T00:00:00Z"), "windowEnd": format!("{day}T01:00:00Z"),
            "rows": [{"hour": format!("{day}T00:00:00Z"), "ad": "customers/1/adGroupAds/2~3",
                      "impressions": 100, "clicks": clicks, "conversions": 1, "costMicros": 900000, "revenueMicros": 0}]
        })
    };
    let path = format!("/v1/campaigns/{id}/performance");
    let v = version.to_string();
    assert_eq!(
        app.command(&path, Some(&manager), &report(5), &[("if-match", &v)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let invalid = app
        .command(&path, Some(&admin), &report(101), &[("if-match", &v)])
        .await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid.body["errors"][0]["pointer"], "/rows/0/clicks");
    let first = app
        .command(&path, Some(&admin), &report(5), &[("if-match", &v)])
        .await;
    assert_eq!(first.status, StatusCode::OK, "{:?}", first.body);
    assert_eq!(
        first.body["version"].as_u64(),
        Some(version),
        "a report goes to its own day stream: the campaign's version stays"
    );
    assert!(first.body["position"].is_string());
    let stale = app
        .command(
            &path,
            Some(&admin),
            &report(5),
            &[("if-match", &(version - 1).to_string())],
        )
        .await;
    assert_eq!(
        stale.status,
        StatusCode::CONFLICT,
        "If-Match, when sent, is checked"
    );
    // A resend, without If-Match (a reporter need not track the campaign's version).
    let again = app.command(&path, Some(&admin), &report(5), &[]).await;
    assert_eq!(again.status, StatusCode::OK, "{:?}", again.body);
    assert_eq!(
        again.body["version"].as_u64(),
        Some(version),
        "a resent report records nothing"
    );
    let day_streams: Vec<(String, i64)> = sqlx::query_as(
        "SELECT stream_name, count(*) FROM events WHERE event_type = 'PerformanceRecorded' \
         AND tenant_id = $1 GROUP BY stream_name",
    )
    .bind(tenant.0)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(day_streams.len(), 1, "{day_streams:?}");
    assert!(day_streams[0].0.starts_with("performance-"));
    assert_eq!(day_streams[0].1, 1);
    // Auditors read a day stream's history like any aggregate's, with its summary after each event.
    let day_stream = adflow_domain::performance::day_stream_id(
        id.parse().unwrap(),
        adflow_domain::campaign::Platform::Google,
        day,
    );
    let analyst = app.token(tenant, Role::Analyst);
    let history = app
        .graphql(
            Some(&analyst),
            "query($id: ID!, $min: String) { history(aggregateId: $id, minPosition: $min) { category entries { eventType stateAfter } } }",
            json!({"id": day_stream.to_string(), "min": first.body["position"]}),
        )
        .await;
    let record = &history.body["data"]["history"];
    assert_eq!(record["category"], "performance", "{:?}", history.body);
    assert_eq!(record["entries"][0]["eventType"], "PerformanceRecorded");
    assert_eq!(record["entries"][0]["stateAfter"]["totals"]["clicks"], 5);
    assert_eq!(again.body["position"], Value::Null);
}
