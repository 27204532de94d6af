//! The detector scored on the market simulator (`adflow_platforms::simulator`): campaigns run three
//! weeks of history and a fourth in which anomalies happen (spend spikes, tracking outages, CTR
//! collapses, injected at random hours, plus whatever the market scheduled), and every flag is
//! matched against the ground truth. Next to it, the rule commercial tools use (a day ±75 % against
//! the previous three weeks' daily average).

use super::{daily_rule, detect, DetectorSettings, HourTotals, WEEK};
use adflow_platforms::simulator::rng::{key_hash, Draws};
use adflow_platforms::simulator::{Anomaly as Truth, AnomalyKind, Market, UnitKind};
use chrono::{Duration, TimeZone, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DetectorScore {
    pub name: &'static str,
    pub anomalies: usize,
    pub detected: usize,
    /// Alerts: runs of flagged hours (or days) with less than six hours between them.
    pub alerts: usize,
    pub true_alerts: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Hours from an anomaly's start to its first alert (detected ones).
    pub median_delay_hours: f64,
    pub mean_delay_hours: f64,
    /// Alerts per campaign-week without any anomaly.
    pub false_alerts_per_clean_week: f64,
    /// Recall by kind.
    pub recall_by_kind: BTreeMap<String, f64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyEvaluation {
    pub campaign_weeks: usize,
    pub anomalies: usize,
    pub ours: DetectorScore,
    pub rule: DetectorScore,
}

/// A week 4 of one campaign: its hourly totals (four weeks) and the anomalies in week 4.
struct CampaignWeek {
    series: Vec<HourTotals>,
    truth: Vec<(usize, usize, AnomalyKind)>,
}

fn simulate(seed: u64, index: usize) -> CampaignWeek {
    let start = Utc
        .with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let mut market = Market::new(seed.wrapping_add(index as u64 * 7919));
    let mut draws = Draws::new(key_hash(seed, &format!("campaign-week {index}")), 0, 0);
    let key = format!("c{index}");
    let budget = (50.0 + 450.0 * draws.uniform()) * 1e6;
    market.add_campaign(&key, start, budget as i64, true);
    for k in 0..30 {
        let copy = format!("Offer {} for team {}", index % 7, k % 5);
        market.add_unit(
            &format!("{key}/k{k}"),
            &key,
            UnitKind::Keyword {
                match_type: (k % 3) as u8,
            },
            &copy,
            1.0,
            start,
        );
    }
    if draws.uniform() < 0.75 {
        let (kind, hours) = match (draws.uniform() * 3.0) as u32 {
            0 => (AnomalyKind::SpendSpike, 6),
            1 => (AnomalyKind::TrackingOutage, 24),
            _ => (AnomalyKind::CtrCollapse, 48),
        };
        let at = 3 * WEEK as i64 + (draws.uniform() * (WEEK as i64 - hours) as f64) as i64;
        let from = start + Duration::hours(at);
        market.inject(Truth {
            campaign: key.clone(),
            kind,
            from,
            to: from + Duration::hours(hours),
        });
    }
    let h0 = start.timestamp() / 3600;
    let mut series = vec![HourTotals::default(); 4 * WEEK];
    for hour in market.campaign_hours(&key, h0, h0 + 4 * WEEK as i64, start + Duration::days(35)) {
        let slot = &mut series[(hour.hour - h0) as usize];
        slot.impressions += hour.figures.impressions as f64;
        slot.clicks += hour.figures.clicks as f64;
        slot.conversions += hour.figures.conversions as f64;
        slot.cost += hour.figures.cost_micros as f64 / 1e6;
    }
    let week = (3 * WEEK, 4 * WEEK);
    let truth = market
        .ground_truth()
        .anomalies
        .iter()
        .map(|a| {
            (
                ((a.from - start).num_hours()) as usize,
                ((a.to - start).num_hours()) as usize,
                a.kind,
            )
        })
        .filter(|(from, to, _)| *to > week.0 && *from < week.1)
        .collect();
    CampaignWeek { series, truth }
}

/// Runs of flagged hours with gaps under six hours: (first, last).
fn alerts(mut hours: Vec<usize>) -> Vec<(usize, usize)> {
    hours.sort_unstable();
    hours.dedup();
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for h in hours {
        match runs.last_mut() {
            Some((_, last)) if h <= *last + 6 => *last = h,
            _ => runs.push((h, h)),
        }
    }
    runs
}

struct Tally {
    anomalies: usize,
    detected: usize,
    alerts: usize,
    true_alerts: usize,
    delays: Vec<f64>,
    clean_weeks: usize,
    clean_alerts: usize,
    by_kind: BTreeMap<String, (usize, usize)>,
}

impl Tally {
    fn new() -> Self {
        Self {
            anomalies: 0,
            detected: 0,
            alerts: 0,
            true_alerts: 0,
            delays: Vec::new(),
            clean_weeks: 0,
            clean_alerts: 0,
            by_kind: BTreeMap::new(),
        }
    }

    /// `flagged`: (first hour the alert exists at, last) runs; an anomaly counts as found by an
    /// alert that starts before it ended plus a day (trailing windows still see it).
    fn add(&mut self, week: &CampaignWeek, flagged: &[(usize, usize)]) {
        let tail = 24;
        let hit = |(from, to): (usize, usize), (a, b): (usize, usize)| a < to + tail && b >= from;
        self.alerts += flagged.len();
        self.true_alerts += flagged
            .iter()
            .filter(|f| {
                week.truth
                    .iter()
                    .any(|(from, to, _)| hit((*from, *to), **f))
            })
            .count();
        if week.truth.is_empty() {
            self.clean_weeks += 1;
            self.clean_alerts += flagged.len();
        }
        for (from, to, kind) in &week.truth {
            self.anomalies += 1;
            let entry = self.by_kind.entry(format!("{kind:?}")).or_default();
            entry.0 += 1;
            if let Some(first) = flagged
                .iter()
                .filter(|f| hit((*from, *to), **f))
                .map(|f| f.0.max(*from))
                .min()
            {
                self.detected += 1;
                entry.1 += 1;
                self.delays.push((first - from) as f64);
            }
        }
    }

    fn score(mut self, name: &'static str) -> DetectorScore {
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let precision = ratio(self.true_alerts, self.alerts);
        let recall = ratio(self.detected, self.anomalies);
        self.delays
            .sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
        DetectorScore {
            name,
            anomalies: self.anomalies,
            detected: self.detected,
            alerts: self.alerts,
            true_alerts: self.true_alerts,
            precision,
            recall,
            f1: if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            },
            median_delay_hours: self
                .delays
                .get(self.delays.len() / 2)
                .copied()
                .unwrap_or(f64::NAN),
            mean_delay_hours: if self.delays.is_empty() {
                f64::NAN
            } else {
                self.delays.iter().sum::<f64>() / self.delays.len() as f64
            },
            false_alerts_per_clean_week: ratio(self.clean_alerts, self.clean_weeks),
            recall_by_kind: self
                .by_kind
                .into_iter()
                .map(|(k, (n, d))| (k, ratio(d, n)))
                .collect(),
        }
    }
}

/// Scores the detector and the daily rule on `campaign_weeks` simulated campaigns.
pub fn evaluate(
    seed: u64,
    campaign_weeks: usize,
    settings: &DetectorSettings,
) -> AnomalyEvaluation {
    let settings = *settings;
    let mut ours = Tally::new();
    let mut rule = Tally::new();
    for index in 0..campaign_weeks {
        let week = simulate(seed, index);
        let flagged: Vec<usize> = detect(&week.series, 3 * WEEK, &settings)
            .into_iter()
            .map(|a| a.hour)
            .collect();
        ours.add(&week, &alerts(flagged));
        // A daily rule knows a day's total when the day is over: its alert exists from then on.
        let days: Vec<usize> = daily_rule(&week.series, 21)
            .into_iter()
            .map(|(d, _)| d)
            .collect();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        let mut days = days;
        days.sort_unstable();
        days.dedup();
        for d in days {
            match runs.last_mut() {
                Some((_, last)) if d * 24 + 23 <= *last + 1 + 6 => *last = d * 24 + 23,
                _ => runs.push((d * 24 + 23, d * 24 + 23)),
            }
        }
        rule.add(&week, &runs);
    }
    AnomalyEvaluation {
        campaign_weeks,
        anomalies: ours.anomalies,
        ours: ours.score("seasonal robust baseline (ours)"),
        rule: rule.score("±75 % vs 3-week daily average"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_simulated_campaign_weeks_ours_beats_the_daily_rule() {
        let result = evaluate(3, 40, &DetectorSettings::default());
        assert!(result.anomalies >= 20, "{result:?}");
        assert!(result.ours.f1 > result.rule.f1, "{:#?}", result);
        assert!(
            result.ours.median_delay_hours < result.rule.median_delay_hours
                || result.rule.detected == 0,
            "{:#?}",
            result
        );
    }
}
