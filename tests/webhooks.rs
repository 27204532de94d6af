//! Outbound webhooks (issue "Integrations", part): a receiver on loopback verifies every
//! signature with the published Standard Webhooks algorithm; taken down for a stretch and brought
//! back, it gets every event, in order per aggregate, each delivery id once.

use adflow_auth::Role;
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::{campaign, str_of};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

#[derive(Clone, Default)]
struct Receiver {
    down: Arc<AtomicBool>,
    secret: Arc<Mutex<String>>,
    received: Arc<Mutex<Vec<(String, Value)>>>,
    refused: Arc<Mutex<u32>>,
}

/// Standard Webhooks verification, as an integrator would write it from the specification.
fn verify(secret: &str, headers: &HeaderMap, body: &str) -> bool {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    let Ok(sent) = timestamp.parse::<i64>() else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - sent).abs() > 300 {
        return false;
    }
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    header("webhook-signature")
        .split(' ')
        .any(|s| s == expected)
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    if receiver.down.load(Ordering::SeqCst) {
        *receiver.refused.lock().unwrap() += 1;
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    let secret = receiver.secret.lock().unwrap().clone();
    assert!(
        verify(&secret, &headers, &body),
        "a signature did not verify"
    );
    let id = headers["webhook-id"].to_str().unwrap().to_owned();
    receiver
        .received
        .lock()
        .unwrap()
        .push((id, serde_json::from_str(&body).unwrap()));
    StatusCode::NO_CONTENT
}

#[tokio::test]
async fn a_receiver_down_for_a_stretch_gets_every_event_in_order_each_id_once() {
    let receiver = Receiver::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://localhost:{}/hooks",
        listener.local_addr().unwrap().port()
    );
    let router = axum::Router::new()
        .route("/hooks", axum::routing::post(receive))
        .with_state(receiver.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    let app = TestApp::spawn_with(
        BIN,
        &[
            ("ADFLOW_WEBHOOKS_ALLOW_PRIVATE", "true"),
            ("ADFLOW_WEBHOOK_RETRY_BASE_MS", "100"),
            ("ADFLOW_WEBHOOK_POLL_MS", "50"),
        ],
    )
    .await;
    let tenant = TenantId(Uuid::now_v7());
    let admin = app.token(tenant, Role::Admin);
    let refused = app
        .command(
            "/v1/webhooks",
            Some(&admin),
            &json!({"url": url, "eventTypes": ["NoSuchEvent"]}),
            &[],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let subscribed = app
        .command(
            "/v1/webhooks",
            Some(&admin),
            &json!({"url": url, "eventTypes": ["CampaignCreated", "CampaignRenamed"]}),
            &[],
        )
        .await;
    assert_eq!(
        subscribed.status,
        StatusCode::CREATED,
        "{:?}",
        subscribed.body
    );
    *receiver.secret.lock().unwrap() = str_of(&subscribed.body, "/secret").to_owned();

    // Two campaigns renamed while the receiver is up, then while it is down, then up again.
    let mut ids = Vec::new();
    for name in ["Hook one", "Hook two"] {
        let made = app
            .command("/v1/campaigns", Some(&admin), &campaign(name), &[])
            .await;
        ids.push(str_of(&made.body, "/id").to_owned());
    }
    let rename = |id: String, version: u64, name: String| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let reply = app
                .command(
                    &format!("/v1/campaigns/{id}/rename"),
                    Some(&admin),
                    &json!({"name": name}),
                    &[("if-match", &version.to_string())],
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        }
    };
    let wait_for = |count: usize| {
        let receiver = receiver.clone();
        async move {
            for _ in 0..300 {
                if receiver.received.lock().unwrap().len() >= count {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            panic!(
                "{} of {count} deliveries",
                receiver.received.lock().unwrap().len()
            );
        }
    };
    let mut versions = [1u64, 1u64];
    rename(ids[0].clone(), versions[0], "Hook one, v2".into()).await;
    versions[0] += 1;
    wait_for(3).await;
    receiver.down.store(true, Ordering::SeqCst);
    for round in 0..3 {
        for (index, id) in ids.iter().enumerate() {
            rename(
                id.clone(),
                versions[index],
                format!("{id} in round {round}"),
            )
            .await;
            versions[index] += 1;
        }
    }
    rename(ids[1].clone(), versions[1], "Hook two, last".into()).await;
    // Let it fail a few times.
    for _ in 0..100 {
        if *receiver.refused.lock().unwrap() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(*receiver.refused.lock().unwrap() >= 3);
    receiver.down.store(false, Ordering::SeqCst);
    wait_for(10).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    let received = receiver.received.lock().unwrap().clone();
    let mut seen = std::collections::HashSet::new();
    for (id, _) in &received {
        assert!(seen.insert(id.clone()), "delivery {id} arrived twice");
    }
    assert_eq!(received.len(), 10, "2 created + 8 renamed");
    for campaign_id in &ids {
        let versions: Vec<u64> = received
            .iter()
            .filter(|(_, body)| {
                body["data"]["stream"]
                    .as_str()
                    .unwrap()
                    .ends_with(campaign_id.as_str())
            })
            .map(|(_, body)| body["data"]["version"].as_u64().unwrap())
            .collect();
        let mut sorted = versions.clone();
        sorted.sort();
        assert_eq!(versions, sorted, "in order for {campaign_id}");
        assert_eq!(versions.len(), 5);
    }
    // The delivery log has the refusals and the deliveries.
    let (failed, delivered): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE NOT delivered), count(*) FILTER (WHERE delivered)
           FROM webhook_deliveries",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert!(
        failed >= 3 && delivered == 10,
        "{failed} failed, {delivered} delivered"
    );
    // The Admin reads the same log over GraphQL, newest first; other roles may not.
    let subscription = str_of(&subscribed.body, "/id").to_owned();
    let log = app
        .graphql(
            Some(&admin),
            "query($s: ID!) { webhookSubscriptions { id url disabledAt } webhookDeliveries(subscriptionId: $s, first: 500) { messageId eventType attempt delivered responseCode latencyMs } }",
            json!({"s": subscription}),
        )
        .await;
    let data = &log.body["data"];
    assert_eq!(
        data["webhookSubscriptions"][0]["url"],
        url.as_str(),
        "{data}"
    );
    let deliveries = data["webhookDeliveries"].as_array().unwrap();
    assert_eq!(deliveries.len() as i64, failed + delivered);
    assert_eq!(
        deliveries
            .iter()
            .filter(|d| d["delivered"] == true && d["responseCode"] == 204)
            .count(),
        10
    );
    assert!(deliveries.iter().any(|d| d["delivered"] == false
        && d["responseCode"] == 503
        && d["attempt"].as_i64() > Some(1)));
    let manager = app.token(tenant, Role::Manager);
    let hidden = app
        .graphql(Some(&manager), "{ webhookSubscriptions { id } }", json!({}))
        .await;
    assert_eq!(hidden.body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // Manual redelivery: a replay from the sixth message's position sends it and every later one
    // again, in order, under the same ids.
    let sixth = received[5].1["data"]["position"]
        .as_str()
        .unwrap()
        .to_owned();
    let replayed = app
        .command(
            &format!("/v1/webhooks/{subscription}/replay"),
            Some(&admin),
            &json!({"fromPosition": sixth}),
            &[],
        )
        .await;
    assert_eq!(replayed.status, StatusCode::OK, "{:?}", replayed.body);
    wait_for(15).await;
    let again: Vec<String> = receiver.received.lock().unwrap()[10..]
        .iter()
        .map(|(id, _)| id.clone())
        .collect();
    let originals: Vec<String> = received[5..].iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(again, originals);

    // Deleted, it gets nothing more; another tenant cannot delete it.
    let stranger = app.token(TenantId(Uuid::now_v7()), Role::Admin);
    let delete = |token: String| {
        let (app, subscription) = (&app, subscription.clone());
        async move {
            app.http
                .delete(format!("{}/v1/webhooks/{subscription}", app.command_url))
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(delete(stranger).await, StatusCode::NOT_FOUND);
    assert_eq!(delete(admin.clone()).await, StatusCode::OK);
    rename(ids[0].clone(), versions[0], "After the end".into()).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(receiver.received.lock().unwrap().len(), 15);
}
