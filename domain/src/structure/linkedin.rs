//! LinkedIn: campaign group, campaigns with targeting, creatives per campaign type.

use super::text::{check, check_url};
use super::ValidationReport;
use crate::audience::{Facet, TargetingCriteria};
use crate::campaign::Objective;
use crate::platform_rules::{incompatible_facets, linkedin as limits};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkedInStructure {
    pub campaign_group: CampaignGroup,
    pub campaigns: Vec<LinkedInCampaign>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignGroup {
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignType {
    SponsoredContent,
    TextAd,
    MessageAd,
    Dynamic,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LinkedInCampaign {
    pub name: String,
    pub campaign_type: CampaignType,
    /// Fixed once the campaign exists on LinkedIn.
    pub objective: Objective,
    pub daily_budget_micros: i64,
    pub targeting: TargetingCriteria,
    /// LinkedIn's forecast of the targeted members, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience_size_estimate: Option<u64>,
    pub creatives: Vec<Creative>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CarouselCard {
    pub headline: String,
    pub destination_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", tag = "format", deny_unknown_fields)]
pub enum Creative {
    #[serde(rename = "SINGLE_IMAGE", rename_all = "camelCase")]
    SingleImage {
        intro_text: String,
        headline: String,
        destination_url: String,
    },
    #[serde(rename = "CAROUSEL", rename_all = "camelCase")]
    Carousel {
        intro_text: String,
        cards: Vec<CarouselCard>,
    },
    #[serde(rename = "TEXT_AD", rename_all = "camelCase")]
    TextAd {
        headline: String,
        description: String,
        destination_url: String,
    },
    #[serde(rename = "MESSAGE_AD", rename_all = "camelCase")]
    MessageAd {
        subject: String,
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        call_to_action_url: Option<String>,
    },
    #[serde(rename = "SPOTLIGHT", rename_all = "camelCase")]
    Spotlight {
        headline: String,
        description: String,
        destination_url: String,
    },
}

impl Creative {
    /// Every text a member reads in this creative, in the order LinkedIn shows them.
    pub fn texts(&self) -> Vec<&str> {
        match self {
            Creative::SingleImage {
                intro_text,
                headline,
                ..
            } => vec![intro_text, headline],
            Creative::Carousel { intro_text, cards } => std::iter::once(intro_text.as_str())
                .chain(cards.iter().map(|c| c.headline.as_str()))
                .collect(),
            Creative::TextAd {
                headline,
                description,
                ..
            }
            | Creative::Spotlight {
                headline,
                description,
                ..
            } => vec![headline, description],
            Creative::MessageAd { subject, body, .. } => vec![subject, body],
        }
    }

    /// The campaign type that can carry this creative.
    pub fn campaign_type(&self) -> CampaignType {
        match self {
            Creative::SingleImage { .. } | Creative::Carousel { .. } => {
                CampaignType::SponsoredContent
            }
            Creative::TextAd { .. } => CampaignType::TextAd,
            Creative::MessageAd { .. } => CampaignType::MessageAd,
            Creative::Spotlight { .. } => CampaignType::Dynamic,
        }
    }
}

fn check_creative(creative: &Creative, path: &str, report: &mut ValidationReport) {
    match creative {
        Creative::SingleImage {
            intro_text,
            headline,
            destination_url,
        } => {
            check(
                intro_text,
                limits::SPONSORED_INTRO,
                &format!("{path}/introText"),
                report,
            );
            check(
                headline,
                limits::SPONSORED_HEADLINE,
                &format!("{path}/headline"),
                report,
            );
            check_url(
                destination_url,
                limits::URL,
                &format!("{path}/destinationUrl"),
                report,
            );
        }
        Creative::Carousel { intro_text, cards } => {
            check(
                intro_text,
                limits::SPONSORED_INTRO,
                &format!("{path}/introText"),
                report,
            );
            if cards.len() < limits::CAROUSEL_CARDS_MIN || cards.len() > limits::CAROUSEL_CARDS_MAX
            {
                report.errors.push(
                    format!("{path}/cards"),
                    "wrong_count",
                    format!(
                        "needs {} to {} cards, has {}",
                        limits::CAROUSEL_CARDS_MIN,
                        limits::CAROUSEL_CARDS_MAX,
                        cards.len()
                    ),
                );
            }
            for (index, card) in cards.iter().enumerate() {
                check(
                    &card.headline,
                    limits::CAROUSEL_CARD_HEADLINE,
                    &format!("{path}/cards/{index}/headline"),
                    report,
                );
                check_url(
                    &card.destination_url,
                    limits::URL,
                    &format!("{path}/cards/{index}/destinationUrl"),
                    report,
                );
            }
        }
        Creative::TextAd {
            headline,
            description,
            destination_url,
        } => {
            check(
                headline,
                limits::TEXT_AD_HEADLINE,
                &format!("{path}/headline"),
                report,
            );
            check(
                description,
                limits::TEXT_AD_DESCRIPTION,
                &format!("{path}/description"),
                report,
            );
            check_url(
                destination_url,
                limits::URL,
                &format!("{path}/destinationUrl"),
                report,
            );
        }
        Creative::MessageAd {
            subject,
            body,
            call_to_action_url,
        } => {
            check(
                subject,
                limits::MESSAGE_SUBJECT,
                &format!("{path}/subject"),
                report,
            );
            check(body, limits::MESSAGE_BODY, &format!("{path}/body"), report);
            if let Some(url) = call_to_action_url {
                check_url(url, limits::URL, &format!("{path}/callToActionUrl"), report);
            }
        }
        Creative::Spotlight {
            headline,
            description,
            destination_url,
        } => {
            check(
                headline,
                limits::SPOTLIGHT_HEADLINE,
                &format!("{path}/headline"),
                report,
            );
            check(
                description,
                limits::SPOTLIGHT_DESCRIPTION,
                &format!("{path}/description"),
                report,
            );
            check_url(
                destination_url,
                limits::URL,
                &format!("{path}/destinationUrl"),
                report,
            );
        }
    }
}

fn check_targeting(targeting: &TargetingCriteria, path: &str, report: &mut ValidationReport) {
    if !targeting.include.contains_key(&Facet::Locations) {
        report.errors.push(
            format!("{path}/include/locations"),
            "required",
            "LinkedIn needs at least one location",
        );
    }
    for (kept, refused) in incompatible_facets(|f| targeting.include.contains_key(&f)) {
        report.errors.push(
            format!("{path}/include/{}", refused.as_str()),
            "incompatible_facets",
            format!("cannot be combined with {}", kept.as_str()),
        );
    }
    for (facet, values) in targeting.include.iter().chain(&targeting.exclude) {
        if values.is_empty() {
            report.errors.push(
                format!("{path}/{}", facet.as_str()),
                "required",
                "a facet needs at least one value",
            );
        }
    }
}

pub(super) fn validate(structure: &LinkedInStructure, path: &str, report: &mut ValidationReport) {
    check(
        &structure.campaign_group.name,
        limits::NAME,
        &format!("{path}/campaignGroup/name"),
        report,
    );
    if structure.campaigns.is_empty() {
        report.errors.push(
            format!("{path}/campaigns"),
            "required",
            "needs at least one campaign",
        );
    }
    for (index, campaign) in structure.campaigns.iter().enumerate() {
        let path = format!("{path}/campaigns/{index}");
        check(
            &campaign.name,
            limits::NAME,
            &format!("{path}/name"),
            report,
        );
        if campaign.daily_budget_micros < limits::MIN_DAILY_BUDGET_MICROS {
            report.errors.push(
                format!("{path}/dailyBudgetMicros"),
                "below_minimum",
                format!(
                    "LinkedIn's minimum daily budget is {} micros",
                    limits::MIN_DAILY_BUDGET_MICROS
                ),
            );
        }
        check_targeting(&campaign.targeting, &format!("{path}/targeting"), report);
        if let Some(size) = campaign
            .audience_size_estimate
            .filter(|size| *size < limits::MIN_AUDIENCE_SIZE)
        {
            report.errors.push(
                format!("{path}/audienceSizeEstimate"),
                "audience_too_small",
                format!(
                    "{size} members; LinkedIn needs at least {}",
                    limits::MIN_AUDIENCE_SIZE
                ),
            );
        }
        if campaign.creatives.is_empty() {
            report.errors.push(
                format!("{path}/creatives"),
                "required",
                "needs at least one creative",
            );
        }
        if campaign.creatives.len() > limits::CREATIVES_PER_CAMPAIGN_MAX {
            report.errors.push(
                format!("{path}/creatives"),
                "too_many",
                format!(
                    "at most {} creatives per campaign",
                    limits::CREATIVES_PER_CAMPAIGN_MAX
                ),
            );
        }
        for (creative_index, creative) in campaign.creatives.iter().enumerate() {
            let creative_path = format!("{path}/creatives/{creative_index}");
            if creative.campaign_type() != campaign.campaign_type {
                report.errors.push(
                    creative_path.as_str(),
                    "wrong_format",
                    "this creative format does not belong to the campaign's type",
                );
            }
            check_creative(creative, &creative_path, report);
        }
    }
}
