//! Anomaly detection on a campaign's hourly series: spend, impressions, clicks, CTR, conversions
//! and cost per conversion.
//!
//! The expected value of an hour is a seasonal, robust baseline: the median of the same hour of
//! the week over the previous weeks, scaled by the campaign's recent level (the median ratio of
//! what happened to what was expected over the last week, so that a budget change or a lasting
//! shift becomes the new normal within days instead of alerting forever). An hour is anomalous
//! when the sum over a trailing window (1, 6 or 24 hours: spikes show in an hour, outages of sparse
//! counts only over a day) departs from the expected sum by more than a relative threshold AND by
//! more than noise allows (a dispersion-scaled Poisson z-score for counts, the history's spread of
//! window ratios for money), with a minimum expected volume so that empty hours never alert.
//! [`evaluate`] scores it on the market simulator against the rule commercial tools use.

mod evaluate;
mod handler;

pub use handler::{AnomalyHandler, DETECTOR_VERSION};

pub use evaluate::{evaluate, AnomalyEvaluation, DetectorScore};

use serde::Serialize;

/// One hour of a campaign, summed over its units.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct HourTotals {
    pub impressions: f64,
    pub clicks: f64,
    pub conversions: f64,
    pub cost: f64,
}

/// The metrics judged: the domain's, so that findings become `AnomalyDetected` events as they are.
pub use adflow_domain::monitoring::AnomalyMetric as Metric;

/// An hour found anomalous, with what was expected and what was seen (over `window` hours).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Anomaly {
    /// Index of the hour in the series.
    pub hour: usize,
    pub metric: Metric,
    pub window: usize,
    pub observed: f64,
    pub expected: f64,
    /// The range within which the observation would have passed.
    pub low: f64,
    pub high: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorSettings {
    /// Weeks of history the seasonal baseline takes (and needs before it judges).
    pub weeks: usize,
    /// Relative departure an alert needs at least (0.5: half as much or 1.5 times).
    pub relative: f64,
    /// Standard deviations of noise an alert needs at least.
    pub z: f64,
    /// Least expected clicks in a window (and impressions ÷ 20, conversions × 10) before it judges.
    pub min_clicks: f64,
    pub windows: [usize; 3],
    /// Expected conversions in a window whose absence alone is an alert.
    pub outage_conversions: f64,
}

impl Default for DetectorSettings {
    fn default() -> Self {
        Self {
            weeks: 3,
            relative: 0.5,
            z: 4.0,
            min_clicks: 15.0,
            windows: [1, 6, 24],
            outage_conversions: 4.0,
        }
    }
}

const WEEK: usize = 168;

fn median(values: &mut [f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let mid = values.len() / 2;
    Some(if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    })
}

/// The hourly component of the four base counts.
fn component(hour: &HourTotals, index: usize) -> f64 {
    match index {
        0 => hour.impressions,
        1 => hour.clicks,
        2 => hour.conversions,
        _ => hour.cost,
    }
}

/// Expected totals per hour (for hours with enough history), from the seasonal median and the
/// recent level; `None` before the history suffices.
pub fn expected(series: &[HourTotals], settings: &DetectorSettings) -> Vec<Option<HourTotals>> {
    let seasonal: Vec<Option<[f64; 4]>> = (0..series.len())
        .map(|t| {
            if t < settings.weeks * WEEK {
                return None;
            }
            let mut out = [0.0; 4];
            for (c, slot) in out.iter_mut().enumerate() {
                let mut past: Vec<f64> = (1..=settings.weeks)
                    .map(|w| component(&series[t - w * WEEK], c))
                    .collect();
                *slot = median(&mut past).unwrap_or(0.0);
            }
            Some(out)
        })
        .collect();
    (0..series.len())
        .map(|t| {
            let base = seasonal[t]?;
            let mut out = [0.0; 4];
            for c in 0..4 {
                // The level: how the last week ran against its own seasonal expectation (only hours
                // with volume say anything), so lasting shifts are absorbed within days.
                let mut ratios: Vec<f64> = (t.saturating_sub(WEEK)..t)
                    .filter_map(|k| {
                        let s = seasonal[k]?[c];
                        (s > 0.0).then(|| component(&series[k], c) / s)
                    })
                    .collect();
                let level = if ratios.len() >= 48 {
                    median(&mut ratios).unwrap_or(1.0).clamp(0.3, 3.0)
                } else {
                    1.0
                };
                out[c] = base[c] * level;
            }
            Some(HourTotals {
                impressions: out[0],
                clicks: out[1],
                conversions: out[2],
                cost: out[3],
            })
        })
        .collect()
}

fn value(metric: Metric, t: &HourTotals) -> Option<f64> {
    match metric {
        Metric::Spend => Some(t.cost),
        Metric::Impressions => Some(t.impressions),
        Metric::Clicks => Some(t.clicks),
        Metric::Conversions => Some(t.conversions),
        Metric::Ctr => (t.impressions > 0.0).then(|| t.clicks / t.impressions),
        Metric::CostPerConversion => (t.conversions > 0.0).then(|| t.cost / t.conversions),
    }
}

/// Whether a window is big enough to judge `metric` on.
fn enough(metric: Metric, expected: &HourTotals, settings: &DetectorSettings) -> bool {
    let clicks = expected.clicks >= settings.min_clicks;
    match metric {
        Metric::Impressions => expected.impressions >= settings.min_clicks * 20.0,
        Metric::Conversions | Metric::CostPerConversion => {
            expected.conversions >= settings.min_clicks / 3.0
        }
        _ => clicks,
    }
}

/// The noise of `metric` over a window with these expected totals, as a relative standard
/// deviation: Poisson for counts (with overdispersion 2), the delta method for ratios, and cost as
/// clicks times a noisy price.
fn noise(metric: Metric, e: &HourTotals) -> f64 {
    let rel = |count: f64| (2.0 / count.max(1e-9)).sqrt();
    match metric {
        Metric::Impressions => rel(e.impressions),
        Metric::Clicks => rel(e.clicks),
        Metric::Conversions => rel(e.conversions),
        Metric::Spend => (rel(e.clicks).powi(2) + 0.15f64.powi(2) / e.clicks.max(1.0)).sqrt(),
        Metric::Ctr => (rel(e.clicks).powi(2) + rel(e.impressions).powi(2)).sqrt(),
        Metric::CostPerConversion => (rel(e.conversions).powi(2) + rel(e.clicks).powi(2)).sqrt(),
    }
}

fn sum(series: &[HourTotals], from: usize, to: usize) -> HourTotals {
    let mut total = HourTotals::default();
    for h in &series[from..to] {
        total.impressions += h.impressions;
        total.clicks += h.clicks;
        total.conversions += h.conversions;
        total.cost += h.cost;
    }
    total
}

fn sum_expected(expected: &[Option<HourTotals>], from: usize, to: usize) -> Option<HourTotals> {
    let mut total = HourTotals::default();
    for e in &expected[from..to] {
        let e = (*e)?;
        total.impressions += e.impressions;
        total.clicks += e.clicks;
        total.conversions += e.conversions;
        total.cost += e.cost;
    }
    Some(total)
}

/// Every anomalous (hour, metric) from `from` on: the smallest window that shows it.
pub fn detect(series: &[HourTotals], from: usize, settings: &DetectorSettings) -> Vec<Anomaly> {
    let expected = expected(series, settings);
    let mut found = Vec::new();
    for t in from.max(settings.weeks * WEEK)..series.len() {
        for metric in Metric::ALL {
            for window in settings.windows {
                if window > t + 1 {
                    continue;
                }
                let start = t + 1 - window;
                let Some(e) = sum_expected(&expected, start, t + 1) else {
                    continue;
                };
                // Sparse conversions: a band wider than the expectation can never flag their
                // absence, but none at all where several were due is unlikely under Poisson
                // (e^-3 = 5 % per window, rarer still on consecutive ones): a broken tag.
                if metric == Metric::Conversions
                    && e.conversions >= settings.outage_conversions
                    && sum(series, start, t + 1).conversions == 0.0
                {
                    found.push(Anomaly {
                        hour: t,
                        metric,
                        window,
                        observed: 0.0,
                        expected: e.conversions,
                        low: 1.0,
                        high: f64::INFINITY,
                    });
                    break;
                }
                if !enough(metric, &e, settings) {
                    continue;
                }
                let seen = sum(series, start, t + 1);
                let (Some(observed), Some(expect)) = (value(metric, &seen), value(metric, &e))
                else {
                    // Conversions expected and none seen: the cost per conversion is unbounded.
                    if metric == Metric::CostPerConversion && e.conversions >= settings.min_clicks {
                        found.push(Anomaly {
                            hour: t,
                            metric,
                            window,
                            observed: f64::INFINITY,
                            expected: e.cost / e.conversions,
                            low: 0.0,
                            high: e.cost / e.conversions * 2.0,
                        });
                        break;
                    }
                    continue;
                };
                let band = (settings.relative).max(settings.z * noise(metric, &e));
                let (low, high) = (expect * (1.0 - band).max(0.0), expect * (1.0 + band));
                if observed < low || observed > high {
                    found.push(Anomaly {
                        hour: t,
                        metric,
                        window,
                        observed,
                        expected: expect,
                        low,
                        high,
                    });
                    break;
                }
            }
        }
    }
    found
}

/// The rule commercial tools use: a day's total more than 75 % above or below the average of the
/// previous 21 days. Returns (day index, metric) for every day from `from_day` on.
pub fn daily_rule(series: &[HourTotals], from_day: usize) -> Vec<(usize, Metric)> {
    let days = series.len() / 24;
    let day = |d: usize| sum(series, d * 24, d * 24 + 24);
    let mut found = Vec::new();
    for d in from_day.max(21)..days {
        let today = day(d);
        for metric in Metric::ALL {
            let past: Vec<f64> = (d - 21..d).filter_map(|p| value(metric, &day(p))).collect();
            let Some(now) = value(metric, &today) else {
                continue;
            };
            if past.is_empty() {
                continue;
            }
            let average = past.iter().sum::<f64>() / past.len() as f64;
            if average > 0.0 && (now / average - 1.0).abs() > 0.75 {
                found.push((d, metric));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steady(hours: usize) -> Vec<HourTotals> {
        (0..hours)
            .map(|h| {
                let busy = if (8..18).contains(&(h % 24)) {
                    1.0
                } else {
                    0.2
                };
                HourTotals {
                    impressions: 2000.0 * busy,
                    clicks: 60.0 * busy,
                    conversions: 3.0 * busy,
                    cost: 150.0 * busy,
                }
            })
            .collect()
    }

    #[test]
    fn a_steady_series_is_quiet_and_a_spike_is_caught_within_the_hour() {
        let mut series = steady(5 * WEEK);
        assert!(detect(&series, 3 * WEEK, &DetectorSettings::default()).is_empty());
        let at = 4 * WEEK + 10;
        series[at].cost *= 3.0;
        let found = detect(&series, 3 * WEEK, &DetectorSettings::default());
        let spend = found
            .iter()
            .find(|a| a.metric == Metric::Spend)
            .expect("spend spike found");
        assert_eq!(spend.hour, at);
        assert!(spend.observed > spend.high);
    }

    #[test]
    fn a_lasting_level_shift_becomes_the_new_normal() {
        let mut series = steady(6 * WEEK);
        for h in &mut series[4 * WEEK..] {
            h.cost *= 2.0;
            h.clicks *= 2.0;
            h.impressions *= 2.0;
            h.conversions *= 2.0;
        }
        let found = detect(&series, 3 * WEEK, &DetectorSettings::default());
        assert!(!found.is_empty(), "the shift itself is news");
        assert!(
            found.iter().all(|a| a.hour < 5 * WEEK + 48),
            "a week later it is normal: {:?}",
            found.last()
        );
    }

    #[test]
    fn the_daily_rule_sees_only_big_daily_changes() {
        let mut series = steady(4 * WEEK);
        series[25 * 24 + 10].cost *= 3.0;
        assert!(
            daily_rule(&series, 21).is_empty(),
            "one hour tripled is not 75 % of a day"
        );
        for h in &mut series[26 * 24..27 * 24] {
            h.clicks *= 0.1;
        }
        assert!(daily_rule(&series, 21).contains(&(26, Metric::Clicks)));
    }
}
