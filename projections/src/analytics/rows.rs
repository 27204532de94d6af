//! What one batch of the log becomes in ClickHouse: fact rows, one row per domain event, and the
//! daily rollup rows with the checkpoint step. Built in memory, written by the projector.

use crate::ProjectionError;
use adflow_domain::aggregate::parse_stream_name;
use adflow_domain::campaign::{CampaignEvent, PerformanceReported, PerformanceRow};
use adflow_domain::metrics::PerformanceTotals;
use adflow_domain::performance::PerformanceEvent;
use adflow_domain::DomainEvent;
use adflow_event_store::{Position, RecordedEvent};
use chrono::{DateTime, NaiveDate, Utc};
use clickhouse::Row;
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Whether a batch of rows holds figures (never negative) or changes to them.
#[derive(Clone, Copy)]
enum Sign {
    NonNegative,
    Signed,
}

/// Wrapping, like the sums ClickHouse computes: a restatement's negative change, carried as its
/// two's complement, subtracts.
fn add_wrapping(sum: &mut PerformanceTotals, other: &PerformanceTotals) {
    sum.impressions = sum.impressions.wrapping_add(other.impressions);
    sum.clicks = sum.clicks.wrapping_add(other.clicks);
    sum.conversions = sum.conversions.wrapping_add(other.conversions);
    sum.cost_micros = sum.cost_micros.wrapping_add(other.cost_micros);
    sum.revenue_micros = sum.revenue_micros.wrapping_add(other.revenue_micros);
}

// Field order is the tables' column order: ClickHouse servers before 22.6 can misread RowBinary
// whose column list is in another order (ClickHouse issue 37420).

#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub(crate) struct FactRow {
    #[serde(with = "clickhouse::serde::uuid")]
    pub tenant_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub campaign_id: Uuid,
    pub platform: &'static str,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub hour: DateTime<Utc>,
    pub ad_group: String,
    pub ad: String,
    pub keyword: String,
    #[serde(with = "clickhouse::serde::uuid")]
    pub segment_id: Uuid,
    pub impressions: u64,
    pub clicks: u64,
    pub conversions: u64,
    pub cost_micros: u64,
    pub revenue_micros: u64,
    #[serde(with = "clickhouse::serde::uuid")]
    pub report_id: Uuid,
    pub log_commit: u64,
    pub log_prepare: u64,
    pub row_index: u32,
}

#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub(crate) struct DailyRow {
    #[serde(with = "clickhouse::serde::uuid")]
    pub tenant_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub campaign_id: Uuid,
    #[serde(with = "clickhouse::serde::chrono::date")]
    pub day: NaiveDate,
    pub platform: &'static str,
    #[serde(with = "clickhouse::serde::uuid")]
    pub segment_id: Uuid,
    pub ad_group: String,
    pub impressions: u64,
    pub clicks: u64,
    pub conversions: u64,
    pub cost_micros: u64,
    pub revenue_micros: u64,
    pub fact_rows: u64,
    pub checkpoint_commit_step: i64,
    pub checkpoint_prepare_step: i64,
}

#[derive(Debug, Clone, PartialEq, Row, Serialize)]
pub(crate) struct EventRow {
    #[serde(with = "clickhouse::serde::uuid")]
    pub tenant_id: Uuid,
    #[serde(with = "clickhouse::serde::chrono::datetime")]
    pub recorded_at: DateTime<Utc>,
    pub event_type: String,
    pub schema_version: u32,
    pub category: String,
    #[serde(with = "clickhouse::serde::uuid")]
    pub aggregate_id: Uuid,
    pub stream_version: u64,
    #[serde(with = "clickhouse::serde::uuid")]
    pub event_id: Uuid,
    pub actor: String,
    #[serde(with = "clickhouse::serde::uuid")]
    pub correlation_id: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    pub causation_id: Uuid,
    pub payload_bytes: u32,
    pub log_commit: u64,
    pub log_prepare: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct DailyKey {
    tenant_id: Uuid,
    campaign_id: Uuid,
    day: NaiveDate,
    platform: &'static str,
    segment_id: Uuid,
    ad_group: String,
}

/// The day (1970-01-01) of the checkpoint row; real rows are never that old.
pub(crate) fn checkpoint_day() -> NaiveDate {
    NaiveDate::default()
}

/// Everything a run of consecutive events after `from` writes.
#[derive(Debug)]
pub(crate) struct AnalyticsBatch {
    pub from: Position,
    pub to: Position,
    pub events: Vec<EventRow>,
    pub facts: Vec<FactRow>,
    daily: BTreeMap<DailyKey, (PerformanceTotals, u64)>,
}

fn undecodable(event: &RecordedEvent, reason: impl Into<String>) -> ProjectionError {
    ProjectionError::Undecodable {
        event_id: event.event_id,
        event_type: event.event_type.clone(),
        reason: reason.into(),
    }
}

fn count(event: &RecordedEvent, field: &str, value: i64) -> Result<u64, ProjectionError> {
    // The domain never records a negative count; a stored one means a corrupt event, and
    // reporting it as zero would publish wrong figures.
    u64::try_from(value).map_err(|_| undecodable(event, format!("negative {field}")))
}

impl AnalyticsBatch {
    pub fn new(from: Position) -> Self {
        Self {
            from,
            to: from,
            events: Vec::new(),
            facts: Vec::new(),
            daily: BTreeMap::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn fact_rows(&self) -> usize {
        self.facts.len()
    }

    /// Adds the next event of the log.
    pub fn push(&mut self, event: &RecordedEvent) -> Result<(), ProjectionError> {
        let stream = parse_stream_name(&event.stream_name);
        let (category, aggregate_id) = stream
            .map(|(category, _, id)| (category.to_owned(), id))
            .unwrap_or_else(|| (String::new(), Uuid::nil()));
        let payload_bytes = serde_json::to_vec(&event.data).map_or(0, |b| b.len());
        self.events.push(EventRow {
            tenant_id: event.metadata.tenant_id,
            recorded_at: event.recorded_at,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            category,
            aggregate_id,
            stream_version: event.stream_version,
            event_id: event.event_id,
            actor: event.metadata.actor.clone(),
            correlation_id: event.metadata.correlation_id,
            causation_id: event.metadata.causation_id,
            payload_bytes: u32::try_from(payload_bytes).unwrap_or(u32::MAX),
            log_commit: event.position.commit,
            log_prepare: event.position.prepare,
        });
        if event.event_type == PerformanceEvent::RECORDED
            || event.event_type == PerformanceEvent::RESTATED
        {
            let decoded = PerformanceEvent::from_payload(
                &event.event_type,
                event.schema_version,
                &event.data,
            )
            .map_err(|e| undecodable(event, e.to_string()))?;
            match decoded {
                PerformanceEvent::Recorded(recorded) => {
                    self.push_report(event, recorded.campaign_id, &recorded.report)?
                }
                // A restatement adds the change of each row: the sums become the new figures.
                PerformanceEvent::Restated(restated) => self.push_rows(
                    event,
                    restated.campaign_id,
                    restated.report.report_id,
                    restated.report.platform.as_str(),
                    &restated.changes,
                    Sign::Signed,
                )?,
            }
        } else if event.event_type == CampaignEvent::PERFORMANCE_REPORTED {
            // Logs written before reports had their own streams: the campaign's stream held them.
            let decoded =
                CampaignEvent::from_payload(&event.event_type, event.schema_version, &event.data)
                    .map_err(|e| undecodable(event, e.to_string()))?;
            if let CampaignEvent::PerformanceReported(report) = decoded {
                self.push_report(event, aggregate_id, &report)?;
            }
        }
        self.to = event.position;
        Ok(())
    }

    fn push_report(
        &mut self,
        event: &RecordedEvent,
        campaign_id: Uuid,
        report: &PerformanceReported,
    ) -> Result<(), ProjectionError> {
        self.push_rows(
            event,
            campaign_id,
            report.report_id,
            report.platform.as_str(),
            &report.rows,
            Sign::NonNegative,
        )
    }

    fn push_rows(
        &mut self,
        event: &RecordedEvent,
        campaign_id: Uuid,
        report_id: Uuid,
        platform: &'static str,
        rows: &[PerformanceRow],
        sign: Sign,
    ) -> Result<(), ProjectionError> {
        let tenant_id = event.metadata.tenant_id;
        for (index, row) in rows.iter().enumerate() {
            let value = |field: &'static str, v: i64| match sign {
                Sign::NonNegative => count(event, field, v),
                // Two's complement: ClickHouse's UInt64 sums wrap, so adding a negative change
                // as its wrapped value subtracts it (the true sums never go below zero).
                Sign::Signed => Ok(v as u64),
            };
            let totals = PerformanceTotals {
                impressions: value("impressions", row.impressions)?,
                clicks: value("clicks", row.clicks)?,
                conversions: value("conversions", row.conversions)?,
                cost_micros: value("costMicros", row.cost_micros)?,
                revenue_micros: value("revenueMicros", row.revenue_micros)?,
            };
            let segment_id = row.segment_id.unwrap_or_else(Uuid::nil);
            let ad_group = row.ad_group.clone().unwrap_or_default();
            let key = DailyKey {
                tenant_id,
                campaign_id,
                day: row.hour.date_naive(),
                platform,
                segment_id,
                ad_group: ad_group.clone(),
            };
            let entry = self.daily.entry(key).or_default();
            add_wrapping(&mut entry.0, &totals);
            entry.1 += 1;
            self.facts.push(FactRow {
                tenant_id,
                campaign_id,
                platform,
                hour: row.hour,
                ad_group,
                ad: row.ad.clone().unwrap_or_default(),
                keyword: row.keyword.clone().unwrap_or_default(),
                segment_id,
                impressions: totals.impressions,
                clicks: totals.clicks,
                conversions: totals.conversions,
                cost_micros: totals.cost_micros,
                revenue_micros: totals.revenue_micros,
                report_id,
                log_commit: event.position.commit,
                log_prepare: event.position.prepare,
                row_index: u32::try_from(index).unwrap_or(u32::MAX),
            });
        }
        Ok(())
    }

    /// The rollup rows of the batch and, last, the row that moves the checkpoint from `from` to
    /// `to`: written together in one insert, they commit the batch.
    pub fn daily_rows(&self) -> Vec<DailyRow> {
        let step = |to: u64, from: u64| {
            i64::try_from(to)
                .unwrap_or(i64::MAX)
                .wrapping_sub(i64::try_from(from).unwrap_or(i64::MAX))
        };
        let mut rows: Vec<DailyRow> = self
            .daily
            .iter()
            .map(|(key, (totals, fact_rows))| DailyRow {
                tenant_id: key.tenant_id,
                campaign_id: key.campaign_id,
                day: key.day,
                platform: key.platform,
                segment_id: key.segment_id,
                ad_group: key.ad_group.clone(),
                impressions: totals.impressions,
                clicks: totals.clicks,
                conversions: totals.conversions,
                cost_micros: totals.cost_micros,
                revenue_micros: totals.revenue_micros,
                fact_rows: *fact_rows,
                checkpoint_commit_step: 0,
                checkpoint_prepare_step: 0,
            })
            .collect();
        rows.push(DailyRow {
            tenant_id: Uuid::nil(),
            campaign_id: Uuid::nil(),
            day: checkpoint_day(),
            platform: "",
            segment_id: Uuid::nil(),
            ad_group: String::new(),
            impressions: 0,
            clicks: 0,
            conversions: 0,
            cost_micros: 0,
            revenue_micros: 0,
            fact_rows: 0,
            checkpoint_commit_step: step(self.to.commit, self.from.commit),
            checkpoint_prepare_step: step(self.to.prepare, self.from.prepare),
        });
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adflow_domain::campaign::{PerformanceRow, Platform};
    use adflow_event_store::EventMetadata;

    fn report_event(position: Position, rows: Vec<PerformanceRow>) -> RecordedEvent {
        let tenant = Uuid::now_v7();
        let report = PerformanceReported {
            report_id: Uuid::now_v7(),
            granularity: Default::default(),
            platform: Platform::Google,
            window_start: rows[0].hour,
            window_end: rows[0].hour + chrono::Duration::hours(48),
            rows,
        };
        let payload = CampaignEvent::PerformanceReported(report).to_payload();
        RecordedEvent {
            position,
            stream_name: format!("campaign-{tenant}_{}", Uuid::now_v7()),
            stream_version: 9,
            event_id: Uuid::now_v7(),
            event_type: payload.event_type.to_owned(),
            schema_version: payload.schema_version,
            data: payload.data,
            metadata: EventMetadata {
                tenant_id: tenant,
                actor: "system:test".into(),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::now_v7(),
                extra: Default::default(),
            },
            recorded_at: Utc::now(),
        }
    }

    fn row(hour: &str, clicks: i64) -> PerformanceRow {
        PerformanceRow {
            hour: hour.parse().unwrap(),
            ad_group: Some("brand".into()),
            ad: None,
            keyword: None,
            segment_id: None,
            impressions: 100,
            clicks,
            conversions: 1,
            cost_micros: 5_000_000,
            revenue_micros: 0,
        }
    }

    #[test]
    fn a_report_becomes_facts_a_daily_rollup_and_a_checkpoint_step() {
        let from = Position {
            commit: 10,
            prepare: 7,
        };
        let mut batch = AnalyticsBatch::new(from);
        let event = report_event(
            Position {
                commit: 12,
                prepare: 3,
            },
            vec![
                row("2026-03-01T10:00:00Z", 5),
                row("2026-03-01T11:00:00Z", 7),
                row("2026-03-02T00:00:00Z", 2),
            ],
        );
        batch.push(&event).unwrap();
        assert_eq!((batch.events.len(), batch.fact_rows()), (1, 3));
        let daily = batch.daily_rows();
        assert_eq!(daily.len(), 3, "two days and the checkpoint row");
        assert_eq!((daily[0].clicks, daily[0].fact_rows), (12, 2));
        assert_eq!((daily[1].clicks, daily[1].fact_rows), (2, 1));
        let checkpoint = &daily[2];
        assert_eq!(
            (
                checkpoint.checkpoint_commit_step,
                checkpoint.checkpoint_prepare_step
            ),
            (2, -4),
            "steps add up to the new position"
        );
        assert_eq!(batch.facts[2].row_index, 2);
    }

    #[test]
    fn a_negative_count_stops_the_projector_instead_of_publishing_it() {
        let mut batch = AnalyticsBatch::new(Position::START);
        let event = report_event(Position::START, vec![row("2026-03-01T10:00:00Z", -1)]);
        assert!(matches!(
            batch.push(&event),
            Err(ProjectionError::Undecodable { .. })
        ));
    }
}
