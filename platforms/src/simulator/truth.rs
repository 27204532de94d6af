//! The hidden rates of each unit and the anomaly schedule, drawn once from the seed.

use super::rng::{key_hash, Draws};
use super::UnitKind;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A unit's true rates. Reports only ever show noisy counts drawn from them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Truth {
    /// Clicks per impression.
    pub ctr: f64,
    /// Conversions per click.
    pub cvr: f64,
    pub cpc_micros: f64,
    pub value_per_conversion_micros: f64,
    /// Impressions an hour at the busiest hour of the week with an unlimited budget.
    pub peak_impressions: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnomalyKind {
    /// Cost per click triples (a bidding bug, a competitor leaving the auction).
    SpendSpike,
    /// Conversions stop being reported (a broken tag); clicks and cost go on.
    TrackingOutage,
    /// Click-through falls to a fifth (ad fatigue, a broken landing page).
    CtrCollapse,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Anomaly {
    /// The sandbox's campaign key.
    pub campaign: String,
    pub kind: AnomalyKind,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Anomaly {
    pub fn covers(&self, hour: i64) -> bool {
        let start = hour * 3600;
        start >= self.from.timestamp() && start < self.to.timestamp()
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitTruth {
    pub key: String,
    pub campaign: String,
    pub kind: UnitKind,
    pub truth: Truth,
}

/// What an evaluation compares a model with.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroundTruth {
    pub seed: u64,
    pub units: Vec<UnitTruth>,
    pub anomalies: Vec<Anomaly>,
    /// Each campaign's engagement multiplier by hour of the week (see [`engagement_profile`]).
    pub engagement: BTreeMap<String, Vec<f64>>,
}

impl GroundTruth {
    /// The engagement multiplier of `campaign` at `hour` (hours since the epoch); 1 if unknown.
    pub fn engagement_at(&self, campaign: &str, hour: i64) -> f64 {
        self.engagement
            .get(campaign)
            .and_then(|profile| profile.get(hour_of_week(hour)))
            .copied()
            .unwrap_or(1.0)
    }
}

/// Copy quality in [0.75, 1.25]: the same text always scores the same under one seed.
fn copy_quality(seed: u64, copy: &str) -> f64 {
    let mut draws = Draws::new(key_hash(seed, &format!("copy:{copy}")), 0, 9);
    0.75 + 0.5 * draws.uniform()
}

pub(super) fn draw(seed: u64, key: &str, kind: UnitKind, copy: &str, fit: f64) -> Truth {
    let mut draws = Draws::new(key_hash(seed, key), 0, 0);
    let quality = copy_quality(seed, copy);
    let fit = fit.clamp(0.2, 3.0);
    // Buyers the ad speaks to click more, and convert more still.
    let relevance = fit.sqrt();
    let value_per_conversion_micros = 180e6 * draws.lognormal(0.4);
    match kind {
        UnitKind::Keyword { match_type } => {
            let (ctr, cvr, reach) = match match_type {
                0 => (0.07, 0.06, 25.0),
                1 => (0.045, 0.04, 80.0),
                _ => (0.025, 0.02, 250.0),
            };
            Truth {
                ctr: (ctr * draws.lognormal(0.35) * quality * relevance).min(0.6),
                cvr: (cvr * draws.lognormal(0.5) * fit).min(0.5),
                cpc_micros: 2.5e6 * draws.lognormal(0.35),
                value_per_conversion_micros,
                peak_impressions: reach * draws.lognormal(0.7),
            }
        }
        UnitKind::Creative { audience_size } => Truth {
            ctr: (0.006 * draws.lognormal(0.3) * quality * relevance).min(0.2),
            cvr: (0.02 * draws.lognormal(0.4) * fit).min(0.5),
            cpc_micros: 7e6 * draws.lognormal(0.25),
            value_per_conversion_micros,
            peak_impressions: (audience_size as f64 / 400.0).clamp(50.0, 3000.0)
                * draws.lognormal(0.3),
        },
    }
}

/// Hours in a week; hour-of-week index 0 is Monday 00:00 UTC.
pub const HOURS_OF_WEEK: usize = 168;

pub use adflow_domain::optimisation::hour_of_week::hour_of_week;

/// When an audience engages: a multiplier of click-through and of conversion for each hour of the
/// week, planted per audience from the seed. Each audience peaks at its own hour of the working
/// day (decision-makers early, practitioners late), with its own depth, and takes weekends its own
/// way. Normalised so that the mean over impressions (office hours weigh most) is 1: the unit's
/// base rates keep their meaning. This is what dayparting has to recover, and what makes the hour
/// matter differently for different segments.
pub fn engagement_profile(seed: u64, audience: &str) -> [f64; HOURS_OF_WEEK] {
    let mut draws = Draws::new(key_hash(seed, &format!("audience:{audience}")), 0, 0);
    let peak = 7.0 + 12.0 * draws.uniform();
    let depth = 0.15 + 0.35 * draws.uniform();
    let weekend = (0.35 * draws.normal()).exp().clamp(0.5, 1.6);
    let mut profile = [0.0; HOURS_OF_WEEK];
    for (index, slot) in profile.iter_mut().enumerate() {
        let hour_of_day = (index % 24) as f64;
        let daily = (depth * (std::f64::consts::TAU * (hour_of_day - peak) / 24.0).cos()).exp();
        *slot = if index / 24 >= 5 {
            daily * weekend
        } else {
            daily
        };
    }
    // The reference week starts on a Monday: hour 96 since the epoch is Monday 00:00.
    let weights: Vec<f64> = (0..HOURS_OF_WEEK as i64)
        .map(|h| super::delivery::hour_of_week_factor(96 + h))
        .collect();
    let mean = profile
        .iter()
        .zip(&weights)
        .map(|(e, w)| e * w)
        .sum::<f64>()
        / weights.iter().sum::<f64>();
    for slot in &mut profile {
        *slot /= mean;
    }
    profile
}

/// Each campaign meets each kind of anomaly with even odds somewhere in its first 90 days.
pub(super) fn scheduled_anomalies(
    seed: u64,
    campaign: &str,
    created: DateTime<Utc>,
) -> Vec<Anomaly> {
    let mut draws = Draws::new(key_hash(seed, &format!("anomalies:{campaign}")), 0, 0);
    let mut anomalies = Vec::new();
    for (kind, hours) in [
        (AnomalyKind::SpendSpike, 6),
        (AnomalyKind::TrackingOutage, 24),
        (AnomalyKind::CtrCollapse, 48),
    ] {
        let happens = draws.uniform() < 0.5;
        let offset_hours = (draws.uniform() * 90.0 * 24.0) as i64 + 48;
        if happens {
            let from = created + chrono::Duration::hours(offset_hours);
            anomalies.push(Anomaly {
                campaign: campaign.to_owned(),
                kind,
                from,
                to: from + chrono::Duration::hours(hours),
            });
        }
    }
    anomalies
}
