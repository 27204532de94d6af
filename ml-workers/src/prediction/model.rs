//! The rate models, trained in tch on counts (each row weighs by its trials): logistic regression
//! over the hashed fields (one weight per bucket) and the words of keyword and copy (one weight per
//! wording: the nearest of the k-means groups of the training texts' embeddings), and a
//! factorisation machine that adds a learned interaction between every pair of attribute fields
//! and wordings (`<v_i, v_j>`, the Rendle 2010 form computed in linear time), so the words of a
//! keyword meet the audience they were shown to. Training runs in two phases: shared fields and
//! their interactions first, then the linear weights of identities (unit, ad group, campaign) on
//! top while the interactions are held. Both are Platt-calibrated on a time-later validation slice.
//!
//! A conversion machine may read a trained click machine besides ([`Inputs::click`]): how well an
//! audience meets a message (theme, copy, words) moves clicks and conversions alike, and clicks
//! are a hundred times more plentiful than conversions, so the interactions the click model
//! learned enter the conversion model as one input with a weight of its own — the shared
//! representation of ESMM (Ma et al. 2018, "Entire Space Multi-Task Model"), in its simplest form.

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

/// What a model reads besides its hashed fields.
#[derive(Clone, Copy, Default)]
pub struct Inputs<'a> {
    /// The embeddings of the units' words.
    pub text: Option<&'a Arc<TextVectors>>,
    /// A trained click-through model whose audience × message interactions a conversion
    /// factorisation machine reads (logistic regression, the baseline, reads none).
    pub click: Option<&'a RateModel>,
}

impl<'a> Inputs<'a> {
    /// The words only.
    pub fn text(text: Option<&'a Arc<TextVectors>>) -> Inputs<'a> {
        Inputs { text, click: None }
    }
}

/// The click model a conversion model reads, kept whole in it (its artifact too), and the weight
/// the conversion model gives its interactions.
struct ClickPrior {
    model: Box<RateModel>,
    weight: Tensor,
}

/// A trained model: weights on `device` and the Platt scaling fitted after training.
pub struct RateModel {
    pub architecture: Architecture,
    bias: Tensor,
    linear: Tensor,
    factors: Option<Tensor>,
    /// With the embeddings that feed it; `None` for a model of hashed fields only.
    text: Option<(TextWeights, Arc<TextVectors>)>,
    click: Option<ClickPrior>,
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

/// Rows as tensors: field rows `[n, fields]`, trials and successes `[n]`, and the click model's
/// audience × message interactions `[n]` where one is read.
pub struct Batch {
    rows: Tensor,
    trials: Tensor,
    successes: Tensor,
    text: Option<TextRows>,
    click: Option<Tensor>,
}

impl Batch {
    pub fn new(
        observations: &[Observation],
        text: Option<&TextVectors>,
        click: Option<&RateModel>,
        device: Device,
    ) -> Result<Batch, MlError> {
        let rows: Vec<i64> = observations.iter().flat_map(encode).collect();
        let trials: Vec<f32> = observations.iter().map(|o| o.trials as f32).collect();
        let successes: Vec<f32> = observations
            .iter()
            .map(|o| o.successes.min(o.trials) as f32)
            .collect();
        let text_rows = match text {
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
        let mut batch = Batch {
            rows: Tensor::from_slice(&rows)
                .view([observations.len() as i64, FIELDS.len() as i64])
                .to_device(device),
            trials: Tensor::from_slice(&trials).to_device(device),
            successes: Tensor::from_slice(&successes).to_device(device),
            text: text_rows,
            click: None,
        };
        if let Some(model) = click {
            // The click model reads this batch's rows as they are, and its words too when it
            // reads them through the same embeddings: the table is not built twice.
            let affinity = if model.reads_like(text, device) {
                model.affinity(&batch)
            } else {
                model.affinity(&model.batch(observations)?)
            };
            batch.click = Some(affinity.to_device(device));
        }
        Ok(batch)
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
            click: self.click.as_ref().map(|c| c.index_select(0, index)),
        }
    }
}

/// Where a conversion model's artifact keeps the click model it reads.
const CLICK_PREFIX: &str = "click.";

/// Wordings the texts' embeddings are grouped into.
const WORDINGS: usize = 8;

/// The leading fields that name an entity rather than describe it.
const IDENTITY_FIELDS: i64 = 3;

/// The audience (segment) field, and the fields of the message it meets: theme, copy and kind
/// (with the words of keyword and copy). Hour, day and bid are left out: a conversion row is a
/// whole day, which the click model's hours never were.
const AUDIENCE_FIELD: i64 = 5;
const MESSAGE_FIELDS: [i64; 3] = [3, 4, 6];

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
    click: Option<&'a Tensor>,
}

/// The text fields' terms: each field projected once per distinct text, then spread to its rows
/// (`[n, 1 + k]`): the linear column summed over both fields `[n]`, and each field's interaction
/// vectors `[n, k]` when `interacting`.
fn text_terms(
    text: Option<&TextWeights>,
    batch: &Batch,
    interacting: bool,
) -> (Option<Tensor>, Vec<Tensor>) {
    let (Some(weights), Some(rows)) = (text, &batch.text) else {
        return (None, Vec::new());
    };
    let reduced = nearest_wording(&rows.vectors, &weights.centroids);
    let mut linear: Option<Tensor> = None;
    let mut vectors = Vec::new();
    for (w, index) in [
        (&weights.keyword, &rows.keyword),
        (&weights.copy, &rows.copy),
    ] {
        let projected = reduced.mm(w).index_select(0, index);
        let column = projected.select(1, 0);
        linear = Some(match linear {
            Some(sum) => sum + column,
            None => column,
        });
        if interacting {
            vectors.push(projected.narrow(1, 1, projected.size()[1] - 1));
        }
    }
    (linear, vectors)
}

/// The sum of every pair's interaction `<e_i, e_j>` over the fields of `e` `[n, fields, k]`: the
/// Rendle form, in linear time.
fn pairwise(e: &Tensor) -> Tensor {
    let sum = e.sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    let squares = e
        .pow_tensor_scalar(2)
        .sum_dim_intlist([1i64].as_slice(), false, Kind::Float);
    (sum.pow_tensor_scalar(2) - squares).sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
        * 0.5
}

/// The interaction vectors of `fields` (columns of the batch's rows) and of the words.
fn interaction_vectors(factors: &Tensor, fields: &Tensor, text_vectors: Vec<Tensor>) -> Tensor {
    let e = Tensor::embedding(factors, fields, -1, false, false); // [n, fields, k]
    if text_vectors.is_empty() {
        e
    } else {
        Tensor::cat(&[e, Tensor::stack(&text_vectors, 1)], 1)
    }
}

fn raw_logits(weights: &Weights, batch: &Batch, fields: Fields) -> Tensor {
    let Weights {
        bias,
        linear,
        factors,
        text,
        click,
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
    let (text_linear, text_vectors) = text_terms(text, batch, factors.is_some());
    if let Some(t) = text_linear {
        z += t;
    }
    if let Some(v) = factors {
        // Identities (unit, ad group, campaign) enter linearly only: their interactions could
        // only be learned from their own few rows. Attributes interact, the words among them.
        z += pairwise(&interaction_vectors(v, &attributes, text_vectors));
    }
    if let (Some(w), Some(affinity)) = (click, &batch.click) {
        z += affinity * w;
    }
    z
}

/// The rows at unit length, and which rows say anything at all (`[rows, 1]`: an empty text's
/// row is zeros).
fn unit(vectors: &Tensor) -> (Tensor, Tensor) {
    let spoken = vectors
        .norm_scalaropt_dim(2.0, [1i64].as_slice(), true)
        .gt(1e-6)
        .to_kind(Kind::Float);
    (crate::encoder::unit_rows(vectors), spoken)
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
        inputs: Inputs,
        device: Device,
    ) -> Result<RateModel, MlError> {
        let text = inputs.text;
        let click = inputs
            .click
            .filter(|_| architecture == Architecture::FactorisationMachine);
        if train.is_empty() {
            return Err(MlError::Model("no observations to train on".into()));
        }
        tch::manual_seed(options.seed);
        // The linear weights learn in both phases; the interactions, the words and the click
        // model's weight in the first only (see the phases below).
        let linear_store = nn::VarStore::new(device);
        let store = nn::VarStore::new(device);
        let root = store.root();
        let total_trials: f64 = train.iter().map(|o| o.trials).sum();
        let total_successes: f64 = train.iter().map(|o| o.successes.min(o.trials)).sum();
        let base = (total_successes.max(0.5) / (total_trials - total_successes).max(0.5)).ln();
        let bias = linear_store.root().var("bias", &[1], nn::Init::Const(base));
        let linear = linear_store.root().zeros("linear", &[TABLE_ROWS, 1]);
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
        let data = Batch::new(train, text.map(|t| t.as_ref()), click, device)?;
        let click_weight = click.map(|_| root.zeros("click_weight", &[1]));
        let text_weights = data.text.as_ref().map(|rows| {
            let centroids = wordings(&rows.vectors, options.seed);
            let wording_count = centroids.size()[0];
            let columns = 1 + factors.as_ref().map_or(0, |_| options.factors);
            let field = |name: &str| {
                let w = root.var(
                    name,
                    &[wording_count, columns],
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
        let mut linear_optimiser =
            nn::Adam::default().build(&linear_store, options.learning_rate)?;
        let mut optimiser = match store.len() {
            0 => None,
            _ => Some(nn::Adam::default().build(&store, options.learning_rate)?),
        };
        let n = train.len() as i64;
        // Shared fields first, then identities on top: trained together from the start, a unit's
        // or ad group's own weight explains what a segment × theme interaction would, and only the
        // shared explanation reaches a new campaign. Fitted first, the shared fields (and their
        // interactions) take all they can explain across campaigns; then the interactions and the
        // words are held, and the linear weights (identities among them) learn the rest. Trained
        // on, the interactions dwindled to nothing under their penalty once identities explained
        // the same rows (Adam shrinks a weight the data no longer pulls at full step size), and a
        // new campaign lost them.
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
            let held = fields == Fields::All;
            let now = |t: &Tensor| if held { t.detach() } else { t.shallow_clone() };
            let factors_now = factors.as_ref().map(now);
            let text_now = text_weights.as_ref().map(|t| TextWeights {
                centroids: t.centroids.shallow_clone(),
                keyword: now(&t.keyword),
                copy: now(&t.copy),
            });
            let click_now = click_weight.as_ref().map(now);
            let order = Tensor::randperm(n, (Kind::Int64, device));
            let mut start = 0;
            while start < n {
                let size = options.batch_rows.min(n - start);
                let batch = data.select(&order.narrow(0, start, size));
                let weights = Weights {
                    bias: &bias,
                    linear: &linear,
                    factors: factors_now.as_ref(),
                    text: text_now.as_ref(),
                    click: click_now.as_ref(),
                };
                let logits = raw_logits(&weights, &batch, fields);
                // The whole table's L2 once a step: a weight shared by many rows (a segment, a
                // copy) is shrunk as much as a unit's own, not once per row that touches it.
                let mut penalty = linear.pow_tensor_scalar(2).sum(Kind::Float);
                if let (Some(v), false) = (&factors, held) {
                    penalty += v.pow_tensor_scalar(2).sum(Kind::Float) * options.factor_l2_scale;
                }
                if let (Some(t), false) = (&text_weights, held) {
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
                linear_optimiser.zero_grad();
                match (&mut optimiser, held) {
                    (Some(optimiser), false) => {
                        optimiser.zero_grad();
                        loss.backward();
                        optimiser.step();
                    }
                    _ => loss.backward(),
                }
                linear_optimiser.step();
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
            click: match (click, click_weight) {
                (Some(model), Some(weight)) => Some(ClickPrior {
                    model: Box::new(model.shallow_copy()),
                    weight: weight.detach(),
                }),
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

    /// The weight this conversion model gives the click model's interactions, if it reads one.
    pub fn click_weight(&self) -> Option<f64> {
        self.click
            .as_ref()
            .and_then(|c| f64::try_from(&c.weight).ok())
    }

    /// The same weights, shared (tensors are reference-counted): what a conversion model keeps of
    /// the click model it reads.
    fn shallow_copy(&self) -> RateModel {
        RateModel {
            architecture: self.architecture,
            bias: self.bias.shallow_clone(),
            linear: self.linear.shallow_clone(),
            factors: self.factors.as_ref().map(Tensor::shallow_clone),
            text: self.text.as_ref().map(|(w, vectors)| {
                (
                    TextWeights {
                        centroids: w.centroids.shallow_clone(),
                        keyword: w.keyword.shallow_clone(),
                        copy: w.copy.shallow_clone(),
                    },
                    vectors.clone(),
                )
            }),
            click: self.click.as_ref().map(|c| ClickPrior {
                model: Box::new(c.model.shallow_copy()),
                weight: c.weight.shallow_clone(),
            }),
            scale: self.scale,
            shift: self.shift,
            device: self.device,
        }
    }

    /// How each row's audience meets its message, as this model learned it: the interactions of
    /// [`AUDIENCE_FIELD`] with [`MESSAGE_FIELDS`] and the words `[n]` (zero for a model without
    /// interactions). What the message's parts do to each other is the click's own business
    /// (copy against match type, say), not the audience's.
    fn affinity(&self, batch: &Batch) -> Tensor {
        let Some(v) = &self.factors else {
            return Tensor::zeros([batch.rows.size()[0]], (Kind::Float, self.device));
        };
        tch::no_grad(|| {
            let columns = Tensor::from_slice(&MESSAGE_FIELDS).to_device(self.device);
            let message = batch.rows.index_select(1, &columns);
            let (_, words) = text_terms(self.text.as_ref().map(|(w, _)| w), batch, true);
            let message = interaction_vectors(v, &message, words).sum_dim_intlist(
                [1i64].as_slice(),
                false,
                Kind::Float,
            );
            let audience =
                Tensor::embedding(v, &batch.rows.select(1, AUDIENCE_FIELD), -1, false, false);
            (audience * message).sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
        })
    }

    /// Whether a batch built with `text` on `device` holds what this model reads: its rows
    /// always, and its words when this model reads none or reads these same embeddings.
    fn reads_like(&self, text: Option<&TextVectors>, device: Device) -> bool {
        device == self.device
            && match (&self.text, text) {
                (None, _) => true,
                (Some((_, own)), Some(given)) => std::ptr::eq(own.as_ref(), given),
                (Some(_), None) => false,
            }
    }

    fn batch(&self, observations: &[Observation]) -> Result<Batch, MlError> {
        Batch::new(
            observations,
            self.text.as_ref().map(|(_, vectors)| vectors.as_ref()),
            self.click.as_ref().map(|c| c.model.as_ref()),
            self.device,
        )
    }

    fn raw(&self, batch: &Batch) -> Tensor {
        let weights = Weights {
            bias: &self.bias,
            linear: &self.linear,
            factors: self.factors.as_ref(),
            text: self.text.as_ref().map(|(w, _)| w),
            click: self.click.as_ref().map(|c| &c.weight),
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
    pub fn tensors(&self) -> Result<Vec<(String, Vec<f32>)>, MlError> {
        let flat = |t: &Tensor| -> Result<Vec<f32>, MlError> {
            Ok(Vec::<f32>::try_from(
                &t.to_device(Device::Cpu).to_kind(Kind::Float).reshape([-1]),
            )?)
        };
        let mut out = vec![
            ("bias".to_owned(), flat(&self.bias)?),
            ("linear".to_owned(), flat(&self.linear)?),
            (
                "calibration".to_owned(),
                vec![self.scale as f32, self.shift as f32],
            ),
        ];
        if let Some(f) = &self.factors {
            out.push(("factors".to_owned(), flat(f)?));
        }
        if let Some((w, _)) = &self.text {
            out.push(("text_centroids".to_owned(), flat(&w.centroids)?));
            out.push(("keyword_text".to_owned(), flat(&w.keyword)?));
            out.push(("copy_text".to_owned(), flat(&w.copy)?));
        }
        if let Some(click) = &self.click {
            out.push(("click_weight".to_owned(), flat(&click.weight)?));
            for (name, values) in click.model.tensors()? {
                out.push((format!("{CLICK_PREFIX}{name}"), values));
            }
        }
        Ok(out)
    }

    /// A model from the artifact's tensors, on `device`. An artifact with text weights needs
    /// `text`, the embeddings it was trained on (the registry checks the encoder's version).
    pub fn from_tensors(
        architecture: Architecture,
        get: &dyn Fn(&str) -> Result<Vec<f32>, MlError>,
        has: &dyn Fn(&str) -> bool,
        text: Option<Arc<TextVectors>>,
        device: Device,
    ) -> Result<RateModel, MlError> {
        let click = if has("click_weight") {
            let prefixed = |name: &str| format!("{CLICK_PREFIX}{name}");
            let click_architecture = if has(&prefixed("factors")) {
                Architecture::FactorisationMachine
            } else {
                Architecture::Logistic
            };
            let model = RateModel::from_tensors(
                click_architecture,
                &|name| get(&prefixed(name)),
                &|name| has(&prefixed(name)),
                text.clone(),
                device,
            )?;
            let weight = get("click_weight")?;
            if weight.len() != 1 {
                return Err(MlError::Model("click_weight is not one number".into()));
            }
            Some(ClickPrior {
                model: Box::new(model),
                weight: Tensor::from_slice(&weight).to_device(device),
            })
        } else {
            None
        };
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
            click,
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
