//! The optimiser in a closed loop on the market simulator: a tenant's campaigns run four weeks
//! twice from the same seed — once left alone, once with the decision rules acting every day from
//! the second week on what the platform reports (conversion rates estimated from the counts, as
//! the worker does before a model is trained), changes applied only within the guardrails. The
//! guardrails are checked again independently of the code that applied them.

use crate::prediction::{estimate, Evidence};
use adflow_domain::campaign::{
    within_daily_change, BudgetTarget, CampaignStatus, Guardrails, Platform, ProposedAction,
};
use adflow_domain::optimisation::{
    recommend, CampaignOutlook, DecisionRules, PlatformOutlook, RateEstimate, Window,
};
use adflow_platforms::simulator::rng::{key_hash, Draws};
use adflow_platforms::simulator::{Figures, Market, UnitKind};
use chrono::{Duration, TimeZone, Utc};
use serde::Serialize;

const DAYS: i64 = 28;
const FIRST_DECISION_DAY: i64 = 7;

#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmResult {
    pub conversions: f64,
    pub spend: f64,
    pub cost_per_conversion: f64,
    /// Over the days the optimiser could act (from day 8).
    pub conversions_after: f64,
    pub spend_after: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoopEvaluation {
    pub seed: u64,
    pub campaigns: usize,
    pub nothing: ArmResult,
    /// Left alone, every budget cut evenly to spend what the optimised arm spent.
    pub equal_spend: ArmResult,
    pub optimised: ArmResult,
    pub applied: usize,
    pub held_back: usize,
    pub by_action: std::collections::BTreeMap<String, usize>,
    /// Applied changes found outside the guardrails by the independent check (must be 0).
    pub guardrail_violations: usize,
}

struct Line {
    key: String,
    budget: i64,
    budget_at_day_start: i64,
    active: bool,
    max_cpc: Option<i64>,
}

fn window(days: &[Figures]) -> Window {
    days.iter().fold(
        Window {
            days: days.len() as f64,
            ..Window::default()
        },
        |mut w, f| {
            w.clicks += f.clicks as f64;
            w.conversions += f.conversions as f64;
            w.cost_micros += f.cost_micros as f64;
            w
        },
    )
}

/// One arm: every budget scaled by `budget_scale` from day 8 (the plain way to spend less), and
/// the rules acting when `optimise`.
fn simulate(
    seed: u64,
    campaigns: usize,
    optimise: bool,
    budget_scale: f64,
    rules: &DecisionRules,
    guardrails: &Guardrails,
) -> (ArmResult, LoopEvaluation) {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let start_hour = start.timestamp() / 3600;
    let mut market = Market::new(seed);
    let mut draws = Draws::new(key_hash(seed, "closed-loop"), 0, 0);
    let mut lines = Vec::new();
    for c in 0..campaigns {
        let key = format!("loop{c}");
        let budget = ((80.0 + 320.0 * draws.uniform()) * 1e6) as i64;
        market.add_campaign(&key, start, budget, true);
        // Campaigns differ in how well their targeting fits the buyers.
        let fit = 0.4 + 1.6 * draws.uniform();
        for k in 0..12 {
            market.add_unit(
                &format!("{key}/kw{k}"),
                &key,
                UnitKind::Keyword {
                    match_type: (k % 3) as u8,
                },
                &format!("Offer {c} {}", k % 4),
                fit,
                start,
            );
        }
        lines.push(Line {
            key,
            budget,
            budget_at_day_start: budget,
            active: true,
            max_cpc: None,
        });
    }
    let mut report = LoopEvaluation {
        seed,
        campaigns,
        nothing: ArmResult::default(),
        equal_spend: ArmResult::default(),
        optimised: ArmResult::default(),
        applied: 0,
        held_back: 0,
        by_action: Default::default(),
        guardrail_violations: 0,
    };
    let mut arm = ArmResult::default();
    for line in &lines {
        if let Some(sim) = market.campaign_mut(&line.key) {
            let scaled = (line.budget as f64 * budget_scale) as i64;
            sim.daily_budget_micros
                .set(start + Duration::days(FIRST_DECISION_DAY), scaled);
        }
    }
    let mut first_week: Option<Window> = None;
    for day in 0..DAYS {
        if optimise && day >= FIRST_DECISION_DAY {
            // The tenant's target: a fifth above the cost per conversion of all its campaigns in
            // the first week (what it accepts; the average itself would pause half of them).
            let seen: Vec<Vec<Figures>> = lines
                .iter()
                .map(|line| {
                    market.campaign_days(
                        &line.key,
                        start_hour,
                        (day - 14).max(0),
                        day,
                        start_hour + day * 24,
                    )
                })
                .collect();
            // Read once, on the first day the rules act: the first week as known then.
            let pooled = *first_week.get_or_insert_with(|| {
                let days: Vec<Figures> = lines
                    .iter()
                    .flat_map(|line| {
                        market.campaign_days(&line.key, start_hour, 0, 7, start_hour + 7 * 24)
                    })
                    .collect();
                window(&days)
            });
            let target = (1.2 * pooled.cost_micros / pooled.conversions.max(1.0)) as i64;
            let rules = DecisionRules {
                target_cost_per_conversion_micros: Some(target),
                ..*rules
            };
            let pooled_rate = (pooled.conversions + 0.5) / (pooled.clicks + 1.0);
            for (i, line) in lines.iter_mut().enumerate() {
                line.budget_at_day_start = line.budget;
                let h = &seen[i];
                let n = h.len();
                let recent = window(&h[n.saturating_sub(7)..]);
                let previous = window(&h[n.saturating_sub(14)..n.saturating_sub(7)]);
                let p = (recent.conversions + 200.0 * pooled_rate) / (recent.clicks + 200.0);
                let e = estimate(
                    p,
                    recent.clicks,
                    Evidence {
                        prior: 200.0,
                        weight: 1.0,
                    },
                );
                let outlook = CampaignOutlook {
                    status: if line.active {
                        CampaignStatus::Active
                    } else {
                        CampaignStatus::Paused
                    },
                    platforms: vec![PlatformOutlook {
                        platform: Platform::Google,
                        budget: BudgetTarget {
                            platform: Platform::Google,
                            linkedin_campaign: 0,
                        },
                        daily_budget_micros: line.budget,
                        max_cpc_micros: line.max_cpc,
                        recent,
                        previous,
                        conversion_rate: RateEstimate {
                            probability: e.probability,
                            low: e.low,
                            high: e.high,
                        },
                    }],
                    open_anomalies: 0,
                };
                for r in recommend(&outlook, &rules) {
                    let allowed = rules.guardrails_for(&r.action, guardrails);
                    let confident = allowed.auto_apply
                        && r.confidence_basis_points >= allowed.min_confidence_basis_points;
                    let kind = serde_json::to_value(&r.action)
                        .ok()
                        .and_then(|v| v["kind"].as_str().map(str::to_owned))
                        .unwrap_or_default();
                    let applied = confident
                        && match &r.action {
                            ProposedAction::Pause => {
                                line.active = false;
                                true
                            }
                            ProposedAction::Resume => {
                                line.active = true;
                                true
                            }
                            ProposedAction::ChangeDailyBudget {
                                daily_budget_micros,
                                ..
                            } => {
                                let change = daily_budget_micros - line.budget_at_day_start;
                                if *daily_budget_micros <= line.budget
                                    || within_daily_change(
                                        change,
                                        line.budget_at_day_start,
                                        &allowed,
                                    )
                                {
                                    line.budget = *daily_budget_micros;
                                    true
                                } else {
                                    false
                                }
                            }
                            ProposedAction::ChangeMaxCpc { max_cpc_micros } => {
                                line.max_cpc = Some(*max_cpc_micros);
                                true
                            }
                            _ => false,
                        };
                    if applied {
                        report.applied += 1;
                        *report.by_action.entry(kind).or_default() += 1;
                        // The independent check: never more than the limit above the day's start.
                        let limit = line.budget_at_day_start as f64
                            * (1.0
                                + f64::from(guardrails.max_daily_budget_change_basis_points)
                                    / 10_000.0);
                        if line.budget as f64 > limit + 1.0 {
                            report.guardrail_violations += 1;
                        }
                    } else {
                        report.held_back += 1;
                    }
                }
                let at = start + Duration::days(day);
                if let Some(sim) = market.campaign_mut(&line.key) {
                    sim.daily_budget_micros.set(at, line.budget);
                    sim.active.set(at, line.active);
                    sim.max_cpc_micros.set(at, line.max_cpc);
                }
            }
        }
        for line in &lines {
            // Scored as finally reported: three days on, late conversions are in.
            let f = market.campaign_days(
                &line.key,
                start_hour,
                day,
                day + 1,
                start_hour + (day + 4) * 24,
            )[0];
            arm.conversions += f.conversions as f64;
            arm.spend += f.cost_micros as f64 / 1e6;
            if day >= FIRST_DECISION_DAY {
                arm.conversions_after += f.conversions as f64;
                arm.spend_after += f.cost_micros as f64 / 1e6;
            }
        }
    }
    arm.cost_per_conversion = arm.spend / arm.conversions.max(1.0);
    (arm, report)
}

/// The arms on the same market: left alone; optimised; and left alone with every budget cut
/// evenly until it spends what the optimised arm spent from day 8 (conversions at equal spend).
pub fn evaluate(
    seed: u64,
    campaigns: usize,
    rules: &DecisionRules,
    guardrails: &Guardrails,
) -> LoopEvaluation {
    let (nothing, _) = simulate(seed, campaigns, false, 1.0, rules, guardrails);
    let (optimised, mut report) = simulate(seed, campaigns, true, 1.0, rules, guardrails);
    // Spend grows with budget monotonically: bisect the even cut that matches the spend.
    let (mut low, mut high) = (0.05, 2.0);
    let mut equal = nothing;
    for _ in 0..14 {
        let scale = (low + high) / 2.0;
        let (arm, _) = simulate(seed, campaigns, false, scale, rules, guardrails);
        equal = arm;
        if arm.spend_after > optimised.spend_after {
            high = scale;
        } else {
            low = scale;
        }
    }
    report.nothing = nothing;
    report.equal_spend = equal;
    report.optimised = optimised;
    report
}
