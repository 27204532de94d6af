//! Request bodies and report rows in LinkedIn's shapes.

use crate::gateway::ReportRow;
use crate::PlatformError;
use adflow_domain::campaign::Objective;
use adflow_domain::structure::linkedin::{CampaignType, Creative, LinkedInCampaign};
use chrono::NaiveDate;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

pub(super) fn campaign_group(account: &str, name: &str) -> Value {
    json!({
        "account": format!("urn:li:sponsoredAccount:{account}"),
        "name": name,
        "status": "ACTIVE",
    })
}

fn objective(o: Objective) -> &'static str {
    match o {
        Objective::BrandAwareness => "BRAND_AWARENESS",
        Objective::WebsiteVisits => "WEBSITE_VISIT",
        Objective::Engagement => "ENGAGEMENT",
        Objective::LeadGeneration => "LEAD_GENERATION",
        Objective::WebsiteConversions => "WEBSITE_CONVERSION",
        _ => "WEBSITE_VISIT",
    }
}

fn campaign_type(t: CampaignType) -> &'static str {
    match t {
        CampaignType::SponsoredContent => "SPONSORED_UPDATES",
        CampaignType::TextAd => "TEXT_AD",
        CampaignType::MessageAd => "SPONSORED_INMAILS",
        CampaignType::Dynamic => "DYNAMIC",
    }
}

/// An amount in LinkedIn's shape: currency units with two decimals.
pub(super) fn money(micros: i64, currency: &str) -> Value {
    json!({"amount": format!("{}.{:02}", micros / 1_000_000, (micros % 1_000_000) / 10_000), "currencyCode": currency})
}

/// `{"include": {"and": [{"or": {"urn:li:adTargetingFacet:<facet>": [...]}}]}, "exclude": {"or": {...}}}`
fn targeting(campaign: &LinkedInCampaign) -> Value {
    let facet = |name: &str| format!("urn:li:adTargetingFacet:{name}");
    let include: Vec<Value> = campaign
        .targeting
        .include
        .iter()
        .map(|(f, values)| json!({"or": {facet(f.as_str()): values}}))
        .collect();
    let mut targeting = json!({"include": {"and": include}});
    if !campaign.targeting.exclude.is_empty() {
        let exclude: Map<String, Value> = campaign
            .targeting
            .exclude
            .iter()
            .map(|(f, values)| (facet(f.as_str()), json!(values)))
            .collect();
        targeting["exclude"] = json!({"or": exclude});
    }
    targeting
}

pub(super) fn campaign(
    account: &str,
    group: &str,
    name: &str,
    campaign: &LinkedInCampaign,
    currency: &str,
) -> Value {
    json!({
        "account": format!("urn:li:sponsoredAccount:{account}"),
        "campaignGroup": group,
        "name": name,
        "type": campaign_type(campaign.campaign_type),
        "objectiveType": objective(campaign.objective),
        "costType": "CPC",
        "dailyBudget": money(campaign.daily_budget_micros, currency),
        // The bid starts at a tenth of the daily budget; optimisation moves it.
        "unitCost": money((campaign.daily_budget_micros / 10).max(2_000_000), currency),
        "locale": {"country": "US", "language": "en"},
        "targetingCriteria": targeting(campaign),
        "offsiteDeliveryEnabled": false,
        "politicalIntent": "NOT_POLITICAL",
        // Created paused: it starts serving when the campaign is activated in Adflow.
        "status": "PAUSED",
    })
}

pub(super) fn creative_name(campaign: &str, index: usize) -> String {
    let base: String = campaign.chars().take(super::NAME_LIMIT - 6).collect();
    format!("{base} #{}", index + 1)
}

/// Which creative of `campaign` (its index in the structure) a creative named by
/// [`creative_name`] is: how a report's creative finds its way back to the structure.
pub fn creative_index(campaign: &str, name: &str) -> Option<usize> {
    let (base, number) = name.rsplit_once(" #")?;
    let expected: String = campaign.chars().take(super::NAME_LIMIT - 6).collect();
    let number: usize = number.parse().ok()?;
    (base == expected && number > 0).then(|| number - 1)
}

/// A dark post (not shown on the organization's page) promoting a sponsored-content creative;
/// `author` is filled in with the organization. `None` for formats that carry their content inline.
pub(super) fn post(account: &str, creative: &Creative) -> Option<Value> {
    let (commentary, title, source) = match creative {
        Creative::SingleImage {
            intro_text,
            headline,
            destination_url,
        } => (intro_text, headline.clone(), destination_url),
        Creative::Carousel { intro_text, cards } => {
            let first = cards.first()?;
            (intro_text, first.headline.clone(), &first.destination_url)
        }
        _ => return None,
    };
    Some(json!({
        "author": "",
        "commentary": commentary,
        "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "NONE", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "content": {"article": {"source": source, "title": title}},
        "adContext": {"dscAdAccount": format!("urn:li:sponsoredAccount:{account}"), "dscStatus": "ACTIVE"},
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": false,
    }))
}

/// A creative: sponsored content references its post; text ads carry their text inline. Message
/// ads and spotlights are sent inline too, which the sandbox takes (a real account wants InMail
/// content and a dynamic-ad template for them, which are not built yet).
pub(super) fn creative(
    campaign: &str,
    name: &str,
    creative: &Creative,
    post: Option<&str>,
) -> Value {
    let content = match (post, creative) {
        (Some(post), _) => json!({"reference": post}),
        (
            None,
            Creative::TextAd {
                headline,
                description,
                destination_url,
            },
        ) => {
            json!({"textAd": {"headline": headline, "description": description, "landingPage": destination_url}})
        }
        (None, other) => serde_json::to_value(other).unwrap_or(Value::Null),
    };
    json!({
        "campaign": campaign,
        "name": name,
        "intendedStatus": "ACTIVE",
        "content": content,
    })
}

fn number(element: &Value, field: &str) -> f64 {
    match element.get(field) {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

/// One analytics element as a report row; `pivots` names each pivot value (a campaign's or a
/// creative's URN) by its campaign and, for a creative, its own name.
pub(super) fn report_row(
    element: &Value,
    pivots: &HashMap<String, (String, Option<String>)>,
) -> Result<ReportRow, PlatformError> {
    let start = element
        .pointer("/dateRange/start")
        .ok_or_else(|| PlatformError::Protocol("an analytics element without dateRange".into()))?;
    let part = |f: &str| start.get(f).and_then(Value::as_u64).unwrap_or(0) as u32;
    let day = NaiveDate::from_ymd_opt(part("year") as i32, part("month"), part("day"))
        .ok_or_else(|| PlatformError::Protocol("an analytics element with a bad date".into()))?;
    let (campaign, creative) = element
        .pointer("/pivotValues/0")
        .and_then(Value::as_str)
        .and_then(|urn| pivots.get(urn))
        .cloned()
        .map_or((None, None), |(campaign, creative)| {
            (Some(campaign), creative)
        });
    Ok(ReportRow {
        day,
        hour: None,
        ad_group: campaign,
        keyword: None,
        ad: creative,
        impressions: number(element, "impressions") as i64,
        clicks: number(element, "clicks") as i64,
        conversions: number(element, "externalWebsiteConversions").round() as i64,
        cost_micros: (number(element, "costInLocalCurrency") * 1e6).round() as i64,
        revenue_micros: (number(element, "conversionValueInLocalCurrency") * 1e6).round() as i64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_analytics_element_reads_in_our_units() {
        let answer: Value =
            serde_json::from_slice(include_bytes!("../../fixtures/linkedin/ad_analytics.json"))
                .unwrap();
        let names = HashMap::from([(
            "urn:li:sponsoredCampaign:123456".to_owned(),
            ("CFOs DACH".to_owned(), None),
        )]);
        let row = report_row(&answer["elements"][0], &names).unwrap();
        assert_eq!(row.day, NaiveDate::from_ymd_opt(2026, 1, 6).unwrap());
        assert_eq!(row.hour, None);
        assert_eq!(row.ad_group.as_deref(), Some("CFOs DACH"));
        assert_eq!(
            (row.impressions, row.clicks, row.conversions),
            (4210, 31, 2)
        );
        assert_eq!(
            (row.cost_micros, row.revenue_micros),
            (218_550_000, 400_000_000)
        );
    }

    #[test]
    fn a_creative_name_leads_back_to_its_index() {
        let name = creative_name("CFOs DACH", 2);
        assert_eq!(creative_index("CFOs DACH", &name), Some(2));
        assert_eq!(creative_index("CFOs Nordics", &name), None);
        assert_eq!(creative_index("CFOs DACH", "CFOs DACH #0"), None);
    }

    #[test]
    fn a_creative_pivot_names_the_campaign_as_ad_group_and_the_creative_as_ad() {
        let element = serde_json::json!({
            "pivotValues": ["urn:li:sponsoredCreative:77"],
            "dateRange": {"start": {"year": 2026, "month": 1, "day": 6}, "end": {"year": 2026, "month": 1, "day": 6}},
            "impressions": 900, "clicks": 7, "costInLocalCurrency": "41.20",
            "externalWebsiteConversions": 1, "conversionValueInLocalCurrency": "0"
        });
        let pivots = HashMap::from([(
            "urn:li:sponsoredCreative:77".to_owned(),
            ("CFOs DACH".to_owned(), Some("Cut close time".to_owned())),
        )]);
        let row = report_row(&element, &pivots).unwrap();
        assert_eq!(row.ad_group.as_deref(), Some("CFOs DACH"));
        assert_eq!(row.ad.as_deref(), Some("Cut close time"));
        assert_eq!(
            (row.impressions, row.clicks, row.cost_micros),
            (900, 7, 41_200_000)
        );
    }

    #[test]
    fn documented_errors_become_typed_causes() {
        let body = include_bytes!("../../fixtures/linkedin/input_error.json");
        let PlatformError::Invalid { causes } = super::super::classify(400, body) else {
            panic!()
        };
        assert_eq!(causes[0].code, "FIELD_VALUE_TOO_LONG");
        assert_eq!(causes[0].field_path.as_deref(), Some("name"));
        let throttled = include_bytes!("../../fixtures/linkedin/too_many_requests.json");
        assert!(matches!(
            super::super::classify(429, throttled),
            PlatformError::RateLimited(_)
        ));
        assert!(matches!(
            super::super::classify(503, b""),
            PlatformError::Unavailable(_)
        ));
    }
}
