//! The market simulator: the ground truth behind the sandbox. Every deployed keyword (Google) and
//! creative (LinkedIn) has hidden true rates — click-through, conversion, value per conversion,
//! cost per click, reach — shaped by match type, targeting fit and copy; delivery follows the hour
//! of the week, and each audience engages (clicks and converts) by its own planted hour-of-week
//! rhythm; delivery saturates with budget (a Hill curve), conversions carry over from earlier clicks
//! (adstock) and arrive late (so a re-pulled day is restated); auctions add noise, and anomalies
//! (spend spike, tracking outage, CTR collapse) happen on a schedule. Every figure is a pure
//! function of the seed, the entity and the hour: the same seed gives the same market.
//!
//! Models never see this module's truths; only the sandbox's reports. Evaluations read
//! [`Market::ground_truth`] to score them against the oracle.

mod clock;
mod delivery;
pub mod rng;
pub mod search_terms;
mod truth;

pub use clock::SimClock;
pub use delivery::{hour_of_week_factor, Figures, UnitHour};
pub use truth::{
    engagement_profile, hour_of_week, Anomaly, AnomalyKind, GroundTruth, Truth, UnitTruth,
    HOURS_OF_WEEK,
};

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a unit is, which decides its base rates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", tag = "kind")]
pub enum UnitKind {
    /// A Google search keyword; `match_type` 0 exact, 1 phrase, 2 broad.
    Keyword { match_type: u8 },
    /// A LinkedIn creative, reaching an audience of about `audience_size` members.
    Creative { audience_size: u64 },
}

/// A value that changes over (simulated) time: each entry holds from its instant on.
#[derive(Debug, Clone, Serialize)]
pub struct Timeline<T: Clone> {
    changes: Vec<(DateTime<Utc>, T)>,
}

impl<T: Clone> Timeline<T> {
    pub fn new(at: DateTime<Utc>, value: T) -> Self {
        Self {
            changes: vec![(at, value)],
        }
    }

    pub fn set(&mut self, at: DateTime<Utc>, value: T) {
        self.changes.retain(|(when, _)| *when < at);
        self.changes.push((at, value));
    }

    /// The value at `at`; the first value before the first change.
    pub fn at(&self, at: DateTime<Utc>) -> T {
        self.changes
            .iter()
            .rev()
            .find(|(when, _)| *when <= at)
            .or(self.changes.first())
            .map(|(_, value)| value.clone())
            .expect("a timeline always holds its first value")
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CampaignSim {
    pub created: DateTime<Utc>,
    pub active: Timeline<bool>,
    pub daily_budget_micros: Timeline<i64>,
    /// A bid ceiling (manual CPC); `None` bids automatically.
    pub max_cpc_micros: Timeline<Option<i64>>,
    /// Negative keywords: they keep broad and phrase matches off queries that never convert.
    pub negatives: Timeline<u32>,
    /// Who the campaign reaches: its hour-of-week engagement rhythm (the campaign's own key
    /// unless an audience is named).
    pub audience: String,
    /// Bid modifiers by hour of the week (an ad schedule); empty: every hour at the plain bid.
    pub bid_modifiers: Timeline<Vec<f64>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct UnitSim {
    pub campaign: String,
    pub kind: UnitKind,
    pub created: DateTime<Utc>,
    pub active: Timeline<bool>,
    pub truth: Truth,
}

/// The whole market: campaigns and their units, by the sandbox's keys.
#[derive(Debug, Clone)]
pub struct Market {
    seed: u64,
    campaigns: BTreeMap<String, CampaignSim>,
    units: BTreeMap<String, UnitSim>,
    anomalies: Vec<Anomaly>,
}

impl Market {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            campaigns: BTreeMap::new(),
            units: BTreeMap::new(),
            anomalies: Vec::new(),
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A new campaign, with its scheduled anomalies drawn from the seed.
    pub fn add_campaign(
        &mut self,
        key: &str,
        at: DateTime<Utc>,
        daily_budget_micros: i64,
        active: bool,
    ) {
        self.anomalies
            .extend(truth::scheduled_anomalies(self.seed, key, at));
        self.campaigns.insert(
            key.to_owned(),
            CampaignSim {
                created: at,
                active: Timeline::new(at, active),
                daily_budget_micros: Timeline::new(at, daily_budget_micros),
                max_cpc_micros: Timeline::new(at, None),
                negatives: Timeline::new(at, 0),
                audience: key.to_owned(),
                bid_modifiers: Timeline::new(at, Vec::new()),
            },
        );
    }

    /// Names the audience `campaign` reaches: campaigns aimed at one audience share its rhythm.
    pub fn set_audience(&mut self, campaign: &str, audience: &str) {
        if let Some(sim) = self.campaigns.get_mut(campaign) {
            sim.audience = audience.to_owned();
        }
    }

    /// The true engagement multiplier of `campaign`'s audience for each hour of the week.
    pub fn engagement(&self, campaign: &str) -> Option<[f64; HOURS_OF_WEEK]> {
        self.campaigns
            .get(campaign)
            .map(|sim| truth::engagement_profile(self.seed, &sim.audience))
    }

    pub fn campaign_mut(&mut self, key: &str) -> Option<&mut CampaignSim> {
        self.campaigns.get_mut(key)
    }

    /// A new keyword or creative; `copy` is its ad text (it shapes click-through), `fit` how well
    /// its targeting and message match the buyers (it shapes conversion, and click-through by its
    /// square root; 1.0 neutral).
    pub fn add_unit(
        &mut self,
        key: &str,
        campaign: &str,
        kind: UnitKind,
        copy: &str,
        fit: f64,
        at: DateTime<Utc>,
    ) {
        let truth = truth::draw(self.seed, key, kind, copy, fit);
        self.units.insert(
            key.to_owned(),
            UnitSim {
                campaign: campaign.to_owned(),
                kind,
                created: at,
                active: Timeline::new(at, true),
                truth,
            },
        );
    }

    pub fn unit_mut(&mut self, key: &str) -> Option<&mut UnitSim> {
        self.units.get_mut(key)
    }

    pub fn inject(&mut self, anomaly: Anomaly) {
        self.anomalies.push(anomaly);
    }

    /// Every unit's figures of `campaign` for the hours `[from, to)` (hour numbers since the
    /// epoch), as the platform would report them at `as_of`: conversions still arriving are
    /// missing, hours not yet over are left out.
    pub fn campaign_hours(
        &self,
        campaign: &str,
        from: i64,
        to: i64,
        as_of: DateTime<Utc>,
    ) -> Vec<UnitHour> {
        let Some(sim) = self.campaigns.get(campaign) else {
            return Vec::new();
        };
        let units: Vec<(&String, &UnitSim)> = self
            .units
            .iter()
            .filter(|(_, unit)| unit.campaign == campaign)
            .collect();
        let anomalies: Vec<&Anomaly> = self
            .anomalies
            .iter()
            .filter(|a| a.campaign == campaign)
            .collect();
        let last_complete = as_of.timestamp().div_euclid(3600);
        delivery::simulate(
            self.seed,
            sim,
            &units,
            &anomalies,
            from,
            to.min(last_complete),
            as_of,
        )
    }

    /// `campaign`'s totals per day for days `[from_day, to_day)` counted from `first_hour` (hours
    /// since the epoch), as the platform reports them at the start of hour `as_of_hour`.
    pub fn campaign_days(
        &self,
        campaign: &str,
        first_hour: i64,
        from_day: i64,
        to_day: i64,
        as_of_hour: i64,
    ) -> Vec<Figures> {
        let as_of = DateTime::from_timestamp(as_of_hour * 3600, 0).unwrap_or_default();
        let mut days = vec![Figures::default(); (to_day - from_day).max(0) as usize];
        let (from, to) = (first_hour + from_day * 24, first_hour + to_day * 24);
        for row in self.campaign_hours(campaign, from, to, as_of) {
            let day = (row.hour - first_hour).div_euclid(24) - from_day;
            if let Some(slot) = usize::try_from(day).ok().and_then(|d| days.get_mut(d)) {
                slot.add(&row.figures);
            }
        }
        days
    }

    /// The hidden parameters, for evaluations (never for models).
    pub fn ground_truth(&self) -> GroundTruth {
        GroundTruth {
            seed: self.seed,
            units: self
                .units
                .iter()
                .map(|(key, unit)| UnitTruth {
                    key: key.clone(),
                    campaign: unit.campaign.clone(),
                    kind: unit.kind,
                    truth: unit.truth.clone(),
                })
                .collect(),
            anomalies: self.anomalies.clone(),
            engagement: self
                .campaigns
                .iter()
                .map(|(key, sim)| {
                    (
                        key.clone(),
                        truth::engagement_profile(self.seed, &sim.audience).to_vec(),
                    )
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests;
