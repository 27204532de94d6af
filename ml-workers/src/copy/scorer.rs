//! The learned copy scorer: logistic regression over features of a line of copy (how much of the
//! limit it uses, numbers, a call to action, the product, words of the offer, buzzwords…), trained
//! in tch on `data/copy_quality.tsv`, shipped as a safetensors artifact with its version, the hash
//! of its training data and its held-out metrics.

use super::FieldSpec;
use crate::artifact::Artifact;
use crate::brief::Brief;
use crate::MlError;
use std::collections::HashMap;
use tch::{Kind, Tensor};

pub const FEATURES: [&str; 18] = [
    "length_ratio",
    "length_ratio_squared",
    "has_number",
    "has_call_to_action",
    "second_person",
    "names_product",
    "offer_overlap",
    "words",
    "question",
    "buzzwords",
    "superlative",
    "short_line",
    "concrete_fact",
    "empty_frames",
    "category_pileup",
    "verb_as_noun",
    "product_repeated",
    "miscased_name",
];
/// One line's feature vector.
pub type Features = [f32; FEATURES.len()];

const CTA_VERBS: [&str; 14] = [
    "book", "get", "start", "try", "request", "see", "discover", "talk", "meet", "close", "cut",
    "find", "automate", "hire",
];
const BUZZWORDS: [&str; 14] = [
    "innovative",
    "innovation",
    "synergy",
    "synergies",
    "leverage",
    "cutting-edge",
    "world-class",
    "solutions",
    "leading",
    "paradigm",
    "next-generation",
    "best-in-class",
    "excellence",
    "passionate",
];
const STOP: [&str; 12] = [
    "a", "an", "the", "and", "or", "for", "to", "of", "in", "with", "your", "our",
];

/// Words that name a kind of product: two in a row ("software platform", "demo vendor") are a
/// keyword with a category pasted on, not a phrase a marketer writes.
const CATEGORY_NOUNS: [&str; 11] = [
    "software",
    "platform",
    "tool",
    "tools",
    "vendor",
    "solution",
    "solutions",
    "demo",
    "app",
    "system",
    "suite",
];
/// Sentence frames and calls to action that fit any product, so say nothing of this one.
const EMPTY_FRAMES: [&str; 16] = [
    "b2b teams",
    "go further",
    "make the switch",
    "win with",
    "move faster",
    "explore the platform",
    "learn more with",
    "see why",
    "made simple",
    "smarter",
    "easy for",
    "control of",
    "into one place",
    "get a free assessment",
    "start now",
    "let's talk",
];
/// Verbs in their third-person form: after "with", "for" or "of", or opening a headline, a verb
/// was taken for a noun ("helps teams with reduces fuel spend").
const THIRD_PERSON_VERBS: [&str; 22] = [
    "reduces",
    "cuts",
    "lowers",
    "lifts",
    "raises",
    "forecasts",
    "saves",
    "boosts",
    "grows",
    "automates",
    "increases",
    "improves",
    "tracks",
    "finds",
    "sends",
    "closes",
    "turns",
    "runs",
    "protects",
    "scores",
    "pays",
    "trains",
];
const BARE_VERBS: [&str; 10] = [
    "reduce", "cut", "lower", "lift", "raise", "boost", "grow", "save", "protect", "forecast",
];
/// Acronyms and product names a brief writes in capitals: written otherwise, a line was pasted
/// from a lower-cased keyword.
const ACRONYMS: [&str; 14] = [
    "aws", "gcp", "crm", "cpq", "lms", "api", "saas", "soc", "gdpr", "hipaa", "b2b", "sql", "erp",
    "seo",
];
const NAMES: [&str; 14] = [
    "salesforce",
    "hubspot",
    "kubernetes",
    "slack",
    "shopify",
    "zendesk",
    "okta",
    "jira",
    "google",
    "linkedin",
    "microsoft",
    "workday",
    "azure",
    "excel",
];
const CERTIFICATIONS: [&str; 6] = [
    "soc 2",
    "iso 27001",
    "gdpr",
    "hipaa",
    "certified",
    "compliant",
];

/// A number that is not a year, a certification, or a customer count: what a reader can check.
fn concrete_fact(text: &str, lower: &str) -> bool {
    let numbers = text
        .split(|c: char| !c.is_ascii_digit() && c != ',')
        .map(|n| n.trim_matches(','))
        .filter(|n| !n.is_empty());
    let mut number = false;
    for n in numbers {
        let year = n.len() == 4 && (n.starts_with("19") || n.starts_with("20"));
        number |= !year;
    }
    number || lower.contains("trusted by") || CERTIFICATIONS.iter().any(|c| lower.contains(c))
}

fn category_pileup(words: &[String], max_chars: usize) -> bool {
    let is_category = |w: &String| CATEGORY_NOUNS.contains(&w.as_str());
    let pair = words
        .windows(2)
        .any(|p| is_category(&p[0]) && is_category(&p[1]));
    // A short headline ending on "tool" or "vendor" is a keyword with a category pasted on.
    let tail = max_chars <= 30
        && words
            .last()
            .is_some_and(|w| matches!(w.as_str(), "tool" | "vendor" | "software" | "solution"));
    pair || tail
}

fn verb_as_noun(lower_words: &[String]) -> bool {
    lower_words.iter().enumerate().any(|(i, w)| {
        let before = i.checked_sub(1).map(|j| lower_words[j].as_str());
        let after = lower_words.get(i + 1).map(String::as_str);
        (THIRD_PERSON_VERBS.contains(&w.as_str())
            && (i == 0 || matches!(before, Some("with" | "for" | "of" | "the"))))
            || (BARE_VERBS.contains(&w.as_str())
                && after.is_some_and(|a| CATEGORY_NOUNS.contains(&a)))
    })
}

fn miscased_name(text: &str) -> bool {
    tokens(text).any(|w| {
        let lower = w.to_lowercase();
        (ACRONYMS.contains(&lower.as_str()) && w.chars().any(|c| c.is_lowercase()))
            || (NAMES.contains(&lower.as_str()) && w.starts_with(|c: char| c.is_lowercase()))
    })
}

/// The words of `text` as written (letters, digits and hyphens).
fn tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
}

fn content_words(text: &str) -> Vec<String> {
    tokens(text)
        .map(str::to_lowercase)
        .filter(|w| !STOP.contains(&w.as_str()))
        .collect()
}

/// The feature vector of one line of copy.
pub fn features(text: &str, max_chars: usize, product: &str, offer: &str) -> Features {
    let ratio = text.chars().count() as f32 / max_chars.max(1) as f32;
    let words = content_words(text);
    let offer_words: Vec<String> = content_words(offer);
    let overlap = if words.is_empty() {
        0.0
    } else {
        words.iter().filter(|w| offer_words.contains(w)).count() as f32 / words.len() as f32
    };
    let lower = text.to_lowercase();
    let has = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str())) as u8 as f32;
    let superlative = adflow_domain::structure::editorial::issues(
        text,
        adflow_domain::structure::editorial::TextRole::Body,
    )
    .contains(&adflow_domain::structure::editorial::EditorialIssue::Superlative);
    let all_words: Vec<String> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let product_lower = product.to_lowercase();
    let frames = EMPTY_FRAMES.iter().filter(|f| lower.contains(*f)).count();
    [
        ratio,
        ratio * ratio,
        text.chars().any(|c| c.is_ascii_digit()) as u8 as f32,
        has(&CTA_VERBS),
        (lower.contains("you") || lower.contains("your")) as u8 as f32,
        (!product.is_empty() && lower.contains(&product_lower)) as u8 as f32,
        overlap,
        (text.split_whitespace().count() as f32 / 12.0).min(2.0),
        text.contains('?') as u8 as f32,
        has(&BUZZWORDS),
        superlative as u8 as f32,
        (text.split_whitespace().count() <= 2) as u8 as f32,
        concrete_fact(text, &lower) as u8 as f32,
        frames.min(3) as f32,
        category_pileup(&all_words, max_chars) as u8 as f32,
        verb_as_noun(&all_words) as u8 as f32,
        (!product_lower.is_empty() && lower.matches(&product_lower).count() >= 2) as u8 as f32,
        miscased_name(text) as u8 as f32,
    ]
}

/// A standardised logistic regression: `sigmoid(w · (x - mean) / std + b)`.
pub struct CopyScorer {
    weight: Vec<f32>,
    bias: f32,
    mean: Vec<f32>,
    std: Vec<f32>,
    pub artifact: Artifact,
}

pub const ARTIFACT_BYTES: &[u8] = include_bytes!("../../models/copy-scorer.safetensors");

/// Lines the scorer never trained on, harder than its training set (the generator's own bad lines
/// against lines grounded in their brief): what its ranking quality is measured on. Its kinds of
/// failure were in view when the scorer's features were chosen, so it flatters them.
pub const HOLDOUT: &str = include_str!("../../data/copy_quality_holdout.tsv");
/// Lines written after the features were fixed, with kinds of failure they do not name: the
/// honest measure of the scorer's ranking.
pub const BLIND_HOLDOUT: &str = include_str!("../../data/copy_quality_holdout_2.tsv");

impl CopyScorer {
    /// The scorer shipped with this build.
    pub fn shipped() -> Result<CopyScorer, MlError> {
        Self::from_artifact(Artifact::parse(
            ARTIFACT_BYTES,
            "models/copy-scorer.safetensors",
        )?)
    }

    pub fn from_artifact(artifact: Artifact) -> Result<CopyScorer, MlError> {
        let take = |name: &str| artifact.floats(name);
        let (weight, bias, mean, std) =
            (take("weight")?, take("bias")?, take("mean")?, take("std")?);
        if weight.len() != FEATURES.len()
            || mean.len() != FEATURES.len()
            || std.len() != FEATURES.len()
        {
            return Err(MlError::Artifact {
                path: artifact.origin.clone(),
                reason: format!("expects {} features", FEATURES.len()),
            });
        }
        Ok(CopyScorer {
            weight,
            bias: bias.first().copied().unwrap_or(0.0),
            mean,
            std,
            artifact,
        })
    }

    /// How many labelled lines `tsv` holds (the training set's format) and the AUC of this
    /// scorer's ranking of them.
    pub fn ranking_auc(&self, tsv: &str) -> Result<(usize, f64), MlError> {
        let examples = parse_dataset(tsv)?;
        let scores: Vec<f32> = examples.iter().map(|e| self.score(&e.x)).collect();
        let labels: Vec<f32> = examples.iter().map(|e| e.label).collect();
        Ok((examples.len(), auc(&scores, &labels)))
    }

    pub fn score(&self, x: &Features) -> f32 {
        let z: f32 = self.bias
            + x.iter()
                .zip(&self.weight)
                .zip(self.mean.iter().zip(&self.std))
                .map(|((x, w), (m, s))| w * (x - m) / s.max(1e-6))
                .sum::<f32>();
        1.0 / (1.0 + (-z).exp())
    }

    /// The mean score of a variation's lines; short lines weigh as much as long ones.
    pub fn score_variation(&self, brief: &Brief, fields: &[FieldSpec], texts: &[String]) -> f32 {
        let scores: Vec<f32> = fields
            .iter()
            .zip(texts)
            .map(|(spec, text)| {
                self.score(&features(
                    text,
                    spec.max_chars,
                    &brief.business_name,
                    &brief.offer,
                ))
            })
            .collect();
        scores.iter().sum::<f32>() / scores.len().max(1) as f32
    }
}

/// One labelled line of the training set.
pub struct Example {
    pub label: f32,
    pub x: Features,
}

pub fn parse_dataset(tsv: &str) -> Result<Vec<Example>, MlError> {
    let mut examples = Vec::new();
    for (number, line) in tsv.lines().enumerate() {
        if line.starts_with('#') || line.starts_with("label\t") || line.trim().is_empty() {
            continue;
        }
        let columns: Vec<&str> = line.split('\t').collect();
        let bad = || MlError::BadRequest(format!("copy_quality.tsv line {}: {line:?}", number + 1));
        let [label, max_chars, product, offer, text] = columns[..] else {
            return Err(bad());
        };
        let label: f32 = label.parse().map_err(|_| bad())?;
        let max_chars: usize = max_chars.parse().map_err(|_| bad())?;
        examples.push(Example {
            label,
            x: features(text, max_chars, product, offer),
        });
    }
    Ok(examples)
}

pub struct Trained {
    pub weight: Vec<f32>,
    pub bias: f32,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
    pub metrics: HashMap<String, f64>,
}

fn fit(x: &Tensor, y: &Tensor, steps: usize) -> (Tensor, Tensor) {
    let features = x.size()[1];
    let mut w = Tensor::zeros([features], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
    let mut b = Tensor::zeros([1], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
    let learning_rate = 0.1;
    for _ in 0..steps {
        let logits = x.matmul(&w) + &b;
        let loss =
            logits.binary_cross_entropy_with_logits::<Tensor>(y, None, None, tch::Reduction::Mean)
                + w.pow_tensor_scalar(2).sum(Kind::Float) * 1e-3;
        w.zero_grad();
        b.zero_grad();
        loss.backward();
        tch::no_grad(|| {
            let _ = w.f_sub_(&(w.grad() * learning_rate));
            let _ = b.f_sub_(&(b.grad() * learning_rate));
        });
    }
    (w.detach(), b.detach())
}

fn auc(scores: &[f32], labels: &[f32]) -> f64 {
    let positives: Vec<f32> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l > 0.5)
        .map(|(s, _)| *s)
        .collect();
    let negatives: Vec<f32> = scores
        .iter()
        .zip(labels)
        .filter(|(_, l)| **l <= 0.5)
        .map(|(s, _)| *s)
        .collect();
    if positives.is_empty() || negatives.is_empty() {
        return 0.5;
    }
    let mut wins = 0.0;
    for p in &positives {
        for n in &negatives {
            wins += if p > n {
                1.0
            } else if p == n {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (positives.len() * negatives.len()) as f64
}

/// Trains on every example, and reports accuracy and AUC from 5-fold cross-validation.
pub fn train(examples: &[Example]) -> Trained {
    let rows: Vec<f32> = examples.iter().flat_map(|e| e.x).collect();
    let labels: Vec<f32> = examples.iter().map(|e| e.label).collect();
    let n = examples.len() as i64;
    let x = Tensor::from_slice(&rows).view([n, FEATURES.len() as i64]);
    let mean = x.mean_dim([0i64].as_slice(), true, Kind::Float);
    let std = x.std_dim([0i64].as_slice(), false, true).clamp_min(1e-6);
    let z = (&x - &mean) / &std;
    let y = Tensor::from_slice(&labels);

    let folds = 5;
    let mut held_scores = vec![0f32; examples.len()];
    for fold in 0..folds {
        let (train_idx, test_idx): (Vec<i64>, Vec<i64>) =
            (0..n).partition(|i| (*i as usize) % folds != fold);
        let train_i = Tensor::from_slice(&train_idx);
        let test_i = Tensor::from_slice(&test_idx);
        let (w, b) = fit(
            &z.index_select(0, &train_i),
            &y.index_select(0, &train_i),
            1_500,
        );
        let p = (z.index_select(0, &test_i).matmul(&w) + &b).sigmoid();
        let p: Vec<f32> = Vec::<f32>::try_from(p).unwrap_or_default();
        for (i, score) in test_idx.iter().zip(p) {
            held_scores[*i as usize] = score;
        }
    }
    let accuracy = held_scores
        .iter()
        .zip(&labels)
        .filter(|(s, l)| (**s > 0.5) == (**l > 0.5))
        .count() as f64
        / labels.len().max(1) as f64;
    let (w, b) = fit(&z, &y, 1_500);
    let floats = |t: &Tensor| Vec::<f32>::try_from(t.reshape([-1])).unwrap_or_default();
    Trained {
        weight: floats(&w),
        bias: floats(&b).first().copied().unwrap_or(0.0),
        mean: floats(&mean),
        std: floats(&std),
        metrics: HashMap::from([
            ("cv_accuracy".to_owned(), accuracy),
            ("cv_auc".to_owned(), auc(&held_scores, &labels)),
            ("examples".to_owned(), labels.len() as f64),
        ]),
    }
}
