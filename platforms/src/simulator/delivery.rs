//! One campaign's delivery, hour by hour: reach by hour of week, the budget's Hill curve, auction
//! noise, clicks, cost, conversions carried over from earlier clicks (adstock) and reported late.

use super::rng::{key_hash, Draws};
use super::{Anomaly, AnomalyKind, CampaignSim, UnitKind, UnitSim};
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;

/// Counts for one unit and hour, as reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Figures {
    pub impressions: u64,
    pub clicks: u64,
    pub conversions: u64,
    pub cost_micros: u64,
    pub revenue_micros: u64,
}

impl Figures {
    pub fn add(&mut self, other: &Figures) {
        self.impressions += other.impressions;
        self.clicks += other.clicks;
        self.conversions += other.conversions;
        self.cost_micros += other.cost_micros;
        self.revenue_micros += other.revenue_micros;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitHour {
    pub unit: String,
    /// Hours since the epoch.
    pub hour: i64,
    pub figures: Figures,
}

/// Conversions follow a click over the next day: weights of a geometric carry-over of 24 hours.
const ADSTOCK_DECAY: f64 = 0.6;
const ADSTOCK_HOURS: i64 = 24;
/// Half of a conversion is reported within about 12.5 hours of its hour, nearly all within 3 days.
const REPORTING_LAG_HOURS: f64 = 18.0;
/// The Hill curve of delivery over budget, in units of the hour's demand (what the auctions would
/// take at these bids with no budget): coefficient 1, half the demand served when the budget
/// equals it. A budget far below demand is spent almost whole; far above, spend levels off at
/// the demand.
const HILL_HALF: f64 = 1.0;
const HILL_SLOPE: f64 = 1.0;

/// B2B buyers search and scroll in office hours on weekdays (UTC here, one market).
pub fn hour_of_week_factor(hour: i64) -> f64 {
    let weekday = (hour.div_euclid(24) + 3).rem_euclid(7); // 1970-01-01 was a Thursday; 0 = Monday
    let hour_of_day = hour.rem_euclid(24);
    let daily = match hour_of_day {
        8..=17 => 1.0,
        6..=7 | 18..=21 => 0.45,
        _ => 0.12,
    };
    if weekday >= 5 {
        daily * 0.3
    } else {
        daily
    }
}

fn mean_hour_of_week_factor() -> f64 {
    (0..168).map(hour_of_week_factor).sum::<f64>() / 168.0
}

fn hour_start(hour: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(hour * 3600, 0)
        .single()
        .unwrap_or_default()
}

/// The share of demand served: spend = demand · hill ≤ min(budget, demand).
fn hill(budget: f64, demand: f64) -> f64 {
    if demand <= 0.0 || budget <= 0.0 {
        return 0.0;
    }
    let x = (budget / demand).powf(HILL_SLOPE);
    x / (x + HILL_HALF.powf(HILL_SLOPE))
}

fn anomaly(anomalies: &[&Anomaly], kind: AnomalyKind, hour: i64) -> bool {
    anomalies.iter().any(|a| a.kind == kind && a.covers(hour))
}

struct Delivered {
    impressions: u64,
    clicks: u64,
    cost_micros: f64,
}

pub(super) fn simulate(
    seed: u64,
    campaign: &CampaignSim,
    units: &[(&String, &UnitSim)],
    anomalies: &[&Anomaly],
    from: i64,
    to: i64,
    as_of: DateTime<Utc>,
) -> Vec<UnitHour> {
    if to <= from || units.is_empty() {
        return Vec::new();
    }
    let hashes: Vec<u64> = units.iter().map(|(key, _)| key_hash(seed, key)).collect();
    let start = from - ADSTOCK_HOURS;
    let mean_factor = mean_hour_of_week_factor();
    let engagement = super::truth::engagement_profile(seed, &campaign.audience);
    let engaged = |hour: i64| engagement[super::truth::hour_of_week(hour)];
    // delivered[h - start][unit]
    let mut delivered: Vec<Vec<Delivered>> = Vec::with_capacity((to - start) as usize);
    for hour in start..to {
        let at = hour_start(hour);
        let running = at >= campaign.created && campaign.active.at(at);
        let factor = hour_of_week_factor(hour);
        // An ad schedule's modifier raises (or lowers) the bid in its hours: more of the hour's
        // auctions are won, each click costs more, and pacing spreads the day's budget by the
        // demand so weighted.
        let modifiers = campaign.bid_modifiers.at(at);
        let modifier_at = |h: i64| {
            modifiers
                .get(super::truth::hour_of_week(h))
                .copied()
                .unwrap_or(1.0)
        };
        let modifier = modifier_at(hour);
        let weighted_mean = if modifiers.is_empty() {
            mean_factor
        } else {
            (0..168)
                .map(|h| hour_of_week_factor(96 + h) * modifier_at(96 + h))
                .sum::<f64>()
                / 168.0
        };
        let budget =
            campaign.daily_budget_micros.at(at) as f64 / 24.0 * factor * modifier / weighted_mean;
        let max_cpc = campaign.max_cpc_micros.at(at);
        let collapse = anomaly(anomalies, AnomalyKind::CtrCollapse, hour);
        let spike = anomaly(anomalies, AnomalyKind::SpendSpike, hour);
        let mut offers = Vec::with_capacity(units.len());
        let mut demand = 0.0;
        for ((_, unit), hash) in units.iter().zip(&hashes) {
            let live = running && unit.created <= at && unit.active.at(at);
            let mut draws = Draws::new(*hash, hour, 1);
            let mut potential =
                unit.truth.peak_impressions * factor * modifier * draws.lognormal(0.2);
            let mut cpc = unit.truth.cpc_micros * modifier.sqrt() * draws.lognormal(0.15);
            if let Some(max) = max_cpc.map(|m| m as f64) {
                if max < cpc {
                    potential *= (max / cpc).powi(2);
                    cpc = max;
                }
            }
            let ctr = (unit.truth.ctr * engaged(hour)).min(0.9) * if collapse { 0.2 } else { 1.0 };
            if !live {
                potential = 0.0;
            }
            demand += potential * ctr * cpc;
            offers.push((potential, ctr, cpc, draws));
        }
        let share = hill(budget, demand);
        let row = offers
            .into_iter()
            .map(|(potential, ctr, cpc, mut draws)| {
                let impressions = draws.poisson(potential * share);
                let clicks = draws.poisson(impressions as f64 * ctr).min(impressions);
                let cost = clicks as f64 * cpc * if spike { 3.0 } else { 1.0 };
                Delivered {
                    impressions,
                    clicks,
                    cost_micros: cost,
                }
            })
            .collect();
        delivered.push(row);
    }
    let norm = (1.0 - ADSTOCK_DECAY) / (1.0 - ADSTOCK_DECAY.powi(ADSTOCK_HOURS as i32));
    let negatives_at = |hour: i64| campaign.negatives.at(hour_start(hour));
    let mut out = Vec::new();
    for hour in from..to {
        let index = (hour - start) as usize;
        let outage = anomaly(anomalies, AnomalyKind::TrackingOutage, hour);
        let age_hours = (as_of.timestamp() - (hour + 1) * 3600) as f64 / 3600.0;
        let reported_share = 1.0 - (-age_hours.max(0.0) / REPORTING_LAG_HOURS).exp();
        let negatives = f64::from(negatives_at(hour));
        for (u, ((key, unit), hash)) in units.iter().zip(&hashes).enumerate() {
            let now = &delivered[index][u];
            let carried: f64 = (0..ADSTOCK_HOURS as usize)
                .filter(|j| *j <= index)
                // A click converts at the engagement of its own hour.
                .map(|j| {
                    delivered[index - j][u].clicks as f64
                        * engaged(hour - j as i64)
                        * ADSTOCK_DECAY.powi(j as i32)
                })
                .sum::<f64>()
                * norm;
            let mut cvr = unit.truth.cvr;
            if let UnitKind::Keyword { match_type } = unit.kind {
                if match_type > 0 {
                    cvr *= 1.0 + 0.3 * (1.0 - (-negatives / 10.0).exp());
                }
            }
            let mut draws = Draws::new(*hash, hour, 2);
            let happened = draws.poisson(carried * cvr.min(1.0));
            let conversions = if outage {
                0
            } else {
                (happened as f64 * reported_share).round() as u64
            };
            let revenue =
                conversions as f64 * unit.truth.value_per_conversion_micros * draws.lognormal(0.3);
            if now.impressions == 0 && conversions == 0 {
                continue;
            }
            out.push(UnitHour {
                unit: (*key).clone(),
                hour,
                figures: Figures {
                    impressions: now.impressions,
                    clicks: now.clicks,
                    conversions,
                    cost_micros: now.cost_micros.round() as u64,
                    revenue_micros: revenue.round() as u64,
                },
            });
        }
    }
    out
}
