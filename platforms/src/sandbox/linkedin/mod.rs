//! The LinkedIn Marketing API on the sandbox, under `/linkedin/rest`: ad accounts, campaign
//! groups, campaigns and creatives (create with `x-restli-id`, finders, partial updates), and
//! `adAnalytics` (daily only). Requires `LinkedIn-Version` and `X-Restli-Protocol-Version: 2.0.0`.

mod reads;
mod writes;

use super::{oauth, Sandbox};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
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
                        let paused = self
                            .creatives
                            .values()
                            .filter(|cr| cr.campaign == *cid && cr.status == "PAUSED")
                            .count();
                        json!({"id": cid, "name": c.name, "status": c.status, "creatives": creatives,
                               "pausedCreatives": paused,
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
            post(writes::create).get(reads::find),
        )
        .route(
            "/rest/adAccounts/{account}/{collection}/{id}",
            post(writes::update),
        )
        .route("/rest/adAnalytics", get(reads::analytics))
        .route("/rest/posts", post(writes::create_post))
}

pub(super) fn error(status: u16, code: &str, message: &str, field: Option<&str>) -> Response {
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
pub(super) fn gate(
    sandbox: &Sandbox,
    headers: &HeaderMap,
    account: &str,
) -> Result<(), Box<Response>> {
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

pub(super) fn amount_micros(value: Option<&Value>) -> Option<i64> {
    let amount = value?.get("amount")?.as_str()?;
    let parsed: f64 = amount.parse().ok()?;
    Some((parsed * 1e6).round() as i64)
}

pub(super) fn urn_id(urn: &str) -> Option<u64> {
    urn.rsplit(':').next()?.parse().ok()
}

pub(super) fn check_name(body: &Value) -> Result<String, Box<Response>> {
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
