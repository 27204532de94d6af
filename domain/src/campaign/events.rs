//! What happened to a campaign. Every body is versioned through its contract
//! (`crate::contracts`); a changed body becomes a new version, decoded (upcast) here.

use super::performance::PerformanceReported;
use super::proposals::ProposedAction;
use super::values::{CampaignStatus, Objective, Platform};
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::ids::{CampaignId, TenantId};
use crate::structure::CampaignStructure;
use crate::violation::Violation;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Version 2: budgets are micros of `currency`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignCreated {
    pub campaign_id: CampaignId,
    pub tenant_id: TenantId,
    pub name: String,
    pub objective: Objective,
    pub platforms: Vec<Platform>,
    /// ISO 4217 code of the account currency, for example `EUR`.
    pub currency: String,
    pub total_budget_micros: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// Version 1, written before campaigns named their currency. Kept to read old streams: it is
/// upcast to version 2 with `USD`, the only currency accounts had then.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignCreatedV1 {
    pub campaign_id: CampaignId,
    pub tenant_id: TenantId,
    pub name: String,
    pub objective: Objective,
    pub platforms: Vec<Platform>,
    pub total_budget_micros: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

impl From<CampaignCreatedV1> for CampaignCreated {
    fn from(v1: CampaignCreatedV1) -> Self {
        CampaignCreated {
            campaign_id: v1.campaign_id,
            tenant_id: v1.tenant_id,
            name: v1.name,
            objective: v1.objective,
            platforms: v1.platforms,
            currency: "USD".to_owned(),
            total_budget_micros: v1.total_budget_micros,
            start_date: v1.start_date,
            end_date: v1.end_date,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignRenamed {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignBudgetChanged {
    pub total_budget_micros: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignScheduleChanged {
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

/// The campaign targets this audience segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SegmentAttached {
    pub audience_id: Uuid,
    pub segment_id: Uuid,
    /// The segment's estimate when it was attached.
    pub estimated_size: u64,
}

/// Asks the ML workers for a structure; they answer quoting `requestId`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StructureGenerationRequested {
    pub request_id: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instructions: Option<String>,
    /// The template that seeded the request, and its brief as it was then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template_brief: Option<String>,
    /// Added within v1 as an optional field: events written before it read as `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brief: Option<super::brief::GenerationBrief>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StructureGenerated {
    pub request_id: Uuid,
    pub model_version: String,
    pub structure: CampaignStructure,
    /// Platform warnings the structure still carries (errors are never accepted).
    pub warnings: Vec<Violation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StructureGenerationFailed {
    pub request_id: Uuid,
    pub reason: String,
}

/// A person changed the generated structure by hand.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StructureEdited {
    pub structure: CampaignStructure,
    pub warnings: Vec<Violation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StructureApproved {}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StructureRejected {
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentRequested {
    pub platforms: Vec<Platform>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeployedToPlatform {
    pub platform: Platform,
    /// The platform's id of the deployed campaign (group).
    pub external_id: String,
    /// Every resource created, with its id. Added within v1 as an optional field: events written
    /// before it read as empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<super::ExternalResource>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentFailed {
    pub platform: Platform,
    pub reason: String,
    pub retryable: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptimisationProposed {
    pub proposal_id: Uuid,
    pub action: ProposedAction,
    pub reason: String,
    /// 0 to 10,000.
    pub confidence_basis_points: u32,
    pub model_version: String,
}

/// The proposal was carried out: by a person's approval, or by itself within the guardrails. The
/// events that carry it out follow in the same append.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProposalApplied {
    pub proposal_id: Uuid,
    pub automatic: bool,
    /// The (UTC) day it applied, for the daily guardrails.
    pub applied_on: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProposalDeclined {
    pub proposal_id: Uuid,
    pub reason: String,
}

/// A proposal changed the running structure (bids, negatives, budget split); the status stays.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StructureTuned {
    pub structure: CampaignStructure,
    pub warnings: Vec<Violation>,
}

/// One deployed ad (Google) or creative (LinkedIn) stopped serving; the rest of the campaign runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreativePaused {
    pub platform: super::Platform,
    /// Its place in the structure (`/linkedin/campaigns/0/creatives/1`, `/google/adGroups/2/ads/0`).
    pub path: String,
}

/// A lifecycle step without data of its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Transitioned {}

#[derive(Debug, Clone, PartialEq)]
pub enum CampaignEvent {
    Created(CampaignCreated),
    Renamed(CampaignRenamed),
    BudgetChanged(CampaignBudgetChanged),
    ScheduleChanged(CampaignScheduleChanged),
    SegmentAttached(SegmentAttached),
    StructureRequested(StructureGenerationRequested),
    StructureGenerated(StructureGenerated),
    StructureGenerationFailed(StructureGenerationFailed),
    StructureEdited(StructureEdited),
    StructureApproved(StructureApproved),
    StructureRejected(StructureRejected),
    DeploymentRequested(DeploymentRequested),
    DeployedToPlatform(DeployedToPlatform),
    /// Every platform of the campaign is deployed (appended with the last `DeployedToPlatform`).
    Deployed(Transitioned),
    DeploymentFailed(DeploymentFailed),
    Activated(Transitioned),
    Paused(Transitioned),
    Resumed(Transitioned),
    Completed(Transitioned),
    Archived(Transitioned),
    OptimisationProposed(OptimisationProposed),
    ProposalApplied(ProposalApplied),
    ProposalDeclined(ProposalDeclined),
    StructureTuned(StructureTuned),
    PerformanceReported(PerformanceReported),
    PlatformChangesPushed(super::PlatformChangesPushed),
    CreativePaused(CreativePaused),
}

impl CampaignEvent {
    pub const CREATED: &'static str = "CampaignCreated";
    pub const RENAMED: &'static str = "CampaignRenamed";
    pub const BUDGET_CHANGED: &'static str = "CampaignBudgetChanged";
    pub const SCHEDULE_CHANGED: &'static str = "CampaignScheduleChanged";
    pub const SEGMENT_ATTACHED: &'static str = "SegmentAttached";
    pub const STRUCTURE_REQUESTED: &'static str = "StructureGenerationRequested";
    pub const STRUCTURE_GENERATED: &'static str = "StructureGenerated";
    pub const STRUCTURE_GENERATION_FAILED: &'static str = "StructureGenerationFailed";
    pub const STRUCTURE_EDITED: &'static str = "StructureEdited";
    pub const STRUCTURE_APPROVED: &'static str = "StructureApproved";
    pub const STRUCTURE_REJECTED: &'static str = "StructureRejected";
    pub const DEPLOYMENT_REQUESTED: &'static str = "DeploymentRequested";
    pub const DEPLOYED_TO_PLATFORM: &'static str = "DeployedToPlatform";
    pub const DEPLOYED: &'static str = "CampaignDeployed";
    pub const DEPLOYMENT_FAILED: &'static str = "DeploymentFailed";
    pub const ACTIVATED: &'static str = "CampaignActivated";
    pub const PAUSED: &'static str = "CampaignPaused";
    pub const RESUMED: &'static str = "CampaignResumed";
    pub const COMPLETED: &'static str = "CampaignCompleted";
    pub const ARCHIVED: &'static str = "CampaignArchived";
    pub const OPTIMISATION_PROPOSED: &'static str = "OptimisationProposed";
    pub const PROPOSAL_APPLIED: &'static str = "ProposalApplied";
    pub const PROPOSAL_DECLINED: &'static str = "ProposalDeclined";
    pub const STRUCTURE_TUNED: &'static str = "StructureTuned";
    pub const PERFORMANCE_REPORTED: &'static str = "PerformanceReported";
    pub const PLATFORM_CHANGES_PUSHED: &'static str = "PlatformChangesPushed";
    pub const CREATIVE_PAUSED: &'static str = "CreativePaused";
}

impl CampaignEvent {
    /// The status a campaign is in after this event (`None`: unchanged). The one statement of the
    /// state machine's targets: `evolve` and the read models both use it.
    pub fn status_after(&self) -> Option<CampaignStatus> {
        use CampaignEvent as E;
        use CampaignStatus as S;
        match self {
            E::Created(_) | E::StructureGenerationFailed(_) => Some(S::Draft),
            E::Renamed(_)
            | E::BudgetChanged(_)
            | E::ScheduleChanged(_)
            | E::SegmentAttached(_)
            | E::DeployedToPlatform(_)
            | E::OptimisationProposed(_)
            | E::ProposalApplied(_)
            | E::ProposalDeclined(_)
            | E::StructureTuned(_)
            | E::PerformanceReported(_)
            | E::PlatformChangesPushed(_)
            | E::CreativePaused(_) => None,
            E::StructureRequested(_) => Some(S::StructureRequested),
            E::StructureGenerated(_) | E::StructureEdited(_) => Some(S::StructurePreview),
            E::StructureApproved(_) => Some(S::Approved),
            E::StructureRejected(_) => Some(S::Rejected),
            E::DeploymentRequested(_) => Some(S::DeploymentRequested),
            E::Deployed(_) => Some(S::Deployed),
            E::DeploymentFailed(_) => Some(S::DeploymentFailed),
            E::Activated(_) | E::Resumed(_) => Some(S::Active),
            E::Paused(_) => Some(S::Paused),
            E::Completed(_) => Some(S::Completed),
            E::Archived(_) => Some(S::Archived),
        }
    }
}

impl DomainEvent for CampaignEvent {
    fn to_payload(&self) -> EventPayload {
        use CampaignEvent as E;
        match self {
            E::Created(e) => encode(E::CREATED, 2, e),
            E::Renamed(e) => encode(E::RENAMED, 1, e),
            E::BudgetChanged(e) => encode(E::BUDGET_CHANGED, 1, e),
            E::ScheduleChanged(e) => encode(E::SCHEDULE_CHANGED, 1, e),
            E::SegmentAttached(e) => encode(E::SEGMENT_ATTACHED, 1, e),
            E::StructureRequested(e) => encode(E::STRUCTURE_REQUESTED, 1, e),
            E::StructureGenerated(e) => encode(E::STRUCTURE_GENERATED, 1, e),
            E::StructureGenerationFailed(e) => encode(E::STRUCTURE_GENERATION_FAILED, 1, e),
            E::StructureEdited(e) => encode(E::STRUCTURE_EDITED, 1, e),
            E::StructureApproved(e) => encode(E::STRUCTURE_APPROVED, 1, e),
            E::StructureRejected(e) => encode(E::STRUCTURE_REJECTED, 1, e),
            E::DeploymentRequested(e) => encode(E::DEPLOYMENT_REQUESTED, 1, e),
            E::DeployedToPlatform(e) => encode(E::DEPLOYED_TO_PLATFORM, 1, e),
            E::Deployed(e) => encode(E::DEPLOYED, 1, e),
            E::DeploymentFailed(e) => encode(E::DEPLOYMENT_FAILED, 1, e),
            E::Activated(e) => encode(E::ACTIVATED, 1, e),
            E::Paused(e) => encode(E::PAUSED, 1, e),
            E::Resumed(e) => encode(E::RESUMED, 1, e),
            E::Completed(e) => encode(E::COMPLETED, 1, e),
            E::Archived(e) => encode(E::ARCHIVED, 1, e),
            E::OptimisationProposed(e) => encode(E::OPTIMISATION_PROPOSED, 1, e),
            E::ProposalApplied(e) => encode(E::PROPOSAL_APPLIED, 1, e),
            E::ProposalDeclined(e) => encode(E::PROPOSAL_DECLINED, 1, e),
            E::StructureTuned(e) => encode(E::STRUCTURE_TUNED, 1, e),
            E::PerformanceReported(e) => encode(E::PERFORMANCE_REPORTED, 1, e),
            E::PlatformChangesPushed(e) => encode(E::PLATFORM_CHANGES_PUSHED, 1, e),
            E::CreativePaused(e) => encode(E::CREATIVE_PAUSED, 1, e),
        }
    }

    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        use CampaignEvent as E;
        let (t, v) = (event_type, schema_version);
        match (t, v) {
            (E::CREATED, 1) => {
                decode::<CampaignCreatedV1>(t, v, data).map(|v1| E::Created(v1.into()))
            }
            (E::CREATED, 2) => decode(t, v, data).map(E::Created),
            (E::RENAMED, 1) => decode(t, v, data).map(E::Renamed),
            (E::BUDGET_CHANGED, 1) => decode(t, v, data).map(E::BudgetChanged),
            (E::SCHEDULE_CHANGED, 1) => decode(t, v, data).map(E::ScheduleChanged),
            (E::SEGMENT_ATTACHED, 1) => decode(t, v, data).map(E::SegmentAttached),
            (E::STRUCTURE_REQUESTED, 1) => decode(t, v, data).map(E::StructureRequested),
            (E::STRUCTURE_GENERATED, 1) => decode(t, v, data).map(E::StructureGenerated),
            (E::STRUCTURE_GENERATION_FAILED, 1) => {
                decode(t, v, data).map(E::StructureGenerationFailed)
            }
            (E::STRUCTURE_EDITED, 1) => decode(t, v, data).map(E::StructureEdited),
            (E::STRUCTURE_APPROVED, 1) => decode(t, v, data).map(E::StructureApproved),
            (E::STRUCTURE_REJECTED, 1) => decode(t, v, data).map(E::StructureRejected),
            (E::DEPLOYMENT_REQUESTED, 1) => decode(t, v, data).map(E::DeploymentRequested),
            (E::DEPLOYED_TO_PLATFORM, 1) => decode(t, v, data).map(E::DeployedToPlatform),
            (E::DEPLOYED, 1) => decode(t, v, data).map(E::Deployed),
            (E::DEPLOYMENT_FAILED, 1) => decode(t, v, data).map(E::DeploymentFailed),
            (E::ACTIVATED, 1) => decode(t, v, data).map(E::Activated),
            (E::PAUSED, 1) => decode(t, v, data).map(E::Paused),
            (E::RESUMED, 1) => decode(t, v, data).map(E::Resumed),
            (E::COMPLETED, 1) => decode(t, v, data).map(E::Completed),
            (E::ARCHIVED, 1) => decode(t, v, data).map(E::Archived),
            (E::OPTIMISATION_PROPOSED, 1) => decode(t, v, data).map(E::OptimisationProposed),
            (E::PROPOSAL_APPLIED, 1) => decode(t, v, data).map(E::ProposalApplied),
            (E::PROPOSAL_DECLINED, 1) => decode(t, v, data).map(E::ProposalDeclined),
            (E::STRUCTURE_TUNED, 1) => decode(t, v, data).map(E::StructureTuned),
            (E::PERFORMANCE_REPORTED, 1) => decode(t, v, data).map(E::PerformanceReported),
            (E::PLATFORM_CHANGES_PUSHED, 1) => decode(t, v, data).map(E::PlatformChangesPushed),
            (E::CREATIVE_PAUSED, 1) => decode(t, v, data).map(E::CreativePaused),
            _ => Err(unknown(t, v)),
        }
    }
}
