//! Generated performance reports, deterministic for a seed: what the analytics benchmark and the
//! fault tests feed through the log. Every report passes the domain's checks (counts non-negative,
//! clicks ≤ impressions, conversions ≤ clicks, hours inside the window).

use adflow_domain::aggregate::stream_name;
use adflow_domain::campaign::{
    Campaign, CampaignEvent, PerformanceReported, PerformanceRow, Platform,
};
use adflow_domain::metrics::PerformanceTotals;
use adflow_domain::performance::{CampaignPerformance, PerformanceEvent, PerformanceRecorded};
use adflow_domain::DomainEvent;
use adflow_domain::TenantId;
use adflow_event_store::{
    EventAppender, EventMetadata, EventReader, ExpectedVersion, NewEvent, Position, StoreError,
};
use chrono::{Duration, NaiveDate, NaiveTime};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// A small, fast, seedable generator (SplitMix64); statistical quality is not the point here.
#[derive(Debug, Clone)]
pub struct SyntheticReports {
    state: u64,
}

impl SyntheticReports {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e3779b97f4a7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }

    /// A number in `0..bound` (0 when `bound` is 0).
    fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 {
            0
        } else {
            self.next() % bound
        }
    }

    /// A report of `rows` rows for one day on `platform`: hours cycle through the day, ads and
    /// keywords come from small sets, and each row is attributed to one of `segments` or none.
    pub fn report(
        &mut self,
        platform: Platform,
        day: NaiveDate,
        rows: usize,
        segments: &[Uuid],
    ) -> PerformanceReported {
        let window_start = day.and_time(NaiveTime::MIN).and_utc();
        let rows = (0..rows)
            .map(|i| {
                let impressions = self.below(10_000) as i64;
                let clicks = self.below(impressions as u64 / 10 + 1) as i64;
                let conversions = self.below(clicks as u64 / 5 + 1) as i64;
                let segment = self.below(segments.len() as u64 + 1) as usize;
                PerformanceRow {
                    hour: window_start + Duration::hours((i % 24) as i64),
                    ad_group: Some(format!("ad-group-{}", self.below(4))),
                    ad: Some(format!("ad-{}", self.below(12))),
                    keyword: (platform == Platform::Google)
                        .then(|| format!("keyword-{}", self.below(40))),
                    segment_id: segments.get(segment).copied(),
                    impressions,
                    clicks,
                    conversions,
                    cost_micros: clicks * self.below(3_000_000) as i64,
                    revenue_micros: conversions * self.below(80_000_000) as i64,
                }
            })
            .collect();
        PerformanceReported {
            report_id: Uuid::from_u64_pair(self.next(), self.next()),
            granularity: Default::default(),
            platform,
            window_start,
            window_end: window_start + Duration::days(1),
            rows,
        }
    }
}

/// Where generated reports are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportShape {
    /// Each report in its campaign's day stream for the platform (how Adflow records them).
    DayStreams,
    /// Each report in the campaign's own stream, as logs written before short streams hold them.
    CampaignStream,
}

impl ReportShape {
    /// The stream and the event `report` of `campaign` becomes in this shape.
    pub fn event(
        self,
        tenant: Uuid,
        campaign: Uuid,
        report: PerformanceReported,
    ) -> (String, NewEvent) {
        let (stream, payload) = match self {
            ReportShape::DayStreams => (
                stream_name::<CampaignPerformance>(
                    TenantId(tenant),
                    report.day_stream_id(campaign),
                ),
                PerformanceEvent::Recorded(PerformanceRecorded {
                    campaign_id: campaign,
                    report,
                })
                .to_payload(),
            ),
            ReportShape::CampaignStream => (
                stream_name::<Campaign>(TenantId(tenant), campaign),
                CampaignEvent::PerformanceReported(report).to_payload(),
            ),
        };
        let event = NewEvent {
            event_id: Uuid::now_v7(),
            event_type: payload.event_type.to_owned(),
            schema_version: payload.schema_version,
            data: payload.data,
            metadata: EventMetadata {
                tenant_id: tenant,
                actor: "system:synthetic-reports".into(),
                correlation_id: Uuid::now_v7(),
                causation_id: Uuid::now_v7(),
                extra: Default::default(),
            },
        };
        (stream, event)
    }
}

/// What the analytics must show for the reports generated here, summed independently of the
/// projector (straight from the reports' rows) per tenant, campaign and day.
#[derive(Debug, Default, Clone)]
pub struct ExpectedFigures {
    pub by_day: BTreeMap<(Uuid, Uuid, NaiveDate), PerformanceTotals>,
    pub reports: u64,
    pub rows: u64,
}

impl ExpectedFigures {
    pub fn record(&mut self, tenant: Uuid, campaign: Uuid, report: &PerformanceReported) {
        self.reports += 1;
        for row in &report.rows {
            self.rows += 1;
            let entry = self
                .by_day
                .entry((tenant, campaign, row.hour.date_naive()))
                .or_default();
            entry.impressions += row.impressions as u64;
            entry.clicks += row.clicks as u64;
            entry.conversions += row.conversions as u64;
            entry.cost_micros += row.cost_micros as u64;
            entry.revenue_micros += row.revenue_micros as u64;
        }
    }

    pub fn campaign_total(&self, tenant: Uuid, campaign: Uuid) -> PerformanceTotals {
        let mut sum = PerformanceTotals::default();
        for ((t, c, _), totals) in &self.by_day {
            if (*t, *c) == (tenant, campaign) {
                sum.add(totals);
            }
        }
        sum
    }

    pub fn campaign_days(
        &self,
        tenant: Uuid,
        campaign: Uuid,
    ) -> Vec<(NaiveDate, PerformanceTotals)> {
        self.by_day
            .iter()
            .filter(|((t, c, _), _)| (*t, *c) == (tenant, campaign))
            .map(|((_, _, day), totals)| (*day, *totals))
            .collect()
    }

    pub fn campaigns(&self) -> Vec<(Uuid, Uuid)> {
        let mut all: Vec<_> = self.by_day.keys().map(|(t, c, _)| (*t, *c)).collect();
        all.dedup();
        all
    }
}

/// `per_tenant` new campaigns for each of `tenants` new tenants, as (tenant, campaign).
pub fn campaigns(tenants: usize, per_tenant: usize) -> Vec<(Uuid, Uuid)> {
    (0..tenants)
        .flat_map(|_| {
            let tenant = Uuid::now_v7();
            (0..per_tenant).map(move |_| (tenant, Uuid::now_v7()))
        })
        .collect()
}

/// The first day of the generated reports; they cover five days from it.
pub fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default()
}

/// Appends `reports` reports of `rows` rows, round robin over `campaigns`, alternating platforms,
/// over five days from `first_day`, one append each, in `shape`; records each in `expected` first.
#[allow(clippy::too_many_arguments)] // a test and benchmark driver: each knob is a plain number
pub async fn append_reports(
    store: Arc<dyn EventAppender>,
    shape: ReportShape,
    expected: Arc<Mutex<ExpectedFigures>>,
    campaigns: Vec<(Uuid, Uuid)>,
    seed: u64,
    reports: usize,
    rows: usize,
) -> Result<(), StoreError> {
    let mut generator = SyntheticReports::new(seed);
    let segments = [Uuid::from_u64_pair(seed, 1), Uuid::from_u64_pair(seed, 2)];
    for n in 0..reports {
        let (tenant, campaign) = campaigns[n % campaigns.len().max(1)];
        let platform = [Platform::Google, Platform::Linkedin][n % 2];
        let day = first_day() + Duration::days((n % 5) as i64);
        let report = generator.report(platform, day, rows, &segments);
        if let Ok(mut expected) = expected.lock() {
            expected.record(tenant, campaign, &report);
        }
        let (stream, event) = shape.event(tenant, campaign, report);
        store
            .append(&stream, ExpectedVersion::Any, vec![event])
            .await?;
    }
    Ok(())
}

/// The position of the last event in the log once at least `events` events can be read.
///
/// `read_all` shows a transaction's events only once every older transaction of the PostgreSQL
/// cluster has ended (that is what keeps the log gapless), so under load the visible end may lag
/// behind appends that already returned: asking for the count that was appended waits that out
/// instead of taking an early end for the real one.
pub async fn log_end(reader: &dyn EventReader, events: u64) -> Result<Position, StoreError> {
    for _ in 0..1_200 {
        let mut at = Position::START;
        let mut seen = 0u64;
        loop {
            let page = reader.read_all(at, 1_000).await?;
            match page.last() {
                Some(last) => {
                    at = last.position;
                    seen += page.len() as u64;
                }
                None => break,
            }
        }
        if seen >= events {
            return Ok(at);
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    Err(StoreError::Unavailable(format!(
        "fewer than {events} events became visible within a minute"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_deterministic_and_plausible() {
        let day = NaiveDate::from_ymd_opt(2026, 5, 1).unwrap();
        let segments = [Uuid::now_v7()];
        let a = SyntheticReports::new(7).report(Platform::Google, day, 100, &segments);
        let b = SyntheticReports::new(7).report(Platform::Google, day, 100, &segments);
        assert_eq!(a, b);
        for row in &a.rows {
            assert!(row.clicks <= row.impressions && row.conversions <= row.clicks);
            assert!(row.hour >= a.window_start && row.hour < a.window_end);
        }
    }
}
