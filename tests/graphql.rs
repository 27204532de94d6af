//! The GraphQL query API end to end, through HTTP and WebSocket against the running binary:
//! filters, sorting and pagination, nested lists at a constant number of statements, live
//! subscriptions fed by the projector, role checks per field, audit history, analytics from
//! ClickHouse, and hostile queries refused before they cost anything.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::{active_campaign, campaign, str_of};
use chrono::{Days, Utc};
use futures_util::{SinkExt, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use uuid::Uuid;

async fn app() -> TestApp {
    TestApp::spawn(env!("CARGO_BIN_EXE_adflow")).await
}

/// Creates campaigns with the given (name, objective, platforms, budget); returns their ids and
/// the position of the last write.
async fn create_all(
    app: &TestApp,
    token: &str,
    specs: &[(&str, &str, &[&str], i64)],
) -> (Vec<String>, String) {
    let mut ids = Vec::new();
    let mut position = String::new();
    for (name, objective, platforms, budget) in specs {
        let mut body = campaign(name);
        body["objective"] = json!(objective);
        body["platforms"] = json!(platforms);
        body["totalBudgetMicros"] = json!(budget);
        let reply = app.command("/v1/campaigns", Some(token), &body, &[]).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
        ids.push(str_of(&reply.body, "/id").to_owned());
        position = str_of(&reply.body, "/position").to_owned();
    }
    (ids, position)
}

const LIST: &str = "query($filter: CampaignFilter, $sort: CampaignSort, $direction: SortDirection,
                         $first: Int, $after: String, $min: String) {
  campaigns(filter: $filter, sort: $sort, direction: $direction, first: $first, after: $after, minPosition: $min) {
    edges { cursor node { id name } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}";

fn names(reply: &Value) -> Vec<String> {
    reply["data"]["campaigns"]["edges"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Every page of a list, following `endCursor`, `first` at a time.
async fn all_pages(app: &TestApp, token: &str, mut variables: Value, first: i64) -> Vec<String> {
    let mut seen = Vec::new();
    variables["first"] = json!(first);
    for _ in 0..100 {
        let reply = app.graphql(Some(token), LIST, variables.clone()).await;
        assert!(reply.body["errors"].is_null(), "{:?}", reply.body);
        seen.extend(names(&reply.body));
        let info = &reply.body["data"]["campaigns"]["pageInfo"];
        if !info["hasNextPage"].as_bool().unwrap_or(false) {
            return seen;
        }
        variables["after"] = info["endCursor"].clone();
    }
    panic!("the list did not end");
}

#[tokio::test]
async fn campaign_lists_filter_sort_and_page_without_gaps_or_repeats() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let token = app.token(tenant, Role::Manager);
    let (_, position) = create_all(
        &app,
        &token,
        &[
            (
                "Delta pipeline",
                "LEAD_GENERATION",
                &["GOOGLE"],
                4_000_000_000,
            ),
            (
                "alpha awareness",
                "BRAND_AWARENESS",
                &["LINKEDIN"],
                9_000_000_000,
            ),
            (
                "Charlie Pipeline",
                "LEAD_GENERATION",
                &["LINKEDIN", "GOOGLE"],
                1_000_000_000,
            ),
            ("Bravo visits", "WEBSITE_VISITS", &["GOOGLE"], 7_000_000_000),
            (
                "Echo 100% pipeline",
                "LEAD_GENERATION",
                &["LINKEDIN"],
                2_000_000_000,
            ),
            ("Foxtrot", "ENGAGEMENT", &["LINKEDIN"], 8_000_000_000),
            (
                "Golf_pipeline",
                "LEAD_GENERATION",
                &["GOOGLE"],
                3_000_000_000,
            ),
        ],
    )
    .await;
    // Wait once for the projection; every later read sees all seven.
    let everything = app
        .graphql(Some(&token), LIST, json!({"min": position, "first": 100}))
        .await;
    assert_eq!(names(&everything.body).len(), 7, "{:?}", everything.body);

    let by_name = all_pages(&app, &token, json!({"sort": "NAME"}), 3).await;
    let mut expected = by_name.clone();
    expected.sort();
    assert_eq!(by_name, expected, "three pages of NAME ASC in order");
    assert_eq!(by_name.len(), 7, "no gaps, no repeats");

    let by_budget = all_pages(
        &app,
        &token,
        json!({"sort": "BUDGET", "direction": "DESC"}),
        2,
    )
    .await;
    assert_eq!(
        by_budget,
        [
            "alpha awareness",
            "Foxtrot",
            "Bravo visits",
            "Delta pipeline",
            "Golf_pipeline",
            "Echo 100% pipeline",
            "Charlie Pipeline"
        ]
    );
    assert_eq!(
        all_pages(&app, &token, json!({}), 4).await.len(),
        7,
        "the default order (creation) pages too"
    );

    let search = |filter: Value| {
        let app = &app;
        let token = &token;
        async move {
            let mut found = all_pages(app, token, json!({"filter": filter}), 100).await;
            found.sort();
            found
        }
    };
    assert_eq!(
        search(json!({"nameContains": "PIPELINE"})).await,
        [
            "Charlie Pipeline",
            "Delta pipeline",
            "Echo 100% pipeline",
            "Golf_pipeline"
        ],
        "case-insensitive"
    );
    assert_eq!(
        search(json!({"nameContains": "100%"})).await,
        ["Echo 100% pipeline"],
        "LIKE wildcards match literally"
    );
    assert_eq!(
        search(json!({"nameContains": "f_p"})).await,
        ["Golf_pipeline"]
    );
    assert_eq!(
        search(json!({"objective": "LEAD_GENERATION", "platform": "GOOGLE"})).await,
        ["Charlie Pipeline", "Delta pipeline", "Golf_pipeline"]
    );
    assert_eq!(
        search(json!({"status": ["ACTIVE", "PAUSED"]})).await,
        Vec::<String>::new()
    );
    assert_eq!(search(json!({"status": ["DRAFT"]})).await.len(), 7);
    let start = Utc::now().date_naive() + Days::new(7);
    assert_eq!(
        search(json!({"activeTo": (start - Days::new(1)).to_string()})).await,
        Vec::<String>::new(),
        "nothing runs before the schedules start"
    );
    assert_eq!(
        search(json!({"activeFrom": (start + Days::new(30)).to_string()}))
            .await
            .len(),
        7,
        "the last day overlaps"
    );

    // A cursor belongs to its sort; garbage is a client error, not a database one.
    let first_page = app
        .graphql(Some(&token), LIST, json!({"sort": "NAME", "first": 2}))
        .await;
    let cursor = first_page.body["data"]["campaigns"]["pageInfo"]["endCursor"].clone();
    for (variables, what) in [
        (
            json!({"sort": "BUDGET", "after": cursor}),
            "a cursor of another sort",
        ),
        (
            json!({"sort": "BUDGET", "after": "b:00000000-0000-0000-0000-000000000000:12x"}),
            "a forged value",
        ),
        (json!({"after": "nonsense"}), "nonsense"),
        (json!({"first": 101}), "a page over the maximum"),
        (
            json!({"filter": {"nameContains": "x".repeat(201)}}),
            "an overlong search",
        ),
    ] {
        let refused = app.graphql(Some(&token), LIST, variables).await;
        assert_eq!(
            refused.body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{what}: {:?}",
            refused.body
        );
    }

    // Another tenant sees none of it.
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    assert_eq!(all_pages(&app, &stranger, json!({}), 100).await.len(), 0);
}

const NESTED_PAGE: &str = "query($first: Int) {
  campaigns(first: $first) {
    edges { node {
      id name
      structure { google { campaignName adGroups { name keywords { text matchType } searchAds { headlines } } } }
      deployments { platform status externalId }
      recommendations { id reason confidence }
    } }
  }
}";

#[tokio::test]
async fn a_page_of_50_campaigns_with_nested_lists_costs_a_constant_number_of_statements() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let admin = app.token(tenant, Role::Admin);
    // Two campaigns run (structure, deployment); 48 are drafts.
    let (running, _) = active_campaign(&app, &manager, &admin).await;
    active_campaign(&app, &manager, &admin).await;
    let specs: Vec<(String, &str, &[&str], i64)> = (0..48)
        .map(|i| {
            (
                format!("Draft {i:02}"),
                "LEAD_GENERATION",
                &["GOOGLE"][..],
                1_000_000_000,
            )
        })
        .collect();
    let specs: Vec<(&str, &str, &[&str], i64)> = specs
        .iter()
        .map(|(n, o, p, b)| (n.as_str(), *o, *p, *b))
        .collect();
    let (_, position) = create_all(&app, &manager, &specs).await;
    let ready = app
        .graphql(Some(&manager), LIST, json!({"min": position, "first": 100}))
        .await;
    assert_eq!(names(&ready.body).len(), 50);

    let mut cost = Vec::new();
    for first in [50, 5, 50] {
        let before = app.sql_statements().await;
        let page = app
            .graphql(Some(&manager), NESTED_PAGE, json!({"first": first}))
            .await;
        let after = app.sql_statements().await;
        assert!(page.body["errors"].is_null(), "{:?}", page.body);
        let edges = page.body["data"]["campaigns"]["edges"].as_array().unwrap();
        assert_eq!(edges.len(), first as usize);
        if first == 50 {
            let deployed = edges
                .iter()
                .find(|e| e["node"]["id"] == running.as_str())
                .expect("the running campaign is on the page");
            assert_eq!(
                deployed["node"]["structure"]["google"]["adGroups"][0]["name"],
                "Campaign software"
            );
            assert_eq!(deployed["node"]["deployments"][0]["status"], "DEPLOYED");
        }
        cost.push(after - before);
    }
    assert_eq!(
        cost[0], cost[1],
        "50 campaigns cost what 5 cost: {cost:?} statements"
    );
    assert_eq!(cost[0], cost[2]);
    assert!(
        cost[0] <= 4,
        "one statement for the page and one per nested list: {cost:?}"
    );
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a graphql-transport-ws connection with the token in `connection_init`, and subscribes.
async fn subscribe(app: &TestApp, token: &str, query: &str) -> Socket {
    let mut request = app.subscription_url().into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the subscription endpoint accepts WebSockets");
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
    socket.send(Message::text(init.to_string())).await.unwrap();
    let ack = next_message(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(
        ack.as_ref().map(|m| m["type"].clone()),
        Some(json!("connection_ack"))
    );
    let start = json!({"id": "1", "type": "subscribe", "payload": {"query": query}});
    socket.send(Message::text(start.to_string())).await.unwrap();
    socket
}

/// The next GraphQL message within `wait`, if any (pings are answered and skipped).
async fn next_message(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??
            .ok()?;
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).ok()?;
                if value["type"] == "ping" {
                    let pong = json!({"type": "pong"}).to_string();
                    socket.send(Message::text(pong)).await.ok()?;
                    continue;
                }
                return Some(value);
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

#[tokio::test]
async fn subscriptions_see_status_changes_and_deployments_of_their_tenant_only() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let admin = app.token(tenant, Role::Admin);
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let mut statuses = subscribe(
        &app,
        &manager,
        "subscription { campaignStatusChanged { campaignId status position } }",
    )
    .await;
    let mut deployments = subscribe(
        &app,
        &manager,
        "subscription { deploymentProgress { campaignId platform status } }",
    )
    .await;
    let mut theirs = subscribe(
        &app,
        &stranger,
        "subscription { campaignStatusChanged { campaignId status } }",
    )
    .await;

    // The server registers a subscription when it reads the `subscribe` message, which has no
    // acknowledgement in the protocol: give it a moment before causing changes.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (id, _) = active_campaign(&app, &manager, &admin).await;
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("ACTIVE") {
        let message = next_message(&mut statuses, Duration::from_secs(30))
            .await
            .unwrap_or_else(|| panic!("no status change after {seen:?}"));
        assert_eq!(message["type"], "next", "{message}");
        let change = &message["payload"]["data"]["campaignStatusChanged"];
        assert_eq!(change["campaignId"], id.as_str());
        seen.push(change["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        seen,
        [
            "STRUCTURE_REQUESTED",
            "STRUCTURE_PREVIEW",
            "APPROVED",
            "DEPLOYMENT_REQUESTED",
            "DEPLOYED",
            "ACTIVE"
        ]
    );
    let mut progress = Vec::new();
    for _ in 0..2 {
        let message = next_message(&mut deployments, Duration::from_secs(30))
            .await
            .expect("deployment progress");
        let change = &message["payload"]["data"]["deploymentProgress"];
        progress.push((change["platform"].clone(), change["status"].clone()));
    }
    assert_eq!(
        progress,
        [
            (json!("GOOGLE"), json!("REQUESTED")),
            (json!("GOOGLE"), json!("DEPLOYED"))
        ]
    );
    assert_eq!(
        next_message(&mut theirs, Duration::from_secs(1)).await,
        None,
        "another tenant hears nothing"
    );

    // Without a valid token the connection is refused.
    let mut request = app.subscription_url().into_client_request().unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut anonymous, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = json!({"type": "connection_init", "payload": {"Authorization": "Bearer nope"}});
    anonymous
        .send(Message::text(init.to_string()))
        .await
        .unwrap();
    let refused = next_message(&mut anonymous, Duration::from_secs(10)).await;
    assert!(
        refused
            .as_ref()
            .is_none_or(|m| m["type"] != "connection_ack"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn hostile_queries_are_refused_before_they_cost_anything() {
    let app = app().await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let deep = "{ recommendations { edges { node { campaign { recommendations { campaign { recommendations { \
                campaign { recommendations { campaign { recommendations { campaign { recommendations { id } } } } } } } } } } } } } }";
    let wide = format!(
        "{{ {} }}",
        (0..40)
            .map(|i| format!("a{i}: campaigns(first: 100) {{ edges {{ node {{ id name deployments {{ status }} }} }} }}"))
            .collect::<Vec<_>>()
            .join(" ")
    );
    for (query, code) in [
        (deep, "QUERY_TOO_DEEP"),
        (wide.as_str(), "QUERY_TOO_COMPLEX"),
        (
            "{ campaigns { edges { node { nope } } } }",
            "GRAPHQL_VALIDATION_FAILED",
        ),
        ("{ campaigns { ", "GRAPHQL_PARSE_FAILED"),
    ] {
        let before = app.sql_statements().await;
        let refused = app.graphql(Some(&token), query, json!({})).await;
        assert_eq!(
            refused.body["errors"][0]["extensions"]["code"], code,
            "{:?}",
            refused.body
        );
        assert!(refused.body["data"].is_null(), "{:?}", refused.body);
        assert_eq!(
            app.sql_statements().await,
            before,
            "{code}: refused without a single statement"
        );
    }
}

#[tokio::test]
async fn money_and_history_follow_the_role_table() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let viewer = app.token(tenant, Role::Viewer);
    let analyst = app.token(tenant, Role::Analyst);
    let created = app
        .command("/v1/campaigns", Some(&manager), &campaign("Roles"), &[])
        .await;
    let id = str_of(&created.body, "/id").to_owned();
    let renamed = app
        .command(
            &format!("/v1/campaigns/{id}/rename"),
            Some(&manager),
            &json!({"name": "Roles, renamed"}),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let position = str_of(&renamed.body, "/position").to_owned();
    let budget = "query($id: ID!, $min: String) { campaign(id: $id, minPosition: $min) { name totalBudgetMicros } }";

    let seen_by_viewer = app
        .graphql(Some(&viewer), budget, json!({"id": id, "min": position}))
        .await;
    let hidden = &seen_by_viewer.body["data"]["campaign"];
    assert_eq!(
        hidden["name"], "Roles, renamed",
        "the rest of the campaign stays readable"
    );
    assert!(hidden["totalBudgetMicros"].is_null(), "{hidden}");
    assert_eq!(
        seen_by_viewer.body["errors"][0]["extensions"]["code"],
        "FORBIDDEN"
    );
    assert_eq!(
        seen_by_viewer.body["errors"][0]["path"],
        json!(["campaign", "totalBudgetMicros"])
    );
    let seen_by_analyst = app.graphql(Some(&analyst), budget, json!({"id": id})).await;
    assert_eq!(
        seen_by_analyst.body["data"]["campaign"]["totalBudgetMicros"],
        25_000_000_000i64
    );

    let history = "query($id: ID!, $after: Long, $first: Int, $min: String) {
      history(aggregateId: $id, afterVersion: $after, first: $first, minPosition: $min) {
        category hasMore entries { version eventType actor correlationId recordedAt data stateAfter }
      }
    }";
    let refused = app
        .graphql(Some(&viewer), history, json!({"id": id, "min": position}))
        .await;
    assert_eq!(refused.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let full = app
        .graphql(Some(&analyst), history, json!({"id": id, "min": position}))
        .await;
    let record = &full.body["data"]["history"];
    assert_eq!(record["category"], "campaign", "{:?}", full.body);
    assert_eq!(record["hasMore"], false);
    let entries = record["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["eventType"], "CampaignCreated");
    assert_eq!(entries[0]["actor"], "user:tester");
    assert_eq!(entries[0]["stateAfter"]["name"], "Roles");
    assert_eq!(entries[0]["stateAfter"]["status"], "DRAFT");
    assert_eq!(entries[1]["stateAfter"]["name"], "Roles, renamed");
    assert_eq!(entries[1]["data"]["name"], "Roles, renamed");
    let second = app
        .graphql(
            Some(&analyst),
            history,
            json!({"id": id, "after": 0, "first": 1}),
        )
        .await;
    assert_eq!(second.body["data"]["history"]["hasMore"], true);
    let rest = app
        .graphql(
            Some(&analyst),
            history,
            json!({"id": id, "after": 1, "first": 1}),
        )
        .await;
    assert_eq!(
        rest.body["data"]["history"]["entries"][0]["stateAfter"], entries[1]["stateAfter"],
        "a later page folds from the first event"
    );
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let theirs = app
        .graphql(Some(&stranger), history, json!({"id": id}))
        .await;
    assert_eq!(theirs.body["data"]["history"], Value::Null);

    // The Auditor reads money and history alike, and writes nothing.
    let auditor = app.token(tenant, Role::Auditor);
    let audited = app
        .graphql(Some(&auditor), history, json!({"id": id}))
        .await;
    assert_eq!(
        audited.body["data"]["history"]["entries"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{:?}",
        audited.body
    );
    let money = app.graphql(Some(&auditor), budget, json!({"id": id})).await;
    assert_eq!(
        money.body["data"]["campaign"]["totalBudgetMicros"],
        25_000_000_000i64
    );
    let version = "2";
    let write = app
        .command(
            &format!("/v1/campaigns/{id}/rename"),
            Some(&auditor),
            &json!({"name": "Audited"}),
            &[("if-match", version)],
        )
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN, "{:?}", write.body);
    let created = app
        .command(
            "/v1/campaigns",
            Some(&auditor),
            &campaign("Not mine to make"),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::FORBIDDEN, "{:?}", created.body);
}

#[tokio::test]
async fn analytics_come_from_clickhouse_and_match_the_reported_rows() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let admin = app.token(tenant, Role::Admin);
    let viewer = app.token(tenant, Role::Viewer);
    let (first, v1) = active_campaign(&app, &manager, &admin).await;
    let (second, v2) = active_campaign(&app, &manager, &admin).await;
    let day = Utc::now().date_naive() + Days::new(7);
    // (campaign, version, hour, ad group, impressions, clicks, conversions, cost, revenue)
    let rows = [
        (
            &first,
            v1,
            0,
            "Brand",
            1_000,
            50,
            5,
            40_000_000,
            200_000_000,
        ),
        (&first, v1, 1, "Generic", 2_000, 20, 0, 30_000_000, 0),
        (&second, v2, 0, "Brand", 500, 40, 8, 20_000_000, 300_000_000),
    ];
    let mut position = String::new();
    for (campaign, version, hour, ad_group, impressions, clicks, conversions, cost, revenue) in
        rows.iter()
    {
        let at = format!("{day}T{hour:02}:00:00Z");
        let report = json!({
            "reportId": Uuid::now_v7(), "platform": "GOOGLE",
            "windowStart": at, "windowEnd": format!("{day}T{:02}:00:00Z", hour + 1),
            "rows": [{"hour": at, "adGroup": ad_group, "impressions": impressions, "clicks": clicks,
                      "conversions": conversions, "costMicros": cost, "revenueMicros": revenue}]
        });
        // Reports go to day streams: the campaign's version stays what the last command made it.
        let reply = app
            .command(
                &format!("/v1/campaigns/{campaign}/performance"),
                Some(&admin),
                &report,
                &[("if-match", &version.to_string())],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        position = str_of(&reply.body, "/position").to_owned();
    }
    // The dashboard counts campaigns from PostgreSQL: wait for that projection too.
    let projected = app
        .graphql(
            Some(&manager),
            "query($id: ID!, $min: String) { campaign(id: $id, minPosition: $min) { status } }",
            json!({"id": second, "min": position}),
        )
        .await;
    assert_eq!(projected.body["data"]["campaign"]["status"], "ACTIVE");
    // Top-level fields resolve concurrently: wait for ClickHouse in a request of its own.
    let caught_up = app
        .graphql(
            Some(&manager),
            "query($filter: PerformanceFilter!, $min: String) { performance(filter: $filter, minPosition: $min) { impressions } }",
            json!({"filter": {"from": day.to_string(), "to": day.to_string()}, "min": position}),
        )
        .await;
    assert_eq!(caught_up.body["data"]["performance"]["impressions"], 3_500);
    let query = "query($filter: PerformanceFilter!, $min: String) {
      performance(filter: $filter, minPosition: $min) { impressions clicks conversions spendMicros revenueMicros ctr cpcMicros cpaMicros roas }
      performanceSeries(filter: $filter, granularity: HOUR) { start metrics { impressions } }
      daily: performanceSeries(filter: $filter, granularity: DAY, by: PLATFORM) { start key metrics { impressions } }
      performanceBreakdown(filter: $filter, by: AD_GROUP) { key metrics { clicks } }
      best: performers(filter: $filter, metric: ROAS, ranking: TOP, limit: 1) { campaignId value campaign { name } }
      worst: performers(filter: $filter, metric: CPA, ranking: BOTTOM) { campaignId }
      dashboard(from: $from, to: $to) { activeCampaigns campaigns budgetUtilisation activeSpentMicros period { impressions } }
    }";
    let query = query.replace(
        "query($filter",
        "query($from: NaiveDate, $to: NaiveDate, $filter",
    );
    let filter = json!({"from": day.to_string(), "to": day.to_string()});
    let reply = app
        .graphql(
            Some(&manager),
            &query,
            json!({"filter": filter, "min": position, "from": day.to_string(), "to": day.to_string()}),
        )
        .await;
    assert!(reply.body["errors"].is_null(), "{:?}", reply.body);
    let data = &reply.body["data"];
    let totals = &data["performance"];
    assert_eq!(totals["impressions"], 3_500);
    assert_eq!(totals["clicks"], 110);
    assert_eq!(totals["conversions"], 13);
    assert_eq!(totals["spendMicros"], 90_000_000);
    assert_eq!(totals["revenueMicros"], 500_000_000);
    assert_eq!(totals["ctr"], 110.0 / 3_500.0);
    assert_eq!(totals["roas"], 500.0 / 90.0);
    let series: Vec<i64> = data["performanceSeries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["metrics"]["impressions"].as_i64().unwrap())
        .collect();
    assert_eq!(series, [1_500, 2_000], "hour 0 sums both campaigns");
    let daily = data["daily"].as_array().unwrap();
    assert_eq!(daily.len(), 1, "one day, one platform: {daily:?}");
    assert!(str_of(&daily[0], "/start").starts_with(&format!("{day}T00:00:00")));
    assert_eq!(daily[0]["key"], "GOOGLE");
    assert_eq!(
        daily[0]["metrics"]["impressions"], 3_500,
        "the daily rollup"
    );
    assert_eq!(
        data["performanceBreakdown"],
        json!([{"key": "Brand", "metrics": {"clicks": 90}}, {"key": "Generic", "metrics": {"clicks": 20}}])
    );
    assert_eq!(
        data["best"][0]["campaignId"],
        second.as_str(),
        "ROAS 15 beats 2.86"
    );
    assert_eq!(data["best"][0]["campaign"]["name"], "Running");
    assert_eq!(
        data["worst"][0]["campaignId"],
        first.as_str(),
        "CPA 14 is worse than 2.5"
    );
    let dashboard = &data["dashboard"];
    assert_eq!(dashboard["activeCampaigns"], 2);
    assert_eq!(dashboard["campaigns"], 2);
    assert_eq!(dashboard["period"]["impressions"], 3_500);
    assert_eq!(
        dashboard["activeSpentMicros"], 0,
        "the schedules start next week"
    );

    // A viewer sees counts but no money.
    let counts = app
        .graphql(
            Some(&viewer),
            "query($filter: PerformanceFilter!) { performance(filter: $filter) { impressions clicks } }",
            json!({"filter": filter}),
        )
        .await;
    assert_eq!(counts.body["data"]["performance"]["clicks"], 110);
    let money = app
        .graphql(
            Some(&viewer),
            "query($filter: PerformanceFilter!) { performance(filter: $filter) { spendMicros } }",
            json!({"filter": filter}),
        )
        .await;
    assert_eq!(money.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    // Another tenant's analytics are empty; a range too long is refused.
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let theirs = app
        .graphql(
            Some(&stranger),
            "query($filter: PerformanceFilter!) { performance(filter: $filter) { impressions } }",
            json!({"filter": filter}),
        )
        .await;
    assert_eq!(theirs.body["data"]["performance"]["impressions"], 0);
    let too_long = app
        .graphql(
            Some(&manager),
            "query($filter: PerformanceFilter!) { performance(filter: $filter) { impressions } }",
            json!({"filter": {"from": "2020-01-01", "to": "2026-01-01"}}),
        )
        .await;
    assert_eq!(
        too_long.body["errors"][0]["extensions"]["code"],
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn introspection_and_graphiql_can_be_switched_off() {
    let app = TestApp::spawn_with(
        env!("CARGO_BIN_EXE_adflow"),
        &[
            ("ADFLOW_GRAPHQL_INTROSPECTION", "false"),
            ("ADFLOW_GRAPHIQL", "false"),
        ],
    )
    .await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let introspection = app
        .graphql(Some(&token), "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(
        introspection.body["data"].is_null() || introspection.body["data"]["__schema"].is_null(),
        "{:?}",
        introspection.body
    );
    let ide = app
        .http
        .get(format!("{}/graphql", app.query_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ide.status(), StatusCode::METHOD_NOT_ALLOWED);

    let default = self::app().await;
    let ide = default
        .http
        .get(format!("{}/graphql", default.query_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ide.status(), StatusCode::OK, "GraphiQL is on by default");
}

#[tokio::test]
async fn audiences_and_recommendations_read_with_their_nested_lists() {
    let app = app().await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let admin = app.token(tenant, Role::Admin);
    let audience =
        json!({"name": "DACH finance", "criteria": {"include": {"locations": ["DE", "AT"]}}});
    let defined = app
        .command("/v1/audiences", Some(&manager), &audience, &[])
        .await;
    assert_eq!(defined.status, StatusCode::CREATED, "{:?}", defined.body);
    let audience_id = str_of(&defined.body, "/id").to_owned();
    let segment = json!({"name": "Mid-market", "criteria": {"include": {"locations": ["DE"], "companySizes": ["201-500"]}}, "estimatedSize": 12000});
    let added = app
        .command(
            &format!("/v1/audiences/{audience_id}/segments"),
            Some(&manager),
            &segment,
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(added.status, StatusCode::OK, "{:?}", added.body);
    let position = str_of(&added.body, "/position").to_owned();
    let read = app
        .graphql(
            Some(&manager),
            "query($min: String) { audiences(minPosition: $min) { edges { node { id name segments { name personas { name } } accountLists { name } } } } }",
            json!({"min": position}),
        )
        .await;
    let node = &read.body["data"]["audiences"]["edges"][0]["node"];
    assert_eq!(node["id"], audience_id.as_str(), "{:?}", read.body);
    assert_eq!(node["segments"][0]["name"], "Mid-market");

    let (id, version) = active_campaign(&app, &manager, &admin).await;
    let mut proposed_live = subscribe(
        &app,
        &manager,
        &format!("subscription {{ recommendationProposed(campaignId: \"{id}\") {{ kind reason status }} }}"),
    )
    .await;
    // As in the status test: let the server register the subscription.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let proposal = json!({"action": {"kind": "PAUSE"}, "reason": "CPA three times the target",
                          "confidenceBasisPoints": 8_500, "modelVersion": "budget-optimiser 0.1.0"});
    let proposed = app
        .command(
            &format!("/v1/campaigns/{id}/proposals"),
            Some(&admin),
            &proposal,
            &[("if-match", &version.to_string())],
        )
        .await;
    assert_eq!(proposed.status, StatusCode::OK, "{:?}", proposed.body);
    let waiting = app
        .graphql(
            Some(&manager),
            "query($min: String) { recommendations(minPosition: $min) { edges { node { kind reason confidence modelVersion status campaign { id name } } } } }",
            json!({"min": str_of(&proposed.body, "/position")}),
        )
        .await;
    let node = &waiting.body["data"]["recommendations"]["edges"][0]["node"];
    assert_eq!(node["kind"], "PAUSE", "{:?}", waiting.body);
    assert_eq!(node["confidence"], 0.85);
    assert_eq!(node["status"], "PENDING");
    assert_eq!(node["campaign"]["id"], id.as_str());
    let live = next_message(&mut proposed_live, Duration::from_secs(30))
        .await
        .expect("the new recommendation, live");
    assert_eq!(
        live["payload"]["data"]["recommendationProposed"],
        json!({"kind": "PAUSE", "reason": "CPA three times the target", "status": "PENDING"})
    );
}

#[tokio::test]
async fn an_api_key_opens_a_subscription_as_it_opens_a_query() {
    let app = app().await;
    let admin = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let created = app
        .command(
            "/v1/api-keys",
            Some(&admin),
            &json!({"name": "Live board", "role": "viewer"}),
            &[],
        )
        .await;
    let key = created.body["key"].as_str().unwrap().to_owned();
    // `subscribe` asserts the connection_ack.
    let _socket = subscribe(
        &app,
        &key,
        "subscription { campaignStatusChanged { campaignId status } }",
    )
    .await;
}
