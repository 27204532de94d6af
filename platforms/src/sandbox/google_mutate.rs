//! `googleAds:mutate` on the sandbox: every operation checked against Google's rules (field paths
//! in the failure), temporary resource names resolved in order, and the whole request applied
//! atomically — or, with `validateOnly`, only checked. Created keywords and campaigns join the
//! market; status, budget and bid changes move its timelines.

use super::google::{refuse, Ad, AdGroup, Campaign, CampaignCriterion, Criterion, Customer};
use super::World;
use crate::simulator::{CampaignSim, UnitKind};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::HashMap;

use super::google::{FailureEntry, FieldPath};

/// Where an error is: the operation's index, its name and verb.
type At<'a> = (usize, &'a str, &'a str);

struct Errors(Vec<FailureEntry>);

/// What an applied mutate does to the market, run once the request is known to be valid.
type MarketChange = Box<dyn FnOnce(&mut World)>;

/// A change to the simulated campaign `key`, if the market has it.
fn on_campaign(key: String, change: impl FnOnce(&mut CampaignSim) + 'static) -> MarketChange {
    Box::new(move |w: &mut World| {
        if let Some(sim) = w.market.campaign_mut(&key) {
            change(sim)
        }
    })
}

impl Errors {
    fn push(
        &mut self,
        (kind, code): (&str, &str),
        message: impl Into<String>,
        (index, op, verb): At<'_>,
        field: &[&str],
    ) {
        let mut path: FieldPath = vec![
            ("mutate_operations".into(), Some(index)),
            (op.into(), None),
            (verb.into(), None),
        ];
        path.extend(field.iter().map(|f| ((*f).to_owned(), None)));
        self.0
            .push((json!({kind: code}), message.into(), Some(path)));
    }
}

fn snake(camel: &str) -> String {
    let mut out = String::new();
    for ch in camel.chars() {
        if ch.is_uppercase() {
            out.push('_');
            out.extend(ch.to_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

fn int(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn str_of<'a>(value: &'a Value, field: &str) -> &'a str {
    value.get(field).and_then(Value::as_str).unwrap_or_default()
}

/// The id at the end of a resource name (`customers/1/adGroups/-3` → -3; `…/12~34` → 34).
fn tail(name: &str) -> Option<i64> {
    name.rsplit(['/', '~']).next()?.parse().ok()
}

/// A campaign's bid modifier for each hour of the week from its ad schedule criteria: empty
/// without any (every hour at the plain bid), 0 in hours no schedule covers (no serving).
fn schedule_modifiers(
    criteria: &std::collections::BTreeMap<(u64, u64), CampaignCriterion>,
    campaign: u64,
) -> Vec<f64> {
    let schedules: Vec<(usize, u32, u32, f64)> = criteria
        .iter()
        .filter(|((c, _), _)| *c == campaign)
        .filter_map(|(_, k)| match k {
            CampaignCriterion::AdSchedule {
                day,
                start_hour,
                end_hour,
                bid_modifier,
            } => Some((
                crate::google::DAYS_OF_WEEK.iter().position(|d| d == day)?,
                *start_hour,
                *end_hour,
                *bid_modifier,
            )),
            _ => None,
        })
        .collect();
    if schedules.is_empty() {
        return Vec::new();
    }
    let mut modifiers = vec![0.0; 168];
    for (day, start, end, modifier) in schedules {
        for hour in start..end.min(24) {
            modifiers[day * 24 + hour as usize] = modifier;
        }
    }
    modifiers
}

/// An ad schedule criterion as Google checks it: a day, whole hours `0 ≤ start < end ≤ 24`
/// (minutes ZERO here), at most six a day per campaign, a bid modifier from 0.1 to 10.
fn ad_schedule(
    schedule: &Value,
    bid_modifier: Option<&Value>,
    existing: &std::collections::BTreeMap<(u64, u64), CampaignCriterion>,
    campaign: u64,
    errors: &mut Errors,
    at: (usize, &str, &str),
) -> Option<CampaignCriterion> {
    let day = str_of(schedule, "dayOfWeek");
    let hour = |field: &str| schedule.get(field).and_then(Value::as_u64);
    let (start, end) = (hour("startHour"), hour("endHour"));
    let minutes_zero = ["startMinute", "endMinute"]
        .iter()
        .all(|f| schedule.get(*f).and_then(Value::as_str) == Some("ZERO"));
    let (i, op, verb) = at;
    let (Some(start), Some(end)) = (start, end) else {
        errors.push(
            ("criterionError", "AD_SCHEDULE_INVALID_TIME_INTERVAL"),
            "startHour and endHour are required.",
            (i, op, verb),
            &["ad_schedule"],
        );
        return None;
    };
    if !crate::google::DAYS_OF_WEEK.contains(&day)
        || start > 23
        || end > 24
        || start >= end
        || !minutes_zero
    {
        errors.push(
            ("criterionError", "AD_SCHEDULE_INVALID_TIME_INTERVAL"),
            "A day of the week and whole hours with 0 ≤ start < end ≤ 24.",
            (i, op, verb),
            &["ad_schedule"],
        );
        return None;
    }
    let same_day = existing
        .iter()
        .filter(|((c, _), k)| {
            *c == campaign && matches!(k, CampaignCriterion::AdSchedule { day: d, .. } if d == day)
        })
        .count();
    if same_day >= 6 {
        errors.push(
            (
                "criterionError",
                "AD_SCHEDULE_EXCEEDED_INTERVALS_PER_DAY_LIMIT",
            ),
            "No more than six ad schedules can be added for the same day.",
            (i, op, verb),
            &["ad_schedule"],
        );
        return None;
    }
    let modifier = bid_modifier.and_then(Value::as_f64).unwrap_or(1.0);
    if !(0.1..=10.0).contains(&modifier) {
        errors.push(
            ("criterionError", "INVALID_CRITERION_BID_MODIFIER_VALUE"),
            "A bid modifier from 0.1 to 10.",
            (i, op, verb),
            &["bid_modifier"],
        );
        return None;
    }
    Some(CampaignCriterion::AdSchedule {
        day: day.to_owned(),
        start_hour: start as u32,
        end_hour: end as u32,
        bid_modifier: modifier,
    })
}

fn check_keyword(keyword: &Value, errors: &mut Errors, at: (usize, &str, &str)) {
    let text = str_of(keyword, "text");
    let (i, op, verb) = at;
    if text.trim().is_empty() {
        errors.push(
            ("criterionError", "KEYWORD_TEXT_TOO_SHORT"),
            "The keyword text is empty.",
            (i, op, verb),
            &["keyword", "text"],
        );
    }
    if text.chars().count() > 80 {
        errors.push(
            ("criterionError", "KEYWORD_TEXT_TOO_LONG"),
            "Keyword text is longer than 80 characters.",
            (i, op, verb),
            &["keyword", "text"],
        );
    }
    if text.split_whitespace().count() > 10 {
        errors.push(
            ("criterionError", "KEYWORD_HAS_TOO_MANY_WORDS"),
            "Keyword has more than 10 words.",
            (i, op, verb),
            &["keyword", "text"],
        );
    }
    if text.chars().any(|c| "!@%^*()={};~`<>?\\|".contains(c)) {
        errors.push(
            ("criterionError", "KEYWORD_HAS_INVALID_CHARS"),
            "Keyword contains invalid characters.",
            (i, op, verb),
            &["keyword", "text"],
        );
    }
    if !matches!(str_of(keyword, "matchType"), "EXACT" | "PHRASE" | "BROAD") {
        errors.push(
            ("criterionError", "INVALID_MATCH_TYPE"),
            "Unknown match type.",
            (i, op, verb),
            &["keyword", "match_type"],
        );
    }
}

fn check_texts(
    texts: Option<&Value>,
    (min, max, len): (usize, usize, usize),
    errors: &mut Errors,
    at: (usize, &str, &str),
    field: &str,
) {
    let list = texts.and_then(Value::as_array).cloned().unwrap_or_default();
    let (i, op, verb) = at;
    if list.len() < min {
        errors.push(
            ("collectionSizeError", "TOO_FEW"),
            format!("At least {min} {field}."),
            (i, op, verb),
            &["ad", "responsive_search_ad", field],
        );
    }
    if list.len() > max {
        errors.push(
            ("collectionSizeError", "TOO_MANY"),
            format!("At most {max} {field}."),
            (i, op, verb),
            &["ad", "responsive_search_ad", field],
        );
    }
    for (n, text) in list.iter().enumerate() {
        if str_of(text, "text").chars().count() > len {
            errors.0.push((
                json!({"stringLengthError": "TOO_LONG"}),
                format!("Too long: at most {len} characters."),
                Some(vec![
                    ("mutate_operations".into(), Some(i)),
                    (op.into(), None),
                    (verb.into(), None),
                    ("ad".into(), None),
                    ("responsive_search_ad".into(), None),
                    (field.into(), Some(n)),
                    ("text".into(), None),
                ]),
            ));
        }
    }
}

pub(super) fn mutate(world: &mut World, customer_id: &str, body: &Value) -> Response {
    let operations = body
        .get("mutateOperations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let validate_only = body.get("validateOnly").and_then(Value::as_bool) == Some(true);
    if operations.is_empty() {
        return refuse(
            400,
            "INVALID_ARGUMENT",
            "mutateError",
            "EMPTY_OPERATIONS",
            "No operations in the request.",
        );
    }
    if operations.len() > crate::google::MAX_OPERATIONS_PER_REQUEST {
        return refuse(
            400,
            "INVALID_ARGUMENT",
            "requestError",
            "TOO_MANY_MUTATE_OPERATIONS",
            "Too many mutate operations in one request.",
        );
    }
    let mut next_id = world.next_id;
    let mut id = || {
        next_id += 1;
        next_id
    };
    let mut customer: Customer = world.google[customer_id].clone();
    let mut temps: HashMap<i64, u64> = HashMap::new();
    let mut errors = Errors(Vec::new());
    let mut results = Vec::new();
    let mut market_changes: Vec<MarketChange> = Vec::new();
    // Campaigns whose ad schedule this request touched.
    let mut schedules_touched: std::collections::BTreeSet<u64> = Default::default();
    let now = world.clock.now();
    let resolve = |temps: &HashMap<i64, u64>, name: &str| -> Option<u64> {
        let t = tail(name)?;
        if t < 0 {
            temps.get(&t).copied()
        } else {
            Some(t as u64)
        }
    };
    for (i, operation) in operations.iter().enumerate() {
        let Some((op, inner)) = operation.as_object().and_then(|o| o.iter().next()) else {
            errors.push(
                ("mutateError", "MUTATE_NOT_ALLOWED"),
                "An empty operation.",
                (i, "operation", ""),
                &[],
            );
            continue;
        };
        let op_snake = snake(op);
        let (verb, resource) = if let Some(create) = inner.get("create") {
            ("create", create)
        } else if let Some(update) = inner.get("update") {
            ("update", update)
        } else if let Some(remove) = inner.get("remove") {
            ("remove", remove)
        } else {
            errors.push(
                ("mutateError", "MUTATE_NOT_ALLOWED"),
                "Only create, update and remove are supported.",
                (i, &op_snake, "operation"),
                &[],
            );
            continue;
        };
        let at = (i, op_snake.as_str(), verb);
        let mut define = |temps: &mut HashMap<i64, u64>, errors: &mut Errors| -> u64 {
            let new = id();
            if let Some(t) = resource
                .get("resourceName")
                .and_then(Value::as_str)
                .and_then(tail)
            {
                if t < 0 && temps.insert(t, new).is_some() {
                    errors.push(
                        ("mutateError", "DUPLICATE_TEMP_ID"),
                        "A temporary id is used twice.",
                        (i, &op_snake, verb),
                        &["resource_name"],
                    );
                }
            }
            new
        };
        let result_key = format!("{}Result", op.trim_end_matches("Operation"));
        let name_of = |kind: &str, id: String| json!({&result_key: {"resourceName": format!("customers/{customer_id}/{kind}/{id}")}});
        match (op.as_str(), verb) {
            ("campaignBudgetOperation", "create") => {
                let amount = int(resource.get("amountMicros")).unwrap_or(0);
                if amount <= 0 {
                    errors.push(
                        ("campaignBudgetError", "MONEY_AMOUNT_TOO_SMALL"),
                        "The budget amount is too small.",
                        (i, &op_snake, verb),
                        &["amount_micros"],
                    );
                } else if amount % 10_000 != 0 {
                    errors.push(
                        (
                            "campaignBudgetError",
                            "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT",
                        ),
                        "The budget is not a multiple of the currency's minimum unit.",
                        (i, &op_snake, verb),
                        &["amount_micros"],
                    );
                }
                let new = define(&mut temps, &mut errors);
                customer
                    .budgets
                    .insert(new, (str_of(resource, "name").to_owned(), amount));
                results.push(name_of("campaignBudgets", new.to_string()));
            }
            ("campaignBudgetOperation", "update") => {
                let amount = int(resource.get("amountMicros")).unwrap_or(0);
                match resolve(&temps, str_of(resource, "resourceName"))
                    .and_then(|b| customer.budgets.get_mut(&b).map(|x| (b, x)))
                {
                    Some((b, budget)) if amount > 0 && amount % 10_000 == 0 => {
                        budget.1 = amount;
                        let keys: Vec<String> = customer
                            .campaigns
                            .iter()
                            .filter(|(_, c)| c.budget == b)
                            .map(|(c, _)| format!("g/{customer_id}/{c}"))
                            .collect();
                        market_changes.push(Box::new(move |w: &mut World| {
                            for key in keys {
                                if let Some(c) = w.market.campaign_mut(&key) {
                                    c.daily_budget_micros.set(now, amount)
                                }
                            }
                        }));
                        results.push(name_of("campaignBudgets", b.to_string()));
                    }
                    Some(_) => errors.push(
                        (
                            "campaignBudgetError",
                            "NON_MULTIPLE_OF_MINIMUM_CURRENCY_UNIT",
                        ),
                        "A positive multiple of 10000 micros.",
                        (i, &op_snake, verb),
                        &["amount_micros"],
                    ),
                    None => errors.push(
                        ("mutateError", "RESOURCE_NOT_FOUND"),
                        "The budget does not exist.",
                        (i, &op_snake, verb),
                        &["resource_name"],
                    ),
                }
            }
            ("campaignOperation", "create") => {
                let name = str_of(resource, "name");
                if name.trim().is_empty() || name.chars().count() > 255 {
                    errors.push(
                        (
                            "stringLengthError",
                            if name.is_empty() { "EMPTY" } else { "TOO_LONG" },
                        ),
                        "A campaign name has 1 to 255 characters.",
                        (i, &op_snake, verb),
                        &["name"],
                    );
                }
                if customer
                    .campaigns
                    .values()
                    .any(|c| c.name == name && c.status != "REMOVED")
                {
                    errors.push(
                        ("campaignError", "DUPLICATE_CAMPAIGN_NAME"),
                        "Campaign with the same name already exists.",
                        (i, &op_snake, verb),
                        &["name"],
                    );
                }
                let budget = resolve(&temps, str_of(resource, "campaignBudget"))
                    .filter(|b| customer.budgets.contains_key(b));
                if budget.is_none() {
                    errors.push(
                        ("mutateError", "RESOURCE_NOT_FOUND"),
                        "The campaign budget does not exist.",
                        (i, &op_snake, verb),
                        &["campaign_budget"],
                    );
                }
                if ![
                    "manualCpc",
                    "maximizeConversions",
                    "maximizeConversionValue",
                    "targetSpend",
                ]
                .iter()
                .any(|s| resource.get(*s).is_some())
                {
                    errors.push(
                        (
                            "biddingError",
                            "BIDDING_STRATEGY_AND_BUDGET_MUST_BE_ALIGNED",
                        ),
                        "A bidding strategy is required.",
                        (i, &op_snake, verb),
                        &[],
                    );
                }
                let status = str_of(resource, "status");
                let status = if status.is_empty() { "ENABLED" } else { status }.to_owned();
                let new = define(&mut temps, &mut errors);
                let daily = budget
                    .and_then(|b| customer.budgets.get(&b))
                    .map(|b| b.1)
                    .unwrap_or(0);
                customer.campaigns.insert(
                    new,
                    Campaign {
                        name: name.to_owned(),
                        status: status.clone(),
                        budget: budget.unwrap_or(0),
                        channel: str_of(resource, "advertisingChannelType").to_owned(),
                    },
                );
                let key = format!("g/{customer_id}/{new}");
                market_changes.push(Box::new(move |w: &mut World| {
                    w.market.add_campaign(&key, now, daily, status == "ENABLED")
                }));
                results.push(name_of("campaigns", new.to_string()));
            }
            ("campaignOperation", "update") => {
                let target = resolve(&temps, str_of(resource, "resourceName"));
                let Some((c, campaign)) =
                    target.and_then(|c| customer.campaigns.get_mut(&c).map(|x| (c, x)))
                else {
                    errors.push(
                        ("mutateError", "RESOURCE_NOT_FOUND"),
                        "The campaign does not exist.",
                        (i, &op_snake, verb),
                        &["resource_name"],
                    );
                    continue;
                };
                if let Some(status) = resource.get("status").and_then(Value::as_str) {
                    if !matches!(status, "ENABLED" | "PAUSED" | "REMOVED") {
                        errors.push(
                            ("fieldError", "INVALID_VALUE"),
                            "Unknown status.",
                            (i, &op_snake, verb),
                            &["status"],
                        );
                    }
                    campaign.status = status.to_owned();
                    let (key, active) = (format!("g/{customer_id}/{c}"), status == "ENABLED");
                    market_changes.push(on_campaign(key, move |sim| sim.active.set(now, active)));
                }
                results.push(name_of("campaigns", c.to_string()));
            }
            ("campaignCriterionOperation", "create") => {
                let Some(campaign) = resolve(&temps, str_of(resource, "campaign"))
                    .filter(|c| customer.campaigns.contains_key(c))
                else {
                    errors.push(
                        ("mutateError", "RESOURCE_NOT_FOUND"),
                        "The campaign does not exist.",
                        (i, &op_snake, verb),
                        &["campaign"],
                    );
                    continue;
                };
                let criterion = if let Some(l) = resource
                    .pointer("/location/geoTargetConstant")
                    .and_then(Value::as_str)
                {
                    CampaignCriterion::Location(l.to_owned())
                } else if let Some(l) = resource
                    .pointer("/language/languageConstant")
                    .and_then(Value::as_str)
                {
                    CampaignCriterion::Language(l.to_owned())
                } else if let Some(schedule) = resource.get("adSchedule") {
                    let Some(criterion) = ad_schedule(
                        schedule,
                        resource.get("bidModifier"),
                        &customer.campaign_criteria,
                        campaign,
                        &mut errors,
                        at,
                    ) else {
                        continue;
                    };
                    schedules_touched.insert(campaign);
                    criterion
                } else if let Some(keyword) = resource.get("keyword") {
                    check_keyword(keyword, &mut errors, at);
                    let negative = resource.get("negative").and_then(Value::as_bool) == Some(true);
                    if negative {
                        let key = format!("g/{customer_id}/{campaign}");
                        market_changes.push(on_campaign(key, move |sim| {
                            let n = sim.negatives.at(now);
                            sim.negatives.set(now, n + 1);
                        }));
                    }
                    CampaignCriterion::Keyword {
                        text: str_of(keyword, "text").to_owned(),
                        match_type: str_of(keyword, "matchType").to_owned(),
                        negative,
                    }
                } else {
                    errors.push(
                        ("criterionError", "CRITERION_TYPE_NOT_SUPPORTED"),
                        "A location, language or keyword criterion.",
                        (i, &op_snake, verb),
                        &[],
                    );
                    continue;
                };
                let new = id();
                customer
                    .campaign_criteria
                    .insert((campaign, new), criterion);
                results.push(name_of("campaignCriteria", format!("{campaign}~{new}")));
            }
            ("campaignCriterionOperation", "remove") => {
                let key = resource
                    .as_str()
                    .and_then(|name| name.rsplit('/').next())
                    .and_then(|tail| tail.split_once('~'))
                    .and_then(|(c, k)| Some((c.parse::<u64>().ok()?, k.parse::<u64>().ok()?)));
                match key.filter(|k| customer.campaign_criteria.contains_key(k)) {
                    Some(key) => {
                        if matches!(
                            customer.campaign_criteria.remove(&key),
                            Some(CampaignCriterion::AdSchedule { .. })
                        ) {
                            schedules_touched.insert(key.0);
                        }
                        results.push(name_of("campaignCriteria", format!("{}~{}", key.0, key.1)));
                    }
                    None => errors.push(
                        ("mutateError", "RESOURCE_NOT_FOUND"),
                        "The campaign criterion does not exist.",
                        (i, &op_snake, verb),
                        &[],
                    ),
                }
            }
            ("adGroupOperation", "create") => {
                let name = str_of(resource, "name");
                let Some(campaign) = resolve(&temps, str_of(resource, "campaign"))
                    .filter(|c| customer.campaigns.contains_key(c))
                else {
                    errors.push(
                        ("mutateError", "RESOURCE_NOT_FOUND"),
                        "The campaign does not exist.",
                        (i, &op_snake, verb),
                        &["campaign"],
                    );
                    continue;
                };
                if name.trim().is_empty() || name.chars().count() > 255 {
                    errors.push(
                        ("stringLengthError", "TOO_LONG"),
                        "An ad group name has 1 to 255 characters.",
                        (i, &op_snake, verb),
                        &["name"],
                    );
                }
                if customer
                    .ad_groups
                    .values()
                    .any(|g| g.campaign == campaign && g.name == name && g.status != "REMOVED")
                {
                    errors.push(
                        ("adGroupError", "DUPLICATE_ADGROUP_NAME"),
                        "AdGroup with the same name already exists for the campaign.",
                        (i, &op_snake, verb),
                        &["name"],
                    );
                }
                let bid = int(resource.get("cpcBidMicros"));
                let new = define(&mut temps, &mut errors);
                customer.ad_groups.insert(
                    new,
                    AdGroup {
                        campaign,
                        name: name.to_owned(),
                        status: "ENABLED".into(),
                        cpc_bid_micros: bid,
                    },
                );
                if let Some(bid) = bid {
                    let key = format!("g/{customer_id}/{campaign}");
                    market_changes.push(on_campaign(key, move |sim| {
                        sim.max_cpc_micros.set(now, Some(bid))
                    }));
                }
                results.push(name_of("adGroups", new.to_string()));
            }
            ("adGroupOperation", "update") => {
                let Some((g, group)) = resolve(&temps, str_of(resource, "resourceName"))
                    .and_then(|g| customer.ad_groups.get_mut(&g).map(|x| (g, x)))
                else {
                    errors.push(
                        ("mutateError", "RESOURCE_NOT_FOUND"),
                        "The ad group does not exist.",
                        (i, &op_snake, verb),
                        &["resource_name"],
                    );
                    continue;
                };
                if let Some(bid) = int(resource.get("cpcBidMicros")) {
                    if bid <= 0 || bid % 10_000 != 0 {
                        errors.push(
                            ("adGroupError", "BID_TOO_SMALL"),
                            "A positive multiple of 10000 micros.",
                            (i, &op_snake, verb),
                            &["cpc_bid_micros"],
                        );
                    }
                    group.cpc_bid_micros = Some(bid);
                    let key = format!("g/{customer_id}/{}", group.campaign);
                    market_changes.push(on_campaign(key, move |sim| {
                        sim.max_cpc_micros.set(now, Some(bid))
                    }));
                }
                if let Some(status) = resource.get("status").and_then(Value::as_str) {
                    group.status = status.to_owned();
                }
                results.push(name_of("adGroups", g.to_string()));
            }
            ("adGroupCriterionOperation", "create") => {
                let Some(group) = resolve(&temps, str_of(resource, "adGroup"))
                    .filter(|g| customer.ad_groups.contains_key(g))
                else {
                    errors.push(
                        ("mutateError", "RESOURCE_NOT_FOUND"),
                        "The ad group does not exist.",
                        (i, &op_snake, verb),
                        &["ad_group"],
                    );
                    continue;
                };
                let keyword = resource.get("keyword").cloned().unwrap_or(Value::Null);
                check_keyword(&keyword, &mut errors, at);
                let negative = resource.get("negative").and_then(Value::as_bool) == Some(true);
                let new = id();
                customer.criteria.insert(
                    (group, new),
                    Criterion {
                        text: str_of(&keyword, "text").to_owned(),
                        match_type: str_of(&keyword, "matchType").to_owned(),
                        negative,
                        status: "ENABLED".into(),
                    },
                );
                results.push(name_of("adGroupCriteria", format!("{group}~{new}")));
            }
            ("adGroupAdOperation", "create") => {
                let Some(group) = resolve(&temps, str_of(resource, "adGroup"))
                    .filter(|g| customer.ad_groups.contains_key(g))
                else {
                    errors.push(
                        ("mutateError", "RESOURCE_NOT_FOUND"),
                        "The ad group does not exist.",
                        (i, &op_snake, verb),
                        &["ad_group"],
                    );
                    continue;
                };
                let rsa = resource
                    .pointer("/ad/responsiveSearchAd")
                    .cloned()
                    .unwrap_or(Value::Null);
                check_texts(
                    rsa.get("headlines"),
                    (3, 15, 30),
                    &mut errors,
                    at,
                    "headlines",
                );
                check_texts(
                    rsa.get("descriptions"),
                    (2, 4, 90),
                    &mut errors,
                    at,
                    "descriptions",
                );
                if resource
                    .pointer("/ad/finalUrls")
                    .and_then(Value::as_array)
                    .is_none_or(Vec::is_empty)
                {
                    errors.push(
                        ("adError", "FINAL_URLS_MISSING"),
                        "An ad needs a final URL.",
                        (i, &op_snake, verb),
                        &["ad", "final_urls"],
                    );
                }
                let headlines = rsa
                    .get("headlines")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|h| str_of(h, "text").to_owned())
                    .collect();
                let new = id();
                customer.ads.insert(
                    (group, new),
                    Ad {
                        status: "ENABLED".into(),
                        headlines,
                    },
                );
                results.push(name_of("adGroupAds", format!("{group}~{new}")));
            }
            ("adGroupAdOperation", "update") => {
                let name = str_of(resource, "resourceName");
                let key = name
                    .rsplit('/')
                    .next()
                    .and_then(|k| k.split_once('~'))
                    .and_then(|(g, a)| Some((g.parse().ok()?, a.parse().ok()?)));
                let Some(ad) = key.and_then(|k| customer.ads.get_mut(&k)) else {
                    errors.push(
                        ("mutateError", "RESOURCE_NOT_FOUND"),
                        "The ad does not exist.",
                        (i, &op_snake, verb),
                        &["resource_name"],
                    );
                    continue;
                };
                if let Some(status) = resource.get("status").and_then(Value::as_str) {
                    ad.status = status.to_owned();
                }
                results.push(json!({&result_key: {"resourceName": name}}));
            }
            _ => errors.push(
                ("mutateError", "MUTATE_NOT_ALLOWED"),
                format!("{op} {verb} is not supported by the sandbox."),
                (i, &op_snake, verb),
                &[],
            ),
        }
    }
    // The market serves a scheduled campaign only within its schedules, at their modifiers.
    for campaign in schedules_touched {
        let modifiers = schedule_modifiers(&customer.campaign_criteria, campaign);
        let key = format!("g/{customer_id}/{campaign}");
        market_changes.push(on_campaign(key, move |sim| {
            sim.bid_modifiers.set(now, modifiers)
        }));
    }
    if !errors.0.is_empty() {
        let body = super::google::failure(400, "INVALID_ARGUMENT", errors.0);
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    if validate_only {
        return Json(json!({})).into_response();
    }
    // Keywords created now join the market, with their ad group's ad copy.
    let before = &world.google[customer_id];
    let new_keywords: Vec<(String, String, u8, String)> = customer
        .criteria
        .iter()
        .filter(|(k, c)| !c.negative && !before.criteria.contains_key(k))
        .filter_map(|((g, k), c)| {
            let group = customer.ad_groups.get(g)?;
            let copy = customer
                .ads
                .iter()
                .find(|((ag, _), _)| ag == g)
                .map(|(_, ad)| ad.headlines.join(" | "))
                .unwrap_or_else(|| c.text.clone());
            let match_type = match c.match_type.as_str() {
                "EXACT" => 0,
                "PHRASE" => 1,
                _ => 2,
            };
            Some((
                format!("g/{customer_id}/{g}~{k}"),
                format!("g/{customer_id}/{}", group.campaign),
                match_type,
                copy,
            ))
        })
        .collect();
    world.next_id = next_id;
    world.google.insert(customer_id.to_owned(), customer);
    for change in market_changes {
        change(world);
    }
    for (unit, campaign, match_type, copy) in new_keywords {
        world.market.add_unit(
            &unit,
            &campaign,
            UnitKind::Keyword { match_type },
            &copy,
            1.0,
            now,
        );
    }
    Json(json!({"mutateOperationResponses": results})).into_response()
}
