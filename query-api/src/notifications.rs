//! The caller's notification feed (the `notifications` read model): the tenant's notices with
//! the caller's own read marks, the caller's preferences, and the webhook delivery log (Admin).

use crate::db::ReadDb;
use crate::errors::{database, ErrorCode};
use crate::freshness::await_position;
use crate::guard::{principal, RoleGuard};
use crate::scalars::Long;
use adflow_auth::Action;
use adflow_domain::notifications::{inbox_id, Channels, NoticeKind};
use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::collections::BTreeMap;
use uuid::Uuid;

const MAX_FEED_PAGE: i32 = 100;
const MAX_DELIVERY_PAGE: i32 = 500;
const PROJECTION: &str = "notifications";

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum NotificationKind {
    AnomalyAlert,
    ApprovalWaiting,
    DeploymentFailed,
    PacingAlert,
    WebhookDisabled,
}

impl NotificationKind {
    fn of(kind: NoticeKind) -> Self {
        match kind {
            NoticeKind::AnomalyAlert => Self::AnomalyAlert,
            NoticeKind::ApprovalWaiting => Self::ApprovalWaiting,
            NoticeKind::DeploymentFailed => Self::DeploymentFailed,
            NoticeKind::PacingAlert => Self::PacingAlert,
            NoticeKind::WebhookDisabled => Self::WebhookDisabled,
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum NotificationSeverity {
    Info,
    Warning,
    Critical,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct Notification {
    pub id: ID,
    pub kind: NotificationKind,
    pub severity: NotificationSeverity,
    pub campaign_id: Option<ID>,
    pub title: String,
    pub body: String,
    /// The log position of the event that raised it (null for operational notices).
    pub position: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Whether you marked it read.
    pub read: bool,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct NotificationFeed {
    pub items: Vec<Notification>,
    /// Your unread notices in all.
    pub unread: Long,
    /// Pass as `after` for the next page; null on the last.
    pub next_cursor: Option<ID>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct KindChannels {
    pub kind: NotificationKind,
    pub in_app: bool,
    pub email: bool,
    pub slack: bool,
}

/// Your preferences. The addresses are kept sealed and are not shown back.
#[derive(SimpleObject, Debug, Clone)]
pub struct NotificationPreferences {
    pub has_email: bool,
    pub has_slack_webhook: bool,
    /// Every kind, with its channels (the defaults where you set none).
    pub channels: Vec<KindChannels>,
}

/// One attempt to deliver one event to a webhook subscription.
#[derive(SimpleObject, Debug, Clone)]
pub struct WebhookDelivery {
    pub id: Long,
    /// The `webhook-id` header: the event's id, the same on every attempt.
    pub message_id: ID,
    pub event_type: String,
    pub attempt: i32,
    pub delivered: bool,
    pub response_code: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct WebhookSubscription {
    pub id: ID,
    pub url: String,
    pub event_types: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Consecutive failed attempts of the event at the head of its queue.
    pub attempts: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
}

fn severity(text: &str) -> NotificationSeverity {
    match text {
        "CRITICAL" => NotificationSeverity::Critical,
        "WARNING" => NotificationSeverity::Warning,
        _ => NotificationSeverity::Info,
    }
}

pub(crate) const SELECT: &str = "SELECT n.id, n.kind, n.severity, n.campaign_id, n.title, n.body,
        n.position, n.created_at, r.notification_id IS NOT NULL AS read
   FROM notifications n
   LEFT JOIN notification_reads r
          ON r.tenant_id = n.tenant_id AND r.inbox_id = $2 AND r.notification_id = n.id";

pub(crate) fn decode(row: &PgRow) -> Result<Option<Notification>, sqlx::Error> {
    let Some(kind) = NoticeKind::parse(row.try_get("kind")?) else {
        return Ok(None);
    };
    Ok(Some(Notification {
        id: ID(row.try_get::<Uuid, _>("id")?.to_string()),
        kind: NotificationKind::of(kind),
        severity: severity(row.try_get("severity")?),
        campaign_id: row
            .try_get::<Option<Uuid>, _>("campaign_id")?
            .map(|id| ID(id.to_string())),
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        position: row.try_get("position")?,
        created_at: row.try_get("created_at")?,
        read: row.try_get("read")?,
    }))
}

/// The caller's inbox id: the same derivation as the command API's.
pub(crate) fn caller_inbox(ctx: &Context<'_>) -> async_graphql::Result<(Uuid, Uuid)> {
    let principal = principal(ctx)?;
    Ok((principal.tenant_id.0, inbox_id(&principal.actor())))
}

fn page(first: Option<i32>, default: i32, most: i32) -> async_graphql::Result<i64> {
    let first = first.unwrap_or(default);
    if !(1..=most).contains(&first) {
        return Err(ErrorCode::BadUserInput.error(format!("first must be between 1 and {most}")));
    }
    Ok(i64::from(first))
}

#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// Your tenant's notices, newest first, with your read marks; `first` at a time (at most
    /// 100) after the cursor `after`; only unread ones with `unreadOnly`.
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<ID>,
        unread_only: Option<bool>,
        min_position: Option<String>,
    ) -> async_graphql::Result<NotificationFeed> {
        let first = page(first, 20, MAX_FEED_PAGE)?;
        let after = after
            .map(|id| {
                Uuid::parse_str(&id)
                    .map_err(|_| ErrorCode::BadUserInput.error("after is not a cursor"))
            })
            .transpose()?;
        await_position(ctx, PROJECTION, min_position.as_deref()).await?;
        let (tenant, inbox) = caller_inbox(ctx)?;
        let db = ctx.data::<ReadDb>()?;
        let rows = sqlx::query(&format!(
            "{SELECT}
              WHERE n.tenant_id = $1
                AND ($3::uuid IS NULL OR (n.created_at, n.id) <
                     (SELECT created_at, id FROM notifications WHERE tenant_id = $1 AND id = $3))
                AND (NOT $4 OR r.notification_id IS NULL)
              ORDER BY n.created_at DESC, n.id DESC LIMIT $5"
        ))
        .bind(tenant)
        .bind(inbox)
        .bind(after)
        .bind(unread_only.unwrap_or(false))
        .bind(first + 1)
        .fetch_all(db.statement())
        .await
        .map_err(database)?;
        let mut items = rows
            .iter()
            .map(decode)
            .collect::<Result<Vec<_>, _>>()
            .map_err(database)?
            .into_iter()
            .flatten()
            .collect::<Vec<_>>();
        let more = items.len() as i64 > first;
        items.truncate(first as usize);
        let unread: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM notifications n
              WHERE n.tenant_id = $1 AND NOT EXISTS (
                    SELECT 1 FROM notification_reads r
                     WHERE r.tenant_id = $1 AND r.inbox_id = $2 AND r.notification_id = n.id)",
        )
        .bind(tenant)
        .bind(inbox)
        .fetch_one(db.statement())
        .await
        .map_err(database)?;
        Ok(NotificationFeed {
            next_cursor: more.then(|| items.last().map(|n| n.id.clone())).flatten(),
            items,
            unread: Long(unread),
        })
    }

    /// Your notification preferences.
    async fn notification_preferences(
        &self,
        ctx: &Context<'_>,
        min_position: Option<String>,
    ) -> async_graphql::Result<NotificationPreferences> {
        await_position(ctx, PROJECTION, min_position.as_deref()).await?;
        let (tenant, inbox) = caller_inbox(ctx)?;
        let row = sqlx::query(
            "SELECT email IS NOT NULL AS has_email, slack_webhook_url IS NOT NULL AS has_slack,
                    channels
               FROM notification_preferences WHERE tenant_id = $1 AND inbox_id = $2",
        )
        .bind(tenant)
        .bind(inbox)
        .fetch_optional(ctx.data::<ReadDb>()?.statement())
        .await
        .map_err(database)?;
        let (has_email, has_slack, set) = match &row {
            None => (false, false, BTreeMap::new()),
            Some(row) => (
                row.try_get("has_email").map_err(database)?,
                row.try_get("has_slack").map_err(database)?,
                serde_json::from_value::<BTreeMap<NoticeKind, Channels>>(
                    row.try_get("channels").map_err(database)?,
                )
                .unwrap_or_default(),
            ),
        };
        Ok(NotificationPreferences {
            has_email,
            has_slack_webhook: has_slack,
            channels: NoticeKind::ALL
                .into_iter()
                .map(|kind| {
                    let c = set
                        .get(&kind)
                        .copied()
                        .unwrap_or_else(|| kind.default_channels());
                    KindChannels {
                        kind: NotificationKind::of(kind),
                        in_app: c.in_app,
                        email: c.email,
                        slack: c.slack,
                    }
                })
                .collect(),
        })
    }

    /// Your tenant's webhook subscriptions (Admin).
    #[graphql(guard = "RoleGuard(Action::ManageSettings)")]
    async fn webhook_subscriptions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<WebhookSubscription>> {
        let tenant = principal(ctx)?.tenant_id.0;
        let rows = sqlx::query(
            "SELECT id, url, event_types, created_at, attempts, failing_since, next_attempt_at,
                    disabled_at, disabled_reason
               FROM webhook_subscriptions WHERE tenant_id = $1 ORDER BY created_at, id LIMIT 1000",
        )
        .bind(tenant)
        .fetch_all(ctx.data::<ReadDb>()?.statement())
        .await
        .map_err(database)?;
        rows.iter()
            .map(|row| {
                Ok(WebhookSubscription {
                    id: ID(row.try_get::<Uuid, _>("id")?.to_string()),
                    url: row.try_get("url")?,
                    event_types: row.try_get("event_types")?,
                    created_at: row.try_get("created_at")?,
                    attempts: row.try_get("attempts")?,
                    failing_since: row.try_get("failing_since")?,
                    next_attempt_at: row.try_get("next_attempt_at")?,
                    disabled_at: row.try_get("disabled_at")?,
                    disabled_reason: row.try_get("disabled_reason")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(database)
    }

    /// The delivery log of one of your tenant's webhook subscriptions (Admin): every attempt,
    /// newest first, `first` at a time (at most 500) before the entry `before`.
    #[graphql(guard = "RoleGuard(Action::ManageSettings)")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        subscription_id: ID,
        first: Option<i32>,
        before: Option<Long>,
    ) -> async_graphql::Result<Vec<WebhookDelivery>> {
        let first = page(first, 50, MAX_DELIVERY_PAGE)?;
        let tenant = principal(ctx)?.tenant_id.0;
        let Ok(subscription) = Uuid::parse_str(&subscription_id) else {
            return Ok(vec![]);
        };
        let rows = sqlx::query(
            "SELECT d.id, d.message_id, d.event_type, d.attempt, d.delivered, d.response_code,
                    d.latency_ms, d.error, d.at
               FROM webhook_deliveries d
               JOIN webhook_subscriptions s ON s.id = d.subscription_id
              WHERE s.tenant_id = $1 AND d.subscription_id = $2
                AND ($3::bigint IS NULL OR d.id < $3)
              ORDER BY d.id DESC LIMIT $4",
        )
        .bind(tenant)
        .bind(subscription)
        .bind(before.map(|b| b.0))
        .bind(first)
        .fetch_all(ctx.data::<ReadDb>()?.statement())
        .await
        .map_err(database)?;
        rows.iter()
            .map(|row| {
                Ok(WebhookDelivery {
                    id: Long(row.try_get("id")?),
                    message_id: ID(row.try_get::<Uuid, _>("message_id")?.to_string()),
                    event_type: row.try_get("event_type")?,
                    attempt: row.try_get("attempt")?,
                    delivered: row.try_get("delivered")?,
                    response_code: row.try_get("response_code")?,
                    latency_ms: row.try_get("latency_ms")?,
                    error: row.try_get("error")?,
                    at: row.try_get("at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(database)
    }
}
