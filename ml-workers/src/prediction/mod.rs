//! The performance predictor: click-through (per impression, by hour of week) and conversion rate
//! (per click, by day) of every keyword and creative, from what the platforms reported. A logistic
//! regression baseline and a factorisation machine share the hashed features
//! ([`features`]); training splits time-ordered (the last days of the window validate and
//! calibrate); every probability comes with a 90 % interval whose width follows how much the unit
//! itself has shown (a new unit borrows from similar ones through its shared fields: ad group,
//! campaign, copy, kind — the cold start).

pub mod evaluate;
pub mod features;
pub mod metrics;
pub mod model;

use crate::MlError;
use features::{Observation, Target};
use model::{Architecture, RateModel, TrainOptions};
use serde::Serialize;
use std::collections::HashMap;
use tch::Device;

/// z of a two-sided 90 % interval.
const Z90: f64 = 1.644_853_6;
/// The prior strengths (in trials) an interval may assume, tried on the validation days.
const PRIOR_STRENGTHS: [f64; 9] = [3.0, 10.0, 30.0, 100.0, 300.0, 1e3, 3e3, 1e4, 3e4];

/// CUDA when a GPU is present, the CPU otherwise.
pub fn default_device() -> Device {
    Device::cuda_if_available()
}

/// A probability and its 90 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Estimate {
    pub probability: f64,
    pub low: f64,
    pub high: f64,
}

fn logit(p: f64) -> f64 {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    (p / (1.0 - p)).ln()
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// The interval of a rate predicted as `p` for a unit with `unit_trials` of its own history: as if
/// the estimate rested on `unit_trials + prior` trials (normal on the logit scale).
pub fn estimate(p: f64, unit_trials: f64, prior: f64) -> Estimate {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    let information = (unit_trials.max(0.0) + prior) * p * (1.0 - p);
    let half = Z90 / information.max(1e-9).sqrt();
    Estimate {
        probability: p,
        low: sigmoid(logit(p) - half),
        high: sigmoid(logit(p) + half),
    }
}

/// One trained rate model with what its intervals need.
pub struct RateEstimator {
    pub target: Target,
    pub model: RateModel,
    /// The prior strength (trials) that made 90 % of validation units' observed rates fall
    /// within their predictive intervals.
    pub prior: f64,
    /// Trials per unit in the training window.
    pub unit_trials: HashMap<String, f64>,
    pub metrics: HashMap<String, f64>,
}

impl RateEstimator {
    pub fn estimate(&self, observations: &[Observation]) -> Result<Vec<Estimate>, MlError> {
        Ok(self
            .model
            .predict(observations)?
            .into_iter()
            .zip(observations)
            .map(|(p, o)| {
                let trials = self.unit_trials.get(&o.unit).copied().unwrap_or(0.0);
                estimate(p, trials, self.prior)
            })
            .collect())
    }
}

/// Splits `observations` by day: everything before the last `validation_days` of the window
/// trains, the rest validates.
pub fn time_split(
    observations: &[Observation],
    validation_days: i64,
) -> (Vec<Observation>, Vec<Observation>) {
    let last = observations.iter().map(|o| o.day).max().unwrap_or(0);
    observations
        .iter()
        .cloned()
        .partition(|o| o.day <= last - validation_days)
}

fn trials_per_unit(observations: &[Observation]) -> HashMap<String, f64> {
    let mut trials = HashMap::new();
    for o in observations {
        *trials.entry(o.unit.clone()).or_insert(0.0) += o.trials;
    }
    trials
}

/// The prior strength whose predictive intervals cover 90 % of the validation units' observed
/// rates (a unit's rate over the validation days varies by the estimate's own uncertainty and by
/// binomial noise).
fn fit_prior(
    predictions: &[f64],
    validation: &[Observation],
    train_trials: &HashMap<String, f64>,
) -> f64 {
    let mut units: HashMap<&str, (f64, f64, f64)> = HashMap::new();
    for (p, o) in predictions.iter().zip(validation) {
        let entry = units.entry(o.unit.as_str()).or_default();
        entry.0 += p * o.trials;
        entry.1 += o.trials;
        entry.2 += o.successes.min(o.trials);
    }
    let units: Vec<(f64, f64, f64, f64)> = units
        .into_iter()
        .filter(|(_, (_, trials, _))| *trials >= 1.0)
        .map(|(unit, (weighted, trials, successes))| {
            let seen = train_trials.get(unit).copied().unwrap_or(0.0);
            (weighted / trials, trials, successes / trials, seen)
        })
        .collect();
    if units.is_empty() {
        return 100.0;
    }
    let coverage = |prior: f64| {
        units
            .iter()
            .filter(|(p, trials, observed, seen)| {
                let p = p.clamp(1e-7, 1.0 - 1e-7);
                let variance = p * (1.0 - p) * (1.0 / (seen + prior) + 1.0 / trials);
                (observed - p).abs() <= Z90 * variance.sqrt()
            })
            .count() as f64
            / units.len() as f64
    };
    PRIOR_STRENGTHS
        .iter()
        .copied()
        .min_by(|a, b| {
            (coverage(*a) - 0.9)
                .abs()
                .total_cmp(&(coverage(*b) - 0.9).abs())
        })
        .unwrap_or(100.0)
}

/// Trains one target's model on `observations` (time-ordered split, calibration, interval prior).
pub fn train_rate(
    target: Target,
    architecture: Architecture,
    observations: &[Observation],
    validation_days: i64,
    options: &TrainOptions,
    device: Device,
) -> Result<RateEstimator, MlError> {
    let (train, validation) = time_split(observations, validation_days);
    let model = RateModel::train(architecture, &train, &validation, options, device)?;
    let unit_trials = trials_per_unit(&train);
    let predictions = model.predict(&validation)?;
    let prior = fit_prior(&predictions, &validation, &unit_trials);
    let scored: Vec<metrics::Scored> = predictions
        .iter()
        .zip(&validation)
        .map(|(p, o)| (*p, o.trials, o.successes))
        .collect();
    let score = metrics::score(&scored);
    let metrics = HashMap::from([
        ("validation_auc".to_owned(), score.auc),
        ("validation_log_loss".to_owned(), score.log_loss),
        (
            "validation_calibration_error".to_owned(),
            score.calibration_error,
        ),
        ("train_rows".to_owned(), train.len() as f64),
        ("validation_rows".to_owned(), validation.len() as f64),
        ("interval_prior_trials".to_owned(), prior),
    ]);
    // The final model learns from the validation days too (they are the most recent) and keeps
    // the calibration fitted where those days were still unseen.
    let mut final_model = RateModel::train(architecture, observations, &[], options, device)?;
    final_model.scale = model.scale;
    final_model.shift = model.shift;
    let model = final_model;
    Ok(RateEstimator {
        target,
        model,
        prior,
        unit_trials: trials_per_unit(observations),
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_narrows_with_the_units_own_history_and_holds_its_probability() {
        let new = estimate(0.05, 0.0, 100.0);
        let seasoned = estimate(0.05, 100_000.0, 100.0);
        assert!(new.low < seasoned.low && seasoned.high < new.high);
        for e in [new, seasoned] {
            assert!(e.low < e.probability && e.probability < e.high);
            assert!(e.low > 0.0 && e.high < 1.0);
        }
    }
}
