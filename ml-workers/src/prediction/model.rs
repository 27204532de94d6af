//! The rate models, trained in tch on counts (each row weighs by its trials): logistic regression
//! over the hashed fields (one weight per bucket), and a factorisation machine that adds a learned
//! interaction between every pair of fields (`<v_i, v_j>`, the Rendle 2010 form computed in linear
//! time). Both are Platt-calibrated on a time-later validation slice.

use super::features::{encode, Observation, FIELDS, TABLE_ROWS};
use crate::MlError;
use serde::{Deserialize, Serialize};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Architecture {
    Logistic,
    FactorisationMachine,
}

impl Architecture {
    pub fn as_str(self) -> &'static str {
        match self {
            Architecture::Logistic => "logistic-regression",
            Architecture::FactorisationMachine => "factorisation-machine",
        }
    }
}

/// The interaction penalties tried on the validation days: at the largest the factorisation
/// machine is all but the logistic regression, so it is chosen only where interactions do not
/// generalise.
pub const FACTOR_L2_SCALES: [f64; 3] = [1.0, 10.0, 100.0];

/// Passes over the data per phase that `min_steps` may ask for, at most.
const MAX_EPOCHS: usize = 50;

#[derive(Debug, Clone, Copy)]
pub struct TrainOptions {
    /// Passes over the data per phase, at least: small data (daily conversion rows) takes more, so
    /// that every phase makes `min_steps` optimiser steps.
    pub epochs: usize,
    pub min_steps: usize,
    pub batch_rows: i64,
    pub learning_rate: f64,
    /// L2 penalty on every weight, each step (against the batch's loss per trial).
    pub l2: f64,
    /// Dimensions of each field's interaction vector (factorisation machine).
    pub factors: i64,
    /// The interaction vectors' L2 as a multiple of `l2`: chosen on the validation days among
    /// [`FACTOR_L2_SCALES`] (sparse conversions need the interactions held tighter than clicks).
    pub factor_l2_scale: f64,
    pub seed: i64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 6,
            min_steps: 200,
            factor_l2_scale: 1.0,
            batch_rows: 4_096,
            learning_rate: 0.05,
            l2: 2e-5,
            factors: 6,
            seed: 7,
        }
    }
}

/// A trained model: weights on `device` and the Platt scaling fitted after training.
pub struct RateModel {
    pub architecture: Architecture,
    bias: Tensor,
    linear: Tensor,
    factors: Option<Tensor>,
    /// Calibrated logit: `scale · raw + shift`.
    pub scale: f64,
    pub shift: f64,
    device: Device,
}

/// Rows as tensors: field rows `[n, fields]`, trials and successes `[n]`.
pub struct Batch {
    pub rows: Tensor,
    pub trials: Tensor,
    pub successes: Tensor,
}

impl Batch {
    pub fn new(observations: &[Observation], device: Device) -> Batch {
        let rows: Vec<i64> = observations.iter().flat_map(encode).collect();
        let trials: Vec<f32> = observations.iter().map(|o| o.trials as f32).collect();
        let successes: Vec<f32> = observations
            .iter()
            .map(|o| o.successes.min(o.trials) as f32)
            .collect();
        Batch {
            rows: Tensor::from_slice(&rows)
                .view([observations.len() as i64, FIELDS.len() as i64])
                .to_device(device),
            trials: Tensor::from_slice(&trials).to_device(device),
            successes: Tensor::from_slice(&successes).to_device(device),
        }
    }

    fn select(&self, index: &Tensor) -> Batch {
        Batch {
            rows: self.rows.index_select(0, index),
            trials: self.trials.index_select(0, index),
            successes: self.successes.index_select(0, index),
        }
    }
}

/// The leading fields that name an entity rather than describe it.
const IDENTITY_FIELDS: i64 = 3;

/// Which fields enter the linear part: all, or the shared ones only (the first phase of training).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fields {
    All,
    Shared,
}

fn raw_logits(
    bias: &Tensor,
    linear: &Tensor,
    factors: Option<&Tensor>,
    rows: &Tensor,
    fields: Fields,
) -> Tensor {
    let attributes = rows.narrow(1, IDENTITY_FIELDS, FIELDS.len() as i64 - IDENTITY_FIELDS);
    let linear_rows = match fields {
        Fields::All => rows,
        Fields::Shared => &attributes,
    };
    // The linear weights are a one-column table: [n, fields, 1] summed to [n].
    let first = Tensor::embedding(linear, linear_rows, -1, false, false).sum_dim_intlist(
        [1i64, 2].as_slice(),
        false,
        Kind::Float,
    );
    let mut z = first + bias;
    if let Some(v) = factors {
        // Identities (unit, ad group, campaign) enter linearly only: their interactions could
        // only be learned from their own few rows. Attributes interact.
        let e = Tensor::embedding(v, &attributes, -1, false, false); // [n, fields, k]
        let sum = e.sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
        let squares = e
            .pow_tensor_scalar(2)
            .sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
        z += (sum.pow_tensor_scalar(2) - squares).sum_dim_intlist(
            [1i64].as_slice(),
            false,
            Kind::Float,
        ) * 0.5;
    }
    z
}

/// Binomial negative log-likelihood of the counts, per trial.
fn nll(logits: &Tensor, batch: &Batch) -> Tensor {
    let failures = &batch.trials - &batch.successes;
    let loss = -(&batch.successes * logits.log_sigmoid() + failures * (-logits).log_sigmoid());
    loss.sum(Kind::Float) / batch.trials.sum(Kind::Float).clamp_min(1.0)
}

impl RateModel {
    pub fn train(
        architecture: Architecture,
        train: &[Observation],
        validation: &[Observation],
        options: &TrainOptions,
        device: Device,
    ) -> Result<RateModel, MlError> {
        if train.is_empty() {
            return Err(MlError::Model("no observations to train on".into()));
        }
        tch::manual_seed(options.seed);
        let store = nn::VarStore::new(device);
        let root = store.root();
        let total_trials: f64 = train.iter().map(|o| o.trials).sum();
        let total_successes: f64 = train.iter().map(|o| o.successes.min(o.trials)).sum();
        let base = (total_successes.max(0.5) / (total_trials - total_successes).max(0.5)).ln();
        let bias = root.var("bias", &[1], nn::Init::Const(base));
        let linear = root.zeros("linear", &[TABLE_ROWS, 1]);
        let factors = (architecture == Architecture::FactorisationMachine).then(|| {
            root.var(
                "factors",
                &[TABLE_ROWS, options.factors],
                nn::Init::Randn {
                    mean: 0.0,
                    stdev: 0.01,
                },
            )
        });
        let mut optimiser = nn::Adam::default().build(&store, options.learning_rate)?;
        let data = Batch::new(train, device);
        let n = train.len() as i64;
        // Shared fields first, then identities on top: trained together from the start, a unit's
        // or ad group's own weight explains what a segment × theme interaction would, and only the
        // shared explanation reaches a new campaign. Fitted first, the shared fields (and their
        // interactions) take all they can explain across campaigns; identities learn the rest.
        let phases = [Fields::Shared, Fields::All];
        let steps_per_epoch = (n as usize).div_ceil(options.batch_rows.max(1) as usize);
        // Small data (a new tenant's few hundred rows make one step an epoch) stops at
        // MAX_EPOCHS passes: more steps there only fit noise, and every step updates the whole
        // table.
        let epochs = options.epochs.max(
            options
                .min_steps
                .div_ceil(steps_per_epoch.max(1))
                .min(MAX_EPOCHS),
        );
        for epoch in 0..epochs * 2 {
            let fields = phases[(epoch / epochs).min(1)];
            let order = Tensor::randperm(n, (Kind::Int64, device));
            let mut start = 0;
            while start < n {
                let size = options.batch_rows.min(n - start);
                let batch = data.select(&order.narrow(0, start, size));
                let logits = raw_logits(&bias, &linear, factors.as_ref(), &batch.rows, fields);
                // The whole table's L2 once a step: a weight shared by many rows (a segment, a
                // copy) is shrunk as much as a unit's own, not once per row that touches it.
                let mut penalty = linear.pow_tensor_scalar(2).sum(Kind::Float);
                if let Some(v) = &factors {
                    penalty += v.pow_tensor_scalar(2).sum(Kind::Float) * options.factor_l2_scale;
                }
                let loss = nll(&logits, &batch) + penalty * options.l2;
                optimiser.backward_step(&loss);
                start += size;
            }
        }
        let mut model = RateModel {
            architecture,
            bias: bias.detach(),
            linear: linear.detach(),
            factors: factors.map(|f| f.detach()),
            scale: 1.0,
            shift: 0.0,
            device,
        };
        if !validation.is_empty() {
            model.calibrate(validation)?;
        }
        Ok(model)
    }

    fn raw(&self, rows: &Tensor) -> Tensor {
        raw_logits(
            &self.bias,
            &self.linear,
            self.factors.as_ref(),
            rows,
            Fields::All,
        )
    }

    /// Platt scaling on `validation`: a scale and a shift of the logit, by gradient descent.
    fn calibrate(&mut self, validation: &[Observation]) -> Result<(), MlError> {
        let batch = Batch::new(validation, self.device);
        let raw = tch::no_grad(|| self.raw(&batch.rows));
        let store = nn::VarStore::new(self.device);
        let scale = store.root().var("scale", &[1], nn::Init::Const(1.0));
        let shift = store.root().var("shift", &[1], nn::Init::Const(0.0));
        let mut optimiser = nn::Adam::default().build(&store, 0.02)?;
        for _ in 0..400 {
            optimiser.backward_step(&nll(&(&raw * &scale + &shift), &batch));
        }
        self.scale = f64::try_from(&scale)?;
        self.shift = f64::try_from(&shift)?;
        Ok(())
    }

    /// Calibrated probabilities for `observations` (their counts are ignored).
    pub fn predict(&self, observations: &[Observation]) -> Result<Vec<f64>, MlError> {
        if observations.is_empty() {
            return Ok(Vec::new());
        }
        let batch = Batch::new(observations, self.device);
        let p = tch::no_grad(|| (self.raw(&batch.rows) * self.scale + self.shift).sigmoid())
            .to_device(Device::Cpu)
            .to_kind(Kind::Double);
        Ok(Vec::<f64>::try_from(&p)?)
    }

    /// The weights as flat f32 vectors, for the artifact.
    pub fn tensors(&self) -> Result<Vec<(&'static str, Vec<f32>)>, MlError> {
        let flat = |t: &Tensor| -> Result<Vec<f32>, MlError> {
            Ok(Vec::<f32>::try_from(
                &t.to_device(Device::Cpu).to_kind(Kind::Float).reshape([-1]),
            )?)
        };
        let mut out = vec![
            ("bias", flat(&self.bias)?),
            ("linear", flat(&self.linear)?),
            ("calibration", vec![self.scale as f32, self.shift as f32]),
        ];
        if let Some(f) = &self.factors {
            out.push(("factors", flat(f)?));
        }
        Ok(out)
    }

    /// A model from the artifact's tensors, on `device`.
    pub fn from_tensors(
        architecture: Architecture,
        get: impl Fn(&str) -> Result<Vec<f32>, MlError>,
        device: Device,
    ) -> Result<RateModel, MlError> {
        let linear = get("linear")?;
        if linear.len() as i64 != TABLE_ROWS {
            return Err(MlError::Model(format!(
                "linear has {} rows, expected {TABLE_ROWS}",
                linear.len()
            )));
        }
        let calibration = get("calibration")?;
        let factors = match architecture {
            Architecture::Logistic => None,
            Architecture::FactorisationMachine => {
                let f = get("factors")?;
                let k = f.len() as i64 / TABLE_ROWS;
                if k == 0 || f.len() as i64 != k * TABLE_ROWS {
                    return Err(MlError::Model("factors do not fit the table".into()));
                }
                Some(
                    Tensor::from_slice(&f)
                        .view([TABLE_ROWS, k])
                        .to_device(device),
                )
            }
        };
        Ok(RateModel {
            architecture,
            bias: Tensor::from_slice(&get("bias")?).to_device(device),
            linear: Tensor::from_slice(&linear)
                .view([TABLE_ROWS, 1])
                .to_device(device),
            factors,
            scale: f64::from(calibration.first().copied().unwrap_or(1.0)),
            shift: f64::from(calibration.get(1).copied().unwrap_or(0.0)),
            device,
        })
    }
}
