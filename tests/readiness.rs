//! Readiness (issue "Operating Adflow", part): both APIs' `/readyz` turn unready when PostgreSQL
//! goes away and ready again when it returns, while `/healthz` (alive) stays `200`. PostgreSQL is
//! taken away by cutting a proxy in front of it, not by stopping the server other tests share.

use adflow_testkit::app::TestApp;
use adflow_testkit::tcp_proxy::TcpProxy;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

async fn probe(app: &TestApp, base: &str, path: &str) -> (StatusCode, Value) {
    let response = app
        .http
        .get(format!("{base}{path}"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Waits until both APIs' `/readyz` answer `expected`; returns the query API's last answer.
async fn both_become(app: &TestApp, expected: StatusCode) -> Value {
    let mut last = Value::Null;
    for _ in 0..150 {
        let (command, _) = probe(app, &app.command_url, "/readyz").await;
        let (query, body) = probe(app, &app.query_url, "/readyz").await;
        last = body;
        if command == expected && query == expected {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("/readyz did not become {expected}: {last}");
}

#[tokio::test]
async fn readyz_follows_postgresql_away_and_back_while_healthz_stays_alive() {
    let proxy = TcpProxy::start("127.0.0.1:5432".parse().unwrap()).await;
    // The app's own database, reached through the proxy.
    let db = adflow_testkit::fresh_database().await;
    let through_proxy = db.url.replace(":5432/", &format!(":{}/", proxy.port));
    assert_ne!(through_proxy, db.url, "{}", db.url);
    let app = TestApp::spawn_with(
        BIN,
        &[
            ("ADFLOW_DATABASE_URL", through_proxy.as_str()),
            ("ADFLOW_DATABASE_MAX_CONNECTIONS", "4"),
        ],
    )
    .await;
    let ready = both_become(&app, StatusCode::OK).await;
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["checks"]["postgres"], "ok");
    assert_eq!(ready["checks"]["projection:campaigns"], "ok", "{ready}");

    proxy.cut();
    let unready = both_become(&app, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(unready["status"], "unready");
    assert_ne!(unready["checks"]["postgres"], "ok", "{unready}");
    for base in [&app.command_url, &app.query_url] {
        let (alive, _) = probe(&app, base, "/healthz").await;
        assert_eq!(alive, StatusCode::OK);
    }

    proxy.restore();
    let back = both_become(&app, StatusCode::OK).await;
    assert_eq!(back["checks"]["postgres"], "ok");
}
