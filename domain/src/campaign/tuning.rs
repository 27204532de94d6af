//! Changes to a running campaign's structure that proposals make: moving daily budget between
//! platforms (the total per day is conserved), the manual CPC bid, negative keywords.

use super::values::Platform;
use crate::structure::google::{check_ad_schedule, AdScheduleEntry, Bidding, Keyword};
use crate::structure::CampaignStructure;
use crate::violation::Violations;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where a daily budget lives: Google's campaign budget, or one LinkedIn campaign's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct BudgetTarget {
    pub platform: Platform,
    /// Which LinkedIn campaign (ignored for Google).
    #[serde(default)]
    pub linkedin_campaign: usize,
}

fn daily_budget(structure: &mut CampaignStructure, target: BudgetTarget) -> Option<&mut i64> {
    match target.platform {
        Platform::Google => structure
            .google
            .as_mut()
            .map(|g| &mut g.daily_budget_micros),
        Platform::Linkedin => structure
            .linkedin
            .as_mut()
            .and_then(|l| l.campaigns.get_mut(target.linkedin_campaign))
            .map(|c| &mut c.daily_budget_micros),
    }
}

/// The daily budget at `target`, if the structure has it.
pub fn daily_budget_of(structure: &CampaignStructure, target: BudgetTarget) -> Option<i64> {
    daily_budget(&mut structure.clone(), target).map(|b| *b)
}

/// Moves `micros` of daily budget from one target to another; the sum per day does not change.
pub fn shift_daily_budget(
    structure: &CampaignStructure,
    from: BudgetTarget,
    to: BudgetTarget,
    micros: i64,
    violations: &mut Violations,
) -> CampaignStructure {
    let mut shifted = structure.clone();
    if micros <= 0 {
        violations.push("action/micros", "not_positive", "must be greater than zero");
    }
    if from == to {
        violations.push("action/to", "same_target", "must differ from `from`");
    }
    match daily_budget(&mut shifted, from) {
        None => violations.push(
            "action/from",
            "not_found",
            "the structure has no such budget",
        ),
        Some(budget) if *budget <= micros => violations.push(
            "action/micros",
            "too_large",
            "would leave the source without budget",
        ),
        Some(budget) => *budget -= micros,
    }
    match daily_budget(&mut shifted, to) {
        None => violations.push("action/to", "not_found", "the structure has no such budget"),
        Some(budget) => *budget = budget.saturating_add(micros),
    }
    shifted
}

/// Sets the daily budget at `target`.
pub fn set_daily_budget(
    structure: &CampaignStructure,
    target: BudgetTarget,
    daily_budget_micros: i64,
    violations: &mut Violations,
) -> CampaignStructure {
    let mut changed = structure.clone();
    if daily_budget_micros <= 0 {
        violations.push(
            "action/dailyBudgetMicros",
            "not_positive",
            "must be greater than zero",
        );
    }
    match daily_budget(&mut changed, target) {
        None => violations.push(
            "action/target",
            "not_found",
            "the structure has no such budget",
        ),
        Some(budget) => *budget = daily_budget_micros,
    }
    changed
}

pub fn change_max_cpc(
    structure: &CampaignStructure,
    max_cpc_micros: i64,
    violations: &mut Violations,
) -> CampaignStructure {
    let mut changed = structure.clone();
    match changed.google.as_mut().map(|g| &mut g.campaign.bidding) {
        Some(Bidding::ManualCpc {
            max_cpc_micros: bid,
        }) => *bid = max_cpc_micros,
        _ => violations.push(
            "action",
            "not_manual_cpc",
            "only a Google campaign bidding with manual CPC has a max CPC",
        ),
    }
    changed
}

pub fn add_negative_keyword(
    structure: &CampaignStructure,
    keyword: &Keyword,
    violations: &mut Violations,
) -> CampaignStructure {
    let mut changed = structure.clone();
    match changed.google.as_mut() {
        Some(google) => google.negative_keywords.push(keyword.clone()),
        None => violations.push(
            "action",
            "no_google",
            "negative keywords belong to a Google campaign",
        ),
    }
    changed
}

pub fn set_ad_schedule(
    structure: &CampaignStructure,
    entries: &[AdScheduleEntry],
    violations: &mut Violations,
) -> CampaignStructure {
    let mut changed = structure.clone();
    match changed.google.as_mut() {
        Some(google) => {
            check_ad_schedule(entries, "action/entries", violations);
            google.campaign.ad_schedule = entries.to_vec();
        }
        None => violations.push(
            "action",
            "no_google",
            "an ad schedule belongs to a Google campaign: LinkedIn has no ad scheduling",
        ),
    }
    changed
}

/// The current manual CPC bid, if the structure bids that way.
pub fn max_cpc_of(structure: &CampaignStructure) -> Option<i64> {
    match structure.google.as_ref().map(|g| &g.campaign.bidding) {
        Some(Bidding::ManualCpc { max_cpc_micros }) => Some(*max_cpc_micros),
        _ => None,
    }
}
