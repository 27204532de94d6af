//! Property tests over random briefs: every generated structure passes the domain's platform
//! validators and fits the budget, every ad has at least ten unique variations within every limit,
//! the brand voice holds, and the same brief gives the same output.

use adflow_domain::campaign::brief::{BrandVoice, Tone, MARKETS};
use adflow_domain::campaign::{planned_spend_micros, Objective, Platform};
use adflow_domain::structure::editorial::{issues, EditorialIssue};
use adflow_domain::structure::linkedin::CampaignType;
use adflow_domain::structure::validate;
use adflow_ml_workers::brief::{Brief, TargetSegment};
use adflow_ml_workers::copy::{CopyFormat, CopyGenerator, Slots};
use adflow_ml_workers::structure::StructureGenerator;
use adflow_ml_workers::Models;
use chrono::{Days, NaiveDate};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use std::sync::OnceLock;

fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| Models::load_default().expect("models load (run ops/setup.sh)"))
}

const PRODUCTS: [&str; 6] = [
    "Acme Cloud",
    "SecureStack",
    "Dealflow",
    "Ledgerly",
    "HireLoop",
    "Nimbus Data Co",
];
const WHAT: [&str; 8] = [
    "cloud cost management",
    "SOC 2 compliance automation",
    "sales pipeline forecasting",
    "accounts payable automation",
    "technical recruiting",
    "data warehouse monitoring",
    "customer onboarding software",
    "contract lifecycle management",
];
const WHO: [&str; 6] = [
    "SaaS companies",
    "mid-size finance teams",
    "B2B sales teams",
    "engineering leaders",
    "healthcare providers",
    "manufacturers in Europe",
];
const CLAIMS: [&str; 8] = [
    "Cut your costs by 30% in the first quarter",
    "Set up in a day, no consultants needed",
    "Trusted by 400 companies across Europe",
    "Automated reports every Monday",
    "Integrates with Salesforce, HubSpot and Slack",
    "Pass your audit in weeks, not months",
    "Forecasts your CFO will believe",
    "Fewer errors and a faster close",
];

prop_compose! {
    fn briefs()(
        product in select(&PRODUCTS[..]),
        what in select(&WHAT[..]),
        who in select(&WHO[..]),
        claims in subsequence(&CLAIMS[..], 0..4),
        seeds in subsequence(&WHAT[..], 0..3),
        objective in select(&Objective::ALL[..]),
        platforms in select(vec![vec![Platform::Google], vec![Platform::Linkedin], vec![Platform::Google, Platform::Linkedin]]),
        daily_units in 40i64..5_000,
        days in 7u64..120,
        markets in subsequence(MARKETS.iter().map(|m| m.0).collect::<Vec<_>>(), 1..3),
        tone in select(&[Tone::Professional, Tone::Friendly, Tone::Bold][..]),
        require_product in any::<bool>(),
        segment_sizes in proptest::collection::vec(prop_oneof![Just(None), (50u64..200_000).prop_map(Some)], 0..4),
        share in 0u32..=10_000,
        seed in any::<u64>(),
    ) -> Brief {
        let start = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
        let end = start + Days::new(days - 1);
        Brief {
            campaign_name: format!("{product} {what}"),
            objective,
            platforms,
            total_budget_micros: daily_units * 1_000_000 * days as i64,
            start_date: start,
            end_date: end,
            offer: format!("{what} for {who}"),
            landing_page_url: format!("https://{}.example/offer", product.to_lowercase().replace(' ', "-")),
            landing_page_text: claims.join(". "),
            seed_keywords: seeds.into_iter().map(str::to_lowercase).collect(),
            business_name: product.to_owned(),
            markets: markets.into_iter().map(str::to_owned).collect(),
            brand_voice: BrandVoice {
                required_terms: if require_product { vec![product.to_owned()] } else { Vec::new() },
                forbidden_terms: vec!["cheap".to_owned(), "guarantee".to_owned()],
                tone,
            },
            images: Default::default(),
            instructions: String::new(),
            linkedin_share_basis_points: share,
            segments: segment_sizes
                .into_iter()
                .enumerate()
                .map(|(i, size)| TargetSegment { name: format!("Segment {i}"), criteria: Default::default(), estimated_size: size })
                .collect(),
            seed,
        }
    }
}

/// 24 briefs per run in CI (each generation embeds about a hundred texts); PROPTEST_CASES for more.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

fn assert_voice(brief: &Brief, text: &str, carrier: bool) {
    let lower = text.to_lowercase();
    for term in &brief.brand_voice.forbidden_terms {
        assert!(
            !lower.contains(term),
            "{text:?} contains the forbidden {term:?}"
        );
    }
    if carrier {
        for term in &brief.brand_voice.required_terms {
            assert!(
                lower.contains(&term.to_lowercase()),
                "{text:?} lacks the required {term:?}"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn generated_structures_pass_every_platform_rule(brief in briefs()) {
        let generated = models().structure.generate(std::slice::from_ref(&brief)).pop().unwrap();
        let generated = match generated {
            Ok(generated) => generated,
            // The only refusal allowed: a budget too small for LinkedIn's daily minimum.
            Err(error) => {
                let daily = brief.total_budget_micros / brief.days();
                prop_assert!(brief.platforms.contains(&Platform::Linkedin) && daily < 10_000_000, "{error}");
                return Ok(());
            }
        };
        let report = validate(&generated.structure);
        prop_assert!(report.errors.is_empty(), "{:?}", report.errors);
        prop_assert!(planned_spend_micros(&generated.structure, brief.start_date, brief.end_date) <= i128::from(brief.total_budget_micros));
        prop_assert_eq!(generated.structure.google.is_some(), brief.platforms.contains(&Platform::Google));
        prop_assert_eq!(generated.structure.linkedin.is_some(), brief.platforms.contains(&Platform::Linkedin));
        if let Some(google) = &generated.structure.google {
            for group in &google.ad_groups {
                for ad in &group.ads {
                    prop_assert!(ad.headlines.len() >= 10, "{} headlines", ad.headlines.len());
                    for headline in &ad.headlines {
                        assert_voice(&brief, headline, false);
                    }
                    for description in &ad.descriptions {
                        assert_voice(&brief, description, true);
                    }
                }
            }
        }
        if let Some(linkedin) = &generated.structure.linkedin {
            for campaign in &linkedin.campaigns {
                // Sponsored content rotates ten variations; messages and text ads a few.
                let least = if campaign.campaign_type == CampaignType::SponsoredContent { 10 } else { 3 };
                prop_assert!(campaign.creatives.len() >= least, "{:?}: {}", campaign.campaign_type, campaign.creatives.len());
                let unique: std::collections::HashSet<String> = campaign.creatives.iter().map(|c| format!("{c:?}")).collect();
                prop_assert_eq!(unique.len(), campaign.creatives.len());
                prop_assert!(campaign.audience_size_estimate.is_none_or(|s| s >= 300));
            }
        }
        prop_assert!(!generated.model_version.is_empty());
    }

    #[test]
    fn every_format_gets_ten_unique_compliant_repeatable_variations(brief in briefs()) {
        let slots = Slots::from_brief(&brief, brief.seed_keywords.iter().cloned().chain([brief.offer.clone()]).collect());
        for format in CopyFormat::ALL {
            let variations = models().copy.variations(&brief, &slots, format, 10).unwrap();
            prop_assert!(variations.len() >= 10);
            let unique: std::collections::HashSet<String> = variations.iter().map(|v| v.texts.join("|").to_lowercase()).collect();
            prop_assert_eq!(unique.len(), variations.len());
            let fields = format.fields();
            let carrier = (0..fields.len()).max_by_key(|i| fields[*i].max_chars).unwrap();
            for variation in &variations {
                for (i, (spec, text)) in fields.iter().zip(&variation.texts).enumerate() {
                    prop_assert!(text.chars().count() <= spec.max_chars, "{format:?} {}: {text:?}", spec.name);
                    prop_assert_eq!(text.trim(), text.as_str());
                    prop_assert!(!issues(text, spec.role).iter().any(|i| i.is_error() && *i != EditorialIssue::Superlative), "{text:?}");
                    assert_voice(&brief, text, i == carrier);
                }
            }
            let again = models().copy.variations(&brief, &slots, format, 10).unwrap();
            prop_assert_eq!(&again, &variations);
        }
    }
}

#[test]
fn a_budget_below_linkedins_daily_minimum_is_refused_with_the_reason() {
    let mut brief = adflow_ml_workers::evaluation::sample_briefs().remove(2);
    brief.platforms = vec![Platform::Linkedin];
    brief.total_budget_micros = 5_000_000 * brief.days();
    let error = models()
        .structure
        .generate(&[brief])
        .pop()
        .unwrap()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("LinkedIn campaign needs at least"),
        "{error}"
    );
}

#[test]
fn briefs_generated_together_equal_briefs_generated_alone() {
    let briefs = adflow_ml_workers::evaluation::sample_briefs();
    let together = models().structure.generate(&briefs);
    for (brief, batched) in briefs.iter().zip(together) {
        let alone = models()
            .structure
            .generate(std::slice::from_ref(brief))
            .pop()
            .unwrap();
        assert_eq!(alone.unwrap().structure, batched.unwrap().structure);
    }
}
