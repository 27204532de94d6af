//! The event contracts: every event type and schema version Adflow writes, with its JSON Schema.
//!
//! The schemas are checked in under `schemas/events/` (one file per type and version) and a test
//! fails when code and files drift. A version that is superseded keeps its entry here (with the
//! struct it was written with) and its file: events already stored are upcast on read, never
//! rewritten, so every version ever written must stay readable. Sample events of each version are
//! kept as fixtures (`schemas/events/fixtures/`) and decoded by the tests forever.

use crate::audience::*;
use crate::campaign::*;
use crate::event::{DecodeError, DomainEvent};
use crate::inbound::{InboundEvent, LeadCaptured, OfflineConversionRecorded};
use crate::monitoring::{AnomalyDetected, MonitorEvent, SearchTermsReviewed};
use crate::notifications::{InboxEvent, NotificationPreferencesSet, NotificationsRead};
use crate::optimisation::runs::{OptimisationRunCompleted, OptimisationRunRequested};
use crate::performance::{PerformanceEvent, PerformanceRecorded, PerformanceRestated};
use crate::personal::{DataSubjectErased, DataSubjectEvent};
use crate::retention::{RetentionApplied, RetentionEvent};
use crate::tenant::{
    ApiKeyCreated, ApiKeyRevoked, DecisionRulesSet, GuardrailsSet, PlatformConnected,
    PlatformDisconnected, TenantEvent,
};
use schemars::JsonSchema;

pub struct EventContract {
    /// The aggregate's stream category.
    pub category: &'static str,
    pub event_type: &'static str,
    pub schema_version: u32,
    schema: fn() -> schemars::Schema,
}

impl EventContract {
    /// The JSON Schema of the event's `data`.
    pub fn schema(&self) -> serde_json::Value {
        (self.schema)().to_value()
    }

    /// `CampaignCreated.v1`: the name of its files under `schemas/events/`.
    pub fn file_stem(&self) -> String {
        format!("{}.v{}", self.event_type, self.schema_version)
    }
}

fn contract<T: JsonSchema>(
    category: &'static str,
    event_type: &'static str,
    schema_version: u32,
) -> EventContract {
    EventContract {
        category,
        event_type,
        schema_version,
        schema: || schemars::schema_for!(T),
    }
}

/// Every contract, old versions included.
pub fn event_contracts() -> Vec<EventContract> {
    vec![
        contract::<CampaignCreatedV1>("campaign", CampaignEvent::CREATED, 1),
        contract::<CampaignCreated>("campaign", CampaignEvent::CREATED, 2),
        contract::<CampaignRenamed>("campaign", CampaignEvent::RENAMED, 1),
        contract::<CampaignBudgetChanged>("campaign", CampaignEvent::BUDGET_CHANGED, 1),
        contract::<CampaignScheduleChanged>("campaign", CampaignEvent::SCHEDULE_CHANGED, 1),
        contract::<SegmentAttached>("campaign", CampaignEvent::SEGMENT_ATTACHED, 1),
        contract::<StructureGenerationRequested>("campaign", CampaignEvent::STRUCTURE_REQUESTED, 1),
        contract::<StructureGenerated>("campaign", CampaignEvent::STRUCTURE_GENERATED, 1),
        contract::<StructureGenerationFailed>(
            "campaign",
            CampaignEvent::STRUCTURE_GENERATION_FAILED,
            1,
        ),
        contract::<StructureEdited>("campaign", CampaignEvent::STRUCTURE_EDITED, 1),
        contract::<StructureApproved>("campaign", CampaignEvent::STRUCTURE_APPROVED, 1),
        contract::<StructureRejected>("campaign", CampaignEvent::STRUCTURE_REJECTED, 1),
        contract::<DeploymentRequested>("campaign", CampaignEvent::DEPLOYMENT_REQUESTED, 1),
        contract::<DeployedToPlatform>("campaign", CampaignEvent::DEPLOYED_TO_PLATFORM, 1),
        contract::<Transitioned>("campaign", CampaignEvent::DEPLOYED, 1),
        contract::<DeploymentFailed>("campaign", CampaignEvent::DEPLOYMENT_FAILED, 1),
        contract::<Transitioned>("campaign", CampaignEvent::ACTIVATED, 1),
        contract::<Transitioned>("campaign", CampaignEvent::PAUSED, 1),
        contract::<Transitioned>("campaign", CampaignEvent::RESUMED, 1),
        contract::<Transitioned>("campaign", CampaignEvent::COMPLETED, 1),
        contract::<Transitioned>("campaign", CampaignEvent::ARCHIVED, 1),
        contract::<OptimisationProposed>("campaign", CampaignEvent::OPTIMISATION_PROPOSED, 1),
        contract::<ProposalApplied>("campaign", CampaignEvent::PROPOSAL_APPLIED, 1),
        contract::<ProposalDeclined>("campaign", CampaignEvent::PROPOSAL_DECLINED, 1),
        contract::<StructureTuned>("campaign", CampaignEvent::STRUCTURE_TUNED, 1),
        // Written to the campaign's stream before reports had day streams; read, no longer written.
        contract::<PerformanceReported>("campaign", CampaignEvent::PERFORMANCE_REPORTED, 1),
        contract::<PlatformChangesPushed>("campaign", CampaignEvent::PLATFORM_CHANGES_PUSHED, 1),
        contract::<CreativePaused>("campaign", CampaignEvent::CREATIVE_PAUSED, 1),
        contract::<PerformanceRecorded>("performance", PerformanceEvent::RECORDED, 1),
        contract::<PerformanceRestated>("performance", PerformanceEvent::RESTATED, 1),
        contract::<AnomalyDetected>("monitor", MonitorEvent::ANOMALY_DETECTED, 1),
        contract::<OptimisationRunRequested>(
            "monitor",
            MonitorEvent::OPTIMISATION_RUN_REQUESTED,
            1,
        ),
        contract::<OptimisationRunCompleted>(
            "monitor",
            MonitorEvent::OPTIMISATION_RUN_COMPLETED,
            1,
        ),
        contract::<SearchTermsReviewed>("monitor", MonitorEvent::SEARCH_TERMS_REVIEWED, 1),
        contract::<GuardrailsSet>("tenant", TenantEvent::GUARDRAILS_SET, 1),
        contract::<DecisionRulesSet>("tenant", TenantEvent::DECISION_RULES_SET, 1),
        contract::<PlatformConnected>("tenant", TenantEvent::PLATFORM_CONNECTED, 1),
        contract::<PlatformDisconnected>("tenant", TenantEvent::PLATFORM_DISCONNECTED, 1),
        contract::<ApiKeyCreated>("tenant", TenantEvent::API_KEY_CREATED, 1),
        contract::<ApiKeyRevoked>("tenant", TenantEvent::API_KEY_REVOKED, 1),
        contract::<AudienceDefined>("audience", AudienceEvent::DEFINED, 1),
        contract::<SegmentAdded>("audience", AudienceEvent::SEGMENT_ADDED, 1),
        contract::<SegmentSizeEstimated>("audience", AudienceEvent::SEGMENT_SIZE_ESTIMATED, 1),
        contract::<PersonaAdded>("audience", AudienceEvent::PERSONA_ADDED, 1),
        contract::<AccountListImportedV1>("audience", AudienceEvent::ACCOUNT_LIST_IMPORTED, 1),
        contract::<AccountListImported>("audience", AudienceEvent::ACCOUNT_LIST_IMPORTED, 2),
        contract::<SegmentationRequested>("audience", AudienceEvent::SEGMENTATION_REQUESTED, 1),
        contract::<SegmentationCompleted>("audience", AudienceEvent::SEGMENTATION_COMPLETED, 1),
        contract::<SegmentationFailed>("audience", AudienceEvent::SEGMENTATION_FAILED, 1),
        contract::<DataSubjectErased>("datasubject", DataSubjectEvent::ERASED, 1),
        contract::<RetentionApplied>("retention", RetentionEvent::APPLIED, 1),
        contract::<NotificationPreferencesSet>("inbox", InboxEvent::PREFERENCES_SET, 1),
        contract::<NotificationsRead>("inbox", InboxEvent::READ, 1),
        contract::<LeadCaptured>("inbound", InboundEvent::LEAD_CAPTURED, 1),
        contract::<OfflineConversionRecorded>(
            "inbound",
            InboundEvent::OFFLINE_CONVERSION_RECORDED,
            1,
        ),
    ]
}

/// Any Adflow event, decoded (and upcast) by the aggregate it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyEvent {
    Campaign(CampaignEvent),
    Audience(AudienceEvent),
    Tenant(TenantEvent),
    Performance(PerformanceEvent),
    Monitor(MonitorEvent),
    DataSubject(DataSubjectEvent),
    Retention(RetentionEvent),
    Inbox(InboxEvent),
    Inbound(InboundEvent),
}

/// Decodes an event of any aggregate, as auditors and tests that know only the type need to.
pub fn decode_any(
    event_type: &str,
    schema_version: u32,
    data: &serde_json::Value,
) -> Result<AnyEvent, DecodeError> {
    match CampaignEvent::from_payload(event_type, schema_version, data) {
        Err(DecodeError::UnknownType { .. }) => {}
        other => return other.map(AnyEvent::Campaign),
    }
    match AudienceEvent::from_payload(event_type, schema_version, data) {
        Err(DecodeError::UnknownType { .. }) => {}
        other => return other.map(AnyEvent::Audience),
    }
    match TenantEvent::from_payload(event_type, schema_version, data) {
        Err(DecodeError::UnknownType { .. }) => {}
        other => return other.map(AnyEvent::Tenant),
    }
    match PerformanceEvent::from_payload(event_type, schema_version, data) {
        Err(DecodeError::UnknownType { .. }) => {}
        other => return other.map(AnyEvent::Performance),
    }
    match MonitorEvent::from_payload(event_type, schema_version, data) {
        Err(DecodeError::UnknownType { .. }) => {}
        other => return other.map(AnyEvent::Monitor),
    }
    match DataSubjectEvent::from_payload(event_type, schema_version, data) {
        Err(DecodeError::UnknownType { .. }) => {}
        other => return other.map(AnyEvent::DataSubject),
    }
    match RetentionEvent::from_payload(event_type, schema_version, data) {
        Err(DecodeError::UnknownType { .. }) => {}
        other => return other.map(AnyEvent::Retention),
    }
    match InboxEvent::from_payload(event_type, schema_version, data) {
        Err(DecodeError::UnknownType { .. }) => {}
        other => return other.map(AnyEvent::Inbox),
    }
    InboundEvent::from_payload(event_type, schema_version, data).map(AnyEvent::Inbound)
}
