//! GDPR (issue "Auditors"): a data subject's CRM identifier hash is sealed under the subject's key
//! in the log; after `POST /v1/data-subjects/{id}/erase` the key is gone and the hash is found
//! nowhere — event store, read models, ClickHouse, NATS streams, the process's logs — while
//! replay and projections go on and the erasure is itself in the trail.

use adflow_auth::Role;
use adflow_domain::personal::subject_of_identifier;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::clickhouse::clickhouse_url;
use adflow_testkit::fixtures::str_of;
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Tables of every schema of the app's PostgreSQL database holding `needle` in any column.
async fn postgres_tables_holding(app: &TestApp, needle: &str) -> Vec<String> {
    let tables: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_schema, table_name FROM information_schema.tables
          WHERE table_type = 'BASE TABLE'
            AND table_schema NOT IN ('pg_catalog', 'information_schema')",
    )
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let mut holding = Vec::new();
    for (schema, table) in tables {
        let found: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM \"{schema}\".\"{table}\" t WHERE t::text LIKE '%' || $1 || '%'"
        ))
        .bind(needle)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
        if found > 0 {
            holding.push(format!("{schema}.{table}"));
        }
    }
    holding
}

/// ClickHouse's answer, or why not: a table the analytics projector has not created yet, or a
/// server busy with the rest of the suite, is an error to wait out, not a finding.
async fn clickhouse_answer(sql: &str) -> Result<String, String> {
    let response = reqwest::Client::new()
        .post(clickhouse_url())
        .body(sql.to_owned())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.text().await.map_err(|e| e.to_string())?;
    if status.is_success() {
        Ok(text)
    } else {
        Err(format!("{status}: {text}"))
    }
}

async fn clickhouse(sql: &str) -> String {
    clickhouse_answer(sql).await.unwrap()
}

/// Tables of the app's ClickHouse database holding `needle` anywhere in a row.
async fn clickhouse_tables_holding(app: &TestApp, needle: &str) -> Vec<String> {
    let database = &app.db.name;
    let tables = clickhouse(&format!(
        "SELECT name FROM system.tables WHERE database = '{database}'"
    ))
    .await;
    let mut holding = Vec::new();
    for table in tables.lines().filter(|t| !t.is_empty()) {
        let rows = clickhouse(&format!(
            "SELECT * FROM {database}.{table} FORMAT TabSeparated"
        ))
        .await;
        if rows.contains(needle) {
            holding.push(table.to_owned());
        }
    }
    holding
}

/// Every message of every JetStream stream on the server that holds `needle`, as "stream/seq".
async fn nats_messages_holding(needle: &str) -> Vec<String> {
    let url = std::env::var("ADFLOW_NATS_URL").unwrap_or_else(|_| "127.0.0.1:4222".into());
    let client = async_nats::connect(url).await.unwrap();
    let jetstream = async_nats::jetstream::new(client);
    let names: Vec<String> = jetstream
        .stream_names()
        .filter_map(|name| async move { name.ok() })
        .collect()
        .await;
    let mut holding = Vec::new();
    for name in names {
        let Ok(mut stream) = jetstream.get_stream(&name).await else {
            continue;
        };
        let Ok(info) = stream.info().await else {
            continue;
        };
        let (first, last) = (info.state.first_sequence, info.state.last_sequence);
        for sequence in first..=last {
            if let Ok(message) = stream.get_raw_message(sequence).await {
                let headers = format!("{:?}", message.headers);
                if String::from_utf8_lossy(&message.payload).contains(needle)
                    || headers.contains(needle)
                {
                    holding.push(format!("{name}/{sequence}"));
                }
            }
        }
    }
    holding
}

#[tokio::test]
async fn an_erased_subject_is_found_nowhere_and_replay_goes_on() {
    // Debug logs: the search below covers everything the process would log.
    let app = TestApp::spawn_with(BIN, &[("ADFLOW_LOG", "debug")]).await;
    let tenant = TenantId(Uuid::now_v7());
    let admin = app.token(tenant, Role::Admin);
    let erased_hash = sha256_hex(&format!("jane.doe+{}@example.com", Uuid::now_v7()));
    let kept_hash = sha256_hex(&format!("john.roe+{}@example.com", Uuid::now_v7()));
    let erased_subject = subject_of_identifier(&erased_hash);
    let kept_subject = subject_of_identifier(&kept_hash);

    let defined = app
        .command(
            "/v1/audiences",
            Some(&admin),
            &json!({"name": "DACH finance", "criteria": {"include": {"locations": ["DE"]}}}),
            &[],
        )
        .await;
    assert_eq!(defined.status, StatusCode::CREATED, "{:?}", defined.body);
    let audience = str_of(&defined.body, "/id").to_owned();
    let imported = app
        .command(
            &format!("/v1/audiences/{audience}/account-lists"),
            Some(&admin),
            &json!({"name": "Accounts", "lawfulBasis": "CONSENT",
                    "hashedIdentifiers": [erased_hash, kept_hash]}),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(imported.status, StatusCode::OK, "{:?}", imported.body);
    // A segmentation request puts a work message on NATS: the search below must find the
    // audience there (so it reads the messages) and never the hash.
    let account = json!({"industry": "Software", "country": "DE", "employees": 420,
        "seniorityBasisPoints": [2_500, 2_500, 2_500, 2_500],
        "functionBasisPoints": [2_000, 2_000, 2_000, 2_000, 2_000],
        "engagementBasisPoints": 5_000});
    let requested = app
        .command(
            &format!("/v1/audiences/{audience}/segmentation-requests"),
            Some(&admin),
            &json!({"accounts": vec![account; 12], "maxSegments": 2}),
            &[("if-match", "2")],
        )
        .await;
    assert_eq!(requested.status, StatusCode::OK, "{:?}", requested.body);

    // Held, and sealed: the export opens it, the log holds only ciphertext.
    let export = |subject: Uuid| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let reply = app
                .http
                .get(format!("{}/v1/data-subjects/{subject}", app.command_url))
                .bearer_auth(&admin)
                .send()
                .await
                .unwrap();
            assert_eq!(reply.status(), StatusCode::OK);
            reply.json::<serde_json::Value>().await.unwrap()
        }
    };
    // The export scans the log, which shows an append once no older transaction of the server is
    // still open: on a machine busy with other databases that can take a moment.
    let before = adflow_testkit::eventually(30, "the import in the export", || async {
        let exported = export(erased_subject).await;
        (!exported["records"].as_array()?.is_empty()).then_some(exported)
    })
    .await;
    assert_eq!(
        before["records"][0]["value"],
        erased_hash.as_str(),
        "{before}"
    );
    assert_eq!(before["erased"], false);
    let in_log: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE data::text LIKE '%' || $1 || '%'")
            .bind(&erased_hash)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(
        in_log, 0,
        "the log holds the hash sealed, never in the clear"
    );

    // Another tenant's Admin cannot erase or export it; a Manager may not either.
    let manager = app.token(tenant, Role::Manager);
    let refused = app
        .command(
            &format!("/v1/data-subjects/{erased_subject}/erase"),
            Some(&manager),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let elsewhere = app
        .command(
            &format!("/v1/data-subjects/{erased_subject}/erase"),
            Some(&stranger),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(elsewhere.body["keysDestroyed"], 0, "{:?}", elsewhere.body);

    let erased = app
        .command(
            &format!("/v1/data-subjects/{erased_subject}/erase"),
            Some(&admin),
            &json!({}),
            &[],
        )
        .await;
    assert_eq!(erased.status, StatusCode::OK, "{:?}", erased.body);
    assert_eq!(erased.body["keysDestroyed"], 1);
    let position = erased.body["position"].as_str().unwrap().to_owned();

    // The read models caught up with the erasure (read-your-writes on its position).
    let history = app
        .graphql(
            Some(&admin),
            "query($id: ID!, $p: String) { history(aggregateId: $id, minPosition: $p) { entries { eventType actor } } }",
            json!({"id": erased_subject, "p": position}),
        )
        .await;
    let entries = &history.body["data"]["history"]["entries"];
    assert_eq!(
        entries[0]["eventType"], "DataSubjectErased",
        "{:?}",
        history.body
    );
    assert!(
        entries[0]["actor"].as_str().unwrap().starts_with("user:"),
        "the trail names who erased: {entries}"
    );
    // The analytics projector has seen it too (its tables may not even exist yet on a busy
    // machine).
    for attempt in 0.. {
        let last = match clickhouse_answer(&format!(
            "SELECT count() FROM {}.domain_events WHERE event_type = 'DataSubjectErased'",
            app.db.name
        ))
        .await
        {
            Ok(seen) if seen.trim() != "0" => break,
            Ok(seen) => seen,
            Err(error) => error,
        };
        assert!(attempt < 600, "ClickHouse never saw the erasure: {last}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Found nowhere — by searches that do find what is there (the audience's id).
    assert!(!postgres_tables_holding(&app, &audience).await.is_empty());
    assert!(clickhouse_tables_holding(&app, &audience)
        .await
        .contains(&"domain_events".to_owned()));
    for _ in 0..100 {
        if !nats_messages_holding(&audience).await.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(!nats_messages_holding(&audience).await.is_empty());
    assert_eq!(
        postgres_tables_holding(&app, &erased_hash).await,
        Vec::<String>::new()
    );
    assert_eq!(
        clickhouse_tables_holding(&app, &erased_hash).await,
        Vec::<String>::new()
    );
    assert_eq!(
        nats_messages_holding(&erased_hash).await,
        Vec::<String>::new()
    );
    assert!(
        !app.output().contains(&erased_hash),
        "the process logged the erased hash"
    );
    let live_keys: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM data_subject_keys WHERE subject_id = $1 AND key IS NOT NULL",
    )
    .bind(erased_subject)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(live_keys, 0);

    // The export and the replay show it as erased; the other subject is untouched.
    let after = export(erased_subject).await;
    assert_eq!(after["erased"], true);
    assert_eq!(after["records"][0]["erased"], true, "{after}");
    assert!(after["records"][0]["value"].is_null());
    let kept = export(kept_subject).await;
    assert_eq!(kept["records"][0]["value"], kept_hash.as_str());
    let (ok, replay) = app
        .run_binary(BIN, &["audit", "replay", "--tenant", &tenant.0.to_string()])
        .await;
    assert!(ok, "{replay}");
    assert!(!replay.contains(&erased_hash));
    assert!(replay.contains(&kept_hash), "live subjects still open");
    assert!(replay.contains("\"erased\":true"), "{replay}");
    assert!(replay.contains("DataSubjectErased"));
    // The aggregate still folds, and the audience's read model still counts both identifiers.
    let lists = app
        .graphql(
            Some(&admin),
            "query($id: ID!) { audience(id: $id) { accountLists { identifiers } } }",
            json!({"id": audience}),
        )
        .await;
    assert_eq!(
        lists.body["data"]["audience"]["accountLists"][0]["identifiers"], 2,
        "{:?}",
        lists.body
    );
    let (ok, state) = app
        .run_binary(
            BIN,
            &[
                "audit",
                "state",
                "--stream",
                &format!("audience-{}_{audience}", tenant.0),
            ],
        )
        .await;
    assert!(ok, "{state}");
}
