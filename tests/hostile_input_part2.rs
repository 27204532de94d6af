//! Hostile input, part 2, sent from outside over HTTP: money hidden from Viewers everywhere it
//! appears, analytics fan-out refused by cost, dates and names the contract forbids refused, and
//! Idempotency-Key honoured by API keys and by re-serialised bodies.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::{active_campaign, campaign, str_of};
use adflow_testkit::ws;
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

async fn app() -> TestApp {
    TestApp::spawn(env!("CARGO_BIN_EXE_adflow")).await
}

use adflow_testkit::app::error_codes as codes;

const STRUCTURE_AND_ACTIONS: &str = "query($id: ID!, $p: String) {
  campaign(id: $id, minPosition: $p) {
    structure { google { dailyBudgetMicros bidding } document }
    recommendations { kind action }
  }
}";

#[tokio::test]
async fn viewers_see_no_money_in_structures_documents_or_actions() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let admin = app.token(tenant, Role::Admin);
    let viewer = app.token(tenant, Role::Viewer);
    let (id, version) = active_campaign(&app, &manager, &admin).await;
    let proposed = app
        .command(
            &format!("/v1/campaigns/{id}/proposals"),
            Some(&admin),
            &json!({"action": {"kind": "CHANGE_BUDGET", "totalBudgetMicros": 30_000_000_000i64},
                    "reason": "scale", "confidenceBasisPoints": 5000, "modelVersion": "m"}),
            &[("if-match", &version.to_string())],
        )
        .await;
    assert_eq!(proposed.status, StatusCode::OK, "{:?}", proposed.body);
    let position = str_of(&proposed.body, "/position").to_owned();
    let variables = json!({"id": id, "p": position});

    let seen = app
        .graphql(Some(&viewer), STRUCTURE_AND_ACTIONS, variables.clone())
        .await
        .body;
    let campaign = &seen["data"]["campaign"];
    assert!(
        campaign["structure"]["google"]["dailyBudgetMicros"].is_null(),
        "{seen}"
    );
    assert!(
        codes(&seen).iter().all(|c| c == "FORBIDDEN") && !codes(&seen).is_empty(),
        "{seen}"
    );
    assert!(
        campaign["structure"]["google"]["bidding"]["targetCpaMicros"].is_null(),
        "{seen}"
    );
    assert_eq!(
        campaign["structure"]["google"]["bidding"]["strategy"],
        "MAXIMIZE_CONVERSIONS"
    );
    let document = &campaign["structure"]["document"]["google"];
    assert!(document["dailyBudgetMicros"].is_null(), "{seen}");
    assert!(
        document["campaign"]["bidding"]["targetCpaMicros"].is_null(),
        "{seen}"
    );
    assert_eq!(
        document["campaign"]["name"], "Q1 Search",
        "the rest stays readable"
    );
    let action = &campaign["recommendations"][0]["action"];
    assert_eq!(action["kind"], "CHANGE_BUDGET");
    assert!(action["totalBudgetMicros"].is_null(), "{seen}");
    let text = seen.to_string();
    for amount in ["50000000", "80000000", "30000000000"] {
        assert!(!text.contains(amount), "{amount} reached a Viewer: {text}");
    }

    let managed = app
        .graphql(Some(&manager), STRUCTURE_AND_ACTIONS, variables)
        .await
        .body;
    let campaign = &managed["data"]["campaign"];
    assert!(managed["errors"].is_null(), "{managed}");
    assert_eq!(
        campaign["structure"]["google"]["dailyBudgetMicros"],
        50_000_000
    );
    assert_eq!(
        campaign["recommendations"][0]["action"]["totalBudgetMicros"],
        30_000_000_000i64
    );
}

#[tokio::test]
async fn many_aliased_analytics_fields_are_refused_by_cost_before_any_runs() {
    let app = app().await;
    let analyst = app.token(TenantId(Uuid::now_v7()), Role::Analyst);
    let fields: Vec<String> = (0..2_000)
        .map(|i| format!("p{i}: performance(filter: {{from: \"2026-01-01\", to: \"2026-01-31\"}}) {{ clicks }}"))
        .collect();
    // The probe's 2,000 are over the document size limit; 100 fit in it and are over the cost.
    let reply = app
        .graphql(
            Some(&analyst),
            &format!("{{ {} }}", fields.join(" ")),
            json!({}),
        )
        .await;
    assert_eq!(
        codes(&reply.body),
        vec!["INPUT_TOO_LARGE"],
        "{:?}",
        reply.body
    );
    let reply = app
        .graphql(
            Some(&analyst),
            &format!("{{ {} }}", fields[..100].join(" ")),
            json!({}),
        )
        .await;
    assert_eq!(
        codes(&reply.body),
        vec!["QUERY_TOO_COMPLEX"],
        "{:?}",
        reply.body
    );
    // A handful is fine.
    let few = &fields[..3].join(" ");
    // The projector creates the analytics tables when the app starts; until then the answer is
    // UNAVAILABLE ("try again"), which a client retries.
    let mut reply = app
        .graphql(Some(&analyst), &format!("{{ {few} }}"), json!({}))
        .await;
    for _ in 0..100 {
        if !codes(&reply.body).contains(&"UNAVAILABLE".to_owned()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        reply = app
            .graphql(Some(&analyst), &format!("{{ {few} }}"), json!({}))
            .await;
    }
    assert!(reply.body["errors"].is_null(), "{:?}", reply.body);
    assert_eq!(reply.body["data"]["p2"]["clicks"], 0);
}

#[tokio::test]
async fn dates_and_names_the_contract_forbids_are_refused() {
    let app = app().await;
    let manager = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    for (field, value) in [
        ("startDate", "+10000-01-01"),
        ("startDate", "2027-1-1"),
        ("endDate", "2027-02-30"),
        ("endDate", "abc"),
    ] {
        let mut body = campaign("dates");
        body[field] = json!(value);
        let reply = app
            .command("/v1/campaigns", Some(&manager), &body, &[])
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{value}");
        let errors = reply.body["errors"].to_string();
        assert!(errors.contains("invalid_date"), "{value}: {errors}");
    }
    for name in [
        "\u{200B}\u{200D}",
        "\u{FEFF}",
        "invoice\u{202E}fdp.exe",
        "\u{2067}x",
    ] {
        let reply = app
            .command("/v1/campaigns", Some(&manager), &campaign(name), &[])
            .await;
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert_eq!(reply.body["errors"][0]["pointer"], "/name", "{name:?}");
    }
}

#[tokio::test]
async fn idempotency_keys_hold_for_api_keys_and_for_re_serialised_bodies() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let admin = app.token(tenant, Role::Admin);
    let key = [("idempotency-key", "mint-once")];
    let body = json!({"name": "HubSpot sync", "role": "viewer"});
    let first = app.command("/v1/api-keys", Some(&admin), &body, &key).await;
    let again = app.command("/v1/api-keys", Some(&admin), &body, &key).await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(
        first.body["id"], again.body["id"],
        "one credential, not two"
    );
    assert!(first.body["key"].is_string());
    assert!(
        again.body["key"].is_null(),
        "the secret is never stored to be replayed"
    );
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM api_keys WHERE tenant_id = $1")
        .bind(tenant.0)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);

    // The same JSON written differently is the same request.
    let manager = app.token(tenant, Role::Manager);
    let body = campaign("retried");
    let compact = serde_json::to_string(&body).unwrap();
    let mut fields: Vec<(String, Value)> = body.as_object().unwrap().clone().into_iter().collect();
    fields.reverse();
    let reordered = format!(
        "{{\n  {}\n}}",
        fields
            .iter()
            .map(|(k, v)| format!("{}: {}", json!(k), v))
            .collect::<Vec<_>>()
            .join(",\n  ")
    );
    let mut ids = vec![];
    for text in [compact, reordered] {
        let response = app
            .http
            .post(format!("{}/v1/campaigns", app.command_url))
            .bearer_auth(&manager)
            .header("content-type", "application/json")
            .header("idempotency-key", "create-once")
            .body(text)
            .send()
            .await
            .unwrap();
        let reply = adflow_testkit::app::reply(response).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        ids.push(reply.body["id"].clone());
    }
    assert_eq!(ids[0], ids[1]);
}

#[tokio::test]
async fn client_mistakes_in_graphql_are_bad_user_input_not_internal() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let analyst = app.token(tenant, Role::Analyst);
    for date in ["2027-02-30", "abc", "2027-13-01"] {
        let reply = app
            .graphql(
                Some(&analyst),
                "query($from: NaiveDate!) { performance(filter: {from: $from, to: \"2027-03-01\"}) { clicks } }",
                json!({ "from": date }),
            )
            .await;
        assert_eq!(
            codes(&reply.body),
            vec!["BAD_USER_INPUT"],
            "{date}: {:?}",
            reply.body
        );
        let inline = format!(
            "{{ performance(filter: {{from: \"{date}\", to: \"2027-03-01\"}}) {{ clicks }} }}"
        );
        let reply = app.graphql(Some(&analyst), &inline, json!({})).await;
        assert_eq!(
            codes(&reply.body),
            vec!["BAD_USER_INPUT"],
            "{date}: {:?}",
            reply.body
        );
    }
    for (query, variables) in [
        (
            "query($v: Long) { history(aggregateId: \"x\", afterVersion: $v) { entries { version } } }",
            json!({ "v": "abc" }),
        ),
        (
            "query($n: String) { campaigns(filter: {nameContains: $n}) { edges { node { id } } } }",
            json!({ "n": "a\u{0}b" }),
        ),
        (
            "{ campaigns(sort: NAME, after: \"n:01920000-0000-7000-8000-000000000001:a\\u0000\") { edges { node { id } } } }",
            json!({}),
        ),
    ] {
        let reply = app.graphql(Some(&analyst), query, variables).await;
        assert_eq!(reply.error_codes(), vec!["BAD_USER_INPUT"], "{query}: {:?}", reply.body);
    }

    // A campaign that has not started: performance without arguments is zero, not an error.
    let manager = app.token(tenant, Role::Manager);
    let created = app
        .command("/v1/campaigns", Some(&manager), &campaign("not yet"), &[])
        .await;
    let reply = app
        .graphql(
            Some(&analyst),
            "query($id: ID!, $p: String) { campaign(id: $id, minPosition: $p) { performance { clicks } } }",
            json!({ "id": created.body["id"], "p": created.body["position"] }),
        )
        .await;
    assert!(reply.body["errors"].is_null(), "{:?}", reply.body);
    assert_eq!(reply.body["data"]["campaign"]["performance"]["clicks"], 0);
}

#[tokio::test]
async fn the_correlation_id_is_the_servers_and_the_clients_id_is_kept_beside_it() {
    let app = app().await;
    let manager = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    let victim = Uuid::now_v7().to_string();
    let reply = app
        .command(
            "/v1/campaigns",
            Some(&manager),
            &campaign("claims another flow"),
            &[("x-request-id", &victim)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let correlation = reply.header("x-request-id").unwrap().to_owned();
    assert_ne!(
        correlation, victim,
        "a client cannot choose the correlation id"
    );
    assert_eq!(reply.header("x-client-request-id"), Some(victim.as_str()));
    let (recorded, client): (Uuid, Option<String>) = sqlx::query_as(
        "SELECT correlation_id, extra_metadata->>'clientRequestId' FROM events WHERE stream_name LIKE '%' || $1",
    )
    .bind(str_of(&reply.body, "/id"))
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(recorded.to_string(), correlation);
    assert_eq!(client.as_deref(), Some(victim.as_str()));
}

/// Reads from `stream` until the server closes it; returns what it sent and how long it took.
async fn until_closed(stream: &mut tokio::net::TcpStream) -> (Vec<u8>, std::time::Duration) {
    use tokio::io::AsyncReadExt;
    let started = std::time::Instant::now();
    let mut received = vec![];
    let mut buffer = [0u8; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => received.extend_from_slice(&buffer[..n]),
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server kept the connection open for 30 s");
    (received, started.elapsed())
}

#[tokio::test]
async fn slow_clients_are_closed_on_both_apis() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn_with(
        env!("CARGO_BIN_EXE_adflow"),
        &[("ADFLOW_HEADER_READ_TIMEOUT_MS", "1000")],
    )
    .await;
    for base in [&app.command_url, &app.query_url] {
        let address = base.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream
            .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: appl")
            .await
            .unwrap();
        let (_, took) = until_closed(&mut stream).await;
        assert!(
            took < std::time::Duration::from_secs(10),
            "{base}: {took:?}"
        );
    }

    // A WebSocket that never sends connection_init is closed with 4408.
    let mut socket = ws::connect(&app.subscription_url()).await;
    let closed = ws::close_code(&mut socket, std::time::Duration::from_secs(20)).await;
    assert_eq!(closed, Some(4408));
}

#[tokio::test]
async fn a_subscription_ends_when_its_token_expires() {
    let app = app().await;
    let token = app.token_with_ttl(TenantId(Uuid::now_v7()), Role::Viewer, 3);
    let mut socket = ws::connect(&app.subscription_url()).await;
    ws::init(&mut socket, &token).await;
    ws::subscribe(
        &mut socket,
        "1",
        "subscription { campaignStatusChanged { campaignId } }",
    )
    .await;
    let started = std::time::Instant::now();
    let closed = ws::close_code(&mut socket, std::time::Duration::from_secs(20)).await;
    assert_eq!(closed, Some(4403));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn errors_are_coded_and_say_nothing_of_the_parsers() {
    let app = app().await;
    let viewer = app.token(TenantId(Uuid::now_v7()), Role::Viewer);
    let graphql = format!("{}/graphql", app.query_url);
    for (body, code) in [
        (
            r#"[{"query":"{ campaigns { edges { node { id } } } }"}]"#,
            "BAD_REQUEST",
        ),
        (r#"{"query": "#, "BAD_REQUEST"),
        (r#"{"query": 5}"#, "BAD_REQUEST"),
    ] {
        let response = app
            .http
            .post(&graphql)
            .bearer_auth(&viewer)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert!(
            response.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json"),
            "{body}"
        );
        let reply: Value = response.json().await.unwrap();
        assert_eq!(codes(&reply), vec![code], "{body}: {reply}");
    }
    for token in ["not.a.token", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA", "Zm9v"] {
        let reply = app
            .command("/v1/campaigns", Some(token), &campaign("x"), &[])
            .await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        let detail = reply.body["detail"].as_str().unwrap_or_default();
        for internal in [
            "Base64", "base64", "line 1", "column", "offset", "Json", "Utf8",
        ] {
            assert!(!detail.contains(internal), "{token}: {detail}");
        }
    }
    // If-Match's format is documented, so "" is the client's documented mistake.
    let document: Value = app
        .http
        .get(format!("{}/openapi.json", app.command_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let rename = &document["paths"]["/v1/campaigns/{id}/rename"]["post"]["parameters"];
    let if_match = rename
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "If-Match")
        .unwrap();
    assert!(if_match["schema"]["pattern"].is_string());
}

#[tokio::test]
async fn websocket_errors_carry_codes_and_far_years_are_bad_input() {
    let app = app().await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Analyst);
    let mut socket = ws::connect(&app.subscription_url()).await;
    ws::init(&mut socket, &token).await;
    for (id, query, code) in [
        ("1", "subscription { nope }", "GRAPHQL_VALIDATION_FAILED"),
        ("2", "subscription { ", "GRAPHQL_PARSE_FAILED"),
    ] {
        ws::subscribe(&mut socket, id, query).await;
        let errors = ws::next_errors(&mut socket, std::time::Duration::from_secs(10)).await;
        assert_eq!(errors[0]["extensions"]["code"], code, "{query}: {errors}");
    }

    let reply = app
        .graphql(
            Some(&token),
            "{ performance(filter: {from: \"2200-01-01\", to: \"2200-01-31\"}) { clicks } }",
            json!({}),
        )
        .await;
    assert_eq!(
        codes(&reply.body),
        vec!["BAD_USER_INPUT"],
        "{:?}",
        reply.body
    );
}
