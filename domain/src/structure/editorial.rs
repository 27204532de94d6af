//! Google Ads' editorial policy for ad text ("Editorial" in the Google Ads policies,
//! support.google.com/adspolicy/answer/6021546), the parts a machine can check: gimmicky
//! capitalisation, repeated or gimmicky punctuation, generic calls to action such as "click here",
//! exclamation marks in headlines; unsupported superlatives ("best", "#1") are flagged, not refused,
//! because a marketer may hold the third-party proof the policy asks for.

use super::ValidationReport;

/// What is wrong with a text, by policy. `Superlative` is the only warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditorialIssue {
    ExcessiveCapitals,
    RepeatedPunctuation,
    ClickHere,
    HeadlineExclamation,
    Superlative,
}

impl EditorialIssue {
    pub fn code(self) -> &'static str {
        match self {
            EditorialIssue::ExcessiveCapitals => "excessive_capitals",
            EditorialIssue::RepeatedPunctuation => "repeated_punctuation",
            EditorialIssue::ClickHere => "click_here",
            EditorialIssue::HeadlineExclamation => "headline_exclamation",
            EditorialIssue::Superlative => "unsupported_superlative",
        }
    }

    pub fn is_error(self) -> bool {
        self != EditorialIssue::Superlative
    }

    fn message(self) -> &'static str {
        match self {
            EditorialIssue::ExcessiveCapitals => {
                "words in capitals for emphasis are not allowed (acronyms of up to 5 letters are)"
            }
            EditorialIssue::RepeatedPunctuation => {
                "repeated or gimmicky punctuation (!!, ??, ..., !?) is not allowed"
            }
            EditorialIssue::ClickHere => {
                "a generic call to action such as \"click here\" is not allowed"
            }
            EditorialIssue::HeadlineExclamation => "headlines may not contain an exclamation mark",
            EditorialIssue::Superlative => {
                "a superlative or ranking claim needs third-party proof on the landing page"
            }
        }
    }
}

/// Where a text appears: headlines have the stricter punctuation rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextRole {
    Headline,
    Body,
}

const SUPERLATIVES: [&str; 12] = [
    "best",
    "#1",
    "number one",
    "no. 1",
    "cheapest",
    "fastest",
    "leading",
    "top-rated",
    "world-class",
    "unbeatable",
    "greatest",
    "lowest price",
];
const GENERIC_CTAS: [&str; 3] = ["click here", "click now", "click this"];
// Capitals that carry meaning, not emphasis: acronyms up to this length (CRM, SaaS, GDPR, B2B).
const ACRONYM_MAX: usize = 5;

/// Every issue in `text`, each once.
pub fn issues(text: &str, role: TextRole) -> Vec<EditorialIssue> {
    let mut found = Vec::new();
    let lower = text.to_lowercase();
    let shouting = text.split(|c: char| !c.is_alphanumeric()).any(|word| {
        let letters = word.chars().filter(|c| c.is_alphabetic()).count();
        letters > ACRONYM_MAX && word.chars().all(|c| !c.is_lowercase())
    });
    if shouting {
        found.push(EditorialIssue::ExcessiveCapitals);
    }
    let chars: Vec<char> = text.chars().collect();
    let gimmicky = chars.windows(2).any(|pair| {
        matches!(pair[0], '!' | '?' | '.' | ',' | ';' | ':')
            && matches!(pair[1], '!' | '?' | '.' | ',' | ';' | ':')
            && !(pair[0] == '.' && pair[1] == ',')
    });
    if gimmicky {
        found.push(EditorialIssue::RepeatedPunctuation);
    }
    if GENERIC_CTAS.iter().any(|cta| lower.contains(cta)) {
        found.push(EditorialIssue::ClickHere);
    }
    if role == TextRole::Headline && text.contains('!') {
        found.push(EditorialIssue::HeadlineExclamation);
    }
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '!' | '?' | ':' | ';'))
        .filter(|w| !w.is_empty())
        .collect();
    let padded = format!(" {} ", words.join(" "));
    if SUPERLATIVES
        .iter()
        .any(|s| padded.contains(&format!(" {s} ")))
    {
        found.push(EditorialIssue::Superlative);
    }
    found
}

/// Adds `text`'s issues to the report: errors, and superlatives as warnings.
pub fn check(text: &str, role: TextRole, path: &str, report: &mut ValidationReport) {
    for issue in issues(text, role) {
        let list = if issue.is_error() {
            &mut report.errors
        } else {
            &mut report.warnings
        };
        list.push(path, issue.code(), issue.message());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_copy_passes() {
        assert!(issues("Cut cloud costs by 30% with Acme CRM", TextRole::Headline).is_empty());
        assert!(issues(
            "Built for SaaS, GDPR-ready. Book a demo today.",
            TextRole::Body
        )
        .is_empty());
    }

    #[test]
    fn each_rule_is_caught() {
        use EditorialIssue as I;
        assert_eq!(
            issues("Buy NOW AMAZING deals", TextRole::Body),
            [I::ExcessiveCapitals]
        );
        assert_eq!(
            issues("Save today!!", TextRole::Body),
            [I::RepeatedPunctuation]
        );
        assert_eq!(
            issues("Really...", TextRole::Body),
            [I::RepeatedPunctuation]
        );
        assert_eq!(
            issues("Click here to learn more", TextRole::Body),
            [I::ClickHere]
        );
        assert_eq!(
            issues("Save today!", TextRole::Headline),
            [I::HeadlineExclamation]
        );
        assert!(issues("Save today!", TextRole::Body).is_empty());
        assert_eq!(
            issues("The best CRM for teams", TextRole::Body),
            [I::Superlative]
        );
        assert_eq!(issues("We are #1.", TextRole::Body), [I::Superlative]);
        // "bestow" is not "best".
        assert!(issues("We bestow trust", TextRole::Body).is_empty());
    }
}
