//! The served OpenAPI document describes the running server: every path it lists exists (answers
//! 401 without a token rather than the 404 of an unknown route), and the docs page is served.

use adflow_testkit::app::TestApp;
use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn every_documented_operation_exists_on_the_server() {
    let app = TestApp::spawn(env!("CARGO_BIN_EXE_adflow")).await;
    let spec: Value = app
        .http
        .get(format!("{}/openapi.json", app.command_url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    assert_eq!(spec, adflow_command_api::openapi::document());
    let paths = spec["paths"].as_object().unwrap();
    assert!(paths.len() >= 27);
    for path in paths.keys() {
        let concrete: Vec<String> = path
            .split('/')
            .map(|part| match part {
                "{platform}" => "google".to_owned(),
                p if p.starts_with('{') => uuid::Uuid::now_v7().to_string(),
                p => p.to_owned(),
            })
            .collect();
        let url = format!("{}{}", app.command_url, concrete.join("/"));
        let reply = if paths[path].get("get").is_some() {
            let response = app.http.get(url).send().await.unwrap();
            adflow_testkit::app::reply(response).await
        } else if paths[path].get("delete").is_some() {
            let response = app.http.delete(url).send().await.unwrap();
            adflow_testkit::app::reply(response).await
        } else {
            app.command(&concrete.join("/"), None, &serde_json::json!({}), &[])
                .await
        };
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{path}: {:?}",
            reply.body
        );
    }
    let docs = app
        .http
        .get(format!("{}/docs", app.command_url))
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), StatusCode::OK);
    assert!(docs.text().await.unwrap().contains("/openapi.json"));
}
