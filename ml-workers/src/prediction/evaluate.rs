//! The predictor scored on the market simulator: simulated campaigns (Google keywords in ad
//! groups, LinkedIn creatives), each aimed at an audience segment with an offer per ad group, run
//! three weeks that train and a fourth that is held out; bids and negative keywords change along
//! the way, and new keywords and new campaigns start in the fourth week (the cold start). How well
//! an offer speaks to a segment is a hidden low-rank affinity that shapes the true rates (the
//! simulator's targeting fit), and so is what a keyword's words say its searcher wants: buyers'
//! words ("pricing", "vendors", "demo") convert among decision-makers and learners' words
//! ("tutorial", "api docs", "for beginners") among practitioners, each the other way round in the
//! other audience. The models see the words and the segment's name, never the intent or the
//! audience's role; the new keywords of the fourth week use wordings the first three never showed.
//! Every held-out row is scored by logistic regression, the factorisation machine and the oracle
//! that knows each unit's true rates (and when an anomaly bent them).

use super::features::{Observation, Target};
use super::metrics::{self, RateScore, Scored};
use super::model::{Architecture, Inputs, TrainOptions};
use super::text::TextVectors;
use super::{train_rate, Estimate, RateEstimator};
use crate::MlError;
use adflow_platforms::simulator::rng::{key_hash, Draws};
use adflow_platforms::simulator::{
    hour_of_week_factor, AnomalyKind, GroundTruth, Market, UnitKind,
};
use chrono::{Duration, TimeZone, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tch::Device;

const TRAIN_DAYS: i64 = 21;
const TEST_DAYS: i64 = 7;
const VALIDATION_DAYS: i64 = 4;
/// Who an audience segment is, which the models never see: decision-makers buy, practitioners
/// try things out first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    DecisionMaker,
    Practitioner,
}

/// Audience segments the simulated campaigns aim at: the name the models see, the role they do not.
const SEGMENTS: [(&str, Role); 6] = [
    ("finance leaders at mid-market firms", Role::DecisionMaker),
    ("vice presidents of sales", Role::DecisionMaker),
    ("IT directors", Role::DecisionMaker),
    ("data engineers", Role::Practitioner),
    ("platform engineers", Role::Practitioner),
    ("marketing operations specialists", Role::Practitioner),
];
/// What the simulated campaigns offer: an ad group's theme and its keywords' stem.
const OFFERS: [&str; 5] = [
    "cloud cost management",
    "sales pipeline forecasting",
    "data pipeline monitoring",
    "contract lifecycle management",
    "marketing attribution",
];

/// What a keyword's words say its searcher wants (hidden; the models see the words).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    Buying,
    Learning,
    Plain,
}

/// Keyword wordings (`{}` is the offer) and their intent: the first three weeks' keywords use
/// these.
const WORDINGS: [(&str, Intent); 21] = [
    ("{} pricing", Intent::Buying),
    ("{} software vendors", Intent::Buying),
    ("best {} software", Intent::Buying),
    ("{} demo", Intent::Buying),
    ("enterprise {} platform", Intent::Buying),
    ("{} cost comparison", Intent::Buying),
    ("buy {} tool", Intent::Buying),
    ("how to do {}", Intent::Learning),
    ("{} tutorial", Intent::Learning),
    ("{} api docs", Intent::Learning),
    ("open source {}", Intent::Learning),
    ("{} examples", Intent::Learning),
    ("{} best practices", Intent::Learning),
    ("learn {}", Intent::Learning),
    ("{}", Intent::Plain),
    ("{} tool", Intent::Plain),
    ("{} platform", Intent::Plain),
    ("{} software", Intent::Plain),
    ("{} solution", Intent::Plain),
    ("{} system", Intent::Plain),
    ("{} service", Intent::Plain),
];
/// Wordings only the fourth week's new keywords use: what the words must carry to a keyword the
/// models have never seen.
const NEW_WORDINGS: [(&str, Intent); 7] = [
    ("{} price quote", Intent::Buying),
    ("{} vendor shortlist", Intent::Buying),
    ("{} licensing costs", Intent::Buying),
    ("{} step by step guide", Intent::Learning),
    ("{} github repo", Intent::Learning),
    ("{} for beginners", Intent::Learning),
    ("{} app", Intent::Plain),
];
/// A LinkedIn creative's headline by intent (`{}` is the offer).
const HEADLINES: [(&str, Intent); 6] = [
    ("See {} pricing for your team", Intent::Buying),
    ("Book a {} demo this week", Intent::Buying),
    ("A hands-on guide to {}", Intent::Learning),
    ("{}: the practitioner's handbook", Intent::Learning),
    ("{} for modern teams", Intent::Plain),
    ("Rethink {}", Intent::Plain),
];
/// Google ad headlines of an ad group (`{}` is the offer).
const AD_COPY: [&str; 4] = [
    "{} that pays for itself",
    "Try our {} free",
    "{} built for scale",
    "Smarter {} for B2B teams",
];

/// How much more (or less) a unit of this intent converts among this audience: the hidden
/// interaction of words and audience.
fn intent_fit(intent: Intent, role: Role) -> f64 {
    match (intent, role) {
        (Intent::Buying, Role::DecisionMaker) | (Intent::Learning, Role::Practitioner) => 1.9,
        (Intent::Buying, Role::Practitioner) | (Intent::Learning, Role::DecisionMaker) => 0.5,
        (Intent::Plain, _) => 1.0,
    }
}

fn worded(wording: &str, offer: &str) -> String {
    wording.replace("{}", offer)
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetEvaluation {
    pub target: Target,
    pub test_rows: usize,
    pub test_trials: f64,
    pub logistic: RateScore,
    pub model: RateScore,
    /// The factorisation machine with one of its inputs taken away: what that input adds.
    pub ablations: Vec<Ablation>,
    pub oracle: RateScore,
    /// Our AUC over the oracle's.
    pub auc_ratio_to_oracle: f64,
    pub logistic_auc_ratio_to_oracle: f64,
    /// Log loss on units that had no history before the test week.
    pub cold_start_log_loss: ColdStart,
    /// Share of held-out units whose true rate lies within their 90 % interval.
    pub interval_coverage_of_truth: f64,
    pub mean_interval_width: f64,
}

#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ColdStart {
    pub units: usize,
    pub logistic: f64,
    pub model: f64,
    pub oracle: f64,
}

/// The factorisation machine trained without some of its inputs.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ablation {
    /// What it lacks: `without the words`, `without the click model`, ….
    pub name: String,
    pub score: RateScore,
    pub cold_start_log_loss: f64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PredictionEvaluation {
    pub seed: u64,
    pub campaigns: usize,
    pub units: usize,
    pub device: String,
    /// The text encoder the models read words through; `None`: hashed fields only.
    pub text_encoder: Option<String>,
    pub train_seconds: f64,
    pub targets: Vec<TargetEvaluation>,
}

/// Everything one simulated market produced, with the truths to score against.
pub struct SimulatedHistory {
    pub hourly: Vec<Observation>,
    pub daily: Vec<Observation>,
    /// The true probability of each row of `hourly` and `daily`.
    pub hourly_truth: Vec<f64>,
    pub daily_truth: Vec<f64>,
    /// Units first live in the test week.
    pub new_units: Vec<String>,
    pub first_day: i64,
    pub units: usize,
}

struct UnitPlan {
    key: String,
    ad_group: String,
    campaign: String,
    theme: String,
    copy: String,
    keyword: String,
    segment: String,
    kind: String,
    match_type: Option<u8>,
}

/// Simulates `campaigns` campaigns for four weeks from 2026-01-05.
pub fn simulate(seed: u64, campaigns: usize) -> SimulatedHistory {
    let start = Utc
        .with_ymd_and_hms(2026, 1, 5, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let first_day = start.timestamp().div_euclid(86_400);
    let mut market = Market::new(seed);
    let mut draws = Draws::new(key_hash(seed, "prediction-eval"), 0, 0);
    let mut plans: Vec<UnitPlan> = Vec::new();
    let mut new_units = Vec::new();
    // (campaign, day from which, negatives, max cpc)
    // Ordered: the rows' order (and so each training run) must not depend on a hasher's seed.
    let mut knobs: BTreeMap<String, Vec<(i64, u32, Option<i64>)>> = BTreeMap::new();
    // How well each offer speaks to each audience segment: low-rank and hidden (the models see
    // only segment and offer names). A segment and an offer each met before, but never together,
    // is what a new campaign brings: the cold start that interactions can carry.
    let factors = |draws: &mut Draws, n: usize| -> Vec<[f64; 2]> {
        (0..n)
            .map(|_| [0.6 * draws.normal(), 0.6 * draws.normal()])
            .collect()
    };
    let segments = factors(&mut draws, SEGMENTS.len());
    let offers = factors(&mut draws, OFFERS.len());
    let affinity = |s: usize, o: usize| {
        (segments[s][0] * offers[o][0] + segments[s][1] * offers[o][1])
            .exp()
            .clamp(0.2, 3.0)
    };
    for c in 0..campaigns {
        let campaign = format!("c{c}");
        let linkedin = c % 4 == 3;
        // One campaign in five starts in the held-out week.
        let created = if c % 5 == 4 {
            start + Duration::days(TRAIN_DAYS)
        } else {
            start
        };
        let segment = (draws.uniform() * SEGMENTS.len() as f64) as usize % SEGMENTS.len();
        let (segment_name, role) = SEGMENTS[segment];
        let budget = (150.0 + 650.0 * draws.uniform()) * 1e6;
        market.add_campaign(&campaign, created, budget as i64, true);
        // Campaigns aimed at one segment share its hour-of-week rhythm.
        market.set_audience(&campaign, segment_name);
        let mut changes = vec![(0, 0, None)];
        if !linkedin && created == start {
            for _ in 0..2 {
                let day = (draws.uniform() * TRAIN_DAYS as f64) as i64;
                let negatives = (draws.uniform() * 25.0) as u32;
                let bid =
                    (draws.uniform() < 0.5).then(|| ((1.5 + 3.0 * draws.uniform()) * 1e6) as i64);
                changes.push((day, negatives, bid));
            }
            changes.sort_by_key(|c| c.0);
        }
        knobs.insert(campaign.clone(), changes);
        let mut add = |market: &mut Market, plan: UnitPlan, kind: UnitKind, fit: f64, at| {
            if at > start {
                new_units.push(plan.key.clone());
            }
            market.add_unit(&plan.key, &campaign, kind, &plan.copy, fit, at);
            plans.push(plan);
        };
        let pick = |draws: &mut Draws, from: &[(&'static str, Intent)]| {
            from[(draws.uniform() * from.len() as f64) as usize % from.len()]
        };
        if linkedin {
            for k in 0..8 {
                let offer = (c + k) % OFFERS.len();
                let audience = (20_000.0 + 400_000.0 * draws.uniform()) as u64;
                let (headline, intent) = pick(&mut draws, &HEADLINES);
                add(
                    &mut market,
                    UnitPlan {
                        key: format!("{campaign}/cr{k}"),
                        ad_group: format!("{campaign}/lc{}", k / 4),
                        campaign: campaign.clone(),
                        theme: OFFERS[offer].to_owned(),
                        copy: worded(headline, OFFERS[offer]),
                        keyword: String::new(),
                        segment: segment_name.to_owned(),
                        kind: "linkedin/sponsored".into(),
                        match_type: None,
                    },
                    UnitKind::Creative {
                        audience_size: audience,
                    },
                    affinity(segment, offer) * intent_fit(intent, role),
                    created,
                );
            }
            continue;
        }
        for g in 0..6 {
            let ad_group = format!("{campaign}/g{g}");
            let offer = (c + g) % OFFERS.len();
            let copy = worded(AD_COPY[g % AD_COPY.len()], OFFERS[offer]);
            for k in 0..6 {
                let match_type = ((k + g) % 3) as u8;
                // One keyword per ad group starts in the held-out week, in a new wording.
                let (at, wordings): (_, &[(&str, Intent)]) = if k == 5 {
                    (start + Duration::days(TRAIN_DAYS), &NEW_WORDINGS)
                } else {
                    (created, &WORDINGS)
                };
                let (wording, intent) = pick(&mut draws, wordings);
                add(
                    &mut market,
                    UnitPlan {
                        key: format!("{ad_group}/kw{k}"),
                        ad_group: ad_group.clone(),
                        campaign: campaign.clone(),
                        theme: OFFERS[offer].to_owned(),
                        copy: copy.clone(),
                        keyword: worded(wording, OFFERS[offer]),
                        segment: segment_name.to_owned(),
                        kind: ["google/exact", "google/phrase", "google/broad"]
                            [match_type as usize]
                            .into(),
                        match_type: Some(match_type),
                    },
                    UnitKind::Keyword { match_type },
                    affinity(segment, offer) * intent_fit(intent, role),
                    at,
                );
            }
        }
    }
    for (campaign, changes) in &knobs {
        if let Some(sim) = market.campaign_mut(campaign) {
            for (day, negatives, bid) in changes {
                sim.negatives.set(start + Duration::days(*day), *negatives);
                sim.max_cpc_micros.set(start + Duration::days(*day), *bid);
            }
        }
    }
    let truth = market.ground_truth();
    let as_of = start + Duration::days(TRAIN_DAYS + TEST_DAYS + 4);
    let h0 = start.timestamp() / 3600;
    let h1 = h0 + (TRAIN_DAYS + TEST_DAYS) * 24;
    let plan_of: HashMap<&str, &UnitPlan> = plans.iter().map(|p| (p.key.as_str(), p)).collect();
    let knob_at = |campaign: &str, day: i64| {
        knobs
            .get(campaign)
            .and_then(|c| c.iter().rev().find(|(from, _, _)| *from <= day - first_day))
            .map(|(_, n, b)| (*n, *b))
            .unwrap_or((0, None))
    };
    let mut history = SimulatedHistory {
        hourly: Vec::new(),
        daily: Vec::new(),
        hourly_truth: Vec::new(),
        daily_truth: Vec::new(),
        new_units,
        first_day,
        units: plans.len(),
    };
    // (unit, day) → clicks, conversions, outage hours
    let mut days: BTreeMap<(String, i64), (f64, f64)> = BTreeMap::new();
    let campaign_keys: Vec<String> = knobs.keys().cloned().collect();
    for campaign in &campaign_keys {
        for row in market.campaign_hours(campaign, h0, h1, as_of) {
            let Some(plan) = plan_of.get(row.unit.as_str()) else {
                continue;
            };
            let day = row.hour.div_euclid(24);
            let (negatives, bid) = knob_at(campaign, day);
            let observation = |hour_of_day: Option<u8>, trials: f64, successes: f64| Observation {
                unit: plan.key.clone(),
                ad_group: plan.ad_group.clone(),
                campaign: plan.campaign.clone(),
                theme: plan.theme.clone(),
                copy: plan.copy.clone(),
                keyword: plan.keyword.clone(),
                segment: plan.segment.clone(),
                kind: plan.kind.clone(),
                day,
                hour_of_day,
                max_cpc_micros: bid,
                negatives,
                trials,
                successes,
            };
            if row.figures.impressions > 0 {
                history.hourly.push(observation(
                    Some(row.hour.rem_euclid(24) as u8),
                    row.figures.impressions as f64,
                    row.figures.clicks as f64,
                ));
                history
                    .hourly_truth
                    .push(true_ctr(&truth, &plan.key, row.hour));
            }
            let slot = days.entry((plan.key.clone(), day)).or_default();
            slot.0 += row.figures.clicks as f64;
            slot.1 += row.figures.conversions as f64;
        }
    }
    for ((unit, day), (clicks, conversions)) in days {
        let Some(plan) = plan_of.get(unit.as_str()) else {
            continue;
        };
        if clicks <= 0.0 {
            continue;
        }
        let (negatives, bid) = knob_at(&plan.campaign, day);
        history.daily.push(Observation {
            unit: plan.key.clone(),
            ad_group: plan.ad_group.clone(),
            campaign: plan.campaign.clone(),
            theme: plan.theme.clone(),
            copy: plan.copy.clone(),
            keyword: plan.keyword.clone(),
            segment: plan.segment.clone(),
            kind: plan.kind.clone(),
            day,
            hour_of_day: None,
            max_cpc_micros: bid,
            negatives,
            trials: clicks,
            successes: conversions,
        });
        history
            .daily_truth
            .push(true_cvr(&truth, plan.match_type, &unit, day, negatives));
    }
    history
}

fn unit_truth<'a>(
    truth: &'a GroundTruth,
    unit: &str,
) -> Option<&'a adflow_platforms::simulator::UnitTruth> {
    truth.units.iter().find(|u| u.key == unit)
}

/// What the simulator's click draw used for this unit and hour.
fn true_ctr(truth: &GroundTruth, unit: &str, hour: i64) -> f64 {
    let Some(u) = unit_truth(truth, unit) else {
        return 0.0;
    };
    let collapsed = truth
        .anomalies
        .iter()
        .any(|a| a.campaign == u.campaign && a.kind == AnomalyKind::CtrCollapse && a.covers(hour));
    (u.truth.ctr * truth.engagement_at(&u.campaign, hour)).min(0.9)
        * if collapsed { 0.2 } else { 1.0 }
}

/// Reported conversions per click of the day: the true rate with the negatives' lift, less the
/// hours a tracking outage hid.
fn true_cvr(
    truth: &GroundTruth,
    match_type: Option<u8>,
    unit: &str,
    day: i64,
    negatives: u32,
) -> f64 {
    let Some(u) = unit_truth(truth, unit) else {
        return 0.0;
    };
    let mut cvr = u.truth.cvr;
    if match_type.is_some_and(|m| m > 0) {
        cvr *= 1.0 + 0.3 * (1.0 - (-f64::from(negatives) / 10.0).exp());
    }
    let hidden = (day * 24..(day + 1) * 24)
        .filter(|h| {
            truth.anomalies.iter().any(|a| {
                a.campaign == u.campaign && a.kind == AnomalyKind::TrackingOutage && a.covers(*h)
            })
        })
        .count() as f64
        / 24.0;
    // A click converts at its hour's engagement: the day's rate weighs each hour by the clicks
    // it can expect (delivery by hour of week × engagement).
    let (mut engaged, mut weight) = (0.0, 0.0);
    for hour in day * 24..(day + 1) * 24 {
        let e = truth.engagement_at(&u.campaign, hour);
        let w = hour_of_week_factor(hour) * e;
        engaged += w * e;
        weight += w;
    }
    let engagement = if weight > 0.0 { engaged / weight } else { 1.0 };
    (cvr * engagement).min(1.0) * (1.0 - hidden)
}

fn scored(predictions: &[f64], rows: &[&Observation]) -> Vec<Scored> {
    predictions
        .iter()
        .zip(rows)
        .map(|(p, o)| (*p, o.trials, o.successes))
        .collect()
}

fn evaluate_target(
    target: Target,
    observations: &[Observation],
    truths: &[f64],
    history: &SimulatedHistory,
    options: &TrainOptions,
    inputs: Inputs,
    device: Device,
) -> Result<(TargetEvaluation, RateEstimator), MlError> {
    let split = history.first_day + TRAIN_DAYS;
    let train: Vec<Observation> = observations
        .iter()
        .filter(|o| o.day < split)
        .cloned()
        .collect();
    let (test, truth): (Vec<&Observation>, Vec<f64>) = observations
        .iter()
        .zip(truths)
        .filter(|(o, _)| o.day >= split)
        .map(|(o, t)| (o, *t))
        .unzip();
    let test_owned: Vec<Observation> = test.iter().map(|o| (*o).clone()).collect();
    let logistic = train_rate(
        target,
        Architecture::Logistic,
        &train,
        VALIDATION_DAYS,
        options,
        Inputs::text(inputs.text),
        device,
    )?;
    let model = train_rate(
        target,
        Architecture::FactorisationMachine,
        &train,
        VALIDATION_DAYS,
        options,
        inputs,
        device,
    )?;
    let mut ablated: Vec<(&str, Inputs)> = Vec::new();
    if inputs.click.is_some() {
        ablated.push(("  without the click model", Inputs::text(inputs.text)));
    }
    if inputs.text.is_some() {
        ablated.push((
            "  without the words",
            Inputs {
                text: None,
                ..inputs
            },
        ));
    }
    if inputs.text.is_some() && inputs.click.is_some() {
        ablated.push(("  without words or click model", Inputs::default()));
    }
    let mut ablated_predictions = Vec::new();
    for (name, less) in ablated {
        let p = train_rate(
            target,
            Architecture::FactorisationMachine,
            &train,
            VALIDATION_DAYS,
            options,
            less,
            device,
        )?
        .model
        .predict(&test_owned)?;
        ablated_predictions.push((name, p));
    }
    let p_logistic = logistic.model.predict(&test_owned)?;
    let estimates: Vec<Estimate> = model.estimate(&test_owned)?;
    let p_model: Vec<f64> = estimates.iter().map(|e| e.probability).collect();
    let s_logistic = metrics::score(&scored(&p_logistic, &test));
    let s_model = metrics::score(&scored(&p_model, &test));
    let s_oracle = metrics::score(&scored(&truth, &test));
    let cold: Vec<usize> = (0..test.len())
        .filter(|i| history.new_units.contains(&test[*i].unit))
        .collect();
    let subset = |p: &[f64]| -> Vec<Scored> {
        cold.iter()
            .map(|i| (p[*i], test[*i].trials, test[*i].successes))
            .collect()
    };
    // Per unit: the trial-weighted mean estimate against the trial-weighted true rate.
    let mut units: HashMap<&str, (f64, f64, f64, f64)> = HashMap::new();
    for ((o, e), t) in test.iter().zip(&estimates).zip(&truth) {
        let u = units.entry(o.unit.as_str()).or_default();
        u.0 += o.trials;
        u.1 += t * o.trials;
        u.2 += e.low * o.trials;
        u.3 += e.high * o.trials;
    }
    let covered = units
        .values()
        .filter(|(n, t, lo, hi)| *n > 0.0 && t / n >= lo / n && t / n <= hi / n)
        .count() as f64;
    let width = units
        .values()
        .filter(|u| u.0 > 0.0)
        .map(|(n, _, lo, hi)| (hi - lo) / n)
        .sum::<f64>();
    let ratio = |a: f64| {
        if s_oracle.auc > 0.0 {
            a / s_oracle.auc
        } else {
            0.0
        }
    };
    Ok((
        TargetEvaluation {
            target,
            test_rows: test.len(),
            test_trials: test.iter().map(|o| o.trials).sum(),
            auc_ratio_to_oracle: ratio(s_model.auc),
            logistic_auc_ratio_to_oracle: ratio(s_logistic.auc),
            logistic: s_logistic,
            model: s_model,
            ablations: ablated_predictions
                .iter()
                .map(|(name, p)| Ablation {
                    name: (*name).to_owned(),
                    score: metrics::score(&scored(p, &test)),
                    cold_start_log_loss: metrics::log_loss(&subset(p)),
                })
                .collect(),
            oracle: s_oracle,
            cold_start_log_loss: ColdStart {
                units: history
                    .new_units
                    .iter()
                    .filter(|u| test.iter().any(|o| &o.unit == *u))
                    .count(),
                logistic: metrics::log_loss(&subset(&p_logistic)),
                model: metrics::log_loss(&subset(&p_model)),
                oracle: metrics::log_loss(&subset(&truth)),
            },
            interval_coverage_of_truth: covered / units.len().max(1) as f64,
            mean_interval_width: width / units.len().max(1) as f64,
        },
        model,
    ))
}

/// Trains both models on three simulated weeks and scores them on the fourth; with `text`, both
/// read the units' words; the conversion machine reads the click machine besides. Each machine is
/// scored again without each of its inputs.
pub fn evaluate(
    seed: u64,
    campaigns: usize,
    options: &TrainOptions,
    text: Option<&Arc<TextVectors>>,
    device: Device,
) -> Result<PredictionEvaluation, MlError> {
    let history = simulate(seed, campaigns);
    let started = std::time::Instant::now();
    let (ctr, click) = evaluate_target(
        Target::ClickThrough,
        &history.hourly,
        &history.hourly_truth,
        &history,
        options,
        Inputs::text(text),
        device,
    )?;
    let (cvr, _) = evaluate_target(
        Target::Conversion,
        &history.daily,
        &history.daily_truth,
        &history,
        options,
        Inputs {
            text,
            click: Some(&click.model),
        },
        device,
    )?;
    Ok(PredictionEvaluation {
        seed,
        campaigns,
        units: history.units,
        device: format!("{device:?}"),
        text_encoder: text.map(|t| t.version().to_owned()),
        train_seconds: started.elapsed().as_secs_f64(),
        targets: vec![ctr, cvr],
    })
}
