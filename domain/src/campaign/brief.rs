//! What the generator needs beyond the campaign itself: the offer, where ads lead, the words to
//! build keywords from, the markets, and the brand's voice. Sent with a structure request and kept
//! on its event, so a replay shows what the model was asked.

use crate::structure::google::ImageAssets;
use crate::text::required_line;
use crate::violation::Violations;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const OFFER_MAX_CHARS: usize = 500;
pub const LANDING_PAGE_TEXT_MAX_CHARS: usize = 5_000;
pub const SEED_KEYWORDS_MAX: usize = 50;
pub const TERMS_MAX: usize = 20;
pub const TERM_MAX_CHARS: usize = 40;

/// A market the generator can target on both platforms: ISO 3166 code → Google's geo target
/// constant and LinkedIn's geo URN.
pub const MARKETS: [(&str, &str, &str); 8] = [
    ("US", "geoTargetConstants/2840", "urn:li:geo:103644278"),
    ("GB", "geoTargetConstants/2826", "urn:li:geo:101165590"),
    ("DE", "geoTargetConstants/2276", "urn:li:geo:101282230"),
    ("FR", "geoTargetConstants/2250", "urn:li:geo:105015875"),
    ("NL", "geoTargetConstants/2528", "urn:li:geo:102890719"),
    ("CA", "geoTargetConstants/2124", "urn:li:geo:101174742"),
    ("AU", "geoTargetConstants/2036", "urn:li:geo:101452733"),
    ("ES", "geoTargetConstants/2724", "urn:li:geo:105646813"),
];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Tone {
    #[default]
    Professional,
    Friendly,
    Bold,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BrandVoice {
    /// Terms every ad must carry somewhere (a product name, a claim the brand always makes).
    #[serde(default)]
    pub required_terms: Vec<String>,
    /// Terms no ad may contain (a competitor, a word legal refused).
    #[serde(default)]
    pub forbidden_terms: Vec<String>,
    #[serde(default)]
    pub tone: Tone,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerationBrief {
    /// What is sold and to whom, in a sentence or two.
    pub offer: String,
    pub landing_page_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landing_page_text: Option<String>,
    #[serde(default)]
    pub seed_keywords: Vec<String>,
    /// As the ads show it (Google allows 25 characters).
    pub business_name: String,
    /// ISO 3166 country codes from [`MARKETS`]; empty means US.
    #[serde(default)]
    pub markets: Vec<String>,
    #[serde(default)]
    pub brand_voice: BrandVoice,
    /// The advertiser's images by URL, for the formats that show images (Google display ads and
    /// Performance Max): without a landscape and a square one those formats are not generated.
    #[serde(default, skip_serializing_if = "ImageAssets::is_empty")]
    pub images: ImageAssets,
}

/// How many image URLs a brief may carry per kind: Performance Max's limits.
pub const IMAGES_PER_KIND_MAX: usize = 10;

fn valid_url(value: &str) -> bool {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    let host = rest.map(|r| r.split(['/', '?', '#']).next().unwrap_or_default());
    host.is_some_and(|h| h.contains('.') && !h.starts_with('.') && !h.ends_with('.'))
        && !value.chars().any(char::is_whitespace)
        && value.chars().count() <= 2_000
}

fn terms(
    values: &[String],
    path: &str,
    (max, max_chars): (usize, usize),
    violations: &mut Violations,
) -> Vec<String> {
    if values.len() > max {
        violations.push(path, "too_many", format!("at most {max} allowed"));
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| required_line(v, &format!("{path}/{i}"), max_chars, violations))
        .collect()
}

impl GenerationBrief {
    /// The brief normalised (NFC, trimmed), or every violation found.
    pub fn validated(&self, path: &str, violations: &mut Violations) -> GenerationBrief {
        let offer = required_line(
            &self.offer,
            &format!("{path}/offer"),
            OFFER_MAX_CHARS,
            violations,
        );
        let url = self.landing_page_url.trim().to_owned();
        if !valid_url(&url) {
            violations.push(
                format!("{path}/landingPageUrl"),
                "invalid_url",
                "must be an absolute http(s) URL of at most 2,000 characters",
            );
        }
        let landing_page_text = self.landing_page_text.as_ref().map(|text| {
            if text.chars().count() > LANDING_PAGE_TEXT_MAX_CHARS {
                violations.push(
                    format!("{path}/landingPageText"),
                    "too_long",
                    format!("must be at most {LANDING_PAGE_TEXT_MAX_CHARS} characters"),
                );
            }
            text.trim().to_owned()
        });
        let business_name = required_line(
            &self.business_name,
            &format!("{path}/businessName"),
            crate::platform_rules::google::BUSINESS_NAME.max_chars,
            violations,
        );
        for (i, market) in self.markets.iter().enumerate() {
            if !MARKETS.iter().any(|(code, _, _)| code == market) {
                let known: Vec<_> = MARKETS.iter().map(|(code, _, _)| *code).collect();
                violations.push(
                    format!("{path}/markets/{i}"),
                    "unknown_value",
                    format!("must be one of {}", known.join(", ")),
                );
            }
        }
        let voice = &self.brand_voice;
        let brand_voice = BrandVoice {
            required_terms: terms(
                &voice.required_terms,
                &format!("{path}/brandVoice/requiredTerms"),
                (TERMS_MAX, TERM_MAX_CHARS),
                violations,
            ),
            forbidden_terms: terms(
                &voice.forbidden_terms,
                &format!("{path}/brandVoice/forbiddenTerms"),
                (TERMS_MAX, TERM_MAX_CHARS),
                violations,
            ),
            tone: voice.tone,
        };
        if let Some(term) = brand_voice
            .required_terms
            .iter()
            .find(|t| t.chars().count() > crate::platform_rules::google::HEADLINE.max_chars)
        {
            violations.push(
                format!("{path}/brandVoice/requiredTerms"),
                "too_long",
                format!("{term:?} would not fit a 30-character headline"),
            );
        }
        let mut images = ImageAssets::default();
        for (list, out, name, max) in [
            (
                &self.images.landscape,
                &mut images.landscape,
                "landscape",
                IMAGES_PER_KIND_MAX,
            ),
            (
                &self.images.square,
                &mut images.square,
                "square",
                IMAGES_PER_KIND_MAX,
            ),
            (
                &self.images.logos,
                &mut images.logos,
                "logos",
                crate::platform_rules::google::LOGOS_MAX,
            ),
        ] {
            if list.len() > max {
                violations.push(
                    format!("{path}/images/{name}"),
                    "too_many",
                    format!("at most {max} allowed"),
                );
            }
            for (i, image) in list.iter().enumerate() {
                let image = image.trim();
                if !valid_url(image) {
                    violations.push(
                        format!("{path}/images/{name}/{i}"),
                        "invalid_url",
                        "must be an absolute http(s) URL of at most 2,000 characters",
                    );
                }
                out.push(image.to_owned());
            }
        }
        GenerationBrief {
            images,
            offer,
            landing_page_url: url,
            landing_page_text,
            seed_keywords: terms(
                &self.seed_keywords,
                &format!("{path}/seedKeywords"),
                (
                    SEED_KEYWORDS_MAX,
                    crate::platform_rules::google::KEYWORD.max_chars,
                ),
                violations,
            ),
            business_name,
            markets: self.markets.clone(),
            brand_voice,
        }
    }
}
