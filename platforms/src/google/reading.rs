//! Reading back: what an earlier deployment attempt created (found by the campaign's keyed name
//! and mapped onto the structure's paths), and report rows in our units.

use super::{quote, Customer, GoogleAds};
use crate::gateway::{ExternalResource, ReportRow, SearchTermRow};
use crate::http::Requests;
use crate::PlatformError;
use adflow_domain::structure::google::{GoogleAdsStructure, Keyword, MatchType};
use chrono::NaiveDate;
use serde_json::Value;
use std::collections::{BTreeMap, HashSet};

fn text<'a>(row: &'a Value, pointer: &str) -> Option<&'a str> {
    row.pointer(pointer).and_then(Value::as_str)
}

/// Int64 fields arrive as strings (proto3 JSON), and zero values not at all.
fn int(row: &Value, pointer: &str) -> i64 {
    match row.pointer(pointer) {
        Some(Value::String(s)) => s.parse().unwrap_or(0),
        Some(Value::Number(n)) => n.as_i64().unwrap_or(0),
        _ => 0,
    }
}

fn double(row: &Value, pointer: &str) -> f64 {
    match row.pointer(pointer) {
        Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
        Some(Value::String(s)) => s.parse().unwrap_or(0.0),
        _ => 0.0,
    }
}

fn match_type(value: Option<&str>) -> Option<MatchType> {
    match value? {
        "EXACT" => Some(MatchType::Exact),
        "PHRASE" => Some(MatchType::Phrase),
        "BROAD" => Some(MatchType::Broad),
        _ => None,
    }
}

/// The first index of `items` equal to `wanted` not taken yet.
fn claim<T: PartialEq>(
    items: &[T],
    wanted: &T,
    taken: &mut HashSet<(String, usize)>,
    scope: &str,
) -> Option<usize> {
    let index = items
        .iter()
        .enumerate()
        .position(|(i, item)| item == wanted && !taken.contains(&(scope.to_owned(), i)))?;
    taken.insert((scope.to_owned(), index));
    Some(index)
}

fn resource(kind: &str, path: String, id: &str) -> ExternalResource {
    ExternalResource {
        kind: kind.into(),
        path,
        external_id: id.into(),
    }
}

pub(super) async fn existing(
    client: &GoogleAds,
    customer: &Customer<'_>,
    google: &GoogleAdsStructure,
    name: &str,
    requests: &mut Requests,
) -> Result<Option<Vec<ExternalResource>>, PlatformError> {
    let rows = client
        .search(
            customer,
            &format!(
                "SELECT campaign.resource_name, campaign.campaign_budget FROM campaign \
                 WHERE campaign.name = {} AND campaign.status != 'REMOVED'",
                quote(name)
            ),
            requests,
        )
        .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let campaign = text(row, "/campaign/resourceName")
        .ok_or_else(|| PlatformError::Protocol("a campaign row without its resource name".into()))?
        .to_owned();
    let mut found = vec![resource("CAMPAIGN", "/google/campaign".into(), &campaign)];
    if let Some(budget) = text(row, "/campaign/campaignBudget") {
        found.push(resource(
            "BUDGET",
            "/google/dailyBudgetMicros".into(),
            budget,
        ));
    }
    let scope = format!("WHERE campaign.resource_name = {}", quote(&campaign));
    let mut taken = HashSet::new();
    let criteria = client
        .search(
            customer,
            &format!(
                "SELECT campaign_criterion.resource_name, campaign_criterion.negative, \
                 campaign_criterion.location.geo_target_constant, \
                 campaign_criterion.language.language_constant, campaign_criterion.keyword.text, \
                 campaign_criterion.keyword.match_type FROM campaign_criterion {scope}"
            ),
            requests,
        )
        .await?;
    for row in &criteria {
        let Some(id) = text(row, "/campaignCriterion/resourceName") else {
            continue;
        };
        if let Some(location) = text(row, "/campaignCriterion/location/geoTargetConstant") {
            if let Some(i) = claim(
                &google.campaign.locations,
                &location.to_owned(),
                &mut taken,
                "loc",
            ) {
                found.push(resource(
                    "LOCATION",
                    format!("/google/campaign/locations/{i}"),
                    id,
                ));
            }
        } else if let Some(language) = text(row, "/campaignCriterion/language/languageConstant") {
            if let Some(i) = claim(
                &google.campaign.languages,
                &language.to_owned(),
                &mut taken,
                "lang",
            ) {
                found.push(resource(
                    "LANGUAGE",
                    format!("/google/campaign/languages/{i}"),
                    id,
                ));
            }
        } else if let (Some(kw), Some(m)) = (
            text(row, "/campaignCriterion/keyword/text"),
            match_type(text(row, "/campaignCriterion/keyword/matchType")),
        ) {
            let wanted = Keyword {
                text: kw.to_owned(),
                match_type: m,
            };
            if let Some(i) = claim(&google.negative_keywords, &wanted, &mut taken, "neg") {
                found.push(resource(
                    "NEGATIVE_KEYWORD",
                    format!("/google/negativeKeywords/{i}"),
                    id,
                ));
            }
        }
    }
    let groups = client
        .search(
            customer,
            &format!("SELECT ad_group.resource_name, ad_group.name FROM ad_group {scope}"),
            requests,
        )
        .await?;
    let names: Vec<String> = google
        .ad_groups
        .iter()
        .map(|g| g.name.chars().take(super::operations::NAME_LIMIT).collect())
        .collect();
    let mut group_index: BTreeMap<String, usize> = BTreeMap::new();
    for row in &groups {
        let (Some(id), Some(name)) = (
            text(row, "/adGroup/resourceName"),
            text(row, "/adGroup/name"),
        ) else {
            continue;
        };
        if let Some(g) = claim(&names, &name.to_owned(), &mut taken, "group") {
            group_index.insert(id.to_owned(), g);
            found.push(resource("AD_GROUP", format!("/google/adGroups/{g}"), id));
        }
    }
    let keywords = client
        .search(
            customer,
            &format!(
                "SELECT ad_group_criterion.resource_name, ad_group.resource_name, \
                 ad_group_criterion.negative, ad_group_criterion.keyword.text, \
                 ad_group_criterion.keyword.match_type FROM ad_group_criterion {scope}"
            ),
            requests,
        )
        .await?;
    for row in &keywords {
        let (Some(id), Some(g), Some(kw), Some(m)) = (
            text(row, "/adGroupCriterion/resourceName"),
            text(row, "/adGroup/resourceName").and_then(|g| group_index.get(g)),
            text(row, "/adGroupCriterion/keyword/text"),
            match_type(text(row, "/adGroupCriterion/keyword/matchType")),
        ) else {
            continue;
        };
        let negative = row
            .pointer("/adGroupCriterion/negative")
            .and_then(Value::as_bool)
            == Some(true);
        let wanted = Keyword {
            text: kw.to_owned(),
            match_type: m,
        };
        let group = &google.ad_groups[*g];
        let (list, field, kind) = if negative {
            (
                &group.negative_keywords,
                "negativeKeywords",
                "NEGATIVE_KEYWORD",
            )
        } else {
            (&group.keywords, "keywords", "KEYWORD")
        };
        if let Some(k) = claim(list, &wanted, &mut taken, &format!("{g}/{field}")) {
            found.push(resource(
                kind,
                format!("/google/adGroups/{g}/{field}/{k}"),
                id,
            ));
        }
    }
    let ads = client
        .search(
            customer,
            &format!(
                "SELECT ad_group_ad.resource_name, ad_group.resource_name FROM ad_group_ad {scope} \
                 ORDER BY ad_group_ad.ad.id"
            ),
            requests,
        )
        .await?;
    let mut next_ad: BTreeMap<usize, usize> = BTreeMap::new();
    for row in &ads {
        let (Some(id), Some(g)) = (
            text(row, "/adGroupAd/resourceName"),
            text(row, "/adGroup/resourceName").and_then(|g| group_index.get(g)),
        ) else {
            continue;
        };
        let a = next_ad.entry(*g).or_default();
        found.push(resource("AD", format!("/google/adGroups/{g}/ads/{a}"), id));
        *a += 1;
    }
    Ok(Some(found))
}

pub(super) fn report_row(row: &Value) -> Result<ReportRow, PlatformError> {
    let day = text(row, "/segments/date")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| PlatformError::Protocol("a report row without segments.date".into()))?;
    let hour = row
        .pointer("/segments/hour")
        .and_then(Value::as_u64)
        .map(|h| h as u32);
    Ok(ReportRow {
        day,
        hour: Some(hour.unwrap_or(0)),
        ad_group: text(row, "/adGroup/name").map(str::to_owned),
        keyword: text(row, "/adGroupCriterion/keyword/text").map(str::to_owned),
        ad: None,
        impressions: int(row, "/metrics/impressions"),
        clicks: int(row, "/metrics/clicks"),
        conversions: double(row, "/metrics/conversions").round() as i64,
        cost_micros: int(row, "/metrics/costMicros"),
        revenue_micros: (double(row, "/metrics/conversionsValue") * 1e6).round() as i64,
    })
}

pub(super) fn search_term_row(row: &Value) -> Result<SearchTermRow, PlatformError> {
    let search_term = text(row, "/searchTermView/searchTerm")
        .ok_or_else(|| PlatformError::Protocol("a search term row without its search".into()))?;
    Ok(SearchTermRow {
        ad_group: text(row, "/adGroup/name").unwrap_or_default().to_owned(),
        keyword: text(row, "/segments/keyword/info/text")
            .unwrap_or_default()
            .to_owned(),
        match_type: match_type(text(row, "/segments/keyword/info/matchType")),
        search_term: search_term.to_owned(),
        status: text(row, "/searchTermView/status")
            .unwrap_or("NONE")
            .to_owned(),
        impressions: int(row, "/metrics/impressions"),
        clicks: int(row, "/metrics/clicks"),
        conversions: double(row, "/metrics/conversions").round() as i64,
        cost_micros: int(row, "/metrics/costMicros"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_search_stream_row_reads_in_our_units() {
        let batches: Value = serde_json::from_slice(include_bytes!(
            "../../fixtures/google/search_stream_keyword_view.json"
        ))
        .unwrap();
        let row = report_row(&batches[0]["results"][0]).unwrap();
        assert_eq!(row.day, NaiveDate::from_ymd_opt(2026, 1, 6).unwrap());
        assert_eq!(row.hour, Some(10));
        assert_eq!(row.ad_group.as_deref(), Some("Payroll software"));
        assert_eq!(row.keyword.as_deref(), Some("payroll software"));
        assert_eq!((row.impressions, row.clicks, row.conversions), (120, 9, 2));
        assert_eq!(
            (row.cost_micros, row.revenue_micros),
            (21_450_000, 360_500_000)
        );
    }
}
