//! Reading the analytics tables correctly: the rollup is summed at read time (a SummingMergeTree
//! merges in the background, so rows of one key may still be apart), facts and events are read
//! with FINAL (duplicates of a retried batch may not be merged away yet), and the checkpoint row is
//! never counted as performance.

use super::rows::checkpoint_day;
use super::{Analytics, DAILY, EVENTS, FACTS};
use crate::ProjectionError;
use adflow_domain::metrics::PerformanceTotals;
use adflow_event_store::Position;
use chrono::NaiveDate;
use clickhouse::Row;
use serde::Deserialize;
use uuid::Uuid;

/// Excludes the checkpoint row (nil tenant, empty platform) from rollup reads.
const NOT_CHECKPOINT: &str = "platform != ''";

/// The checkpoint of the tables ending in `suffix`: the sum of every committed batch's step.
pub async fn checkpoint(analytics: &Analytics, suffix: &str) -> Result<Position, ProjectionError> {
    let (commit, prepare) = analytics
        .client()
        .query(&format!(
            "SELECT sum(checkpoint_commit_step), sum(checkpoint_prepare_step) FROM {DAILY}{suffix} \
             WHERE tenant_id = toUUID('00000000-0000-0000-0000-000000000000') AND platform = ''"
        ))
        .fetch_one::<(i64, i64)>()
        .await?;
    Ok(Position {
        commit: u64::try_from(commit).unwrap_or(0),
        prepare: u64::try_from(prepare).unwrap_or(0),
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Row, Deserialize)]
struct TotalsRow {
    impressions: u64,
    clicks: u64,
    conversions: u64,
    cost_micros: u64,
    revenue_micros: u64,
}

impl From<TotalsRow> for PerformanceTotals {
    fn from(row: TotalsRow) -> Self {
        PerformanceTotals {
            impressions: row.impressions,
            clicks: row.clicks,
            conversions: row.conversions,
            cost_micros: row.cost_micros,
            revenue_micros: row.revenue_micros,
        }
    }
}

const SUMS: &str = "sum(impressions) AS impressions, sum(clicks) AS clicks, \
     sum(conversions) AS conversions, sum(cost_micros) AS cost_micros, \
     sum(revenue_micros) AS revenue_micros";

/// Which rollup rows a query covers: one tenant, optionally one campaign, days `from..=to`.
#[derive(Debug, Clone, Copy)]
pub struct Slice {
    pub tenant_id: Uuid,
    pub campaign_id: Option<Uuid>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Slice {
    fn condition(&self) -> String {
        // Uuid and NaiveDate print as plain literals: nothing here comes from free text.
        let mut sql = format!(
            "tenant_id = toUUID('{}') AND day BETWEEN toDate('{}') AND toDate('{}') AND {NOT_CHECKPOINT}",
            self.tenant_id,
            self.from.max(checkpoint_day().succ_opt().unwrap_or_default()),
            self.to
        );
        if let Some(campaign) = self.campaign_id {
            sql.push_str(&format!(" AND campaign_id = toUUID('{campaign}')"));
        }
        sql
    }
}

/// The totals of a slice, from the daily rollup.
pub async fn totals(
    analytics: &Analytics,
    slice: &Slice,
) -> Result<PerformanceTotals, ProjectionError> {
    let row = analytics
        .client()
        .query(&format!(
            "SELECT {SUMS} FROM {DAILY} WHERE {}",
            slice.condition()
        ))
        .fetch_one::<TotalsRow>()
        .await?;
    Ok(row.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Row, Deserialize)]
struct DayRow {
    #[serde(with = "clickhouse::serde::chrono::date")]
    day: NaiveDate,
    impressions: u64,
    clicks: u64,
    conversions: u64,
    cost_micros: u64,
    revenue_micros: u64,
}

/// One entry per day of the slice that has performance, in day order, from the daily rollup.
pub async fn daily(
    analytics: &Analytics,
    slice: &Slice,
) -> Result<Vec<(NaiveDate, PerformanceTotals)>, ProjectionError> {
    let rows = analytics
        .client()
        .query(&format!(
            "SELECT day, {SUMS} FROM {DAILY} WHERE {} GROUP BY day ORDER BY day",
            slice.condition()
        ))
        .fetch_all::<DayRow>()
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.day,
                PerformanceTotals {
                    impressions: r.impressions,
                    clicks: r.clicks,
                    conversions: r.conversions,
                    cost_micros: r.cost_micros,
                    revenue_micros: r.revenue_micros,
                },
            )
        })
        .collect())
}

/// The totals of a slice summed from the hourly facts instead of the rollup (a cross-check, and
/// what finer-grained questions read).
pub async fn fact_totals(
    analytics: &Analytics,
    slice: &Slice,
) -> Result<PerformanceTotals, ProjectionError> {
    let mut condition = format!(
        "tenant_id = toUUID('{}') AND toDate(hour) BETWEEN toDate('{}') AND toDate('{}')",
        slice.tenant_id, slice.from, slice.to
    );
    if let Some(campaign) = slice.campaign_id {
        condition.push_str(&format!(" AND campaign_id = toUUID('{campaign}')"));
    }
    let row = analytics
        .client()
        .query(&format!(
            "SELECT {SUMS} FROM {FACTS} FINAL WHERE {condition}"
        ))
        .fetch_one::<TotalsRow>()
        .await?;
    Ok(row.into())
}

/// Row counts and order-independent content hashes of the tables ending in `suffix`, as they read
/// (deduplicated facts and events, summed rollup, checkpoint included): equal hashes mean equal
/// read models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Row, Deserialize)]
pub struct ContentHash {
    pub facts: u64,
    pub facts_hash: u64,
    pub daily: u64,
    pub daily_hash: u64,
    pub events: u64,
    pub events_hash: u64,
}

pub async fn content_hash(
    analytics: &Analytics,
    suffix: &str,
) -> Result<ContentHash, ProjectionError> {
    // sum() of 64-bit hashes wraps, which keeps it order independent; unlike XOR it does not
    // cancel out a row that appears twice.
    // cityHash64 in ClickHouse 18.16 takes no UUID arguments, hence toString.
    let sql = format!(
        "SELECT \
           (SELECT count() FROM {FACTS}{suffix} FINAL), \
           (SELECT sum(cityHash64(toString(tenant_id), toString(campaign_id), platform, hour, ad_group, ad, \
               keyword, toString(segment_id), impressions, clicks, conversions, cost_micros, revenue_micros, \
               toString(report_id), log_commit, log_prepare, row_index)) \
             FROM {FACTS}{suffix} FINAL), \
           (SELECT count() FROM (SELECT 1 FROM {DAILY}{suffix} GROUP BY tenant_id, campaign_id, day, platform, segment_id)), \
           (SELECT sum(cityHash64(toString(tenant_id), toString(campaign_id), day, platform, toString(segment_id), \
               impressions, clicks, conversions, cost_micros, revenue_micros, rows, commit_step, prepare_step)) \
             FROM (SELECT tenant_id, campaign_id, day, platform, segment_id, {SUMS}, sum(fact_rows) AS rows, \
               sum(checkpoint_commit_step) AS commit_step, sum(checkpoint_prepare_step) AS prepare_step \
             FROM {DAILY}{suffix} GROUP BY tenant_id, campaign_id, day, platform, segment_id)), \
           (SELECT count() FROM {EVENTS}{suffix} FINAL), \
           (SELECT sum(cityHash64(toString(tenant_id), recorded_at, event_type, schema_version, category, \
               toString(aggregate_id), stream_version, toString(event_id), actor, toString(correlation_id), \
               toString(causation_id), payload_bytes, log_commit, log_prepare)) \
             FROM {EVENTS}{suffix} FINAL)"
    );
    Ok(analytics
        .client()
        .query(&sql)
        .fetch_one::<ContentHash>()
        .await?)
}
