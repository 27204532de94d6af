//! The structure tree of a campaign as typed GraphQL objects, built from the domain's types (the
//! read model keeps the document the domain validated). Parts whose shape depends on a variant
//! (bidding strategy, creative format, targeting) are given as their JSON with the variant's name.

use crate::errors::ErrorCode;
use crate::guard::{without_money, RoleGuard};
use crate::scalars::Long;
use adflow_auth::{Action, Role};
use adflow_domain::structure::{google, linkedin, CampaignStructure};
use async_graphql::{Enum, SimpleObject};
use serde::Serialize;

/// The name serde gives a value (the enums' wire names), or its JSON for anything else.
pub(crate) fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

pub(crate) fn json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

#[derive(SimpleObject, Debug, Clone)]
pub struct StructureTree {
    pub google: Option<GoogleStructure>,
    pub linkedin: Option<LinkedInStructure>,
    /// The whole document, as the structure editor sends it back with `EditStructure`. For a
    /// role that may not read money, every `…Micros` field in it is `null`.
    pub document: serde_json::Value,
}

impl StructureTree {
    pub fn from_document(document: serde_json::Value) -> async_graphql::Result<StructureTree> {
        let structure: CampaignStructure =
            serde_json::from_value(document.clone()).map_err(|error| {
                tracing::error!(%error, "unreadable structure in the read model");
                ErrorCode::Internal.error("unreadable campaign structure")
            })?;
        Ok(StructureTree {
            google: structure.google.as_ref().map(GoogleStructure::from),
            linkedin: structure.linkedin.as_ref().map(LinkedInStructure::from),
            document,
        })
    }

    /// The tree as `role` may see it: money in the JSON parts is `null` for a Viewer (the typed
    /// money fields answer FORBIDDEN through their guard).
    pub fn visible_to(mut self, role: Role) -> StructureTree {
        self.document = without_money(role, self.document);
        if let Some(google) = self.google.as_mut() {
            for campaign in
                std::iter::once(&mut google.campaign).chain(google.companion_campaigns.iter_mut())
            {
                campaign.bidding = without_money(role, std::mem::take(&mut campaign.bidding));
            }
        }
        if let Some(linkedin) = self.linkedin.as_mut() {
            for campaign in &mut linkedin.campaigns {
                campaign.targeting = without_money(role, std::mem::take(&mut campaign.targeting));
                for creative in &mut campaign.creatives {
                    creative.content = without_money(role, std::mem::take(&mut creative.content));
                }
            }
        }
        self
    }
}

#[derive(SimpleObject, Debug, Clone)]
pub struct GoogleStructure {
    /// The search campaign, its fields at this level.
    #[graphql(flatten)]
    pub campaign: GoogleCampaign,
    pub negative_keywords: Vec<Keyword>,
    /// The Display or Performance Max campaigns beside this search campaign. Generated and
    /// validated, but not deployed yet: Google takes images only as uploaded image assets, which
    /// Adflow's gateway does not do, so deploying the campaign deploys its search campaign.
    pub companion_campaigns: Vec<GoogleCampaign>,
}

/// One Google campaign of an Adflow campaign: its budget, bidding, targeting and groups.
#[derive(SimpleObject, Debug, Clone)]
pub struct GoogleCampaign {
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    pub daily_budget_micros: Option<Long>,
    pub campaign_name: String,
    /// SEARCH, DISPLAY or PERFORMANCE_MAX (a companion campaign is never SEARCH).
    pub channel: String,
    /// MANUAL_CPC, MAXIMIZE_CONVERSIONS, MAXIMIZE_CONVERSION_VALUE or TARGET_SPEND.
    pub bidding_strategy: String,
    /// The strategy with its targets (money fields `null` for a role that may not read money).
    pub bidding: serde_json::Value,
    pub locations: Vec<String>,
    pub languages: Vec<String>,
    pub ad_groups: Vec<AdGroup>,
    pub asset_groups: Vec<AssetGroup>,
}

/// Image URLs of a display ad or asset group.
#[derive(SimpleObject, Debug, Clone)]
pub struct ImageSet {
    /// 1.91:1 marketing images.
    pub landscape: Vec<String>,
    /// 1:1 marketing images.
    pub square: Vec<String>,
    pub logos: Vec<String>,
}

impl From<&google::ImageAssets> for ImageSet {
    fn from(images: &google::ImageAssets) -> Self {
        ImageSet {
            landscape: images.landscape.clone(),
            square: images.square.clone(),
            logos: images.logos.clone(),
        }
    }
}

#[derive(SimpleObject, Debug, Clone)]
pub struct AdGroup {
    pub name: String,
    pub keywords: Vec<Keyword>,
    pub negative_keywords: Vec<Keyword>,
    pub search_ads: Vec<SearchAd>,
    pub display_ads: Vec<DisplayAd>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct Keyword {
    pub text: String,
    /// EXACT, PHRASE or BROAD.
    pub match_type: String,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct SearchAd {
    pub headlines: Vec<String>,
    pub descriptions: Vec<String>,
    pub final_urls: Vec<String>,
    /// Google's Ad Strength criteria, computed for this ad and its ad group's keywords.
    pub ad_strength: AdStrengthInfo,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AdStrengthRating {
    Poor,
    Average,
    Good,
    Excellent,
}

/// Ad Strength: unique headlines (11 or more rate best) and descriptions (4), the ad group's
/// keywords in headlines (3 or more), headlines distinct from each other; each scored 0–2.
#[derive(SimpleObject, Debug, Clone)]
pub struct AdStrengthInfo {
    pub rating: AdStrengthRating,
    /// 0 to 8.
    pub score: i32,
    pub unique_headlines: i32,
    pub unique_descriptions: i32,
    pub keyword_headlines: i32,
    /// Share of headline pairs sharing at most half of their words.
    pub distinct_pairs: f64,
    /// What would raise the rating.
    pub advice: Vec<String>,
}

fn ad_strength(ad: &google::ResponsiveSearchAd, keywords: &[google::Keyword]) -> AdStrengthInfo {
    use adflow_domain::structure::ad_strength::AdStrength;
    let report = adflow_domain::structure::ad_strength::ad_strength(ad, keywords);
    let count = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
    AdStrengthInfo {
        rating: match report.rating {
            AdStrength::Poor => AdStrengthRating::Poor,
            AdStrength::Average => AdStrengthRating::Average,
            AdStrength::Good => AdStrengthRating::Good,
            AdStrength::Excellent => AdStrengthRating::Excellent,
        },
        score: i32::from(report.score),
        unique_headlines: count(report.unique_headlines),
        unique_descriptions: count(report.unique_descriptions),
        keyword_headlines: count(report.keyword_headlines),
        distinct_pairs: report.distinct_pairs,
        advice: report.advice,
    }
}

#[derive(SimpleObject, Debug, Clone)]
pub struct DisplayAd {
    pub headlines: Vec<String>,
    pub long_headline: String,
    pub descriptions: Vec<String>,
    pub business_name: String,
    pub final_urls: Vec<String>,
    pub images: ImageSet,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct AssetGroup {
    pub name: String,
    pub headlines: Vec<String>,
    pub long_headlines: Vec<String>,
    pub descriptions: Vec<String>,
    pub business_name: String,
    pub final_urls: Vec<String>,
    pub images: ImageSet,
}

fn keywords(list: &[google::Keyword]) -> Vec<Keyword> {
    list.iter()
        .map(|k| Keyword {
            text: k.text.clone(),
            match_type: wire_name(&k.match_type),
        })
        .collect()
}

fn ad_groups(groups: &[google::AdGroup]) -> Vec<AdGroup> {
    groups
        .iter()
        .map(|g| AdGroup {
            name: g.name.clone(),
            keywords: keywords(&g.keywords),
            negative_keywords: keywords(&g.negative_keywords),
            search_ads: g
                .ads
                .iter()
                .map(|a| SearchAd {
                    headlines: a.headlines.clone(),
                    descriptions: a.descriptions.clone(),
                    final_urls: a.final_urls.clone(),
                    ad_strength: ad_strength(a, &g.keywords),
                })
                .collect(),
            display_ads: g
                .display_ads
                .iter()
                .map(|a| DisplayAd {
                    headlines: a.headlines.clone(),
                    long_headline: a.long_headline.clone(),
                    descriptions: a.descriptions.clone(),
                    business_name: a.business_name.clone(),
                    final_urls: a.final_urls.clone(),
                    images: ImageSet::from(&a.images),
                })
                .collect(),
        })
        .collect()
}

fn asset_groups(groups: &[google::AssetGroup]) -> Vec<AssetGroup> {
    groups
        .iter()
        .map(|g| AssetGroup {
            name: g.name.clone(),
            headlines: g.headlines.clone(),
            long_headlines: g.long_headlines.clone(),
            descriptions: g.descriptions.clone(),
            business_name: g.business_name.clone(),
            final_urls: g.final_urls.clone(),
            images: ImageSet::from(&g.images),
        })
        .collect()
}

impl GoogleCampaign {
    fn new(
        daily_budget_micros: i64,
        campaign: &google::GoogleCampaign,
        groups: &[google::AdGroup],
        asset_group_list: &[google::AssetGroup],
    ) -> Self {
        let bidding = json(&campaign.bidding);
        GoogleCampaign {
            daily_budget_micros: Some(Long(daily_budget_micros)),
            campaign_name: campaign.name.clone(),
            channel: wire_name(&campaign.channel),
            bidding_strategy: bidding["strategy"].as_str().unwrap_or_default().to_owned(),
            bidding,
            locations: campaign.locations.clone(),
            languages: campaign.languages.clone(),
            ad_groups: ad_groups(groups),
            asset_groups: asset_groups(asset_group_list),
        }
    }
}

impl From<&google::GoogleAdsStructure> for GoogleStructure {
    fn from(s: &google::GoogleAdsStructure) -> Self {
        GoogleStructure {
            campaign: GoogleCampaign::new(
                s.daily_budget_micros,
                &s.campaign,
                &s.ad_groups,
                &s.asset_groups,
            ),
            negative_keywords: keywords(&s.negative_keywords),
            companion_campaigns: s
                .companion_campaigns
                .iter()
                .map(|c| {
                    GoogleCampaign::new(
                        c.daily_budget_micros,
                        &c.campaign,
                        &c.ad_groups,
                        &c.asset_groups,
                    )
                })
                .collect(),
        }
    }
}

#[derive(SimpleObject, Debug, Clone)]
pub struct LinkedInStructure {
    pub campaign_group_name: String,
    pub campaigns: Vec<LinkedInCampaign>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct LinkedInCampaign {
    pub name: String,
    /// SPONSORED_CONTENT, TEXT_AD, MESSAGE_AD or DYNAMIC.
    pub campaign_type: String,
    pub objective: String,
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    pub daily_budget_micros: Option<Long>,
    /// Facets to include and exclude, as LinkedIn's targeting criteria.
    pub targeting: serde_json::Value,
    pub audience_size_estimate: Option<Long>,
    pub creatives: Vec<Creative>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct Creative {
    /// SINGLE_IMAGE, CAROUSEL, TEXT_AD, MESSAGE_AD or SPOTLIGHT.
    pub format: String,
    /// The creative's fields for its format.
    pub content: serde_json::Value,
}

impl From<&linkedin::LinkedInStructure> for LinkedInStructure {
    fn from(s: &linkedin::LinkedInStructure) -> Self {
        LinkedInStructure {
            campaign_group_name: s.campaign_group.name.clone(),
            campaigns: s
                .campaigns
                .iter()
                .map(|c| LinkedInCampaign {
                    name: c.name.clone(),
                    campaign_type: wire_name(&c.campaign_type),
                    objective: wire_name(&c.objective),
                    daily_budget_micros: Some(Long(c.daily_budget_micros)),
                    targeting: json(&c.targeting),
                    audience_size_estimate: c.audience_size_estimate.map(Long::from_u64),
                    creatives: c
                        .creatives
                        .iter()
                        .map(|creative| {
                            let content = json(creative);
                            Creative {
                                format: content["format"].as_str().unwrap_or_default().to_owned(),
                                content,
                            }
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}
