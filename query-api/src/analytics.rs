//! Analytics from ClickHouse: totals, time series and breakdowns are summed by ClickHouse (from
//! the daily rollup, or from the hourly facts when the question needs hours or ad groups); the
//! ratios come from those sums through the domain's definitions; rankings sort the per-campaign
//! sums (one row per campaign, never raw rows).

use crate::analytics_gate::{Permits, RequestGate, TenantGates, ANALYTICS_COST};
use crate::campaigns::{platform_name, Campaign, Platform};
use crate::db::ReadDb;
use crate::errors::{analytics as unavailable, database, ErrorCode};
use crate::freshness::await_position;
use crate::guard::{principal, RoleGuard};
use crate::loaders::{CampaignLoader, Owned};
use crate::scalars::Long;
use adflow_auth::Action;
use adflow_domain::metrics::PerformanceTotals;
use adflow_projections::analytics::queries::{self, Dimension, Filter, Granularity};
use adflow_projections::analytics::{Analytics, NAME};
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use std::sync::Arc;
use uuid::Uuid;

/// The longest range one analytics query may cover.
pub const MAX_RANGE_DAYS: i64 = 731;
/// Hourly series are limited further: a point per hour adds up quickly.
pub const MAX_HOURLY_RANGE_DAYS: i64 = 93;
pub const MAX_PERFORMERS: i32 = 50;

/// Sums and the ratios derived from them. Money is in micros of the campaigns' currency; its
/// fields are null, with a FORBIDDEN error, for roles that may not see money.
#[derive(Debug, Clone, Copy, Default)]
pub struct Metrics(pub PerformanceTotals);

#[Object]
impl Metrics {
    async fn impressions(&self) -> Long {
        Long::from_u64(self.0.impressions)
    }
    async fn clicks(&self) -> Long {
        Long::from_u64(self.0.clicks)
    }
    async fn conversions(&self) -> Long {
        Long::from_u64(self.0.conversions)
    }
    /// Clicks per impression; null without impressions.
    async fn ctr(&self) -> Option<f64> {
        self.0.ctr()
    }
    /// Conversions per click; null without clicks.
    async fn conversion_rate(&self) -> Option<f64> {
        self.0.conversion_rate()
    }
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    async fn spend_micros(&self) -> Option<Long> {
        Some(Long::from_u64(self.0.cost_micros))
    }
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    async fn revenue_micros(&self) -> Option<Long> {
        Some(Long::from_u64(self.0.revenue_micros))
    }
    /// Cost per click, in micros; null without clicks.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    async fn cpc_micros(&self) -> Option<f64> {
        self.0.cpc_micros()
    }
    /// Cost per conversion, in micros; null without conversions.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    async fn cpa_micros(&self) -> Option<f64> {
        self.0.cpa_micros()
    }
    /// Revenue over spend; null without spend.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    async fn roas(&self) -> Option<f64> {
        self.0.roas()
    }
}

/// Which performance to count: days `from..=to` (UTC) of your tenant, optionally narrowed.
#[derive(InputObject, Debug, Clone)]
pub struct PerformanceFilter {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Only these campaigns (at most 500).
    pub campaign_ids: Option<Vec<ID>>,
    pub platform: Option<Platform>,
    /// Only this ad group (Google) or LinkedIn campaign, by name.
    pub ad_group: Option<String>,
    pub segment_id: Option<ID>,
}

pub const MAX_FILTER_CAMPAIGNS: usize = 500;

/// The days analytics can hold: ClickHouse's `Date` ends in 2149, and no campaign ran before
/// 1970. A day outside is the client's mistake, not a failure of ClickHouse.
pub fn within_analytics_years(day: NaiveDate, name: &str) -> async_graphql::Result<()> {
    let first = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
    let last = NaiveDate::from_ymd_opt(2099, 12, 31).unwrap_or(NaiveDate::MAX);
    if day < first || day > last {
        return Err(ErrorCode::BadUserInput.error(format!(
            "{name} must be a day between {first} and {last}, not {day}"
        )));
    }
    Ok(())
}

impl PerformanceFilter {
    fn to_query(&self, tenant: Uuid, max_days: i64) -> async_graphql::Result<Filter> {
        within_analytics_years(self.from, "from")?;
        within_analytics_years(self.to, "to")?;
        if self.from > self.to {
            return Err(ErrorCode::BadUserInput.error("from must not be after to"));
        }
        if (self.to - self.from).num_days() >= max_days {
            return Err(ErrorCode::BadUserInput
                .error(format!("the range may cover at most {max_days} days")));
        }
        let ids = self.campaign_ids.clone().unwrap_or_default();
        if ids.len() > MAX_FILTER_CAMPAIGNS {
            return Err(ErrorCode::BadUserInput.error(format!(
                "campaignIds may name at most {MAX_FILTER_CAMPAIGNS} campaigns"
            )));
        }
        let parse = |id: &ID, what: &str| {
            Uuid::parse_str(id).map_err(|_| {
                ErrorCode::BadUserInput.error(format!("{what} is not an id: {}", id.0))
            })
        };
        Ok(Filter {
            tenant_id: tenant,
            campaign_ids: ids
                .iter()
                .map(|id| parse(id, "campaignIds"))
                .collect::<Result<_, _>>()?,
            platform: self.platform.map(|p| platform_name(p).to_owned()),
            ad_group: self.ad_group.clone(),
            segment_id: self
                .segment_id
                .as_ref()
                .map(|id| parse(id, "segmentId"))
                .transpose()?,
            from: self.from,
            to: self.to,
        })
    }
}

/// The buckets of a series. LinkedIn reports whole days only: in hourly buckets a LinkedIn day
/// appears at its first hour (00:00 UTC), standing for the whole day; Google reports hours.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TimeGranularity {
    /// Hours (UTC). LinkedIn's figures are daily: they fall in each day's 00:00 bucket.
    Hour,
    Day,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum PerformanceDimension {
    Platform,
    Campaign,
    AdGroup,
    Segment,
}

impl From<PerformanceDimension> for Dimension {
    fn from(value: PerformanceDimension) -> Self {
        match value {
            PerformanceDimension::Platform => Dimension::Platform,
            PerformanceDimension::Campaign => Dimension::Campaign,
            PerformanceDimension::AdGroup => Dimension::AdGroup,
            PerformanceDimension::Segment => Dimension::Segment,
        }
    }
}

#[derive(SimpleObject, Debug, Clone)]
pub struct SeriesPoint {
    /// The start of the hour or day (UTC).
    pub start: DateTime<Utc>,
    /// The dimension's value when the series is broken down (platform name, campaign id, ad
    /// group name, segment id); null otherwise.
    pub key: Option<String>,
    pub metrics: Metrics,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct Breakdown {
    /// The dimension's value: platform name, campaign id, ad group name or segment id.
    pub key: String,
    pub metrics: Metrics,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum RankMetric {
    Ctr,
    ConversionRate,
    Conversions,
    Cpc,
    Cpa,
    Roas,
    Spend,
}

impl RankMetric {
    fn value(self, totals: &PerformanceTotals) -> Option<f64> {
        match self {
            RankMetric::Ctr => totals.ctr(),
            RankMetric::ConversionRate => totals.conversion_rate(),
            RankMetric::Conversions => Some(totals.conversions as f64),
            RankMetric::Cpc => totals.cpc_micros(),
            RankMetric::Cpa => totals.cpa_micros(),
            RankMetric::Roas => totals.roas(),
            RankMetric::Spend => Some(totals.cost_micros as f64),
        }
    }

    /// Costs are better low; everything else is better high.
    fn lower_is_better(self) -> bool {
        matches!(self, RankMetric::Cpc | RankMetric::Cpa)
    }

    fn is_money(self) -> bool {
        matches!(
            self,
            RankMetric::Cpc | RankMetric::Cpa | RankMetric::Roas | RankMetric::Spend
        )
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Ranking {
    Top,
    Bottom,
}

#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Performer {
    pub campaign_id: ID,
    /// The value ranked by.
    pub value: f64,
    pub metrics: Metrics,
    #[graphql(skip)]
    key: Owned,
}

#[ComplexObject]
impl Performer {
    async fn campaign(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Campaign>> {
        ctx.data::<DataLoader<CampaignLoader>>()?
            .load_one(self.key)
            .await?
            .map(|(row, page)| row.into_campaign(page))
            .transpose()
    }
}

/// The dashboard's headline figures.
#[derive(SimpleObject, Debug, Clone)]
pub struct DashboardSummary {
    pub active_campaigns: Long,
    pub campaigns: Long,
    /// Performance of every campaign over the period.
    pub period: Metrics,
    /// The total budgets of the active campaigns.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    pub active_budget_micros: Option<Long>,
    /// What the active campaigns have spent since they started.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    pub active_spent_micros: Option<Long>,
    /// Spent over budget, of the active campaigns; null without any.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    pub budget_utilisation: Option<f64>,
}

/// The analytics tables, once this request and its tenant have a permit for one more statement
/// (`analytics_gate`); the permits are held until the returned guard is dropped.
pub(crate) async fn analytics<'a>(
    ctx: &'a Context<'_>,
) -> async_graphql::Result<(Permits, &'a Analytics)> {
    let analytics = ctx
        .data::<crate::QuerySettings>()?
        .analytics
        .as_ref()
        .ok_or_else(|| ErrorCode::Unavailable.error("analytics are not configured"))?;
    let tenant = principal(ctx)?.tenant_id.0;
    let permits = ctx
        .data::<Arc<TenantGates>>()?
        .enter(tenant, ctx.data_opt::<RequestGate>())
        .await?;
    Ok((permits, analytics))
}

fn totals_only(groups: Vec<queries::Group>) -> PerformanceTotals {
    let mut totals = PerformanceTotals::default();
    for group in &groups {
        totals.add(&group.totals);
    }
    totals
}

#[derive(Default)]
pub struct AnalyticsQuery;

#[Object]
impl AnalyticsQuery {
    /// Totals over the filter.
    #[graphql(complexity = "ANALYTICS_COST + child_complexity")]
    async fn performance(
        &self,
        ctx: &Context<'_>,
        filter: PerformanceFilter,
        min_position: Option<String>,
    ) -> async_graphql::Result<Metrics> {
        let filter = filter.to_query(principal(ctx)?.tenant_id.0, MAX_RANGE_DAYS)?;
        await_position(ctx, NAME, min_position.as_deref()).await?;
        let (_permits, analytics) = analytics(ctx).await?;
        let groups = queries::grouped(analytics, &filter, None, None)
            .await
            .map_err(unavailable)?;
        Ok(Metrics(totals_only(groups)))
    }

    /// A time series over the filter, by hour or day, optionally one series per dimension value.
    /// Buckets without performance are absent.
    #[graphql(complexity = "ANALYTICS_COST + 500 * child_complexity")]
    async fn performance_series(
        &self,
        ctx: &Context<'_>,
        filter: PerformanceFilter,
        granularity: TimeGranularity,
        by: Option<PerformanceDimension>,
        min_position: Option<String>,
    ) -> async_graphql::Result<Vec<SeriesPoint>> {
        let max = match granularity {
            TimeGranularity::Hour => MAX_HOURLY_RANGE_DAYS,
            TimeGranularity::Day => MAX_RANGE_DAYS,
        };
        let filter = filter.to_query(principal(ctx)?.tenant_id.0, max)?;
        await_position(ctx, NAME, min_position.as_deref()).await?;
        let granularity = match granularity {
            TimeGranularity::Hour => Granularity::Hour,
            TimeGranularity::Day => Granularity::Day,
        };
        let (_permits, analytics) = analytics(ctx).await?;
        let groups = queries::grouped(analytics, &filter, Some(granularity), by.map(Into::into))
            .await
            .map_err(unavailable)?;
        Ok(groups
            .into_iter()
            .map(|g| SeriesPoint {
                start: DateTime::from_timestamp(g.bucket_start, 0).unwrap_or_default(),
                key: by.map(|_| g.key),
                metrics: Metrics(g.totals),
            })
            .collect())
    }

    /// Totals over the filter per platform, campaign, ad group or segment.
    #[graphql(complexity = "ANALYTICS_COST + 100 * child_complexity")]
    async fn performance_breakdown(
        &self,
        ctx: &Context<'_>,
        filter: PerformanceFilter,
        by: PerformanceDimension,
        min_position: Option<String>,
    ) -> async_graphql::Result<Vec<Breakdown>> {
        let filter = filter.to_query(principal(ctx)?.tenant_id.0, MAX_RANGE_DAYS)?;
        await_position(ctx, NAME, min_position.as_deref()).await?;
        let (_permits, analytics) = analytics(ctx).await?;
        let groups = queries::grouped(analytics, &filter, None, Some(by.into()))
            .await
            .map_err(unavailable)?;
        Ok(groups
            .into_iter()
            .map(|g| Breakdown {
                key: g.key,
                metrics: Metrics(g.totals),
            })
            .collect())
    }

    /// The best (TOP) or worst (BOTTOM) campaigns by a metric over the filter. Campaigns where the
    /// metric is undefined (a CPA without conversions) or with fewer than `minImpressions` are
    /// left out.
    #[graphql(
        complexity = "ANALYTICS_COST + limit.unwrap_or(10).clamp(0, 50) as usize * child_complexity"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn performers(
        &self,
        ctx: &Context<'_>,
        filter: PerformanceFilter,
        metric: RankMetric,
        ranking: Ranking,
        limit: Option<i32>,
        min_impressions: Option<i64>,
        min_position: Option<String>,
    ) -> async_graphql::Result<Vec<Performer>> {
        let principal = principal(ctx)?;
        if metric.is_money() && !principal.role.may(Action::ReadSpend) {
            return Err(ErrorCode::Forbidden
                .error(format!("the {} role may not rank by money", principal.role)));
        }
        let limit = limit.unwrap_or(10);
        if !(0..=MAX_PERFORMERS).contains(&limit) {
            return Err(ErrorCode::BadUserInput
                .error(format!("limit must be between 0 and {MAX_PERFORMERS}")));
        }
        let min_impressions = u64::try_from(min_impressions.unwrap_or(0)).unwrap_or(0);
        let tenant = principal.tenant_id.0;
        let filter = filter.to_query(tenant, MAX_RANGE_DAYS)?;
        await_position(ctx, NAME, min_position.as_deref()).await?;
        let (_permits, analytics) = analytics(ctx).await?;
        let groups = queries::grouped(analytics, &filter, None, Some(Dimension::Campaign))
            .await
            .map_err(unavailable)?;
        let mut ranked: Vec<(f64, Uuid, PerformanceTotals)> = groups
            .into_iter()
            .filter(|g| g.totals.impressions >= min_impressions)
            .filter_map(|g| {
                let id = Uuid::parse_str(&g.key).ok()?;
                Some((metric.value(&g.totals)?, id, g.totals))
            })
            .collect();
        let best_first = |a: &(f64, Uuid, PerformanceTotals),
                          b: &(f64, Uuid, PerformanceTotals)| {
            let order = a.0.total_cmp(&b.0);
            let order = if metric.lower_is_better() {
                order
            } else {
                order.reverse()
            };
            order.then(a.1.cmp(&b.1))
        };
        ranked.sort_by(best_first);
        if ranking == Ranking::Bottom {
            ranked.reverse();
        }
        Ok(ranked
            .into_iter()
            .take(limit as usize)
            .map(|(value, id, totals)| Performer {
                campaign_id: ID(id.to_string()),
                value,
                metrics: Metrics(totals),
                key: Owned { tenant, id },
            })
            .collect())
    }

    /// Headline figures for the dashboard over days `from..=to` (default: the last 30 days).
    #[graphql(complexity = "2 * ANALYTICS_COST + child_complexity")]
    async fn dashboard(
        &self,
        ctx: &Context<'_>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        min_position: Option<String>,
    ) -> async_graphql::Result<DashboardSummary> {
        let tenant = principal(ctx)?.tenant_id.0;
        await_position(ctx, NAME, min_position.as_deref()).await?;
        let today = Utc::now().date_naive();
        let to = to.unwrap_or(today);
        let from = from.unwrap_or(to - chrono::Days::new(29));
        let period = PerformanceFilter {
            from,
            to,
            campaign_ids: None,
            platform: None,
            ad_group: None,
            segment_id: None,
        }
        .to_query(tenant, MAX_RANGE_DAYS)?;
        let counts = sqlx::query(
            "SELECT count(*) AS campaigns, count(*) FILTER (WHERE status = 'ACTIVE') AS active, \
               coalesce(sum(total_budget_micros) FILTER (WHERE status = 'ACTIVE'), 0)::bigint AS budget, \
               coalesce(array_agg(campaign_id) FILTER (WHERE status = 'ACTIVE'), '{}') AS active_ids, \
               min(start_date) FILTER (WHERE status = 'ACTIVE') AS first_start \
             FROM campaigns WHERE tenant_id = $1",
        )
        .bind(tenant)
        .fetch_one(ctx.data::<ReadDb>()?.statement())
        .await
        .map_err(database)?;
        let campaigns: i64 = counts.try_get("campaigns").map_err(database)?;
        let active: i64 = counts.try_get("active").map_err(database)?;
        let budget: i64 = counts.try_get("budget").map_err(database)?;
        let active_ids: Vec<Uuid> = counts.try_get("active_ids").map_err(database)?;
        let first_start: Option<NaiveDate> = counts.try_get("first_start").map_err(database)?;
        let (_permits, analytics) = analytics(ctx).await?;
        let period_totals = totals_only(
            queries::grouped(analytics, &period, None, None)
                .await
                .map_err(unavailable)?,
        );
        let spent = match first_start {
            Some(start) if !active_ids.is_empty() && start <= today => {
                let since_start = Filter {
                    tenant_id: tenant,
                    campaign_ids: active_ids,
                    from: start,
                    to: today,
                    ..Filter::default()
                };
                totals_only(
                    queries::grouped(analytics, &since_start, None, None)
                        .await
                        .map_err(unavailable)?,
                )
                .cost_micros
            }
            _ => 0,
        };
        Ok(DashboardSummary {
            active_campaigns: Long(active),
            campaigns: Long(campaigns),
            period: Metrics(period_totals),
            active_budget_micros: Some(Long(budget)),
            active_spent_micros: Some(Long::from_u64(spent)),
            budget_utilisation: (budget > 0).then(|| spent as f64 / budget as f64),
        })
    }
}
