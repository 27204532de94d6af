//! A campaign's performance on one platform for one day: the reports the platform sent for that
//! day, in a short stream of its own (`performance-<tenant>_<id>`, the id derived from campaign,
//! platform and day by [`day_stream_id`]).
//!
//! Reports used to be appended to the campaign's stream, which made every campaign command reload
//! thousands of rows it never needs. Here a stream holds one day of one platform (a few dozen
//! reports at most), and its state is the small summary the campaign's rules may read: the day's
//! totals and which reports it holds. The campaign is consulted through [`ReportFacts`], which the
//! caller loads from the campaign's stream.
//!
//! Platforms restate: conversions arrive days after the click they belong to, so the report sync
//! pulls a day again and records it with `restate`. A restated report replaces its earlier rows
//! (`PerformanceRestated` carries the new rows and the signed change of each), never adds to them.

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::campaign::{check_report, PerformanceReported, PerformanceRow, Platform, ReportFacts};
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::metrics::PerformanceTotals;
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
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
        /// A report id already recorded with other figures replaces them (report sync); otherwise a
        /// resend records nothing (reports sent by hand).
        restate: bool,
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

/// A report pulled again with other figures: `report` holds them all, `changes` the difference
/// from what was recorded before, row by row (what the analytics sums add).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PerformanceRestated {
    pub campaign_id: Uuid,
    #[serde(flatten)]
    pub report: PerformanceReported,
    pub changes: Vec<PerformanceRow>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum PerformanceEvent {
    Recorded(PerformanceRecorded),
    Restated(PerformanceRestated),
}

impl PerformanceEvent {
    pub const RECORDED: &'static str = "PerformanceRecorded";
    pub const RESTATED: &'static str = "PerformanceRestated";
}

impl DomainEvent for PerformanceEvent {
    fn to_payload(&self) -> EventPayload {
        match self {
            PerformanceEvent::Recorded(e) => encode(Self::RECORDED, 1, e),
            PerformanceEvent::Restated(e) => encode(Self::RESTATED, 1, e),
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
            (Self::RESTATED, 1) => {
                decode(event_type, schema_version, data).map(PerformanceEvent::Restated)
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
    /// Sums over every row of every report recorded (restated reports as restated).
    pub totals: PerformanceTotals,
    /// Each report's rows as last recorded: what a restatement is compared with.
    #[serde(skip)]
    pub rows: BTreeMap<Uuid, Vec<PerformanceRow>>,
}

type RowKey = (
    DateTime<Utc>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<Uuid>,
);

fn key(row: &PerformanceRow) -> RowKey {
    (
        row.hour,
        row.ad_group.clone(),
        row.ad.clone(),
        row.keyword.clone(),
        row.segment_id,
    )
}

/// `new − old` for every row whose figures changed (rows only in `old` count negative).
pub fn row_changes(old: &[PerformanceRow], new: &[PerformanceRow]) -> Vec<PerformanceRow> {
    let mut changes: BTreeMap<RowKey, PerformanceRow> = BTreeMap::new();
    let mut apply = |row: &PerformanceRow, sign: i64| {
        let entry = changes.entry(key(row)).or_insert_with(|| PerformanceRow {
            impressions: 0,
            clicks: 0,
            conversions: 0,
            cost_micros: 0,
            revenue_micros: 0,
            ..row.clone()
        });
        entry.impressions = entry.impressions.saturating_add(sign * row.impressions);
        entry.clicks = entry.clicks.saturating_add(sign * row.clicks);
        entry.conversions = entry.conversions.saturating_add(sign * row.conversions);
        entry.cost_micros = entry.cost_micros.saturating_add(sign * row.cost_micros);
        entry.revenue_micros = entry
            .revenue_micros
            .saturating_add(sign * row.revenue_micros);
    };
    for row in old {
        apply(row, -1);
    }
    for row in new {
        apply(row, 1);
    }
    changes
        .into_values()
        .filter(|r| {
            (
                r.impressions,
                r.clicks,
                r.conversions,
                r.cost_micros,
                r.revenue_micros,
            ) != (0, 0, 0, 0, 0)
        })
        .collect()
}

fn totals_of<'a>(rows: impl IntoIterator<Item = &'a PerformanceRow>) -> PerformanceTotals {
    let mut totals = PerformanceTotals::default();
    for row in rows {
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
            restate,
        } = command;
        if campaign.recorded_in_campaign_stream {
            return Ok(vec![]);
        }
        if let Some(day) = state.filter(|day| day.reports.contains(&report.report_id)) {
            let earlier = day
                .rows
                .get(&report.report_id)
                .map(Vec::as_slice)
                .unwrap_or_default();
            if !restate || earlier == report.rows.as_slice() {
                return Ok(vec![]);
            }
            check_report(campaign, report)?;
            let changes = row_changes(earlier, &report.rows);
            if changes.is_empty() {
                return Ok(vec![]);
            }
            return Ok(vec![PerformanceEvent::Restated(PerformanceRestated {
                campaign_id: *campaign_id,
                report: report.clone(),
                changes,
            })]);
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
        let (campaign_id, report, restated) = match event {
            PerformanceEvent::Recorded(e) => (e.campaign_id, &e.report, false),
            PerformanceEvent::Restated(e) => (e.campaign_id, &e.report, true),
        };
        let day = report.window_start.date_naive();
        let mut state = state.unwrap_or_else(|| PerformanceDay {
            campaign_id,
            platform: report.platform,
            day,
            reports: BTreeSet::new(),
            totals: PerformanceTotals::default(),
            rows: BTreeMap::new(),
        });
        if (state.campaign_id, state.platform, state.day) != (campaign_id, report.platform, day) {
            return Err(HistoryError {
                kind: "performance",
                reason: "a report of another campaign, platform or day",
            });
        }
        if restated {
            state.rows.insert(report.report_id, report.rows.clone());
            state.totals = totals_of(state.rows.values().flatten());
        } else if state.reports.insert(report.report_id) {
            state.totals.add(&totals_of(&report.rows));
            state.rows.insert(report.report_id, report.rows.clone());
        }
        Ok(state)
    }
}
