//! Advertising metrics, defined once: what CTR, CPC, CPA, ROAS and budget pacing mean. The
//! analytics store sums the raw counts; these ratios are always derived from sums, never averaged.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Summed performance counts over any slice (an hour, a day, a campaign, a segment...).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceTotals {
    pub impressions: u64,
    pub clicks: u64,
    pub conversions: u64,
    pub cost_micros: u64,
    pub revenue_micros: u64,
}

fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    // u64 → f64 loses precision only above 2^53 micros (9 billion currency units): acceptable for
    // a displayed ratio; the sums themselves stay exact.
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

impl PerformanceTotals {
    /// Adds `other`, saturating (sums of real accounts stay far below `u64::MAX`).
    pub fn add(&mut self, other: &PerformanceTotals) {
        self.impressions = self.impressions.saturating_add(other.impressions);
        self.clicks = self.clicks.saturating_add(other.clicks);
        self.conversions = self.conversions.saturating_add(other.conversions);
        self.cost_micros = self.cost_micros.saturating_add(other.cost_micros);
        self.revenue_micros = self.revenue_micros.saturating_add(other.revenue_micros);
    }

    /// Click-through rate: clicks per impression. `None` without impressions.
    pub fn ctr(&self) -> Option<f64> {
        ratio(self.clicks, self.impressions)
    }

    /// Cost per click, in micros. `None` without clicks.
    pub fn cpc_micros(&self) -> Option<f64> {
        ratio(self.cost_micros, self.clicks)
    }

    /// Cost per acquisition (conversion), in micros. `None` without conversions.
    pub fn cpa_micros(&self) -> Option<f64> {
        ratio(self.cost_micros, self.conversions)
    }

    /// Return on ad spend: revenue per unit of cost. `None` without cost.
    pub fn roas(&self) -> Option<f64> {
        ratio(self.revenue_micros, self.cost_micros)
    }

    /// Conversions per click. `None` without clicks.
    pub fn conversion_rate(&self) -> Option<f64> {
        ratio(self.conversions, self.clicks)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PacingStatus {
    NotStarted,
    UnderPacing,
    OnTrack,
    OverPacing,
    Ended,
}

/// How spend compares with a straight-line spend of the total budget over the schedule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pacing {
    /// What a straight line would have spent by the end of `as_of`, in micros.
    pub expected_spend_micros: u64,
    pub spent_micros: u64,
    /// Spent over total budget.
    pub budget_utilisation: f64,
    /// Spent over expected; `None` before the first day.
    pub pace: Option<f64>,
    pub status: PacingStatus,
}

/// Spend within ±10 % of the straight line is on track.
pub const PACING_TOLERANCE: f64 = 0.10;

/// The pacing of a campaign with `total_budget_micros` over `start..=end` that has spent
/// `spent_micros` by the end of `as_of`.
pub fn pacing(
    total_budget_micros: u64,
    start: NaiveDate,
    end: NaiveDate,
    spent_micros: u64,
    as_of: NaiveDate,
) -> Pacing {
    let schedule_days = ((end - start).num_days() + 1).max(1) as u64;
    let elapsed_days = ((as_of - start).num_days() + 1).clamp(0, schedule_days as i64) as u64;
    let expected = (u128::from(total_budget_micros) * u128::from(elapsed_days)
        / u128::from(schedule_days)) as u64;
    let pace = ratio(spent_micros, expected);
    let status = if as_of < start {
        PacingStatus::NotStarted
    } else if as_of > end {
        PacingStatus::Ended
    } else {
        match pace {
            Some(p) if p > 1.0 + PACING_TOLERANCE => PacingStatus::OverPacing,
            Some(p) if p < 1.0 - PACING_TOLERANCE => PacingStatus::UnderPacing,
            _ => PacingStatus::OnTrack,
        }
    };
    Pacing {
        expected_spend_micros: expected,
        spent_micros,
        budget_utilisation: ratio(spent_micros, total_budget_micros).unwrap_or(0.0),
        pace,
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
    }

    #[test]
    fn ratios_come_from_sums_and_are_absent_without_a_denominator() {
        let totals = PerformanceTotals {
            impressions: 1_000,
            clicks: 50,
            conversions: 5,
            cost_micros: 100_000_000,
            revenue_micros: 400_000_000,
        };
        assert_eq!(totals.ctr(), Some(0.05));
        assert_eq!(totals.cpc_micros(), Some(2_000_000.0));
        assert_eq!(totals.cpa_micros(), Some(20_000_000.0));
        assert_eq!(totals.roas(), Some(4.0));
        assert_eq!(totals.conversion_rate(), Some(0.1));
        let empty = PerformanceTotals::default();
        assert_eq!(
            (
                empty.ctr(),
                empty.cpc_micros(),
                empty.cpa_micros(),
                empty.roas()
            ),
            (None, None, None, None)
        );
    }

    #[test]
    fn pacing_follows_a_straight_line_over_the_schedule() {
        // 10 days, 1,000 units: after day 5, 500 is expected.
        let budget = 1_000_000_000;
        let on_track = pacing(budget, day(1), day(10), 500_000_000, day(5));
        assert_eq!(on_track.expected_spend_micros, 500_000_000);
        assert_eq!(on_track.status, PacingStatus::OnTrack);
        assert_eq!(on_track.budget_utilisation, 0.5);
        assert_eq!(
            pacing(budget, day(1), day(10), 700_000_000, day(5)).status,
            PacingStatus::OverPacing
        );
        assert_eq!(
            pacing(budget, day(1), day(10), 300_000_000, day(5)).status,
            PacingStatus::UnderPacing
        );
        let before = pacing(budget, day(2), day(10), 0, day(1));
        assert_eq!(
            (before.status, before.expected_spend_micros, before.pace),
            (PacingStatus::NotStarted, 0, None)
        );
        let after = pacing(budget, day(1), day(10), budget, day(20));
        assert_eq!(
            (after.status, after.expected_spend_micros),
            (PacingStatus::Ended, budget)
        );
    }
}
