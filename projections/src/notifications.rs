//! The `notifications` read model: the domain's notice rules (`adflow_domain::notifications`)
//! applied to the log — the tenant's feed, each user's preferences and read marks — and, for
//! notices raised by recent events, one outbox row per user and channel the user wants it on
//! (`notification_deliveries`, sent by the projections process's sender). The outbox is not one
//! of this projection's tables: a rebuild keeps it, and its key keeps a rebuild from sending again.

use crate::live::{announce, Change, ChangeKind};
use crate::runtime::{Projection, ProjectionError};
use adflow_domain::aggregate::parse_stream_name;
use adflow_domain::campaign::{Campaign, CampaignEvent};
use adflow_domain::monitoring::{CampaignMonitor, MonitorEvent};
use adflow_domain::notifications::{
    campaign_notices, monitor_notice, notice_id, Channels, Inbox, InboxEvent, Notice, NoticeKind,
};
use adflow_domain::{Aggregate, DomainEvent};
use adflow_event_store::RecordedEvent;
use async_trait::async_trait;
use sqlx::{PgConnection, Row};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Notices raised by events older than this go to the feed only: a rebuild, or a projector far
/// behind, does not e-mail anybody about yesterday.
pub const SEND_WITHIN_HOURS: i64 = 24;

pub struct NotificationsProjection;

fn decode<E: DomainEvent>(event: &RecordedEvent) -> Result<E, ProjectionError> {
    E::from_payload(&event.event_type, event.schema_version, &event.data).map_err(|e| {
        ProjectionError::Undecodable {
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            reason: e.to_string(),
        }
    })
}

#[async_trait]
impl Projection for NotificationsProjection {
    fn name(&self) -> &'static str {
        "notifications"
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "notifications",
            "notification_preferences",
            "notification_reads",
        ]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        event: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_batch(tx, std::slice::from_ref(event)).await
    }

    /// A campaign's notices are decided per run of consecutive events of one stream (one append,
    /// mostly): a proposal applied in the same append waits for nobody.
    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        let mut start = 0;
        while start < events.len() {
            let stream = &events[start].stream_name;
            let end = start
                + events[start..]
                    .iter()
                    .take_while(|e| &e.stream_name == stream)
                    .count();
            apply_run(tx, &events[start..end]).await?;
            start = end;
        }
        Ok(())
    }
}

async fn apply_run(tx: &mut PgConnection, run: &[RecordedEvent]) -> Result<(), ProjectionError> {
    let Some((category, tenant, id)) = parse_stream_name(&run[0].stream_name) else {
        return Ok(());
    };
    let tenant = tenant.0;
    match category {
        Campaign::CATEGORY => {
            let wanted = [
                CampaignEvent::DEPLOYMENT_FAILED,
                CampaignEvent::OPTIMISATION_PROPOSED,
                CampaignEvent::PROPOSAL_APPLIED,
            ];
            let relevant: Vec<&RecordedEvent> = run
                .iter()
                .filter(|e| wanted.contains(&e.event_type.as_str()))
                .collect();
            let typed = relevant
                .iter()
                .map(|e| decode::<CampaignEvent>(e))
                .collect::<Result<Vec<_>, _>>()?;
            for (index, notice) in campaign_notices(id, &typed) {
                raise(tx, tenant, relevant[index], &notice).await?;
            }
        }
        CampaignMonitor::CATEGORY => {
            for event in run {
                if event.event_type != MonitorEvent::ANOMALY_DETECTED {
                    continue;
                }
                if let Some(notice) = monitor_notice(&decode::<MonitorEvent>(event)?) {
                    raise(tx, tenant, event, &notice).await?;
                }
            }
        }
        Inbox::CATEGORY => {
            for event in run {
                match decode::<InboxEvent>(event)? {
                    InboxEvent::PreferencesSet(prefs) => {
                        sqlx::query(
                            "INSERT INTO notification_preferences
                                 (tenant_id, inbox_id, subject, email, slack_webhook_url, channels)
                             VALUES ($1, $2, $3, $4, $5, $6)
                             ON CONFLICT (tenant_id, inbox_id) DO UPDATE
                                SET subject = $3, email = $4, slack_webhook_url = $5, channels = $6",
                        )
                        .bind(tenant)
                        .bind(id)
                        .bind(&prefs.subject)
                        .bind(event.data.get("email").filter(|v| !v.is_null()))
                        .bind(event.data.get("slackWebhookUrl").filter(|v| !v.is_null()))
                        .bind(crate::json(&prefs.channels))
                        .execute(&mut *tx)
                        .await?;
                    }
                    InboxEvent::Read(read) => {
                        sqlx::query(
                            "INSERT INTO notification_reads (tenant_id, inbox_id, notification_id, read_at)
                             SELECT $1, $2, unnest($3::uuid[]), $4
                             ON CONFLICT DO NOTHING",
                        )
                        .bind(tenant)
                        .bind(id)
                        .bind(&read.notification_ids)
                        .bind(event.recorded_at)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Puts a notice in the feed, announces it, and queues it for the users who want it by e-mail
/// or Slack (when the event is recent).
async fn raise(
    tx: &mut PgConnection,
    tenant: Uuid,
    event: &RecordedEvent,
    notice: &Notice,
) -> Result<(), ProjectionError> {
    let id = notice_id(event.event_id, notice.kind);
    if !insert_notice(tx, tenant, id, notice, Some(event)).await? {
        return Ok(());
    }
    let mut change = Change::new(
        ChangeKind::Notification,
        tenant,
        notice.campaign_id.unwrap_or_default(),
        event,
    );
    change.notification = Some(id);
    announce(tx, &change).await?;
    if chrono::Utc::now() - event.recorded_at > chrono::Duration::hours(SEND_WITHIN_HOURS) {
        return Ok(());
    }
    queue_deliveries(tx, tenant, id, notice.kind).await
}

/// Puts `notice` in the tenant's feed under `id`, raised by `cause` (an event of the log) or by
/// nothing in the log (then dated now). `false` when a notice with this id is there already.
pub async fn insert_notice(
    tx: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    notice: &Notice,
    cause: Option<&RecordedEvent>,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO notifications (id, tenant_id, kind, severity, campaign_id, title, body,
                                    event_id, position, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, coalesce($10, now()))
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(tenant)
    .bind(notice.kind.as_str())
    .bind(notice.severity.as_str())
    .bind(notice.campaign_id)
    .bind(&notice.title)
    .bind(&notice.body)
    .bind(cause.map(|e| e.event_id))
    .bind(cause.map(|e| e.position.to_string()))
    .bind(cause.map(|e| e.recorded_at))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

/// One outbox row per user of the tenant and channel the user wants `kind` on and has an
/// address for.
pub async fn queue_deliveries(
    tx: &mut PgConnection,
    tenant: Uuid,
    notification: Uuid,
    kind: NoticeKind,
) -> Result<(), ProjectionError> {
    let users = sqlx::query(
        "SELECT inbox_id, email IS NOT NULL AS has_email,
                slack_webhook_url IS NOT NULL AS has_slack, channels
           FROM notification_preferences WHERE tenant_id = $1",
    )
    .bind(tenant)
    .fetch_all(&mut *tx)
    .await?;
    for user in users {
        let channels: BTreeMap<NoticeKind, Channels> =
            serde_json::from_value(user.try_get("channels")?).unwrap_or_default();
        let wanted = channels
            .get(&kind)
            .copied()
            .unwrap_or_else(|| kind.default_channels());
        let inbox: Uuid = user.try_get("inbox_id")?;
        for (channel, on) in [
            (
                "EMAIL",
                wanted.email && user.try_get::<bool, _>("has_email")?,
            ),
            (
                "SLACK",
                wanted.slack && user.try_get::<bool, _>("has_slack")?,
            ),
        ] {
            if on {
                sqlx::query(
                    "INSERT INTO notification_deliveries (notification_id, channel, inbox_id, tenant_id)
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(notification)
                .bind(channel)
                .bind(inbox)
                .bind(tenant)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    Ok(())
}
