//! Google Ads REST on the sandbox: `POST /google/<version>/customers/<id>/googleAds:mutate` and
//! `…:searchStream`, with Google's authentication headers, quota, rate limit and error bodies.

use super::{oauth, Sandbox};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct Customer {
    pub budgets: BTreeMap<u64, (String, i64)>,
    pub campaigns: BTreeMap<u64, Campaign>,
    /// (campaign, criterion)
    pub campaign_criteria: BTreeMap<(u64, u64), CampaignCriterion>,
    pub ad_groups: BTreeMap<u64, AdGroup>,
    /// (ad group, criterion)
    pub criteria: BTreeMap<(u64, u64), Criterion>,
    /// (ad group, ad)
    pub ads: BTreeMap<(u64, u64), Ad>,
}

#[derive(Debug, Clone)]
pub struct Campaign {
    pub name: String,
    pub status: String,
    pub budget: u64,
    pub channel: String,
}

#[derive(Debug, Clone)]
pub enum CampaignCriterion {
    Location(String),
    Language(String),
    Keyword {
        text: String,
        match_type: String,
        negative: bool,
    },
    /// A day (`MONDAY`…), hours `[start, end)` and a bid modifier.
    AdSchedule {
        day: String,
        start_hour: u32,
        end_hour: u32,
        bid_modifier: f64,
    },
}

#[derive(Debug, Clone)]
pub struct AdGroup {
    pub campaign: u64,
    pub name: String,
    pub status: String,
    pub cpc_bid_micros: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct Criterion {
    pub text: String,
    pub match_type: String,
    pub negative: bool,
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct Ad {
    pub status: String,
    pub headlines: Vec<String>,
}

impl Customer {
    pub fn inventory(&self) -> Value {
        let campaigns: Vec<Value> = self
            .campaigns
            .iter()
            .map(|(id, c)| {
                let groups: Vec<u64> = self.ad_groups.iter().filter(|(_, g)| g.campaign == *id).map(|(g, _)| *g).collect();
                let keywords = self.criteria.keys().filter(|(g, _)| groups.contains(g)).count();
                let ads = self.ads.keys().filter(|(g, _)| groups.contains(g)).count();
                let budget = self.budgets.get(&c.budget).map(|b| b.1).unwrap_or_default();
                json!({"id": id, "name": c.name, "status": c.status, "adGroups": groups.len(), "criteria": keywords,
                       "ads": ads, "dailyBudgetMicros": budget,
                       "campaignCriteria": self.campaign_criteria.keys().filter(|(c, _)| c == id).count(),
                       "adSchedules": self.campaign_criteria.iter().filter(|((c, _), _)| c == id).filter_map(|(_, k)| match k {
                           CampaignCriterion::AdSchedule { day, start_hour, end_hour, bid_modifier } =>
                               Some(json!({"dayOfWeek": day, "startHour": start_hour, "endHour": end_hour, "bidModifier": bid_modifier})),
                           _ => None,
                       }).collect::<Vec<_>>(),
                       "negativeKeywords": self.campaign_criteria.iter().filter(|((c, _), _)| c == id).filter_map(|(_, k)| match k {
                           CampaignCriterion::Keyword { text, negative: true, .. } => Some(json!(text)),
                           _ => None,
                       }).collect::<Vec<_>>()})
            })
            .collect();
        json!({"campaigns": campaigns})
    }
}

pub(super) fn routes() -> Router<Sandbox> {
    Router::new().route("/{version}/customers/{customer}/{method}", post(call))
}

/// A field path: names with their index where the field is a list.
pub(super) type FieldPath = Vec<(String, Option<usize>)>;
/// One error of a failure: its code (`{"kind": "CODE"}`), message and field.
pub(super) type FailureEntry = (Value, String, Option<FieldPath>);

/// A `GoogleAdsFailure` body.
pub(super) fn failure(status: u16, state: &str, errors: Vec<FailureEntry>) -> Value {
    let errors: Vec<Value> = errors
        .into_iter()
        .map(|(code, message, path)| {
            let mut error = json!({"errorCode": code, "message": message});
            if let Some(path) = path {
                let elements: Vec<Value> = path
                    .into_iter()
                    .map(|(name, index)| match index {
                        Some(i) => json!({"fieldName": name, "index": i}),
                        None => json!({"fieldName": name}),
                    })
                    .collect();
                error["location"] = json!({"fieldPathElements": elements});
            }
            error
        })
        .collect();
    json!({"error": {"code": status, "message": "The request has failed.", "status": state, "details": [{
        "@type": format!("type.googleapis.com/google.ads.googleads.{}.errors.GoogleAdsFailure", crate::google::DEFAULT_VERSION),
        "errors": errors, "requestId": uuid::Uuid::new_v4().simple().to_string()}]}})
}

pub(super) fn refuse(status: u16, state: &str, kind: &str, code: &str, message: &str) -> Response {
    let body = failure(
        status,
        state,
        vec![(json!({kind: code}), message.into(), None)],
    );
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        Json(body),
    )
        .into_response()
}

async fn call(
    State(sandbox): State<Sandbox>,
    Path((_version, customer, method)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let Some(method) = method.strip_prefix("googleAds:").map(str::to_owned) else {
        return refuse(
            404,
            "NOT_FOUND",
            "requestError",
            "INVALID_INPUT",
            "Unknown method.",
        );
    };
    if !oauth::authorized(&sandbox, &headers) {
        return refuse(
            401,
            "UNAUTHENTICATED",
            "authenticationError",
            "OAUTH_TOKEN_INVALID",
            "Oauth token is invalid.",
        );
    }
    if headers.get("developer-token").is_none() {
        return refuse(
            401,
            "UNAUTHENTICATED",
            "authenticationError",
            "DEVELOPER_TOKEN_PARAMETER_MISSING",
            "Developer token parameter is missing.",
        );
    }
    if customer.len() != 10 || !customer.bytes().all(|b| b.is_ascii_digit()) {
        return refuse(
            400,
            "INVALID_ARGUMENT",
            "requestError",
            "INVALID_CUSTOMER_ID",
            "Invalid customer ID.",
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return refuse(
            400,
            "INVALID_ARGUMENT",
            "requestError",
            "INVALID_INPUT",
            "Invalid JSON payload received.",
        );
    };
    let mut world = sandbox.world();
    if !world.admit(&format!("google/{customer}")) {
        return refuse(
            429,
            "RESOURCE_EXHAUSTED",
            "quotaError",
            "RESOURCE_TEMPORARILY_EXHAUSTED",
            "Too many requests. Retry in 1 seconds.",
        );
    }
    let operations = match method.as_str() {
        "mutate" => body
            .get("mutateOperations")
            .and_then(Value::as_array)
            .map_or(0, Vec::len) as u64,
        _ => 1,
    };
    if world.operations_used + operations > world.operations_limit {
        return refuse(
            429,
            "RESOURCE_EXHAUSTED",
            "quotaError",
            "RESOURCE_EXHAUSTED",
            "Too many requests. Retry in 3600 seconds.",
        );
    }
    world.operations_used += operations;
    world.google.entry(customer.clone()).or_default();
    match method.as_str() {
        "mutate" => super::google_mutate::mutate(&mut world, &customer, &body),
        "searchStream" => super::google_search::search_stream(&world, &customer, &body),
        _ => refuse(
            404,
            "NOT_FOUND",
            "requestError",
            "INVALID_INPUT",
            "Unknown method.",
        ),
    }
}
