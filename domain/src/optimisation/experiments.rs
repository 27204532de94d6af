//! Creative and copy experiments (A/B/n): variations of one ad run side by side, and a sequential
//! design decides when one is the winner. The decision is an always-valid test — a mixture
//! sequential probability ratio test (mSPRT, Johari, Pekelis & Walsh 2017) on the difference of
//! the leader's rate and each other arm's — so looking every day does not inflate the false-winner
//! rate above `alpha` (Bonferroni over the pairs). Alongside it, each arm's posterior probability
//! of being best (Beta posteriors) is what a person reads. Pure: the caller passes the counts.

use super::{ExpectedImpact, Recommendation};
use crate::campaign::{Platform, ProposedAction};
use serde::{Deserialize, Serialize};

/// One variation's counts so far (impressions and clicks, or clicks and conversions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Arm {
    pub name: String,
    pub trials: f64,
    pub successes: f64,
}

/// How an experiment is judged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentDesign {
    /// The false-winner rate allowed over the whole experiment, however often it is looked at.
    pub alpha: f64,
    /// The relative lift the test is tuned to find soonest (the mixture's spread): 0.2 = 20 %.
    pub expected_lift: f64,
    /// Successes every arm needs before any decision (keeps the variance estimate sound).
    pub min_successes_per_arm: f64,
    /// Looks after which the experiment stops with no winner.
    pub max_looks: u32,
}

impl Default for ExperimentDesign {
    fn default() -> Self {
        Self {
            alpha: 0.05,
            expected_lift: 0.2,
            min_successes_per_arm: 30.0,
            max_looks: EXPERIMENT_DAYS,
        }
    }
}

/// Where an experiment stands after a look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", tag = "status")]
pub enum Verdict {
    /// Not enough evidence yet.
    Running,
    /// `arm` beats every other arm at the design's error rate; the others are the losers to pause.
    Winner {
        arm: usize,
        /// Its posterior probability of being the best.
        probability: f64,
    },
    /// The looks ran out with no arm shown better: the variations perform alike.
    NoWinner,
}

/// Every arm's posterior probability of having the highest rate (uniform Beta priors, the
/// posteriors taken as normal: arms with too little data all share the probability evenly).
pub fn winner_probabilities(arms: &[Arm]) -> Vec<f64> {
    if arms.is_empty() {
        return Vec::new();
    }
    let posteriors: Vec<(f64, f64)> = arms.iter().map(posterior).collect();
    let low = posteriors
        .iter()
        .map(|(m, s)| m - 8.0 * s)
        .fold(f64::INFINITY, f64::min);
    let high = posteriors
        .iter()
        .map(|(m, s)| m + 8.0 * s)
        .fold(f64::NEG_INFINITY, f64::max);
    const STEPS: usize = 2_000;
    let step = (high - low) / STEPS as f64;
    let mut probabilities = vec![0.0; arms.len()];
    if step <= 0.0 || !step.is_finite() {
        return vec![1.0 / arms.len() as f64; arms.len()];
    }
    for k in 0..STEPS {
        let x = low + (k as f64 + 0.5) * step;
        for (i, (m, s)) in posteriors.iter().enumerate() {
            let others: f64 = posteriors
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (mj, sj))| normal_cdf((x - mj) / sj))
                .product();
            probabilities[i] += normal_pdf((x - m) / s) / s * others * step;
        }
    }
    let total: f64 = probabilities.iter().sum();
    if total > 0.0 {
        probabilities.iter_mut().for_each(|p| *p /= total);
    }
    probabilities
}

/// Mean and spread of an arm's Beta(1 + successes, 1 + failures) posterior.
fn posterior(arm: &Arm) -> (f64, f64) {
    let a = 1.0 + arm.successes.max(0.0);
    let b = 1.0 + (arm.trials - arm.successes).max(0.0);
    let mean = a / (a + b);
    let variance = a * b / ((a + b).powi(2) * (a + b + 1.0));
    (mean, variance.sqrt().max(1e-12))
}

/// The mixture likelihood ratio of "the rates differ" over "they are equal" for one pair, with a
/// normal mixture of spread `tau` over the difference: always valid, so it may be checked at
/// every look. Its log.
fn log_mixture_ratio(a: &Arm, b: &Arm, tau: f64) -> f64 {
    let rate = |arm: &Arm| arm.successes / arm.trials;
    let (pa, pb) = (rate(a), rate(b));
    let variance = pa * (1.0 - pa) / a.trials + pb * (1.0 - pb) / b.trials;
    // NaN (an arm with no trials) fails both tests and decides nothing.
    if !(variance.is_finite() && variance > 0.0 && tau.is_finite() && tau > 0.0) {
        return 0.0;
    }
    let tau2 = tau * tau;
    let difference = pa - pb;
    0.5 * (variance / (variance + tau2)).ln()
        + difference * difference * tau2 / (2.0 * variance * (variance + tau2))
}

/// The verdict after look number `look` (1 for the first).
pub fn judge(arms: &[Arm], design: &ExperimentDesign, look: u32) -> Verdict {
    if arms.len() < 2 || arms.iter().any(|a| a.trials <= 0.0) {
        return Verdict::Running;
    }
    let ready = arms
        .iter()
        .all(|a| a.successes >= design.min_successes_per_arm);
    if ready {
        let rate = |arm: &Arm| arm.successes / arm.trials;
        let leader = (0..arms.len())
            .max_by(|i, j| rate(&arms[*i]).total_cmp(&rate(&arms[*j])))
            .unwrap_or(0);
        let pairs = (arms.len() * (arms.len() - 1) / 2) as f64;
        let threshold = (pairs / design.alpha).ln();
        let pooled = arms.iter().map(|a| a.successes).sum::<f64>()
            / arms.iter().map(|a| a.trials).sum::<f64>();
        let tau = design.expected_lift * pooled;
        let beats_all = arms.iter().enumerate().all(|(i, other)| {
            i == leader || log_mixture_ratio(&arms[leader], other, tau) >= threshold
        });
        if beats_all {
            return Verdict::Winner {
                arm: leader,
                probability: winner_probabilities(arms)[leader],
            };
        }
    }
    if look >= design.max_looks {
        Verdict::NoWinner
    } else {
        Verdict::Running
    }
}

/// Days of figures an experiment is judged over: the default design's last look.
pub const EXPERIMENT_DAYS: u32 = 56;

/// One day of one ad (a LinkedIn creative, a Google ad) in its ad group, as reported.
#[derive(Debug, Clone, PartialEq)]
pub struct AdDay {
    pub ad_group: String,
    pub ad: String,
    /// Days since the epoch.
    pub day: i64,
    pub impressions: f64,
    pub clicks: f64,
}

/// An ad group's ads compared on click-through: every ad group serving two ads or more is an
/// A/B/n experiment, looked at once a day from its first reported day.
#[derive(Debug, Clone, PartialEq)]
pub struct AdExperiment {
    pub ad_group: String,
    pub arms: Vec<Arm>,
    /// Each arm's probability of being the best now.
    pub winner_probabilities: Vec<f64>,
    /// The first decision the daily looks reached (it stands once reached), or `Running`.
    pub verdict: Verdict,
    /// Looks (days) until the verdict, or so far.
    pub days: u32,
}

/// The experiments of a campaign from its ads' daily figures.
pub fn ad_experiments(rows: &[AdDay], design: &ExperimentDesign) -> Vec<AdExperiment> {
    let mut groups: std::collections::BTreeMap<&str, Vec<&AdDay>> = Default::default();
    for row in rows.iter().filter(|r| !r.ad.is_empty()) {
        groups.entry(&row.ad_group).or_default().push(row);
    }
    groups
        .into_iter()
        .filter_map(|(ad_group, rows)| {
            let mut names: Vec<&str> = rows.iter().map(|r| r.ad.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            if names.len() < 2 {
                return None;
            }
            let mut arms: Vec<Arm> = names
                .iter()
                .map(|name| Arm {
                    name: (*name).to_owned(),
                    trials: 0.0,
                    successes: 0.0,
                })
                .collect();
            let mut days: Vec<i64> = rows.iter().map(|r| r.day).collect();
            days.sort_unstable();
            days.dedup();
            let mut verdict = Verdict::Running;
            let mut looks = 0;
            for day in days {
                for row in rows.iter().filter(|r| r.day == day) {
                    if let Some(arm) = arms.iter_mut().find(|a| a.name == row.ad) {
                        arm.trials += row.impressions;
                        arm.successes += row.clicks.min(row.impressions);
                    }
                }
                looks += 1;
                if verdict == Verdict::Running {
                    verdict = judge(&arms, design, looks);
                    if verdict != Verdict::Running {
                        break;
                    }
                }
            }
            Some(AdExperiment {
                ad_group: ad_group.to_owned(),
                winner_probabilities: winner_probabilities(&arms),
                arms,
                verdict,
                days: looks,
            })
        })
        .collect()
}

/// The losers of decided experiments, as creative pauses: each ad the winner beat, found in the
/// structure by `locate` (ad group and ad name → platform and path) and not paused already.
/// Expected impact: the loser's clicks a day had it served at the winner's click-through, turned
/// into conversions at `conversion_rate`, with a 90 % interval from the two rates' spread.
pub fn pause_losers(
    experiments: &[AdExperiment],
    locate: impl Fn(&str, &str) -> Option<(Platform, String)>,
    already_paused: impl Fn(Platform, &str) -> bool,
    conversion_rate: f64,
) -> Vec<Recommendation> {
    let mut out = Vec::new();
    for e in experiments {
        let Verdict::Winner { arm, probability } = e.verdict else {
            continue;
        };
        let Some(winner) = e.arms.get(arm) else {
            continue;
        };
        let rate = |a: &Arm| a.successes / a.trials.max(1.0);
        let variance = |a: &Arm| rate(a) * (1.0 - rate(a)) / a.trials.max(1.0);
        for (i, loser) in e.arms.iter().enumerate() {
            if i == arm {
                continue;
            }
            let Some((platform, path)) = locate(&e.ad_group, &loser.name) else {
                continue;
            };
            if already_paused(platform, &path) {
                continue;
            }
            let per_day = loser.trials / f64::from(e.days.max(1));
            let lift = rate(winner) - rate(loser);
            let spread = 1.644_853_6 * (variance(winner) + variance(loser)).sqrt();
            let conversions = |d: f64| per_day * d * conversion_rate;
            out.push(Recommendation {
                action: ProposedAction::PauseCreative { platform, path },
                reason: format!(
                    "creative experiment in {}: {} wins on click-through ({:.2} % against {:.2} %, \
                     probability {:.2} of being best, after {} days); {} stops, its impressions go \
                     to the winner",
                    e.ad_group,
                    winner.name,
                    rate(winner) * 100.0,
                    rate(loser) * 100.0,
                    probability,
                    e.days,
                    loser.name
                ),
                confidence_basis_points: (probability.clamp(0.0, 1.0) * 10_000.0).round() as u32,
                impact: ExpectedImpact {
                    conversions_per_day: conversions(lift),
                    conversions_per_day_low: conversions(lift - spread),
                    conversions_per_day_high: conversions(lift + spread),
                    cost_per_day_micros: 0,
                },
            });
        }
    }
    out
}

fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt()
}

/// Φ(z) by the complementary error function (Numerical Recipes' erfc, |error| < 1.2e-7).
pub(crate) fn normal_cdf(z: f64) -> f64 {
    let x = -z / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * x.abs());
    let poly = -x * x - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * poly.exp();
    let erfc = if x >= 0.0 { erfc } else { 2.0 - erfc };
    0.5 * erfc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(trials: f64, successes: f64) -> Arm {
        Arm {
            name: String::new(),
            trials,
            successes,
        }
    }

    #[test]
    fn the_normal_cdf_matches_known_values() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.0) - 0.158_655_25).abs() < 1e-6);
    }

    #[test]
    fn winner_probabilities_sum_to_one_and_favour_the_better_arm() {
        let p = winner_probabilities(&[arm(10_000.0, 500.0), arm(10_000.0, 600.0)]);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-6);
        assert!(p[1] > 0.99, "{p:?}");
        let even =
            winner_probabilities(&[arm(1_000.0, 50.0), arm(1_000.0, 50.0), arm(1_000.0, 50.0)]);
        for p in even {
            assert!((p - 1.0 / 3.0).abs() < 0.01);
        }
    }

    #[test]
    fn a_clear_lift_wins_and_equal_arms_do_not() {
        let design = ExperimentDesign::default();
        let verdict = judge(
            &[arm(40_000.0, 2_000.0), arm(40_000.0, 2_500.0)],
            &design,
            10,
        );
        assert!(matches!(verdict, Verdict::Winner { arm: 1, probability } if probability > 0.99));
        let alike = judge(
            &[arm(40_000.0, 2_000.0), arm(40_000.0, 2_010.0)],
            &design,
            10,
        );
        assert_eq!(alike, Verdict::Running);
        assert_eq!(
            judge(
                &[arm(40_000.0, 2_000.0), arm(40_000.0, 2_010.0)],
                &design,
                56
            ),
            Verdict::NoWinner
        );
    }

    #[test]
    fn no_decision_before_every_arm_has_enough_successes() {
        let design = ExperimentDesign::default();
        assert_eq!(
            judge(&[arm(100.0, 2.0), arm(100.0, 20.0)], &design, 1),
            Verdict::Running
        );
        assert_eq!(judge(&[arm(100.0, 20.0)], &design, 1), Verdict::Running);
    }

    #[test]
    fn an_ad_group_with_two_ads_is_an_experiment_decided_on_the_day_the_evidence_sufficed() {
        let mut rows = Vec::new();
        for day in 0..30 {
            for (ad, clicks) in [("Cut close time", 50.0), ("Close in 3 days", 70.0)] {
                rows.push(AdDay {
                    ad_group: "CFOs".into(),
                    ad: ad.into(),
                    day: 20_000 + day,
                    impressions: 1_000.0,
                    clicks,
                });
            }
        }
        rows.push(AdDay {
            ad_group: "Solo".into(),
            ad: "Only ad".into(),
            day: 20_000,
            impressions: 1_000.0,
            clicks: 10.0,
        });
        let experiments = ad_experiments(&rows, &ExperimentDesign::default());
        assert_eq!(experiments.len(), 1, "one ad alone is no experiment");
        let e = &experiments[0];
        let Verdict::Winner { arm, probability } = e.verdict else {
            panic!("{e:?}");
        };
        assert_eq!(e.arms[arm].name, "Close in 3 days");
        assert!(probability > 0.95);
        assert!(
            e.days < 30,
            "stopped at the first sufficient look: {}",
            e.days
        );
        let total: f64 = e.winner_probabilities.iter().sum();
        assert!((total - 1.0).abs() < 1e-6);
    }

    #[test]
    fn a_winner_among_three_must_beat_both_others() {
        let design = ExperimentDesign::default();
        let close = [
            arm(40_000.0, 2_000.0),
            arm(40_000.0, 2_480.0),
            arm(40_000.0, 2_500.0),
        ];
        assert_eq!(judge(&close, &design, 5), Verdict::Running);
        let clear = [
            arm(40_000.0, 2_000.0),
            arm(40_000.0, 2_050.0),
            arm(40_000.0, 2_600.0),
        ];
        assert!(matches!(
            judge(&clear, &design, 5),
            Verdict::Winner { arm: 2, .. }
        ));
    }
}
