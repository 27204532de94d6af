//! Outbound webhooks: every subscription gets its tenant's events of the types it chose, in log
//! order, signed the Standard Webhooks way (`adflow_callers::signing`), at least once. A subscription is a
//! cursor on the log: the worker sends the next matching event and moves the cursor only after a
//! 2xx, so a receiver that is down holds its queue (order per aggregate, and across them, is kept)
//! and gets everything when it is back. A failed attempt waits an exponentially growing delay
//! with jitter; a subscription failing for longer than `ADFLOW_WEBHOOK_GIVE_UP_HOURS` (72) is
//! disabled with its reason. Every attempt goes to `webhook_deliveries` (status, code, latency).
//! The message id is the event's id, the same on every attempt. One delivering process (the
//! projections process) per database.

use crate::config::Config;
use adflow_domain::notifications::{Notice, NoticeKind, Severity};
use adflow_event_store::{EventReader, EventStore, Position, RecordedEvent};
use sqlx::{PgPool, Row};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

const PAGE: usize = 200;

/// Whether `url` may receive webhooks: http(s), and not a private, loopback or link-local
/// address unless configuration allows them (tests and on-premises receivers).
pub async fn allowed_target(url: &str, allow_private: bool) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be http or https".into());
    }
    let host = parsed.host_str().ok_or("has no host")?.to_owned();
    if allow_private {
        return Ok(());
    }
    let port = parsed.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match host.trim_matches(['[', ']']).parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| format!("does not resolve: {e}"))?
            .map(|a| a.ip())
            .collect(),
    };
    let private = |ip: &IpAddr| match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
    };
    if addresses.iter().any(private) {
        return Err("resolves to a private or loopback address".into());
    }
    Ok(())
}

/// A subscription due for delivery.
struct Due {
    id: Uuid,
    tenant: Uuid,
    url: String,
    event_types: Vec<String>,
    secrets: Vec<String>,
    cursor: Position,
    attempts: i32,
    failing_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// The body of one message.
fn body(event: &RecordedEvent) -> String {
    serde_json::json!({
        "type": event.event_type,
        "timestamp": event.recorded_at,
        "data": {
            "eventId": event.event_id,
            "stream": event.stream_name,
            "version": event.stream_version,
            "position": event.position.to_string(),
            "schemaVersion": event.schema_version,
            "actor": event.metadata.actor,
            "correlationId": event.metadata.correlation_id,
            "causationId": event.metadata.causation_id,
            "payload": event.data,
        }
    })
    .to_string()
}

/// The HTTP client every outbound push uses (webhooks, Slack messages, scheduled reports): one
/// attempt's deadline, and no redirects (a receiver cannot bounce a push to another address).
pub fn outbound_client(config: &Config) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(config.webhook_timeout_ms))
        .redirect(reqwest::redirect::Policy::none())
        .build()
}

/// How long to wait after failed attempt number `attempts + 1`: jittered between half and all of
/// an exponentially growing ceiling, capped at an hour.
pub fn retry_delay_ms(config: &Config, attempts: i32) -> u64 {
    let ceiling = config
        .webhook_retry_base_ms
        .saturating_mul(1u64 << attempts.clamp(0, 20))
        .min(3_600_000);
    fastrand::u64(ceiling / 2..=ceiling.max(1))
}

/// Delivers until shutdown.
pub async fn deliver(
    pool: PgPool,
    store: Arc<dyn EventStore>,
    config: Config,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let client = match outbound_client(&config) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "no webhook deliveries");
            return;
        }
    };
    loop {
        if let Err(error) = round(&pool, store.as_ref(), &config, &client).await {
            tracing::warn!(%error, "webhook round failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(config.webhook_poll_ms.max(10))) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// One pass over the subscriptions that are due.
async fn round(
    pool: &PgPool,
    store: &dyn EventReader,
    config: &Config,
    client: &reqwest::Client,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let rows = sqlx::query(
        "SELECT id, tenant_id, url, event_types, secrets, cursor_commit, cursor_prepare, attempts,
                failing_since
           FROM webhook_subscriptions
          WHERE disabled_at IS NULL AND (next_attempt_at IS NULL OR next_attempt_at <= now())",
    )
    .fetch_all(pool)
    .await?;
    for row in rows {
        let due = Due {
            id: row.try_get("id")?,
            tenant: row.try_get("tenant_id")?,
            url: row.try_get("url")?,
            event_types: row.try_get("event_types")?,
            secrets: row.try_get("secrets")?,
            cursor: Position {
                commit: u64::try_from(row.try_get::<i64, _>("cursor_commit")?).unwrap_or(0),
                prepare: u64::try_from(row.try_get::<i64, _>("cursor_prepare")?).unwrap_or(0),
            },
            attempts: row.try_get("attempts")?,
            failing_since: row.try_get("failing_since")?,
        };
        serve(pool, store, config, client, due).await?;
    }
    Ok(())
}

/// Sends the subscription's next events until one fails or none is left.
async fn serve(
    pool: &PgPool,
    store: &dyn EventReader,
    config: &Config,
    client: &reqwest::Client,
    mut due: Due,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    loop {
        let page = store.read_all(due.cursor, PAGE).await?;
        let Some(last) = page.last().map(|e| e.position) else {
            return Ok(());
        };
        for event in &page {
            let wanted = event.metadata.tenant_id == due.tenant
                && (due.event_types.is_empty() || due.event_types.contains(&event.event_type));
            if wanted && !send(pool, config, client, &mut due, event).await? {
                return Ok(());
            }
            due.cursor = event.position;
        }
        due.cursor = last;
        sqlx::query(
            "UPDATE webhook_subscriptions SET cursor_commit = $2, cursor_prepare = $3 WHERE id = $1",
        )
        .bind(due.id)
        .bind(due.cursor.commit as i64)
        .bind(due.cursor.prepare as i64)
        .execute(pool)
        .await?;
        if page.len() < PAGE {
            return Ok(());
        }
    }
}

/// One attempt; `true` when delivered (the cursor then moves past it).
async fn send(
    pool: &PgPool,
    config: &Config,
    client: &reqwest::Client,
    due: &mut Due,
    event: &RecordedEvent,
) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let id = event.event_id.to_string();
    let timestamp = chrono::Utc::now().timestamp();
    let body = body(event);
    let started = Instant::now();
    let target = allowed_target(&due.url, config.webhooks_allow_private).await;
    let outcome = match target {
        Err(why) => Err((None, format!("target refused: {why}"))),
        Ok(()) => client
            .post(&due.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                adflow_callers::signing::signature_header(
                    &due.secrets,
                    &id,
                    timestamp,
                    body.as_bytes(),
                ),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| (None, e.to_string()))
            .and_then(|response| {
                let status = response.status();
                if status.is_success() {
                    Ok(status.as_u16())
                } else {
                    Err((Some(status.as_u16()), format!("answered {status}")))
                }
            }),
    };
    let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
    let (delivered, code, error) = match &outcome {
        Ok(code) => (true, Some(i32::from(*code)), None),
        Err((code, error)) => (false, code.map(i32::from), Some(error.clone())),
    };
    sqlx::query(
        "INSERT INTO webhook_deliveries (subscription_id, message_id, event_type, attempt, delivered,
                                         response_code, latency_ms, error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(due.id)
    .bind(event.event_id)
    .bind(&event.event_type)
    .bind(due.attempts + 1)
    .bind(delivered)
    .bind(code)
    .bind(latency_ms)
    .bind(&error)
    .execute(pool)
    .await?;
    if delivered {
        if due.attempts > 0 {
            sqlx::query(
                "UPDATE webhook_subscriptions
                    SET attempts = 0, failing_since = NULL, next_attempt_at = NULL WHERE id = $1",
            )
            .bind(due.id)
            .execute(pool)
            .await?;
            due.attempts = 0;
            due.failing_since = None;
        }
        return Ok(true);
    }
    let now = chrono::Utc::now();
    let failing_since = due.failing_since.unwrap_or(now);
    let give_up = now - failing_since > chrono::Duration::hours(config.webhook_give_up_hours);
    let delay = retry_delay_ms(config, due.attempts);
    sqlx::query(
        "UPDATE webhook_subscriptions
            SET attempts = attempts + 1, failing_since = $2,
                next_attempt_at = now() + make_interval(secs => $3),
                disabled_at = CASE WHEN $4 THEN now() END,
                disabled_reason = CASE WHEN $4 THEN $5 END
          WHERE id = $1",
    )
    .bind(due.id)
    .bind(failing_since)
    .bind(delay as f64 / 1000.0)
    .bind(give_up)
    .bind(format!(
        "failing since {failing_since}: {}",
        error.unwrap_or_default()
    ))
    .execute(pool)
    .await?;
    if give_up {
        tracing::warn!(subscription = %due.id, "webhook subscription disabled after failing too long");
        let notice = Notice {
            kind: NoticeKind::WebhookDisabled,
            severity: Severity::Critical,
            campaign_id: None,
            title: format!("Webhook subscription disabled: {}", due.url),
            body: format!(
                "Deliveries to {} failed for more than {} hours (since {failing_since}); the \
                 subscription {} is disabled. Fix the receiver, then replay it from the position \
                 of the first undelivered event (POST /v1/webhooks/{{id}}/replay).",
                due.url, config.webhook_give_up_hours, due.id
            ),
        };
        crate::notifications::raise_once(pool, due.tenant, Uuid::now_v7(), &notice).await?;
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::allowed_target;

    #[tokio::test]
    async fn private_and_loopback_targets_are_refused_unless_allowed() {
        for url in [
            "http://127.0.0.1:9/hooks",
            "http://10.1.2.3/hooks",
            "http://192.168.0.10/hooks",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/hooks",
            "http://localhost/hooks",
        ] {
            assert!(allowed_target(url, false).await.is_err(), "{url}");
        }
        assert!(allowed_target("http://127.0.0.1:9/hooks", true)
            .await
            .is_ok());
        assert!(allowed_target("http://203.0.113.7/hooks", false)
            .await
            .is_ok());
        assert!(allowed_target("ftp://203.0.113.7/hooks", true)
            .await
            .is_err());
    }
}
