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
    fn filter(&self) -> Filter {
        Filter {
            tenant_id: self.tenant_id,
            campaign_ids: self.campaign_id.into_iter().collect(),
            from: self.from,
            to: self.to,
            ..Filter::default()
        }
    }
}

/// The totals of a slice, from the daily rollup.
pub async fn totals(
    analytics: &Analytics,
    slice: &Slice,
) -> Result<PerformanceTotals, ProjectionError> {
    let mut totals = PerformanceTotals::default();
    for group in grouped(analytics, &slice.filter(), None, None).await? {
        totals.add(&group.totals);
    }
    Ok(totals)
}

/// One entry per day of the slice that has performance, in day order, from the daily rollup.
pub async fn daily(
    analytics: &Analytics,
    slice: &Slice,
) -> Result<Vec<(NaiveDate, PerformanceTotals)>, ProjectionError> {
    let groups = grouped(analytics, &slice.filter(), Some(Granularity::Day), None).await?;
    Ok(groups
        .into_iter()
        .filter_map(|g| {
            let day = chrono::DateTime::from_timestamp(g.bucket_start, 0)?.date_naive();
            Some((day, g.totals))
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
           (SELECT count() FROM (SELECT 1 FROM {DAILY}{suffix} GROUP BY tenant_id, campaign_id, day, platform, segment_id, ad_group)), \
           (SELECT sum(cityHash64(toString(tenant_id), toString(campaign_id), day, platform, toString(segment_id), \
               ad_group, impressions, clicks, conversions, cost_micros, revenue_micros, rows, commit_step, prepare_step)) \
             FROM (SELECT tenant_id, campaign_id, day, platform, segment_id, ad_group, {SUMS}, sum(fact_rows) AS rows, \
               sum(checkpoint_commit_step) AS commit_step, sum(checkpoint_prepare_step) AS prepare_step \
             FROM {DAILY}{suffix} GROUP BY tenant_id, campaign_id, day, platform, segment_id, ad_group)), \
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

/// The time buckets of a series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Hour,
    Day,
}

/// What a breakdown groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Platform,
    Campaign,
    AdGroup,
    Segment,
}

/// Which performance a grouped query covers: one tenant, days `from..=to`, and optionally only
/// some campaigns, one platform, one ad group, one segment.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub tenant_id: Uuid,
    /// Empty: every campaign of the tenant.
    pub campaign_ids: Vec<Uuid>,
    /// The domain's name (`GOOGLE`, `LINKEDIN`).
    pub platform: Option<String>,
    pub ad_group: Option<String>,
    pub segment_id: Option<Uuid>,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// One group of a grouped query: the start of its time bucket (seconds since the epoch, 0 when
/// the query has no buckets), its dimension value ('' when it has no dimension) and its sums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub bucket_start: i64,
    pub key: String,
    pub totals: PerformanceTotals,
}

#[derive(Debug, Clone, PartialEq, Eq, Row, Deserialize)]
struct GroupRow {
    bucket: i64,
    key: String,
    impressions: u64,
    clicks: u64,
    conversions: u64,
    cost_micros: u64,
    revenue_micros: u64,
}

/// Sums grouped by time bucket and/or dimension, computed by ClickHouse. The daily rollup (per day,
/// campaign, platform, segment and ad group) answers unless the question needs hours, which only
/// the hourly facts have.
pub async fn grouped(
    analytics: &Analytics,
    filter: &Filter,
    granularity: Option<Granularity>,
    dimension: Option<Dimension>,
) -> Result<Vec<Group>, ProjectionError> {
    let from_facts = granularity == Some(Granularity::Hour);
    // Uuids and dates print as plain literals; free text (ad group, platform) is bound.
    let mut condition = format!("tenant_id = toUUID('{}')", filter.tenant_id);
    if from_facts {
        let end = filter.to.succ_opt().unwrap_or(filter.to);
        condition.push_str(&format!(
            " AND hour >= '{} 00:00:00' AND hour < '{end} 00:00:00'",
            filter.from
        ));
    } else {
        condition.push_str(&format!(
            " AND day BETWEEN toDate('{}') AND toDate('{}') AND {NOT_CHECKPOINT}",
            filter
                .from
                .max(checkpoint_day().succ_opt().unwrap_or_default()),
            filter.to
        ));
    }
    if !filter.campaign_ids.is_empty() {
        let ids: Vec<String> = filter
            .campaign_ids
            .iter()
            .map(|id| format!("toUUID('{id}')"))
            .collect();
        condition.push_str(&format!(" AND campaign_id IN ({})", ids.join(", ")));
    }
    if let Some(segment) = filter.segment_id {
        condition.push_str(&format!(" AND segment_id = toUUID('{segment}')"));
    }
    if filter.platform.is_some() {
        condition.push_str(" AND platform = ?");
    }
    if filter.ad_group.is_some() {
        condition.push_str(" AND ad_group = ?");
    }
    // Seconds since the epoch, as Int64 whatever the arithmetic's own result type.
    let bucket = match (granularity, from_facts) {
        (None, _) => "toInt64(0)",
        (Some(Granularity::Hour), _) => "toInt64(toUInt32(hour))",
        (Some(Granularity::Day), true) => "toInt64(toUInt32(toStartOfDay(hour)))",
        (Some(Granularity::Day), false) => "toInt64(toUInt32(day) * 86400)",
    };
    let key = match dimension {
        None => "''",
        Some(Dimension::Platform) => "platform",
        Some(Dimension::Campaign) => "toString(campaign_id)",
        Some(Dimension::AdGroup) => "ad_group",
        Some(Dimension::Segment) => "toString(segment_id)",
    };
    let table = if from_facts {
        format!("{FACTS} FINAL")
    } else {
        DAILY.to_owned()
    };
    let mut query = analytics.client().query(&format!(
        "SELECT {bucket} AS bucket, {key} AS key, {SUMS} FROM {table} WHERE {condition} \
         GROUP BY bucket, key ORDER BY bucket, key"
    ));
    if let Some(platform) = &filter.platform {
        query = query.bind(platform.as_str());
    }
    if let Some(ad_group) = &filter.ad_group {
        query = query.bind(ad_group.as_str());
    }
    let rows = query.fetch_all::<GroupRow>().await?;
    Ok(rows
        .into_iter()
        .map(|r| Group {
            bucket_start: r.bucket,
            key: r.key,
            totals: PerformanceTotals {
                impressions: r.impressions,
                clicks: r.clicks,
                conversions: r.conversions,
                cost_micros: r.cost_micros,
                revenue_micros: r.revenue_micros,
            },
        })
        .collect())
}

/// The totals of each of `campaigns` over the slice's days (campaigns without performance are
/// absent), in one query.
pub async fn totals_by_campaign(
    analytics: &Analytics,
    slice: &Slice,
    campaigns: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, PerformanceTotals>, ProjectionError> {
    if campaigns.is_empty() {
        return Ok(Default::default());
    }
    let filter = Filter {
        campaign_ids: campaigns.to_vec(),
        ..slice.filter()
    };
    let groups = grouped(analytics, &filter, None, Some(Dimension::Campaign)).await?;
    Ok(groups
        .into_iter()
        .filter_map(|g| Uuid::parse_str(&g.key).ok().map(|id| (id, g.totals)))
        .collect())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Row, Deserialize)]
struct HourRow {
    at: u32,
    impressions: u64,
    clicks: u64,
    conversions: u64,
    cost_micros: u64,
}

/// The first hour (seconds since the epoch) of the `hours` ending with the latest hour that has
/// figures in `scope`; `None` when it has none.
async fn window_start(
    analytics: &Analytics,
    scope: &str,
    hours: u32,
) -> Result<Option<u32>, ProjectionError> {
    let latest: u32 = analytics
        .client()
        .query(&format!(
            "SELECT toUInt32(max(hour)) FROM {FACTS} WHERE {scope}"
        ))
        .fetch_one::<u32>()
        .await?;
    Ok((latest > 0).then(|| latest.saturating_sub(hours.saturating_sub(1).saturating_mul(3600))))
}

/// One campaign's totals per hour (UTC, as seconds since the epoch ÷ 3,600) over the `hours`
/// before its latest hour with figures, that hour included; hours without figures are absent.
/// Anchored on the data rather than the clock, so a simulated market ahead of the wall clock reads
/// the same way as a real one.
pub async fn campaign_hours(
    analytics: &Analytics,
    tenant: Uuid,
    campaign: Uuid,
    hours: u32,
) -> Result<Vec<(i64, PerformanceTotals)>, ProjectionError> {
    let scope = format!("tenant_id = toUUID('{tenant}') AND campaign_id = toUUID('{campaign}')");
    let Some(from) = window_start(analytics, &scope, hours).await? else {
        return Ok(Vec::new());
    };
    let rows = analytics
        .client()
        .query(&format!(
            "SELECT toUInt32(hour) AS at, sum(impressions) AS impressions, sum(clicks) AS clicks, \
             sum(conversions) AS conversions, sum(cost_micros) AS cost_micros \
             FROM {FACTS} FINAL WHERE {scope} AND toUInt32(hour) >= {from} GROUP BY at ORDER BY at"
        ))
        .fetch_all::<HourRow>()
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                i64::from(r.at) / 3600,
                PerformanceTotals {
                    impressions: r.impressions,
                    clicks: r.clicks,
                    conversions: r.conversions,
                    cost_micros: r.cost_micros,
                    revenue_micros: 0,
                },
            )
        })
        .collect())
}

/// One unit (keyword, ad or creative) of one campaign over one hour (`hour` in hours since the
/// epoch) or one day (`hour` the day's first hour), as reported.
#[derive(Debug, Clone, PartialEq, Eq, Row, Deserialize)]
pub struct UnitRow {
    #[serde(with = "clickhouse::serde::uuid")]
    pub campaign_id: Uuid,
    pub platform: String,
    pub at: u32,
    pub ad_group: String,
    pub ad: String,
    pub keyword: String,
    pub impressions: u64,
    pub clicks: u64,
    pub conversions: u64,
    pub cost_micros: u64,
}

impl UnitRow {
    pub fn hour(&self) -> i64 {
        i64::from(self.at) / 3600
    }

    /// The row as one day of one ad (a daily row: `hour` is the day's first hour), for the
    /// domain's creative experiments.
    pub fn ad_day(&self) -> adflow_domain::optimisation::experiments::AdDay {
        adflow_domain::optimisation::experiments::AdDay {
            ad_group: self.ad_group.clone(),
            ad: self.ad.clone(),
            day: self.hour().div_euclid(24),
            impressions: self.impressions as f64,
            clicks: self.clicks as f64,
        }
    }

    /// The row as one hour of figures, for the domain's hour-of-week profile.
    pub fn hour_figures(&self) -> adflow_domain::optimisation::hour_of_week::HourFigures {
        adflow_domain::optimisation::hour_of_week::HourFigures {
            hour: self.hour(),
            impressions: self.impressions as f64,
            clicks: self.clicks as f64,
            conversions: self.conversions as f64,
        }
    }
}

/// The tenant's figures per unit over the `hours` before its (or `campaign`'s) latest hour with
/// figures, by hour or by day. Anchored on the data, like [`campaign_hours`]; what the predictor
/// learns from and what the optimiser judges.
pub async fn unit_rows(
    analytics: &Analytics,
    tenant: Uuid,
    campaign: Option<Uuid>,
    hours: u32,
    hourly: bool,
) -> Result<Vec<UnitRow>, ProjectionError> {
    let mut scope = format!("tenant_id = toUUID('{tenant}')");
    if let Some(campaign) = campaign {
        scope.push_str(&format!(" AND campaign_id = toUUID('{campaign}')"));
    }
    let Some(from) = window_start(analytics, &scope, hours).await? else {
        return Ok(Vec::new());
    };
    let at = if hourly {
        "toUInt32(hour)"
    } else {
        "toUInt32(toStartOfDay(hour))"
    };
    Ok(analytics
        .client()
        .query(&format!(
            "SELECT campaign_id, platform, {at} AS at, ad_group, ad, keyword, \
             sum(impressions) AS impressions, sum(clicks) AS clicks, \
             sum(conversions) AS conversions, sum(cost_micros) AS cost_micros \
             FROM {FACTS} FINAL WHERE {scope} AND toUInt32(hour) >= {from} \
             GROUP BY campaign_id, platform, at, ad_group, ad, keyword \
             ORDER BY campaign_id, at, platform, ad_group, ad, keyword"
        ))
        .fetch_all::<UnitRow>()
        .await?)
}
