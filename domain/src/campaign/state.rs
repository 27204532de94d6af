use super::proposals::ProposalState;
use super::values::{CampaignStatus, Objective, Platform};
use crate::ids::{CampaignId, TenantId};
use crate::structure::CampaignStructure;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Serialisable for the audit history (`history` in the query API), which shows the state after
/// every event.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CampaignState {
    pub id: CampaignId,
    pub tenant_id: TenantId,
    pub name: String,
    pub objective: Objective,
    pub platforms: Vec<Platform>,
    pub currency: String,
    pub total_budget_micros: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub status: CampaignStatus,
    /// The latest generated or edited structure.
    pub structure: Option<CampaignStructure>,
    /// The structure request the generator is working on.
    pub pending_request: Option<Uuid>,
    /// Platform → the platform's id, for every platform deployed so far.
    pub deployed: BTreeMap<Platform, String>,
    /// Platform → every resource its deployment created, with the platform's ids (platforms
    /// whose deployment recorded none are absent).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resources: BTreeMap<Platform, Vec<super::ExternalResource>>,
    /// (audience, segment) pairs the campaign targets.
    pub segments: Vec<(Uuid, Uuid)>,
    /// Every proposal made, by id.
    pub proposals: BTreeMap<Uuid, ProposalState>,
    /// The day of the last automatic budget change and the budget that day started with.
    pub budget_day: Option<(NaiveDate, i64)>,
    /// Performance reports already recorded (a resent report records nothing).
    pub reported: std::collections::BTreeSet<Uuid>,
    /// Whether the last deployment failure may be retried.
    pub retryable_failure: bool,
    /// Ads and creatives paused on their own, by platform and place in the structure.
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub paused_creatives: std::collections::BTreeSet<(Platform, String)>,
}

impl CampaignState {
    /// Whether the same change already waits for a person: a model asking again (every hour)
    /// would only pile up copies in the queue.
    pub fn has_pending(&self, action: &super::ProposedAction) -> bool {
        self.proposals
            .values()
            .any(|p| p.status == super::ProposalStatus::Pending && p.action == *action)
    }

    pub fn undeployed_platforms(&self) -> Vec<Platform> {
        self.platforms
            .iter()
            .copied()
            .filter(|p| !self.deployed.contains_key(p))
            .collect()
    }
}
