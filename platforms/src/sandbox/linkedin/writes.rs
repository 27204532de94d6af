//! Writes: creating campaign groups, campaigns, creatives and posts, and partial updates; what
//! is created joins the market.

use super::{
    amount_micros, check_name, error, gate, urn_id, Group, LinkedInCampaign, LinkedInCreative,
};
use crate::sandbox::{percent_decode, Sandbox, World};
use crate::simulator::UnitKind;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

pub(super) async fn create(
    State(sandbox): State<Sandbox>,
    Path((account, collection)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = gate(&sandbox, &headers, &account) {
        return *refused;
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "ILLEGAL_ARGUMENT", "Malformed JSON", None);
    };
    let name = match check_name(&body) {
        Ok(name) => name,
        Err(refused) => return *refused,
    };
    let mut world = sandbox.world();
    let now = world.clock.now();
    let id = world.id();
    let World {
        linkedin, market, ..
    } = &mut *world;
    let ad = linkedin.entry(account.clone()).or_default();
    let created = match collection.as_str() {
        "adCampaignGroups" => {
            if body.get("account").and_then(Value::as_str)
                != Some(&format!("urn:li:sponsoredAccount:{account}"))
            {
                return error(
                    400,
                    "INVALID_VALUE",
                    "account does not match the ad account in the path",
                    Some("account"),
                );
            }
            ad.groups.insert(
                id,
                Group {
                    name,
                    status: body
                        .get("status")
                        .and_then(Value::as_str)
                        .unwrap_or("ACTIVE")
                        .into(),
                },
            );
            id.to_string()
        }
        "adCampaigns" => {
            let Some(group) = body
                .get("campaignGroup")
                .and_then(Value::as_str)
                .and_then(urn_id)
                .filter(|g| ad.groups.contains_key(g))
            else {
                return error(
                    400,
                    "INVALID_VALUE",
                    "campaignGroup does not exist",
                    Some("campaignGroup"),
                );
            };
            if !matches!(
                body.get("type").and_then(Value::as_str),
                Some("SPONSORED_UPDATES" | "TEXT_AD" | "SPONSORED_INMAILS" | "DYNAMIC")
            ) {
                return error(400, "INVALID_VALUE", "Unknown campaign type", Some("type"));
            }
            let daily = amount_micros(body.get("dailyBudget")).unwrap_or(0);
            if daily < 10_000_000 {
                return error(
                    400,
                    "INVALID_VALUE",
                    "The daily budget must be at least 10.00",
                    Some("dailyBudget/amount"),
                );
            }
            let include = body
                .pointer("/targetingCriteria/include/and")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let has_location = include.iter().any(|clause| {
                clause
                    .pointer("/or/urn:li:adTargetingFacet:locations")
                    .is_some()
            });
            if !has_location {
                return error(
                    400,
                    "MISSING_LOCATION_TARGETING",
                    "Targeting criteria must include a location facet",
                    Some("targetingCriteria"),
                );
            }
            let status = body
                .get("status")
                .and_then(Value::as_str)
                .unwrap_or("DRAFT")
                .to_owned();
            market.add_campaign(&format!("l/{account}/{id}"), now, daily, status == "ACTIVE");
            if let Some(cost) = amount_micros(body.get("unitCost")) {
                if let Some(sim) = market.campaign_mut(&format!("l/{account}/{id}")) {
                    sim.max_cpc_micros.set(now, Some(cost));
                }
            }
            ad.campaigns.insert(
                id,
                LinkedInCampaign {
                    group,
                    name,
                    status,
                    body: body.clone(),
                },
            );
            id.to_string()
        }
        "creatives" => {
            let Some(campaign) = body
                .get("campaign")
                .and_then(Value::as_str)
                .and_then(urn_id)
                .filter(|c| ad.campaigns.contains_key(c))
            else {
                return error(
                    400,
                    "INVALID_VALUE",
                    "campaign does not exist",
                    Some("campaign"),
                );
            };
            let facets = ad.campaigns[&campaign]
                .body
                .pointer("/targetingCriteria/include/and")
                .and_then(Value::as_array)
                .map_or(1, Vec::len);
            let copy = body
                .get("content")
                .map(Value::to_string)
                .unwrap_or_default();
            let kind = UnitKind::Creative {
                audience_size: 2_000_000 / (1 + facets as u64),
            };
            let fit = 0.8 + 0.1 * facets.min(4) as f64;
            market.add_unit(
                &format!("l/{account}/cr{id}"),
                &format!("l/{account}/{campaign}"),
                kind,
                &copy,
                fit,
                now,
            );
            ad.creatives.insert(
                id,
                LinkedInCreative {
                    campaign,
                    name,
                    status: body
                        .get("intendedStatus")
                        .and_then(Value::as_str)
                        .unwrap_or("ACTIVE")
                        .into(),
                    content: body.get("content").cloned().unwrap_or(Value::Null),
                },
            );
            format!("urn:li:sponsoredCreative:{id}")
        }
        _ => return error(404, "NOT_FOUND", "Unknown collection", None),
    };
    (
        StatusCode::CREATED,
        [("x-restli-id", created.clone()), ("x-linkedin-id", created)],
    )
        .into_response()
}

pub(super) async fn update(
    State(sandbox): State<Sandbox>,
    Path((account, collection, id)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Err(refused) = gate(&sandbox, &headers, &account) {
        return *refused;
    }
    if headers.get("x-restli-method").and_then(|v| v.to_str().ok()) != Some("PARTIAL_UPDATE") {
        return error(400, "ILLEGAL_ARGUMENT", "Updates are PARTIAL_UPDATE", None);
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "ILLEGAL_ARGUMENT", "Malformed JSON", None);
    };
    let Some(set) = body.pointer("/patch/$set").cloned() else {
        return error(
            400,
            "ILLEGAL_ARGUMENT",
            "A patch with $set is expected",
            Some("patch"),
        );
    };
    let mut world = sandbox.world();
    let now = world.clock.now();
    let World {
        linkedin, market, ..
    } = &mut *world;
    let Some(ad) = linkedin.get_mut(&account) else {
        return error(404, "NOT_FOUND", "Ad account not found", None);
    };
    let id = urn_id(&percent_decode(&id)).unwrap_or(0);
    match collection.as_str() {
        "adCampaigns" => {
            let Some(campaign) = ad.campaigns.get_mut(&id) else {
                return error(404, "NOT_FOUND", "Campaign not found", None);
            };
            let key = format!("l/{account}/{id}");
            if let Some(status) = set.get("status").and_then(Value::as_str) {
                if !matches!(
                    status,
                    "ACTIVE" | "PAUSED" | "ARCHIVED" | "DRAFT" | "CANCELED"
                ) {
                    return error(400, "INVALID_VALUE", "Unknown status", Some("status"));
                }
                campaign.status = status.to_owned();
                if let Some(sim) = market.campaign_mut(&key) {
                    sim.active.set(now, status == "ACTIVE")
                }
            }
            if let Some(daily) = amount_micros(set.get("dailyBudget")) {
                if daily < 10_000_000 {
                    return error(
                        400,
                        "INVALID_VALUE",
                        "The daily budget must be at least 10.00",
                        Some("dailyBudget/amount"),
                    );
                }
                campaign.body["dailyBudget"] = set["dailyBudget"].clone();
                if let Some(sim) = market.campaign_mut(&key) {
                    sim.daily_budget_micros.set(now, daily)
                }
            }
            if let Some(cost) = amount_micros(set.get("unitCost")) {
                campaign.body["unitCost"] = set["unitCost"].clone();
                if let Some(sim) = market.campaign_mut(&key) {
                    sim.max_cpc_micros.set(now, Some(cost))
                }
            }
        }
        "creatives" => {
            let Some(creative) = ad.creatives.get_mut(&id) else {
                return error(404, "NOT_FOUND", "Creative not found", None);
            };
            if let Some(status) = set.get("intendedStatus").and_then(Value::as_str) {
                creative.status = status.to_owned();
                if let Some(unit) = market.unit_mut(&format!("l/{account}/cr{id}")) {
                    unit.active.set(now, status == "ACTIVE")
                }
            }
        }
        "adCampaignGroups" => {
            let Some(group) = ad.groups.get_mut(&id) else {
                return error(404, "NOT_FOUND", "Campaign group not found", None);
            };
            if let Some(status) = set.get("status").and_then(Value::as_str) {
                group.status = status.to_owned();
            }
        }
        _ => return error(404, "NOT_FOUND", "Unknown collection", None),
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /rest/posts`: a post of an organization; sponsored content promotes one (a dark post,
/// `feedDistribution: NONE`, for ads only).
pub(super) async fn create_post(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "ILLEGAL_ARGUMENT", "Malformed JSON", None);
    };
    let account = body
        .pointer("/adContext/dscAdAccount")
        .and_then(Value::as_str)
        .and_then(urn_id)
        .map(|id| id.to_string())
        .unwrap_or_else(|| "posts".into());
    if let Err(refused) = gate(&sandbox, &headers, &account) {
        return *refused;
    }
    if !body
        .get("author")
        .and_then(Value::as_str)
        .is_some_and(|a| a.starts_with("urn:li:organization:"))
    {
        return error(
            400,
            "INVALID_VALUE",
            "author must be an organization",
            Some("author"),
        );
    }
    let commentary = body
        .get("commentary")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if commentary.chars().count() > 3000 {
        return error(
            400,
            "FIELD_VALUE_TOO_LONG",
            "commentary is at most 3000 characters",
            Some("commentary"),
        );
    }
    if body.get("lifecycleState").and_then(Value::as_str) != Some("PUBLISHED") {
        return error(
            400,
            "INVALID_VALUE",
            "lifecycleState must be PUBLISHED",
            Some("lifecycleState"),
        );
    }
    if !body
        .pointer("/content/article/source")
        .and_then(Value::as_str)
        .is_some_and(|s| s.starts_with("https://"))
    {
        return error(
            400,
            "INVALID_VALUE",
            "content.article.source must be an https URL",
            Some("content/article/source"),
        );
    }
    let mut world = sandbox.world();
    let urn = format!("urn:li:share:{}", world.id());
    world.posts.insert(urn.clone(), body);
    (
        StatusCode::CREATED,
        [("x-restli-id", urn.clone()), ("x-linkedin-id", urn)],
    )
        .into_response()
}
