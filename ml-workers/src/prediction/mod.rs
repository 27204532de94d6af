//! The performance predictor: click-through (per impression, by hour of week) and conversion rate
//! (per click, by day) of every keyword and creative, from what the platforms reported. A logistic
//! regression baseline and a factorisation machine share the hashed features ([`features`]) and
//! the MiniLM embeddings of each unit's keyword and copy ([`text`]); the conversion machine reads
//! the click machine's audience × message interactions besides ([`model::Inputs`]); training
//! splits time-ordered (the last days of the window validate and calibrate); every probability comes with a 90 % interval whose width follows how much the unit
//! itself has shown (a new unit borrows from similar ones through its shared fields: ad group,
//! campaign, copy, kind — the cold start).

pub mod evaluate;
pub mod features;
pub mod live;
pub mod metrics;
pub mod model;
pub mod registry;
pub mod text;

use crate::MlError;
use features::{Observation, Target};
use model::{Architecture, Inputs, RateModel, TrainOptions};
use serde::Serialize;
use std::collections::HashMap;
use tch::Device;

/// z of a two-sided 90 % interval.
const Z90: f64 = 1.644_853_6;
/// The prior strengths (in trials) an interval may assume, tried on the validation days.
const PRIOR_STRENGTHS: [f64; 9] = [3.0, 10.0, 30.0, 100.0, 300.0, 1e3, 3e3, 1e4, 3e4];
/// Validation log losses within this fraction of each other are a tie: about what another order
/// of the same training rows moves one by (0.01–0.1 % on the simulator's click-through).
const PENALTY_TIE: f64 = 1e-3;
/// What one of a unit's own trials may count for, tried with them.
const TRIAL_WEIGHTS: [f64; 7] = [1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001];

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

/// How much an interval trusts the data: a unit's own trials count `weight` each (the model's
/// error does not shrink as fast as binomial noise), plus `prior` trials from similar units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    pub prior: f64,
    pub weight: f64,
}

/// The interval of a rate predicted as `p` for a unit with `unit_trials` of its own history: as if
/// the estimate rested on `weight · unit_trials + prior` trials (normal on the logit scale).
pub fn estimate(p: f64, unit_trials: f64, evidence: Evidence) -> Estimate {
    let p = p.clamp(1e-7, 1.0 - 1e-7);
    let information = (evidence.weight * unit_trials.max(0.0) + evidence.prior) * p * (1.0 - p);
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
    /// The evidence that made 90 % of validation units' observed rates fall within their
    /// predictive intervals.
    pub evidence: Evidence,
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
                estimate(p, trials, self.evidence)
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

/// The evidence under which the validation units' observed rates depart from their predictions
/// as much as the intervals say: a unit's rate over the validation days varies by the estimate's
/// own uncertainty and by binomial noise, so `(observed − p)² / (model + noise variance)`
/// averages 1. Required of units with little, some and much history alike (terciles of their
/// training trials), which pins both the prior and the weight of a unit's own trials.
fn fit_evidence(
    predictions: &[f64],
    validation: &[Observation],
    train_trials: &HashMap<String, f64>,
) -> Evidence {
    let mut units: HashMap<&str, (f64, f64, f64)> = HashMap::new();
    for (p, o) in predictions.iter().zip(validation) {
        let entry = units.entry(o.unit.as_str()).or_default();
        entry.0 += p * o.trials;
        entry.1 += o.trials;
        entry.2 += o.successes.min(o.trials);
    }
    let mut units: Vec<(f64, f64, f64, f64)> = units
        .into_iter()
        .filter(|(_, (_, trials, _))| *trials >= 1.0)
        .map(|(unit, (weighted, trials, successes))| {
            let seen = train_trials.get(unit).copied().unwrap_or(0.0);
            (weighted / trials, trials, successes / trials, seen)
        })
        .collect();
    let fallback = Evidence {
        prior: 100.0,
        weight: 1.0,
    };
    if units.len() < 3 {
        return fallback;
    }
    units.sort_by(|a, b| a.3.total_cmp(&b.3));
    let third = units.len() / 3;
    let bins = [
        &units[..third],
        &units[third..2 * third],
        &units[2 * third..],
    ];
    let misfit = |e: Evidence| {
        bins.iter()
            .map(|bin| {
                let mean_z2 = bin
                    .iter()
                    .map(|(p, trials, observed, seen)| {
                        let p = p.clamp(1e-7, 1.0 - 1e-7);
                        let variance =
                            p * (1.0 - p) * (1.0 / (e.weight * seen + e.prior) + 1.0 / trials);
                        (observed - p).powi(2) / variance
                    })
                    .sum::<f64>()
                    / bin.len().max(1) as f64;
                (mean_z2.ln()).powi(2)
            })
            .sum::<f64>()
    };
    // What similar units lend a unit may not outweigh what a typical unit has shown itself: where
    // the validation days are quieter than binomial noise (their deviations then say nothing of
    // the model's own error), the fit would otherwise take the strongest prior and intervals
    // would shrink to nothing.
    let typical = units[units.len() / 2].3.max(PRIOR_STRENGTHS[0]);
    let mut best = (fallback, f64::INFINITY);
    for prior in PRIOR_STRENGTHS.into_iter().filter(|p| *p <= typical) {
        for weight in TRIAL_WEIGHTS {
            let candidate = Evidence { prior, weight };
            let m = misfit(candidate);
            if m < best.1 {
                best = (candidate, m);
            }
        }
    }
    best.0
}

/// The model trained on `train` under each interaction penalty of [`model::FACTOR_L2_SCALES`]
/// (the factorisation machine; logistic regression has none to choose), keeping the lightest
/// penalty whose log loss on the later `validation` days is within [`PENALTY_TIE`] of the lowest,
/// with the options that made it.
fn fit_on_validation(
    architecture: Architecture,
    train: &[Observation],
    validation: &[Observation],
    options: &TrainOptions,
    inputs: Inputs,
    device: Device,
) -> Result<(RateModel, TrainOptions), MlError> {
    let scales: &[f64] = match architecture {
        Architecture::FactorisationMachine if !validation.is_empty() => &model::FACTOR_L2_SCALES,
        _ => &[1.0],
    };
    let mut candidates: Vec<(RateModel, TrainOptions, f64)> = Vec::new();
    for scale in scales {
        let candidate_options = TrainOptions {
            factor_l2_scale: options.factor_l2_scale * scale,
            ..*options
        };
        let candidate = RateModel::train(
            architecture,
            train,
            validation,
            &candidate_options,
            inputs,
            device,
        )?;
        let scored: Vec<metrics::Scored> = candidate
            .predict(validation)?
            .into_iter()
            .zip(validation)
            .map(|(p, o)| (p, o.trials, o.successes))
            .collect();
        let loss = metrics::score(&scored).log_loss;
        candidates.push((candidate, candidate_options, loss));
    }
    // The validation days hold few new units, which are what interactions are for: a penalty that
    // wins there by less than run-to-run noise is no evidence against the interactions, and the
    // lightest penalty within that margin of the best keeps them.
    let lowest = candidates.iter().map(|c| c.2).fold(f64::INFINITY, f64::min);
    candidates
        .into_iter()
        .find(|c| c.2 <= lowest * (1.0 + PENALTY_TIE))
        .map(|(model, options, _)| (model, options))
        .ok_or_else(|| MlError::Model("no interaction penalty to try".into()))
}

/// Trains one target's model on `observations` (time-ordered split, calibration, interval prior),
/// reading their words and a click model as `inputs` give them.
pub fn train_rate(
    target: Target,
    architecture: Architecture,
    observations: &[Observation],
    validation_days: i64,
    options: &TrainOptions,
    inputs: Inputs,
    device: Device,
) -> Result<RateEstimator, MlError> {
    let (train, validation) = time_split(observations, validation_days);
    let (model, options) =
        fit_on_validation(architecture, &train, &validation, options, inputs, device)?;
    let options = &options;
    let unit_trials = trials_per_unit(&train);
    let predictions = model.predict(&validation)?;
    let evidence = fit_evidence(&predictions, &validation, &unit_trials);
    let scored: Vec<metrics::Scored> = predictions
        .iter()
        .zip(&validation)
        .map(|(p, o)| (*p, o.trials, o.successes))
        .collect();
    let score = metrics::score(&scored);
    let mut metrics = HashMap::from([
        ("validation_auc".to_owned(), score.auc),
        ("validation_log_loss".to_owned(), score.log_loss),
        (
            "validation_calibration_error".to_owned(),
            score.calibration_error,
        ),
        ("train_rows".to_owned(), train.len() as f64),
        ("validation_rows".to_owned(), validation.len() as f64),
        ("interval_prior_trials".to_owned(), evidence.prior),
        ("interval_trial_weight".to_owned(), evidence.weight),
        ("factor_l2_scale".to_owned(), options.factor_l2_scale),
    ]);
    if let Some(weight) = model.click_weight() {
        metrics.insert("click_interaction_weight".to_owned(), weight);
    }
    // The final model learns from the validation days too (they are the most recent) and keeps
    // the calibration fitted where those days were still unseen.
    let mut final_model =
        RateModel::train(architecture, observations, &[], options, inputs, device)?;
    final_model.scale = model.scale;
    final_model.shift = model.shift;
    let model = final_model;
    Ok(RateEstimator {
        target,
        model,
        evidence,
        unit_trials: trials_per_unit(observations),
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interval_narrows_with_the_units_own_history_and_holds_its_probability() {
        let evidence = Evidence {
            prior: 100.0,
            weight: 0.1,
        };
        let new = estimate(0.05, 0.0, evidence);
        let seasoned = estimate(0.05, 100_000.0, evidence);
        assert!(new.low < seasoned.low && seasoned.high < new.high);
        for e in [new, seasoned] {
            assert!(e.low < e.probability && e.probability < e.high);
            assert!(e.low > 0.0 && e.high < 1.0);
        }
    }
}
