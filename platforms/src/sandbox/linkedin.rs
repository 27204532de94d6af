//! The LinkedIn Marketing API on the sandbox, under `/linkedin/rest`: ad accounts, campaign
//! groups, campaigns and creatives (create with `x-restli-id`, finders, partial updates), and
//! `adAnalytics` (daily only). Requires `LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0`.

use super::{oauth, percent_decode, raw_params, Sandbox, World};
use crate::simulator::{Figures, UnitKind};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct AdAccount {
    pub groups: BTreeMap<u64, Group>,
    pub campaigns: BTreeMap<u64, LinkedInCampaign>,
    pub creatives: BTreeMap<u64, LinkedInCreative>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct LinkedInCampaign {
    pub group: u64,
    pub name: String,
    pub status: String,
    pub body: Value,
}

#[derive(Debug, Clone)]
pub struct LinkedInCreative {
    pub campaign: u64,
    pub name: String,
    pub status: String,
    pub content: Value,
}

impl AdAccount {
    pub fn inventory(&self) -> Value {
        let groups: Vec<Value> = self
            .groups
            .iter()
            .map(|(id, g)| {
                let campaigns: Vec<Value> = self
                    .campaigns
                    .iter()
                    .filter(|(_, c)| c.group == *id)
                    .map(|(cid, c)| {
                        let creatives = self.creatives.values().filter(|cr| cr.campaign == *cid).count();
                        json!({"id": cid, "name": c.name, "status": c.status, "creatives": creatives,
                               "dailyBudget": c.body.get("dailyBudget"), "unitCost": c.body.get("unitCost")})
                    })
                    .collect();
                json!({"id": id, "name": g.name, "status": g.status, "campaigns": campaigns})
            })
            .collect();
        json!({"campaignGroups": groups})
    }
}

pub(super) fn routes() -> Router<Sandbox> {
    Router::new()
        .route("/rest/adAccounts/{account}", get(account))
        .route(
            "/rest/adAccounts/{account}/{collection}",
            post(create).get(find),
        )
        .route("/rest/adAccounts/{account}/{collection}/{id}", post(update))
        .route("/rest/adAnalytics", get(analytics))
        .route("/rest/posts", post(create_post))
}

fn error(status: u16, code: &str, message: &str, field: Option<&str>) -> Response {
    let mut body = json!({"status": status, "code": code, "message": message});
    if let Some(field) = field {
        body["errorDetailType"] = json!("com.linkedin.common.error.BadRequest");
        body["errorDetails"] = json!({"inputErrors": [{"description": message, "input": {"inputPath": {"fieldPath": field}}, "code": code}]});
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        Json(body),
    )
        .into_response()
}

/// Authentication, versioning headers and the rate limit, in LinkedIn's answers.
fn gate(sandbox: &Sandbox, headers: &HeaderMap, account: &str) -> Result<(), Box<Response>> {
    if !oauth::authorized(sandbox, headers) {
        return Err(Box::new(error(
            401,
            "INVALID_ACCESS_TOKEN",
            "Invalid access token",
            None,
        )));
    }
    let version = headers
        .get("linkedin-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if version.len() != 6 || !version.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Box::new(error(400, "VERSION_MISSING", "A version must be present. Please specify a version by adding the LinkedIn-Version header.", None)));
    }
    if headers
        .get("x-restli-protocol-version")
        .and_then(|v| v.to_str().ok())
        != Some("2.0.0")
    {
        return Err(Box::new(error(
            400,
            "ILLEGAL_ARGUMENT",
            "The X-Restli-Protocol-Version header must be 2.0.0.",
            None,
        )));
    }
    if !sandbox.world().admit(&format!("linkedin/{account}")) {
        // LinkedIn sends no Retry-After.
        return Err(Box::new(error(
            429,
            "TOO_MANY_REQUESTS",
            "Resource level throttle APPLICATION DAY limit for calls to this resource is reached.",
            None,
        )));
    }
    Ok(())
}

async fn account(
    State(sandbox): State<Sandbox>,
    Path(account): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = gate(&sandbox, &headers, &account) {
        return *refused;
    }
    if account.parse::<u64>().is_err() {
        return error(404, "NOT_FOUND", "Ad account not found", None);
    }
    sandbox.world().linkedin.entry(account.clone()).or_default();
    Json(json!({"id": account.parse::<u64>().unwrap_or(0), "name": format!("Sandbox ad account {account}"), "status": "ACTIVE", "type": "BUSINESS", "currency": "USD", "reference": "urn:li:organization:1"})).into_response()
}

fn amount_micros(value: Option<&Value>) -> Option<i64> {
    let amount = value?.get("amount")?.as_str()?;
    let parsed: f64 = amount.parse().ok()?;
    Some((parsed * 1e6).round() as i64)
}

fn urn_id(urn: &str) -> Option<u64> {
    urn.rsplit(':').next()?.parse().ok()
}

fn check_name(body: &Value) -> Result<String, Box<Response>> {
    let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
    if name.trim().is_empty() {
        return Err(Box::new(error(
            400,
            "REQUIRED_FIELD_MISSING",
            "Field name is required",
            Some("name"),
        )));
    }
    if name.chars().count() > crate::linkedin::NAME_LIMIT {
        return Err(Box::new(error(
            400,
            "FIELD_VALUE_TOO_LONG",
            "Field value is too long: maximum length 255",
            Some("name"),
        )));
    }
    Ok(name.to_owned())
}

async fn create(
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

async fn find(
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

async fn update(
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

async fn analytics(
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
    let mut elements = Vec::new();
    for urn in &campaigns {
        let Some(id) = urn_id(urn) else { continue };
        let mut days: BTreeMap<NaiveDate, Figures> = BTreeMap::new();
        for hour in
            world
                .market
                .campaign_hours(&format!("l/{account}/{id}"), from_hour, to_hour, now)
        {
            let day = DateTime::<Utc>::from_timestamp(hour.hour * 3600, 0)
                .unwrap_or_default()
                .date_naive();
            days.entry(day).or_default().add(&hour.figures);
        }
        for (day, f) in days {
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

/// `POST /rest/posts`: a post of an organization; sponsored content promotes one (a dark post,
/// `feedDistribution: NONE`, for ads only).
async fn create_post(
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
