//! The AI's optimisation proposals ("recommendations"): what it wants to change, why, how sure it
//! is and which model said so; the approval queue is the PENDING ones.

use crate::campaigns::{page_size, Campaign};
use crate::db::ReadDb;
use crate::errors::{database, ErrorCode};
use crate::freshness::await_position;
use crate::guard::principal;
use crate::loaders::{CampaignLoader, Owned};
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use uuid::Uuid;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ProposalStatus {
    /// Awaiting a decision.
    Pending,
    Applied,
    Declined,
}

impl ProposalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalStatus::Pending => "PENDING",
            ProposalStatus::Applied => "APPLIED",
            ProposalStatus::Declined => "DECLINED",
        }
    }

    fn parse(value: &str) -> Option<ProposalStatus> {
        [Self::Pending, Self::Applied, Self::Declined]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Recommendation {
    pub id: ID,
    pub campaign_id: ID,
    /// The kind of change (CHANGE_BUDGET, PAUSE, ADD_NEGATIVE_KEYWORD...).
    pub kind: String,
    #[graphql(skip)]
    pub action: serde_json::Value,
    pub reason: String,
    /// 0 to 1.
    pub confidence: f64,
    pub model_version: String,
    pub status: ProposalStatus,
    /// Applied without a person, within the tenant's guardrails.
    pub automatic: Option<bool>,
    pub decline_reason: Option<String>,
    pub proposed_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub campaign_key: Owned,
}

#[ComplexObject]
impl Recommendation {
    /// The change with its parameters, as `ApproveProposal` would apply it (its `…Micros` fields
    /// `null` for a role that may not read money).
    async fn action(&self, ctx: &Context<'_>) -> async_graphql::Result<serde_json::Value> {
        let role = crate::guard::principal(ctx)?.role;
        Ok(crate::guard::without_money(role, self.action.clone()))
    }

    /// The campaign the proposal is for.
    async fn campaign(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Campaign>> {
        ctx.data::<DataLoader<CampaignLoader>>()?
            .load_one(self.campaign_key)
            .await?
            .map(|(row, page)| row.into_campaign(page))
            .transpose()
    }
}

#[derive(Debug, Clone)]
pub struct ProposalRow {
    pub tenant_id: Uuid,
    pub campaign_id: Uuid,
    proposal_id: Uuid,
    action: serde_json::Value,
    reason: String,
    confidence_basis_points: i32,
    model_version: String,
    pub status: String,
    automatic: Option<bool>,
    decline_reason: Option<String>,
    proposed_at: DateTime<Utc>,
    decided_at: Option<DateTime<Utc>>,
}

pub const SELECT: &str =
    "SELECT tenant_id, proposal_id, campaign_id, action, reason, confidence_basis_points, \
     model_version, status, automatic, decline_reason, proposed_at, decided_at FROM proposals";

impl ProposalRow {
    pub fn decode(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(ProposalRow {
            tenant_id: row.try_get("tenant_id")?,
            campaign_id: row.try_get("campaign_id")?,
            proposal_id: row.try_get("proposal_id")?,
            action: row.try_get("action")?,
            reason: row.try_get("reason")?,
            confidence_basis_points: row.try_get("confidence_basis_points")?,
            model_version: row.try_get("model_version")?,
            status: row.try_get("status")?,
            automatic: row.try_get("automatic")?,
            decline_reason: row.try_get("decline_reason")?,
            proposed_at: row.try_get("proposed_at")?,
            decided_at: row.try_get("decided_at")?,
        })
    }

    pub fn into_recommendation(self) -> async_graphql::Result<Recommendation> {
        let status = ProposalStatus::parse(&self.status).ok_or_else(|| {
            tracing::error!(status = %self.status, "unreadable proposal row");
            ErrorCode::Internal.error("unreadable proposal row")
        })?;
        // The action is the domain's tagged enum: {"kind": "...", ...}.
        let kind = self.action["kind"].as_str().unwrap_or_default().to_owned();
        Ok(Recommendation {
            id: ID(self.proposal_id.to_string()),
            campaign_id: ID(self.campaign_id.to_string()),
            kind,
            action: self.action,
            reason: self.reason,
            confidence: f64::from(self.confidence_basis_points) / 10_000.0,
            model_version: self.model_version,
            status,
            automatic: self.automatic,
            decline_reason: self.decline_reason,
            proposed_at: self.proposed_at,
            decided_at: self.decided_at,
            campaign_key: Owned {
                tenant: self.tenant_id,
                id: self.campaign_id,
            },
        })
    }
}

fn cursor_of(row: &ProposalRow) -> String {
    format!(
        "{}:{}",
        row.proposal_id,
        row.proposed_at.to_rfc3339_opts(SecondsFormat::Micros, true)
    )
}

fn parse_cursor(raw: &str) -> async_graphql::Result<(Uuid, DateTime<Utc>)> {
    let invalid = || ErrorCode::BadUserInput.error("after is not a cursor of this list");
    let (id, at) = raw.split_once(':').ok_or_else(invalid)?;
    let id = Uuid::parse_str(id).map_err(|_| invalid())?;
    let at = DateTime::parse_from_rfc3339(at).map_err(|_| invalid())?;
    Ok((id, at.with_timezone(&Utc)))
}

#[derive(Default)]
pub struct RecommendationQuery;

#[Object]
impl RecommendationQuery {
    /// Your tenant's recommendations, newest first; by default the ones awaiting approval.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity")]
    async fn recommendations(
        &self,
        ctx: &Context<'_>,
        status: Option<ProposalStatus>,
        campaign_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
        min_position: Option<String>,
    ) -> async_graphql::Result<Connection<String, Recommendation, EmptyFields, EmptyFields>> {
        let principal = principal(ctx)?;
        let first = page_size(first)?;
        let status = status.unwrap_or(ProposalStatus::Pending);
        let campaign = match campaign_id {
            None => None,
            Some(id) => match Uuid::parse_str(&id) {
                Ok(id) => Some(id),
                Err(_) => return Ok(Connection::new(false, false)),
            },
        };
        let after = after.as_deref().map(parse_cursor).transpose()?;
        await_position(ctx, "campaigns", min_position.as_deref()).await?;
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE tenant_id = $1 AND status = $2 AND ($3::uuid IS NULL OR campaign_id = $3) \
               AND ($4::uuid IS NULL OR (proposed_at, proposal_id) < ($5, $4)) \
             ORDER BY proposed_at DESC, proposal_id DESC LIMIT $6"
        ))
        .bind(principal.tenant_id.0)
        .bind(status.as_str())
        .bind(campaign)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(first as i64 + 1)
        .fetch_all(ctx.data::<ReadDb>()?.statement())
        .await
        .and_then(|rows| rows.iter().map(ProposalRow::decode).collect::<Result<Vec<_>, _>>())
        .map_err(database)?;
        let has_next = rows.len() > first;
        let mut connection = Connection::new(after.is_some(), has_next);
        for row in rows.into_iter().take(first) {
            connection
                .edges
                .push(Edge::new(cursor_of(&row), row.into_recommendation()?));
        }
        Ok(connection)
    }
}
