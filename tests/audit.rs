//! Tamper evidence (issue "Auditors"): every event's hash is chained to its predecessor's at
//! append; `adflow audit verify` recomputes the chain from the rows and names the first event that
//! an UPDATE, a DELETE or a swap made directly in PostgreSQL broke.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::{campaign, str_of};
use reqwest::StatusCode;
use serde_json::json;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

/// An app with a few campaigns, each renamed twice: streams of three events.
async fn log() -> (TestApp, Vec<String>) {
    let (app, ids, _) = log_with_token().await;
    (app, ids)
}

/// [`log`], with the manager's token.
async fn log_with_token() -> (TestApp, Vec<String>, String) {
    log_in(TestApp::spawn(BIN).await).await
}

/// The checkpoint signing key of the checkpoint tests (a test key: 32 bytes of 0x2a).
const SIGNING_KEY: &str = "2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a";

/// [`log`] in an app that can sign checkpoints (on demand only).
async fn signed_log() -> (TestApp, Vec<String>, String) {
    log_in(
        TestApp::spawn_with(
            BIN,
            &[
                ("ADFLOW_AUDIT_SIGNING_KEY", SIGNING_KEY),
                ("ADFLOW_AUDIT_CHECKPOINT_SECONDS", "0"),
            ],
        )
        .await,
    )
    .await
}

async fn log_in(app: TestApp) -> (TestApp, Vec<String>, String) {
    let manager = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    let mut ids = Vec::new();
    for name in ["Chain one", "Chain two", "Chain three"] {
        let created = app
            .command("/v1/campaigns", Some(&manager), &campaign(name), &[])
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let id = str_of(&created.body, "/id").to_owned();
        for (version, suffix) in [("1", "renamed"), ("2", "renamed again")] {
            let renamed = app
                .command(
                    &format!("/v1/campaigns/{id}/rename"),
                    Some(&manager),
                    &json!({"name": format!("{name}, {suffix}")}),
                    &[("if-match", version)],
                )
                .await;
            assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
        }
        ids.push(id);
    }
    (app, ids, manager)
}

/// The stream of the campaign `id`.
async fn stream_of(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT stream_name FROM events WHERE stream_name LIKE '%' || $1 LIMIT 1")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

async fn verify(app: &TestApp) -> (bool, String) {
    app.run_binary(BIN, &["audit", "verify"]).await
}

/// The log position of `version` of the campaign's stream.
async fn position(app: &TestApp, id: &str, version: i64) -> i64 {
    sqlx::query_scalar(
        "SELECT position FROM events WHERE stream_name LIKE '%' || $1 AND stream_version = $2",
    )
    .bind(id)
    .bind(version)
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_clean_log_verifies_and_every_event_carries_its_chained_hash() {
    let (app, _) = log().await;
    let (ok, output) = verify(&app).await;
    assert!(ok, "{output}");
    assert!(output.contains("the chain holds"), "{output}");
    let unchained: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE hash IS NULL")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(unchained, 0);
}

#[tokio::test]
async fn an_update_made_in_postgres_is_named() {
    let (app, ids) = log().await;
    let target = position(&app, &ids[1], 2).await;
    sqlx::query("UPDATE events SET data = jsonb_set(data, '{name}', '\"Quietly renamed\"') WHERE position = $1")
        .bind(target)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (ok, output) = verify(&app).await;
    assert!(!ok, "{output}");
    assert!(
        output.contains(&format!("BROKEN at position {target}:")) && output.contains("altered"),
        "{output}"
    );
}

#[tokio::test]
async fn a_delete_made_in_postgres_is_named_at_the_event_after_it() {
    let (app, ids) = log().await;
    let removed = position(&app, &ids[0], 2).await;
    let successor = position(&app, &ids[0], 3).await;
    sqlx::query("DELETE FROM events WHERE position = $1")
        .bind(removed)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (ok, output) = verify(&app).await;
    assert!(!ok, "{output}");
    assert!(
        output.contains(&format!("BROKEN at position {successor}:"))
            && output.contains("version 3")
            && output.contains("missing"),
        "{output}"
    );
}

#[tokio::test]
async fn a_swap_of_two_events_made_in_postgres_is_named_at_the_first() {
    let (app, ids) = log().await;
    let first = position(&app, &ids[2], 2).await;
    let second = position(&app, &ids[2], 3).await;
    // The two renames change places: versions exchanged through a free one.
    let mut tx = app.db.pool.begin().await.unwrap();
    for (at, version) in [(first, 1_000_000i64), (second, 2), (first, 3)] {
        sqlx::query("UPDATE events SET stream_version = $2 WHERE position = $1")
            .bind(at)
            .bind(version)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
    let (ok, output) = verify(&app).await;
    assert!(!ok, "{output}");
    assert!(
        output.contains(&format!("BROKEN at position {}:", first.min(second))),
        "{output}"
    );
}

#[tokio::test]
async fn an_as_of_state_folds_from_the_log_and_equals_what_the_history_showed() {
    let (app, ids, manager) = log_with_token().await;
    let id = &ids[0];
    let (stream, recorded): (String, chrono::DateTime<chrono::Utc>) = sqlx::query_as(
        "SELECT stream_name, recorded_at FROM events WHERE stream_name LIKE '%' || $1 AND stream_version = 1",
    )
    .bind(id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let as_of = |args: Vec<String>| {
        let app = &app;
        let stream = stream.clone();
        async move {
            let mut all = vec![
                "audit".to_owned(),
                "state".to_owned(),
                "--stream".to_owned(),
                stream,
            ];
            all.extend(args);
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            let (ok, output) = app.run_binary(BIN, &refs).await;
            assert!(ok, "{output}");
            let json = &output[output.find('{').unwrap()..=output.rfind('}').unwrap()];
            serde_json::from_str::<serde_json::Value>(json).unwrap()
        }
    };
    // The history is a read model: wait until it has caught up with the third event.
    let mut entries = Vec::new();
    for _ in 0..300 {
        let history = app
            .graphql(
                Some(&manager),
                "query($id: ID!) { history(aggregateId: $id) { entries { version stateAfter } } }",
                json!({"id": id}),
            )
            .await;
        entries = history.body["data"]["history"]["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if entries.len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(entries.len(), 3, "the history caught up");
    for entry in &entries {
        let version = entry["version"].as_i64().unwrap();
        let state = as_of(vec!["--version".into(), version.to_string()]).await;
        assert_eq!(state["version"], version);
        assert_eq!(state["state"], entry["stateAfter"], "version {version}");
    }
    let second = position(&app, id, 2).await;
    let by_position = as_of(vec!["--position".into(), second.to_string()]).await;
    assert_eq!(by_position["state"]["name"], "Chain one, renamed");
    let by_time = as_of(vec!["--at".into(), recorded.to_rfc3339()]).await;
    assert_eq!(by_time["version"], 1);
    assert_eq!(by_time["state"]["name"], "Chain one");
    let latest = as_of(vec![]).await;
    assert_eq!(latest["state"]["name"], "Chain one, renamed again");
}

#[tokio::test]
async fn a_replay_streams_the_log_in_order_filtered_as_ndjson_or_csv() {
    let (app, ids, _) = log_with_token().await;
    let tenant: Uuid = sqlx::query_scalar("SELECT tenant_id FROM events LIMIT 1")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let tenant = tenant.to_string();
    let replay = |args: Vec<&str>| {
        let app = &app;
        let mut all = vec!["audit", "replay"];
        all.extend(args);
        let all: Vec<String> = all.into_iter().map(str::to_owned).collect();
        async move {
            let refs: Vec<&str> = all.iter().map(String::as_str).collect();
            let (ok, output) = app.run_binary(BIN, &refs).await;
            assert!(ok, "{output}");
            output
        }
    };
    let everything = replay(vec!["--tenant", &tenant]).await;
    let events: Vec<serde_json::Value> = everything
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 9, "{everything}");
    let positions: Vec<i64> = events
        .iter()
        .map(|e| e["position"].as_i64().unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "log order: {positions:?}"
    );
    assert!(everything.contains("replayed 9 events"), "{everything}");

    let renames = replay(vec!["--tenant", &tenant, "--event-type", "CampaignRenamed"]).await;
    assert_eq!(
        renames.lines().filter(|l| l.starts_with('{')).count(),
        6,
        "{renames}"
    );
    let one = replay(vec![
        "--category",
        "campaign",
        "--tenant",
        &tenant,
        "--from-position",
        &positions[3].to_string(),
        "--to-position",
        &positions[5].to_string(),
    ])
    .await;
    assert_eq!(
        one.lines().filter(|l| l.starts_with('{')).count(),
        3,
        "{one}"
    );
    let stream = stream_of(&app, &ids[1]).await;
    let csv = replay(vec!["--stream", &stream, "--format", "csv"]).await;
    let lines: Vec<&str> = csv.lines().filter(|l| !l.starts_with("replayed")).collect();
    assert!(
        lines[0].starts_with("position,stream,version,eventType"),
        "{csv}"
    );
    assert_eq!(lines.len(), 4, "a header and three events: {csv}");
    // A name with a comma is quoted, its quotes doubled inside the JSON column.
    assert!(lines[2].contains("\"\"Chain two, renamed\"\""), "{csv}");
}

#[tokio::test]
async fn a_diff_names_what_changed_between_two_versions_and_who_changed_it() {
    let (app, ids) = log().await;
    let stream = stream_of(&app, &ids[0]).await;
    let (ok, output) = app
        .run_binary(
            BIN,
            &[
                "audit",
                "diff",
                "--stream",
                &stream,
                "--from-version",
                "1",
                "--to-version",
                "3",
            ],
        )
        .await;
    assert!(ok, "{output}");
    let json = &output[output.find('{').unwrap()..=output.rfind('}').unwrap()];
    let diff: serde_json::Value = serde_json::from_str(json).unwrap();
    let changes = diff["changes"].as_array().unwrap();
    let name = changes
        .iter()
        .find(|c| c["path"] == "/name")
        .expect("the name changed");
    assert_eq!(name["before"], "Chain one");
    assert_eq!(name["after"], "Chain one, renamed again");
    let events = diff["events"].as_array().unwrap();
    assert_eq!(events.len(), 2, "{diff}");
    assert!(events
        .iter()
        .all(|e| e["eventType"] == "CampaignRenamed" && e["actor"] == "user:tester"));
    assert!(events.iter().all(|e| e["correlationId"].is_string()));
}

#[tokio::test]
async fn explain_traces_a_value_to_the_events_and_requests_that_made_it() {
    let (app, ids) = log().await;
    let stream = stream_of(&app, &ids[1]).await;
    let (ok, output) = app
        .run_binary(
            BIN,
            &["audit", "explain", "--stream", &stream, "--path", "/name"],
        )
        .await;
    assert!(ok, "{output}");
    let json = &output[output.find('{').unwrap()..=output.rfind('}').unwrap()];
    let explained: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(explained["value"], "Chain two, renamed again");
    let chain = explained["changedBy"].as_array().unwrap();
    let types: Vec<&str> = chain
        .iter()
        .map(|c| c["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["CampaignCreated", "CampaignRenamed", "CampaignRenamed"],
        "{explained}"
    );
    assert_eq!(chain[1]["before"], "Chain two");
    assert_eq!(chain[1]["after"], "Chain two, renamed");
    assert!(chain
        .iter()
        .all(|c| c["actor"] == "user:tester" && c["causationId"].is_string()));
}

/// What the read model showed of a campaign at one moment.
struct Shown {
    stream: String,
    at: chrono::DateTime<chrono::Utc>,
    version: i64,
    name: String,
    budget: i64,
}

/// Waits until the read model shows `version` of the campaign, and returns what it showed.
async fn shown_at(app: &TestApp, token: &str, id: &str, version: i64) -> (String, i64) {
    for _ in 0..200 {
        let reply = app
            .graphql(
                Some(token),
                "query($id: ID!) { campaign(id: $id) { version name totalBudgetMicros } }",
                json!({"id": id}),
            )
            .await;
        let campaign = &reply.body["data"]["campaign"];
        if campaign["version"].as_i64() == Some(version) {
            return (
                campaign["name"].as_str().unwrap().to_owned(),
                campaign["totalBudgetMicros"].as_i64().unwrap(),
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("the read model never showed version {version} of {id}");
}

#[tokio::test]
async fn as_of_states_at_50_random_moments_equal_what_the_read_model_showed_then() {
    let app = TestApp::spawn(BIN).await;
    let manager = app.token(TenantId(Uuid::now_v7()), Role::Manager);
    let mut campaigns = Vec::new();
    for index in 0..4 {
        let created = app
            .command(
                "/v1/campaigns",
                Some(&manager),
                &campaign(&format!("Moment {index}")),
                &[],
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
        let id = str_of(&created.body, "/id").to_owned();
        let stream = stream_of(&app, &id).await;
        campaigns.push((id, stream, 1_i64));
    }
    // A fixed-seed walk of renames and budget changes over the four campaigns; after each, the
    // moment just after the read model showed the new version, with what it showed.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut shown = Vec::new();
    for step in 0..56 {
        let pick = (next() % campaigns.len() as u64) as usize;
        let (id, stream, version) = &mut campaigns[pick];
        let if_match = version.to_string();
        let reply = if next() % 2 == 0 {
            app.command(
                &format!("/v1/campaigns/{id}/rename"),
                Some(&manager),
                &json!({"name": format!("Moment {pick}, step {step}")}),
                &[("if-match", &if_match)],
            )
            .await
        } else {
            let budget = 1_000_000_000 + (next() % 9_000) as i64 * 1_000_000;
            app.command(
                &format!("/v1/campaigns/{id}/budget"),
                Some(&manager),
                &json!({"totalBudgetMicros": budget}),
                &[("if-match", &if_match)],
            )
            .await
        };
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        *version += 1;
        let (name, budget) = shown_at(&app, &manager, id, *version).await;
        shown.push(Shown {
            stream: stream.clone(),
            at: chrono::Utc::now(),
            version: *version,
            name,
            budget,
        });
    }
    // 50 of those moments, drawn at random, asked of the log.
    let mut checked = 0;
    while checked < 50 {
        let moment = &shown[(next() % shown.len() as u64) as usize];
        let (ok, output) = app
            .run_binary(
                BIN,
                &[
                    "audit",
                    "state",
                    "--stream",
                    &moment.stream,
                    "--at",
                    &moment.at.to_rfc3339(),
                ],
            )
            .await;
        assert!(ok, "{output}");
        let json = &output[output.find('{').unwrap()..=output.rfind('}').unwrap()];
        let state: serde_json::Value = serde_json::from_str(json).unwrap();
        let at = moment.at;
        assert_eq!(
            state["version"], moment.version,
            "{} at {at}",
            moment.stream
        );
        assert_eq!(state["state"]["name"], moment.name.as_str(), "at {at}");
        assert_eq!(
            state["state"]["totalBudgetMicros"], moment.budget,
            "at {at}"
        );
        checked += 1;
    }
}

/// Rewrites `version` of the campaign's stream the way someone with write access who knows the
/// chain would: a new name, and every hash from there on recomputed, so the chain holds again.
async fn rewrite_with_recomputed_chain(app: &TestApp, id: &str, version: u64) {
    use adflow_event_store::{chain, EventReader, NewEvent};
    sqlx::query(
        "UPDATE events SET data = jsonb_set(data, '{name}', '\"Quietly renamed\"')
          WHERE stream_name LIKE '%' || $1 AND stream_version = $2",
    )
    .bind(id)
    .bind(version as i64)
    .execute(&app.db.pool)
    .await
    .unwrap();
    let stream = stream_of(app, id).await;
    let store = adflow_event_store::postgres::PostgresEventStore::new(app.db.pool.clone());
    let events = store.read_stream(&stream, 1, 100).await.unwrap();
    let mut previous: Vec<u8> = Vec::new();
    for event in events {
        let as_appended = NewEvent {
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            data: event.data.clone(),
            metadata: event.metadata.clone(),
        };
        let hash = chain::link(&previous, &chain::content_hash(&stream, &as_appended));
        sqlx::query("UPDATE events SET hash = $3 WHERE stream_name = $1 AND stream_version = $2")
            .bind(&stream)
            .bind(event.stream_version as i64)
            .bind(hash.as_slice())
            .execute(&app.db.pool)
            .await
            .unwrap();
        previous = hash.to_vec();
    }
    let report = chain::verify(&app.db.pool).await.unwrap();
    assert_eq!(
        report.first_break, None,
        "the chain alone no longer sees it"
    );
}

#[tokio::test]
async fn a_signed_checkpoint_catches_a_stream_rewritten_with_its_chain_recomputed() {
    let (app, ids, _) = signed_log().await;
    let (ok, output) = app.run_binary(BIN, &["audit", "checkpoint"]).await;
    assert!(
        ok && output.contains("checkpoint 1: 3 streams, 3 heads changed"),
        "{output}"
    );
    let (ok, output) = verify(&app).await;
    assert!(
        ok && output.contains("1 signed checkpoints verified"),
        "{output}"
    );

    rewrite_with_recomputed_chain(&app, &ids[1], 2).await;
    let (ok, output) = verify(&app).await;
    assert!(!ok, "{output}");
    assert!(
        output.contains("version 3, a head signed in checkpoint 1, has another hash now"),
        "{output}"
    );
}

#[tokio::test]
async fn a_signed_checkpoint_catches_the_newest_events_cut_off() {
    let (app, ids, _) = signed_log().await;
    assert!(app.run_binary(BIN, &["audit", "checkpoint"]).await.0);
    sqlx::query("DELETE FROM events WHERE stream_name LIKE '%' || $1 AND stream_version = 3")
        .bind(&ids[0])
        .execute(&app.db.pool)
        .await
        .unwrap();
    let chain_alone = adflow_event_store::chain::verify(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(
        chain_alone.first_break, None,
        "a cut tail leaves no broken link"
    );
    let (ok, output) = verify(&app).await;
    assert!(!ok, "{output}");
    assert!(output.contains("is gone from the log"), "{output}");
}

#[tokio::test]
async fn edited_checkpoints_and_a_foreign_key_are_refused() {
    let (app, _, _) = signed_log().await;
    assert!(app.run_binary(BIN, &["audit", "checkpoint"]).await.0);
    assert!(app.run_binary(BIN, &["audit", "checkpoint"]).await.0);
    let other_key = "11".repeat(32);
    let other_public = adflow_event_store::checkpoints::to_hex(
        adflow_event_store::checkpoints::signing_key(&other_key)
            .unwrap()
            .verifying_key()
            .as_bytes(),
    );
    let (ok, output) = app
        .run_binary(BIN, &["audit", "verify", "--public-key", &other_public])
        .await;
    assert!(
        !ok && output.contains("checkpoint 1's signature does not verify"),
        "{output}"
    );
    sqlx::query("UPDATE audit_checkpoint_heads SET stream_version = stream_version + 1 WHERE checkpoint_id = 1")
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (ok, output) = verify(&app).await;
    assert!(
        !ok && output.contains("checkpoint 1's recorded heads were edited"),
        "{output}"
    );
}

#[tokio::test]
async fn verify_from_a_checkpoint_recomputes_only_what_came_after_it() {
    let (app, ids, manager) = signed_log().await;
    assert!(app.run_binary(BIN, &["audit", "checkpoint"]).await.0);
    let renamed = app
        .command(
            &format!("/v1/campaigns/{}/rename", ids[2]),
            Some(&manager),
            &json!({"name": "After the checkpoint"}),
            &[("if-match", "3")],
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{:?}", renamed.body);
    let (ok, output) = app
        .run_binary(BIN, &["audit", "verify", "--from-checkpoint", "latest"])
        .await;
    assert!(ok, "{output}");
    assert!(
        output.contains("(3 streams from their checkpointed heads)"),
        "{output}"
    );
    let after = position(&app, &ids[2], 4).await;
    sqlx::query("UPDATE events SET data = jsonb_set(data, '{name}', '\"Changed later\"') WHERE position = $1")
        .bind(after)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (ok, output) = app
        .run_binary(BIN, &["audit", "verify", "--from-checkpoint", "1"])
        .await;
    assert!(
        !ok && output.contains(&format!("BROKEN at position {after}:")),
        "{output}"
    );
}

#[tokio::test]
async fn api_keys_are_in_the_trail_and_refused_commands_in_the_access_log() {
    let app = TestApp::spawn(BIN).await;
    let tenant = TenantId(Uuid::now_v7());
    let admin = app.token(tenant, Role::Admin);
    let viewer = app.token_for("viewer-1", tenant, Role::Viewer);
    let auditor = app.token(tenant, Role::Auditor);

    let created = app
        .command(
            "/v1/api-keys",
            Some(&admin),
            &json!({"name": "HubSpot sync", "role": "analyst"}),
            &[],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let key_id = str_of(&created.body, "/id").to_owned();
    let revoked = app
        .command(
            &format!("/v1/api-keys/{key_id}/revoke"),
            Some(&admin),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{:?}", revoked.body);

    // Refused: a Viewer creating a campaign, a Manager-less invalid budget, an unknown key.
    let forbidden = app
        .command(
            "/v1/campaigns",
            Some(&viewer),
            &campaign("Not mine to make"),
            &[],
        )
        .await;
    assert_eq!(forbidden.status, StatusCode::FORBIDDEN);
    let mut invalid = campaign("Bad budget");
    invalid["totalBudgetMicros"] = json!(-5);
    let refused = app
        .command("/v1/campaigns", Some(&admin), &invalid, &[])
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let elsewhere = app
        .command(
            &format!("/v1/api-keys/{key_id}/revoke"),
            Some(&stranger),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(elsewhere.status, StatusCode::NOT_FOUND);

    // The history is a read model: wait until it has both events (under the whole suite its
    // projector can lag by several seconds).
    let mut entries = Vec::new();
    let mut history = None;
    for _ in 0..600 {
        let reply = app
            .graphql(
                Some(&auditor),
                "query($id: ID!) { history(aggregateId: $id) { entries { eventType actor data } } }",
                json!({"id": tenant.0}),
            )
            .await;
        entries = reply.body["data"]["history"]["entries"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        history = Some(reply);
        if entries.len() >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let history = history.unwrap();
    let types: Vec<&str> = entries
        .iter()
        .map(|e| e["eventType"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        ["ApiKeyCreated", "ApiKeyRevoked"],
        "{:?}",
        history.body
    );
    assert_eq!(entries[0]["data"]["role"], "analyst");
    assert_eq!(entries[0]["data"]["keyId"], key_id.as_str());

    let log = app
        .graphql(
            Some(&auditor),
            "{ accessLog { actor method route status code reasons } }",
            json!({}),
        )
        .await;
    let rows = log.body["data"]["accessLog"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rows.len(), 2, "{:?}", log.body);
    assert_eq!(rows[0]["code"], "validation_failed");
    assert_eq!(rows[0]["route"], "/v1/campaigns");
    assert!(
        rows[0]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("/totalBudgetMicros ")),
        "{rows:?}"
    );
    assert_eq!(rows[1]["actor"], "user:viewer-1");
    assert_eq!(rows[1]["status"], 403);
    assert_eq!(rows[1]["code"], "forbidden");
    // The stranger's refusal is in the stranger's tenant's log, not here; a Viewer cannot read it.
    let as_viewer = app
        .graphql(Some(&viewer), "{ accessLog { code } }", json!({}))
        .await;
    assert_eq!(
        as_viewer.body["errors"][0]["extensions"]["code"],
        "FORBIDDEN"
    );
}
