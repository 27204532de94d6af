//! Campaigns: detail and the Relay-paginated list, always within the caller's tenant.

use crate::errors::{database, ErrorCode};
use crate::freshness::await_position;
use crate::scalars::Long;
use adflow_auth::Principal;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Row};
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
fn status(value: &str) -> Option<CampaignStatus> {
    adflow_domain::campaign::CampaignStatus::parse(value).map(Into::into)
}

fn objective(value: &str) -> Option<Objective> {
    adflow_domain::campaign::Objective::parse(value).map(Into::into)
}

fn platform(value: &str) -> Option<Platform> {
    adflow_domain::campaign::Platform::parse(value).map(Into::into)
}

#[derive(SimpleObject, Debug, Clone)]
pub struct Campaign {
    pub id: ID,
    pub name: String,
    pub status: CampaignStatus,
    pub objective: Objective,
    pub platforms: Vec<Platform>,
    /// ISO 4217 code; every amount of the campaign is micros of it.
    pub currency: String,
    pub total_budget_micros: Long,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The aggregate's version: send it as `If-Match` with the next command.
    pub version: Long,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

struct CampaignRow {
    campaign_id: Uuid,
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
    fn decode(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(CampaignRow {
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

    fn into_campaign(self) -> async_graphql::Result<Campaign> {
        let corrupt = |what: &str, value: &str| {
            tracing::error!(campaign = %self.campaign_id, what, value, "unreadable read-model row");
            ErrorCode::Internal.error("unreadable campaign row")
        };
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
            total_budget_micros: Long(self.total_budget_micros),
            start_date: self.start_date,
            end_date: self.end_date,
            version: Long(self.version),
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const SELECT: &str =
    "SELECT campaign_id, name, status, objective, platforms, currency, total_budget_micros, start_date, \
                      end_date, version, created_at, updated_at FROM campaigns";

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
        let principal = ctx.data::<Principal>()?;
        await_position(ctx, PROJECTION, min_position.as_deref()).await?;
        let Ok(id) = Uuid::parse_str(&id) else {
            return Ok(None);
        };
        let row = sqlx::query(&format!(
            "{SELECT} WHERE tenant_id = $1 AND campaign_id = $2"
        ))
        .bind(principal.tenant_id.0)
        .bind(id)
        .fetch_optional(ctx.data::<PgPool>()?)
        .await
        .and_then(|row| row.as_ref().map(CampaignRow::decode).transpose())
        .map_err(database)?;
        row.map(CampaignRow::into_campaign).transpose()
    }

    /// Your tenant's campaigns, oldest first, `first` at a time (at most 100).
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity")]
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        min_position: Option<String>,
    ) -> async_graphql::Result<Connection<String, Campaign, EmptyFields, EmptyFields>> {
        let principal = ctx.data::<Principal>()?;
        let first = match first {
            None => DEFAULT_PAGE_SIZE,
            Some(n) if (0..=MAX_PAGE_SIZE as i32).contains(&n) => n as usize,
            Some(_) => {
                return Err(ErrorCode::BadUserInput
                    .error(format!("first must be between 0 and {MAX_PAGE_SIZE}")))
            }
        };
        let after = match after.as_deref() {
            None => None,
            Some(cursor) => Some(Uuid::parse_str(cursor).map_err(|_| {
                ErrorCode::BadUserInput.error("after is not a cursor of this list")
            })?),
        };
        await_position(ctx, PROJECTION, min_position.as_deref()).await?;
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE tenant_id = $1 AND ($2::uuid IS NULL OR campaign_id > $2) ORDER BY campaign_id LIMIT $3"
        ))
        .bind(principal.tenant_id.0)
        .bind(after)
        .bind(first as i64 + 1)
        .fetch_all(ctx.data::<PgPool>()?)
        .await
        .and_then(|rows| rows.iter().map(CampaignRow::decode).collect::<Result<Vec<_>, _>>())
        .map_err(database)?;
        let has_next = rows.len() > first;
        let mut connection = Connection::new(after.is_some(), has_next);
        for row in rows.into_iter().take(first) {
            let cursor = row.campaign_id.to_string();
            connection
                .edges
                .push(Edge::new(cursor, row.into_campaign()?));
        }
        Ok(connection)
    }
}
