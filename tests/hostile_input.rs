//! Hostile input from outside: documents nested or sized to overflow a parser's stack, sent as a
//! Viewer over HTTP and WebSocket, are refused with a coded error while the process keeps
//! serving; a bounded fuzz run over both APIs; and a dead API process that takes neither the
//! other API nor the projectors with it.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::{reply, Reply, TestApp};
use adflow_testkit::fixtures::campaign;
use adflow_testkit::ws;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, TestRunner};
use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

async fn app() -> TestApp {
    TestApp::spawn(env!("CARGO_BIN_EXE_adflow")).await
}

async fn post_raw(app: &TestApp, url: String, token: &str, body: Vec<u8>) -> Reply {
    let response = app
        .http
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("the API must answer, not drop the connection");
    reply(response).await
}

use adflow_testkit::app::error_codes as codes;

fn assert_coded(reply: &Reply, what: &str) {
    assert!(
        reply.status.is_client_error() || reply.status == StatusCode::OK,
        "{what}: {} {:?}",
        reply.status,
        reply.body
    );
    let codes = codes(&reply.body);
    assert!(
        !codes.is_empty() && codes.iter().all(|code| !code.is_empty()),
        "{what}: every error carries extensions.code: {:?}",
        reply.body
    );
}

/// The documents of the crash report and their kin, at a given depth.
fn nested_documents(levels: usize) -> Vec<(&'static str, Vec<u8>)> {
    let braces = format!("{}{}", "{".repeat(levels), "}".repeat(levels));
    let lists = format!(
        "{{ campaigns(filter: {{status: {}DRAFT{}}}) {{ edges {{ node {{ id }} }} }} }}",
        "[".repeat(levels),
        "]".repeat(levels)
    );
    let objects = format!(
        "{{ campaigns(filter: {}{}) {{ edges {{ node {{ id }} }} }} }}",
        "{a: ".repeat(levels),
        "}".repeat(levels)
    );
    vec![
        (
            "braces",
            serde_json::to_vec(&json!({ "query": braces })).unwrap(),
        ),
        (
            "lists",
            serde_json::to_vec(&json!({ "query": lists })).unwrap(),
        ),
        (
            "objects",
            serde_json::to_vec(&json!({ "query": objects })).unwrap(),
        ),
        ("variables", deep_variables_body(levels)),
    ]
}

/// serde_json's own values recurse (building, printing, dropping): deep JSON is built as text.
fn deep_variables_body(levels: usize) -> Vec<u8> {
    format!(
        r#"{{"query":"query($f: CampaignFilter) {{ campaigns(filter: $f) {{ edges {{ node {{ id }} }} }} }}","variables":{{"f":{{"status":{}"DRAFT"{}}}}}}}"#,
        "[".repeat(levels),
        "]".repeat(levels)
    )
    .into_bytes()
}

async fn normal_query_works(app: &TestApp, token: &str) {
    let reply = app
        .graphql(
            Some(token),
            "{ campaigns { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert!(reply.body["errors"].is_null(), "{:?}", reply.body);
}

#[tokio::test]
async fn nested_documents_are_refused_with_a_code_and_the_process_keeps_serving() {
    let app = app().await;
    let viewer = app.token(TenantId(uuid::Uuid::now_v7()), Role::Viewer);
    let graphql = format!("{}/graphql", app.query_url);
    for levels in [10, 1_000, 100_000] {
        for (kind, body) in nested_documents(levels) {
            let reply = post_raw(&app, graphql.clone(), &viewer, body).await;
            assert_coded(&reply, &format!("{kind} at {levels} levels"));
            if levels >= 1_000 {
                let code = codes(&reply.body)[0].clone();
                assert!(
                    code == "INPUT_TOO_DEEP" || code == "INPUT_TOO_LARGE",
                    "{kind} at {levels}: {code}"
                );
            }
        }
    }
    // The exact request of the crash report.
    let crash = format!(
        "{{ campaigns(filter: {{status: {}DRAFT{}}}) {{ edges {{ node {{ id }} }} }} }}",
        "[".repeat(5_000),
        "]".repeat(5_000)
    );
    let reply = app.graphql(Some(&viewer), &crash, json!({})).await;
    assert_eq!(
        codes(&reply.body),
        vec!["INPUT_TOO_DEEP"],
        "{:?}",
        reply.body
    );

    // The command API's JSON bodies: refused before serde walks them.
    let manager = app.token(TenantId(uuid::Uuid::now_v7()), Role::Manager);
    for levels in [40, 1_000, 100_000] {
        let body = format!(
            r#"{{"name":"x","objective":"LEAD_GENERATION","extra":{}1{}}}"#,
            "[".repeat(levels),
            "]".repeat(levels)
        );
        let reply = post_raw(
            &app,
            format!("{}/v1/campaigns", app.command_url),
            &manager,
            body.into_bytes(),
        )
        .await;
        assert!(reply.status.is_client_error(), "{levels}: {:?}", reply);
        let code = reply.body["code"].as_str().unwrap_or_default();
        assert!(
            code == "json_too_deep" || code == "payload_too_large",
            "{levels}: {:?}",
            reply.body
        );
    }

    // Over the WebSocket: the same refusal, in the protocol's error message.
    let mut socket = ws::connect(&app.subscription_url()).await;
    ws::init(&mut socket, &viewer).await;
    let deep_subscription = format!(
        "subscription {{ campaignStatusChanged(campaignId: {}\"x\"{}) {{ campaignId }} }}",
        "[".repeat(20_000),
        "]".repeat(20_000)
    );
    ws::subscribe(&mut socket, "1", &deep_subscription).await;
    let error = ws::next_errors(&mut socket, Duration::from_secs(10)).await;
    assert_eq!(error[0]["extensions"]["code"], "INPUT_TOO_DEEP", "{error}");

    normal_query_works(&app, &viewer).await;
    let reply = app
        .command(
            "/v1/campaigns",
            Some(&manager),
            &campaign("still here"),
            &[],
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:?}", reply.body);
}

/// Tokens a hostile document is made of; the fuzz run strings them together at random depths.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "\"",
    "\\",
    "\"\"\"",
    "#",
    "\n",
    "a",
    ":",
    "$v",
    "...",
    ",",
    "campaigns",
    "query",
    "subscription",
    "fragment f on Query",
    "@include(if: true)",
    "1e999",
    "-",
    "\u{0}",
    "\u{202e}",
    "é",
    "null",
];

fn fuzz_document() -> impl Strategy<Value = String> {
    let piece =
        (0..TOKENS.len(), 1usize..2_000).prop_map(|(token, times)| TOKENS[token].repeat(times));
    proptest::collection::vec(piece, 1..12).prop_map(|pieces| pieces.concat())
}

/// A bounded fuzz run (a fixed seed and number of cases, so that a failure replays): random
/// documents as GraphQL queries, as variables, and as command bodies; every answer is a coded
/// error or a result, and the process serves a normal query at the end.
#[tokio::test]
async fn fuzzed_documents_get_coded_answers_from_both_apis() {
    let app = app().await;
    let viewer = app.token(TenantId(uuid::Uuid::now_v7()), Role::Viewer);
    let manager = app.token(TenantId(uuid::Uuid::now_v7()), Role::Manager);
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let strategy = fuzz_document();
    for case in 0..150 {
        let document = strategy.new_tree(&mut runner).unwrap().current();
        let graphql = format!("{}/graphql", app.query_url);
        let as_query = serde_json::to_vec(&json!({ "query": document })).unwrap();
        let reply = post_raw(&app, graphql.clone(), &viewer, as_query).await;
        assert_coded(&reply, &format!("case {case} as a query"));
        let as_variables = format!(
            r#"{{"query":"query($v: CampaignFilter) {{ campaigns(filter: $v) {{ edges {{ node {{ id }} }} }} }}","variables":{{"v":{document}}}}}"#
        );
        let reply = post_raw(&app, graphql, &viewer, as_variables.into_bytes()).await;
        assert_coded(&reply, &format!("case {case} as variables"));
        let reply = post_raw(
            &app,
            format!("{}/v1/campaigns", app.command_url),
            &manager,
            document.clone().into_bytes(),
        )
        .await;
        assert!(
            reply.status.is_client_error() && reply.body["code"].is_string(),
            "case {case} as a command body: {:?}",
            reply
        );
    }
    normal_query_works(&app, &viewer).await;
}

/// The pids of `parent`'s children whose command line names `subcommand`.
fn children_running(parent: u32, subcommand: &str) -> Vec<u32> {
    let mut found = vec![];
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The process name may hold spaces and parentheses: the fields follow the last ')'.
        let ppid = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|ppid| ppid.parse::<u32>().ok());
        let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if ppid == Some(parent) && cmdline.split('\0').any(|arg| arg == subcommand) {
            found.push(pid);
        }
    }
    found
}

#[tokio::test]
async fn a_dead_api_process_takes_neither_the_other_api_nor_the_projectors_with_it() {
    let app = app().await;
    let tenant = TenantId(uuid::Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let parent = app.pid().expect("the app runs");
    let query_api = children_running(parent, "query-api");
    assert_eq!(query_api.len(), 1, "one query API process under {parent}");
    let killed = std::process::Command::new("kill")
        .args(["-KILL", &query_api[0].to_string()])
        .status()
        .unwrap();
    assert!(killed.success());

    // The command API and the projectors keep working while the query API is down...
    let created = app
        .command(
            "/v1/campaigns",
            Some(&manager),
            &campaign("written during the outage"),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let position = created.body["position"].as_str().unwrap().to_owned();

    // ...and the query API comes back on the same address, with the write projected.
    let reply = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let reply = app
                .graphql(
                    Some(&manager),
                    "query($p: String) { campaigns(minPosition: $p) { edges { node { name } } } }",
                    json!({ "p": position }),
                )
                .await;
            if reply.status == StatusCode::OK {
                return reply;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the query API is back within 30 s");
    assert_eq!(
        reply.body["data"]["campaigns"]["edges"][0]["node"]["name"], "written during the outage",
        "{:?}",
        reply.body
    );
    let restarted = children_running(parent, "query-api");
    assert_eq!(restarted.len(), 1);
    assert_ne!(restarted, query_api, "a new process serves the query API");
}
