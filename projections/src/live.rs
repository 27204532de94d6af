//! Live changes for subscribers: the `campaigns` projector (and, for anomalies, the `activity`
//! projector) announces, inside the transaction that
//! writes the read model, what changed (`NOTIFY` is delivered on commit, so a subscriber that
//! hears of a change can already read it). The query API listens and fans the changes out to
//! GraphQL subscriptions. Rebuilds (which write into a shadow schema) announce nothing.

use adflow_event_store::RecordedEvent;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// The PostgreSQL notification channel.
pub const CHANNEL: &str = "adflow_read_models";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// The campaign's status changed; `status` is the new one.
    Status,
    /// A deployment to `platform` progressed; `status` is REQUESTED, DEPLOYED or FAILED.
    Deployment,
    /// The AI proposed an optimisation; `proposal` is its id.
    Recommendation,
    /// The anomaly detector found something; `monitor_version` is the event's version in the
    /// campaign's monitor stream (announced by the `activity` projector, which holds it).
    Anomaly,
    /// A notice went into the tenant's feed; `notification` is its id (`campaign` is nil for a
    /// notice about no campaign).
    Notification,
}

/// One change, small enough for a notification (PostgreSQL allows 8000 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub tenant: Uuid,
    pub campaign: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitor_version: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<Uuid>,
    /// The log position of the event: pass it as `minPosition` to read the state it made.
    pub position: String,
    pub event_id: Uuid,
}

impl Change {
    pub fn new(kind: ChangeKind, tenant: Uuid, campaign: Uuid, recorded: &RecordedEvent) -> Self {
        Change {
            kind,
            tenant,
            campaign,
            status: None,
            platform: None,
            proposal: None,
            monitor_version: None,
            notification: None,
            position: recorded.position.to_string(),
            event_id: recorded.event_id,
        }
    }
}

/// Announces `change` when the transaction commits, unless it writes a rebuild's shadow tables.
pub(crate) async fn announce(tx: &mut PgConnection, change: &Change) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(change).unwrap_or_default();
    sqlx::query("SELECT pg_notify($1, $2) WHERE current_schema() = 'public'")
        .bind(CHANNEL)
        .bind(payload)
        .execute(tx)
        .await
        .map(|_| ())
}
