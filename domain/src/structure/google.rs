//! Google Ads: budget, campaign, bidding, ad groups, keywords, responsive search ads.

use super::editorial::{self, TextRole};
use super::text::{check, check_url};
use super::ValidationReport;
use crate::campaign::Objective;
use crate::platform_rules::google as limits;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoogleAdsStructure {
    /// The campaign budget, per day.
    pub daily_budget_micros: i64,
    pub campaign: GoogleCampaign,
    /// Search and Display campaigns.
    pub ad_groups: Vec<AdGroup>,
    /// Performance Max campaigns.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asset_groups: Vec<AssetGroup>,
    /// Campaign-level negative keywords.
    #[serde(default)]
    pub negative_keywords: Vec<Keyword>,
    /// The Display or Performance Max campaigns the objective calls for beside this one, each
    /// with its own budget (the negatives above are the search campaign's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub companion_campaigns: Vec<CompanionCampaign>,
}

/// A further Google campaign of the same Adflow campaign: Display (ad groups of responsive
/// display ads) or Performance Max (asset groups).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompanionCampaign {
    pub daily_budget_micros: i64,
    pub campaign: GoogleCampaign,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ad_groups: Vec<AdGroup>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asset_groups: Vec<AssetGroup>,
}

impl GoogleAdsStructure {
    /// Every Google campaign's daily budget: this one's and its companions'.
    pub fn daily_budgets_micros(&self) -> impl Iterator<Item = i64> + '_ {
        std::iter::once(self.daily_budget_micros).chain(
            self.companion_campaigns
                .iter()
                .map(|c| c.daily_budget_micros),
        )
    }
}

/// The Google campaign an objective calls for beside search: Performance Max for leads and
/// conversions (it bids for them on every Google channel at once), Display for reach, visits and
/// engagement.
pub fn companion_channel(objective: Objective) -> Channel {
    match objective {
        Objective::LeadGeneration | Objective::WebsiteConversions => Channel::PerformanceMax,
        Objective::BrandAwareness
        | Objective::WebsiteVisits
        | Objective::Engagement
        | Objective::VideoViews => Channel::Display,
    }
}

/// Images by URL, as the advertiser hosts them; the gateway uploads them as image assets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ImageAssets {
    /// 1.91:1 marketing images (1200×628 recommended).
    #[serde(default)]
    pub landscape: Vec<String>,
    /// 1:1 marketing images (1200×1200 recommended).
    #[serde(default)]
    pub square: Vec<String>,
    /// 1:1 logos (1200×1200 recommended).
    #[serde(default)]
    pub logos: Vec<String>,
}

impl ImageAssets {
    pub fn is_empty(&self) -> bool {
        self.landscape.is_empty() && self.square.is_empty() && self.logos.is_empty()
    }

    /// Enough for a responsive display ad: one landscape and one square image.
    pub fn serve_display(&self) -> bool {
        !self.landscape.is_empty() && !self.square.is_empty()
    }

    /// Enough for a Performance Max asset group: a display ad's images and a logo.
    pub fn serve_performance_max(&self) -> bool {
        self.serve_display() && !self.logos.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    Search,
    Display,
    PerformanceMax,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all_fields = "camelCase", tag = "strategy", deny_unknown_fields)]
pub enum Bidding {
    #[serde(rename = "MANUAL_CPC")]
    ManualCpc { max_cpc_micros: i64 },
    #[serde(rename = "MAXIMIZE_CONVERSIONS")]
    MaximizeConversions {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_cpa_micros: Option<i64>,
    },
    #[serde(rename = "MAXIMIZE_CONVERSION_VALUE")]
    MaximizeConversionValue {
        /// Target return on ad spend in basis points (40000 = 400 %), to stay in integers.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_roas_basis_points: Option<i64>,
    },
    #[serde(rename = "TARGET_SPEND")]
    TargetSpend {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cpc_bid_ceiling_micros: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GoogleCampaign {
    pub name: String,
    pub channel: Channel,
    pub bidding: Bidding,
    /// Geo target constants (for example `geoTargetConstants/2276` for Germany).
    pub locations: Vec<String>,
    /// Language constants (for example `languageConstants/1001` for German).
    pub languages: Vec<String>,
    /// When the ads run and at what bid: none means every hour at the plain bid. Once a
    /// campaign has any entry, Google serves only within them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ad_schedule: Vec<AdScheduleEntry>,
}

/// One Google ad schedule criterion: a day, an hour range (UTC here, the account's time zone on
/// a real account) and a bid modifier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdScheduleEntry {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    pub start_hour: u8,
    /// Exclusive; 24 ends at midnight.
    pub end_hour: u8,
    /// 10,000 leaves bids as they are; Google takes 1,000 (−90 %) to 100,000 (+900 %).
    pub bid_modifier_basis_points: u32,
}

/// Google's limits on ad schedules.
pub const AD_SCHEDULES_PER_DAY: usize = 6;
pub const MIN_BID_MODIFIER_BASIS_POINTS: u32 = 1_000;
pub const MAX_BID_MODIFIER_BASIS_POINTS: u32 = 100_000;

/// An ad schedule Google would take: days and hours in range, at most six a day, none
/// overlapping, modifiers within Google's range.
pub fn check_ad_schedule(
    entries: &[AdScheduleEntry],
    path: &str,
    violations: &mut crate::violation::Violations,
) {
    for (i, e) in entries.iter().enumerate() {
        let at = format!("{path}/{i}");
        if e.weekday > 6 {
            violations.push(
                format!("{at}/weekday"),
                "out_of_range",
                "0 (Monday) to 6 (Sunday)",
            );
        }
        if e.start_hour > 23 || e.end_hour > 24 || e.start_hour >= e.end_hour {
            violations.push(
                format!("{at}/startHour"),
                "invalid_interval",
                "0 ≤ start < end ≤ 24",
            );
        }
        if !(MIN_BID_MODIFIER_BASIS_POINTS..=MAX_BID_MODIFIER_BASIS_POINTS)
            .contains(&e.bid_modifier_basis_points)
        {
            violations.push(
                format!("{at}/bidModifierBasisPoints"),
                "out_of_range",
                "1000 (−90 %) to 100000 (+900 %)",
            );
        }
        let overlaps = entries[..i].iter().any(|o| {
            o.weekday == e.weekday && o.start_hour < e.end_hour && e.start_hour < o.end_hour
        });
        if overlaps {
            violations.push(
                format!("{at}/startHour"),
                "overlapping",
                "overlaps an earlier entry of the same day",
            );
        }
    }
    for day in 0..7u8 {
        if entries.iter().filter(|e| e.weekday == day).count() > AD_SCHEDULES_PER_DAY {
            violations.push(
                path.to_owned(),
                "too_many_per_day",
                "at most 6 entries a day",
            );
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AdGroup {
    pub name: String,
    pub keywords: Vec<Keyword>,
    #[serde(default)]
    pub negative_keywords: Vec<Keyword>,
    /// Responsive search ads (Search campaigns).
    pub ads: Vec<ResponsiveSearchAd>,
    /// Responsive display ads (Display campaigns).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub display_ads: Vec<ResponsiveDisplayAd>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MatchType {
    Exact,
    Phrase,
    Broad,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Keyword {
    pub text: String,
    pub match_type: MatchType,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResponsiveSearchAd {
    pub headlines: Vec<String>,
    pub descriptions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path1: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path2: Option<String>,
    pub final_urls: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ResponsiveDisplayAd {
    pub headlines: Vec<String>,
    pub long_headline: String,
    pub descriptions: Vec<String>,
    pub business_name: String,
    pub final_urls: Vec<String>,
    #[serde(default)]
    pub images: ImageAssets,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssetGroup {
    pub name: String,
    pub headlines: Vec<String>,
    pub long_headlines: Vec<String>,
    pub descriptions: Vec<String>,
    pub business_name: String,
    pub final_urls: Vec<String>,
    #[serde(default)]
    pub images: ImageAssets,
}

/// Images Google takes: at least one landscape and one square, at most `images_max` of them,
/// `logos` logos, every one an absolute URL.
fn check_images(
    images: &ImageAssets,
    images_max: usize,
    (logos_min, logos_max): (usize, usize),
    path: &str,
    report: &mut ValidationReport,
) {
    for (list, name) in [(&images.landscape, "landscape"), (&images.square, "square")] {
        if list.is_empty() {
            report.errors.push(
                format!("{path}/{name}"),
                "required",
                format!("needs at least one {name} image"),
            );
        }
    }
    let marketing = images.landscape.len() + images.square.len();
    if marketing > images_max {
        report.errors.push(
            path,
            "wrong_count",
            format!("at most {images_max} marketing images, has {marketing}"),
        );
    }
    check_count(
        images.logos.len(),
        logos_min,
        logos_max,
        &format!("{path}/logos"),
        "logos",
        report,
    );
    for (list, name) in [
        (&images.landscape, "landscape"),
        (&images.square, "square"),
        (&images.logos, "logos"),
    ] {
        for (index, url) in list.iter().enumerate() {
            check_url(url, limits::URL, &format!("{path}/{name}/{index}"), report);
        }
    }
}

/// A list of texts: `min..=max` of them, each within `limit`, no two alike.
fn check_texts(
    texts: &[String],
    (min, max): (usize, usize),
    limit: crate::platform_rules::TextLimit,
    path: &str,
    what: &str,
    report: &mut ValidationReport,
) {
    check_count(texts.len(), min, max, path, what, report);
    let role = if what.contains("headline") {
        TextRole::Headline
    } else {
        TextRole::Body
    };
    for (index, text) in texts.iter().enumerate() {
        check(text, limit, &format!("{path}/{index}"), report);
        editorial::check(text, role, &format!("{path}/{index}"), report);
    }
    check_unique_texts(texts, path, report);
}

fn check_final_urls(urls: &[String], path: &str, report: &mut ValidationReport) {
    if urls.is_empty() {
        report
            .errors
            .push(path, "required", "needs at least one final URL");
    }
    for (index, url) in urls.iter().enumerate() {
        check_url(url, limits::URL, &format!("{path}/{index}"), report);
    }
}

fn check_display_ad(ad: &ResponsiveDisplayAd, path: &str, report: &mut ValidationReport) {
    let headlines = (limits::DISPLAY_HEADLINES_MIN, limits::DISPLAY_HEADLINES_MAX);
    check_texts(
        &ad.headlines,
        headlines,
        limits::HEADLINE,
        &format!("{path}/headlines"),
        "headlines",
        report,
    );
    check(
        &ad.long_headline,
        limits::LONG_HEADLINE,
        &format!("{path}/longHeadline"),
        report,
    );
    editorial::check(
        &ad.long_headline,
        TextRole::Headline,
        &format!("{path}/longHeadline"),
        report,
    );
    let descriptions = (
        limits::DISPLAY_DESCRIPTIONS_MIN,
        limits::DISPLAY_DESCRIPTIONS_MAX,
    );
    check_texts(
        &ad.descriptions,
        descriptions,
        limits::DESCRIPTION,
        &format!("{path}/descriptions"),
        "descriptions",
        report,
    );
    check(
        &ad.business_name,
        limits::BUSINESS_NAME,
        &format!("{path}/businessName"),
        report,
    );
    check_final_urls(&ad.final_urls, &format!("{path}/finalUrls"), report);
    check_images(
        &ad.images,
        limits::DISPLAY_IMAGES_MAX,
        (0, limits::LOGOS_MAX),
        &format!("{path}/images"),
        report,
    );
}

fn check_asset_group(group: &AssetGroup, path: &str, report: &mut ValidationReport) {
    check(&group.name, limits::NAME, &format!("{path}/name"), report);
    let headlines = (limits::HEADLINES_MIN, limits::HEADLINES_MAX);
    check_texts(
        &group.headlines,
        headlines,
        limits::HEADLINE,
        &format!("{path}/headlines"),
        "headlines",
        report,
    );
    let long = (
        limits::ASSET_LONG_HEADLINES_MIN,
        limits::ASSET_LONG_HEADLINES_MAX,
    );
    check_texts(
        &group.long_headlines,
        long,
        limits::LONG_HEADLINE,
        &format!("{path}/longHeadlines"),
        "long headlines",
        report,
    );
    let descriptions = (limits::DESCRIPTIONS_MIN, limits::ASSET_DESCRIPTIONS_MAX);
    check_texts(
        &group.descriptions,
        descriptions,
        limits::DESCRIPTION,
        &format!("{path}/descriptions"),
        "descriptions",
        report,
    );
    let short = limits::ASSET_SHORT_DESCRIPTION.max_chars;
    if !group.descriptions.is_empty()
        && !group
            .descriptions
            .iter()
            .any(|d| d.chars().count() <= short)
    {
        report.errors.push(
            format!("{path}/descriptions"),
            "needs_short_description",
            format!("one description must be at most {short} characters"),
        );
    }
    check(
        &group.business_name,
        limits::BUSINESS_NAME,
        &format!("{path}/businessName"),
        report,
    );
    check_final_urls(&group.final_urls, &format!("{path}/finalUrls"), report);
    check_images(
        &group.images,
        limits::ASSET_GROUP_IMAGES_MAX,
        (1, limits::LOGOS_MAX),
        &format!("{path}/images"),
        report,
    );
}

fn positive(value: i64, path: &str, report: &mut ValidationReport) {
    if value <= 0 {
        report
            .errors
            .push(path, "not_positive", "must be greater than zero");
    }
}

/// A positive amount of money Google accepts: whole cents.
fn money(value: i64, path: &str, report: &mut ValidationReport) {
    positive(value, path, report);
    if value > 0 && value % limits::MONEY_UNIT_MICROS != 0 {
        report.errors.push(
            path,
            "not_whole_cents",
            format!(
                "Google takes multiples of {} micros",
                limits::MONEY_UNIT_MICROS
            ),
        );
    }
}

fn check_count(
    count: usize,
    min: usize,
    max: usize,
    path: &str,
    what: &str,
    report: &mut ValidationReport,
) {
    if count < min || count > max {
        report.errors.push(
            path,
            "wrong_count",
            format!("needs {min} to {max} {what}, has {count}"),
        );
    }
}

fn check_keywords(keywords: &[Keyword], path: &str, report: &mut ValidationReport) {
    let mut seen = HashSet::new();
    for (index, keyword) in keywords.iter().enumerate() {
        let path = format!("{path}/{index}/text");
        check(&keyword.text, limits::KEYWORD, &path, report);
        let words = keyword.text.split_whitespace().count();
        if words > limits::KEYWORD_MAX_WORDS {
            report.errors.push(
                path.as_str(),
                "too_many_words",
                format!(
                    "{words} words; at most {} allowed",
                    limits::KEYWORD_MAX_WORDS
                ),
            );
        }
        if !seen.insert((keyword.text.to_lowercase(), keyword.match_type)) {
            report.errors.push(
                path,
                "duplicate",
                "the same keyword and match type is listed twice",
            );
        }
    }
}

fn check_unique_texts(texts: &[String], path: &str, report: &mut ValidationReport) {
    let mut seen = HashSet::new();
    for (index, text) in texts.iter().enumerate() {
        if !seen.insert(text.trim().to_lowercase()) {
            report.errors.push(
                format!("{path}/{index}"),
                "duplicate",
                "must be unique within the ad",
            );
        }
    }
}

fn check_ad(ad: &ResponsiveSearchAd, path: &str, report: &mut ValidationReport) {
    let headlines = format!("{path}/headlines");
    check_count(
        ad.headlines.len(),
        limits::HEADLINES_MIN,
        limits::HEADLINES_MAX,
        &headlines,
        "headlines",
        report,
    );
    for (index, headline) in ad.headlines.iter().enumerate() {
        check(
            headline,
            limits::HEADLINE,
            &format!("{headlines}/{index}"),
            report,
        );
        editorial::check(
            headline,
            TextRole::Headline,
            &format!("{headlines}/{index}"),
            report,
        );
    }
    check_unique_texts(&ad.headlines, &headlines, report);

    let descriptions = format!("{path}/descriptions");
    check_count(
        ad.descriptions.len(),
        limits::DESCRIPTIONS_MIN,
        limits::DESCRIPTIONS_MAX,
        &descriptions,
        "descriptions",
        report,
    );
    for (index, description) in ad.descriptions.iter().enumerate() {
        check(
            description,
            limits::DESCRIPTION,
            &format!("{descriptions}/{index}"),
            report,
        );
        editorial::check(
            description,
            TextRole::Body,
            &format!("{descriptions}/{index}"),
            report,
        );
    }
    check_unique_texts(&ad.descriptions, &descriptions, report);

    if let Some(path1) = &ad.path1 {
        check(path1, limits::PATH, &format!("{path}/path1"), report);
    }
    if let Some(path2) = &ad.path2 {
        check(path2, limits::PATH, &format!("{path}/path2"), report);
        if ad.path1.is_none() {
            report.errors.push(
                format!("{path}/path2"),
                "needs_path1",
                "path2 can only be set together with path1",
            );
        }
    }
    if ad.final_urls.is_empty() {
        report.errors.push(
            format!("{path}/finalUrls"),
            "required",
            "needs at least one final URL",
        );
    }
    for (index, url) in ad.final_urls.iter().enumerate() {
        check_url(
            url,
            limits::URL,
            &format!("{path}/finalUrls/{index}"),
            report,
        );
    }
}

pub(super) fn validate(structure: &GoogleAdsStructure, path: &str, report: &mut ValidationReport) {
    validate_campaign(
        structure.daily_budget_micros,
        &structure.campaign,
        (&structure.ad_groups, &structure.asset_groups),
        path,
        report,
    );
    check_keywords(
        &structure.negative_keywords,
        &format!("{path}/negativeKeywords"),
        report,
    );
    for (index, companion) in structure.companion_campaigns.iter().enumerate() {
        let companion_path = format!("{path}/companionCampaigns/{index}");
        if companion.campaign.channel == Channel::Search {
            report.errors.push(
                format!("{companion_path}/campaign/channel"),
                "wrong_channel",
                "a companion campaign is Display or Performance Max; the search campaign is the structure's own",
            );
        }
        validate_campaign(
            companion.daily_budget_micros,
            &companion.campaign,
            (&companion.ad_groups, &companion.asset_groups),
            &companion_path,
            report,
        );
    }
}

/// One campaign's rules: its budget, bidding, targeting and the groups its channel takes.
fn validate_campaign(
    daily_budget_micros: i64,
    campaign: &GoogleCampaign,
    (ad_groups, asset_groups): (&[AdGroup], &[AssetGroup]),
    path: &str,
    report: &mut ValidationReport,
) {
    money(
        daily_budget_micros,
        &format!("{path}/dailyBudgetMicros"),
        report,
    );
    check(
        &campaign.name,
        limits::NAME,
        &format!("{path}/campaign/name"),
        report,
    );
    let bidding = format!("{path}/campaign/bidding");
    match campaign.bidding {
        Bidding::ManualCpc { max_cpc_micros } => {
            money(max_cpc_micros, &format!("{bidding}/maxCpcMicros"), report)
        }
        Bidding::MaximizeConversions {
            target_cpa_micros: Some(cpa),
        } => money(cpa, &format!("{bidding}/targetCpaMicros"), report),
        Bidding::MaximizeConversionValue {
            target_roas_basis_points: Some(roas),
        } => positive(roas, &format!("{bidding}/targetRoasBasisPoints"), report),
        Bidding::TargetSpend {
            cpc_bid_ceiling_micros: Some(ceiling),
        } => money(ceiling, &format!("{bidding}/cpcBidCeilingMicros"), report),
        _ => {}
    }
    if campaign.channel == Channel::PerformanceMax
        && matches!(
            campaign.bidding,
            Bidding::ManualCpc { .. } | Bidding::TargetSpend { .. }
        )
    {
        report.errors.push(
            bidding.as_str(),
            "unsupported_bidding",
            "Performance Max campaigns bid with Maximize Conversions or Maximize Conversion Value",
        );
    }
    if campaign.locations.is_empty() {
        report.errors.push(
            format!("{path}/campaign/locations"),
            "required",
            "needs at least one location",
        );
    }
    if campaign.languages.is_empty() {
        report.errors.push(
            format!("{path}/campaign/languages"),
            "required",
            "needs at least one language",
        );
    }
    check_ad_schedule(
        &campaign.ad_schedule,
        &format!("{path}/campaign/adSchedule"),
        &mut report.errors,
    );

    let channel = campaign.channel;
    match channel {
        Channel::PerformanceMax => {
            if !ad_groups.is_empty() {
                report.errors.push(
                    format!("{path}/adGroups"),
                    "not_allowed",
                    "Performance Max uses asset groups, not ad groups",
                );
            }
            if asset_groups.is_empty() {
                report.errors.push(
                    format!("{path}/assetGroups"),
                    "required",
                    "a Performance Max campaign needs an asset group",
                );
            }
        }
        Channel::Search | Channel::Display => {
            if ad_groups.is_empty() {
                report.errors.push(
                    format!("{path}/adGroups"),
                    "required",
                    "needs at least one ad group",
                );
            }
            if !asset_groups.is_empty() {
                report.errors.push(
                    format!("{path}/assetGroups"),
                    "not_allowed",
                    "asset groups belong to Performance Max",
                );
            }
        }
    }
    for (index, group) in asset_groups.iter().enumerate() {
        check_asset_group(group, &format!("{path}/assetGroups/{index}"), report);
    }
    for (index, group) in ad_groups.iter().enumerate() {
        let group_path = format!("{path}/adGroups/{index}");
        check(
            &group.name,
            limits::NAME,
            &format!("{group_path}/name"),
            report,
        );
        let (search_ads, display_ads) = (!group.ads.is_empty(), !group.display_ads.is_empty());
        match channel {
            Channel::Search => {
                if group.keywords.is_empty() {
                    report.errors.push(
                        format!("{group_path}/keywords"),
                        "required",
                        "a Search ad group needs keywords",
                    );
                }
                if !search_ads {
                    report.errors.push(
                        format!("{group_path}/ads"),
                        "required",
                        "a Search ad group needs at least one ad",
                    );
                }
                if display_ads {
                    report.errors.push(
                        format!("{group_path}/displayAds"),
                        "wrong_format",
                        "display ads belong to Display campaigns",
                    );
                }
            }
            Channel::Display => {
                if !display_ads {
                    report.errors.push(
                        format!("{group_path}/displayAds"),
                        "required",
                        "a Display ad group needs a display ad",
                    );
                }
                if search_ads {
                    report.errors.push(
                        format!("{group_path}/ads"),
                        "wrong_format",
                        "responsive search ads belong to Search campaigns",
                    );
                }
            }
            Channel::PerformanceMax => {}
        }
        check_keywords(&group.keywords, &format!("{group_path}/keywords"), report);
        check_keywords(
            &group.negative_keywords,
            &format!("{group_path}/negativeKeywords"),
            report,
        );
        for (ad_index, ad) in group.ads.iter().enumerate() {
            check_ad(ad, &format!("{group_path}/ads/{ad_index}"), report);
        }
        for (ad_index, ad) in group.display_ads.iter().enumerate() {
            check_display_ad(ad, &format!("{group_path}/displayAds/{ad_index}"), report);
        }
    }
}
