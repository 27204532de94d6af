//! The raw material of ad copy: phrases taken from the brief (themes, benefits, calls to action)
//! and the sentence patterns that combine them, per tone. Patterns are data; the generator fills,
//! fits and filters them.

use crate::brief::Brief;
use adflow_domain::campaign::brief::Tone;
use adflow_domain::campaign::Objective;

/// What a pattern can name.
#[derive(Debug, Clone, Default)]
pub struct Slots {
    pub product: String,
    /// Short noun phrases for what is sold, most relevant first (keyword themes, offer phrases).
    pub themes: Vec<String>,
    /// Clauses from the offer and the landing page, without a final full stop.
    pub benefits: Vec<String>,
    pub ctas: Vec<String>,
    /// Who the ads speak to (segment names or a default).
    pub audiences: Vec<String>,
}

pub(super) fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The words the generator's own sentences use as common words ("teams", "it"): a brief that
/// writes one with a capital (Microsoft Teams) names something, but the generator's "B2B teams"
/// does not, so such a word is not cased as a name.
pub fn vocabulary() -> &'static std::collections::HashSet<String> {
    static WORDS: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    WORDS.get_or_init(common_words)
}

fn common_words() -> std::collections::HashSet<String> {
    let mut texts: Vec<String> = vec!["B2B teams".to_owned()];
    for tone in [Tone::Professional, Tone::Friendly, Tone::Bold] {
        texts.extend(headline_patterns(tone).iter().map(|s| (*s).to_owned()));
        texts.extend(body_patterns(tone).iter().map(|s| (*s).to_owned()));
        for objective in Objective::ALL {
            texts.extend(ctas(objective, tone));
        }
    }
    texts
        .iter()
        .flat_map(|t| t.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Search words that say what the searcher wants to do with a thing, not what it is.
const INTENT_WORDS: [&str; 22] = [
    "demo",
    "demos",
    "vendor",
    "vendors",
    "pricing",
    "price",
    "prices",
    "quote",
    "quotes",
    "free",
    "trial",
    "best",
    "top",
    "review",
    "reviews",
    "alternative",
    "alternatives",
    "vs",
    "comparison",
    "buy",
    "cheap",
    "near",
];

/// Nouns for people: a phrase ending in one names an audience.
const PEOPLE: [&str; 16] = [
    "teams",
    "team",
    "leaders",
    "companies",
    "startups",
    "managers",
    "engineers",
    "marketers",
    "founders",
    "buyers",
    "professionals",
    "executives",
    "owners",
    "recruiters",
    "brokers",
    "nonprofits",
];

fn names_people(phrase: &str) -> bool {
    phrase
        .split_whitespace()
        .last()
        .is_some_and(|w| PEOPLE.contains(&w.to_lowercase().as_str()))
}

/// Words that make a search about another product: such a keyword never names what is sold.
const ELSEWHERE_WORDS: [&str; 6] = [
    "alternative",
    "alternatives",
    "vs",
    "versus",
    "competitor",
    "competitors",
];

/// Words that name the kind of product rather than what it does: "pipeline forecasting software"
/// is searched for, "pipeline forecasting" is what a sentence says a product helps with.
const CATEGORY_NOUNS: [&str; 14] = [
    "software",
    "tool",
    "tools",
    "platform",
    "platforms",
    "solution",
    "solutions",
    "app",
    "apps",
    "system",
    "systems",
    "provider",
    "providers",
    "company",
];

/// Endings of words that name an activity or a field, which a sentence can use without an
/// article: forecasting, management, automation, security, analytics, compliance.
const ACTIVITY_ENDINGS: [&str; 8] = ["ing", "ment", "tion", "sion", "ity", "ics", "ance", "ence"];

/// A theme as an activity, for sentences that say what a product does it for ("helps teams with
/// pipeline forecasting"): its last words dropped while they only name the kind of product
/// ("… software platform") and what is left ends in an activity ("virtual event platform" stays:
/// "for virtual event" is not English) of at least two words.
pub fn activity(theme: &str) -> String {
    let words: Vec<&str> = theme.split_whitespace().collect();
    let category = |w: &&&str| CATEGORY_NOUNS.contains(&w.to_lowercase().as_str());
    let kept = words.len() - words.iter().rev().take_while(category).count();
    let names_activity = kept >= 2
        && ACTIVITY_ENDINGS
            .iter()
            .any(|e| words[kept - 1].to_lowercase().ends_with(e));
    if names_activity && kept < words.len() {
        words[..kept].join(" ")
    } else {
        theme.to_owned()
    }
}

/// A keyword without its intent words: "kubernetes cost monitoring demo" → "kubernetes cost
/// monitoring"; empty for a search about another product ("hashicorp vault alternative").
pub fn noun_phrase(keyword: &str) -> String {
    let words: Vec<&str> = keyword.split_whitespace().collect();
    if words
        .iter()
        .any(|w| ELSEWHERE_WORDS.contains(&w.to_lowercase().as_str()))
    {
        return String::new();
    }
    let mut kept: Vec<&str> = words
        .into_iter()
        .filter(|w| !INTENT_WORDS.contains(&w.to_lowercase().as_str()))
        .collect();
    // "… management guide" is a search for reading about it: the expansion the keyword generator
    // adds for awareness objectives comes off the end.
    for modifier in crate::keywords::INFORMATIONAL {
        let tail: Vec<&str> = modifier.split(' ').collect();
        if kept.len() > tail.len()
            && kept[kept.len() - tail.len()..]
                .iter()
                .zip(&tail)
                .all(|(w, t)| w.eq_ignore_ascii_case(t))
        {
            kept.truncate(kept.len() - tail.len());
            break;
        }
    }
    kept.join(" ")
}

pub fn title_case(text: &str) -> String {
    text.split_whitespace()
        .map(capitalise)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Sentences and clauses of a text, trimmed of their end punctuation.
fn clauses(text: &str) -> Vec<String> {
    text.split(['.', '!', '?', '\n', ';'])
        .map(|c| c.trim().trim_end_matches([',', ':']).trim())
        .filter(|c| c.split_whitespace().count() >= 3)
        .map(capitalise)
        .collect()
}

fn ctas(objective: Objective, tone: Tone) -> Vec<String> {
    let base: &[&str] = match objective {
        Objective::LeadGeneration => &[
            "Book a demo",
            "Request pricing",
            "Talk to an expert",
            "Get the guide",
            "Get a free assessment",
        ],
        Objective::WebsiteConversions => &[
            "Start your trial",
            "Get started today",
            "Sign up in minutes",
            "Book a demo",
        ],
        Objective::WebsiteVisits => &[
            "See how it works",
            "Explore the platform",
            "Learn more",
            "Read the case study",
        ],
        Objective::BrandAwareness | Objective::Engagement | Objective::VideoViews => &[
            "Learn more",
            "See how it works",
            "Discover the approach",
            "Read the story",
        ],
    };
    let extra: &[&str] = match tone {
        Tone::Professional => &[],
        Tone::Friendly => &["Come take a look", "Let's talk"],
        Tone::Bold => &["Start now", "Make the switch"],
    };
    base.iter().chain(extra).map(|s| (*s).to_owned()).collect()
}

/// Calls to action that promise something, by the stem the brief must show for the promise to
/// hold: an ad may not offer a guide, a free assessment or a demo the advertiser does not give.
const PROMISES: [(&str, &str); 6] = [
    ("demo", "demo"),
    ("pricing", "pric"),
    ("guide", "guide"),
    ("assessment", "assess"),
    ("trial", "trial"),
    ("case study", "case stud"),
];

/// The objective's calls to action less those promising what the brief does not offer.
fn offered_ctas(brief: &Brief) -> Vec<String> {
    let said = format!(
        "{} {} {}",
        brief.offer, brief.landing_page_text, brief.instructions
    )
    .to_lowercase();
    ctas(brief.objective, brief.brand_voice.tone)
        .into_iter()
        .filter(|cta| {
            let lower = cta.to_lowercase();
            PROMISES
                .iter()
                .filter(|(word, _)| lower.contains(word))
                .all(|(_, stem)| said.contains(stem))
        })
        .collect()
}

impl Slots {
    pub fn from_brief(brief: &Brief, themes: Vec<String>) -> Slots {
        // The brief's own claims first (a figure, an offer, a proof point), then its sentences.
        let steering = super::Steering::from_instructions(&brief.instructions);
        let mut benefits: Vec<String> = super::steered_facts(brief)
            .into_iter()
            .filter(|f| f.kind != super::FactKind::Feature)
            .map(|f| f.clause)
            .collect();
        for clause in clauses(&brief.offer)
            .into_iter()
            .chain(clauses(&brief.landing_page_text))
        {
            let key = clause.to_lowercase();
            if !steering.violated_by(&clause) && !benefits.iter().any(|b| b.to_lowercase() == key) {
                benefits.push(clause);
            }
        }
        let mut audiences: Vec<String> = brief
            .segments
            .iter()
            .map(|s| s.name.clone())
            .filter(|n| n.split_whitespace().count() <= 4)
            .collect();
        audiences.push("B2B teams".to_owned());
        // Few themes (a one-line brief): the offer's own noun phrases fill in. They are not
        // ranked, so ranked keywords, when there are enough, come alone.
        let mut themes = themes;
        let offer_phrases = if themes.len() < 4 {
            crate::keywords::offer_candidates(brief)
        } else {
            Vec::new()
        };
        for phrase in offer_phrases {
            if phrase.contains(' ') && !themes.contains(&phrase) {
                themes.push(phrase);
            }
        }
        // Keywords are lower case; copy shows each word as the brief wrote it (SaaS, AWS, SOC 2).
        // A keyword is a search, not a noun phrase: "kubernetes cost monitoring demo" names the
        // searcher's intent, which a sentence around it would repeat ("... monitoring demo. Book
        // a demo."), so copy uses the thing searched for.
        let mut shown: Vec<String> = Vec::new();
        for theme in &themes {
            let text = brief.display_case(&noun_phrase(theme));
            if text.is_empty() || steering.violated_by(&text) {
                continue;
            }
            // "Kubernetes platform teams" names who buys, not what is sold: an audience.
            if names_people(&text) {
                if text.split_whitespace().count() <= 4
                    && !audiences.iter().any(|a| a.eq_ignore_ascii_case(&text))
                {
                    audiences.insert(audiences.len().saturating_sub(1), text);
                }
                continue;
            }
            if !shown.iter().any(|s| s.eq_ignore_ascii_case(&text)) {
                shown.push(text);
            }
        }
        let themes = shown;
        Slots {
            product: brief.business_name.clone(),
            themes,
            benefits,
            ctas: offered_ctas(brief),
            audiences,
        }
    }
}

/// Patterns for short lines (headlines, subjects, card titles): `{t}` theme, `{T}` the theme as
/// an activity (see [`activity`]), `{p}` product, `{c}` call to action, `{a}` audience, `{b}`
/// benefit.
pub fn headline_patterns(tone: Tone) -> &'static [&'static str] {
    match tone {
        Tone::Professional => &[
            "{t}",
            "{p} {t}",
            "{t} for {a}",
            "{t} with {p}",
            "{c}",
            "{c} with {p}",
            "Meet {p}",
            "{T} made simple",
            "Smarter {t}",
            "{t} that scales",
            "{p} for {a}",
            "Rethink {t}",
            "Trusted {t}",
            "{T}, simplified",
            "Modern {t}",
            "{t} in one place",
            "{b}",
            "{t} for growing teams",
            "Enterprise {t}",
            "Better {T} with {p}",
        ],
        Tone::Friendly => &[
            "{t}",
            "Say hello to {p}",
            "{T}, made easy",
            "{t} for {a}",
            "{c}",
            "Love your {t}",
            "{T} without the hassle",
            "Meet {p}",
            "Your {T}, sorted",
            "{p} for {a}",
            "{b}",
            "Easier {t}",
            "{t} with {p}",
            "{t} that just works",
            "Hi, we are {p}",
            "{t} you will enjoy",
            "Simple {t}",
            "{c} with {p}",
        ],
        Tone::Bold => &[
            "{t}",
            "Own your {t}",
            "{T}. Done right",
            "{p}: {t}",
            "{c}",
            "Stop guessing {T}",
            "{t} for {a}",
            "Upgrade your {t}",
            "Win with {p}",
            "{t} at full speed",
            "{b}",
            "Take control of {T}",
            "{t} that delivers",
            "Meet {p}",
            "{t} with {p}",
            "Go further with {p}",
            "{c} with {p}",
            "Next-level {t}",
        ],
    }
}

/// Patterns for longer lines (descriptions, intro texts, message bodies).
pub fn body_patterns(tone: Tone) -> &'static [&'static str] {
    match tone {
        Tone::Professional => &[
            "{b}. {c}.",
            "{p} helps {a} with {T}. {c}.",
            "{b}. Built for {a}.",
            "See why {a} choose {p} for {T}. {c}.",
            "{t} for {a}: {b}.",
            "{b}. {c} with {p}.",
            "{p}: {t} for {a}. {c}.",
            "{b}, with {p}. {c}.",
            "Bring {T} into one place with {p}. {c}.",
            "{b}. Made for {a}.",
            "{t} your team can rely on. {c}.",
            "{b}. {p} makes it simple.",
        ],
        Tone::Friendly => &[
            "{b}. {c}.",
            "{p} makes {T} easy for {a}. {c}.",
            "{b}. We built {p} for {a}.",
            "Curious about {t}? {c}.",
            "{b}, minus the headaches. {c}.",
            "{t} with {p}: {b}.",
            "{b}. Give {p} a try.",
            "{a} use {p} for {T}. {c}.",
            "{b}. {c} with {p}.",
            "Make {T} easy with {p}. {c}.",
            "{b}. It just works.",
            "{b}. {p} is here to help.",
        ],
        Tone::Bold => &[
            "{b}. {c}.",
            "{p} gives {a} control of {T}. {c}.",
            "{b}. No compromises.",
            "{t} that performs. {c} with {p}.",
            "{b}. Built for {a}.",
            "{b}. {c} now.",
            "Raise the bar on {T} with {p}. {c}.",
            "{b}. Lead with {p}.",
            "{a} move faster with {p}. {c}.",
            "{b}. {p} delivers.",
            "{T}, done properly. {c}.",
            "{b}. Make the switch to {p}.",
        ],
    }
}

/// Fills a pattern; `None` when it names a slot that has no value at `choice`.
pub fn fill(pattern: &str, slots: &Slots, choice: usize) -> Option<String> {
    let pick = |values: &[String], offset: usize| -> Option<String> {
        (!values.is_empty()).then(|| values[(choice + offset) % values.len()].clone())
    };
    let mut text = pattern.to_owned();
    for (key, values, offset, as_activity) in [
        ("{t}", &slots.themes, 0, false),
        // The same theme as `{t}` at this choice (the same offset), in its activity form.
        ("{T}", &slots.themes, 0, true),
        ("{b}", &slots.benefits, 1, false),
        ("{c}", &slots.ctas, 2, false),
        ("{a}", &slots.audiences, 3, false),
    ] {
        if text.contains(key) {
            let value = pick(values, offset)?;
            let value = if as_activity { activity(&value) } else { value };
            // A theme opening a sentence is capitalised; inside, it keeps its case.
            let value = if text.starts_with(key) {
                capitalise(&value)
            } else {
                value
            };
            text = text.replacen(key, &value, 1);
        }
    }
    if text.contains("{p}") {
        if slots.product.is_empty() {
            return None;
        }
        text = text.replace("{p}", &slots.product);
    }
    // "Benefit.. " when a benefit already ends in a full stop.
    Some(text.replace("..", ".").trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_to_action_promise_only_what_the_brief_offers() {
        let mut brief = crate::copy::facts::tests::kube();
        brief.objective = Objective::LeadGeneration;
        brief.brand_voice.tone = Tone::Professional;
        brief.instructions.clear();
        // A free trial, no demo, guide, pricing page or assessment.
        assert_eq!(offered_ctas(&brief), vec!["Talk to an expert".to_owned()]);
        brief
            .landing_page_text
            .push_str(" Book a demo or see pricing.");
        assert_eq!(
            offered_ctas(&brief),
            vec!["Book a demo", "Request pricing", "Talk to an expert"]
        );
    }

    #[test]
    fn a_sentence_says_what_a_product_does_not_what_kind_it_is() {
        assert_eq!(
            activity("Pipeline forecasting software"),
            "Pipeline forecasting"
        );
        assert_eq!(
            activity("warehouse management system"),
            "warehouse management"
        );
        assert_eq!(
            activity("kubernetes cost monitoring"),
            "kubernetes cost monitoring"
        );
        assert_eq!(activity("software"), "software");
        assert_eq!(activity("contract software"), "contract software");
        assert_eq!(activity("virtual event platform"), "virtual event platform");
        assert_eq!(
            activity("commercial insurance quoting software platform"),
            "commercial insurance quoting"
        );
        let slots = Slots {
            product: "Pipewise".into(),
            themes: vec!["pipeline forecasting software".into()],
            benefits: vec![],
            ctas: vec!["Start now".into()],
            audiences: vec![],
        };
        assert_eq!(
            fill("{t}. Take control of {T}", &slots, 0).as_deref(),
            Some("Pipeline forecasting software. Take control of pipeline forecasting")
        );
        let slots = Slots {
            audiences: vec!["RevOps teams".into()],
            ..slots
        };
        assert_eq!(
            fill("{p} gives {a} control of {T}. {c}.", &slots, 1).as_deref(),
            Some("Pipewise gives RevOps teams control of pipeline forecasting. Start now.")
        );
    }
}
