//! The notification sender: sends what the `notifications` projection queued in
//! `notification_deliveries` — e-mail over SMTP (lettre) and Slack-compatible incoming webhooks —
//! opening the user's sealed address only to send (an erased user's address is gone, and so is
//! the message). A failed attempt waits an exponentially growing delay; a permanent refusal (a
//! 4xx other than 429, an address the server rejects) or the tenth failure ends the delivery as
//! FAILED with its reason. One sending process (the projections process) per database.

use crate::config::Config;
use adflow_event_store::personal::SubjectKeys;
use lettre::message::{header::ContentType, Mailbox};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{json, Value};
use sqlx::{PgPool, Row};
use std::time::Duration;
use uuid::Uuid;

const BATCH: i64 = 50;
const MAX_ATTEMPTS: i32 = 10;
/// Slack's limits: a header block's text, a section's text.
const SLACK_HEADER_CHARS: usize = 150;
const SLACK_SECTION_CHARS: usize = 3_000;

/// One queued message with what it says.
struct Delivery {
    notification: Uuid,
    channel: String,
    inbox: Uuid,
    tenant: Uuid,
    attempts: i32,
    kind: String,
    severity: String,
    campaign: Option<Uuid>,
    title: String,
    body: String,
    created_at: chrono::DateTime<chrono::Utc>,
    address: Option<Value>,
}

/// Why one attempt did not send.
enum Failure {
    /// Worth another try later.
    Transient(String),
    /// Will never work as it is.
    Permanent(String),
}

fn truncate(text: &str, most: usize) -> String {
    if text.chars().count() <= most {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(most.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn campaign_link(config: &Config, campaign: Option<Uuid>) -> Option<String> {
    let base = config.app_url.as_deref()?.trim_end_matches('/');
    Some(format!("{base}/campaigns/{}", campaign?))
}

/// The e-mail's subject and plain-text body.
pub fn email_text(
    config: &Config,
    severity: &str,
    kind: &str,
    title: &str,
    body: &str,
    campaign: Option<Uuid>,
) -> (String, String) {
    let mut text = format!("{title}\n\n{body}\n");
    if let Some(campaign) = campaign {
        text.push_str(&format!("\nCampaign: {campaign}\n"));
    }
    if let Some(link) = campaign_link(config, campaign) {
        text.push_str(&format!("Open it: {link}\n"));
    }
    text.push_str(&format!(
        "\n-- \nAdflow {kind} notification. Choose what reaches you by e-mail in your notification preferences.\n"
    ));
    (format!("[Adflow] {severity}: {title}"), text)
}

/// The incoming-webhook payload Slack documents: `text` (the fallback shown in notifications)
/// and Block Kit blocks — a header, the body in mrkdwn, and a context line.
pub fn slack_payload(
    config: &Config,
    severity: &str,
    kind: &str,
    title: &str,
    body: &str,
    campaign: Option<Uuid>,
) -> Value {
    let mut context = format!("Adflow · {severity} · {kind}");
    if let Some(campaign) = campaign {
        match campaign_link(config, Some(campaign)) {
            Some(link) => context.push_str(&format!(" · <{link}|campaign {campaign}>")),
            None => context.push_str(&format!(" · campaign {campaign}")),
        }
    }
    json!({
        "text": truncate(&format!("{severity}: {title}"), SLACK_SECTION_CHARS),
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": truncate(title, SLACK_HEADER_CHARS), "emoji": false}},
            {"type": "section", "text": {"type": "mrkdwn", "text": truncate(body, SLACK_SECTION_CHARS)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(&context, SLACK_SECTION_CHARS)}]}
        ]
    })
}

/// The configured SMTP server's transport; `None` (e-mail fails with that reason) when none is
/// configured or its URL is unusable.
pub fn smtp_transport(config: &Config) -> Option<AsyncSmtpTransport<Tokio1Executor>> {
    let url = config.smtp_url.as_deref()?;
    match AsyncSmtpTransport::<Tokio1Executor>::from_url(url) {
        Ok(builder) => Some(
            builder
                .timeout(Some(Duration::from_millis(config.webhook_timeout_ms)))
                .build(),
        ),
        Err(error) => {
            tracing::error!(%error, "ADFLOW_SMTP_URL cannot be used; no e-mail is sent");
            None
        }
    }
}

/// A user's notification e-mail address, opened; `None` when the user set none or was erased.
pub async fn user_email(
    pool: &PgPool,
    keys: &SubjectKeys,
    tenant: Uuid,
    inbox: Uuid,
) -> Result<Option<String>, Box<dyn std::error::Error + Send + Sync>> {
    let sealed: Option<Option<Value>> = sqlx::query_scalar(
        "SELECT email FROM notification_preferences WHERE tenant_id = $1 AND inbox_id = $2",
    )
    .bind(tenant)
    .bind(inbox)
    .fetch_optional(pool)
    .await?;
    match sealed.flatten() {
        Some(value) => Ok(keys.open(tenant, value).await?),
        None => Ok(None),
    }
}

/// Sends until shutdown.
pub async fn send_periodically(
    pool: PgPool,
    config: Config,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let http = match crate::webhooks::outbound_client(&config) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "no notification deliveries");
            return;
        }
    };
    let smtp = smtp_transport(&config);
    let keys = SubjectKeys::new(pool.clone());
    loop {
        if let Err(error) = round(&pool, &keys, &config, &http, smtp.as_ref()).await {
            tracing::warn!(%error, "notification round failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(config.notification_poll_ms.max(10))) => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// Sends every due delivery once.
pub async fn round(
    pool: &PgPool,
    keys: &SubjectKeys,
    config: &Config,
    http: &reqwest::Client,
    smtp: Option<&AsyncSmtpTransport<Tokio1Executor>>,
) -> Result<usize, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT d.notification_id, d.channel, d.inbox_id, d.tenant_id, d.attempts,
                n.kind, n.severity, n.campaign_id, n.title, n.body, n.created_at,
                CASE d.channel WHEN 'EMAIL' THEN p.email ELSE p.slack_webhook_url END AS address
           FROM notification_deliveries d
           JOIN notifications n ON n.id = d.notification_id
           LEFT JOIN notification_preferences p
                  ON p.tenant_id = d.tenant_id AND p.inbox_id = d.inbox_id
          WHERE d.status = 'PENDING' AND d.next_attempt_at <= now()
          ORDER BY n.created_at, d.notification_id
          LIMIT $1",
    )
    .bind(BATCH)
    .fetch_all(pool)
    .await?;
    let mut sent = 0;
    for row in rows {
        let delivery = Delivery {
            notification: row.try_get("notification_id")?,
            channel: row.try_get("channel")?,
            inbox: row.try_get("inbox_id")?,
            tenant: row.try_get("tenant_id")?,
            attempts: row.try_get("attempts")?,
            kind: row.try_get("kind")?,
            severity: row.try_get("severity")?,
            campaign: row.try_get("campaign_id")?,
            title: row.try_get("title")?,
            body: row.try_get("body")?,
            created_at: row.try_get("created_at")?,
            address: row.try_get("address")?,
        };
        let outcome = attempt(keys, config, http, smtp, &delivery).await;
        record(pool, config, &delivery, outcome.as_ref().err()).await?;
        sent += usize::from(outcome.is_ok());
    }
    Ok(sent)
}

/// Opens the user's sealed address; `None` when it was erased or never set.
async fn address(keys: &SubjectKeys, delivery: &Delivery) -> Result<Option<String>, Failure> {
    let Some(value) = delivery.address.clone() else {
        return Ok(None);
    };
    keys.open(delivery.tenant, value)
        .await
        .map_err(|e| Failure::Transient(format!("cannot open the address: {e}")))
}

async fn attempt(
    keys: &SubjectKeys,
    config: &Config,
    http: &reqwest::Client,
    smtp: Option<&AsyncSmtpTransport<Tokio1Executor>>,
    delivery: &Delivery,
) -> Result<(), Failure> {
    let Some(address) = address(keys, delivery).await? else {
        return Err(Failure::Permanent(
            "the user has no address for this channel (removed or erased)".into(),
        ));
    };
    let (severity, kind) = (delivery.severity.as_str(), delivery.kind.as_str());
    match delivery.channel.as_str() {
        "EMAIL" => {
            let smtp =
                smtp.ok_or_else(|| Failure::Permanent("no SMTP server configured".into()))?;
            let (subject, text) = email_text(
                config,
                severity,
                kind,
                &delivery.title,
                &delivery.body,
                delivery.campaign,
            );
            let from: Mailbox = config
                .smtp_from
                .parse()
                .map_err(|e| Failure::Permanent(format!("ADFLOW_SMTP_FROM: {e}")))?;
            let to: Mailbox = address
                .parse()
                .map_err(|e| Failure::Permanent(format!("the address: {e}")))?;
            let message = Message::builder()
                .from(from)
                .to(to)
                .subject(subject)
                .date(delivery.created_at.into())
                .message_id(Some(format!(
                    "<{}.{}@adflow>",
                    delivery.notification, delivery.inbox
                )))
                .header(ContentType::TEXT_PLAIN)
                .body(text)
                .map_err(|e| Failure::Permanent(e.to_string()))?;
            match smtp.send(message).await {
                Ok(_) => Ok(()),
                Err(e) if e.is_permanent() => Err(Failure::Permanent(e.to_string())),
                Err(e) => Err(Failure::Transient(e.to_string())),
            }
        }
        _ => {
            crate::webhooks::allowed_target(&address, config.webhooks_allow_private)
                .await
                .map_err(|why| Failure::Permanent(format!("target refused: {why}")))?;
            let payload = slack_payload(
                config,
                severity,
                kind,
                &delivery.title,
                &delivery.body,
                delivery.campaign,
            );
            let response = http
                .post(&address)
                .json(&payload)
                .send()
                .await
                .map_err(|e| Failure::Transient(e.to_string()))?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            // Slack answers a plain-text reason: invalid_payload, channel_not_found, ...
            let reason = response.text().await.unwrap_or_default();
            let why = format!("answered {status}: {}", truncate(&reason, 200));
            if status.is_client_error() && status.as_u16() != 429 {
                Err(Failure::Permanent(why))
            } else {
                Err(Failure::Transient(why))
            }
        }
    }
}

async fn record(
    pool: &PgPool,
    config: &Config,
    delivery: &Delivery,
    failure: Option<&Failure>,
) -> Result<(), sqlx::Error> {
    let (status, error, delay_ms) = match failure {
        None => ("SENT", None, 0),
        Some(Failure::Permanent(why)) => ("FAILED", Some(why.clone()), 0),
        Some(Failure::Transient(why)) if delivery.attempts + 1 >= MAX_ATTEMPTS => {
            ("FAILED", Some(why.clone()), 0)
        }
        Some(Failure::Transient(why)) => (
            "PENDING",
            Some(why.clone()),
            crate::webhooks::retry_delay_ms(config, delivery.attempts),
        ),
    };
    if let Some(why) = &error {
        tracing::warn!(notification = %delivery.notification, channel = %delivery.channel, status, error = %why, "notification not sent");
    }
    sqlx::query(
        "UPDATE notification_deliveries
            SET status = $4, attempts = attempts + 1, last_error = $5,
                sent_at = CASE WHEN $4 = 'SENT' THEN now() END,
                next_attempt_at = now() + make_interval(secs => $6)
          WHERE notification_id = $1 AND channel = $2 AND inbox_id = $3",
    )
    .bind(delivery.notification)
    .bind(&delivery.channel)
    .bind(delivery.inbox)
    .bind(status)
    .bind(error)
    .bind(delay_ms as f64 / 1000.0)
    .execute(pool)
    .await
    .map(|_| ())
}

/// A notice raised outside the log (a webhook subscription disabled, a pacing alert), under
/// `id`: into the feed, and queued for the users who want its kind elsewhere. `false` when a
/// notice with this id was raised before (nothing is queued again).
pub async fn raise_once(
    pool: &PgPool,
    tenant: Uuid,
    id: Uuid,
    notice: &adflow_domain::notifications::Notice,
) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
    let mut tx = pool.begin().await?;
    if !adflow_projections::notifications::insert_notice(&mut tx, tenant, id, notice, None).await? {
        return Ok(false);
    }
    adflow_projections::notifications::queue_deliveries(&mut tx, tenant, id, notice.kind).await?;
    tx.commit().await?;
    Ok(true)
}
