//! Budget allocation over response curves (the allocator of "Optimisation, part 2", its pure
//! core): each line (a platform's budget, an ad group's share) has a Hill saturation curve of
//! conversions a day over its daily budget; the total is spread to maximise expected conversions
//! within each line's platform minimum and bounds and the tenant's daily change limit. Marginal
//! allocation in steps: optimal for concave curves (a Hill slope ≤ 1), a good approximation for
//! S-shaped ones. Thompson sampling is the caller's: it passes curves drawn from their posteriors.

use super::{CampaignOutlook, DecisionRules, ExpectedImpact, PlatformOutlook, Recommendation};
use crate::campaign::{BudgetTarget, CampaignStatus, Platform, ProposedAction};
use crate::violation::Violations;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Conversions a day at a daily budget `b`: `max · bⁿ / (bⁿ + halfⁿ)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResponseCurve {
    pub max_conversions: f64,
    /// The budget at which half of `max_conversions` is reached (micros).
    pub half_micros: f64,
    pub slope: f64,
}

impl ResponseCurve {
    pub fn conversions(&self, budget_micros: f64) -> f64 {
        if budget_micros <= 0.0 || self.half_micros <= 0.0 {
            return 0.0;
        }
        let x = (budget_micros / self.half_micros).powf(self.slope);
        self.max_conversions * x / (1.0 + x)
    }
}

/// One budget line and its limits (micros a day).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BudgetLine {
    pub curve: ResponseCurve,
    pub current_micros: i64,
    /// The platform's minimum (or the tenant's floor for the line).
    pub min_micros: i64,
    pub max_micros: i64,
}

/// The lowest and highest budget a line may have today: its bounds, and no further from its
/// current budget than `max_change_basis_points` allow.
fn range(line: &BudgetLine, max_change_basis_points: u32) -> (i64, i64) {
    let change = i128::from(line.current_micros) * i128::from(max_change_basis_points) / 10_000;
    let change = i64::try_from(change).unwrap_or(i64::MAX);
    let low = line
        .min_micros
        .max(line.current_micros.saturating_sub(change));
    let high = line
        .max_micros
        .min(line.current_micros.saturating_add(change));
    (low, high.max(low))
}

/// Spreads `total_micros` a day over `lines` in steps of `step_micros`, by their curves. Refused
/// when the lines' lowest budgets already exceed the total or their highest cannot reach it.
pub fn allocate(
    lines: &[BudgetLine],
    total_micros: i64,
    max_change_basis_points: u32,
    step_micros: i64,
) -> Result<Vec<i64>, Violations> {
    allocate_by(
        lines,
        total_micros,
        max_change_basis_points,
        step_micros,
        |i, budget| lines[i].curve.conversions(budget),
    )
}

/// [`allocate`] by any response (`line index, budget → conversions a day`): a sampled curve, or the
/// truth an oracle knows. The lines' own curves are ignored.
pub fn allocate_by(
    lines: &[BudgetLine],
    total_micros: i64,
    max_change_basis_points: u32,
    step_micros: i64,
    response: impl Fn(usize, f64) -> f64,
) -> Result<Vec<i64>, Violations> {
    let mut violations = Violations::new();
    if lines.is_empty() {
        violations.push("lines", "required", "at least one budget line");
    }
    if step_micros <= 0 {
        violations.push("stepMicros", "not_positive", "must be greater than zero");
    }
    let ranges: Vec<(i64, i64)> = lines
        .iter()
        .map(|l| range(l, max_change_basis_points))
        .collect();
    let lowest: i128 = ranges.iter().map(|r| i128::from(r.0)).sum();
    let highest: i128 = ranges.iter().map(|r| i128::from(r.1)).sum();
    if lowest > i128::from(total_micros) {
        violations.push(
            "totalMicros",
            "below_minimums",
            format!("the lines need at least {lowest} micros a day"),
        );
    }
    if highest < i128::from(total_micros) {
        violations.push(
            "totalMicros",
            "above_limits",
            format!("the lines may take at most {highest} micros a day today"),
        );
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    let mut budgets: Vec<i64> = ranges.iter().map(|r| r.0).collect();
    let mut left = total_micros - budgets.iter().sum::<i64>();
    while left > 0 {
        let step = step_micros.min(left);
        let best = lines
            .iter()
            .zip(&budgets)
            .zip(&ranges)
            .enumerate()
            .filter(|(_, ((_, b), r))| **b < r.1)
            .map(|(i, ((_, b), r))| {
                let give = step.min(r.1 - *b);
                let gain = response(i, (*b + give) as f64) - response(i, *b as f64);
                (i, give, gain / give as f64)
            })
            .max_by(|a, b| a.2.total_cmp(&b.2));
        let Some((i, give, _)) = best else { break };
        budgets[i] += give;
        left -= give;
    }
    Ok(budgets)
}

/// Expected conversions a day of `budgets` on `lines`.
pub fn expected_conversions(lines: &[BudgetLine], budgets: &[i64]) -> f64 {
    lines
        .iter()
        .zip(budgets)
        .map(|(l, b)| l.curve.conversions(*b as f64))
        .sum()
}

/// The platforms' smallest daily budgets (micros of the account currency): LinkedIn refuses a
/// campaign under 10 a day; Google takes any positive budget.
fn platform_minimum(platform: Platform) -> i64 {
    match platform {
        Platform::Linkedin => 10_000_000,
        Platform::Google => 1_000_000,
    }
}

/// One line of a campaign's daily budget as the allocator saw it in a run: the record behind a
/// reallocation, and what GraphQL shows as the campaign's allocation.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AllocationLine {
    pub budget: BudgetTarget,
    pub current_micros: i64,
    pub proposed_micros: i64,
    /// The daily demand the line's spend saturates toward (spend = demand · b / (b + demand)).
    pub demand_micros: i64,
    /// Conversions per million micros of spend over the last week: expected and 90 % interval.
    pub conversions_per_million: f64,
    pub conversions_per_million_low: f64,
    pub conversions_per_million_high: f64,
    /// Conversions a day the curve expects at the current and at the proposed budget.
    pub expected_conversions_current: f64,
    pub expected_conversions_proposed: f64,
}

/// What the allocator made of a campaign's budget lines.
#[derive(Debug, Clone, PartialEq)]
pub struct Reallocation {
    pub lines: Vec<AllocationLine>,
    /// A shift between two lines, when it is worth making.
    pub recommendation: Option<Recommendation>,
}

/// Expected gain (share of today's conversions) below which a reallocation is not proposed.
const MATERIAL_GAIN: f64 = 0.02;
/// z of a one-sided 95 % bound (a 90 % interval).
const Z90: f64 = 1.644_853_6;

/// A line's response from its last week: how far its spend saturates (the one point that week
/// gives: spend `s` on budget `b` under `s = d · b / (b + d)` means demand `d = s · b / (b − s)`;
/// a line that spends its whole budget shows no ceiling, taken as ten times the budget) and what
/// a unit of spend buys (a Gamma posterior over conversions per spend, taken as log-normal).
fn line_response(p: &PlatformOutlook) -> Option<(f64, f64, f64)> {
    if p.recent.days < 1.0 || p.daily_budget_micros <= 0 || p.recent.cost_micros <= 0.0 {
        return None;
    }
    let budget = p.daily_budget_micros as f64;
    let spend = p.recent.cost_micros / p.recent.days;
    let demand = if spend < 0.95 * budget {
        spend * budget / (budget - spend)
    } else {
        10.0 * budget
    };
    let per_spend = (p.recent.conversions + 0.5) / p.recent.cost_micros;
    let log_sd = 1.0 / (p.recent.conversions + 0.5).sqrt();
    Some((demand, per_spend, log_sd))
}

/// Spreads the campaign's daily budget over its lines (Google's budget, each LinkedIn campaign's)
/// by their response, within the platforms' minimums and `rules.reallocation_basis_points` per
/// line and run. `draws` (standard normal, one per line; empty: none) sample each line's
/// efficiency from its posterior — Thompson sampling, so an uncertain line is tried now and then —
/// while the expected figures use the posterior mean. Proposes one shift, from the line that
/// loses most to the one that gains most, when it is expected to add at least 2 %.
pub fn reallocate(
    outlook: &CampaignOutlook,
    rules: &DecisionRules,
    draws: &[f64],
) -> Option<Reallocation> {
    if outlook.status != CampaignStatus::Active || outlook.platforms.len() < 2 {
        return None;
    }
    let responses: Vec<(f64, f64, f64)> = outlook
        .platforms
        .iter()
        .map(line_response)
        .collect::<Option<Vec<_>>>()?;
    let total: i64 = outlook
        .platforms
        .iter()
        .map(|p| p.daily_budget_micros)
        .sum();
    let curve = |(demand, per_spend, _): (f64, f64, f64), shift: f64| ResponseCurve {
        max_conversions: per_spend * shift * demand,
        half_micros: demand,
        slope: 1.0,
    };
    let line = |i: usize, shift: f64| BudgetLine {
        curve: curve(responses[i], shift),
        current_micros: outlook.platforms[i].daily_budget_micros,
        min_micros: platform_minimum(outlook.platforms[i].platform),
        max_micros: total,
    };
    let sampled: Vec<BudgetLine> = (0..responses.len())
        .map(|i| {
            let z = draws.get(i).copied().unwrap_or(0.0);
            line(i, (responses[i].2 * z).exp())
        })
        .collect();
    let step = (total / 500).max(10_000);
    let proposed = allocate(&sampled, total, rules.reallocation_basis_points, step).ok()?;
    let mean: Vec<BudgetLine> = (0..responses.len()).map(|i| line(i, 1.0)).collect();
    let lines: Vec<AllocationLine> = outlook
        .platforms
        .iter()
        .zip(&mean)
        .zip(&proposed)
        .zip(&responses)
        .map(
            |(((p, l), b), (demand, per_spend, log_sd))| AllocationLine {
                budget: p.budget,
                current_micros: p.daily_budget_micros,
                proposed_micros: *b,
                demand_micros: demand.round() as i64,
                conversions_per_million: per_spend * 1e6,
                conversions_per_million_low: per_spend * 1e6 * (-Z90 * log_sd).exp(),
                conversions_per_million_high: per_spend * 1e6 * (Z90 * log_sd).exp(),
                expected_conversions_current: l.curve.conversions(p.daily_budget_micros as f64),
                expected_conversions_proposed: l.curve.conversions(*b as f64),
            },
        )
        .collect();
    let recommendation = shift(&lines, &responses);
    Some(Reallocation {
        lines,
        recommendation,
    })
}

/// The one shift worth proposing, with its expected gain and interval.
fn shift(lines: &[AllocationLine], responses: &[(f64, f64, f64)]) -> Option<Recommendation> {
    let change = |l: &AllocationLine| l.proposed_micros - l.current_micros;
    let (from, loser) = lines.iter().enumerate().min_by_key(|(_, l)| change(l))?;
    let (to, gainer) = lines.iter().enumerate().max_by_key(|(_, l)| change(l))?;
    let micros = change(gainer).min(-change(loser));
    if from == to || micros <= 0 {
        return None;
    }
    // The gain of moving `micros`, each line's efficiency at a quantile `z` of its posterior.
    let gain_at = |z_from: f64, z_to: f64| {
        let at = |i: usize, l: &AllocationLine, budget: i64, z: f64| {
            let (demand, per_spend, log_sd) = responses[i];
            let curve = ResponseCurve {
                max_conversions: per_spend * (log_sd * z).exp() * demand,
                half_micros: demand,
                slope: 1.0,
            };
            curve.conversions(budget as f64) - curve.conversions(l.current_micros as f64)
        };
        at(to, gainer, gainer.current_micros + micros, z_to)
            + at(from, loser, loser.current_micros - micros, z_from)
    };
    let expected = gain_at(0.0, 0.0);
    let today: f64 = lines.iter().map(|l| l.expected_conversions_current).sum();
    if expected < MATERIAL_GAIN * today {
        return None;
    }
    let low = gain_at(Z90, -Z90);
    let high = gain_at(-Z90, Z90);
    let sd = ((high - low) / (2.0 * Z90)).max(1e-9);
    let confidence = super::experiments::normal_cdf(expected / sd);
    Some(Recommendation {
        action: ProposedAction::ShiftDailyBudget {
            from: loser.budget,
            to: gainer.budget,
            micros,
        },
        reason: format!(
            "budget allocation: {} buys {:.2} conversions per 1,000 of spend against {:.2} for {}, \
             whose spend levels off toward {:.0} a day; moving {:.0} a day is expected to add \
             {expected:.2} conversions a day",
            gainer.budget.platform.as_str(),
            gainer.conversions_per_million * 1_000.0,
            loser.conversions_per_million * 1_000.0,
            loser.budget.platform.as_str(),
            loser.demand_micros as f64 / 1e6,
            micros as f64 / 1e6,
        ),
        confidence_basis_points: (confidence.clamp(0.0, 1.0) * 10_000.0).round() as u32,
        impact: ExpectedImpact {
            conversions_per_day: expected,
            conversions_per_day_low: low,
            conversions_per_day_high: high,
            cost_per_day_micros: 0,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(max: f64, half: f64, current: i64) -> BudgetLine {
        BudgetLine {
            curve: ResponseCurve {
                max_conversions: max,
                half_micros: half,
                slope: 1.0,
            },
            current_micros: current,
            min_micros: 10_000_000,
            max_micros: 1_000_000_000,
        }
    }

    #[test]
    fn budget_goes_where_a_unit_buys_more_conversions() {
        // The same 200 a day: a line far from saturation gets more than a saturated one.
        let lines = [
            line(20.0, 50e6, 100_000_000),
            line(20.0, 500e6, 100_000_000),
        ];
        let budgets = allocate(&lines, 200_000_000, 10_000, 1_000_000).unwrap();
        assert_eq!(budgets.iter().sum::<i64>(), 200_000_000);
        assert!(budgets[0] != budgets[1]);
        let even = expected_conversions(&lines, &[100_000_000, 100_000_000]);
        assert!(expected_conversions(&lines, &budgets) > even);
    }

    #[test]
    fn the_daily_change_limit_and_the_minimums_hold() {
        let lines = [line(20.0, 50e6, 100_000_000), line(1.0, 500e6, 100_000_000)];
        // ±20 %: neither line may leave 80..120 today, whatever the curves say.
        let budgets = allocate(&lines, 200_000_000, 2_000, 1_000_000).unwrap();
        assert_eq!(budgets, vec![120_000_000, 80_000_000]);
        let refused = allocate(&lines, 500_000_000, 2_000, 1_000_000).unwrap_err();
        assert!(format!("{refused:?}").contains("above_limits"));
        let refused = allocate(&lines, 10_000_000, 10_000, 1_000_000).unwrap_err();
        assert!(format!("{refused:?}").contains("below_minimums"));
    }

    fn outlook(lines: &[(Platform, i64, f64, f64, f64)]) -> CampaignOutlook {
        CampaignOutlook {
            status: CampaignStatus::Active,
            open_anomalies: 0,
            platforms: lines
                .iter()
                .enumerate()
                .map(
                    |(i, (platform, budget, spend_a_day, conversions, clicks))| PlatformOutlook {
                        platform: *platform,
                        budget: BudgetTarget {
                            platform: *platform,
                            linkedin_campaign: if *platform == Platform::Linkedin {
                                i - 1
                            } else {
                                0
                            },
                        },
                        daily_budget_micros: *budget,
                        max_cpc_micros: None,
                        recent: super::super::Window {
                            days: 7.0,
                            clicks: *clicks,
                            conversions: *conversions,
                            cost_micros: spend_a_day * 7.0,
                        },
                        previous: super::super::Window::default(),
                        conversion_rate: super::super::RateEstimate {
                            probability: 0.05,
                            low: 0.04,
                            high: 0.06,
                        },
                    },
                )
                .collect(),
        }
    }

    fn rules() -> DecisionRules {
        DecisionRules {
            reallocation_basis_points: 1_500,
            ..DecisionRules::default()
        }
    }

    #[test]
    fn budget_moves_from_a_saturated_costly_line_to_one_that_converts_cheaply() {
        // Google spends 60 of 100 (saturating) at 2 conversions per 100; LinkedIn spends its whole
        // 100 at 6 per 100.
        let outlook = outlook(&[
            (Platform::Google, 100_000_000, 60_000_000.0, 8.4, 300.0),
            (Platform::Linkedin, 100_000_000, 99_000_000.0, 41.6, 500.0),
        ]);
        let result = reallocate(&outlook, &rules(), &[]).unwrap();
        let recommendation = result.recommendation.expect("a shift");
        let ProposedAction::ShiftDailyBudget { from, to, micros } = recommendation.action else {
            panic!("{recommendation:?}");
        };
        assert_eq!(from.platform, Platform::Google);
        assert_eq!(to.platform, Platform::Linkedin);
        assert_eq!(micros, 15_000_000, "capped at 15 % of a line");
        assert!(recommendation.impact.conversions_per_day > 0.0);
        assert!(
            recommendation.impact.conversions_per_day_low
                <= recommendation.impact.conversions_per_day
        );
        assert!(recommendation.confidence_basis_points > 5_000);
        let total: i64 = result.lines.iter().map(|l| l.proposed_micros).sum();
        assert_eq!(total, 200_000_000);
        assert!((result.lines[0].demand_micros - 150_000_000).abs() < 1_000);
    }

    #[test]
    fn lines_that_do_alike_are_left_alone_and_a_single_line_is_not_allocated() {
        let alike = outlook(&[
            (Platform::Google, 100_000_000, 99_000_000.0, 28.0, 400.0),
            (Platform::Linkedin, 100_000_000, 99_000_000.0, 28.0, 400.0),
        ]);
        let result = reallocate(&alike, &rules(), &[]).unwrap();
        assert!(
            result.recommendation.is_none(),
            "{:?}",
            result.recommendation
        );
        let single = outlook(&[(Platform::Google, 100_000_000, 60_000_000.0, 8.4, 300.0)]);
        assert!(reallocate(&single, &rules(), &[]).is_none());
    }

    #[test]
    fn linkedin_is_never_cut_below_its_platform_minimum() {
        let outlook = outlook(&[
            (Platform::Google, 100_000_000, 99_000_000.0, 60.0, 500.0),
            (Platform::Linkedin, 11_000_000, 5_000_000.0, 0.0, 20.0),
        ]);
        let rules = DecisionRules {
            reallocation_basis_points: 10_000,
            ..DecisionRules::default()
        };
        let result = reallocate(&outlook, &rules, &[]).unwrap();
        assert!(result.lines[1].proposed_micros >= 10_000_000);
    }

    proptest! {
        /// Whatever the curves, the whole total is spread, every line within its range, and
        /// concave curves never do worse than the lines' current budgets scaled to the total.
        #[test]
        fn an_allocation_spends_the_total_within_every_range(
            curves in proptest::collection::vec((1.0f64..100.0, 1e6f64..1e9, 50_000_000i64..500_000_000), 1..6),
            change in 500u32..10_000,
        ) {
            let lines: Vec<BudgetLine> = curves.iter().map(|(m, h, c)| line(*m, *h, *c)).collect();
            let total: i64 = lines.iter().map(|l| l.current_micros).sum();
            let budgets = allocate(&lines, total, change, 1_000_000).unwrap();
            prop_assert_eq!(budgets.iter().sum::<i64>(), total);
            for (l, b) in lines.iter().zip(&budgets) {
                let (low, high) = range(l, change);
                prop_assert!(*b >= low && *b <= high);
            }
            let current: Vec<i64> = lines.iter().map(|l| l.current_micros).collect();
            prop_assert!(expected_conversions(&lines, &budgets) + 1e-6 >= expected_conversions(&lines, &current) - 0.01);
        }
    }
}
