//! Negative keywords from the search terms report. Each search is judged on its own and, with
//! every other search that adds the same words to its keyword, as a modifier ("salary" in
//! "payroll software salary" and "hr software salary") — the n-gram reading practitioners give
//! the report, which sees a non-buyer's words long before any single search has clicks enough.
//! A search or modifier whose conversions are far below what the keywords it matched would have
//! made of its clicks (Poisson, at most [`MAX_SURPRISE`] likely were it as good, and kept within a
//! [`FALSE_DISCOVERY_RATE`] by Benjamini–Hochberg within each family: the modifiers, the
//! searches), and that spent
//! at least what a conversion costs (the target, or the campaign's own cost per conversion; three
//! times that per conversion when it converted at all), is proposed as a phrase negative, so the
//! campaign stops paying for it. Never proposed: anything an existing negative blocks, and
//! anything that lies inside a keyword (it would block the keyword's own searches).
//!
//! Each keyword's conversion rate is its own over the window, drawn towards the campaign's by
//! [`PRIOR_CLICKS`] (a keyword with few clicks is judged as the campaign converts). The confidence
//! is one minus that probability.

use super::{ExpectedImpact, Recommendation};
use crate::campaign::ProposedAction;
use crate::structure::google::{GoogleAdsStructure, Keyword, MatchType};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Clicks a search must have taken before its silence says anything.
pub const MIN_CLICKS: i64 = 10;
/// How many of the campaign's clicks a keyword's own rate is drawn towards.
pub const PRIOR_CLICKS: f64 = 50.0;
/// Proposals one review makes at most (the costliest searches first).
pub const MAX_PROPOSALS: usize = 10;
/// What a negative keyword may hold (Google's limit on a keyword's text).
const MAX_TEXT_CHARS: usize = 80;

/// One search as reported for one keyword over the window.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchTermFigures {
    pub search_term: String,
    /// The keyword it matched.
    pub keyword: String,
    pub clicks: i64,
    pub conversions: i64,
    pub cost_micros: i64,
}

/// A search over every keyword it matched, with the conversions those keywords' rates expect of
/// its clicks.
#[derive(Debug, Clone, PartialEq, Default)]
struct Search {
    clicks: i64,
    conversions: i64,
    cost_micros: i64,
    expected_conversions: f64,
}

fn normalise(text: &str) -> String {
    text.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn words(text: &str) -> Vec<String> {
    normalise(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether `negative` keeps `search` from matching, as phrase and broad negatives do: every word
/// of the negative is in the search (exact negatives only block the search itself).
pub fn blocks(negative: &Keyword, search: &str) -> bool {
    let search_words = words(search);
    let negative_words = words(&negative.text);
    if negative_words.is_empty() {
        return false;
    }
    match negative.match_type {
        MatchType::Exact => search_words == negative_words,
        MatchType::Phrase => search_words
            .windows(negative_words.len())
            .any(|w| w == negative_words.as_slice()),
        MatchType::Broad => negative_words.iter().all(|w| search_words.contains(w)),
    }
}

/// What a campaign bids on and what it keeps out, over all its ad groups.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Targeting {
    pub keywords: Vec<Keyword>,
    pub negatives: Vec<Keyword>,
}

impl Targeting {
    pub fn of(google: &GoogleAdsStructure) -> Targeting {
        Targeting {
            keywords: google
                .ad_groups
                .iter()
                .flat_map(|g| g.keywords.iter().cloned())
                .collect(),
            negatives: google
                .negative_keywords
                .iter()
                .chain(google.ad_groups.iter().flat_map(|g| &g.negative_keywords))
                .cloned()
                .collect(),
        }
    }

    /// Whether `phrase` lies inside one of the keywords (as a phrase negative would match it).
    fn contains(&self, phrase: &str) -> bool {
        let negative = Keyword {
            text: phrase.to_owned(),
            match_type: MatchType::Phrase,
        };
        self.keywords.iter().any(|k| blocks(&negative, &k.text))
    }

    fn is_blocked(&self, search: &str) -> bool {
        self.negatives.iter().any(|n| blocks(n, search))
    }
}

/// The negative keywords the searches of the last `days` days call for, costliest first.
/// `target_cost_per_conversion_micros`: the tenant's target; without one, the campaign's own
/// cost per conversion over the window (and nothing is proposed while it has none).
pub fn negative_keywords(
    targeting: &Targeting,
    rows: &[SearchTermFigures],
    days: u32,
    target_cost_per_conversion_micros: Option<i64>,
) -> Vec<Recommendation> {
    let clicks: i64 = rows.iter().map(|s| s.clicks).sum();
    let conversions: i64 = rows.iter().map(|s| s.conversions).sum();
    let cost: i64 = rows.iter().map(|s| s.cost_micros).sum();
    if clicks <= 0 || conversions <= 0 {
        return Vec::new();
    }
    let campaign_rate = conversions as f64 / clicks as f64;
    let mut keywords: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for row in rows {
        let k = keywords.entry(normalise(&row.keyword)).or_default();
        k.0 += row.conversions as f64;
        k.1 += row.clicks as f64;
    }
    let rate_of = |keyword: &str| {
        let (conversions, clicks) = keywords
            .get(&normalise(keyword))
            .copied()
            .unwrap_or_default();
        (conversions + PRIOR_CLICKS * campaign_rate) / (clicks + PRIOR_CLICKS)
    };
    // Each search counts for itself and for the words it adds to its keyword (the modifier:
    // "salary" in "payroll software salary"), which the searches of every keyword share.
    let mut candidates: BTreeMap<(Scope, String), Search> = BTreeMap::new();
    for row in rows {
        let search = normalise(&row.search_term);
        let search_words = words(&search);
        let keyword_words = words(&row.keyword);
        let added: Vec<String> = search_words
            .iter()
            .filter(|w| !keyword_words.contains(w))
            .cloned()
            .collect();
        let rate = rate_of(&row.keyword);
        let modifier = Keyword {
            text: added.join(" "),
            match_type: MatchType::Phrase,
        };
        let mut scopes = vec![(Scope::Search, search.clone())];
        // Only words added in one piece: the phrase negative must block the searches it was
        // judged on.
        if !added.is_empty() && added.len() < search_words.len() && blocks(&modifier, &search) {
            scopes.push((Scope::Modifier, modifier.text));
        }
        for key in scopes {
            let s = candidates.entry(key).or_default();
            s.clicks += row.clicks;
            s.conversions += row.conversions;
            s.cost_micros += row.cost_micros;
            s.expected_conversions += row.clicks as f64 * rate;
        }
    }
    let cost_per_conversion =
        target_cost_per_conversion_micros.unwrap_or(cost / conversions.max(1));
    let days = f64::from(days.max(1));
    let tested: Vec<((Scope, String), Search)> = candidates
        .into_iter()
        .filter(|(_, s)| s.clicks >= MIN_CLICKS && s.expected_conversions > 0.0)
        .collect();
    // A report holds a hundred searches: at 5 % each, a few good ones would look silent by
    // chance. Benjamini–Hochberg, within each family (the few modifiers, the many searches),
    // keeps the share of such among those proposed near the false discovery rate.
    let threshold = |scope: Scope| {
        let mut surprises: Vec<f64> = tested
            .iter()
            .filter(|((s, _), _)| *s == scope)
            .map(|(_, s)| poisson_at_most(s.conversions, s.expected_conversions))
            .collect();
        surprises.sort_by(f64::total_cmp);
        let m = surprises.len().max(1) as f64;
        surprises
            .iter()
            .enumerate()
            .filter(|(i, p)| **p <= (*i as f64 + 1.0) / m * FALSE_DISCOVERY_RATE)
            .map(|(_, p)| *p)
            .fold(0.0, f64::max)
            .min(MAX_SURPRISE)
    };
    let thresholds = [threshold(Scope::Modifier), threshold(Scope::Search)];
    let mut found: Vec<(Scope, i64, String, Recommendation)> = tested
        .into_iter()
        // Its conversions far below what its keywords' rates expect…
        .filter(|((scope, _), s)| {
            let threshold = thresholds[*scope as usize];
            threshold > 0.0 && poisson_at_most(s.conversions, s.expected_conversions) <= threshold
        })
        // …and what it spent per conversion at least what the target allows (three times over
        // when it converted at all).
        .filter(|(_, s)| match s.conversions {
            0 => s.cost_micros >= cost_per_conversion,
            c => s.cost_micros / c >= 3 * cost_per_conversion,
        })
        .filter(|((_, text), _)| text.chars().count() <= MAX_TEXT_CHARS)
        // A negative inside a keyword would block that keyword's own searches.
        .filter(|((_, text), _)| !targeting.is_blocked(text) && !targeting.contains(text))
        .map(|((scope, text), s)| {
            let surprise = poisson_at_most(s.conversions, s.expected_conversions);
            let confidence = ((1.0 - surprise) * 10_000.0).round().clamp(0.0, 10_000.0) as u32;
            let what = match scope {
                Scope::Search => format!("the search \"{text}\""),
                Scope::Modifier => format!("searches with \"{text}\""),
            };
            let recommendation = Recommendation {
                reason: format!(
                    "{what} took {} clicks and spent {:.2} over {days} days for {}; at the \
                     rates of the keywords they matched they would have made {:.1} conversions, \
                     and searches that good make so few {:.1} % of the time",
                    s.clicks,
                    s.cost_micros as f64 / 1e6,
                    match s.conversions {
                        0 => "no conversion".to_owned(),
                        1 => "1 conversion".to_owned(),
                        n => format!("{n} conversions"),
                    },
                    s.expected_conversions,
                    surprise * 100.0
                ),
                action: ProposedAction::AddNegativeKeyword {
                    keyword: Keyword {
                        text: text.clone(),
                        match_type: MatchType::Phrase,
                    },
                },
                confidence_basis_points: confidence,
                impact: ExpectedImpact {
                    conversions_per_day: -(s.conversions as f64) / days,
                    // Had they converted as their keywords do: what the negative could cost at most.
                    conversions_per_day_low: -s.expected_conversions / days,
                    conversions_per_day_high: 0.0,
                    cost_per_day_micros: -((s.cost_micros as f64 / days).round() as i64),
                },
            };
            (scope, s.cost_micros, text, recommendation)
        })
        .collect();
    // Modifiers first (one negative covers many searches), costliest first; a search a proposed
    // modifier already covers is left out.
    found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut chosen: Vec<Keyword> = Vec::new();
    let mut out = Vec::new();
    for (_, _, text, recommendation) in found {
        if out.len() == MAX_PROPOSALS {
            break;
        }
        if chosen.iter().any(|k| blocks(k, &text)) {
            continue;
        }
        chosen.push(Keyword {
            text,
            match_type: MatchType::Phrase,
        });
        out.push(recommendation);
    }
    out
}

/// Where a candidate negative comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Scope {
    Modifier,
    Search,
}

/// How unlikely the conversions seen may be, were the search as good as its keywords: at most
/// this (and within the false discovery rate over the whole report), and the search is proposed.
pub const MAX_SURPRISE: f64 = 0.05;
/// The share of proposals that may be good searches silent by chance (Benjamini–Hochberg).
pub const FALSE_DISCOVERY_RATE: f64 = 0.1;

/// P(X ≤ `k`) for X Poisson with mean `mean`.
fn poisson_at_most(k: i64, mean: f64) -> f64 {
    let mut term = (-mean).exp();
    let mut sum = term;
    for i in 1..=k.max(0) {
        term *= mean / i as f64;
        sum += term;
    }
    sum.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn google() -> Targeting {
        let k = |text: &str, match_type| Keyword {
            text: text.into(),
            match_type,
        };
        Targeting {
            keywords: vec![
                k("payroll software", MatchType::Phrase),
                k("a b", MatchType::Broad),
            ],
            negatives: vec![k("free", MatchType::Broad), k("c", MatchType::Phrase)],
        }
    }

    fn search(
        keyword: &str,
        text: &str,
        clicks: i64,
        conversions: i64,
        cost: i64,
    ) -> SearchTermFigures {
        SearchTermFigures {
            search_term: text.into(),
            keyword: keyword.into(),
            clicks,
            conversions,
            cost_micros: cost,
        }
    }

    #[test]
    fn a_silent_search_its_keywords_expected_conversions_of_is_proposed_and_others_are_not() {
        let g = google();
        let k = "payroll software";
        let rows = vec![
            search(k, k, 300, 18, 700_000_000), // the keyword itself
            search(k, "payroll software salary", 150, 0, 300_000_000),
            search(k, "payroll software tutorial", 4, 0, 60_000_000), // too few clicks
            search(k, "best payroll software", 25, 0, 80_000_000),    // too few to expect one
            search(k, "payroll software for interns", 200, 0, 10_000_000), // spent little
            search(k, "free payroll software", 60, 0, 120_000_000),   // blocked by "free"
            search(k, "payroll software pricing", 30, 3, 70_000_000), // converts
        ];
        let proposed = negative_keywords(&g, &rows, 14, None);
        assert_eq!(proposed.len(), 1, "{proposed:?}");
        let only = &proposed[0];
        assert_eq!(
            only.action,
            ProposedAction::AddNegativeKeyword {
                keyword: Keyword {
                    text: "salary".into(),
                    match_type: MatchType::Phrase
                }
            }
        );
        // The modifier covers the search: 150 clicks at the keyword's 21/769 (drawn towards the
        // campaign's, the same here), about 4.1 expected, silence e^−4.1 ≈ 1.7 %.
        assert!(
            (9_500..9_900).contains(&only.confidence_basis_points),
            "{only:?}"
        );
        assert!(only.impact.cost_per_day_micros < 0);
        assert!(only.impact.conversions_per_day_low < 0.0);
        assert!(only.reason.contains("searches with \"salary\""), "{only:?}");
        // A target cost per conversion above what the search spent: not yet.
        assert!(negative_keywords(&g, &rows, 14, Some(400_000_000)).is_empty());
    }

    #[test]
    fn a_keyword_that_converts_better_condemns_its_silent_searches_sooner() {
        let g = google();
        let rows = vec![
            search("strong", "strong", 200, 20, 200_000_000),
            search("weak", "weak", 200, 2, 200_000_000),
            search("strong", "strong salary", 40, 0, 100_000_000),
            search("weak", "weak tutorial", 40, 0, 100_000_000),
        ];
        let proposed = negative_keywords(&g, &rows, 7, None);
        let texts: Vec<&str> = proposed
            .iter()
            .filter_map(|p| match &p.action {
                ProposedAction::AddNegativeKeyword { keyword } => Some(keyword.text.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(texts, ["salary"]);
    }

    #[test]
    fn negatives_block_as_their_match_type_says() {
        let k = |text: &str, match_type| Keyword {
            text: text.into(),
            match_type,
        };
        assert!(blocks(&k("jobs", MatchType::Broad), "payroll jobs london"));
        assert!(blocks(
            &k("payroll jobs", MatchType::Phrase),
            "payroll jobs london"
        ));
        assert!(!blocks(
            &k("jobs payroll", MatchType::Phrase),
            "payroll jobs london"
        ));
        assert!(blocks(
            &k("jobs payroll", MatchType::Broad),
            "payroll jobs london"
        ));
        assert!(!blocks(
            &k("payroll jobs", MatchType::Exact),
            "payroll jobs london"
        ));
        assert!(blocks(
            &k("Payroll  Jobs", MatchType::Exact),
            "payroll jobs"
        ));
    }

    proptest! {
        #[test]
        fn a_proposal_never_blocks_a_keyword_nor_repeats_a_negative_and_rests_on_clicks(
            rows in proptest::collection::vec(
                (0usize..2, "[a-c]{1,2}( [a-c]{1,2}){0,2}", 0i64..200, 0i64..4, 0i64..300_000_000),
                0..30,
            ),
            days in 1u32..30,
        ) {
            let g = google();
            let rows: Vec<SearchTermFigures> = rows
                .into_iter()
                .map(|(k, text, clicks, conversions, cost)| {
                    search(["a b", "payroll software"][k], &text, clicks, conversions.min(clicks), cost)
                })
                .collect();
            let proposed = negative_keywords(&g, &rows, days, None);
            prop_assert!(proposed.len() <= MAX_PROPOSALS);
            for p in &proposed {
                let ProposedAction::AddNegativeKeyword { keyword } = &p.action else {
                    panic!("{p:?}");
                };
                prop_assert!(!g.contains(&keyword.text), "{keyword:?} blocks a keyword");
                prop_assert!(!g.is_blocked(&keyword.text));
                let blocked = rows.iter().filter(|r| blocks(keyword, &r.search_term));
                prop_assert!(blocked.map(|r| r.clicks).sum::<i64>() >= MIN_CLICKS);
                prop_assert!(p.confidence_basis_points >= 9_500);
                prop_assert!(p.confidence_basis_points <= 10_000);
            }
        }
    }
}
