//! Optimisation proposals: a model suggests a change with its reason, confidence and version; a
//! person approves or declines it, or it applies itself when it stays within the tenant's
//! guardrails. Every proposal, applied or declined, stays in the campaign's history.

use super::tuning::{self, BudgetTarget};
use super::StructureTuned;
use super::{
    CampaignBudgetChanged, CampaignEvent, CampaignState, CampaignStatus as S, Transitioned,
};
use crate::aggregate::Rejection;
use crate::structure::google::{AdScheduleEntry, Keyword};
use crate::violation::Violations;
use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a proposal would change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(
    tag = "kind",
    rename_all = "SCREAMING_SNAKE_CASE",
    rename_all_fields = "camelCase"
)]
pub enum ProposedAction {
    Pause,
    Resume,
    ChangeBudget {
        total_budget_micros: i64,
    },
    /// Moves daily budget between platforms (or LinkedIn campaigns); the daily total is conserved.
    ShiftDailyBudget {
        from: BudgetTarget,
        to: BudgetTarget,
        micros: i64,
    },
    /// Sets one daily budget (Google's, or one LinkedIn campaign's): scales the campaign's spend.
    ChangeDailyBudget {
        target: BudgetTarget,
        daily_budget_micros: i64,
    },
    /// The Google campaign's manual CPC bid.
    ChangeMaxCpc {
        max_cpc_micros: i64,
    },
    AddNegativeKeyword {
        keyword: Keyword,
    },
    /// Stops one deployed ad or creative (`path` as its deployment recorded it); never the last
    /// one still serving in its ad group or LinkedIn campaign.
    PauseCreative {
        platform: super::Platform,
        path: String,
    },
    /// The Google campaign's ad schedule: the whole week, with a bid modifier per block
    /// (dayparting). LinkedIn has no ad scheduling.
    SetAdSchedule {
        entries: Vec<AdScheduleEntry>,
    },
}

/// The tenant's limits for changes nobody approved. Off until the tenant turns it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Guardrails {
    pub auto_apply: bool,
    /// Proposals below this confidence always wait for a person (10,000 = certain).
    pub min_confidence_basis_points: u32,
    /// How far automatic budget changes may move a campaign's budget within one day, measured
    /// from the budget the day started with (2,000 = ±20 %).
    pub max_daily_budget_change_basis_points: u32,
    /// The most a campaign's structure may plan to spend per day, across platforms (the tenant's
    /// spend-rate limit); `None`: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_daily_spend_micros: Option<i64>,
}

impl Default for Guardrails {
    fn default() -> Self {
        Self {
            auto_apply: false,
            min_confidence_basis_points: 8_000,
            max_daily_budget_change_basis_points: 2_000,
            max_daily_spend_micros: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ProposalStatus {
    Pending,
    Applied,
    Declined,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProposalState {
    pub action: ProposedAction,
    pub status: ProposalStatus,
}

/// The events that carry out `action` now, or why it cannot be done in the campaign's state.
pub(super) fn effect(
    state: &CampaignState,
    action: &ProposedAction,
) -> Result<Vec<CampaignEvent>, Rejection> {
    let illegal = |command| Rejection::IllegalTransition {
        kind: "campaign",
        command,
        status: state.status.as_str(),
    };
    match action {
        ProposedAction::Pause if state.status == S::Active => {
            Ok(vec![CampaignEvent::Paused(Transitioned {})])
        }
        ProposedAction::Pause => Err(illegal("pause")),
        ProposedAction::Resume if state.status == S::Paused => {
            Ok(vec![CampaignEvent::Resumed(Transitioned {})])
        }
        ProposedAction::Resume => Err(illegal("resume")),
        ProposedAction::ChangeBudget {
            total_budget_micros,
        } => {
            let mut violations = Violations::new();
            super::rules::check_new_budget(
                state,
                *total_budget_micros,
                "action/totalBudgetMicros",
                &mut violations,
            );
            violations
                .into_result(vec![CampaignEvent::BudgetChanged(CampaignBudgetChanged {
                    total_budget_micros: *total_budget_micros,
                })])
                .map_err(Rejection::Invalid)
        }
        ProposedAction::PauseCreative { platform, path } => {
            if !matches!(state.status, S::Deployed | S::Active | S::Paused) {
                return Err(illegal("pause a creative of"));
            }
            let mut violations = Violations::new();
            super::creatives::check_pause(state, *platform, path, &mut violations);
            violations
                .into_result(vec![CampaignEvent::CreativePaused(super::CreativePaused {
                    platform: *platform,
                    path: path.clone(),
                })])
                .map_err(Rejection::Invalid)
        }
        ProposedAction::ShiftDailyBudget { .. }
        | ProposedAction::ChangeDailyBudget { .. }
        | ProposedAction::ChangeMaxCpc { .. }
        | ProposedAction::AddNegativeKeyword { .. }
        | ProposedAction::SetAdSchedule { .. } => {
            if !matches!(state.status, S::Deployed | S::Active | S::Paused) {
                return Err(illegal("tune the structure of"));
            }
            let Some(structure) = &state.structure else {
                return Err(illegal("tune the structure of"));
            };
            let mut violations = Violations::new();
            let tuned = match action {
                ProposedAction::ShiftDailyBudget { from, to, micros } => {
                    tuning::shift_daily_budget(structure, *from, *to, *micros, &mut violations)
                }
                ProposedAction::ChangeDailyBudget {
                    target,
                    daily_budget_micros,
                } => tuning::set_daily_budget(
                    structure,
                    *target,
                    *daily_budget_micros,
                    &mut violations,
                ),
                ProposedAction::ChangeMaxCpc { max_cpc_micros } => {
                    tuning::change_max_cpc(structure, *max_cpc_micros, &mut violations)
                }
                ProposedAction::AddNegativeKeyword { keyword } => {
                    tuning::add_negative_keyword(structure, keyword, &mut violations)
                }
                ProposedAction::SetAdSchedule { entries } => {
                    tuning::set_ad_schedule(structure, entries, &mut violations)
                }
                _ => structure.clone(),
            };
            if !violations.is_empty() {
                return Err(Rejection::Invalid(violations));
            }
            // The tuned structure must pass every platform rule, like any other.
            let warnings = super::rules::check_structure(state, &tuned, &Guardrails::default())?;
            Ok(vec![CampaignEvent::StructureTuned(StructureTuned {
                structure: tuned,
                warnings,
            })])
        }
    }
}

/// Whether `action` may apply itself today under `guardrails`.
pub(super) fn within_guardrails(
    state: &CampaignState,
    action: &ProposedAction,
    confidence_basis_points: u32,
    guardrails: &Guardrails,
    today: NaiveDate,
) -> bool {
    if !guardrails.auto_apply || confidence_basis_points < guardrails.min_confidence_basis_points {
        return false;
    }
    match action {
        // Pausing only lowers spend.
        ProposedAction::Pause => true,
        ProposedAction::Resume => false,
        // A negative keyword only narrows who sees the ads; a paused creative leaves its budget
        // to the others of its group.
        ProposedAction::AddNegativeKeyword { .. } | ProposedAction::PauseCreative { .. } => true,
        ProposedAction::ShiftDailyBudget { from, micros, .. } => state
            .structure
            .as_ref()
            .and_then(|s| tuning::daily_budget_of(s, *from))
            .is_some_and(|source| within(*micros, source, guardrails)),
        ProposedAction::ChangeDailyBudget {
            target,
            daily_budget_micros,
        } => state
            .structure
            .as_ref()
            .and_then(|s| tuning::daily_budget_of(s, *target))
            .is_some_and(|current| {
                // Lowering spend is always within; raising it within the daily change limit and
                // the tenant's spend rate.
                *daily_budget_micros <= current
                    || (within(*daily_budget_micros - current, current, guardrails)
                        && within_spend_rate(state, *target, *daily_budget_micros, guardrails))
            }),
        // A schedule's modifiers raise bids in some hours: within when no modifier moves a bid
        // further than the daily change limit.
        ProposedAction::SetAdSchedule { entries } => entries.iter().all(|e| {
            within(
                i64::from(e.bid_modifier_basis_points) - 10_000,
                10_000,
                guardrails,
            )
        }),
        ProposedAction::ChangeMaxCpc { max_cpc_micros } => {
            match state.structure.as_ref().and_then(tuning::max_cpc_of) {
                Some(current) if *max_cpc_micros <= current => true,
                Some(current) => within(*max_cpc_micros - current, current, guardrails),
                None => false,
            }
        }
        ProposedAction::ChangeBudget {
            total_budget_micros,
        } => {
            let baseline = match state.budget_day {
                Some((day, baseline)) if day == today => baseline,
                _ => state.total_budget_micros,
            };
            let change = (i128::from(*total_budget_micros) - i128::from(baseline)).abs();
            change * 10_000
                <= i128::from(baseline)
                    * i128::from(guardrails.max_daily_budget_change_basis_points)
        }
    }
}

/// Whether a change of `change` on a base of `base` stays within the daily change limit.
/// Whether the structure would still plan at most the tenant's daily spend with `target` set.
fn within_spend_rate(
    state: &CampaignState,
    target: BudgetTarget,
    daily_budget_micros: i64,
    guardrails: &Guardrails,
) -> bool {
    let Some(cap) = guardrails.max_daily_spend_micros else {
        return true;
    };
    let Some(structure) = &state.structure else {
        return false;
    };
    let mut violations = Violations::new();
    let changed = tuning::set_daily_budget(structure, target, daily_budget_micros, &mut violations);
    let daily = super::rules::planned_spend_micros(&changed, state.start_date, state.start_date);
    violations.is_empty() && daily <= i128::from(cap)
}

/// Whether a budget moved by `change` from `base` stays within the daily change limit.
pub fn within(change: i64, base: i64, guardrails: &Guardrails) -> bool {
    i128::from(change).abs() * 10_000
        <= i128::from(base) * i128::from(guardrails.max_daily_budget_change_basis_points)
}
