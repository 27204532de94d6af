//! The contract between the dispatcher, which publishes the events that ask for work, and the
//! workers that answer them: which events are work and of which type, the subjects they go out
//! on, the message, the headers, and the JetStream stream both sides create. One module, so
//! that a new work type or a changed setting cannot reach one side only.

use adflow_domain::audience::AudienceEvent;
use adflow_domain::campaign::CampaignEvent;
use adflow_domain::monitoring::MonitorEvent;
use async_nats::jetstream::stream;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// The stream and subject prefix when configuration names none.
pub const DEFAULT_STREAM: &str = "ADFLOW_ML";
pub const DEFAULT_SUBJECT_PREFIX: &str = "ml";
/// The message id JetStream de-duplicates on: the triggering event's id.
pub const MESSAGE_ID_HEADER: &str = "Nats-Msg-Id";
pub const CORRELATION_HEADER: &str = "Adflow-Correlation-Id";

/// The kinds of work, one durable consumer each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkType {
    /// `StructureGenerationRequested` on a campaign.
    Structure,
    /// `SegmentationRequested` on an audience.
    Segments,
    /// `DeploymentRequested`: the deployer creates the structure on the platforms.
    Deployment,
    /// A campaign event the platforms must hear of (activated, paused, resumed, completed,
    /// tuned): the change pusher tells them.
    PlatformChange,
    /// `ReportsSynced`: new figures for a campaign; the anomaly detector looks at them.
    Anomalies,
    /// `OptimisationRunRequested`: the optimiser predicts, decides and proposes.
    Optimisation,
}

impl WorkType {
    pub const ALL: [WorkType; 6] = [
        WorkType::Structure,
        WorkType::Segments,
        WorkType::Deployment,
        WorkType::PlatformChange,
        WorkType::Anomalies,
        WorkType::Optimisation,
    ];

    /// The work an event asks for, if any.
    pub fn of_event(event_type: &str) -> Option<WorkType> {
        match event_type {
            CampaignEvent::STRUCTURE_REQUESTED => Some(WorkType::Structure),
            AudienceEvent::SEGMENTATION_REQUESTED => Some(WorkType::Segments),
            CampaignEvent::DEPLOYMENT_REQUESTED => Some(WorkType::Deployment),
            CampaignEvent::ACTIVATED
            | CampaignEvent::PAUSED
            | CampaignEvent::RESUMED
            | CampaignEvent::COMPLETED
            | CampaignEvent::STRUCTURE_TUNED
            | CampaignEvent::CREATIVE_PAUSED => Some(WorkType::PlatformChange),
            MonitorEvent::REPORTS_SYNCED => Some(WorkType::Anomalies),
            MonitorEvent::OPTIMISATION_RUN_REQUESTED => Some(WorkType::Optimisation),
            _ => None,
        }
    }

    /// The subject after the prefix.
    pub fn subject(self) -> &'static str {
        match self {
            WorkType::Structure => "structure.requested",
            WorkType::Segments => "segments.requested",
            WorkType::Deployment => "platform.deploy",
            WorkType::PlatformChange => "platform.change",
            WorkType::Anomalies => "anomalies.check",
            WorkType::Optimisation => "optimisation.run",
        }
    }

    /// The durable consumer's name; workers sharing it share the work.
    pub fn durable(self) -> &'static str {
        match self {
            WorkType::Structure => "ml-structure",
            WorkType::Segments => "ml-segments",
            WorkType::Deployment => "platform-deployer",
            WorkType::PlatformChange => "platform-changes",
            WorkType::Anomalies => "ml-anomalies",
            WorkType::Optimisation => "ml-optimiser",
        }
    }
}

/// `<prefix>.<work subject>`.
pub fn subject(prefix: &str, work: WorkType) -> String {
    format!("{prefix}.{}", work.subject())
}

/// The stream both sides create if it is missing (same settings, so either may be first).
pub fn stream_config(name: &str, prefix: &str) -> stream::Config {
    stream::Config {
        name: name.to_owned(),
        subjects: vec![format!("{prefix}.>")],
        // A request re-published within a day (a dispatcher restarted before its checkpoint
        // moved) is recognised by its message id and dropped.
        duplicate_window: Duration::from_secs(24 * 3600),
        // Requests nobody consumed within a week are stale; the log keeps them anyway.
        max_age: Duration::from_secs(7 * 24 * 3600),
        ..Default::default()
    }
}

/// The message: the triggering event and the facts a worker needs to answer with a command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkRequest {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub stream_name: String,
    /// The event's version in its stream (0 in requests published before it was sent).
    #[serde(default)]
    pub stream_version: u64,
    /// The event's log position (`commit:prepare`), for workers that must wait for a read model
    /// to reach it; absent in requests published before it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<String>,
    pub tenant_id: Uuid,
    pub aggregate_id: Uuid,
    pub correlation_id: Uuid,
    pub data: serde_json::Value,
}

impl WorkRequest {
    /// The `requestId` the triggering event carries.
    pub fn request_id(&self) -> Uuid {
        self.data
            .get("requestId")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_work_type_has_its_event_subject_and_consumer() {
        assert_eq!(
            WorkType::of_event(CampaignEvent::STRUCTURE_REQUESTED),
            Some(WorkType::Structure)
        );
        assert_eq!(
            WorkType::of_event(AudienceEvent::SEGMENTATION_REQUESTED),
            Some(WorkType::Segments)
        );
        assert_eq!(WorkType::of_event("CampaignRenamed"), None);
        assert_eq!(subject("ml", WorkType::Structure), "ml.structure.requested");
        let durables: std::collections::BTreeSet<_> =
            WorkType::ALL.iter().map(|w| w.durable()).collect();
        assert_eq!(durables.len(), WorkType::ALL.len());
        let config = stream_config(DEFAULT_STREAM, DEFAULT_SUBJECT_PREFIX);
        assert_eq!(config.subjects, vec!["ml.>".to_owned()]);
    }

    #[test]
    fn the_message_round_trips() {
        let request = WorkRequest {
            event_id: Uuid::now_v7(),
            event_type: "SegmentationRequested".into(),
            schema_version: 1,
            stream_name: "audience-x_y".into(),
            stream_version: 3,
            position: Some("12:3".into()),
            tenant_id: Uuid::now_v7(),
            aggregate_id: Uuid::now_v7(),
            correlation_id: Uuid::now_v7(),
            data: serde_json::json!({"requestId": "01920000-0000-7000-8000-000000000004"}),
        };
        let text = serde_json::to_string(&request).unwrap();
        assert!(text.contains("\"eventId\""));
        assert_eq!(serde_json::from_str::<WorkRequest>(&text).unwrap(), request);
        assert_eq!(
            request.request_id().to_string(),
            "01920000-0000-7000-8000-000000000004"
        );
    }
}
