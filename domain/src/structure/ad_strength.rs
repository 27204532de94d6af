//! Ad Strength of a responsive search ad, on the criteria Google names for its own rating: enough
//! unique headlines (up to 15) and descriptions (up to 4), the ad group's keywords in headlines,
//! and headlines distinct from each other. Google does not publish its formula; this one scores
//! each criterion 0–2 and rates the sum (0–8): Excellent from 7, Good from 5, Average from 3.

use crate::structure::google::{Keyword, ResponsiveSearchAd};
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AdStrength {
    Poor,
    Average,
    Good,
    Excellent,
}

/// A rating and what would raise it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdStrengthReport {
    pub rating: AdStrength,
    /// 0 to 8: the sum of the four criteria's scores.
    pub score: u8,
    pub unique_headlines: usize,
    pub unique_descriptions: usize,
    /// Headlines holding one of the ad group's keywords.
    pub keyword_headlines: usize,
    /// Share of headline pairs that share at most half of their words.
    pub distinct_pairs: f64,
    /// What to change, one line each (empty when every criterion scores full).
    pub advice: Vec<String>,
}

fn words(text: &str) -> BTreeSet<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn normalised(text: &str) -> String {
    words(text).into_iter().collect::<Vec<_>>().join(" ")
}

fn unique(texts: &[String]) -> Vec<&String> {
    let mut seen = BTreeSet::new();
    texts
        .iter()
        .filter(|t| seen.insert(normalised(t)))
        .collect()
}

/// Two headlines' word sets say different things: they share at most half the words of the
/// shorter.
fn sets_distinct(a: &BTreeSet<String>, b: &BTreeSet<String>) -> bool {
    a.intersection(b).count() * 2 <= a.len().min(b.len()).max(1)
}

/// Whether two headlines count as distinct for Ad Strength.
pub fn distinct(a: &str, b: &str) -> bool {
    sets_distinct(&words(a), &words(b))
}

/// Whether every word of the keyword appears in the headline (in any order, any case).
pub fn holds(headline: &str, keyword: &str) -> bool {
    let said = words(headline);
    let wanted = words(keyword);
    !wanted.is_empty() && wanted.is_subset(&said)
}

/// Rates `ad` for an ad group targeting `keywords`.
pub fn ad_strength(ad: &ResponsiveSearchAd, keywords: &[Keyword]) -> AdStrengthReport {
    let headlines = unique(&ad.headlines);
    let descriptions = unique(&ad.descriptions);
    let keyword_headlines = headlines
        .iter()
        .filter(|h| keywords.iter().any(|k| holds(h, &k.text)))
        .count();
    let sets: Vec<BTreeSet<String>> = headlines.iter().map(|h| words(h)).collect();
    let (mut pairs, mut distinct) = (0usize, 0usize);
    for (i, a) in sets.iter().enumerate() {
        for b in &sets[i + 1..] {
            pairs += 1;
            if sets_distinct(a, b) {
                distinct += 1;
            }
        }
    }
    let distinct_pairs = if pairs == 0 {
        0.0
    } else {
        distinct as f64 / pairs as f64
    };
    let mut advice = Vec::new();
    let headline_score = match headlines.len() {
        n if n >= 11 => 2,
        n if n >= 8 => 1,
        _ => 0,
    };
    if headline_score < 2 {
        advice.push(format!(
            "add unique headlines: {} of the 11 or more that rate best",
            headlines.len()
        ));
    }
    let description_score = match descriptions.len() {
        n if n >= 4 => 2,
        3 => 1,
        _ => 0,
    };
    if description_score < 2 {
        advice.push(format!(
            "add unique descriptions: {} of 4",
            descriptions.len()
        ));
    }
    let keyword_score = match keyword_headlines {
        n if n >= 3 => 2,
        n if n >= 1 => 1,
        _ => 0,
    };
    if keyword_score < 2 {
        advice.push(format!(
            "use the ad group's keywords in headlines: {keyword_headlines} of 3 or more do"
        ));
    }
    let distinct_score = if distinct_pairs >= 0.9 {
        2
    } else if distinct_pairs >= 0.7 {
        1
    } else {
        0
    };
    if distinct_score < 2 {
        advice.push(format!(
            "make headlines more distinct: {:.0} % of pairs share at most half their words",
            distinct_pairs * 100.0
        ));
    }
    let score = headline_score + description_score + keyword_score + distinct_score;
    let rating = match score {
        7.. => AdStrength::Excellent,
        5..=6 => AdStrength::Good,
        3..=4 => AdStrength::Average,
        _ => AdStrength::Poor,
    };
    AdStrengthReport {
        rating,
        score,
        unique_headlines: headlines.len(),
        unique_descriptions: descriptions.len(),
        keyword_headlines,
        distinct_pairs,
        advice,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::structure::google::MatchType;
    use proptest::prelude::*;

    fn ad(headlines: &[&str], descriptions: &[&str]) -> ResponsiveSearchAd {
        ResponsiveSearchAd {
            headlines: headlines.iter().map(|h| (*h).to_owned()).collect(),
            descriptions: descriptions.iter().map(|d| (*d).to_owned()).collect(),
            path1: None,
            path2: None,
            final_urls: vec!["https://example.com".into()],
        }
    }

    fn keyword(text: &str) -> Keyword {
        Keyword {
            text: text.into(),
            match_type: MatchType::Phrase,
        }
    }

    #[test]
    fn a_full_distinct_keyword_rich_ad_is_excellent_and_a_thin_one_poor() {
        let rich = ad(
            &[
                "Kubernetes Cost Monitoring",
                "Cut AWS Bills by 30%",
                "SOC 2 Certified Platform",
                "Free 14-Day Trial",
                "Rightsizing Advice Daily",
                "Anomaly Alerts in Minutes",
                "Kubernetes Cost Reports",
                "Built for Platform Teams",
                "See Savings per Cluster",
                "Book a Live Demo Today",
                "Cloud Spend Under Control",
            ],
            &[
                "Find idle Kubernetes resources and cut cloud bills by 30%.",
                "Anomaly alerts and rightsizing advice for AWS and GCP.",
                "SOC 2 certified. Start your free 14-day trial today.",
                "Reports per team and cluster, every week.",
            ],
        );
        let keywords = [keyword("kubernetes cost"), keyword("cloud spend")];
        let report = ad_strength(&rich, &keywords);
        assert_eq!(report.rating, AdStrength::Excellent, "{report:?}");
        assert!(report.keyword_headlines >= 3);
        let thin = ad(
            &["Kubernetes Cost", "kubernetes cost", "Kubernetes  Cost!"],
            &["One line.", "One line"],
        );
        let report = ad_strength(&thin, &keywords);
        assert_eq!(report.unique_headlines, 1);
        assert_eq!(report.unique_descriptions, 1);
        assert_eq!(report.rating, AdStrength::Poor, "{report:?}");
        assert_eq!(report.advice.len(), 4);
    }

    proptest! {
        #[test]
        fn another_distinct_headline_never_lowers_the_rating(
            count in 1usize..14, extra in "[A-Z][a-z]{3,8} [A-Z][a-z]{3,8}"
        ) {
            let headlines: Vec<String> = (0..count).map(|i| format!("Headline number {i} word{i}")).collect();
            let refs: Vec<&str> = headlines.iter().map(String::as_str).collect();
            let before = ad_strength(&ad(&refs, &["a b", "c d", "e f", "g h"]), &[keyword("headline")]);
            let mut more = refs.clone();
            more.push(&extra);
            let after = ad_strength(&ad(&more, &["a b", "c d", "e f", "g h"]), &[keyword("headline")]);
            prop_assert!(after.unique_headlines >= before.unique_headlines);
            prop_assert!(after.score >= before.score, "{before:?} {after:?}");
            prop_assert!(after.rating >= before.rating);
        }
    }
}
