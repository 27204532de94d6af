//! Loads by many keys at once: a nested list (deployments of 50 campaigns, segments of 20
//! audiences, the performance of a page of campaigns) costs one statement for the whole page, never
//! one per row. Pages call them through `siblings`; lookups from unrelated parents (a
//! recommendation's campaign, a campaign's performance) go through a DataLoader, whose keys carry
//! the tenant, so loads of concurrent requests batch together without mixing tenants.

use crate::analytics_gate::TenantGates;
use crate::db::ReadDb;
use crate::errors::{analytics, database};
use adflow_domain::metrics::PerformanceTotals;
use adflow_projections::analytics::{queries, Analytics};
use async_graphql::dataloader::{DataLoader, Loader};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// A row of the read models that belongs to one tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Owned {
    pub tenant: Uuid,
    pub id: Uuid,
}

fn unzip(keys: &[Owned]) -> (Vec<Uuid>, Vec<Uuid>) {
    keys.iter().map(|k| (k.tenant, k.id)).unzip()
}

/// The rows of `select` (which reads `tenant_id` and `id_column`) whose `(tenant_id, id_column)`
/// is one of the keys, in `order`, each with its key.
async fn fetch_keyed<T>(
    db: &ReadDb,
    select: &str,
    id_column: &str,
    order: &str,
    keys: &[Owned],
    decode: impl Fn(&PgRow) -> Result<T, sqlx::Error>,
) -> async_graphql::Result<Vec<(Owned, T)>> {
    let sql = format!(
        "{select} WHERE (tenant_id, {id_column}) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[])) {order}"
    );
    let (tenants, ids) = unzip(keys);
    let rows = sqlx::query(&sql)
        .bind(tenants)
        .bind(ids)
        .fetch_all(db.statement())
        .await
        .map_err(database)?;
    let keyed = |row: &PgRow| -> Result<(Owned, T), sqlx::Error> {
        let key = Owned {
            tenant: row.try_get("tenant_id")?,
            id: row.try_get(id_column)?,
        };
        Ok((key, decode(row)?))
    };
    rows.iter()
        .map(|row| keyed(row).map_err(database))
        .collect()
}

fn group<T>(rows: Vec<(Owned, T)>, keys: &[Owned]) -> HashMap<Owned, Vec<T>> {
    let mut grouped: HashMap<Owned, Vec<T>> = keys.iter().map(|k| (*k, Vec::new())).collect();
    for (key, value) in rows {
        grouped.entry(key).or_default().push(value);
    }
    grouped
}

// ---------------------------------------------------------------------------------------------

/// The structure document and its validation warnings, by campaign.
pub struct StructureLoader(pub ReadDb);

#[derive(Debug, Clone)]
pub struct StructureRow {
    pub structure: Option<serde_json::Value>,
    pub warnings: serde_json::Value,
}

impl Loader<Owned> for StructureLoader {
    type Value = StructureRow;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Owned]) -> Result<HashMap<Owned, StructureRow>, Self::Error> {
        let select = "SELECT tenant_id, campaign_id, structure, structure_warnings FROM campaigns";
        let rows = fetch_keyed(&self.0, select, "campaign_id", "", keys, |row| {
            Ok(StructureRow {
                structure: row.try_get("structure")?,
                warnings: row.try_get("structure_warnings")?,
            })
        })
        .await?;
        Ok(rows.into_iter().collect())
    }
}

/// Deployment status per platform, by campaign.
pub struct DeploymentsLoader(pub ReadDb);

#[derive(Debug, Clone)]
pub struct DeploymentRow {
    pub platform: String,
    pub status: String,
    pub external_id: Option<String>,
    pub failure_reason: Option<String>,
    pub retryable: Option<bool>,
    pub updated_at: DateTime<Utc>,
}

impl Loader<Owned> for DeploymentsLoader {
    type Value = Vec<DeploymentRow>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Owned]) -> Result<HashMap<Owned, Self::Value>, Self::Error> {
        let select =
            "SELECT tenant_id, campaign_id, platform, status, external_id, failure_reason, \
                      retryable, updated_at FROM campaign_deployments";
        let rows = fetch_keyed(
            &self.0,
            select,
            "campaign_id",
            "ORDER BY platform",
            keys,
            |row| {
                Ok(DeploymentRow {
                    platform: row.try_get("platform")?,
                    status: row.try_get("status")?,
                    external_id: row.try_get("external_id")?,
                    failure_reason: row.try_get("failure_reason")?,
                    retryable: row.try_get("retryable")?,
                    updated_at: row.try_get("updated_at")?,
                })
            },
        )
        .await?;
        Ok(group(rows, keys))
    }
}

/// Optimisation proposals, by campaign, newest first.
pub struct ProposalsLoader(pub ReadDb);

impl Loader<Owned> for ProposalsLoader {
    type Value = Vec<crate::recommendations::ProposalRow>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Owned]) -> Result<HashMap<Owned, Self::Value>, Self::Error> {
        let rows = fetch_keyed(
            &self.0,
            crate::recommendations::SELECT,
            "campaign_id",
            "ORDER BY proposed_at DESC, proposal_id DESC",
            keys,
            crate::recommendations::ProposalRow::decode,
        )
        .await?;
        Ok(group(rows, keys))
    }
}

/// Campaign rows by id (a proposal's or a ranking's campaign).
pub struct CampaignLoader(pub ReadDb);

impl Loader<Owned> for CampaignLoader {
    /// The row, and the page of every campaign loaded in the same batch.
    type Value = (
        crate::campaigns::CampaignRow,
        std::sync::Arc<crate::siblings::CampaignPage>,
    );
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Owned]) -> Result<HashMap<Owned, Self::Value>, Self::Error> {
        let rows = fetch_keyed(
            &self.0,
            crate::campaigns::SELECT,
            "campaign_id",
            "",
            keys,
            crate::campaigns::CampaignRow::decode,
        )
        .await?;
        let page = std::sync::Arc::new(crate::siblings::CampaignPage::new(
            rows.iter().map(|(key, _)| *key).collect(),
        ));
        Ok(rows
            .into_iter()
            .map(|(key, row)| (key, (row, page.clone())))
            .collect())
    }
}

/// Segments (with their personas), by audience.
pub struct SegmentsLoader(pub ReadDb);

impl Loader<Owned> for SegmentsLoader {
    type Value = Vec<crate::audiences::SegmentRow>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Owned]) -> Result<HashMap<Owned, Self::Value>, Self::Error> {
        let rows = fetch_keyed(
            &self.0,
            crate::audiences::SELECT_SEGMENT,
            "audience_id",
            "ORDER BY name, segment_id",
            keys,
            crate::audiences::SegmentRow::decode,
        )
        .await?;
        Ok(group(rows, keys))
    }
}

/// Account lists (their size, never their identifiers), by audience.
pub struct AccountListsLoader(pub ReadDb);

impl Loader<Owned> for AccountListsLoader {
    type Value = Vec<crate::audiences::AccountList>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Owned]) -> Result<HashMap<Owned, Self::Value>, Self::Error> {
        let select = "SELECT tenant_id, audience_id, list_id, name, lawful_basis, identifiers \
                      FROM account_lists";
        let order = "ORDER BY name, list_id";
        let rows = fetch_keyed(&self.0, select, "audience_id", order, keys, |row| {
            Ok(crate::audiences::AccountList {
                id: async_graphql::ID(row.try_get::<Uuid, _>("list_id")?.to_string()),
                name: row.try_get("name")?,
                lawful_basis: row.try_get("lawful_basis")?,
                identifiers: crate::scalars::Long(row.try_get("identifiers")?),
            })
        })
        .await?;
        Ok(group(rows, keys))
    }
}

// ---------------------------------------------------------------------------------------------

/// A campaign's performance over days `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PerformanceKey {
    pub campaign: Owned,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// Campaign totals from ClickHouse: one grouped query per tenant and date range in the batch,
/// each under its tenant's permit (the loader is shared by every request, so it has no request
/// permit to take).
pub struct PerformanceLoader(pub Analytics, pub Arc<TenantGates>);

impl Loader<PerformanceKey> for PerformanceLoader {
    type Value = PerformanceTotals;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[PerformanceKey],
    ) -> Result<HashMap<PerformanceKey, PerformanceTotals>, Self::Error> {
        let mut batches: BTreeMap<(Uuid, NaiveDate, NaiveDate), Vec<Uuid>> = BTreeMap::new();
        for key in keys {
            batches
                .entry((key.campaign.tenant, key.from, key.to))
                .or_default()
                .push(key.campaign.id);
        }
        let mut found = HashMap::with_capacity(keys.len());
        for ((tenant, from, to), campaigns) in batches {
            let slice = queries::Slice {
                tenant_id: tenant,
                campaign_id: None,
                from,
                to,
            };
            let permits = self.1.enter(tenant, None).await?;
            let totals = queries::totals_by_campaign(&self.0, &slice, &campaigns)
                .await
                .map_err(analytics)?;
            drop(permits);
            for campaign in campaigns {
                let key = PerformanceKey {
                    campaign: Owned {
                        tenant,
                        id: campaign,
                    },
                    from,
                    to,
                };
                found.insert(key, totals.get(&campaign).copied().unwrap_or_default());
            }
        }
        Ok(found)
    }
}

/// Every loader, created once per schema and shared by its requests.
pub fn register(
    builder: async_graphql::SchemaBuilder<
        crate::Query,
        async_graphql::EmptyMutation,
        crate::live::Subscription,
    >,
    db: &ReadDb,
    analytics: Option<&Analytics>,
    gates: &Arc<TenantGates>,
) -> async_graphql::SchemaBuilder<
    crate::Query,
    async_graphql::EmptyMutation,
    crate::live::Subscription,
> {
    // A short delay gathers the keys of one resolver level (and of concurrent requests).
    let delay = Duration::from_millis(1);
    let builder =
        builder.data(DataLoader::new(CampaignLoader(db.clone()), tokio::spawn).delay(delay));
    match analytics {
        Some(analytics) => builder.data(
            DataLoader::new(
                PerformanceLoader(analytics.clone(), gates.clone()),
                tokio::spawn,
            )
            .delay(delay),
        ),
        None => builder,
    }
}
