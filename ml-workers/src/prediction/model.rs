//! The rate models, trained in tch on counts (each row weighs by its trials): logistic regression
//! over the hashed fields (one weight per bucket) and the embedded words of keyword and copy (one
//! weight per embedding dimension), and a factorisation machine that adds a learned interaction
//! between every pair of fields (`<v_i, v_j>`, the Rendle 2010 form computed in linear time; a
//! text field's vector is a learned projection of its embedding, so the words of a keyword meet the
//! audience they were shown to). Both are Platt-calibrated on a time-later validation slice.

use super::features::{encode, Observation, FIELDS, TABLE_ROWS};
use super::text::TextVectors;
use crate::MlError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
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

/// The weights of the two text fields (keyword, copy): the wordings the training texts fall into
/// (`centroids`, `[wordings, dim]`, unit rows), and per field `[wordings, 1 + factors]`: column 0
/// a wording's linear weight, the rest its vector in the interaction space.
struct TextWeights {
    centroids: Tensor,
    keyword: Tensor,
    copy: Tensor,
}

/// A trained model: weights on `device` and the Platt scaling fitted after training.
pub struct RateModel {
    pub architecture: Architecture,
    bias: Tensor,
    linear: Tensor,
    factors: Option<Tensor>,
    /// With the embeddings that feed it; `None` for a model of hashed fields only.
    text: Option<(TextWeights, Arc<TextVectors>)>,
    /// Calibrated logit: `scale · raw + shift`.
    pub scale: f64,
    pub shift: f64,
    device: Device,
}

/// The rows' texts: the distinct texts' embeddings `[texts, dim]` and each row's index per field.
struct TextRows {
    vectors: Tensor,
    keyword: Tensor,
    copy: Tensor,
}

/// Rows as tensors: field rows `[n, fields]`, trials and successes `[n]`.
pub struct Batch {
    rows: Tensor,
    trials: Tensor,
    successes: Tensor,
    text: Option<TextRows>,
}

impl Batch {
    pub fn new(
        observations: &[Observation],
        text: Option<&TextVectors>,
        device: Device,
    ) -> Result<Batch, MlError> {
        let rows: Vec<i64> = observations.iter().flat_map(encode).collect();
        let trials: Vec<f32> = observations.iter().map(|o| o.trials as f32).collect();
        let successes: Vec<f32> = observations
            .iter()
            .map(|o| o.successes.min(o.trials) as f32)
            .collect();
        let text = match text {
            None => None,
            Some(vectors) => {
                let table = vectors.table(
                    observations
                        .iter()
                        .map(|o| (o.keyword.as_str(), o.copy.as_str(), o.theme.as_str())),
                    device,
                )?;
                Some(TextRows {
                    vectors: table.vectors,
                    keyword: Tensor::from_slice(&table.keyword).to_device(device),
                    copy: Tensor::from_slice(&table.copy).to_device(device),
                })
            }
        };
        Ok(Batch {
            rows: Tensor::from_slice(&rows)
                .view([observations.len() as i64, FIELDS.len() as i64])
                .to_device(device),
            trials: Tensor::from_slice(&trials).to_device(device),
            successes: Tensor::from_slice(&successes).to_device(device),
            text,
        })
    }

    fn select(&self, index: &Tensor) -> Batch {
        Batch {
            rows: self.rows.index_select(0, index),
            trials: self.trials.index_select(0, index),
            successes: self.successes.index_select(0, index),
            text: self.text.as_ref().map(|t| TextRows {
                vectors: t.vectors.shallow_clone(),
                keyword: t.keyword.index_select(0, index),
                copy: t.copy.index_select(0, index),
            }),
        }
    }
}

/// Wordings the texts' embeddings are grouped into.
const WORDINGS: usize = 8;

/// The leading fields that name an entity rather than describe it.
const IDENTITY_FIELDS: i64 = 3;

/// Which fields enter the linear part: all, or the shared ones only (the first phase of training).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fields {
    All,
    Shared,
}

/// The weights a forward pass reads, trained or loaded.
struct Weights<'a> {
    bias: &'a Tensor,
    linear: &'a Tensor,
    factors: Option<&'a Tensor>,
    text: Option<&'a TextWeights>,
}

fn raw_logits(weights: &Weights, batch: &Batch, fields: Fields) -> Tensor {
    let Weights {
        bias,
        linear,
        factors,
        text,
    } = *weights;
    let rows = &batch.rows;
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
    // Each text field projected once per distinct text, then spread to its rows: [n, 1 + k].
    let mut text_factors = Vec::new();
    if let (Some(weights), Some(rows)) = (text, &batch.text) {
        let reduced = nearest_wording(&rows.vectors, &weights.centroids);
        for (w, index) in [
            (&weights.keyword, &rows.keyword),
            (&weights.copy, &rows.copy),
        ] {
            let projected = reduced.mm(w).index_select(0, index);
            z += projected.select(1, 0);
            if factors.is_some() {
                text_factors.push(projected.narrow(1, 1, projected.size()[1] - 1));
            }
        }
    }
    if let Some(v) = factors {
        // Identities (unit, ad group, campaign) enter linearly only: their interactions could
        // only be learned from their own few rows. Attributes interact, the words among them.
        let mut e = Tensor::embedding(v, &attributes, -1, false, false); // [n, fields, k]
        if !text_factors.is_empty() {
            e = Tensor::cat(&[e, Tensor::stack(&text_factors, 1)], 1);
        }
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

fn unit(vectors: &Tensor) -> (Tensor, Tensor) {
    let norms = vectors.norm_scalaropt_dim(2.0, [1i64].as_slice(), true);
    let spoken = norms.gt(1e-6).to_kind(Kind::Float);
    (vectors / norms.clamp_min(1e-12), spoken)
}

/// The wordings of the training texts: k-means (by cosine) over what each distinct text adds to
/// its theme, `[wordings, dim]`. A weight per wording is learned from every keyword that shares
/// it; a weight per embedding dimension, learned from a few thousand conversions, fitted each
/// text's noise instead (on the evaluation's conversion rate: no better than no words at all).
fn wordings(vectors: &Tensor, seed: i64) -> Tensor {
    tch::no_grad(|| {
        let (unit_rows, spoken) = unit(vectors);
        let said = spoken.squeeze_dim(1).nonzero().squeeze_dim(1);
        if said.size()[0] == 0 {
            return Tensor::zeros([1, vectors.size()[1]], (Kind::Float, vectors.device()));
        }
        let clustering =
            crate::kmeans::kmeans(&unit_rows.index_select(0, &said), WORDINGS, seed as u64, 30);
        unit(&clustering.centroids).0
    })
}

/// Each text's nearest wording, one-hot `[texts, wordings]`; an empty text, none.
fn nearest_wording(vectors: &Tensor, centroids: &Tensor) -> Tensor {
    let (unit_rows, spoken) = unit(vectors);
    let nearest = unit_rows.mm(&centroids.transpose(0, 1)).argmax(1, false);
    nearest.one_hot(centroids.size()[0]).to_kind(Kind::Float) * spoken
}

/// Binomial negative log-likelihood of the counts, per trial.
fn nll(logits: &Tensor, batch: &Batch) -> Tensor {
    let failures = &batch.trials - &batch.successes;
    let loss = -(&batch.successes * logits.log_sigmoid() + failures * (-logits).log_sigmoid());
    loss.sum(Kind::Float) / batch.trials.sum(Kind::Float).clamp_min(1.0)
}

impl RateModel {
    /// Trains on `train` (with the embedded words when `text` is given), calibrates on
    /// `validation`.
    pub fn train(
        architecture: Architecture,
        train: &[Observation],
        validation: &[Observation],
        options: &TrainOptions,
        text: Option<&Arc<TextVectors>>,
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
        let data = Batch::new(train, text.map(|t| t.as_ref()), device)?;
        let text_weights = data.text.as_ref().map(|rows| {
            let centroids = wordings(&rows.vectors, options.seed);
            let dim = centroids.size()[0];
            let columns = 1 + factors.as_ref().map_or(0, |_| options.factors);
            let field = |name: &str| {
                let w = root.var(
                    name,
                    &[dim, columns],
                    nn::Init::Randn {
                        mean: 0.0,
                        stdev: 0.01,
                    },
                );
                // The linear column starts at zero, as the hashed fields' weights do.
                tch::no_grad(|| {
                    let _ = w.narrow(1, 0, 1).zero_();
                });
                w
            };
            TextWeights {
                centroids,
                keyword: field("keyword_text"),
                copy: field("copy_text"),
            }
        });
        let mut optimiser = nn::Adam::default().build(&store, options.learning_rate)?;
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
                let weights = Weights {
                    bias: &bias,
                    linear: &linear,
                    factors: factors.as_ref(),
                    text: text_weights.as_ref(),
                };
                let logits = raw_logits(&weights, &batch, fields);
                // The whole table's L2 once a step: a weight shared by many rows (a segment, a
                // copy) is shrunk as much as a unit's own, not once per row that touches it.
                let mut penalty = linear.pow_tensor_scalar(2).sum(Kind::Float);
                if let Some(v) = &factors {
                    penalty += v.pow_tensor_scalar(2).sum(Kind::Float) * options.factor_l2_scale;
                }
                if let Some(t) = &text_weights {
                    for w in [&t.keyword, &t.copy] {
                        let columns = w.size()[1];
                        penalty += w.narrow(1, 0, 1).pow_tensor_scalar(2).sum(Kind::Float);
                        if columns > 1 {
                            penalty += w
                                .narrow(1, 1, columns - 1)
                                .pow_tensor_scalar(2)
                                .sum(Kind::Float)
                                * options.factor_l2_scale;
                        }
                    }
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
            text: match (text_weights, text) {
                (Some(w), Some(vectors)) => Some((
                    TextWeights {
                        centroids: w.centroids,
                        keyword: w.keyword.detach(),
                        copy: w.copy.detach(),
                    },
                    vectors.clone(),
                )),
                _ => None,
            },
            scale: 1.0,
            shift: 0.0,
            device,
        };
        if !validation.is_empty() {
            model.calibrate(validation)?;
        }
        Ok(model)
    }

    /// The embeddings this model reads, if it reads words.
    pub fn text_vectors(&self) -> Option<&Arc<TextVectors>> {
        self.text.as_ref().map(|(_, vectors)| vectors)
    }

    fn batch(&self, observations: &[Observation]) -> Result<Batch, MlError> {
        Batch::new(
            observations,
            self.text.as_ref().map(|(_, vectors)| vectors.as_ref()),
            self.device,
        )
    }

    fn raw(&self, batch: &Batch) -> Tensor {
        let weights = Weights {
            bias: &self.bias,
            linear: &self.linear,
            factors: self.factors.as_ref(),
            text: self.text.as_ref().map(|(w, _)| w),
        };
        raw_logits(&weights, batch, Fields::All)
    }

    /// Platt scaling on `validation`: a scale and a shift of the logit, by gradient descent.
    fn calibrate(&mut self, validation: &[Observation]) -> Result<(), MlError> {
        let batch = self.batch(validation)?;
        let raw = tch::no_grad(|| self.raw(&batch));
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
        let batch = self.batch(observations)?;
        let p = tch::no_grad(|| (self.raw(&batch) * self.scale + self.shift).sigmoid())
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
        if let Some((w, _)) = &self.text {
            out.push(("text_centroids", flat(&w.centroids)?));
            out.push(("keyword_text", flat(&w.keyword)?));
            out.push(("copy_text", flat(&w.copy)?));
        }
        Ok(out)
    }

    /// A model from the artifact's tensors, on `device`. An artifact with text weights needs
    /// `text`, the embeddings it was trained on (the registry checks the encoder's version).
    pub fn from_tensors(
        architecture: Architecture,
        get: impl Fn(&str) -> Result<Vec<f32>, MlError>,
        has: impl Fn(&str) -> bool,
        text: Option<Arc<TextVectors>>,
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
        let columns = 1 + factors.as_ref().map_or(0, |f| f.size()[1]);
        let text = if has("keyword_text") {
            let vectors = text.ok_or_else(|| {
                MlError::Model("the model reads words: it needs the text encoder".into())
            })?;
            let field = |name: &str| -> Result<Tensor, MlError> {
                let w = get(name)?;
                let wordings = w.len() as i64 / columns;
                if wordings == 0 || w.len() as i64 != wordings * columns {
                    return Err(MlError::Model(format!("{name} does not fit its columns")));
                }
                Ok(Tensor::from_slice(&w)
                    .view([wordings, columns])
                    .to_device(device))
            };
            let keyword = field("keyword_text")?;
            let copy = field("copy_text")?;
            let wordings = keyword.size()[0];
            if copy.size()[0] != wordings {
                return Err(MlError::Model(
                    "keyword_text and copy_text differ in wordings".into(),
                ));
            }
            let centroids = get("text_centroids")?;
            let dim = centroids.len() as i64 / wordings;
            if dim == 0 || centroids.len() as i64 != dim * wordings {
                return Err(MlError::Model(
                    "text_centroids do not fit the wordings".into(),
                ));
            }
            Some((
                TextWeights {
                    centroids: Tensor::from_slice(&centroids)
                        .view([wordings, dim])
                        .to_device(device),
                    keyword,
                    copy,
                },
                vectors,
            ))
        } else {
            None
        };
        Ok(RateModel {
            architecture,
            text,
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
