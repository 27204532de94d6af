//! A responsive search ad assembled for Ad Strength: the lines Google rates on — headlines that
//! hold the ad group's keywords, headlines that say different things, four descriptions — chosen
//! greedily from the brief's facts and the ranked variations, each line checked by the same
//! editorial, brand-voice and instruction rules as every generated line.

use super::facts::{Fact, FactKind};
use super::{acceptable, Variation};
use crate::brief::Brief;
use adflow_domain::platform_rules::google;
// Ad Strength's own tests of a headline: distinct from another, holding a keyword.
use adflow_domain::structure::ad_strength::{distinct, holds};
use adflow_domain::structure::editorial::TextRole;
use std::collections::HashSet;

/// Headlines that hold a keyword, at least (Ad Strength's full mark).
const KEYWORD_HEADLINES: usize = 3;
/// Fact headlines, at most: the rest of the ad is the scorer's choice.
const FACT_HEADLINES: usize = 6;

pub(super) fn fits(text: &str, max: usize) -> bool {
    text.chars().count() <= max
}

/// The ad's headlines: keyword headlines first, then the brief's facts, then the best-ranked rest
/// (those no earlier ad group of the campaign shows, `used`, first), each distinct from those
/// before it; lines that are only unique (not distinct) top the ad up to `min` when distinct
/// ones run out.
pub fn headlines(
    brief: &Brief,
    facts: &[Fact],
    variations: &[Variation],
    keywords: &[String],
    used: &HashSet<String>,
    min: usize,
) -> Vec<String> {
    let max_chars = google::HEADLINE
        .warn_above
        .unwrap_or(google::HEADLINE.max_chars);
    let ranked: Vec<&String> = variations.iter().map(|v| &v.texts[0]).collect();
    let mut chosen: Vec<String> = Vec::new();
    let take = |chosen: &mut Vec<String>, text: &str, strict: bool| -> bool {
        let fresh = chosen.iter().all(|c| !c.eq_ignore_ascii_case(text))
            && (!strict || chosen.iter().all(|c| distinct(c, text)));
        if chosen.len() < google::HEADLINES_MAX
            && fresh
            && fits(text, max_chars)
            && acceptable(brief, TextRole::Headline, text)
        {
            chosen.push(text.to_owned());
            true
        } else {
            false
        }
    };
    let mut with_keyword = 0;
    for text in &ranked {
        if with_keyword == KEYWORD_HEADLINES {
            break;
        }
        if keywords.iter().any(|k| holds(text, k)) && take(&mut chosen, text, true) {
            with_keyword += 1;
        }
    }
    let mut from_facts = 0;
    for fact in facts {
        if from_facts == FACT_HEADLINES {
            break;
        }
        if let Some(text) = &fact.headline {
            if take(&mut chosen, text, true) {
                from_facts += 1;
            }
        }
    }
    let fresh: Vec<&String> = ranked
        .iter()
        .filter(|t| !used.contains(&t.to_lowercase()))
        .copied()
        .collect();
    for text in &fresh {
        take(&mut chosen, text, true);
    }
    for strict in [true, false] {
        for text in &ranked {
            if !strict && chosen.len() >= min {
                break;
            }
            take(&mut chosen, text, strict);
        }
    }
    chosen
}

/// Words a headline cut out of the offer may not end on (nor, but for "for", open with).
const DANGLING: [&str; 16] = [
    "a", "an", "the", "and", "or", "for", "to", "of", "in", "on", "with", "by", "at", "from",
    "your", "our",
];

/// Headlines cut from the offer's own wording, longest first: runs of two to six of its words
/// that fit a headline and neither open nor end on a word that needs another ("Technical
/// recruiting in Europe", "For manufacturers in Europe"). The last material for an ad whose
/// themes are too long for the headline patterns; the brief's casing is kept.
pub fn offer_headlines(brief: &Brief) -> Vec<String> {
    let max_chars = google::HEADLINE
        .warn_above
        .unwrap_or(google::HEADLINE.max_chars);
    let words: Vec<&str> = brief
        .offer
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | ';' | ':' | '!' | '?'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut found: Vec<String> = Vec::new();
    for length in (2..=6).rev() {
        for run in words.windows(length) {
            let (first, last) = (run[0].to_lowercase(), run[length - 1].to_lowercase());
            if DANGLING.contains(&last.as_str())
                || (first != "for" && DANGLING.contains(&first.as_str()))
            {
                continue;
            }
            let phrase = run.join(" ");
            let mut letters = phrase.chars();
            let text: String = match letters.next() {
                Some(c) => c.to_uppercase().chain(letters).collect(),
                None => continue,
            };
            if fits(&text, max_chars)
                && !found.iter().any(|f| f.eq_ignore_ascii_case(&text))
                && super::acceptable(brief, TextRole::Headline, &text)
            {
                found.push(text);
            }
        }
    }
    found
}

/// A fact's clause inside a sentence: its first letter lowered unless the brief capitalises it.
fn inside(brief: &Brief, clause: &str) -> String {
    let first = clause.split_whitespace().next().unwrap_or_default();
    if brief.proper_words().iter().any(|w| w == first) {
        return clause.to_owned();
    }
    let mut chars = clause.chars();
    chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// "A, B and C": as many of `items` as fit `max` characters with `end` after them.
fn listing(items: &[String], end: &str, max: usize) -> Option<String> {
    (1..=items.len()).rev().find_map(|n| {
        let text = match n {
            1 => items[0].clone(),
            _ => format!("{} and {}", items[..n - 1].join(", "), items[n - 1]),
        };
        let text = format!("{text}{end}");
        fits(&text, max).then_some(text)
    })
}

/// A body line with the brand voice's required terms it lacks added as a sentence of their own.
pub fn with_required_terms(brief: &Brief, text: String) -> String {
    let missing: Vec<&str> = brief
        .brand_voice
        .required_terms
        .iter()
        .filter(|t| !text.to_lowercase().contains(&t.to_lowercase()))
        .map(String::as_str)
        .collect();
    if missing.is_empty() {
        text
    } else {
        format!("{text} {}.", missing.join(", "))
    }
}

/// Descriptions built from the facts (the lead claim with the offer; the features with the proof),
/// then the ranked variations' descriptions, four in all when there are four.
pub fn descriptions(brief: &Brief, facts: &[Fact], variations: &[Variation]) -> Vec<String> {
    let max_chars = google::DESCRIPTION
        .warn_above
        .unwrap_or(google::DESCRIPTION.max_chars);
    let mut candidates: Vec<String> = Vec::new();
    // The lead claim with the next claim of another kind ("Free 14-day trial. Cut AWS and GCP
    // bills by 30% for platform teams."), or alone.
    let claims: Vec<&Fact> = facts
        .iter()
        .filter(|f| f.kind != FactKind::Feature)
        .collect();
    if let Some(lead) = claims.first() {
        for other in claims.iter().skip(1).filter(|f| f.kind != lead.kind) {
            candidates.push(format!("{}. {}.", lead.clause, other.clause));
        }
        for other in claims.iter().skip(1) {
            candidates.push(format!("{}. {}.", other.clause, lead.clause));
        }
        candidates.push(format!("{}.", lead.clause));
    }
    let features: Vec<String> = facts
        .iter()
        .filter(|f| f.kind == FactKind::Feature)
        .map(|f| inside(brief, &f.clause))
        .collect();
    let proof = facts.iter().find(|f| f.kind == FactKind::Proof);
    if !features.is_empty() {
        let mut first = features[0].clone();
        first = super::material::capitalise(&first);
        let mut items = features.clone();
        items[0] = first;
        let end = proof.map_or_else(|| ".".to_owned(), |p| format!(". {}.", p.clause));
        if let Some(text) = listing(&items, &end, max_chars) {
            candidates.push(text);
        }
        if let Some(text) = listing(&items, ".", max_chars) {
            candidates.push(text);
        }
    }
    let mut chosen: Vec<String> = Vec::new();
    let facts_taken = 2;
    for text in candidates {
        let text = with_required_terms(brief, text);
        if chosen.len() == facts_taken {
            break;
        }
        let fresh = chosen.iter().all(|c| distinct(c, &text));
        if fresh && fits(&text, max_chars) && acceptable(brief, TextRole::Body, &text) {
            chosen.push(text);
        }
    }
    for strict in [true, false] {
        for v in variations {
            if chosen.len() == google::DESCRIPTIONS_MAX {
                break;
            }
            let text = &v.texts[1];
            let fresh = chosen.iter().all(|c| !c.eq_ignore_ascii_case(text))
                && (!strict || chosen.iter().all(|c| distinct(c, text)));
            if fresh {
                chosen.push(text.clone());
            }
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copy::steered_facts;

    fn kube() -> Brief {
        let mut brief = crate::copy::facts::tests::kube();
        brief.instructions = "Emphasise the free trial.".into();
        brief
    }

    #[test]
    fn the_first_descriptions_pair_the_lead_claim_with_another_and_list_the_features() {
        let brief = kube();
        let facts = steered_facts(&brief);
        let found = descriptions(&brief, &facts, &[]);
        assert_eq!(
            found,
            [
                "Free 14-day trial. Cut AWS and GCP bills by 30% for Kubernetes platform teams.",
                "Anomaly alerts and rightsizing recommendations. SOC 2 certified."
            ],
            "{facts:?}"
        );
    }
}
