//! The decision engine: the optimisation rules, explicit and configurable per tenant, turning what
//! the predictor expects of a campaign into proposals — pause, resume, a daily budget up or down,
//! budget moved between platforms, a lower bid — each with its reason, its confidence and the
//! expected impact with an interval. Pure: the caller gathers the outlook (history, predictions,
//! open anomalies) and sends the proposals through the campaign's own proposal and guardrail flow.
//!
//! The performance score of a campaign (or platform) is the probability that its true cost per
//! conversion beats the target: the conversion rate's estimate is logit-normal with its 90 %
//! interval, and the cost per click is what the platforms reported.

pub mod ad_schedule;
pub mod allocation;
pub mod experiments;
pub mod hour_of_week;
pub mod runs;
pub mod search_terms;

use crate::campaign::{BudgetTarget, CampaignStatus, Platform, ProposedAction};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The tenant's decision rules (the seeds' defaults: score below 0.3 pauses, above 0.8 scales).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRules {
    /// A campaign scoring below this (basis points of probability) is proposed for a pause.
    pub pause_below_basis_points: u32,
    /// A budget-limited campaign scoring above this is proposed a higher daily budget.
    pub scale_above_basis_points: u32,
    /// How much a scale step raises (or a cut lowers) a daily budget (2,000 = 20 %).
    pub budget_step_basis_points: u32,
    /// Clicks in the window before a campaign or platform is judged at all.
    pub min_clicks: u32,
    /// A fall of conversions per unit of spend, week over week, that counts as a declining trend
    /// (2,000 = 20 %): budget moves to the platform doing better.
    pub decline_basis_points: u32,
    /// Share of a platform's daily budget one reallocation moves (1,500 = 15 %).
    pub reallocation_basis_points: u32,
    /// The cost per conversion aimed at; `None`: the campaign's own over the window (then only
    /// relative rules apply: scaling and reallocation, never a pause).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_cost_per_conversion_micros: Option<i64>,
    /// Which kinds of proposal may apply themselves (still only within the guardrails).
    #[serde(default)]
    pub self_applying: SelfApplying,
}

/// The kinds of proposal that may apply themselves without a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SelfApplying {
    pub pause: bool,
    pub resume: bool,
    pub daily_budget: bool,
    pub budget_shift: bool,
    pub bid: bool,
}

impl Default for SelfApplying {
    fn default() -> Self {
        Self {
            pause: true,
            resume: false,
            daily_budget: true,
            budget_shift: true,
            bid: true,
        }
    }
}

impl SelfApplying {
    pub fn allows(&self, action: &ProposedAction) -> bool {
        match action {
            ProposedAction::Pause | ProposedAction::PauseCreative { .. } => self.pause,
            ProposedAction::Resume => self.resume,
            ProposedAction::ChangeDailyBudget { .. } | ProposedAction::ChangeBudget { .. } => {
                self.daily_budget
            }
            ProposedAction::ShiftDailyBudget { .. } => self.budget_shift,
            ProposedAction::ChangeMaxCpc { .. }
            | ProposedAction::AddNegativeKeyword { .. }
            | ProposedAction::SetAdSchedule { .. } => self.bid,
        }
    }
}

impl DecisionRules {
    pub fn check(&self, violations: &mut crate::violation::Violations) {
        for (path, value) in [
            ("pauseBelowBasisPoints", self.pause_below_basis_points),
            ("scaleAboveBasisPoints", self.scale_above_basis_points),
            ("budgetStepBasisPoints", self.budget_step_basis_points),
            ("declineBasisPoints", self.decline_basis_points),
            ("reallocationBasisPoints", self.reallocation_basis_points),
        ] {
            if value > 10_000 {
                violations.push(path, "too_large", "at most 10000");
            }
        }
        if self.pause_below_basis_points >= self.scale_above_basis_points {
            violations.push(
                "pauseBelowBasisPoints",
                "not_below_scale",
                "must be below scaleAboveBasisPoints",
            );
        }
        if self.budget_step_basis_points == 0 || self.budget_step_basis_points >= 10_000 {
            violations.push(
                "budgetStepBasisPoints",
                "out_of_range",
                "between 1 and 9999",
            );
        }
        if self
            .target_cost_per_conversion_micros
            .is_some_and(|t| t <= 0)
        {
            violations.push(
                "targetCostPerConversionMicros",
                "not_positive",
                "must be greater than zero",
            );
        }
    }

    /// The guardrails a proposal of `action` is judged by: the tenant's, with automatic
    /// application off for the kinds these rules keep for a person.
    pub fn guardrails_for(
        &self,
        action: &ProposedAction,
        guardrails: &crate::campaign::Guardrails,
    ) -> crate::campaign::Guardrails {
        let mut judged = *guardrails;
        judged.auto_apply = guardrails.auto_apply && self.self_applying.allows(action);
        judged
    }
}

impl Default for DecisionRules {
    fn default() -> Self {
        Self {
            pause_below_basis_points: 3_000,
            scale_above_basis_points: 8_000,
            budget_step_basis_points: 2_000,
            min_clicks: 100,
            decline_basis_points: 2_000,
            reallocation_basis_points: 1_500,
            target_cost_per_conversion_micros: None,
            self_applying: SelfApplying::default(),
        }
    }
}

/// A rate's estimate: probability and 90 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RateEstimate {
    pub probability: f64,
    pub low: f64,
    pub high: f64,
}

/// Figures over a stretch of days (money in micros of the account currency).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub days: f64,
    pub clicks: f64,
    pub conversions: f64,
    pub cost_micros: f64,
}

/// What the engine knows of one platform of the campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformOutlook {
    pub platform: Platform,
    /// Where its daily budget lives and how large it is.
    pub budget: BudgetTarget,
    pub daily_budget_micros: i64,
    /// The manual CPC bid (Google), if it bids that way.
    pub max_cpc_micros: Option<i64>,
    /// The last 7 days and the 7 before them.
    pub recent: Window,
    pub previous: Window,
    /// The predicted conversion rate per click, with its interval.
    pub conversion_rate: RateEstimate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignOutlook {
    pub status: CampaignStatus,
    pub platforms: Vec<PlatformOutlook>,
    /// Anomaly episodes still open (conversions or spend data may be wrong).
    pub open_anomalies: usize,
}

/// A change's expected effect on conversions per day, with a 90 % interval, and on spend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExpectedImpact {
    pub conversions_per_day: f64,
    pub conversions_per_day_low: f64,
    pub conversions_per_day_high: f64,
    pub cost_per_day_micros: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    pub action: ProposedAction,
    pub reason: String,
    /// 0 to 10,000.
    pub confidence_basis_points: u32,
    pub impact: ExpectedImpact,
}

const Z90: f64 = 1.644_853_6;
/// Spending this share of its daily budget, a line counts as limited by it: delivery saturates, so
/// a line with more demand than budget spends most of it but never all.
pub const BUDGET_LIMITED_SHARE: f64 = 0.75;

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-9, 1.0 - 1e-9);
    (p / (1.0 - p)).ln()
}

/// The standard normal CDF (Abramowitz–Stegun 7.1.26 through erf; error below 1.5e-7).
fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// P(true conversion rate > `threshold`) under the logit-normal reading of `estimate`.
pub fn probability_above(estimate: &RateEstimate, threshold: f64) -> f64 {
    let spread = (logit(estimate.high) - logit(estimate.low)) / (2.0 * Z90);
    if spread <= 1e-12 {
        return if estimate.probability > threshold {
            1.0
        } else {
            0.0
        };
    }
    normal_cdf((logit(estimate.probability) - logit(threshold)) / spread)
}

/// The performance score: the probability that the cost per conversion beats `target`
/// (conversion rate above cost per click ÷ target).
pub fn performance_score(outlook: &PlatformOutlook, target_micros: f64) -> Option<f64> {
    let w = &outlook.recent;
    if w.clicks <= 0.0 || target_micros <= 0.0 {
        return None;
    }
    let cpc = w.cost_micros / w.clicks;
    Some(probability_above(
        &outlook.conversion_rate,
        cpc / target_micros,
    ))
}

fn bp(p: f64) -> u32 {
    (p.clamp(0.0, 1.0) * 10_000.0).round() as u32
}

fn share(value: i64, basis_points: u32) -> i64 {
    (i128::from(value) * i128::from(basis_points) / 10_000) as i64
}

/// Conversions a day more (or fewer) if `clicks_per_day` more clicks convert at `rate`.
fn conversions_impact(
    clicks_per_day: f64,
    rate: &RateEstimate,
    cost_per_day: f64,
) -> ExpectedImpact {
    let (a, b) = (clicks_per_day * rate.low, clicks_per_day * rate.high);
    ExpectedImpact {
        conversions_per_day: clicks_per_day * rate.probability,
        conversions_per_day_low: a.min(b),
        conversions_per_day_high: a.max(b),
        cost_per_day_micros: cost_per_day.round() as i64,
    }
}

/// What the rules propose for one campaign. Empty: nothing to change.
pub fn recommend(outlook: &CampaignOutlook, rules: &DecisionRules) -> Vec<Recommendation> {
    let judged: Vec<&PlatformOutlook> = outlook
        .platforms
        .iter()
        .filter(|p| p.recent.clicks >= f64::from(rules.min_clicks))
        .collect();
    if judged.is_empty()
        || !matches!(
            outlook.status,
            CampaignStatus::Active | CampaignStatus::Paused
        )
    {
        return Vec::new();
    }
    let total = judged.iter().fold(Window::default(), |mut acc, p| {
        acc.days = acc.days.max(p.recent.days);
        acc.clicks += p.recent.clicks;
        acc.conversions += p.recent.conversions;
        acc.cost_micros += p.recent.cost_micros;
        acc
    });
    let own_cost_per_conversion = total.cost_micros / total.conversions.max(1.0);
    let target = rules
        .target_cost_per_conversion_micros
        .map(|t| t as f64)
        .unwrap_or(own_cost_per_conversion);
    let scored: Vec<(&PlatformOutlook, f64)> = judged
        .iter()
        .filter_map(|p| performance_score(p, target).map(|s| (*p, s)))
        .collect();
    let days = total.days.max(1.0);
    // The campaign's score: each platform's, weighted by its clicks.
    let clicks: f64 = scored.iter().map(|(p, _)| p.recent.clicks).sum();
    let score = scored.iter().map(|(p, s)| s * p.recent.clicks).sum::<f64>() / clicks.max(1.0);
    let pause_below = f64::from(rules.pause_below_basis_points) / 10_000.0;
    let scale_above = f64::from(rules.scale_above_basis_points) / 10_000.0;
    let mut out = Vec::new();

    if outlook.status == CampaignStatus::Paused {
        // A paused campaign whose history says it beats the target comes back.
        if score > scale_above && rules.target_cost_per_conversion_micros.is_some() {
            let clicks_per_day = total.clicks / days;
            let rate = aggregate_rate(&scored);
            out.push(Recommendation {
                action: ProposedAction::Resume,
                reason: format!(
                    "performance score {score:.2} above {scale_above:.2}: its cost per conversion likely beats the target"
                ),
                confidence_basis_points: bp(score),
                impact: conversions_impact(clicks_per_day, &rate, total.cost_micros / days),
            });
        }
        return out;
    }

    if rules.target_cost_per_conversion_micros.is_some() && score < pause_below {
        let rate = aggregate_rate(&scored);
        let mut impact = conversions_impact(total.clicks / days, &rate, total.cost_micros / days);
        impact = negate(impact);
        out.push(Recommendation {
            action: ProposedAction::Pause,
            reason: format!(
                "performance score {score:.2} below {pause_below:.2}: the cost per conversion ({:.2}) likely misses the target ({:.2})",
                own_cost_per_conversion / 1e6,
                target / 1e6
            ),
            confidence_basis_points: bp(1.0 - score),
            impact,
        });
        return out;
    }

    for (platform, platform_score) in &scored {
        let spent_per_day = platform.recent.cost_micros / platform.recent.days.max(1.0);
        let limited = spent_per_day >= BUDGET_LIMITED_SHARE * platform.daily_budget_micros as f64;
        let cpc = platform.recent.cost_micros / platform.recent.clicks.max(1.0);
        // An anomaly may mean the figures are wrong: no budget goes up on them.
        if *platform_score > scale_above && limited && outlook.open_anomalies == 0 {
            let raised = platform.daily_budget_micros
                + share(platform.daily_budget_micros, rules.budget_step_basis_points);
            let more_spend = (raised - platform.daily_budget_micros) as f64;
            out.push(Recommendation {
                action: ProposedAction::ChangeDailyBudget {
                    target: platform.budget,
                    daily_budget_micros: raised,
                },
                reason: format!(
                    "{} scores {platform_score:.2} (above {scale_above:.2}) and spends its whole daily budget: raise it by {} %",
                    platform.platform.as_str(),
                    rules.budget_step_basis_points / 100
                ),
                confidence_basis_points: bp(*platform_score),
                impact: conversions_impact(more_spend / cpc, &platform.conversion_rate, more_spend),
            });
        } else if *platform_score < pause_below {
            if let Some(bid) = platform.max_cpc_micros {
                let lowered = bid - share(bid, rules.budget_step_basis_points);
                out.push(Recommendation {
                    action: ProposedAction::ChangeMaxCpc {
                        max_cpc_micros: lowered,
                    },
                    reason: format!(
                        "{} scores {platform_score:.2} (below {pause_below:.2}): bid {} % lower to bring the cost per click down",
                        platform.platform.as_str(),
                        rules.budget_step_basis_points / 100
                    ),
                    confidence_basis_points: bp(1.0 - platform_score),
                    impact: ExpectedImpact {
                        conversions_per_day: 0.0,
                        conversions_per_day_low: -(platform.recent.conversions / platform.recent.days.max(1.0))
                            * f64::from(rules.budget_step_basis_points)
                            / 10_000.0,
                        conversions_per_day_high: 0.0,
                        cost_per_day_micros: -(spent_per_day
                            * f64::from(rules.budget_step_basis_points)
                            / 10_000.0)
                            .round() as i64,
                    },
                });
            }
        }
    }

    if let Some(shift) = reallocation(&scored, rules) {
        out.push(shift);
    }
    out
}

fn negate(impact: ExpectedImpact) -> ExpectedImpact {
    ExpectedImpact {
        conversions_per_day: -impact.conversions_per_day,
        conversions_per_day_low: -impact.conversions_per_day_high,
        conversions_per_day_high: -impact.conversions_per_day_low,
        cost_per_day_micros: -impact.cost_per_day_micros,
    }
}

/// The clicks-weighted conversion rate of the platforms.
fn aggregate_rate(scored: &[(&PlatformOutlook, f64)]) -> RateEstimate {
    let clicks: f64 = scored
        .iter()
        .map(|(p, _)| p.recent.clicks)
        .sum::<f64>()
        .max(1.0);
    let mean = |f: fn(&RateEstimate) -> f64| {
        scored
            .iter()
            .map(|(p, _)| f(&p.conversion_rate) * p.recent.clicks)
            .sum::<f64>()
            / clicks
    };
    RateEstimate {
        probability: mean(|r| r.probability),
        low: mean(|r| r.low),
        high: mean(|r| r.high),
    }
}

fn conversions_per_cost(w: &Window) -> Option<f64> {
    (w.cost_micros > 0.0).then(|| w.conversions / w.cost_micros)
}

/// A declining platform next to a better one: part of its daily budget moves over.
fn reallocation(
    scored: &[(&PlatformOutlook, f64)],
    rules: &DecisionRules,
) -> Option<Recommendation> {
    let decline = f64::from(rules.decline_basis_points) / 10_000.0;
    let declining = scored.iter().find(|(p, _)| {
        match (
            conversions_per_cost(&p.recent),
            conversions_per_cost(&p.previous),
        ) {
            (Some(now), Some(before)) => before > 0.0 && now < before * (1.0 - decline),
            _ => false,
        }
    })?;
    let better = scored
        .iter()
        .filter(|(p, _)| p.platform != declining.0.platform)
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    if better.1 <= declining.1 {
        return None;
    }
    let from = declining.0;
    let to = better.0;
    let micros = share(from.daily_budget_micros, rules.reallocation_basis_points);
    if micros <= 0 {
        return None;
    }
    let cpc = |p: &PlatformOutlook| p.recent.cost_micros / p.recent.clicks.max(1.0);
    let gained = micros as f64 / cpc(to);
    let lost = micros as f64 / cpc(from);
    let expected =
        gained * to.conversion_rate.probability - lost * from.conversion_rate.probability;
    let low = gained * to.conversion_rate.low - lost * from.conversion_rate.high;
    let high = gained * to.conversion_rate.high - lost * from.conversion_rate.low;
    Some(Recommendation {
        action: ProposedAction::ShiftDailyBudget {
            from: from.budget,
            to: to.budget,
            micros,
        },
        reason: format!(
            "{}'s conversions per unit of spend fell more than {} % week over week; {} scores higher ({:.2} against {:.2})",
            from.platform.as_str(),
            rules.decline_basis_points / 100,
            to.platform.as_str(),
            better.1,
            declining.1
        ),
        confidence_basis_points: bp(better.1 - declining.1 + 0.5),
        impact: ExpectedImpact {
            conversions_per_day: expected,
            conversions_per_day_low: low,
            conversions_per_day_high: high,
            cost_per_day_micros: 0,
        },
    })
}

#[cfg(test)]
mod tests;
