//! What callers ask of a campaign. Commands carry what the caller typed (strings for enums and
//! dates), so that `decide` can report every violation at once.

use super::proposals::{Guardrails, ProposedAction};
use super::values::Platform;
use crate::ids::{CampaignId, TenantId};
use crate::structure::CampaignStructure;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub struct CreateCampaign {
    pub campaign_id: CampaignId,
    pub tenant_id: TenantId,
    pub name: String,
    pub objective: String,
    pub platforms: Vec<String>,
    /// ISO 4217, for example `EUR`.
    pub currency: String,
    pub total_budget_micros: i64,
    pub start_date: String,
    pub end_date: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CampaignCommand {
    Create(CreateCampaign),
    Rename {
        name: String,
    },
    ChangeBudget {
        total_budget_micros: i64,
    },
    ChangeSchedule {
        start_date: String,
        end_date: String,
    },
    /// `segment_size` is the segment's current estimate, looked up by the caller (`None`: unknown).
    AttachSegment {
        audience_id: Uuid,
        segment_id: Uuid,
        segment_size: Option<u64>,
    },
    /// `request_id` is minted by the caller; the generator's answer quotes it.
    RequestStructure {
        request_id: Uuid,
        instructions: Option<String>,
        /// A template key (`crate::templates`) whose brief seeds the request.
        template: Option<String>,
        /// What the generator needs beyond the campaign: offer, landing page, keywords, voice.
        brief: Option<super::brief::GenerationBrief>,
    },
    AttachGeneratedStructure {
        request_id: Uuid,
        model_version: String,
        structure: CampaignStructure,
        /// The tenant's guardrails (their spend-rate limit applies), looked up by the caller.
        guardrails: Guardrails,
    },
    FailStructureGeneration {
        request_id: Uuid,
        reason: String,
    },
    EditStructure {
        structure: CampaignStructure,
        /// The tenant's guardrails (their spend-rate limit applies), looked up by the caller.
        guardrails: Guardrails,
    },
    ApproveStructure,
    RejectStructure {
        reasons: Vec<String>,
    },
    RequestDeployment,
    RecordDeployment {
        platform: Platform,
        external_id: String,
        /// Everything the deployment created, with the platform's ids.
        resources: Vec<super::ExternalResource>,
    },
    /// What pushing the changes `cause` asked for did on each platform.
    RecordPlatformChanges {
        cause: Uuid,
        changes: Vec<super::PushedChange>,
    },
    RecordDeploymentFailure {
        platform: Platform,
        reason: String,
        retryable: bool,
    },
    /// `guardrails` are the tenant's, looked up by the caller.
    ProposeOptimisation {
        proposal_id: Uuid,
        action: ProposedAction,
        reason: String,
        confidence_basis_points: u32,
        model_version: String,
        guardrails: Guardrails,
    },
    ApproveProposal {
        proposal_id: Uuid,
    },
    DeclineProposal {
        proposal_id: Uuid,
        reason: String,
    },
    Activate,
    Pause,
    Resume,
    Complete,
    Archive,
}

impl CampaignCommand {
    /// The command's name in rejections (`cannot approve a campaign that is DRAFT`).
    pub fn name(&self) -> &'static str {
        use CampaignCommand as C;
        match self {
            C::Create(_) => "create",
            C::Rename { .. } => "rename",
            C::ChangeBudget { .. } => "change the budget of",
            C::ChangeSchedule { .. } => "change the schedule of",
            C::AttachSegment { .. } => "attach a segment to",
            C::RequestStructure { .. } => "request a structure for",
            C::AttachGeneratedStructure { .. } => "attach a generated structure to",
            C::FailStructureGeneration { .. } => "fail structure generation of",
            C::EditStructure { .. } => "edit the structure of",
            C::ApproveStructure => "approve",
            C::RejectStructure { .. } => "reject",
            C::RequestDeployment => "deploy",
            C::RecordDeployment { .. } => "record a deployment of",
            C::RecordPlatformChanges { .. } => "record platform changes of",
            C::RecordDeploymentFailure { .. } => "record a deployment failure of",
            C::ProposeOptimisation { .. } => "propose an optimisation for",
            C::ApproveProposal { .. } => "apply a proposal to",
            C::DeclineProposal { .. } => "decline a proposal for",
            C::Activate => "activate",
            C::Pause => "pause",
            C::Resume => "resume",
            C::Complete => "complete",
            C::Archive => "archive",
        }
    }
}
