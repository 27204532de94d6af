//! The ad platforms' limits, each once, with where it comes from. Validation everywhere reads them
//! from here; nothing else in the code base repeats a platform number.

use crate::audience::Facet;

/// A text limit: an error above `max_chars`, a warning above `warn_above` (where the platform
/// truncates or recommends less).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLimit {
    pub max_chars: usize,
    pub warn_above: Option<usize>,
}

const fn max(max_chars: usize) -> TextLimit {
    TextLimit {
        max_chars,
        warn_above: None,
    }
}

pub mod google {
    use super::{max, TextLimit};

    // Google Ads API, ResponsiveSearchAdInfo and "About responsive search ads" (support.google.com/google-ads/answer/7684791).
    pub const HEADLINE: TextLimit = max(30);
    pub const DESCRIPTION: TextLimit = max(90);
    pub const PATH: TextLimit = max(15);
    // Google Ads API, CampaignBudgetError.NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT: budgets and bids
    // are whole units of the currency's smallest denomination (a cent: 10,000 micros, for every
    // currency Adflow supports).
    pub const MONEY_UNIT_MICROS: i64 = 10_000;
    pub const HEADLINES_MIN: usize = 3;
    pub const HEADLINES_MAX: usize = 15;
    pub const DESCRIPTIONS_MIN: usize = 2;
    pub const DESCRIPTIONS_MAX: usize = 4;
    // Google Ads, "About responsive display ads" (support.google.com/google-ads/answer/6363750):
    // 1-5 headlines of 30, one long headline of 90, 1-5 descriptions of 90, business name of 25.
    pub const DISPLAY_HEADLINES_MIN: usize = 1;
    pub const DISPLAY_HEADLINES_MAX: usize = 5;
    pub const DISPLAY_DESCRIPTIONS_MIN: usize = 1;
    pub const DISPLAY_DESCRIPTIONS_MAX: usize = 5;
    pub const LONG_HEADLINE: TextLimit = max(90);
    pub const BUSINESS_NAME: TextLimit = max(25);
    // Google Ads, Performance Max asset groups (support.google.com/google-ads/answer/10724492):
    // 3-15 headlines of 30, 1-5 long headlines of 90, 2-5 descriptions of 90.
    pub const ASSET_LONG_HEADLINES_MIN: usize = 1;
    pub const ASSET_LONG_HEADLINES_MAX: usize = 5;
    pub const ASSET_DESCRIPTIONS_MAX: usize = 5;
    // ...and one description of at most 60 characters, which Google shows where space is short.
    pub const ASSET_SHORT_DESCRIPTION: TextLimit = max(60);
    // Images: a responsive display ad takes up to 15 marketing images (at least one landscape
    // 1.91:1 and one square 1:1) and up to 5 logos; an asset group up to 20 images, at least one
    // landscape and one square, and 1 to 5 logos.
    pub const DISPLAY_IMAGES_MAX: usize = 15;
    pub const ASSET_GROUP_IMAGES_MAX: usize = 20;
    pub const LOGOS_MAX: usize = 5;
    // Google Ads API, KeywordInfo.text: "at most 80 characters and 10 words".
    pub const KEYWORD: TextLimit = max(80);
    pub const KEYWORD_MAX_WORDS: usize = 10;
    // Google Ads API, Campaign.name / AdGroup.name: at most 255 characters.
    pub const NAME: TextLimit = max(255);
    // Google Ads Customer Match: a list needs at least 1,000 matched members to serve.
    pub const MIN_AUDIENCE_SIZE: u64 = 1_000;
    // Google Ads API, Ad.final_urls: a URL is at most 2,048 characters.
    pub const URL: TextLimit = max(2048);
}

pub mod linkedin {
    use super::{max, TextLimit};
    use crate::audience::Facet;

    // LinkedIn Marketing API, "Ads Guidelines" and the Creatives API field limits.
    pub const SPONSORED_INTRO: TextLimit = TextLimit {
        max_chars: 600,
        warn_above: Some(150),
    };
    pub const SPONSORED_HEADLINE: TextLimit = TextLimit {
        max_chars: 200,
        warn_above: Some(70),
    };
    pub const TEXT_AD_HEADLINE: TextLimit = max(25);
    pub const TEXT_AD_DESCRIPTION: TextLimit = max(75);
    pub const MESSAGE_SUBJECT: TextLimit = max(60);
    pub const MESSAGE_BODY: TextLimit = max(1_500);
    pub const CAROUSEL_CARD_HEADLINE: TextLimit = max(45);
    // LinkedIn Spotlight ad specs (dynamic ads): headline 50, description 70 characters.
    pub const SPOTLIGHT_HEADLINE: TextLimit = max(50);
    pub const SPOTLIGHT_DESCRIPTION: TextLimit = max(70);
    // LinkedIn carousel ad specs: 2 to 10 cards.
    pub const CAROUSEL_CARDS_MIN: usize = 2;
    pub const CAROUSEL_CARDS_MAX: usize = 10;
    pub const URL: TextLimit = max(2000);
    // LinkedIn Marketing API, Campaigns: "a campaign can have at most 100 creatives".
    pub const CREATIVES_PER_CAMPAIGN_MAX: usize = 100;
    // LinkedIn Campaign Manager: campaign names are at most 255 characters (the API's limit too).
    pub const NAME: TextLimit = max(255);
    // LinkedIn Campaign Manager: "Your audience must have at least 300 members" to launch.
    pub const MIN_AUDIENCE_SIZE: u64 = 300;
    // LinkedIn Campaign Manager: the minimum daily budget is USD 10.
    pub const MIN_DAILY_BUDGET_MICROS: i64 = 10_000_000;
    // LinkedIn targeting: job function cannot be combined with job title, nor title with seniority.
    pub const INCOMPATIBLE_FACETS: [(Facet, Facet); 2] = [
        (Facet::JobFunctions, Facet::Titles),
        (Facet::Titles, Facet::Seniorities),
    ];
}

/// Which include facets of a targeting clause LinkedIn refuses to combine: `(kept, refused)` pairs.
pub fn incompatible_facets<'a>(
    present: impl Fn(Facet) -> bool + 'a,
) -> impl Iterator<Item = (Facet, Facet)> + 'a {
    linkedin::INCOMPATIBLE_FACETS
        .into_iter()
        .filter(move |(a, b)| present(*a) && present(*b))
}

/// The smallest audience a campaign on `platform` may target.
pub fn min_audience_size(platform: crate::campaign::Platform) -> u64 {
    match platform {
        crate::campaign::Platform::Google => google::MIN_AUDIENCE_SIZE,
        crate::campaign::Platform::Linkedin => linkedin::MIN_AUDIENCE_SIZE,
    }
}
