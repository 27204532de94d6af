//! Creative experiments judged on the market simulator: A/A tests (two identical ads: any winner
//! is a false one) and A/B tests with a true 20 % lift in click-through, each a Google ad group of
//! the simulator run day by day with the domain's sequential design looking once a day. The
//! variations share their hidden reach and cost and differ only in the click-through the
//! evaluation sets, so the only difference an experiment can find is the one planted.

use adflow_domain::optimisation::experiments::{judge, Arm, ExperimentDesign, Verdict};
use adflow_platforms::simulator::rng::{key_hash, Draws};
use adflow_platforms::simulator::{Market, UnitKind};
use chrono::{Duration, TimeZone, Utc};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentsEvaluation {
    pub seed: u64,
    pub tests: usize,
    pub max_days: u32,
    /// A/A tests that named a winner.
    pub aa_false_winners: usize,
    pub aa_false_winner_rate: f64,
    /// A/B tests (B 20 % better) that named B, named A, or named nobody within `max_days`.
    pub ab_right_winners: usize,
    pub ab_wrong_winners: usize,
    pub ab_undecided: usize,
    /// Median days to the right decision among A/B tests that reached it.
    pub ab_median_days_to_decision: f64,
    /// Mean winner probability reported with the right winner.
    pub ab_mean_winner_probability: f64,
}

struct Outcome {
    verdict: Verdict,
    day: u32,
}

/// One experiment: an ad group with two ads whose click-through differs by `lift`.
fn run(seed: u64, test: usize, lift: f64, design: &ExperimentDesign) -> Outcome {
    let start = Utc
        .with_ymd_and_hms(2026, 2, 2, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let mut market = Market::new(seed ^ (test as u64).wrapping_mul(0x9e37_79b9));
    let mut draws = Draws::new(key_hash(seed, &format!("experiment:{test}")), 0, 0);
    let key = format!("t{test}");
    let budget = ((50.0 + 300.0 * draws.uniform()) * 1e6) as i64;
    market.add_campaign(&key, start, budget, true);
    let match_type = (draws.uniform() * 3.0) as u8 % 3;
    for arm in ["a", "b"] {
        market.add_unit(
            &format!("{key}/{arm}"),
            &key,
            UnitKind::Keyword { match_type },
            "Variation",
            1.0,
            start,
        );
    }
    // Both ads share A's hidden truth; B's click-through is A's times (1 + lift).
    let truth_a = market
        .unit_mut(&format!("{key}/a"))
        .map(|u| u.truth.clone());
    if let (Some(truth), Some(b)) = (truth_a, market.unit_mut(&format!("{key}/b"))) {
        b.truth = truth;
        b.truth.ctr *= 1.0 + lift;
    }
    let h0 = start.timestamp() / 3600;
    let days = i64::from(design.max_looks);
    let rows = market.campaign_hours(&key, h0, h0 + days * 24, start + Duration::days(days));
    let mut per_day = vec![[(0.0f64, 0.0f64); 2]; days as usize];
    for row in rows {
        let day = ((row.hour - h0) / 24) as usize;
        let arm = usize::from(row.unit.ends_with("/b"));
        if let Some(slot) = per_day.get_mut(day) {
            slot[arm].0 += row.figures.impressions as f64;
            slot[arm].1 += row.figures.clicks as f64;
        }
    }
    let mut arms = vec![
        Arm {
            name: "A".into(),
            trials: 0.0,
            successes: 0.0,
        },
        Arm {
            name: "B".into(),
            trials: 0.0,
            successes: 0.0,
        },
    ];
    for (day, counts) in per_day.iter().enumerate() {
        for (arm, (impressions, clicks)) in arms.iter_mut().zip(counts) {
            arm.trials += impressions;
            arm.successes += clicks;
        }
        let look = day as u32 + 1;
        let verdict = judge(&arms, design, look);
        if verdict != Verdict::Running {
            return Outcome { verdict, day: look };
        }
    }
    Outcome {
        verdict: Verdict::NoWinner,
        day: design.max_looks,
    }
}

pub fn evaluate(seed: u64, tests: usize, design: &ExperimentDesign) -> ExperimentsEvaluation {
    let aa_false_winners = (0..tests)
        .filter(|t| matches!(run(seed, *t, 0.0, design).verdict, Verdict::Winner { .. }))
        .count();
    let (mut right, mut wrong, mut undecided) = (0, 0, 0);
    let mut days = Vec::new();
    let mut probability = 0.0;
    for t in 0..tests {
        let outcome = run(seed, tests + t, 0.2, design);
        match outcome.verdict {
            Verdict::Winner {
                arm: 1,
                probability: p,
            } => {
                right += 1;
                days.push(f64::from(outcome.day));
                probability += p;
            }
            Verdict::Winner { .. } => wrong += 1,
            _ => undecided += 1,
        }
    }
    days.sort_by(f64::total_cmp);
    let median = match days.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => days[n / 2],
        n => (days[n / 2 - 1] + days[n / 2]) / 2.0,
    };
    ExperimentsEvaluation {
        seed,
        tests,
        max_days: design.max_looks,
        aa_false_winners,
        aa_false_winner_rate: aa_false_winners as f64 / tests.max(1) as f64,
        ab_right_winners: right,
        ab_wrong_winners: wrong,
        ab_undecided: undecided,
        ab_median_days_to_decision: median,
        ab_mean_winner_probability: probability / right.max(1) as f64,
    }
}
