//! The marketer's instructions (and the chosen template's brief) read as steering: what to
//! emphasise ("emphasise the free trial"), what never to say ("never mention price") and which
//! competitors' searches to keep out ("exclude competitors: Kubecost, CAST AI"). Plain English in,
//! three lists out; an instruction the reader does not understand steers nothing.

use super::facts::{content_words, covers};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Steering {
    /// Phrases every ad should carry, as the instructions write them.
    pub emphasis: Vec<String>,
    /// Word stems no text may contain ("pric" for price, pricing, priced).
    pub avoid: Vec<String>,
    /// Competitor names whose searches are negative keywords.
    pub competitors: Vec<String>,
}

const AVOID_MARKERS: [&str; 14] = [
    "never mention",
    "don't mention",
    "do not mention",
    "dont mention",
    "avoid mentioning",
    "no mention of",
    "never say",
    "don't say",
    "do not say",
    "never use",
    "do not use",
    "don't use",
    "leave out",
    "avoid",
];

const EMPHASIS_MARKERS: [&str; 8] = [
    "emphasise",
    "emphasize",
    "highlight",
    "focus on",
    "lead with",
    "stress",
    "promote",
    "mention",
];

/// A word's stem for matching its forms: common endings off, at least four letters kept.
pub fn stem(word: &str) -> String {
    let word = word.to_lowercase();
    for suffix in ["ing", "ed", "es", "s", "e"] {
        if let Some(base) = word.strip_suffix(suffix) {
            if base.chars().count() >= 4 {
                return base.to_owned();
            }
        }
    }
    word
}

fn object(sentence: &str, marker_end: usize) -> &str {
    sentence[marker_end..].trim().trim_start_matches(':').trim()
}

/// The items of a list in one phrase: "Kubecost, CAST AI and Vantage".
fn items(phrase: &str) -> Vec<String> {
    phrase
        .split(',')
        .flat_map(|p| p.split(" and "))
        .flat_map(|p| p.split(" or "))
        .map(|p| {
            let p = p.trim();
            let p = ["the ", "any ", "our ", "a ", "an "]
                .iter()
                .fold(p, |p, article| p.strip_prefix(article).unwrap_or(p));
            p.trim_matches(|c: char| !c.is_alphanumeric()).to_owned()
        })
        .filter(|p| !p.is_empty())
        .collect()
}

impl Steering {
    pub fn from_instructions(instructions: &str) -> Steering {
        let mut steering = Steering::default();
        for sentence in instructions.split(['.', ';', '\n', '!']) {
            let sentence = sentence.trim();
            let lower = sentence.to_lowercase();
            if lower.contains("competitor") {
                let excluding = [
                    "exclude",
                    "negative",
                    "block",
                    "not target",
                    "don't target",
                    "not show",
                    "keep out",
                    "avoid",
                ]
                .iter()
                .any(|m| lower.contains(m));
                if excluding {
                    let start = ["such as", "like", "including", ":"]
                        .iter()
                        .filter_map(|m| lower.find(m).map(|i| i + m.len()))
                        .min();
                    if let Some(start) = start {
                        steering.competitors.extend(items(&sentence[start..]));
                    }
                }
                continue;
            }
            if let Some((i, marker)) = AVOID_MARKERS
                .iter()
                .filter_map(|m| lower.find(m).map(|i| (i, *m)))
                .min_by_key(|(i, _)| *i)
            {
                for item in items(object(sentence, i + marker.len())) {
                    steering
                        .avoid
                        .extend(content_words(&item).iter().map(|w| stem(w)));
                }
                continue;
            }
            if let Some((i, marker)) = EMPHASIS_MARKERS
                .iter()
                .filter_map(|m| lower.find(m).map(|i| (i, *m)))
                .min_by_key(|(i, _)| *i)
            {
                steering
                    .emphasis
                    .extend(items(object(sentence, i + marker.len())));
            }
        }
        steering.avoid.sort();
        steering.avoid.dedup();
        steering
    }

    /// Whether `text` says something the instructions forbid.
    pub fn violated_by(&self, text: &str) -> bool {
        if self.avoid.is_empty() {
            return false;
        }
        let money = self.avoid.iter().any(|s| s == "pric" || s == "cost");
        if money && text.contains(['$', '€', '£']) {
            return true;
        }
        content_words(text)
            .iter()
            .any(|w| self.avoid.iter().any(|s| w.starts_with(s.as_str())))
    }

    /// Whether `text` carries an emphasised phrase (most of its words, in any form).
    pub fn emphasised_in(&self, text: &str) -> bool {
        let said: Vec<String> = content_words(text).iter().map(|w| stem(w)).collect();
        self.emphasis.iter().any(|phrase| {
            let wanted: Vec<String> = content_words(phrase).iter().map(|w| stem(w)).collect();
            covers(&said, &wanted)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emphasis_avoidance_and_competitors_are_read_from_plain_english() {
        let s = Steering::from_instructions(
            "Emphasise the free trial. Never mention price or discounts; exclude competitors: Kubecost, CAST AI and Vantage.",
        );
        assert_eq!(s.emphasis, ["free trial"]);
        assert_eq!(s.avoid, ["discount", "pric"]);
        assert_eq!(s.competitors, ["Kubecost", "CAST AI", "Vantage"]);
        assert!(s.violated_by("Transparent pricing for teams"));
        assert!(s.violated_by("From $49 a month"));
        assert!(!s.violated_by("Cut cloud bills by 30%"));
        assert!(s.emphasised_in("Start your free 14-day trial"));
        assert!(!s.emphasised_in("Book a demo"));
    }

    #[test]
    fn no_instructions_steer_nothing() {
        let s = Steering::from_instructions("");
        assert_eq!(s, Steering::default());
        assert!(!s.violated_by("Request pricing"));
        assert!(!s.emphasised_in("anything"));
    }
}
