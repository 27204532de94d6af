//! Ad copy: many candidate variations per ad format, filled from the brief's material, fitted to
//! every character limit of the domain, kept only if they pass Google's editorial rules and the
//! brand voice (required and forbidden terms), de-duplicated, and ranked by a learned scorer.
//! The same brief and seed always give the same variations in the same order.

pub mod facts;
pub mod image_ads;
mod material;
pub mod scorer;
pub mod search_ad;
pub mod steering;

pub use facts::{Fact, FactKind};
pub use material::{noun_phrase, title_case, vocabulary, Slots};
pub use steering::Steering;

use crate::brief::Brief;
use crate::MlError;
use adflow_domain::platform_rules::{google, linkedin, TextLimit};
use adflow_domain::structure::editorial::{self, EditorialIssue, TextRole};
use scorer::CopyScorer;
use std::collections::HashSet;
use std::sync::Arc;

/// An ad format and the text fields it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CopyFormat {
    /// Google responsive search ad: a headline and a description per variation.
    SearchAd,
    /// Google responsive display ad: headline, long headline, description.
    DisplayAd,
    /// LinkedIn sponsored content (single image): intro text and headline.
    SponsoredContent,
    /// LinkedIn text ad.
    TextAd,
    /// LinkedIn message ad: subject and body.
    MessageAd,
    /// LinkedIn spotlight (dynamic) ad.
    Spotlight,
    /// A LinkedIn carousel card's headline.
    CarouselCard,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Short,
    Long,
}

#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub name: &'static str,
    pub kind: FieldKind,
    /// The hard limit, or the mark above which the platform truncates, whichever is lower: the
    /// generator writes copy that shows in full.
    pub max_chars: usize,
    pub role: TextRole,
}

const fn shown_in_full(limit: TextLimit) -> usize {
    match limit.warn_above {
        Some(warn) => warn,
        None => limit.max_chars,
    }
}

const fn field(name: &'static str, kind: FieldKind, limit: TextLimit, role: TextRole) -> FieldSpec {
    FieldSpec {
        name,
        kind,
        max_chars: shown_in_full(limit),
        role,
    }
}

impl CopyFormat {
    pub const ALL: [CopyFormat; 7] = [
        CopyFormat::SearchAd,
        CopyFormat::DisplayAd,
        CopyFormat::SponsoredContent,
        CopyFormat::TextAd,
        CopyFormat::MessageAd,
        CopyFormat::Spotlight,
        CopyFormat::CarouselCard,
    ];

    pub fn fields(self) -> Vec<FieldSpec> {
        use FieldKind::{Long, Short};
        use TextRole::{Body, Headline};
        match self {
            CopyFormat::SearchAd => vec![
                field("headline", Short, google::HEADLINE, Headline),
                field("description", Long, google::DESCRIPTION, Body),
            ],
            CopyFormat::DisplayAd => vec![
                field("headline", Short, google::HEADLINE, Headline),
                field("longHeadline", Long, google::LONG_HEADLINE, Headline),
                field("description", Long, google::DESCRIPTION, Body),
            ],
            CopyFormat::SponsoredContent => vec![
                field("introText", Long, linkedin::SPONSORED_INTRO, Body),
                field("headline", Short, linkedin::SPONSORED_HEADLINE, Headline),
            ],
            CopyFormat::TextAd => vec![
                field("headline", Short, linkedin::TEXT_AD_HEADLINE, Headline),
                field("description", Long, linkedin::TEXT_AD_DESCRIPTION, Body),
            ],
            CopyFormat::MessageAd => vec![
                field("subject", Short, linkedin::MESSAGE_SUBJECT, Headline),
                field("body", Long, linkedin::MESSAGE_BODY, Body),
            ],
            CopyFormat::Spotlight => vec![
                field("headline", Short, linkedin::SPOTLIGHT_HEADLINE, Headline),
                field("description", Long, linkedin::SPOTLIGHT_DESCRIPTION, Body),
            ],
            CopyFormat::CarouselCard => vec![field(
                "headline",
                Short,
                linkedin::CAROUSEL_CARD_HEADLINE,
                Headline,
            )],
        }
    }
}

/// One complete set of texts for an ad of a format, in the order of `CopyFormat::fields`.
#[derive(Debug, Clone, PartialEq)]
pub struct Variation {
    pub texts: Vec<String>,
    pub score: f32,
    /// Editorial warnings the copy still carries (unsupported superlatives).
    pub flags: Vec<&'static str>,
}

pub trait CopyGenerator: Send + Sync {
    /// At least `count` unique variations for `format`, best first.
    fn variations(
        &self,
        brief: &Brief,
        slots: &Slots,
        format: CopyFormat,
        count: usize,
    ) -> Result<Vec<Variation>, MlError>;
}

/// Candidate variations looked at per ad, at most (bounds the time per ad).
const MAX_CANDIDATES: usize = 400;

pub struct PatternCopy {
    scorer: Arc<CopyScorer>,
}

impl PatternCopy {
    pub fn new(scorer: Arc<CopyScorer>) -> Self {
        Self { scorer }
    }
}

/// Candidate lines of one kind that fit `max_chars`, in a seeded order.
fn lines(brief: &Brief, slots: &Slots, spec: FieldSpec, rng: &mut fastrand::Rng) -> Vec<String> {
    let tone = brief.brand_voice.tone;
    let patterns = match spec.kind {
        FieldKind::Short => material::headline_patterns(tone),
        FieldKind::Long => material::body_patterns(tone),
    };
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    let rounds = slots.themes.len().max(slots.benefits.len()).clamp(1, 12);
    for choice in 0..rounds {
        for pattern in patterns {
            let Some(text) = material::fill(pattern, slots, choice) else {
                continue;
            };
            if text.chars().count() <= spec.max_chars
                && !text.chars().any(char::is_control)
                && !doubles_a_word(&text)
                && seen.insert(text.to_lowercase())
            {
                found.push(text);
            }
        }
    }
    rng.shuffle(&mut found);
    found
}

/// "Start now now", "OEE software software", "ClauseCraft: ClauseCraft": a pattern whose slots
/// repeat each other.
pub fn doubles_a_word(text: &str) -> bool {
    let words: Vec<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| w.chars().any(char::is_alphabetic))
        .collect();
    words.windows(2).any(|p| p[0].eq_ignore_ascii_case(p[1]))
}

fn contains_term(text: &str, term: &str) -> bool {
    text.to_lowercase().contains(&term.to_lowercase())
}

/// The brief's facts as the instructions steer them: what they forbid left out, what they
/// emphasise first (the emphasised phrase itself when the brief states no fact that carries it).
pub fn steered_facts(brief: &Brief) -> Vec<Fact> {
    let steering = Steering::from_instructions(&brief.instructions);
    let mut found: Vec<Fact> = facts::facts(brief)
        .into_iter()
        .filter(|f| !steering.violated_by(&f.clause))
        .filter(|f| {
            !brief
                .brand_voice
                .forbidden_terms
                .iter()
                .any(|t| contains_term(&f.clause, t))
        })
        .collect();
    for phrase in &steering.emphasis {
        let one = Steering {
            emphasis: vec![phrase.clone()],
            ..Steering::default()
        };
        if !found.iter().any(|f| one.emphasised_in(&f.clause)) {
            let text = brief.display_case(&material::capitalise(phrase));
            if text.chars().count() <= 30 && !steering.violated_by(&text) {
                found.push(Fact {
                    kind: FactKind::Offer,
                    headline: Some(text.clone()),
                    clause: text,
                });
            }
        }
    }
    // Emphasised first, each kind in its order after.
    found.sort_by_key(|f| (!steering.emphasised_in(&f.clause), f.kind));
    found
}

/// Whether one line passes the brand voice, the instructions and the editorial rules (warnings
/// allowed), and, for a body, carries the required terms.
pub fn acceptable(brief: &Brief, role: TextRole, text: &str) -> bool {
    let voice = &brief.brand_voice;
    let steering = Steering::from_instructions(&brief.instructions);
    !text.chars().any(char::is_control)
        && !voice.forbidden_terms.iter().any(|t| contains_term(text, t))
        && !steering.violated_by(text)
        && !editorial::issues(text, role).iter().any(|i| i.is_error())
        && (role != TextRole::Body || voice.required_terms.iter().all(|t| contains_term(text, t)))
}

/// The editorial and brand-voice verdict on a variation: `None` if refused, else its warnings.
fn review(
    brief: &Brief,
    steering: &Steering,
    fields: &[FieldSpec],
    texts: &[String],
) -> Option<Vec<&'static str>> {
    let voice = &brief.brand_voice;
    let mut flags = Vec::new();
    for (spec, text) in fields.iter().zip(texts) {
        if voice.forbidden_terms.iter().any(|t| contains_term(text, t))
            || steering.violated_by(text)
        {
            return None;
        }
        for issue in editorial::issues(text, spec.role) {
            if issue.is_error() {
                return None;
            }
            if issue == EditorialIssue::Superlative {
                flags.push(issue.code());
            }
        }
    }
    // The platforms combine headlines and descriptions freely, so the required terms must sit in
    // the one field every combination shows in full: the longest.
    let carrier = carrier(fields);
    voice
        .required_terms
        .iter()
        .all(|t| contains_term(&texts[carrier], t))
        .then_some(flags)
}

/// The field that carries the required terms: the one with the most room.
fn carrier(fields: &[FieldSpec]) -> usize {
    fields
        .iter()
        .enumerate()
        .max_by_key(|(_, f)| f.max_chars)
        .map_or(0, |(i, _)| i)
}

/// Appends the required terms its longest field lacks, if they fit.
fn with_required_terms(brief: &Brief, fields: &[FieldSpec], texts: &mut [String]) {
    let index = carrier(fields);
    let Some(spec) = fields.get(index) else {
        return;
    };
    let missing: Vec<&String> = brief
        .brand_voice
        .required_terms
        .iter()
        .filter(|t| !contains_term(&texts[index], t))
        .collect();
    if missing.is_empty() {
        return;
    }
    let addition = missing
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let extended = if spec.kind == FieldKind::Long {
        format!("{} {}.", texts[index], title_case(&addition))
    } else {
        format!("{} | {}", texts[index], addition)
    };
    if extended.chars().count() <= spec.max_chars {
        texts[index] = extended;
    }
}

impl CopyGenerator for PatternCopy {
    fn variations(
        &self,
        brief: &Brief,
        slots: &Slots,
        format: CopyFormat,
        count: usize,
    ) -> Result<Vec<Variation>, MlError> {
        let fields = format.fields();
        let steering = Steering::from_instructions(&brief.instructions);
        let mut rng = fastrand::Rng::with_seed(brief.seed ^ format as u64);
        let columns: Vec<Vec<String>> = fields
            .iter()
            .map(|spec| lines(brief, slots, *spec, &mut rng))
            .collect();
        if columns.iter().any(Vec::is_empty) {
            return Err(MlError::Model(format!(
                "no {format:?} copy fits the limits for this brief (a shorter business name or offer helps)"
            )));
        }
        // Diagonals through the columns: round r pairs line i of the first column with line
        // i + r of the second (i + 2r of the third), so early variations share no line.
        let longest = columns.iter().map(Vec::len).max().unwrap_or(0);
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        let combinations = (0..longest).flat_map(|round| (0..longest).map(move |i| (round, i)));
        for (round, i) in combinations.take(MAX_CANDIDATES) {
            let mut texts: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(c, column)| column[(i + c * round) % column.len()].clone())
                .collect();
            with_required_terms(brief, &fields, &mut texts);
            let Some(flags) = review(brief, &steering, &fields, &texts) else {
                continue;
            };
            if !seen.insert(texts.join("\u{1f}").to_lowercase()) {
                continue;
            }
            let mut score = self.scorer.score_variation(brief, &fields, &texts);
            // What the marketer asked to emphasise goes before anything the scorer prefers.
            if texts.iter().any(|t| steering.emphasised_in(t)) {
                score += 1.0;
            }
            found.push(Variation {
                texts,
                score,
                flags,
            });
        }
        if found.len() < count {
            return Err(MlError::Model(format!(
                "only {} {format:?} variations pass the editorial rules and brand voice; {count} needed",
                found.len()
            )));
        }
        // Best first; ties keep the seeded order, so the result is repeatable.
        found.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(found)
    }
}
