//! A campaign's performance on one platform for one day: the reports the platform sent for that
//! day, in a short stream of its own (`performance-<tenant>_<id>`, the id derived from campaign,
//! platform and day by [`day_stream_id`]).
//!
//! Reports used to be appended to the campaign's stream, which made every campaign command reload
//! thousands of rows it never needs. Here a stream holds one day of one platform (a few dozen
//! reports at most), and its state is the small summary the campaign's rules may read: the day's
//! totals and which reports it holds. The campaign is consulted through [`ReportFacts`], which the
//! caller loads from the campaign's stream.

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::campaign::{check_report, PerformanceReported, Platform, ReportFacts};
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::metrics::PerformanceTotals;
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

/// Namespace of the day streams' ids (UUID v5): the same campaign, platform and day always map to
/// the same stream, so a resent report meets the record of its first sending.
const DAY_STREAM_NAMESPACE: Uuid = Uuid::from_u128(0x0193_5a2e_7c41_7d0e_9f3b_2c84_d1a6_e570);

/// The id of the stream holding `campaign`'s reports from `platform` for `day`.
pub fn day_stream_id(campaign: Uuid, platform: Platform, day: NaiveDate) -> Uuid {
    let key = format!("{campaign}/{}/{day}", platform.as_str());
    Uuid::new_v5(&DAY_STREAM_NAMESPACE, key.as_bytes())
}

impl PerformanceReported {
    /// The day stream this report belongs to: the campaign, the platform and the day the report's
    /// window starts on (a resend has the same window, so it lands in the same stream).
    pub fn day_stream_id(&self, campaign: Uuid) -> Uuid {
        day_stream_id(campaign, self.platform, self.window_start.date_naive())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum PerformanceCommand {
    /// Record `report` for `campaign_id`, checked against what the campaign says of itself.
    Record {
        campaign_id: Uuid,
        campaign: ReportFacts,
        report: PerformanceReported,
    },
}

/// A report, recorded in its day stream. The body is the report plus the campaign it belongs to
/// (the stream's id is derived, so the event names its campaign itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceRecorded {
    pub campaign_id: Uuid,
    #[serde(flatten)]
    pub report: PerformanceReported,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PerformanceEvent {
    Recorded(PerformanceRecorded),
}

impl PerformanceEvent {
    pub const RECORDED: &'static str = "PerformanceRecorded";
}

impl DomainEvent for PerformanceEvent {
    fn to_payload(&self) -> EventPayload {
        match self {
            PerformanceEvent::Recorded(e) => encode(Self::RECORDED, 1, e),
        }
    }

    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        match (event_type, schema_version) {
            (Self::RECORDED, 1) => {
                decode(event_type, schema_version, data).map(PerformanceEvent::Recorded)
            }
            _ => Err(unknown(event_type, schema_version)),
        }
    }
}

/// One day of one platform of one campaign: the summary the campaign's rules read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceDay {
    pub campaign_id: Uuid,
    pub platform: Platform,
    pub day: NaiveDate,
    /// The reports recorded (a resent report records nothing).
    pub reports: BTreeSet<Uuid>,
    /// Sums over every row of every report recorded.
    pub totals: PerformanceTotals,
}

fn totals_of(report: &PerformanceReported) -> PerformanceTotals {
    let mut totals = PerformanceTotals::default();
    for row in &report.rows {
        // Rows were checked non-negative before they were recorded; a negative count in a stored
        // event is counted as zero rather than wrapping.
        let count = |value: i64| u64::try_from(value).unwrap_or(0);
        totals.add(&PerformanceTotals {
            impressions: count(row.impressions),
            clicks: count(row.clicks),
            conversions: count(row.conversions),
            cost_micros: count(row.cost_micros),
            revenue_micros: count(row.revenue_micros),
        });
    }
    totals
}

pub struct CampaignPerformance;

impl Aggregate for CampaignPerformance {
    type State = PerformanceDay;
    type Command = PerformanceCommand;
    type Event = PerformanceEvent;
    const CATEGORY: &'static str = "performance";

    fn decide(
        state: Option<&PerformanceDay>,
        command: &PerformanceCommand,
        _now: DateTime<Utc>,
    ) -> Result<Vec<PerformanceEvent>, Rejection> {
        let PerformanceCommand::Record {
            campaign_id,
            campaign,
            report,
        } = command;
        let already = campaign.recorded_in_campaign_stream
            || state.is_some_and(|day| day.reports.contains(&report.report_id));
        if already {
            return Ok(vec![]);
        }
        check_report(campaign, report)?;
        Ok(vec![PerformanceEvent::Recorded(PerformanceRecorded {
            campaign_id: *campaign_id,
            report: report.clone(),
        })])
    }

    fn evolve(
        state: Option<PerformanceDay>,
        event: &PerformanceEvent,
    ) -> Result<PerformanceDay, HistoryError> {
        let PerformanceEvent::Recorded(e) = event;
        let day = e.report.window_start.date_naive();
        let mut state = state.unwrap_or_else(|| PerformanceDay {
            campaign_id: e.campaign_id,
            platform: e.report.platform,
            day,
            reports: BTreeSet::new(),
            totals: PerformanceTotals::default(),
        });
        if (state.campaign_id, state.platform, state.day) != (e.campaign_id, e.report.platform, day)
        {
            return Err(HistoryError {
                kind: "performance",
                reason: "a report of another campaign, platform or day",
            });
        }
        if state.reports.insert(e.report.report_id) {
            state.totals.add(&totals_of(&e.report));
        }
        Ok(state)
    }
}
