//! Reads: the finders and `adAnalytics` (daily only), served from the market.

use super::{error, gate, urn_id, AdAccount};
use crate::sandbox::{percent_decode, raw_params, Sandbox};
use crate::simulator::Figures;
use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The values of `List(a,b)` in a Rest.li parameter, decoded.
fn list_values(param: &str) -> Vec<String> {
    let Some(start) = param.find("List(") else {
        return Vec::new();
    };
    let rest = &param[start + 5..];
    let end = rest.find(')').unwrap_or(rest.len());
    rest[..end]
        .split(',')
        .filter(|v| !v.is_empty())
        .map(percent_decode)
        .collect()
}

pub(super) async fn find(
    State(sandbox): State<Sandbox>,
    Path((account, collection)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(refused) = gate(&sandbox, &headers, &account) {
        return *refused;
    }
    let params = raw_params(query.as_deref().unwrap_or_default());
    let start: usize = params
        .get("start")
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let count: usize = params
        .get("count")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
        .min(1000);
    let world = sandbox.world();
    let empty = AdAccount::default();
    let ad = world.linkedin.get(&account).unwrap_or(&empty);
    let elements: Vec<Value> = match (collection.as_str(), params.get("q").map(String::as_str)) {
        ("adCampaignGroups", Some("search")) => {
            let names = list_values(params.get("search").map(String::as_str).unwrap_or_default());
            ad.groups.iter().filter(|(_, g)| names.is_empty() || names.contains(&g.name)).map(|(id, g)| json!({"id": id, "name": g.name, "status": g.status, "account": format!("urn:li:sponsoredAccount:{account}")})).collect()
        }
        ("adCampaigns", Some("search")) => {
            let groups: Vec<u64> =
                list_values(params.get("search").map(String::as_str).unwrap_or_default())
                    .iter()
                    .filter_map(|u| urn_id(u))
                    .collect();
            ad.campaigns
                .iter()
                .filter(|(_, c)| groups.is_empty() || groups.contains(&c.group))
                .map(|(id, c)| {
                    let mut body = c.body.clone();
                    body["id"] = json!(id);
                    body["status"] = json!(c.status);
                    body
                })
                .collect()
        }
        ("creatives", Some("criteria")) => {
            let campaigns: Vec<u64> = list_values(
                params
                    .get("campaigns")
                    .map(String::as_str)
                    .unwrap_or_default(),
            )
            .iter()
            .filter_map(|u| urn_id(u))
            .collect();
            ad.creatives.iter().filter(|(_, c)| campaigns.is_empty() || campaigns.contains(&c.campaign)).map(|(id, c)| json!({"id": format!("urn:li:sponsoredCreative:{id}"), "name": c.name, "intendedStatus": c.status, "campaign": format!("urn:li:sponsoredCampaign:{}", c.campaign), "content": c.content})).collect()
        }
        _ => return error(400, "ILLEGAL_ARGUMENT", "Unknown finder", None),
    };
    let total = elements.len();
    let page: Vec<Value> = elements.into_iter().skip(start).take(count).collect();
    Json(json!({"elements": page, "paging": {"start": start, "count": count, "total": total}}))
        .into_response()
}

/// `(start:(year:2026,month:1,day:5),end:(year:2026,month:1,day:11))`
fn date_range(param: &str) -> Option<(NaiveDate, NaiveDate)> {
    let text = percent_decode(param);
    let number = |from: &str, key: &str| -> Option<u32> {
        let at = from.find(&format!("{key}:"))? + key.len() + 1;
        from[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect::<String>()
            .parse()
            .ok()
    };
    let date = |part: &str| {
        NaiveDate::from_ymd_opt(
            number(part, "year")? as i32,
            number(part, "month")?,
            number(part, "day")?,
        )
    };
    let end_at = text.find("end:")?;
    Some((date(&text[..end_at])?, date(&text[end_at..])?))
}

pub(super) async fn analytics(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = raw_params(query.as_deref().unwrap_or_default());
    let campaigns = list_values(
        params
            .get("campaigns")
            .map(String::as_str)
            .unwrap_or_default(),
    );
    let account = {
        let world = sandbox.world();
        campaigns.iter().filter_map(|u| urn_id(u)).find_map(|id| {
            world
                .linkedin
                .iter()
                .find(|(_, a)| a.campaigns.contains_key(&id))
                .map(|(k, _)| k.clone())
        })
    };
    if let Err(refused) = gate(&sandbox, &headers, account.as_deref().unwrap_or("unknown")) {
        return *refused;
    }
    if params.get("q").map(String::as_str) != Some("analytics") {
        return error(
            400,
            "ILLEGAL_ARGUMENT",
            "Only the analytics finder is supported",
            None,
        );
    }
    match params.get("timeGranularity").map(String::as_str) {
        Some("DAILY") => {}
        Some(other) => {
            return error(
                400,
                "INVALID_VALUE",
                &format!("timeGranularity {other} is not supported; use DAILY"),
                Some("timeGranularity"),
            )
        }
        None => {
            return error(
                400,
                "REQUIRED_FIELD_MISSING",
                "timeGranularity is required",
                Some("timeGranularity"),
            )
        }
    }
    let Some((from, to)) = params.get("dateRange").and_then(|r| date_range(r)) else {
        return error(
            400,
            "REQUIRED_FIELD_MISSING",
            "dateRange is required",
            Some("dateRange"),
        );
    };
    let Some(account) = account else {
        return Json(json!({"elements": [], "paging": {"start": 0, "count": 0}})).into_response();
    };
    let world = sandbox.world();
    let now = world.clock.now();
    let from_hour = from
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp()
        / 3600;
    let to_hour = to
        .succ_opt()
        .unwrap_or(to)
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp()
        / 3600;
    // CAMPAIGN totals a campaign's day; CREATIVE keeps each creative's day apart.
    let by_creative = match params.get("pivot").map(String::as_str) {
        Some("CAMPAIGN") | None => false,
        Some("CREATIVE") => true,
        Some(other) => {
            return error(
                400,
                "INVALID_VALUE",
                &format!("pivot {other} is not supported; use CAMPAIGN or CREATIVE"),
                Some("pivot"),
            )
        }
    };
    let mut elements = Vec::new();
    for urn in &campaigns {
        let Some(id) = urn_id(urn) else { continue };
        let mut days: BTreeMap<(String, NaiveDate), Figures> = BTreeMap::new();
        for hour in
            world
                .market
                .campaign_hours(&format!("l/{account}/{id}"), from_hour, to_hour, now)
        {
            let day = DateTime::<Utc>::from_timestamp(hour.hour * 3600, 0)
                .unwrap_or_default()
                .date_naive();
            let pivot = match hour.unit.rsplit_once("/cr") {
                Some((_, creative)) if by_creative => {
                    format!("urn:li:sponsoredCreative:{creative}")
                }
                _ => urn.clone(),
            };
            days.entry((pivot, day)).or_default().add(&hour.figures);
        }
        for ((urn, day), f) in days {
            let date = json!({"year": day.format("%Y").to_string().parse::<u32>().unwrap_or(0), "month": day.format("%m").to_string().parse::<u32>().unwrap_or(0), "day": day.format("%d").to_string().parse::<u32>().unwrap_or(0)});
            elements.push(json!({
                "pivotValues": [urn],
                "dateRange": {"start": date, "end": date},
                "impressions": f.impressions,
                "clicks": f.clicks,
                "costInLocalCurrency": format!("{:.2}", f.cost_micros as f64 / 1e6),
                "externalWebsiteConversions": f.conversions,
                "conversionValueInLocalCurrency": format!("{:.2}", f.revenue_micros as f64 / 1e6),
            }));
        }
    }
    Json(
        json!({"elements": elements, "paging": {"start": 0, "count": elements.len(), "links": []}}),
    )
    .into_response()
}
