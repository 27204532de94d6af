//! Sample structures shared by the domain's tests.
#![allow(dead_code)]

use adflow_domain::audience::{Facet, TargetingCriteria};
use adflow_domain::campaign::Objective;
use adflow_domain::structure::google::*;
use adflow_domain::structure::linkedin::*;
use std::collections::BTreeMap;

pub fn s(text: &str) -> String {
    text.to_owned()
}

pub fn ad() -> ResponsiveSearchAd {
    ResponsiveSearchAd {
        headlines: vec![
            s("B2B ads that convert"),
            s("Plan campaigns in minutes"),
            s("Try Adflow free"),
        ],
        descriptions: vec![
            s("Generate LinkedIn and Google campaigns from one brief."),
            s("Budgets, copy and keywords in one place."),
        ],
        path1: Some(s("b2b")),
        path2: Some(s("ads")),
        final_urls: vec![s("https://adflow.example/b2b")],
    }
}

pub fn google() -> GoogleAdsStructure {
    GoogleAdsStructure {
        daily_budget_micros: 50_000_000,
        campaign: GoogleCampaign {
            name: s("Q1 Search"),
            channel: Channel::Search,
            bidding: Bidding::MaximizeConversions {
                target_cpa_micros: Some(80_000_000),
            },
            locations: vec![s("geoTargetConstants/2276")],
            languages: vec![s("languageConstants/1001")],
            ad_schedule: vec![],
        },
        ad_groups: vec![AdGroup {
            name: s("Campaign software"),
            keywords: vec![
                Keyword {
                    text: s("b2b campaign software"),
                    match_type: MatchType::Phrase,
                },
                Keyword {
                    text: s("linkedin ads tool"),
                    match_type: MatchType::Exact,
                },
            ],
            negative_keywords: vec![Keyword {
                text: s("free"),
                match_type: MatchType::Broad,
            }],
            ads: vec![ad()],
            display_ads: vec![],
        }],
        asset_groups: vec![],
        negative_keywords: vec![Keyword {
            text: s("jobs"),
            match_type: MatchType::Broad,
        }],
        companion_campaigns: vec![],
    }
}

pub fn images() -> ImageAssets {
    ImageAssets {
        landscape: vec![s("https://adflow.example/img/wide.png")],
        square: vec![s("https://adflow.example/img/square.png")],
        logos: vec![s("https://adflow.example/img/logo.png")],
    }
}

pub fn targeting() -> TargetingCriteria {
    TargetingCriteria {
        include: BTreeMap::from([
            (Facet::Locations, vec![s("urn:li:geo:101282230")]),
            (Facet::JobFunctions, vec![s("urn:li:function:15")]),
        ]),
        exclude: BTreeMap::new(),
    }
}

pub fn linkedin() -> LinkedInStructure {
    LinkedInStructure {
        campaign_group: CampaignGroup {
            name: s("Q1 pipeline"),
        },
        campaigns: vec![LinkedInCampaign {
            name: s("Q1 marketing leaders"),
            campaign_type: CampaignType::SponsoredContent,
            objective: Objective::LeadGeneration,
            daily_budget_micros: 100_000_000,
            targeting: targeting(),
            audience_size_estimate: Some(54_000),
            creatives: vec![Creative::SingleImage {
                intro_text: s("Launch B2B campaigns on LinkedIn and Google from one brief."),
                headline: s("Your next campaign, generated"),
                destination_url: s("https://adflow.example/demo"),
            }],
        }],
    }
}
