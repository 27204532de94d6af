//! What a brief actually claims, mined from its offer and landing-page text: numbers ("cut AWS
//! bills by 30%"), offers (a free 14-day trial, a demo, a guide), proof points (SOC 2 certified,
//! trusted by 500 teams) and features (anomaly alerts). Each fact keeps the brief's own words and
//! casing; a headline form (at most 30 characters) and a sentence form for bodies are derived from
//! it. These are what make an ad say something only this advertiser can say.

use crate::brief::Brief;
use std::collections::HashSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FactKind {
    /// A claim with a figure in it: the strongest value proposition.
    Number,
    /// Something the reader can get: trial, demo, guide, pricing, assessment.
    Offer,
    /// Why to believe it: certifications, customers, awards, ratings.
    Proof,
    /// What the product does, as the landing page lists it.
    Feature,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub kind: FactKind,
    /// The phrase as the brief writes it (first letter raised), at most 30 characters, or `None`
    /// when it is too long for a headline.
    pub headline: Option<String>,
    /// The phrase as a sentence without its full stop, for descriptions and intro texts.
    pub clause: String,
}

impl Fact {
    /// Lower-case content words: what "carries this fact" is checked by.
    pub fn words(&self) -> Vec<String> {
        content_words(&self.clause)
    }
}

/// Things a reader can get, whatever the words around them.
const OFFER_WORDS: [&str; 7] = [
    "trial",
    "demo",
    "quote",
    "assessment",
    "consultation",
    "webinar",
    "pilot",
];

/// Things that are an offer only when given ("get the guide", "free audit"), a feature otherwise
/// ("ASC 842 reports").
const GIVEN_WORDS: [&str; 11] = [
    "plan",
    "guide",
    "pricing",
    "ebook",
    "e-book",
    "whitepaper",
    "audit",
    "checklist",
    "template",
    "sandbox",
    "report",
];

const GIVING_WORDS: [&str; 10] = [
    "free", "get", "book", "request", "start", "download", "try", "sample", "claim", "see",
];

const PROOF_MARKERS: [&str; 18] = [
    "certified",
    "certification",
    "compliant",
    "soc 2",
    "iso 27001",
    "hipaa",
    "gdpr",
    "award",
    "rated",
    "trusted by",
    "used by",
    "customers",
    "clients",
    "g2",
    "gartner",
    "forrester",
    "leader",
    "reviews",
];

/// Words that carry no claim of their own.
const STOP_WORDS: [&str; 34] = [
    "a", "an", "the", "and", "or", "of", "for", "to", "in", "on", "by", "with", "your", "our",
    "you", "we", "it", "its", "is", "are", "be", "that", "this", "from", "at", "as", "per",
    "every", "all", "more", "less", "into", "up", "than",
];

/// Verbs a claim opens with in the third person ("KubeSaver cuts ..."): a headline speaks to the
/// reader, so they lose their "s" ("Cut ...").
const CLAIM_VERBS: [&str; 24] = [
    "cuts",
    "reduces",
    "saves",
    "helps",
    "finds",
    "automates",
    "shows",
    "gives",
    "lets",
    "closes",
    "tracks",
    "forecasts",
    "collects",
    "connects",
    "protects",
    "detects",
    "lowers",
    "speeds",
    "builds",
    "turns",
    "brings",
    "makes",
    "keeps",
    "boosts",
];

pub fn content_words(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '%' || c == '-'))
        .map(str::to_lowercase)
        .filter(|w| !w.is_empty() && !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

fn raise_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The pieces of a text a claim can stand alone in: sentences, then the items of lists.
fn pieces(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    // A full stop ends a sentence only before a space or the end ("v2.5" and "3.5x" stay whole).
    let mut sentence = String::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let ends = matches!(c, '!' | '?' | '\n' | ';' | '•' | '|')
            || (*c == '.' && chars.get(i + 1).is_none_or(|n| n.is_whitespace()));
        if ends {
            out.push(std::mem::take(&mut sentence));
        } else {
            sentence.push(*c);
        }
    }
    out.push(sentence);
    let mut items = Vec::new();
    for sentence in out {
        let sentence = sentence.trim();
        // "Why teams switch:" introduces a list; it says nothing itself.
        if sentence.is_empty() || sentence.ends_with(':') {
            continue;
        }
        // "Anomaly alerts, rightsizing recommendations, SOC 2 certified, free 14-day trial": a
        // list of short items, each its own fact. A sentence with a comma but long parts stays
        // whole.
        let parts: Vec<&str> = sentence.split([',', ':']).map(str::trim).collect();
        // "Trusted by Gong, Miro and Notion" is one claim whose object is a list.
        let head = parts.first().copied().unwrap_or_default().to_lowercase();
        let one_claim = [" by ", "trusted"].iter().any(|m| head.contains(m));
        let listy = parts.len() > 1
            && !one_claim
            && parts.iter().all(|p| p.split_whitespace().count() <= 6);
        if listy {
            for part in parts {
                let part = part
                    .strip_prefix("and ")
                    .or_else(|| part.strip_prefix("or "))
                    .unwrap_or(part);
                items.push(part.to_owned());
            }
        } else {
            items.push(sentence.to_owned());
        }
    }
    items
        .into_iter()
        .map(|i| {
            // A list's bullets and numbers are not part of the item: "- Anomaly alerts", "2) SSO".
            let i = i
                .trim()
                .trim_start_matches(['-', '*', '–', '—', '·', '✓', '✔']);
            let i = match i.split_once([')', '.']) {
                Some((n, rest))
                    if !n.is_empty()
                        && n.chars().all(|c| c.is_ascii_digit())
                        && rest.starts_with(' ') =>
                {
                    rest
                }
                _ => i,
            };
            i.trim().trim_end_matches(['.', ',']).trim().to_owned()
        })
        .filter(|i| !i.is_empty())
        .collect()
}

fn kind_of(piece: &str) -> Option<FactKind> {
    let lower = piece.to_lowercase();
    let words = content_words(piece);
    let has = |w: &str| {
        if w.contains(' ') {
            lower.contains(w)
        } else {
            words.iter().any(|x| x == w || x.trim_end_matches('s') == w)
        }
    };
    let offer = OFFER_WORDS.iter().any(|w| has(w))
        || (GIVEN_WORDS.iter().any(|w| has(w)) && GIVING_WORDS.iter().any(|w| has(w)));
    if PROOF_MARKERS.iter().any(|m| has(m)) {
        Some(FactKind::Proof)
    } else if offer {
        Some(FactKind::Offer)
    } else if piece.chars().any(|c| c.is_ascii_digit()) {
        Some(FactKind::Number)
    } else if (2..=5).contains(&piece.split_whitespace().count()) {
        Some(FactKind::Feature)
    } else {
        None
    }
}

/// Subjects a claim can open with besides the business name.
const SUBJECTS: [&str; 12] = [
    "it",
    "we",
    "that",
    "which",
    "our platform",
    "the platform",
    "our software",
    "our app",
    "the app",
    "our tool",
    "the tool",
    "our team",
];

/// Words ending in "s" that are not a verb in the third person.
const NOT_VERBS: [&str; 14] = [
    "is",
    "has",
    "was",
    "does",
    "its",
    "us",
    "this",
    "less",
    "across",
    "always",
    "plus",
    "news",
    "sales",
    "analytics",
];

/// The imperative of a verb in the third person ("cuts" → "cut", "patches" → "patch",
/// "simplifies" → "simplify"), `None` for a word that is not one.
fn imperative(word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    if NOT_VERBS.contains(&lower.as_str()) || !word.chars().all(|c| c.is_ascii_lowercase()) {
        return None;
    }
    if let Some(base) = lower.strip_suffix("ies") {
        return Some(format!("{base}y"));
    }
    if let Some(base) = lower.strip_suffix("es") {
        if base.ends_with("ss")
            || base.ends_with("sh")
            || base.ends_with("ch")
            || base.ends_with('x')
        {
            return Some(base.to_owned());
        }
    }
    lower
        .strip_suffix('s')
        .filter(|base| !base.ends_with('s') && base.len() >= 2)
        .map(str::to_owned)
}

/// `piece` with its subject (the business name, "it", "our platform") taken off and a
/// third-person verb turned to the imperative: "KubeSaver cuts AWS bills by 30%" → "Cut AWS bills
/// by 30%", "SecureStack gets startups SOC 2 ready" → "Get startups SOC 2 ready".
fn as_claim(piece: &str, business: &str) -> String {
    let mut text = piece.trim();
    let mut subject = false;
    if !business.is_empty() {
        if let Some(rest) = text.strip_prefix(business) {
            text = rest.trim_start();
            subject = true;
        }
    }
    for lead in SUBJECTS {
        let n = lead.len();
        if text.len() > n
            && text.is_char_boundary(n)
            && text[..n].eq_ignore_ascii_case(lead)
            && text[n..].starts_with(' ')
        {
            text = text[n..].trim_start();
            subject = true;
            break;
        }
    }
    let mut words = text.splitn(2, ' ');
    let first = words.next().unwrap_or_default();
    let rest = words.next().unwrap_or_default();
    let known = CLAIM_VERBS.iter().any(|v| v.eq_ignore_ascii_case(first));
    let verb = (subject || known).then(|| imperative(first)).flatten();
    let text = match verb {
        // "Acme is SOC 2 certified" → "SOC 2 certified".
        _ if subject && ["is", "are"].contains(&first) && !rest.is_empty() => rest.to_owned(),
        Some(v) if !rest.is_empty() => format!("{v} {rest}"),
        _ => text.to_owned(),
    };
    raise_first(&text)
}

const HEADLINE_CHARS: usize = 30;

/// Words after which a claim can stop and still say its point ("Cut AWS bills by 30%" | "for
/// platform teams").
const CUT_BEFORE: [&str; 9] = [
    " for ",
    " with ",
    " in ",
    " across ",
    " without ",
    " while ",
    " so ",
    " at ",
    " on ",
];

/// The claim itself if it fits a headline, else its longest head that ends before a qualifying
/// phrase, keeps any figure and has at least two words.
fn headline_of(claim: &str) -> Option<String> {
    if claim.chars().count() <= HEADLINE_CHARS {
        return Some(claim.to_owned());
    }
    let has_figure = claim.chars().any(|c| c.is_ascii_digit());
    CUT_BEFORE
        .iter()
        .flat_map(|cut| claim.match_indices(cut).map(|(i, _)| i))
        .map(|i| claim[..i].trim())
        .filter(|head| {
            head.chars().count() <= HEADLINE_CHARS && head.split_whitespace().count() >= 2
        })
        .filter(|head| !has_figure || head.chars().any(|c| c.is_ascii_digit()))
        .max_by_key(|head| head.len())
        .map(str::to_owned)
}
const CLAUSE_CHARS: usize = 90;

/// The brief's facts, strongest kind first, each once.
pub fn facts(brief: &Brief) -> Vec<Fact> {
    let mut found = Vec::new();
    let mut seen = HashSet::new();
    for source in [&brief.offer, &brief.landing_page_text] {
        for piece in pieces(source) {
            let Some(kind) = kind_of(&piece) else {
                continue;
            };
            let claim = as_claim(&piece, &brief.business_name);
            let words = content_words(&claim);
            if words.is_empty() || claim.chars().count() > CLAUSE_CHARS {
                continue;
            }
            if !seen.insert(words.join(" ")) {
                continue;
            }
            let headline = headline_of(&claim);
            found.push(Fact {
                kind,
                headline,
                clause: claim,
            });
        }
    }
    // A brief of one long sentence states no listed fact: its head is the claim it makes.
    if found.is_empty() {
        if let Some(piece) = pieces(&brief.offer).first() {
            let claim = as_claim(piece, &brief.business_name);
            if let Some(head) = headline_of(&claim).filter(|h| content_words(h).len() >= 2) {
                let clause = if claim.chars().count() <= CLAUSE_CHARS {
                    claim
                } else {
                    head.clone()
                };
                found.push(Fact {
                    kind: FactKind::Feature,
                    headline: Some(head),
                    clause,
                });
            }
        }
    }
    // Stable: within a kind, the brief's own order (the offer before the landing page).
    found.sort_by_key(|f| f.kind);
    found
}

/// Whether `said` holds most of `wanted` (two thirds; all of a short phrase), and `wanted` is
/// something.
pub fn covers(said: &[String], wanted: &[String]) -> bool {
    !wanted.is_empty() && wanted.iter().filter(|w| said.contains(w)).count() * 3 >= wanted.len() * 2
}

/// Whether `text` carries `fact`: most of its content words (all of them for short facts).
pub fn carries(text: &str, fact: &Fact) -> bool {
    covers(&content_words(text), &fact.words())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::evaluation::sample_briefs;

    /// The example: a Kubernetes cost tool.
    pub(crate) fn kube() -> Brief {
        let mut brief = sample_briefs().remove(0);
        brief.business_name = "KubeSaver".into();
        brief.offer =
            "KubeSaver cuts AWS and GCP bills by 30% for Kubernetes platform teams".into();
        brief.landing_page_text =
            "Anomaly alerts, rightsizing recommendations, SOC 2 certified, free 14-day trial."
                .into();
        brief
    }

    #[test]
    fn a_name_opening_a_later_list_item_keeps_its_capital() {
        let mut brief = kube();
        brief.business_name = "GiveGrid".into();
        brief.offer =
            "GiveGrid helps nonprofits raise 25% more with recurring donation campaigns".into();
        brief.landing_page_text = "Donation forms, donor CRM, Salesforce Nonprofit Cloud sync. \
            Trusted by 2,000 nonprofits. Request a demo."
            .into();
        let proper = brief.proper_words();
        assert!(proper.contains(&"Salesforce".to_owned()), "{proper:?}");
        assert!(!proper.contains(&"Donation".to_owned()), "{proper:?}");
        let facts = facts(&brief);
        assert!(
            facts
                .iter()
                .any(|f| f.clause.contains("Salesforce Nonprofit Cloud")),
            "{facts:?}"
        );
        assert_eq!(
            brief.display_case("salesforce nonprofit cloud sync"),
            "Salesforce Nonprofit Cloud sync"
        );
    }

    #[test]
    fn a_kubernetes_cost_brief_gives_its_number_its_offer_its_proof_and_its_features() {
        let facts = facts(&kube());
        let headlines: Vec<&str> = facts.iter().filter_map(|f| f.headline.as_deref()).collect();
        assert!(headlines.contains(&"SOC 2 certified"), "{facts:?}");
        assert!(headlines.contains(&"Free 14-day trial"), "{facts:?}");
        assert!(headlines.contains(&"Anomaly alerts"), "{facts:?}");
        assert!(
            headlines.contains(&"Rightsizing recommendations"),
            "{facts:?}"
        );
        let number = facts
            .iter()
            .find(|f| f.kind == FactKind::Number)
            .expect("a number");
        assert!(
            number.clause.starts_with("Cut AWS and GCP bills by 30%"),
            "{number:?}"
        );
        assert_eq!(
            number.headline.as_deref(),
            Some("Cut AWS and GCP bills by 30%")
        );
        assert_eq!(facts[0].kind, FactKind::Number);
    }

    #[test]
    fn a_claim_speaks_to_the_reader() {
        assert_eq!(
            as_claim("SecureStack gets startups SOC 2 ready", "SecureStack"),
            "Get startups SOC 2 ready"
        );
        assert_eq!(
            as_claim("PatchPilot patches endpoints in hours", "PatchPilot"),
            "Patch endpoints in hours"
        );
        assert_eq!(
            as_claim("Our platform simplifies audits", "Acme"),
            "Simplify audits"
        );
        assert_eq!(as_claim("cuts bills by 30%", "Acme"), "Cut bills by 30%");
        // No subject and no known claim verb: a noun stays a noun.
        assert_eq!(
            as_claim("Savings reports every week", "Acme"),
            "Savings reports every week"
        );
        assert_eq!(
            as_claim("Acme is SOC 2 certified", "Acme"),
            "SOC 2 certified"
        );
    }

    #[test]
    fn bullets_and_numbers_of_a_list_are_not_part_of_its_items() {
        let items = pieces("Why teams pick us:\n- Anomaly alerts\n* SOC 2 certified\n3) Free 14-day trial\n99.99% uptime");
        assert_eq!(
            items,
            [
                "Anomaly alerts",
                "SOC 2 certified",
                "Free 14-day trial",
                "99.99% uptime"
            ]
        );
    }

    #[test]
    fn a_decimal_and_a_version_are_not_sentence_ends() {
        let items = pieces("Version 2.5 ships today. Queries run 3.5x faster");
        assert_eq!(
            items,
            ["Version 2.5 ships today", "Queries run 3.5x faster"]
        );
    }

    #[test]
    fn a_headline_carries_a_fact_when_it_says_most_of_its_words() {
        let fact = Fact {
            kind: FactKind::Offer,
            headline: Some("Free 14-day trial".into()),
            clause: "Free 14-day trial".into(),
        };
        assert!(carries("Start Your Free 14-Day Trial", &fact));
        assert!(!carries("Start your trial", &fact));
    }
}
