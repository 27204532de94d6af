//! GAQL `searchStream` on the sandbox: a resource's rows as flat `field → value` maps, filtered by
//! the query's conditions, with metrics from the market (segmented by date and hour when asked),
//! ordered, limited and nested back into Google's JSON shape (camelCase, int64 as strings).

use super::gaql::{self, Op};
use super::google::{refuse, AdGroup, Campaign, CampaignCriterion, Customer};
use super::search_term_view;
use super::World;
use crate::simulator::UnitHour;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};

fn query_error(code: &str, message: &str) -> Response {
    refuse(400, "INVALID_ARGUMENT", "queryError", code, message)
}

type Row = BTreeMap<String, Value>;
/// The campaign whose delivery a metric row sums, and the units (keywords) it sums.
type Delivery = (u64, Vec<String>);

fn id(v: u64) -> Value {
    Value::String(v.to_string())
}

fn campaign_fields(
    row: &mut Row,
    customer: &str,
    id_: u64,
    c: &Campaign,
    budgets: &BTreeMap<u64, (String, i64)>,
) {
    row.insert(
        "campaign.resource_name".into(),
        json!(format!("customers/{customer}/campaigns/{id_}")),
    );
    row.insert("campaign.id".into(), id(id_));
    row.insert("campaign.name".into(), json!(c.name));
    row.insert("campaign.status".into(), json!(c.status));
    row.insert("campaign.advertising_channel_type".into(), json!(c.channel));
    row.insert(
        "campaign.campaign_budget".into(),
        json!(format!("customers/{customer}/campaignBudgets/{}", c.budget)),
    );
    if let Some((_, amount)) = budgets.get(&c.budget) {
        row.insert(
            "campaign_budget.amount_micros".into(),
            json!(amount.to_string()),
        );
    }
}

/// Rows of a resource before metrics: flat `field → value`, and for metric rows the unit keys
/// (sandbox market keys) and the campaign whose delivery they come from.
fn rows(customer_id: &str, c: &Customer, resource: &str) -> Option<Vec<(Row, Option<Delivery>)>> {
    let mut out = Vec::new();
    let group_fields = |row: &mut Row, g: u64, group: &AdGroup| {
        row.insert(
            "ad_group.resource_name".into(),
            json!(format!("customers/{customer_id}/adGroups/{g}")),
        );
        row.insert("ad_group.id".into(), id(g));
        row.insert("ad_group.name".into(), json!(group.name));
        row.insert("ad_group.status".into(), json!(group.status));
        if let Some(bid) = group.cpc_bid_micros {
            row.insert("ad_group.cpc_bid_micros".into(), json!(bid.to_string()));
        }
        if let Some(campaign) = c.campaigns.get(&group.campaign) {
            campaign_fields(row, customer_id, group.campaign, campaign, &c.budgets);
        }
    };
    let unit = |g: u64, k: u64| format!("g/{customer_id}/{g}~{k}");
    match resource {
        "customer" => {
            let mut row = Row::new();
            row.insert("customer.id".into(), json!(customer_id));
            row.insert(
                "customer.resource_name".into(),
                json!(format!("customers/{customer_id}")),
            );
            row.insert(
                "customer.descriptive_name".into(),
                json!(format!("Sandbox customer {customer_id}")),
            );
            row.insert("customer.currency_code".into(), json!("USD"));
            out.push((row, None));
        }
        "campaign" => {
            for (cid, campaign) in &c.campaigns {
                let mut row = Row::new();
                campaign_fields(&mut row, customer_id, *cid, campaign, &c.budgets);
                let units = c
                    .criteria
                    .iter()
                    .filter(|((g, _), k)| {
                        !k.negative
                            && c.ad_groups
                                .get(g)
                                .is_some_and(|group| group.campaign == *cid)
                    })
                    .map(|((g, k), _)| unit(*g, *k))
                    .collect();
                out.push((row, Some((*cid, units))));
            }
        }
        "campaign_criterion" => {
            for ((cid, k), criterion) in &c.campaign_criteria {
                let mut row = Row::new();
                if let Some(campaign) = c.campaigns.get(cid) {
                    campaign_fields(&mut row, customer_id, *cid, campaign, &c.budgets);
                }
                row.insert(
                    "campaign_criterion.resource_name".into(),
                    json!(format!(
                        "customers/{customer_id}/campaignCriteria/{cid}~{k}"
                    )),
                );
                row.insert("campaign_criterion.criterion_id".into(), id(*k));
                match criterion {
                    CampaignCriterion::Location(l) => {
                        row.insert("campaign_criterion.type".into(), json!("LOCATION"));
                        row.insert(
                            "campaign_criterion.location.geo_target_constant".into(),
                            json!(l),
                        );
                    }
                    CampaignCriterion::Language(l) => {
                        row.insert("campaign_criterion.type".into(), json!("LANGUAGE"));
                        row.insert(
                            "campaign_criterion.language.language_constant".into(),
                            json!(l),
                        );
                    }
                    CampaignCriterion::Keyword {
                        text,
                        match_type,
                        negative,
                    } => {
                        row.insert("campaign_criterion.type".into(), json!("KEYWORD"));
                        row.insert("campaign_criterion.keyword.text".into(), json!(text));
                        row.insert(
                            "campaign_criterion.keyword.match_type".into(),
                            json!(match_type),
                        );
                        row.insert("campaign_criterion.negative".into(), json!(negative));
                    }
                    CampaignCriterion::AdSchedule {
                        day,
                        start_hour,
                        end_hour,
                        bid_modifier,
                    } => {
                        row.insert("campaign_criterion.type".into(), json!("AD_SCHEDULE"));
                        row.insert(
                            "campaign_criterion.ad_schedule.day_of_week".into(),
                            json!(day),
                        );
                        row.insert(
                            "campaign_criterion.ad_schedule.start_hour".into(),
                            json!(start_hour),
                        );
                        row.insert(
                            "campaign_criterion.ad_schedule.end_hour".into(),
                            json!(end_hour),
                        );
                        row.insert(
                            "campaign_criterion.bid_modifier".into(),
                            json!(bid_modifier),
                        );
                    }
                }
                out.push((row, None));
            }
        }
        "ad_group" => {
            for (g, group) in &c.ad_groups {
                let mut row = Row::new();
                group_fields(&mut row, *g, group);
                let units = c
                    .criteria
                    .iter()
                    .filter(|((gg, _), k)| gg == g && !k.negative)
                    .map(|((gg, k), _)| unit(*gg, *k))
                    .collect();
                out.push((row, Some((group.campaign, units))));
            }
        }
        "ad_group_criterion" | "keyword_view" | "search_term_view" => {
            for ((g, k), criterion) in &c.criteria {
                if resource != "ad_group_criterion" && criterion.negative {
                    continue;
                }
                let Some(group) = c.ad_groups.get(g) else {
                    continue;
                };
                let mut row = Row::new();
                group_fields(&mut row, *g, group);
                row.insert(
                    "ad_group_criterion.resource_name".into(),
                    json!(format!("customers/{customer_id}/adGroupCriteria/{g}~{k}")),
                );
                row.insert("ad_group_criterion.criterion_id".into(), id(*k));
                row.insert("ad_group_criterion.status".into(), json!(criterion.status));
                row.insert(
                    "ad_group_criterion.negative".into(),
                    json!(criterion.negative),
                );
                row.insert(
                    "ad_group_criterion.keyword.text".into(),
                    json!(criterion.text),
                );
                row.insert(
                    "ad_group_criterion.keyword.match_type".into(),
                    json!(criterion.match_type),
                );
                row.insert(
                    "keyword_view.resource_name".into(),
                    json!(format!("customers/{customer_id}/keywordViews/{g}~{k}")),
                );
                // What a search term row says of the keyword it matched.
                row.insert("segments.keyword.info.text".into(), json!(criterion.text));
                row.insert(
                    "segments.keyword.info.match_type".into(),
                    json!(criterion.match_type),
                );
                let units = if criterion.negative {
                    Vec::new()
                } else {
                    vec![unit(*g, *k)]
                };
                out.push((row, Some((group.campaign, units))));
            }
        }
        "ad_group_ad" => {
            for ((g, a), ad) in &c.ads {
                let Some(group) = c.ad_groups.get(g) else {
                    continue;
                };
                let mut row = Row::new();
                group_fields(&mut row, *g, group);
                row.insert(
                    "ad_group_ad.resource_name".into(),
                    json!(format!("customers/{customer_id}/adGroupAds/{g}~{a}")),
                );
                row.insert("ad_group_ad.ad.id".into(), id(*a));
                row.insert("ad_group_ad.status".into(), json!(ad.status));
                out.push((row, None));
            }
        }
        _ => return None,
    }
    Some(out)
}

/// `a_b.c_d` → `/aB/cD`
fn pointer(field: &str) -> Vec<String> {
    field
        .split('.')
        .map(|part| {
            let mut out = String::new();
            let mut upper = false;
            for ch in part.chars() {
                if ch == '_' {
                    upper = true;
                } else if upper {
                    out.extend(ch.to_uppercase());
                    upper = false;
                } else {
                    out.push(ch);
                }
            }
            out
        })
        .collect()
}

fn nest(row: &Row, fields: &[String]) -> Value {
    let mut root = Map::new();
    for field in fields {
        if let Some(value) = row.get(field) {
            insert(&mut root, &pointer(field), value.clone());
        }
    }
    Value::Object(root)
}

/// Puts `value` at `path` under `node`; a path through a value that is not an object (a field
/// selected together with one of its own parts) is left out rather than overwriting it.
fn insert(node: &mut Map<String, Value>, path: &[String], value: Value) {
    match path {
        [] => {}
        [last] => {
            node.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let child = node
                .entry(first.clone())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(child) = child.as_object_mut() {
                insert(child, rest, value);
            }
        }
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(super) fn search_stream(world: &World, customer_id: &str, body: &Value) -> Response {
    let Some(query) = body.get("query").and_then(Value::as_str) else {
        return query_error("UNEXPECTED_END_OF_QUERY", "The query is empty.");
    };
    let query = match gaql::parse(query) {
        Ok(query) => query,
        Err(message) => return query_error("BAD_VALUE", &message),
    };
    let customer = &world.google[customer_id];
    let Some(base) = rows(customer_id, customer, &query.resource) else {
        return query_error(
            "INVALID_RESOURCE_NAME",
            &format!("Unrecognized resource {}.", query.resource),
        );
    };
    let search_terms = query.resource == "search_term_view";
    // A search term exists only where it had impressions: the view is always read with metrics.
    let wants_metrics = search_terms || query.fields.iter().any(|f| f.starts_with("metrics."));
    let dates = query
        .conditions
        .iter()
        .find(|c| c.field == "segments.date" && c.op == Op::Between);
    let mut out: Vec<Row> = Vec::new();
    if wants_metrics {
        let Some(range) = dates else {
            return query_error(
                "EXPECTED_FILTERS_ON_DATE_RANGE",
                "A date range is required when metrics are selected.",
            );
        };
        let (Ok(from), Ok(to)) = (
            NaiveDate::parse_from_str(&range.values[0], "%Y-%m-%d"),
            NaiveDate::parse_from_str(&range.values[1], "%Y-%m-%d"),
        ) else {
            return query_error("INVALID_DATE", "Dates are YYYY-MM-DD.");
        };
        let by_hour = query.fields.iter().any(|f| f == "segments.hour");
        let by_date = by_hour || query.fields.iter().any(|f| f == "segments.date");
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
        let now = world.clock.now();
        let mut delivery: HashMap<u64, Vec<UnitHour>> = HashMap::new();
        for (row, metric) in base {
            if !query
                .conditions
                .iter()
                .filter(|c| {
                    !c.field.starts_with("segments.") && !c.field.starts_with("search_term_view.")
                })
                .all(|c| row.get(&c.field).is_some_and(|v| c.holds(&text(v))))
            {
                continue;
            }
            let Some((campaign, units)) = metric else {
                continue;
            };
            let hours = delivery.entry(campaign).or_insert_with(|| {
                world.market.campaign_hours(
                    &format!("g/{customer_id}/{campaign}"),
                    from_hour,
                    to_hour,
                    now,
                )
            });
            let mut buckets: BTreeMap<(String, Option<i64>, String), crate::simulator::Figures> =
                BTreeMap::new();
            let matched = search_terms.then(|| search_term_view::Matching::of(customer, &row));
            for hour in hours.iter().filter(|h| units.contains(&h.unit)) {
                let at: DateTime<Utc> =
                    DateTime::from_timestamp(hour.hour * 3600, 0).unwrap_or_default();
                let date = if by_date {
                    at.date_naive().to_string()
                } else {
                    String::new()
                };
                let h = by_hour.then(|| hour.hour.rem_euclid(24));
                match &matched {
                    Some(matching) => {
                        for term in matching.split(hour) {
                            buckets
                                .entry((date.clone(), h, term.text))
                                .or_default()
                                .add(&term.figures);
                        }
                    }
                    None => buckets
                        .entry((date, h, String::new()))
                        .or_default()
                        .add(&hour.figures),
                }
            }
            for ((date, hour, term), f) in buckets {
                let mut row = row.clone();
                if let Some(matching) = &matched {
                    matching.describe(&mut row, customer_id, &term);
                    if !query
                        .conditions
                        .iter()
                        .filter(|c| c.field.starts_with("search_term_view."))
                        .all(|c| row.get(&c.field).is_some_and(|v| c.holds(&text(v))))
                    {
                        continue;
                    }
                }
                if by_date {
                    row.insert("segments.date".into(), json!(date));
                }
                if let Some(hour) = hour {
                    row.insert("segments.hour".into(), json!(hour));
                }
                row.insert(
                    "metrics.impressions".into(),
                    json!(f.impressions.to_string()),
                );
                row.insert("metrics.clicks".into(), json!(f.clicks.to_string()));
                row.insert(
                    "metrics.cost_micros".into(),
                    json!(f.cost_micros.to_string()),
                );
                row.insert("metrics.conversions".into(), json!(f.conversions as f64));
                row.insert(
                    "metrics.conversions_value".into(),
                    json!(f.revenue_micros as f64 / 1e6),
                );
                out.push(row);
            }
        }
    } else {
        for (row, _) in base {
            if query.conditions.iter().all(|c| {
                row.get(&c.field).is_some_and(|v| c.holds(&text(v)))
                    || (c.op == Op::Ne && !row.contains_key(&c.field))
            }) {
                out.push(row);
            }
        }
    }
    if let Some((field, descending)) = &query.order_by {
        out.sort_by(|a, b| {
            let key = |r: &Row| r.get(field).map(text).unwrap_or_default();
            let (x, y) = (key(a), key(b));
            let ordering = match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
                _ => x.cmp(&y),
            };
            if *descending {
                ordering.reverse()
            } else {
                ordering
            }
        });
    }
    if let Some(limit) = query.limit {
        out.truncate(limit);
    }
    let mask = query
        .fields
        .iter()
        .map(|f| pointer(f).join("."))
        .collect::<Vec<_>>()
        .join(",");
    let batches: Vec<Value> = out
        .chunks(10_000)
        .map(|chunk| json!({"results": chunk.iter().map(|r| nest(r, &query.fields)).collect::<Vec<_>>(), "fieldMask": mask, "requestId": uuid::Uuid::new_v4().simple().to_string()}))
        .collect();
    let batches = if batches.is_empty() {
        vec![json!({"fieldMask": mask, "requestId": uuid::Uuid::new_v4().simple().to_string()})]
    } else {
        batches
    };
    Json(Value::Array(batches)).into_response()
}
