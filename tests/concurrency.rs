//! Optimistic concurrency through HTTP: parallel edits of one campaign at the same version.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::{campaign, str_of};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

#[tokio::test]
async fn twenty_parallel_edits_at_one_version_one_wins_nineteen_conflict() {
    let app = TestApp::spawn(env!("CARGO_BIN_EXE_adflow")).await;
    let token = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    let created = app
        .command("/v1/campaigns", Some(&token), &campaign("Contended"), &[])
        .await;
    let id = str_of(&created.body, "/id").to_owned();
    let path = format!("/v1/campaigns/{id}/rename");
    let bodies: Vec<_> = (0..20)
        .map(|i| json!({"name": format!("Name {i}")}))
        .collect();
    let replies = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| app.command(&path, Some(&token), body, &[("if-match", "1")])),
    )
    .await;
    let won: Vec<_> = replies
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .collect();
    let conflicts = replies
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && r.body["code"] == "version_conflict")
        .count();
    assert_eq!(
        won.len(),
        1,
        "{:?}",
        replies.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert_eq!(conflicts, 19);
    assert!(replies
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT)
        .all(|r| r.body["currentVersion"] == 2));
    let events: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE stream_name LIKE '%' || $1 AND event_type = 'CampaignRenamed'",
    )
    .bind(&id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(events, 1, "the losers appended nothing");
    assert_eq!(won[0].body["version"], 2);
}
