//! Optimisation runs, recorded on the campaign's monitor stream: a run is requested (by the hourly
//! schedule, by new reports or by a person), the optimiser answers it once with what it predicted
//! and what it proposed — each proposal applied within the guardrails, left waiting for a person,
//! or refused, with the campaign's settings before and after — or with nothing to change. The
//! completed runs are the optimisation log.

use super::ExpectedImpact;
use crate::campaign::{BudgetTarget, CampaignState, CampaignStatus, Platform, ProposedAction};
use crate::structure::google::Bidding;
use crate::violation::Violations;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Most proposals one run may record.
pub const MAX_RUN_PROPOSALS: usize = 50;
/// Most predictions one run may record.
pub const MAX_RUN_PREDICTIONS: usize = 2_000;
/// Budget lines a run's allocation may record (Google's and LinkedIn's campaigns).
pub const MAX_ALLOCATION_LINES: usize = 50;
const RUN_NAMESPACE: Uuid = Uuid::from_u128(0x0193_8d11_9a0e_7c41_b5d2_64e1_0f3a_7c58);

/// What asked for a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunTrigger {
    /// The hourly schedule.
    Scheduled,
    /// `POST /v1/campaigns/{id}/optimization-runs`.
    OnDemand,
}

/// The run id of the scheduled run of `campaign` for the hour starting at `hour`: the same hour
/// asked twice is the same run.
pub fn scheduled_run_id(campaign: Uuid, hour: DateTime<Utc>) -> Uuid {
    let name = format!("{campaign}/{}", hour.timestamp().div_euclid(3600));
    Uuid::new_v5(&RUN_NAMESPACE, name.as_bytes())
}

/// The id of the `index`-th proposal of run `run`: a redelivered run proposes the same ids.
pub fn proposal_id(run: Uuid, index: usize) -> Uuid {
    Uuid::new_v5(&RUN_NAMESPACE, format!("{run}/{index}").as_bytes())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProposalOutcome {
    /// Within the tenant's guardrails: it applied itself.
    Applied,
    /// Waits for a person's approval.
    Pending,
    /// The campaign refused it (its rules or state); `refusal` says why.
    Refused,
}

/// The settings a proposal can change, as they stood.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SettingsSnapshot {
    pub status: CampaignStatus,
    pub total_budget_micros: i64,
    /// `GOOGLE`, `LINKEDIN/0`, … → daily budget.
    pub daily_budgets_micros: BTreeMap<String, i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_cpc_micros: Option<i64>,
    pub negative_keywords: u32,
}

/// The key of a daily budget in [`SettingsSnapshot::daily_budgets_micros`].
pub fn budget_key(target: BudgetTarget) -> String {
    match target.platform {
        Platform::Google => "GOOGLE".to_owned(),
        Platform::Linkedin => format!("LINKEDIN/{}", target.linkedin_campaign),
    }
}

pub fn snapshot(state: &CampaignState) -> SettingsSnapshot {
    let mut daily_budgets_micros = BTreeMap::new();
    let mut max_cpc_micros = None;
    let mut negative_keywords = 0;
    if let Some(structure) = &state.structure {
        if let Some(google) = &structure.google {
            daily_budgets_micros.insert("GOOGLE".to_owned(), google.daily_budget_micros);
            if let Bidding::ManualCpc {
                max_cpc_micros: bid,
            } = google.campaign.bidding
            {
                max_cpc_micros = Some(bid);
            }
            negative_keywords = google.negative_keywords.len() as u32;
        }
        if let Some(linkedin) = &structure.linkedin {
            for (i, c) in linkedin.campaigns.iter().enumerate() {
                daily_budgets_micros.insert(format!("LINKEDIN/{i}"), c.daily_budget_micros);
            }
        }
    }
    SettingsSnapshot {
        status: state.status,
        total_budget_micros: state.total_budget_micros,
        daily_budgets_micros,
        max_cpc_micros,
        negative_keywords,
    }
}

/// One proposal of a run and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunProposal {
    pub proposal_id: Uuid,
    pub action: ProposedAction,
    pub reason: String,
    pub confidence_basis_points: u32,
    pub impact: ExpectedImpact,
    pub outcome: ProposalOutcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
    pub before: SettingsSnapshot,
    /// The settings after it applied (applied proposals only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<SettingsSnapshot>,
}

/// What a prediction is about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PredictionLevel {
    Campaign,
    Platform,
    AdGroup,
    Keyword,
    Creative,
}

/// A rate and its 90 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RateInterval {
    pub expected: f64,
    pub low: f64,
    pub high: f64,
}

/// The predictor's view of one entity for the coming week.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    pub level: PredictionLevel,
    pub platform: Platform,
    /// The ad group, keyword or creative as the platforms report it; empty for the campaign.
    pub entity: String,
    pub click_through_rate: RateInterval,
    pub conversion_rate: RateInterval,
    /// Cost per click (recent) over the conversion rate; `None` without clicks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_per_conversion_micros: Option<RateInterval>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptimisationRunRequested {
    pub campaign_id: Uuid,
    pub run_id: Uuid,
    pub trigger: RunTrigger,
    pub requested_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptimisationRunCompleted {
    pub campaign_id: Uuid,
    pub run_id: Uuid,
    /// Empty: nothing to change.
    pub proposals: Vec<RunProposal>,
    pub predictions: Vec<Prediction>,
    /// The models and rules that decided, `name@version`.
    pub model_versions: Vec<String>,
    /// How the allocator would spread the campaign's daily budget over its lines (empty: one
    /// line, or too little data).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allocation: Vec<super::allocation::AllocationLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunStatus {
    Requested,
    Completed,
}

fn finite(r: &RateInterval) -> bool {
    r.expected.is_finite() && r.low.is_finite() && r.high.is_finite() && r.low <= r.high
}

/// The limits of a completed run's record.
pub fn check_completion(completed: &OptimisationRunCompleted, violations: &mut Violations) {
    if completed.proposals.len() > MAX_RUN_PROPOSALS {
        violations.push(
            "proposals",
            "too_many",
            format!("at most {MAX_RUN_PROPOSALS}"),
        );
    }
    if completed.predictions.len() > MAX_RUN_PREDICTIONS {
        violations.push(
            "predictions",
            "too_many",
            format!("at most {MAX_RUN_PREDICTIONS}"),
        );
    }
    for (i, p) in completed
        .predictions
        .iter()
        .enumerate()
        .take(MAX_RUN_PREDICTIONS)
    {
        let ok = finite(&p.click_through_rate)
            && finite(&p.conversion_rate)
            && p.cost_per_conversion_micros.as_ref().is_none_or(finite)
            && p.entity.chars().count() <= 500;
        if !ok {
            violations.push(
                format!("predictions/{i}"),
                "invalid",
                "finite rates with low ≤ high and an entity of at most 500 characters",
            );
        }
    }
    if completed.allocation.len() > MAX_ALLOCATION_LINES {
        violations.push(
            "allocation",
            "too_many",
            format!("at most {MAX_ALLOCATION_LINES}"),
        );
    }
    for (i, l) in completed
        .allocation
        .iter()
        .enumerate()
        .take(MAX_ALLOCATION_LINES)
    {
        let figures = [
            l.conversions_per_million,
            l.conversions_per_million_low,
            l.conversions_per_million_high,
            l.expected_conversions_current,
            l.expected_conversions_proposed,
        ];
        if !figures.iter().all(|f| f.is_finite()) || l.proposed_micros < 0 {
            violations.push(
                format!("allocation/{i}"),
                "invalid",
                "finite figures and a budget of at least zero",
            );
        }
    }
    for (i, p) in completed
        .proposals
        .iter()
        .enumerate()
        .take(MAX_RUN_PROPOSALS)
    {
        let impact = &p.impact;
        let ok = impact.conversions_per_day.is_finite()
            && impact.conversions_per_day_low.is_finite()
            && impact.conversions_per_day_high.is_finite()
            && p.confidence_basis_points <= 10_000;
        if !ok {
            violations.push(
                format!("proposals/{i}"),
                "invalid",
                "a finite impact and a confidence of at most 10000",
            );
        }
    }
    if completed.model_versions.len() > 20 {
        violations.push("modelVersions", "too_many", "at most 20");
    }
}
