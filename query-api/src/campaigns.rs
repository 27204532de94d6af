//! Campaigns: the filtered, sorted, Relay-paginated list and the detail (structure tree,
//! deployments, recommendations, performance, pacing), always within the caller's tenant.

use crate::analytics::Metrics;
use crate::db::ReadDb;
use crate::errors::{database, ErrorCode};
use crate::freshness::await_position;
use crate::guard::{principal, RoleGuard};
use crate::loaders::{Owned, PerformanceKey, PerformanceLoader};
use crate::recommendations::{ProposalStatus, Recommendation};
use crate::scalars::Long;
use crate::siblings::CampaignPage;
use crate::structure::StructureTree;
use adflow_auth::Action;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::sync::Arc;
use uuid::Uuid;

pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const MAX_PAGE_SIZE: usize = 100;
const PROJECTION: &str = "campaigns";

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "adflow_domain::campaign::CampaignStatus")]
pub enum CampaignStatus {
    Draft,
    StructureRequested,
    StructurePreview,
    Approved,
    Rejected,
    DeploymentRequested,
    Deployed,
    DeploymentFailed,
    Active,
    Paused,
    Completed,
    Archived,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "adflow_domain::campaign::Objective")]
pub enum Objective {
    BrandAwareness,
    WebsiteVisits,
    Engagement,
    VideoViews,
    LeadGeneration,
    WebsiteConversions,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "adflow_domain::campaign::Platform")]
pub enum Platform {
    Linkedin,
    Google,
}

// The read model stores the domain's names; parsing goes through the domain, once.
pub(crate) fn status(value: &str) -> Option<CampaignStatus> {
    adflow_domain::campaign::CampaignStatus::parse(value).map(Into::into)
}

fn objective(value: &str) -> Option<Objective> {
    adflow_domain::campaign::Objective::parse(value).map(Into::into)
}

pub(crate) fn platform(value: &str) -> Option<Platform> {
    adflow_domain::campaign::Platform::parse(value).map(Into::into)
}

pub(crate) fn platform_name(value: Platform) -> &'static str {
    adflow_domain::campaign::Platform::from(value).as_str()
}

fn status_name(value: CampaignStatus) -> &'static str {
    adflow_domain::campaign::CampaignStatus::from(value).as_str()
}

#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Campaign {
    pub id: ID,
    pub name: String,
    pub status: CampaignStatus,
    pub objective: Objective,
    pub platforms: Vec<Platform>,
    /// ISO 4217 code; every amount of the campaign is micros of it.
    pub currency: String,
    /// Null, with a FORBIDDEN error, for roles that may not see money.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    pub total_budget_micros: Option<Long>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The aggregate's version: send it as `If-Match` with the next command.
    pub version: Long,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub key: Owned,
    /// The campaigns shown with this one: nested lists load for all of them at once.
    #[graphql(skip)]
    pub page: Arc<CampaignPage>,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum DeploymentStatus {
    Requested,
    Deployed,
    Failed,
}

/// Where the deployment to one platform stands.
#[derive(SimpleObject, Debug, Clone)]
pub struct Deployment {
    pub platform: Platform,
    pub status: DeploymentStatus,
    /// The platform's own id of the deployed campaign.
    pub external_id: Option<String>,
    pub failure_reason: Option<String>,
    /// Whether a failed deployment may be retried.
    pub retryable: Option<bool>,
    pub updated_at: DateTime<Utc>,
}

/// How spend compares with a straight-line spend of the budget over the schedule.
#[derive(SimpleObject, Debug, Clone)]
pub struct Pacing {
    pub as_of: NaiveDate,
    pub expected_spend_micros: Long,
    pub spent_micros: Long,
    /// Spent over total budget.
    pub budget_utilisation: f64,
    /// Spent over expected; null before the first day.
    pub pace: Option<f64>,
    pub status: PacingStatus,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "adflow_domain::metrics::PacingStatus")]
pub enum PacingStatus {
    NotStarted,
    UnderPacing,
    OnTrack,
    OverPacing,
    Ended,
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn corrupt(what: &str, value: &str) -> async_graphql::Error {
    tracing::error!(what, value, "unreadable read-model row");
    ErrorCode::Internal.error("unreadable read-model row")
}

#[ComplexObject]
impl Campaign {
    /// The structure to deploy, per platform: campaign, ad groups, keywords, ads, creatives.
    async fn structure(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<StructureTree>> {
        let row = self
            .page
            .structure(ctx.data::<ReadDb>()?, &self.key)
            .await?;
        match row.and_then(|r| r.structure) {
            None => Ok(None),
            Some(document) => {
                let role = principal(ctx)?.role;
                StructureTree::from_document(document).map(|tree| Some(tree.visible_to(role)))
            }
        }
    }

    /// What the platforms' rules warn about in the structure (warnings do not block deployment).
    async fn structure_warnings(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<serde_json::Value> {
        let row = self
            .page
            .structure(ctx.data::<ReadDb>()?, &self.key)
            .await?;
        Ok(row
            .map(|r| r.warnings)
            .unwrap_or(serde_json::Value::Array(vec![])))
    }

    /// Deployment status per platform.
    async fn deployments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Deployment>> {
        let rows = self
            .page
            .deployments(ctx.data::<ReadDb>()?, &self.key)
            .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Deployment {
                    platform: platform(&row.platform)
                        .ok_or_else(|| corrupt("platform", &row.platform))?,
                    status: match row.status.as_str() {
                        "REQUESTED" => DeploymentStatus::Requested,
                        "DEPLOYED" => DeploymentStatus::Deployed,
                        "FAILED" => DeploymentStatus::Failed,
                        other => return Err(corrupt("deployment status", other)),
                    },
                    external_id: row.external_id,
                    failure_reason: row.failure_reason,
                    retryable: row.retryable,
                    updated_at: row.updated_at,
                })
            })
            .collect()
    }

    /// What the anomaly detector found in this campaign's figures, newest first (at most
    /// `first`). Null, with a FORBIDDEN error, for roles that may not see money.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    async fn anomalies(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] first: i32,
    ) -> async_graphql::Result<Option<Vec<crate::anomalies::AnomalyFound>>> {
        let mut rows = self
            .page
            .anomalies(ctx.data::<ReadDb>()?, &self.key)
            .await?;
        rows.truncate(usize::try_from(first.clamp(0, 500)).unwrap_or(0));
        Ok(Some(rows))
    }

    /// The newest search terms review of this campaign's Google clicks: the searches behind them
    /// (the costliest, with the keyword each matched) and the negative keywords it proposed. Null
    /// before the first review, and, with a FORBIDDEN error, for roles that may not see money.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    async fn search_terms(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<crate::search_terms::SearchTermReport>> {
        self.page
            .search_terms(ctx.data::<ReadDb>()?, &self.key)
            .await
    }

    /// The optimiser's runs on this campaign, newest first (at most `first`): the optimisation
    /// log. Null, with a FORBIDDEN error, for roles that may not see money.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    async fn optimization_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> async_graphql::Result<Option<Vec<crate::optimisation::OptimizationRun>>> {
        let mut runs = self.page.runs(ctx.data::<ReadDb>()?, &self.key).await?;
        runs.truncate(usize::try_from(first.clamp(0, 200)).unwrap_or(0));
        Ok(Some(runs))
    }

    /// What the predictor expects of this campaign, its platforms, ad groups and keywords over
    /// the coming week, from the latest completed run (`level`: CAMPAIGN, PLATFORM, AD_GROUP,
    /// KEYWORD, CREATIVE; all when absent). Null, with a FORBIDDEN error, for roles that may not
    /// see money.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    async fn predictions(
        &self,
        ctx: &Context<'_>,
        level: Option<String>,
        #[graphql(default = 200)] first: i32,
    ) -> async_graphql::Result<Option<Vec<crate::optimisation::Prediction>>> {
        let runs = self.page.runs(ctx.data::<ReadDb>()?, &self.key).await?;
        let latest = runs
            .into_iter()
            .find(|r| r.status == "COMPLETED" && !r.predictions.is_empty());
        let n = usize::try_from(first.clamp(0, 2_000)).unwrap_or(0);
        Ok(Some(
            latest
                .map(|r| r.predictions)
                .unwrap_or_default()
                .into_iter()
                .filter(|p| level.as_deref().is_none_or(|l| p.level == l))
                .take(n)
                .collect(),
        ))
    }

    /// The budget allocation of the latest optimisation run that made one: each line (Google's
    /// budget, each LinkedIn campaign's) now and as the allocator would set it. Null, with a
    /// FORBIDDEN error, for roles that may not see money.
    #[graphql(guard = "RoleGuard(Action::ReadSpend)")]
    async fn allocation(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Vec<crate::optimisation::AllocationLineView>>> {
        let runs = self.page.runs(ctx.data::<ReadDb>()?, &self.key).await?;
        Ok(Some(
            runs.into_iter()
                .find(|r| r.status == "COMPLETED" && !r.allocation.is_empty())
                .map(|r| r.allocation)
                .unwrap_or_default(),
        ))
    }

    /// Creative experiments: each ad group serving two ads or more, compared on click-through
    /// over the last 8 weeks, with each ad's probability of being best and the verdict of the
    /// sequential design (a winner, no winner, or still running).
    #[graphql(complexity = "crate::analytics_gate::ANALYTICS_COST + child_complexity")]
    async fn experiments(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Vec<crate::experiments::Experiment>> {
        crate::experiments::experiments(ctx, self.key.tenant, self.key.id).await
    }

    /// Dayparting per platform from the last `weeks` (1–13, default 4) of hourly reports: the ad
    /// schedule worth proposing (Google: a week of blocks with bid modifiers), nothing when no
    /// difference is material and credible, or why the platform cannot schedule (LinkedIn).
    #[graphql(complexity = "crate::analytics_gate::ANALYTICS_COST + child_complexity")]
    async fn ad_schedules(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 4)] weeks: i32,
    ) -> async_graphql::Result<Vec<crate::dayparting::AdScheduleAdvice>> {
        let weeks = u32::try_from(weeks)
            .ok()
            .filter(|w| (1..=13).contains(w))
            .ok_or_else(|| ErrorCode::BadUserInput.error("weeks must be between 1 and 13"))?;
        crate::dayparting::advice(ctx, self.key.tenant, self.key.id, &self.platforms, weeks).await
    }

    /// The AI's optimisation proposals for this campaign, newest first.
    async fn recommendations(
        &self,
        ctx: &Context<'_>,
        status: Option<ProposalStatus>,
    ) -> async_graphql::Result<Vec<Recommendation>> {
        let rows = self
            .page
            .proposals(ctx.data::<ReadDb>()?, &self.key)
            .await?;
        rows.into_iter()
            .filter(|row| status.is_none_or(|s| s.as_str() == row.status))
            .map(|row| row.into_recommendation())
            .collect()
    }

    /// Performance over days `from..=to` (default: the schedule up to today), from ClickHouse.
    #[graphql(complexity = "crate::analytics_gate::BATCHED_ANALYTICS_COST + child_complexity")]
    async fn performance(
        &self,
        ctx: &Context<'_>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> async_graphql::Result<Metrics> {
        let defaulted = from.is_none() && to.is_none();
        let from = from.unwrap_or(self.start_date);
        let to = to.unwrap_or_else(|| self.end_date.min(today()));
        if defaulted && from > to {
            // A campaign that has not started has performed nothing yet; the caller gave no range
            // that could be wrong.
            return Ok(Metrics::default());
        }
        Ok(Metrics(self.load_performance(ctx, from, to).await?))
    }

    /// Spend so far against a straight line over the schedule, as of a day (default today).
    /// Null, with a FORBIDDEN error, for roles that may not see money.
    #[graphql(
        guard = "RoleGuard(Action::ReadSpend)",
        complexity = "crate::analytics_gate::BATCHED_ANALYTICS_COST + child_complexity"
    )]
    async fn pacing(
        &self,
        ctx: &Context<'_>,
        as_of: Option<NaiveDate>,
    ) -> async_graphql::Result<Option<Pacing>> {
        let as_of = as_of.unwrap_or_else(today);
        let spent = if as_of < self.start_date {
            0
        } else {
            self.load_performance(ctx, self.start_date, as_of.min(self.end_date))
                .await?
                .cost_micros
        };
        let budget = self.total_budget_micros.map(|b| b.0).unwrap_or(0);
        let pacing = adflow_domain::metrics::pacing(
            u64::try_from(budget).unwrap_or(0),
            self.start_date,
            self.end_date,
            spent,
            as_of,
        );
        Ok(Some(Pacing {
            as_of,
            expected_spend_micros: Long::from_u64(pacing.expected_spend_micros),
            spent_micros: Long::from_u64(pacing.spent_micros),
            budget_utilisation: pacing.budget_utilisation,
            pace: pacing.pace,
            status: pacing.status.into(),
        }))
    }
}

impl Campaign {
    async fn load_performance(
        &self,
        ctx: &Context<'_>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> async_graphql::Result<adflow_domain::metrics::PerformanceTotals> {
        crate::analytics::within_analytics_years(from, "from")?;
        crate::analytics::within_analytics_years(to, "to")?;
        if from > to {
            return Err(ErrorCode::BadUserInput.error("from must not be after to"));
        }
        let loader = ctx
            .data::<DataLoader<PerformanceLoader>>()
            .map_err(|_| ErrorCode::Unavailable.error("analytics are not configured"))?;
        let key = PerformanceKey {
            campaign: self.key,
            from,
            to,
        };
        Ok(loader.load_one(key).await?.unwrap_or_default())
    }
}

#[derive(Clone)]
pub struct CampaignRow {
    pub tenant_id: Uuid,
    pub campaign_id: Uuid,
    name: String,
    status: String,
    objective: String,
    platforms: Vec<String>,
    currency: String,
    total_budget_micros: i64,
    start_date: NaiveDate,
    end_date: NaiveDate,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl CampaignRow {
    pub fn decode(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(CampaignRow {
            tenant_id: row.try_get("tenant_id")?,
            campaign_id: row.try_get("campaign_id")?,
            name: row.try_get("name")?,
            status: row.try_get("status")?,
            objective: row.try_get("objective")?,
            platforms: row.try_get("platforms")?,
            currency: row.try_get("currency")?,
            total_budget_micros: row.try_get("total_budget_micros")?,
            start_date: row.try_get("start_date")?,
            end_date: row.try_get("end_date")?,
            version: row.try_get("version")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }

    pub fn key(&self) -> Owned {
        Owned {
            tenant: self.tenant_id,
            id: self.campaign_id,
        }
    }

    /// The campaign, shown with the others of `page`.
    pub fn into_campaign(self, page: Arc<CampaignPage>) -> async_graphql::Result<Campaign> {
        Ok(Campaign {
            id: ID(self.campaign_id.to_string()),
            status: status(&self.status).ok_or_else(|| corrupt("status", &self.status))?,
            objective: objective(&self.objective)
                .ok_or_else(|| corrupt("objective", &self.objective))?,
            platforms: self
                .platforms
                .iter()
                .map(|p| platform(p).ok_or_else(|| corrupt("platform", p)))
                .collect::<Result<_, _>>()?,
            name: self.name,
            currency: self.currency,
            total_budget_micros: Some(Long(self.total_budget_micros)),
            start_date: self.start_date,
            end_date: self.end_date,
            version: Long(self.version),
            created_at: self.created_at,
            updated_at: self.updated_at,
            key: Owned {
                tenant: self.tenant_id,
                id: self.campaign_id,
            },
            page,
        })
    }

    /// The value of the sort column, as it goes into a cursor.
    fn sort_value(&self, sort: CampaignSort) -> String {
        match sort {
            CampaignSort::CreatedAt => self.created_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            CampaignSort::UpdatedAt => self.updated_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            CampaignSort::Name => self.name.clone(),
            CampaignSort::StartDate => self.start_date.to_string(),
            CampaignSort::EndDate => self.end_date.to_string(),
            CampaignSort::Budget => self.total_budget_micros.to_string(),
        }
    }
}

pub const SELECT: &str =
    "SELECT tenant_id, campaign_id, name, status, objective, platforms, currency, total_budget_micros, \
     start_date, end_date, version, created_at, updated_at FROM campaigns";

/// Which campaigns a list shows; every condition given must hold.
#[derive(InputObject, Debug, Default)]
pub struct CampaignFilter {
    /// Any of these statuses.
    pub status: Option<Vec<CampaignStatus>>,
    /// Runs on this platform (among others).
    pub platform: Option<Platform>,
    pub objective: Option<Objective>,
    /// The schedule overlaps `activeFrom..=activeTo` (either end may be left open).
    pub active_from: Option<NaiveDate>,
    pub active_to: Option<NaiveDate>,
    /// The name contains this text, ignoring case.
    pub name_contains: Option<String>,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum CampaignSort {
    CreatedAt,
    UpdatedAt,
    Name,
    StartDate,
    EndDate,
    Budget,
}

impl CampaignSort {
    fn column(self) -> &'static str {
        match self {
            CampaignSort::CreatedAt => "created_at",
            CampaignSort::UpdatedAt => "updated_at",
            CampaignSort::Name => "name",
            CampaignSort::StartDate => "start_date",
            CampaignSort::EndDate => "end_date",
            CampaignSort::Budget => "total_budget_micros",
        }
    }

    fn sql_type(self) -> &'static str {
        match self {
            CampaignSort::CreatedAt | CampaignSort::UpdatedAt => "timestamptz",
            CampaignSort::Name => "text",
            CampaignSort::StartDate | CampaignSort::EndDate => "date",
            CampaignSort::Budget => "bigint",
        }
    }

    fn tag(self) -> &'static str {
        match self {
            CampaignSort::CreatedAt => "c",
            CampaignSort::UpdatedAt => "u",
            CampaignSort::Name => "n",
            CampaignSort::StartDate => "s",
            CampaignSort::EndDate => "e",
            CampaignSort::Budget => "b",
        }
    }
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Default)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// A keyset cursor: the sort it belongs to, the last row's sort value and id. Opaque to clients.
struct Cursor {
    sort: CampaignSort,
    id: Uuid,
    value: String,
}

impl Cursor {
    fn encode(&self) -> String {
        format!("{}:{}:{}", self.sort.tag(), self.id, self.value)
    }

    fn decode(raw: &str, sort: CampaignSort) -> async_graphql::Result<Cursor> {
        let invalid = || ErrorCode::BadUserInput.error("after is not a cursor of this list");
        let (tag, rest) = raw.split_once(':').ok_or_else(invalid)?;
        if tag != sort.tag() {
            return Err(ErrorCode::BadUserInput
                .error("after is a cursor of a list sorted differently; start again without it"));
        }
        let id = rest
            .get(..36)
            .and_then(|id| Uuid::parse_str(id).ok())
            .ok_or_else(invalid)?;
        let value = rest
            .get(36..)
            .and_then(|v| v.strip_prefix(':'))
            .ok_or_else(invalid)?;
        // The value goes into SQL as a bound parameter cast to the column's type; check it parses
        // here so a forged cursor is a client error, not a database one.
        let parses = match sort {
            CampaignSort::CreatedAt | CampaignSort::UpdatedAt => {
                DateTime::parse_from_rfc3339(value).is_ok()
            }
            CampaignSort::Name => true,
            CampaignSort::StartDate | CampaignSort::EndDate => {
                value.len() == 10 && value.parse::<NaiveDate>().is_ok()
            }
            CampaignSort::Budget => value.parse::<i64>().is_ok(),
        };
        // PostgreSQL text holds no NUL: such a value could only fail in the database.
        if !parses || value.contains('\0') {
            return Err(invalid());
        }
        Ok(Cursor {
            sort,
            id,
            value: value.to_owned(),
        })
    }
}

/// `LIKE` matches the text literally: its wildcards are escaped.
fn like_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub const MAX_NAME_SEARCH: usize = 200;

pub(crate) fn page_size(first: Option<i32>) -> async_graphql::Result<usize> {
    match first {
        None => Ok(DEFAULT_PAGE_SIZE),
        Some(n) if (0..=MAX_PAGE_SIZE as i32).contains(&n) => Ok(n as usize),
        Some(_) => {
            Err(ErrorCode::BadUserInput
                .error(format!("first must be between 0 and {MAX_PAGE_SIZE}")))
        }
    }
}

#[derive(Default)]
pub struct CampaignQuery;

#[Object]
impl CampaignQuery {
    /// One campaign of your tenant, or null. `minPosition` (from a command's response) waits until
    /// that write is visible.
    async fn campaign(
        &self,
        ctx: &Context<'_>,
        id: ID,
        min_position: Option<String>,
    ) -> async_graphql::Result<Option<Campaign>> {
        let principal = principal(ctx)?;
        await_position(ctx, PROJECTION, min_position.as_deref()).await?;
        let Ok(id) = Uuid::parse_str(&id) else {
            return Ok(None);
        };
        let row = sqlx::query(&format!(
            "{SELECT} WHERE tenant_id = $1 AND campaign_id = $2"
        ))
        .bind(principal.tenant_id.0)
        .bind(id)
        .fetch_optional(ctx.data::<ReadDb>()?.statement())
        .await
        .and_then(|row| row.as_ref().map(CampaignRow::decode).transpose())
        .map_err(database)?;
        row.map(|row| {
            let page = Arc::new(CampaignPage::new(vec![row.key()]));
            row.into_campaign(page)
        })
        .transpose()
    }

    /// Your tenant's campaigns: filtered, sorted (default: oldest first), `first` at a time (at
    /// most 100), continuing `after` a cursor of the same list.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity")]
    #[allow(clippy::too_many_arguments)]
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        filter: Option<CampaignFilter>,
        sort: Option<CampaignSort>,
        direction: Option<SortDirection>,
        first: Option<i32>,
        after: Option<String>,
        min_position: Option<String>,
    ) -> async_graphql::Result<Connection<String, Campaign, EmptyFields, EmptyFields>> {
        let principal = principal(ctx)?;
        let first = page_size(first)?;
        let sort = sort.unwrap_or(CampaignSort::CreatedAt);
        if sort == CampaignSort::Budget && !principal.role.may(Action::ReadSpend) {
            // The order would reveal what the field hides.
            return Err(ErrorCode::Forbidden.error(format!(
                "the {} role may not sort by budget",
                principal.role
            )));
        }
        let direction = direction.unwrap_or_default();
        let after = after
            .as_deref()
            .map(|c| Cursor::decode(c, sort))
            .transpose()?;
        let filter = filter.unwrap_or_default();
        if let Some(text) = &filter.name_contains {
            if text.chars().count() > MAX_NAME_SEARCH {
                return Err(ErrorCode::BadUserInput.error(format!(
                    "nameContains is longer than {MAX_NAME_SEARCH} characters"
                )));
            }
            if text.contains('\0') {
                return Err(ErrorCode::BadUserInput
                    .error("nameContains must not contain NUL characters (no name holds one)"));
            }
        }
        await_position(ctx, PROJECTION, min_position.as_deref()).await?;

        let (column, cast) = (sort.column(), sort.sql_type());
        let (compare, order) = match direction {
            SortDirection::Asc => (">", "ASC"),
            SortDirection::Desc => ("<", "DESC"),
        };
        let statuses: Option<Vec<&str>> = filter
            .status
            .as_ref()
            .map(|s| s.iter().map(|s| status_name(*s)).collect());
        let sql = format!(
            "{SELECT} WHERE tenant_id = $1 \
               AND ($2::text[] IS NULL OR status = ANY($2)) \
               AND ($3::text IS NULL OR $3 = ANY(platforms)) \
               AND ($4::text IS NULL OR objective = $4) \
               AND ($5::date IS NULL OR end_date >= $5) \
               AND ($6::date IS NULL OR start_date <= $6) \
               AND ($7::text IS NULL OR lower(name) LIKE $7) \
               AND ($8::uuid IS NULL OR ({column}, campaign_id) {compare} ($9::{cast}, $8)) \
             ORDER BY {column} {order}, campaign_id {order} LIMIT $10"
        );
        let rows = sqlx::query(&sql)
            .bind(principal.tenant_id.0)
            .bind(statuses)
            .bind(filter.platform.map(platform_name))
            .bind(
                filter
                    .objective
                    .map(|o| adflow_domain::campaign::Objective::from(o).as_str()),
            )
            .bind(filter.active_from)
            .bind(filter.active_to)
            .bind(filter.name_contains.as_deref().map(like_pattern))
            .bind(after.as_ref().map(|c| c.id))
            .bind(after.as_ref().map(|c| c.value.clone()))
            .bind(first as i64 + 1)
            .fetch_all(ctx.data::<ReadDb>()?.statement())
            .await
            .and_then(|rows| {
                rows.iter()
                    .map(CampaignRow::decode)
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(database)?;
        let has_next = rows.len() > first;
        let mut connection = Connection::new(after.is_some(), has_next);
        let page = Arc::new(CampaignPage::new(
            rows.iter().take(first).map(CampaignRow::key).collect(),
        ));
        for row in rows.into_iter().take(first) {
            let cursor = Cursor {
                sort,
                id: row.campaign_id,
                value: row.sort_value(sort),
            }
            .encode();
            connection
                .edges
                .push(Edge::new(cursor, row.into_campaign(page.clone())?));
        }
        Ok(connection)
    }
}
