//! The budget allocator on the market simulator (issue "Optimisation, part 2", first cut): a
//! tenant's daily total over six lines (simulated Google campaigns whose buyers fit differently)
//! for `weeks` weeks, four ways: budgets left as they were, an equal split, ours (a Hill curve per
//! line fitted each day to what the platform reported, bootstrapped, one bootstrap draw per line
//! and day — Thompson sampling — then the domain's marginal allocation), and the oracle allocating
//! on the true expected response computed from the simulator's hidden rates. Every arm moves at
//! most ±20 % a day per line, within the platform minimum.

use adflow_domain::optimisation::allocation::{allocate_by, BudgetLine, ResponseCurve};
use adflow_platforms::simulator::rng::{key_hash, Draws};
use adflow_platforms::simulator::{hour_of_week_factor, GroundTruth, Market, UnitKind};
use chrono::{Duration, TimeZone, Utc};
use serde::Serialize;

const LINES: usize = 6;
const MIN_MICROS: i64 = 10_000_000;
const CHANGE_BASIS_POINTS: u32 = 2_000;
const STEP_MICROS: i64 = 1_000_000;
/// Days of history a fit reads, and how old a day must be for its conversions to count as in.
const FIT_DAYS: i64 = 84;
const SETTLED_DAYS: i64 = 3;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmOutcome {
    pub name: &'static str,
    pub conversions: f64,
    pub spend: f64,
    /// Over the last four weeks.
    pub conversions_late: f64,
    pub spend_late: f64,
    /// Over the last four weeks, the conversions the simulator's true curves expect of the
    /// budgets this arm set: the same comparison without the Poisson noise of what happened.
    pub expected_late: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocationEvaluation {
    pub seed: u64,
    pub weeks: i64,
    pub arms: Vec<ArmOutcome>,
}

#[derive(Clone, Copy, PartialEq)]
enum Policy {
    Unchanged,
    Equal,
    /// `two_stage`: saturation from spend and efficiency from conversions; otherwise one Hill
    /// curve fitted to conversions (the first cut, kept as a second baseline).
    Ours {
        two_stage: bool,
    },
    Oracle,
}

fn market(seed: u64, start: chrono::DateTime<Utc>) -> (Market, Vec<i64>) {
    let mut market = Market::new(seed);
    let mut draws = Draws::new(key_hash(seed, "allocation-eval"), 0, 0);
    let mut budgets = Vec::new();
    for line in 0..LINES {
        let key = format!("line{line}");
        let budget = ((40.0 + 160.0 * draws.uniform()) * 1e6) as i64;
        market.add_campaign(&key, start, budget, true);
        let fit = 0.3 + 2.2 * draws.uniform();
        let reach = 1 + (draws.uniform() * 3.0) as usize;
        for k in 0..8 * reach {
            market.add_unit(
                &format!("{key}/kw{k}"),
                &key,
                UnitKind::Keyword {
                    match_type: (k % 3) as u8,
                },
                &format!("Line {line} ad {}", k % 3),
                fit,
                start,
            );
        }
        budgets.push(budget);
    }
    (market, budgets)
}

/// Expected conversions a day of `line` at a daily budget, from the hidden rates (noise-free).
fn true_response(truth: &GroundTruth, line: usize, budget_micros: f64) -> f64 {
    let key = format!("line{line}");
    let units: Vec<_> = truth.units.iter().filter(|u| u.campaign == key).collect();
    let mean: f64 = (0..168).map(hour_of_week_factor).sum::<f64>() / 168.0;
    let mut conversions = 0.0;
    for hour in 0..168 {
        let f = hour_of_week_factor(hour);
        let e = truth.engagement_at(&key, hour);
        let demand: f64 = units
            .iter()
            .map(|u| u.truth.peak_impressions * f * u.truth.ctr * e * u.truth.cpc_micros)
            .sum();
        let budget = budget_micros / 24.0 * f / mean;
        let share = if demand > 0.0 {
            budget / (budget + demand)
        } else {
            0.0
        };
        conversions += units
            .iter()
            .map(|u| {
                u.truth.peak_impressions * f * share * u.truth.ctr * e * u.truth.cvr.min(1.0) * e
            })
            .sum::<f64>();
    }
    conversions / 7.0
}

/// The response in two stages, each from the evidence that measures it best: the spend a budget
/// buys (`spend = most · b / (b + half)`, fitted on spend, which carries little noise) and the
/// conversions a unit of spend buys (their ratio over the days, a count with Poisson noise). The
/// saturation is then known within days; only the efficiency waits on conversions.
fn fit_two_stage(points: &[(f64, f64, f64)]) -> ResponseCurve {
    let spend: Vec<(f64, f64)> = points.iter().map(|(b, s, _)| (*b, *s)).collect();
    let curve = fit(&spend);
    let total_spend: f64 = points.iter().map(|(_, s, _)| s).sum();
    let total_conversions: f64 = points.iter().map(|(_, _, c)| c).sum();
    let per_spend = if total_spend > 0.0 {
        total_conversions / total_spend
    } else {
        0.0
    };
    ResponseCurve {
        max_conversions: curve.max_conversions * per_spend,
        ..curve
    }
}

/// Least squares of `y = max · b / (b + half)` over a grid of `half`.
fn fit(points: &[(f64, f64)]) -> ResponseCurve {
    let mut best = (
        f64::INFINITY,
        ResponseCurve {
            max_conversions: 0.0,
            half_micros: 1e8,
            slope: 1.0,
        },
    );
    for i in 0..28 {
        let half = 5e6 * 1.35f64.powi(i);
        let g: Vec<f64> = points.iter().map(|(b, _)| b / (b + half)).collect();
        let gg: f64 = g.iter().map(|x| x * x).sum();
        if gg <= 0.0 {
            continue;
        }
        let max = points.iter().zip(&g).map(|((_, y), x)| y * x).sum::<f64>() / gg;
        let sse: f64 = points
            .iter()
            .zip(&g)
            .map(|((_, y), x)| (y - max * x).powi(2))
            .sum();
        if sse < best.0 {
            best = (
                sse,
                ResponseCurve {
                    max_conversions: max.max(0.0),
                    half_micros: half,
                    slope: 1.0,
                },
            );
        }
    }
    best.1
}

fn run(seed: u64, weeks: i64, policy: Policy) -> ArmOutcome {
    let start = Utc
        .with_ymd_and_hms(2026, 4, 6, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let start_hour = start.timestamp() / 3600;
    let (mut market, initial) = market(seed, start);
    let truth = market.ground_truth();
    let total: i64 = initial.iter().sum();
    let mut budgets = initial.clone();
    let mut history: Vec<Vec<i64>> = Vec::new();
    let days = weeks * 7;
    for day in 0..days {
        let lines: Vec<BudgetLine> = budgets
            .iter()
            .map(|b| BudgetLine {
                curve: ResponseCurve {
                    max_conversions: 0.0,
                    half_micros: 1.0,
                    slope: 1.0,
                },
                current_micros: *b,
                min_micros: MIN_MICROS,
                max_micros: total,
            })
            .collect();
        let next = match policy {
            Policy::Unchanged => None,
            // Toward the even share, as fast as the change limit allows.
            Policy::Equal => {
                let even = (total / LINES as i64) as f64;
                allocate_by(&lines, total, CHANGE_BASIS_POINTS, STEP_MICROS, |_, b| {
                    -(b - even).abs()
                })
                .ok()
            }
            Policy::Oracle => {
                allocate_by(&lines, total, CHANGE_BASIS_POINTS, STEP_MICROS, |i, b| {
                    true_response(&truth, i, b)
                })
                .ok()
            }
            Policy::Ours { two_stage } if day >= 7 => {
                let mut draws = Draws::new(key_hash(seed, "thompson"), day, 0);
                let from = (day - FIT_DAYS).max(0);
                let curves: Vec<ResponseCurve> = (0..LINES)
                    .map(|line| {
                        let figures = market.campaign_days(
                            &format!("line{line}"),
                            start_hour,
                            from,
                            day - SETTLED_DAYS,
                            start_hour + day * 24,
                        );
                        // (budget, spend, conversions) of each settled day.
                        let points: Vec<(f64, f64, f64)> = figures
                            .iter()
                            .enumerate()
                            .map(|(d, f)| {
                                (
                                    history[from as usize + d][line] as f64,
                                    f.cost_micros as f64,
                                    f.conversions as f64,
                                )
                            })
                            .collect();
                        // One bootstrap resample per line and day: a draw from the curve's
                        // uncertainty (Thompson sampling).
                        let resample: Vec<(f64, f64, f64)> = (0..points.len())
                            .map(|_| {
                                points[((draws.uniform() * points.len() as f64) as usize)
                                    .min(points.len().saturating_sub(1))]
                            })
                            .collect();
                        if two_stage {
                            fit_two_stage(&resample)
                        } else {
                            let budget_conversions: Vec<(f64, f64)> =
                                resample.iter().map(|(b, _, c)| (*b, *c)).collect();
                            fit(&budget_conversions)
                        }
                    })
                    .collect();
                allocate_by(&lines, total, CHANGE_BASIS_POINTS, STEP_MICROS, |i, b| {
                    curves[i].conversions(b)
                })
                .ok()
            }
            Policy::Ours { .. } => None,
        };
        if let Some(next) = next {
            budgets = next;
        }
        for (line, budget) in budgets.iter().enumerate() {
            if let Some(sim) = market.campaign_mut(&format!("line{line}")) {
                sim.daily_budget_micros
                    .set(start + Duration::days(day), *budget);
            }
        }
        history.push(budgets.clone());
    }
    let mut outcome = ArmOutcome {
        name: match policy {
            Policy::Unchanged => "budgets left as they were",
            Policy::Equal => "equal split",
            Policy::Ours { two_stage: false } => "Hill on conversions + Thompson",
            Policy::Ours { two_stage: true } => "ours (spend Hill × efficiency)",
            Policy::Oracle => "oracle (true curves)",
        },
        conversions: 0.0,
        spend: 0.0,
        conversions_late: 0.0,
        spend_late: 0.0,
        expected_late: history
            .iter()
            .skip((days - 28).max(0) as usize)
            .map(|budgets| {
                budgets
                    .iter()
                    .enumerate()
                    .map(|(line, b)| true_response(&truth, line, *b as f64))
                    .sum::<f64>()
            })
            .sum(),
    };
    for line in 0..LINES {
        for (d, f) in market
            .campaign_days(
                &format!("line{line}"),
                start_hour,
                0,
                days,
                start_hour + (days + SETTLED_DAYS) * 24,
            )
            .iter()
            .enumerate()
        {
            let (c, s) = (f.conversions as f64, f.cost_micros as f64 / 1e6);
            outcome.conversions += c;
            outcome.spend += s;
            if d as i64 >= days - 28 {
                outcome.conversions_late += c;
                outcome.spend_late += s;
            }
        }
    }
    outcome
}

pub fn evaluate(seed: u64, weeks: i64) -> AllocationEvaluation {
    AllocationEvaluation {
        seed,
        weeks,
        arms: [
            Policy::Unchanged,
            Policy::Equal,
            Policy::Ours { two_stage: false },
            Policy::Ours { two_stage: true },
            Policy::Oracle,
        ]
        .into_iter()
        .map(|p| run(seed, weeks, p))
        .collect(),
    }
}
