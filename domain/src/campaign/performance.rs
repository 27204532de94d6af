//! Performance reports from the platforms: a batch of hourly rows for one campaign, platform and
//! reporting window. The analytics read models are built from them. Reports are recorded in their
//! own short streams (`crate::performance`), checked against what the campaign says of itself
//! ([`ReportFacts`]); logs written before that hold them in the campaign's stream.

use super::values::Platform;
use super::{CampaignState, CampaignStatus as S};
use crate::aggregate::Rejection;
use crate::violation::Violations;
use chrono::NaiveDate;
use chrono::{DateTime, Days, NaiveTime, Timelike, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Rows one report may carry: an hour of a large account, well under a megabyte of event.
pub const MAX_ROWS_PER_REPORT: usize = 5_000;
const MAX_REPORTED_ROWS: usize = 20;

/// One hour of one ad (or creative, or keyword) on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PerformanceRow {
    /// The start of the hour, UTC.
    pub hour: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad_group: Option<String>,
    /// The ad (Google) or creative (LinkedIn).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ad: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment_id: Option<Uuid>,
    pub impressions: i64,
    pub clicks: i64,
    pub conversions: i64,
    pub cost_micros: i64,
    pub revenue_micros: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceReported {
    /// Chosen by the reporter; a report sent twice is recorded once.
    pub report_id: Uuid,
    pub platform: Platform,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    pub rows: Vec<PerformanceRow>,
    /// How fine the rows are. LinkedIn reports whole days only: a daily row's `hour` is the
    /// day's midnight and stands for the whole day, not for that hour. Added within v1 as an
    /// optional field: reports written before it are hourly.
    #[serde(default, skip_serializing_if = "Granularity::is_hour")]
    pub granularity: Granularity,
}

/// The time resolution of a report's rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Granularity {
    #[default]
    Hour,
    Day,
}

impl Granularity {
    pub fn is_hour(&self) -> bool {
        *self == Granularity::Hour
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::Hour => "HOUR",
            Granularity::Day => "DAY",
        }
    }
}

/// What a report is checked against: the campaign's status, platforms and schedule, and whether
/// the campaign's own stream already recorded the report (logs written before short streams).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFacts {
    pub status: S,
    pub platforms: Vec<Platform>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub recorded_in_campaign_stream: bool,
}

impl CampaignState {
    /// What a performance report for this campaign is checked against.
    pub fn report_facts(&self, report_id: Uuid) -> ReportFacts {
        ReportFacts {
            status: self.status,
            platforms: self.platforms.clone(),
            start_date: self.start_date,
            end_date: self.end_date,
            recorded_in_campaign_stream: self.reported.contains(&report_id),
        }
    }
}

/// Checks a report against the campaign: status, platform, window inside the schedule, and every
/// row (aligned hour inside the window, non-negative counts, clicks ≤ impressions).
pub(crate) fn check_report(
    state: &ReportFacts,
    report: &PerformanceReported,
) -> Result<(), Rejection> {
    if !matches!(
        state.status,
        S::Deployed | S::Active | S::Paused | S::Completed
    ) {
        return Err(Rejection::IllegalTransition {
            kind: "campaign",
            command: "report performance for",
            status: state.status.as_str(),
        });
    }
    let mut violations = Violations::new();
    if !state.platforms.contains(&report.platform) {
        violations.push(
            "platform",
            "unexpected_platform",
            "the campaign does not run on this platform",
        );
    }
    let schedule_start = state.start_date.and_time(NaiveTime::MIN).and_utc();
    let schedule_end = state
        .end_date
        .checked_add_days(Days::new(1))
        .map(|d| d.and_time(NaiveTime::MIN).and_utc())
        .unwrap_or(schedule_start);
    if report.window_end <= report.window_start {
        violations.push("windowEnd", "before_start", "must be after windowStart");
    }
    if report.window_start < schedule_start || report.window_end > schedule_end {
        violations.push(
            "windowStart",
            "outside_schedule",
            format!("the campaign runs {schedule_start} to {schedule_end}"),
        );
    }
    if report.rows.is_empty() {
        violations.push("rows", "required", "a report needs at least one row");
    }
    if report.rows.len() > MAX_ROWS_PER_REPORT {
        violations.push(
            "rows",
            "too_many",
            format!("at most {MAX_ROWS_PER_REPORT} rows per report"),
        );
    }
    let mut bad_rows = 0;
    for (index, row) in report.rows.iter().enumerate() {
        let before = violations.len();
        let path = |field: &str| format!("rows/{index}/{field}");
        if row.hour.minute() != 0 || row.hour.second() != 0 || row.hour.nanosecond() != 0 {
            violations.push(path("hour"), "not_an_hour", "must be the start of an hour");
        } else if report.granularity == Granularity::Day && row.hour.hour() != 0 {
            violations.push(
                path("hour"),
                "not_a_day",
                "a daily row starts at midnight UTC",
            );
        }
        if row.hour < report.window_start || row.hour >= report.window_end {
            violations.push(
                path("hour"),
                "outside_window",
                "must lie inside the report's window",
            );
        }
        for (field, value) in [
            ("impressions", row.impressions),
            ("clicks", row.clicks),
            ("conversions", row.conversions),
            ("costMicros", row.cost_micros),
            ("revenueMicros", row.revenue_micros),
        ] {
            if value < 0 {
                violations.push(path(field), "negative", "must not be negative");
            }
        }
        if row.clicks > row.impressions {
            violations.push(
                path("clicks"),
                "more_than_impressions",
                "cannot exceed impressions",
            );
        }
        if violations.len() > before {
            bad_rows += 1;
            if bad_rows >= MAX_REPORTED_ROWS {
                break;
            }
        }
    }
    violations.into_result(()).map_err(Rejection::Invalid)
}
