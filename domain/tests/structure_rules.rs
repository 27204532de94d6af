use adflow_domain::audience::Facet;
use adflow_domain::structure::google::*;
use adflow_domain::structure::linkedin::*;
use adflow_domain::structure::{validate, CampaignStructure, ValidationReport};
use proptest::prelude::*;

mod common;
use common::*;

/// (path, code) pairs.
type Found = Vec<(String, String)>;

fn codes(report: &ValidationReport) -> (Found, Found) {
    let list = |v: &adflow_domain::Violations| {
        v.iter().map(|v| (v.path.clone(), v.code.clone())).collect()
    };
    (list(&report.errors), list(&report.warnings))
}

fn pairs(list: &[(&str, &str)]) -> Found {
    list.iter()
        .map(|(p, c)| (p.to_string(), c.to_string()))
        .collect()
}

#[test]
fn a_complete_structure_for_both_platforms_is_deployable() {
    let report = validate(&CampaignStructure {
        google: Some(google()),
        linkedin: Some(linkedin()),
    });
    assert_eq!(codes(&report), (vec![], vec![]));
    assert!(report.is_deployable());
    assert!(!validate(&CampaignStructure {
        google: None,
        linkedin: None
    })
    .is_deployable());
}

#[test]
fn responsive_search_ad_rules_are_all_reported() {
    let mut structure = google();
    structure.ad_groups[0].ads[0] = ResponsiveSearchAd {
        headlines: vec![
            s("This headline is far too long for Google"),
            s("Same"),
            s("same"),
        ],
        descriptions: vec![s("Only one")],
        path1: None,
        path2: Some(s("a-path-that-is-too-long")),
        final_urls: vec![],
    };
    structure.ad_groups[0].keywords.push(Keyword {
        text: s("one two three four five six seven eight nine ten eleven"),
        match_type: MatchType::Broad,
    });
    structure.ad_groups[0].keywords.push(Keyword {
        text: s("B2B Campaign Software"),
        match_type: MatchType::Phrase,
    });
    let report = validate(&CampaignStructure {
        google: Some(structure),
        linkedin: None,
    });
    let (errors, warnings) = codes(&report);
    assert_eq!(
        errors,
        pairs(&[
            ("google/adGroups/0/keywords/2/text", "too_many_words"),
            ("google/adGroups/0/keywords/3/text", "duplicate"),
            ("google/adGroups/0/ads/0/headlines/0", "too_long"),
            ("google/adGroups/0/ads/0/headlines/2", "duplicate"),
            ("google/adGroups/0/ads/0/descriptions", "wrong_count"),
            ("google/adGroups/0/ads/0/path2", "too_long"),
            ("google/adGroups/0/ads/0/path2", "needs_path1"),
            ("google/adGroups/0/ads/0/finalUrls", "required"),
        ])
    );
    assert!(warnings.is_empty());
}

#[test]
fn google_campaign_rules_are_all_reported() {
    let mut structure = google();
    structure.daily_budget_micros = 0;
    structure.campaign.channel = Channel::PerformanceMax;
    structure.campaign.bidding = Bidding::ManualCpc { max_cpc_micros: -1 };
    structure.campaign.locations.clear();
    structure.ad_groups[0].ads[0].final_urls = vec![s("ftp://adflow.example"), s("https://nodot")];
    let report = validate(&CampaignStructure {
        google: Some(structure),
        linkedin: None,
    });
    assert_eq!(
        codes(&report).0,
        pairs(&[
            ("google/dailyBudgetMicros", "not_positive"),
            ("google/campaign/bidding/maxCpcMicros", "not_positive"),
            ("google/campaign/bidding", "unsupported_bidding"),
            ("google/campaign/locations", "required"),
            ("google/adGroups", "not_allowed"),
            ("google/assetGroups", "required"),
            ("google/adGroups/0/ads/0/finalUrls/0", "invalid_url"),
            ("google/adGroups/0/ads/0/finalUrls/1", "invalid_url"),
        ])
    );
}

#[test]
fn linkedin_rules_are_all_reported_with_warnings_apart() {
    let mut structure = linkedin();
    let campaign = &mut structure.campaigns[0];
    campaign.daily_budget_micros = 9_999_999;
    campaign.audience_size_estimate = Some(299);
    campaign.targeting.include.remove(&Facet::Locations);
    campaign
        .targeting
        .include
        .insert(Facet::Titles, vec![s("CMO")]);
    campaign
        .targeting
        .include
        .insert(Facet::Seniorities, vec![s("CXO")]);
    campaign.creatives = vec![
        Creative::SingleImage {
            intro_text: "x".repeat(151),
            headline: "h".repeat(71),
            destination_url: s("https://adflow.example"),
        },
        Creative::TextAd {
            headline: "h".repeat(26),
            description: "d".repeat(75),
            destination_url: s("https://adflow.example"),
        },
        Creative::Carousel {
            intro_text: s("Cards"),
            cards: vec![CarouselCard {
                headline: "c".repeat(46),
                destination_url: s("https://adflow.example"),
            }],
        },
    ];
    let report = validate(&CampaignStructure {
        google: None,
        linkedin: Some(structure),
    });
    let (errors, warnings) = codes(&report);
    assert_eq!(
        errors,
        pairs(&[
            ("linkedin/campaigns/0/dailyBudgetMicros", "below_minimum"),
            (
                "linkedin/campaigns/0/targeting/include/locations",
                "required"
            ),
            (
                "linkedin/campaigns/0/targeting/include/titles",
                "incompatible_facets"
            ),
            (
                "linkedin/campaigns/0/targeting/include/seniorities",
                "incompatible_facets"
            ),
            (
                "linkedin/campaigns/0/audienceSizeEstimate",
                "audience_too_small"
            ),
            ("linkedin/campaigns/0/creatives/1", "wrong_format"),
            ("linkedin/campaigns/0/creatives/1/headline", "too_long"),
            ("linkedin/campaigns/0/creatives/2/cards", "wrong_count"),
            (
                "linkedin/campaigns/0/creatives/2/cards/0/headline",
                "too_long"
            ),
        ])
    );
    assert_eq!(
        warnings,
        pairs(&[
            ("linkedin/campaigns/0/creatives/0/introText", "may_truncate"),
            ("linkedin/campaigns/0/creatives/0/headline", "may_truncate"),
        ])
    );
    assert!(!report.is_deployable());
}

#[test]
fn a_campaign_holds_at_most_one_hundred_creatives_and_message_ads_have_their_limits() {
    let mut structure = linkedin();
    structure.campaigns[0].campaign_type = CampaignType::MessageAd;
    let message = Creative::MessageAd {
        subject: "s".repeat(61),
        body: "b".repeat(1_501),
        call_to_action_url: None,
    };
    structure.campaigns[0].creatives = vec![message; 101];
    let report = validate(&CampaignStructure {
        google: None,
        linkedin: Some(structure),
    });
    let errors = codes(&report).0;
    assert_eq!(
        errors[0],
        (s("linkedin/campaigns/0/creatives"), s("too_many"))
    );
    assert!(errors.contains(&(
        s("linkedin/campaigns/0/creatives/100/subject"),
        s("too_long")
    )));
    assert!(errors.contains(&(s("linkedin/campaigns/0/creatives/100/body"), s("too_long"))));
}

#[test]
fn structures_round_trip_through_json() {
    let structure = CampaignStructure {
        google: Some(google()),
        linkedin: Some(linkedin()),
    };
    let json = serde_json::to_value(&structure).unwrap();
    assert_eq!(
        json["google"]["campaign"]["bidding"]["strategy"],
        "MAXIMIZE_CONVERSIONS"
    );
    assert_eq!(
        json["linkedin"]["campaigns"][0]["creatives"][0]["format"],
        "SINGLE_IMAGE"
    );
    let back: CampaignStructure = serde_json::from_value(json).unwrap();
    assert_eq!(back, structure);
}

proptest! {
    /// Whatever text a generator produces, an ad the validator accepts respects every RSA limit.
    #[test]
    fn accepted_ads_respect_every_limit(
        headlines in prop::collection::vec(".{0,40}", 0..18),
        descriptions in prop::collection::vec(".{0,100}", 0..6),
        path1 in prop::option::of("[a-z]{0,20}"),
        path2 in prop::option::of("[a-z]{0,20}"),
    ) {
        let mut structure = google();
        structure.ad_groups[0].ads[0] = ResponsiveSearchAd {
            headlines: headlines.clone(),
            descriptions: descriptions.clone(),
            path1: path1.clone(),
            path2: path2.clone(),
            final_urls: vec![s("https://adflow.example")],
        };
        let report = validate(&CampaignStructure { google: Some(structure), linkedin: None });
        if report.is_deployable() {
            prop_assert!((3..=15).contains(&headlines.len()));
            prop_assert!((2..=4).contains(&descriptions.len()));
            prop_assert!(headlines.iter().all(|h| h.chars().count() <= 30 && !h.trim().is_empty()));
            prop_assert!(descriptions.iter().all(|d| d.chars().count() <= 90 && !d.trim().is_empty()));
            prop_assert!(path2.is_none() || path1.is_some());
            let unique: std::collections::HashSet<_> = headlines.iter().map(|h| h.trim().to_lowercase()).collect();
            prop_assert_eq!(unique.len(), headlines.len());
        }
    }
}

#[test]
fn structures_read_the_json_clients_write() {
    let json = serde_json::json!({
        "dailyBudgetMicros": 1, "negativeKeywords": [],
        "campaign": {"name": "n", "channel": "SEARCH", "locations": [], "languages": [],
                     "bidding": {"strategy": "MAXIMIZE_CONVERSION_VALUE", "targetRoasBasisPoints": 40000}},
        "adGroups": []
    });
    let google: GoogleAdsStructure = serde_json::from_value(json).unwrap();
    assert_eq!(
        google.campaign.bidding,
        Bidding::MaximizeConversionValue {
            target_roas_basis_points: Some(40_000)
        }
    );
    let creative = serde_json::json!({"format": "TEXT_AD", "headline": "h", "description": "d", "destinationUrl": "https://a.example"});
    assert!(serde_json::from_value::<Creative>(creative).is_ok());
    let unknown = serde_json::json!({"format": "TEXT_AD", "headline": "h", "description": "d", "destinationUrl": "u", "x": 1});
    assert!(serde_json::from_value::<Creative>(unknown).is_err());
}

#[test]
fn display_ads_and_performance_max_asset_groups_have_their_own_rules() {
    let mut display = google();
    display.campaign.channel = Channel::Display;
    display.ad_groups[0].display_ads = vec![ResponsiveDisplayAd {
        headlines: vec![],
        long_headline: "l".repeat(91),
        descriptions: vec![s("Plan B2B campaigns in minutes")],
        business_name: s("Adflow Campaign Automation Inc"),
        final_urls: vec![s("https://adflow.example")],
        images: ImageAssets {
            landscape: vec![],
            square: vec![s("https://adflow.example/square.png")],
            logos: vec![],
        },
    }];
    let report = validate(&CampaignStructure {
        google: Some(display),
        linkedin: None,
    });
    assert_eq!(
        codes(&report).0,
        pairs(&[
            ("google/adGroups/0/ads", "wrong_format"),
            ("google/adGroups/0/displayAds/0/headlines", "wrong_count"),
            ("google/adGroups/0/displayAds/0/longHeadline", "too_long"),
            ("google/adGroups/0/displayAds/0/businessName", "too_long"),
            (
                "google/adGroups/0/displayAds/0/images/landscape",
                "required"
            ),
        ])
    );

    let mut pmax = google();
    pmax.campaign.channel = Channel::PerformanceMax;
    pmax.ad_groups.clear();
    pmax.asset_groups = vec![AssetGroup {
        name: s("Everyone"),
        headlines: vec![
            s("B2B ads that convert"),
            s("Plan in minutes"),
            s("Try Adflow"),
        ],
        long_headlines: vec![s("Generate LinkedIn and Google campaigns from one brief")],
        descriptions: vec![
            s("Budgets, copy and keywords in one place."),
            s("Launch today."),
        ],
        business_name: s("Adflow"),
        final_urls: vec![s("https://adflow.example")],
        images: images(),
    }];
    let report = validate(&CampaignStructure {
        google: Some(pmax.clone()),
        linkedin: None,
    });
    assert_eq!(codes(&report), (vec![], vec![]));
    let group = &mut pmax.asset_groups[0];
    group.long_headlines.clear();
    group.descriptions = vec![
        s("Budgets, copy and keywords for every platform, planned in one place."),
        s("Launch today, measure tomorrow, and let the optimiser move the budget."),
    ];
    group.images.logos.clear();
    group.images.square.push(s("not a url"));
    let report = validate(&CampaignStructure {
        google: Some(pmax),
        linkedin: None,
    });
    assert_eq!(
        codes(&report).0,
        pairs(&[
            ("google/assetGroups/0/longHeadlines", "wrong_count"),
            (
                "google/assetGroups/0/descriptions",
                "needs_short_description"
            ),
            ("google/assetGroups/0/images/logos", "wrong_count"),
            ("google/assetGroups/0/images/square/1", "invalid_url"),
        ])
    );
}

#[test]
fn companion_campaigns_follow_their_channel_and_count_in_the_planned_spend() {
    let mut structure = google();
    let display_ad = ResponsiveDisplayAd {
        headlines: vec![s("B2B ads that convert")],
        long_headline: s("Generate LinkedIn and Google campaigns from one brief"),
        descriptions: vec![s("Budgets, copy and keywords in one place.")],
        business_name: s("Adflow"),
        final_urls: vec![s("https://adflow.example")],
        images: images(),
    };
    let mut display_group = structure.ad_groups[0].clone();
    display_group.ads.clear();
    display_group.display_ads = vec![display_ad];
    structure.companion_campaigns = vec![
        CompanionCampaign {
            daily_budget_micros: 20_000_000,
            campaign: GoogleCampaign {
                name: s("Q1 Display"),
                channel: Channel::Display,
                ..structure.campaign.clone()
            },
            ad_groups: vec![display_group],
            asset_groups: vec![],
        },
        CompanionCampaign {
            daily_budget_micros: 10_000_001,
            campaign: GoogleCampaign {
                name: s("Q1 Search again"),
                ..structure.campaign.clone()
            },
            ad_groups: structure.ad_groups.clone(),
            asset_groups: vec![],
        },
    ];
    let report = validate(&CampaignStructure {
        google: Some(structure.clone()),
        linkedin: None,
    });
    assert_eq!(
        codes(&report).0,
        pairs(&[
            (
                "google/companionCampaigns/1/campaign/channel",
                "wrong_channel"
            ),
            (
                "google/companionCampaigns/1/dailyBudgetMicros",
                "not_whole_cents"
            ),
        ])
    );
    let both = CampaignStructure {
        google: Some(structure),
        linkedin: None,
    };
    let day = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    assert_eq!(
        adflow_domain::campaign::planned_spend_micros(&both, day, day),
        50_000_000 + 20_000_000 + 10_000_001
    );
}
