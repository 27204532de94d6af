//! The optimiser's runs on a campaign (`OptimisationRunRequested` and `…Completed` on its monitor
//! stream, from the `activity` read model), newest first: what triggered each, what the models
//! predicted and what was proposed — applied within the guardrails, waiting for a person, or
//! refused — with the settings before and after. The completed runs are the optimisation log.

use crate::db::ReadDb;
use crate::errors::database;
use crate::guard::RoleGuard;
use crate::loaders::Owned;
use crate::structure::{json, wire_name};
use adflow_auth::Action;
use adflow_domain::optimisation::allocation::AllocationLine;
use adflow_domain::optimisation::runs::{
    OptimisationRunCompleted, OptimisationRunRequested, Prediction as DomainPrediction,
    RateInterval, RunProposal,
};
use async_graphql::dataloader::Loader;
use async_graphql::{ComplexObject, SimpleObject, ID};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::HashMap;

/// A rate (or a cost per conversion, in the campaign's currency) with its 90 % interval.
#[derive(Debug, Clone, Copy, SimpleObject)]
pub struct Interval {
    pub expected: f64,
    pub low: f64,
    pub high: f64,
}

impl From<RateInterval> for Interval {
    fn from(r: RateInterval) -> Self {
        Interval {
            expected: r.expected,
            low: r.low,
            high: r.high,
        }
    }
}

/// What the predictor expects of one entity over the coming week, from the latest run.
#[derive(Debug, Clone, SimpleObject)]
pub struct Prediction {
    /// CAMPAIGN, PLATFORM, AD_GROUP, KEYWORD or CREATIVE.
    pub level: String,
    /// GOOGLE or LINKEDIN.
    pub platform: String,
    /// The ad group, `ad group/keyword`, or creative as the platform reports it; empty for the
    /// campaign and platform levels.
    pub entity: String,
    pub click_through_rate: Interval,
    pub conversion_rate: Interval,
    /// Null without clicks or when the conversion rate could be zero.
    pub cost_per_conversion: Option<Interval>,
}

fn prediction(p: &DomainPrediction) -> Prediction {
    Prediction {
        level: wire_name(&p.level),
        platform: p.platform.as_str().to_owned(),
        entity: p.entity.clone(),
        click_through_rate: p.click_through_rate.into(),
        conversion_rate: p.conversion_rate.into(),
        cost_per_conversion: p.cost_per_conversion_micros.map(|c| Interval {
            expected: c.expected / 1e6,
            low: c.low / 1e6,
            high: c.high / 1e6,
        }),
    }
}

/// One proposal of a run and what became of it.
#[derive(Debug, Clone, SimpleObject)]
pub struct RunProposalView {
    pub proposal_id: ID,
    /// The proposed action as JSON (`{"kind": "CHANGE_DAILY_BUDGET", …}`).
    pub action: async_graphql::Json<serde_json::Value>,
    pub reason: String,
    /// 0 to 1.
    pub confidence: f64,
    /// APPLIED (within the guardrails), PENDING (waits for a person) or REFUSED.
    pub outcome: String,
    pub refusal: Option<String>,
    /// Expected conversions a day more (negative: fewer), with a 90 % interval.
    pub expected_conversions_per_day: Interval,
    /// Expected change of spend a day, in the campaign's currency.
    pub expected_cost_per_day: f64,
    /// The campaign's settings (status, budgets, bid, negatives) before, and after when applied.
    pub before: async_graphql::Json<serde_json::Value>,
    pub after: Option<async_graphql::Json<serde_json::Value>>,
}

fn proposal(p: &RunProposal) -> RunProposalView {
    RunProposalView {
        proposal_id: ID(p.proposal_id.to_string()),
        action: async_graphql::Json(json(&p.action)),
        reason: p.reason.clone(),
        confidence: f64::from(p.confidence_basis_points) / 10_000.0,
        outcome: wire_name(&p.outcome),
        refusal: p.refusal.clone(),
        expected_conversions_per_day: Interval {
            expected: p.impact.conversions_per_day,
            low: p.impact.conversions_per_day_low,
            high: p.impact.conversions_per_day_high,
        },
        expected_cost_per_day: p.impact.cost_per_day_micros as f64 / 1e6,
        before: async_graphql::Json(json(&p.before)),
        after: p.after.as_ref().map(|a| async_graphql::Json(json(a))),
    }
}

/// One budget line as the allocator saw it in a run: Google's daily budget or one LinkedIn
/// campaign's, what it is and what the allocator would make it, with the response behind that.
#[derive(Debug, Clone, SimpleObject)]
pub struct AllocationLineView {
    /// GOOGLE or LINKEDIN.
    pub platform: String,
    /// Which LinkedIn campaign of the structure (0 for Google).
    pub linkedin_campaign: i32,
    /// Daily budgets in the campaign's currency.
    pub current: f64,
    pub proposed: f64,
    /// The daily spend the line's spend levels off toward.
    pub demand: f64,
    /// Conversions per 1,000 of spend over the last week, with a 90 % interval.
    pub conversions_per_thousand: Interval,
    /// Conversions a day expected at the current and at the proposed budget.
    pub expected_conversions_current: f64,
    pub expected_conversions_proposed: f64,
}

fn allocation_line(l: &AllocationLine) -> AllocationLineView {
    AllocationLineView {
        platform: l.budget.platform.as_str().to_owned(),
        linkedin_campaign: i32::try_from(l.budget.linkedin_campaign).unwrap_or(i32::MAX),
        current: l.current_micros as f64 / 1e6,
        proposed: l.proposed_micros as f64 / 1e6,
        demand: l.demand_micros as f64 / 1e6,
        conversions_per_thousand: Interval {
            expected: l.conversions_per_million * 1_000.0,
            low: l.conversions_per_million_low * 1_000.0,
            high: l.conversions_per_million_high * 1_000.0,
        },
        expected_conversions_current: l.expected_conversions_current,
        expected_conversions_proposed: l.expected_conversions_proposed,
    }
}

/// An optimisation run: asked for, and (once the optimiser answered) what it found.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct OptimizationRun {
    pub run_id: ID,
    /// SCHEDULED or ON_DEMAND.
    pub trigger: String,
    pub requested_at: DateTime<Utc>,
    /// REQUESTED (the optimiser has not answered yet) or COMPLETED.
    pub status: String,
    pub completed_at: Option<DateTime<Utc>>,
    /// The models and rules that decided, `name@version`.
    pub model_versions: Vec<String>,
    pub proposals: Vec<RunProposalView>,
    #[graphql(skip)]
    pub predictions: Vec<Prediction>,
    #[graphql(skip)]
    pub allocation: Vec<AllocationLineView>,
}

#[ComplexObject]
impl OptimizationRun {
    /// Completed with no proposal.
    async fn nothing_to_change(&self) -> bool {
        self.status == "COMPLETED" && self.proposals.is_empty()
    }

    /// How the allocator would spread the campaign's daily budget over its lines in this run
    /// (empty with one line). Null, with a FORBIDDEN error, for roles that may not see money.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    async fn allocation(&self) -> Option<Vec<AllocationLineView>> {
        Some(self.allocation.clone())
    }

    /// What the models predicted for this run (first `first`, campaign level first).
    async fn predictions(&self, #[graphql(default = 100)] first: i32) -> Vec<Prediction> {
        let n = usize::try_from(first.clamp(0, 2_000)).unwrap_or(0);
        self.predictions.iter().take(n).cloned().collect()
    }
}

/// Runs by campaign (the key's id), newest first.
pub struct RunsLoader(pub ReadDb);

impl Loader<Owned> for RunsLoader {
    type Value = Vec<OptimizationRun>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Owned]) -> Result<HashMap<Owned, Self::Value>, Self::Error> {
        let rows = crate::anomalies::monitor_events(
            &self.0,
            keys,
            &["OptimisationRunRequested", "OptimisationRunCompleted"],
            "stream_version",
        )
        .await?;
        let mut runs: HashMap<Owned, Vec<OptimizationRun>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for (key, row) in rows {
            let event_type: String = row.try_get("event_type").map_err(database)?;
            let data: serde_json::Value = row.try_get("data").map_err(database)?;
            let at: DateTime<Utc> = row.try_get("recorded_at").map_err(database)?;
            let list = runs.entry(key).or_default();
            if event_type == "OptimisationRunRequested" {
                if let Ok(e) = serde_json::from_value::<OptimisationRunRequested>(data) {
                    list.push(OptimizationRun {
                        run_id: ID(e.run_id.to_string()),
                        trigger: wire_name(&e.trigger),
                        requested_at: e.requested_at,
                        status: "REQUESTED".into(),
                        completed_at: None,
                        model_versions: vec![],
                        proposals: vec![],
                        predictions: vec![],
                        allocation: vec![],
                    });
                }
            } else if let Ok(e) = serde_json::from_value::<OptimisationRunCompleted>(data) {
                if let Some(run) = list.iter_mut().find(|r| r.run_id.0 == e.run_id.to_string()) {
                    run.status = "COMPLETED".into();
                    run.completed_at = Some(at);
                    run.model_versions = e.model_versions;
                    run.proposals = e.proposals.iter().map(proposal).collect();
                    run.predictions = e.predictions.iter().map(prediction).collect();
                    run.allocation = e.allocation.iter().map(allocation_line).collect();
                }
            }
        }
        for list in runs.values_mut() {
            list.reverse();
        }
        Ok(runs)
    }
}
