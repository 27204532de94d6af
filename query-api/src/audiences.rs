//! Audiences with their segments, personas and account lists.

use crate::campaigns::page_size;
use crate::db::ReadDb;
use crate::errors::{database, ErrorCode};
use crate::freshness::await_position;
use crate::guard::principal;
use crate::loaders::Owned;
use crate::scalars::Long;
use crate::siblings::AudiencePage;
use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{ComplexObject, Context, Object, SimpleObject, ID};
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::sync::Arc;
use uuid::Uuid;

const PROJECTION: &str = "audiences";

#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Audience {
    pub id: ID,
    pub name: String,
    /// Targeting facets to include and exclude.
    pub criteria: serde_json::Value,
    pub version: Long,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    key: Owned,
    #[graphql(skip)]
    page: Arc<AudiencePage>,
}

#[ComplexObject]
impl Audience {
    async fn segments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Segment>> {
        let rows = self.page.segments(ctx.data::<ReadDb>()?, &self.key).await?;
        rows.into_iter().map(SegmentRow::into_segment).collect()
    }

    /// CRM lists matched on the platforms: their size, never their identifiers.
    async fn account_lists(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AccountList>> {
        self.page
            .account_lists(ctx.data::<ReadDb>()?, &self.key)
            .await
    }
}

#[derive(SimpleObject, Debug, Clone)]
pub struct Segment {
    pub id: ID,
    pub audience_id: ID,
    pub name: String,
    pub criteria: serde_json::Value,
    pub estimated_size: Option<Long>,
    pub personas: Vec<Persona>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct Persona {
    pub name: String,
    pub titles: Vec<String>,
    pub seniority: Option<String>,
    pub industry: Option<String>,
    pub pains: Vec<String>,
    pub messaging_angles: Vec<String>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct AccountList {
    pub id: ID,
    pub name: String,
    pub lawful_basis: String,
    /// How many hashed identifiers the list holds.
    pub identifiers: Long,
}

#[derive(Debug, Clone)]
pub struct SegmentRow {
    audience_id: Uuid,
    segment_id: Uuid,
    name: String,
    criteria: serde_json::Value,
    estimated_size: Option<i64>,
    personas: serde_json::Value,
}

pub const SELECT_SEGMENT: &str =
    "SELECT tenant_id, segment_id, audience_id, name, criteria, estimated_size, \
     personas FROM audience_segments";

impl SegmentRow {
    pub fn decode(row: &PgRow) -> Result<Self, sqlx::Error> {
        Ok(SegmentRow {
            audience_id: row.try_get("audience_id")?,
            segment_id: row.try_get("segment_id")?,
            name: row.try_get("name")?,
            criteria: row.try_get("criteria")?,
            estimated_size: row.try_get("estimated_size")?,
            personas: row.try_get("personas")?,
        })
    }

    fn into_segment(self) -> async_graphql::Result<Segment> {
        let personas: Vec<adflow_domain::audience::Persona> = serde_json::from_value(self.personas)
            .map_err(|error| {
                tracing::error!(%error, segment = %self.segment_id, "unreadable personas");
                ErrorCode::Internal.error("unreadable segment row")
            })?;
        Ok(Segment {
            id: ID(self.segment_id.to_string()),
            audience_id: ID(self.audience_id.to_string()),
            name: self.name,
            criteria: self.criteria,
            estimated_size: self.estimated_size.map(Long),
            personas: personas
                .into_iter()
                .map(|p| Persona {
                    name: p.name,
                    titles: p.titles,
                    seniority: p.seniority,
                    industry: p.industry,
                    pains: p.pains,
                    messaging_angles: p.messaging_angles,
                })
                .collect(),
        })
    }
}

const SELECT: &str =
    "SELECT tenant_id, audience_id, name, criteria, version, created_at, updated_at FROM audiences";

/// An audience row; `page` is filled in once the whole page is read.
fn audience(row: &PgRow) -> Result<Audience, sqlx::Error> {
    let tenant: Uuid = row.try_get("tenant_id")?;
    let id: Uuid = row.try_get("audience_id")?;
    Ok(Audience {
        id: ID(id.to_string()),
        name: row.try_get("name")?,
        criteria: row.try_get("criteria")?,
        version: Long(row.try_get("version")?),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        key: Owned { tenant, id },
        page: Arc::new(AudiencePage::new(vec![Owned { tenant, id }])),
    })
}

#[derive(Default)]
pub struct AudienceQuery;

#[Object]
impl AudienceQuery {
    /// One audience of your tenant, or null.
    async fn audience(
        &self,
        ctx: &Context<'_>,
        id: ID,
        min_position: Option<String>,
    ) -> async_graphql::Result<Option<Audience>> {
        let principal = principal(ctx)?;
        await_position(ctx, PROJECTION, min_position.as_deref()).await?;
        let Ok(id) = Uuid::parse_str(&id) else {
            return Ok(None);
        };
        sqlx::query(&format!(
            "{SELECT} WHERE tenant_id = $1 AND audience_id = $2"
        ))
        .bind(principal.tenant_id.0)
        .bind(id)
        .fetch_optional(ctx.data::<ReadDb>()?.statement())
        .await
        .and_then(|row| row.as_ref().map(audience).transpose())
        .map_err(database)
    }

    /// Your tenant's audiences, oldest first.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity")]
    async fn audiences(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        min_position: Option<String>,
    ) -> async_graphql::Result<Connection<String, Audience, EmptyFields, EmptyFields>> {
        let principal = principal(ctx)?;
        let first = page_size(first)?;
        let invalid = || ErrorCode::BadUserInput.error("after is not a cursor of this list");
        let after = match after.as_deref() {
            None => None,
            Some(raw) => {
                let (id, at) = raw.split_once(':').ok_or_else(invalid)?;
                let id = Uuid::parse_str(id).map_err(|_| invalid())?;
                let at = DateTime::parse_from_rfc3339(at).map_err(|_| invalid())?;
                Some((id, at.with_timezone(&Utc)))
            }
        };
        await_position(ctx, PROJECTION, min_position.as_deref()).await?;
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE tenant_id = $1 AND ($2::uuid IS NULL OR (created_at, audience_id) > ($3, $2)) \
             ORDER BY created_at, audience_id LIMIT $4"
        ))
        .bind(principal.tenant_id.0)
        .bind(after.map(|a| a.0))
        .bind(after.map(|a| a.1))
        .bind(first as i64 + 1)
        .fetch_all(ctx.data::<ReadDb>()?.statement())
        .await
        .and_then(|rows| rows.iter().map(audience).collect::<Result<Vec<_>, _>>())
        .map_err(database)?;
        let has_next = rows.len() > first;
        let mut connection = Connection::new(after.is_some(), has_next);
        let page = Arc::new(AudiencePage::new(
            rows.iter().take(first).map(|a| a.key).collect(),
        ));
        for mut audience in rows.into_iter().take(first) {
            audience.page = page.clone();
            let cursor = format!(
                "{}:{}",
                audience.key.id,
                audience
                    .created_at
                    .to_rfc3339_opts(SecondsFormat::Micros, true)
            );
            connection.edges.push(Edge::new(cursor, audience));
        }
        Ok(connection)
    }

    /// One segment of your tenant, or null.
    async fn segment(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Segment>> {
        let principal = principal(ctx)?;
        let Ok(id) = Uuid::parse_str(&id) else {
            return Ok(None);
        };
        let row = sqlx::query(&format!(
            "{SELECT_SEGMENT} WHERE tenant_id = $1 AND segment_id = $2"
        ))
        .bind(principal.tenant_id.0)
        .bind(id)
        .fetch_optional(ctx.data::<ReadDb>()?.statement())
        .await
        .and_then(|row| row.as_ref().map(SegmentRow::decode).transpose())
        .map_err(database)?;
        row.map(SegmentRow::into_segment).transpose()
    }
}
