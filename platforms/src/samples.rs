//! Structures of a given size for tests, benchmarks and the sandbox's demo: valid on both
//! platforms (they pass the domain's structure validation).

use adflow_domain::audience::{Facet, TargetingCriteria};
use adflow_domain::campaign::Objective;
use adflow_domain::structure::google::*;
use adflow_domain::structure::linkedin::*;
use adflow_domain::structure::CampaignStructure;
use std::collections::BTreeMap;

fn ad(group: usize) -> ResponsiveSearchAd {
    ResponsiveSearchAd {
        headlines: vec![
            format!("Payroll for team {group}"),
            "Plan campaigns in minutes".into(),
            "Try Adflow free".into(),
        ],
        descriptions: vec![
            "Generate LinkedIn and Google campaigns from one brief.".into(),
            "Budgets, copy and keywords in one place.".into(),
        ],
        path1: Some("b2b".into()),
        path2: None,
        final_urls: vec!["https://adflow.example/b2b".into()],
    }
}

/// `ad_groups` Search ad groups of `keywords_per_group` keywords each, and one LinkedIn campaign
/// per two ad groups (at least one), each with two creatives.
pub fn structure(name: &str, ad_groups: usize, keywords_per_group: usize) -> CampaignStructure {
    let match_types = [MatchType::Exact, MatchType::Phrase, MatchType::Broad];
    let google = GoogleAdsStructure {
        daily_budget_micros: 200_000_000,
        campaign: GoogleCampaign {
            name: format!("{name} Search"),
            channel: Channel::Search,
            bidding: Bidding::ManualCpc {
                max_cpc_micros: 4_000_000,
            },
            locations: vec!["geoTargetConstants/2276".into()],
            languages: vec!["languageConstants/1001".into()],
            ad_schedule: vec![],
        },
        ad_groups: (0..ad_groups)
            .map(|g| AdGroup {
                name: format!("Theme {g}"),
                keywords: (0..keywords_per_group)
                    .map(|k| Keyword {
                        text: format!("payroll software {g} option {k}"),
                        match_type: match_types[k % 3],
                    })
                    .collect(),
                negative_keywords: vec![Keyword {
                    text: "free".into(),
                    match_type: MatchType::Broad,
                }],
                ads: vec![ad(g)],
                display_ads: vec![],
            })
            .collect(),
        asset_groups: vec![],
        negative_keywords: vec![Keyword {
            text: "jobs".into(),
            match_type: MatchType::Broad,
        }],
        companion_campaigns: vec![],
    };
    let targeting = TargetingCriteria {
        include: BTreeMap::from([
            (Facet::Locations, vec!["urn:li:geo:101282230".into()]),
            (Facet::JobFunctions, vec!["urn:li:function:15".into()]),
        ]),
        exclude: BTreeMap::new(),
    };
    let linkedin = LinkedInStructure {
        campaign_group: CampaignGroup {
            name: format!("{name} pipeline"),
        },
        campaigns: (0..ad_groups.div_ceil(2).max(1))
            .map(|c| LinkedInCampaign {
                name: format!("{name} finance leaders {c}"),
                campaign_type: CampaignType::SponsoredContent,
                objective: Objective::LeadGeneration,
                daily_budget_micros: 100_000_000,
                targeting: targeting.clone(),
                audience_size_estimate: Some(54_000),
                creatives: (0..2)
                    .map(|v| Creative::SingleImage {
                        intro_text: format!("Close the books faster, variant {v}."),
                        headline: format!("Payroll without the spreadsheets {v}"),
                        destination_url: "https://adflow.example/demo".into(),
                    })
                    .collect(),
            })
            .collect(),
    };
    CampaignStructure {
        google: Some(google),
        linkedin: Some(linkedin),
    }
}
