//! A Google structure as one atomic `googleAds:mutate`: budget, campaign, geo and language
//! criteria, campaign negatives, ad groups, keywords and their negatives, responsive search ads —
//! linked by temporary resource names (negative ids), in an order where every name is defined
//! before it is used. `Planned` remembers which structure path each operation creates.

use crate::gateway::{DeploymentKey, ExternalResource};
use crate::PlatformError;
use adflow_domain::structure::google::{Bidding, Channel, GoogleAdsStructure, Keyword, MatchType};
use serde_json::{json, Value};

/// Google's limit on a campaign's and an ad group's name.
pub const NAME_LIMIT: usize = 255;

pub struct Planned {
    pub operations: Vec<Value>,
    /// Per operation: the resource kind and the structure path it creates.
    pub paths: Vec<(&'static str, String)>,
}

fn match_type(m: MatchType) -> &'static str {
    match m {
        MatchType::Exact => "EXACT",
        MatchType::Phrase => "PHRASE",
        MatchType::Broad => "BROAD",
    }
}

fn keyword(k: &Keyword) -> Value {
    json!({"text": k.text, "matchType": match_type(k.match_type)})
}

/// Google's name for a structure's campaign: ours, marked with the deployment key.
pub fn campaign_name(structure: &GoogleAdsStructure, key: &DeploymentKey) -> String {
    key.name(&structure.campaign.name, NAME_LIMIT)
}

pub fn plan(
    customer: &str,
    structure: &GoogleAdsStructure,
    key: &DeploymentKey,
) -> Result<Planned, PlatformError> {
    if structure.campaign.channel != Channel::Search {
        return Err(PlatformError::Unsupported(format!(
            "deploying {:?} campaigns needs image assets Adflow does not hold yet; only Search deploys",
            structure.campaign.channel
        )));
    }
    let mut next = 0i64;
    let mut temp = |kind: &str| {
        next -= 1;
        format!("customers/{customer}/{kind}/{next}")
    };
    let mut operations = Vec::new();
    let mut paths = Vec::new();
    let mut push = |op: Value, kind: &'static str, path: String| {
        operations.push(op);
        paths.push((kind, path));
    };
    let budget = temp("campaignBudgets");
    push(
        json!({"campaignBudgetOperation": {"create": {
            "resourceName": budget,
            "name": key.name(&format!("{} budget", structure.campaign.name), NAME_LIMIT),
            "amountMicros": structure.daily_budget_micros.to_string(),
            "deliveryMethod": "STANDARD",
            "explicitlyShared": false
        }}}),
        "BUDGET",
        "/google/dailyBudgetMicros".into(),
    );
    let campaign = temp("campaigns");
    let mut create = json!({
        "resourceName": campaign,
        "name": campaign_name(structure, key),
        "advertisingChannelType": "SEARCH",
        // Created paused: it starts serving when the campaign is activated in Adflow.
        "status": "PAUSED",
        "campaignBudget": budget,
        "networkSettings": {"targetGoogleSearch": true, "targetSearchNetwork": true,
                            "targetContentNetwork": false, "targetPartnerSearchNetwork": false},
        "containsEuPoliticalAdvertising": "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING"
    });
    let ad_group_bid = match &structure.campaign.bidding {
        Bidding::ManualCpc { max_cpc_micros } => {
            create["manualCpc"] = json!({"enhancedCpcEnabled": false});
            Some(*max_cpc_micros)
        }
        Bidding::MaximizeConversions { target_cpa_micros } => {
            create["maximizeConversions"] = match target_cpa_micros {
                Some(cpa) => json!({"targetCpaMicros": cpa.to_string()}),
                None => json!({}),
            };
            None
        }
        Bidding::MaximizeConversionValue {
            target_roas_basis_points,
        } => {
            create["maximizeConversionValue"] = match target_roas_basis_points {
                Some(bp) => json!({"targetRoas": *bp as f64 / 10_000.0}),
                None => json!({}),
            };
            None
        }
        Bidding::TargetSpend {
            cpc_bid_ceiling_micros,
        } => {
            create["targetSpend"] = match cpc_bid_ceiling_micros {
                Some(ceiling) => json!({"cpcBidCeilingMicros": ceiling.to_string()}),
                None => json!({}),
            };
            None
        }
    };
    push(
        json!({"campaignOperation": {"create": create}}),
        "CAMPAIGN",
        "/google/campaign".into(),
    );
    for (i, location) in structure.campaign.locations.iter().enumerate() {
        push(
            json!({"campaignCriterionOperation": {"create": {
                "campaign": campaign, "location": {"geoTargetConstant": location}}}}),
            "LOCATION",
            format!("/google/campaign/locations/{i}"),
        );
    }
    for (i, language) in structure.campaign.languages.iter().enumerate() {
        push(
            json!({"campaignCriterionOperation": {"create": {
                "campaign": campaign, "language": {"languageConstant": language}}}}),
            "LANGUAGE",
            format!("/google/campaign/languages/{i}"),
        );
    }
    for (i, negative) in structure.negative_keywords.iter().enumerate() {
        push(
            json!({"campaignCriterionOperation": {"create": {
                "campaign": campaign, "negative": true, "keyword": keyword(negative)}}}),
            "NEGATIVE_KEYWORD",
            format!("/google/negativeKeywords/{i}"),
        );
    }
    for (g, group) in structure.ad_groups.iter().enumerate() {
        let ad_group = temp("adGroups");
        let mut create = json!({
            "resourceName": ad_group, "campaign": campaign,
            "name": group.name.chars().take(NAME_LIMIT).collect::<String>(), "status": "ENABLED", "type": "SEARCH_STANDARD"
        });
        if let Some(bid) = ad_group_bid {
            create["cpcBidMicros"] = json!(bid.to_string());
        }
        push(
            json!({"adGroupOperation": {"create": create}}),
            "AD_GROUP",
            format!("/google/adGroups/{g}"),
        );
        for (k, kw) in group.keywords.iter().enumerate() {
            push(
                json!({"adGroupCriterionOperation": {"create": {
                    "adGroup": ad_group, "status": "ENABLED", "keyword": keyword(kw)}}}),
                "KEYWORD",
                format!("/google/adGroups/{g}/keywords/{k}"),
            );
        }
        for (k, kw) in group.negative_keywords.iter().enumerate() {
            push(
                json!({"adGroupCriterionOperation": {"create": {
                    "adGroup": ad_group, "negative": true, "keyword": keyword(kw)}}}),
                "NEGATIVE_KEYWORD",
                format!("/google/adGroups/{g}/negativeKeywords/{k}"),
            );
        }
        for (a, ad) in group.ads.iter().enumerate() {
            let text =
                |texts: &[String]| texts.iter().map(|t| json!({"text": t})).collect::<Vec<_>>();
            let mut rsa =
                json!({"headlines": text(&ad.headlines), "descriptions": text(&ad.descriptions)});
            if let Some(path1) = &ad.path1 {
                rsa["path1"] = json!(path1);
            }
            if let Some(path2) = &ad.path2 {
                rsa["path2"] = json!(path2);
            }
            push(
                json!({"adGroupAdOperation": {"create": {
                    "adGroup": ad_group, "status": "ENABLED",
                    "ad": {"finalUrls": ad.final_urls, "responsiveSearchAd": rsa}}}}),
                "AD",
                format!("/google/adGroups/{g}/ads/{a}"),
            );
        }
    }
    Ok(Planned { operations, paths })
}

/// Pairs each operation's result with the path it created.
pub fn resources(
    planned: &Planned,
    response: &Value,
) -> Result<Vec<ExternalResource>, PlatformError> {
    let results = response
        .get("mutateOperationResponses")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            PlatformError::Protocol("a mutate answer without mutateOperationResponses".into())
        })?;
    if results.len() != planned.paths.len() {
        return Err(PlatformError::Protocol(format!(
            "{} operations answered with {} results",
            planned.paths.len(),
            results.len()
        )));
    }
    results
        .iter()
        .zip(&planned.paths)
        .map(|(result, (kind, path))| {
            let name = result
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(|r| r.get("resourceName"))
                .and_then(Value::as_str)
                .ok_or_else(|| PlatformError::Protocol(format!("no resourceName for {path}")))?;
            Ok(ExternalResource {
                kind: (*kind).to_owned(),
                path: path.clone(),
                external_id: name.to_owned(),
            })
        })
        .collect()
}
