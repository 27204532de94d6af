//! The ClickHouse analytics read models: hourly performance facts, the daily rollup they sum into,
//! and one row per domain event. The DDL is `schemas/clickhouse/analytics.sql`, which also explains
//! how a batch is written exactly once without transactions.

mod projector;
pub mod queries;
pub mod rebuild;
mod retention;
mod rows;
pub mod synthetic;

pub use projector::{AnalyticsOptions, AnalyticsProjector};

use crate::ProjectionError;

/// The name of the analytics projector (metrics, `adflow projections rebuild analytics`).
pub const NAME: &str = "analytics";
pub const FACTS: &str = "performance_hourly";
pub const DAILY: &str = "performance_daily";
pub const EVENTS: &str = "domain_events";
pub const TABLES: [&str; 3] = [FACTS, DAILY, EVENTS];

/// A ClickHouse server and the database that holds the analytics tables.
#[derive(Clone)]
pub struct Analytics {
    client: clickhouse::Client,
    database: String,
}

impl std::fmt::Debug for Analytics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analytics")
            .field("database", &self.database)
            .finish()
    }
}

impl Analytics {
    /// A client for `url` (HTTP interface); nothing is sent until the first query.
    pub fn new(url: &str, database: &str) -> Result<Self, ProjectionError> {
        if adflow_schemas::clickhouse_analytics(database, "").is_none() {
            return Err(ProjectionError::Configuration(format!(
                "ClickHouse database name {database:?}: use letters, digits and underscores"
            )));
        }
        let client = clickhouse::Client::default()
            .with_url(url)
            .with_database(database)
            // Validation asks the server for column types with a query 18.16 does not know.
            .with_validation(false);
        Ok(Self {
            client,
            database: database.to_owned(),
        })
    }

    pub fn database(&self) -> &str {
        &self.database
    }

    pub fn client(&self) -> &clickhouse::Client {
        &self.client
    }

    /// Creates the database and the tables ending in `suffix` where missing.
    pub async fn ensure_tables(&self, suffix: &str) -> Result<(), ProjectionError> {
        let statements = adflow_schemas::clickhouse_analytics(&self.database, suffix)
            .ok_or_else(|| ProjectionError::Configuration(format!("table suffix {suffix:?}")))?;
        // The database may not exist yet, so these run outside it.
        let client = self.client.clone().with_database("default");
        self.drop_outdated_rollup(&client, suffix).await?;
        for statement in statements {
            client.query(&statement).execute().await?;
        }
        Ok(())
    }

    /// A rollup created before it had ad groups cannot take today's rows. It holds nothing the
    /// log does not: dropping it (and with it the checkpoint) makes the projector replay the log
    /// into a new one; facts and events replayed collapse with the ones already there.
    async fn drop_outdated_rollup(
        &self,
        client: &clickhouse::Client,
        suffix: &str,
    ) -> Result<(), ProjectionError> {
        let table = format!("{DAILY}{suffix}");
        let (exists, current) = client
            .query(
                "SELECT (SELECT count() FROM system.tables WHERE database = ? AND name = ?),                         (SELECT count() FROM system.columns WHERE database = ? AND table = ? AND name = 'ad_group')",
            )
            .bind(&self.database)
            .bind(&table)
            .bind(&self.database)
            .bind(&table)
            .fetch_one::<(u64, u64)>()
            .await?;
        if exists > 0 && current == 0 {
            tracing::warn!(
                table,
                "the analytics rollup predates ad groups: dropped, to be rebuilt from the log"
            );
            client
                .query(&format!("DROP TABLE IF EXISTS {}.{table}", self.database))
                .execute()
                .await?;
        }
        Ok(())
    }

    /// Drops the tables ending in `suffix` (a rebuild's leftovers).
    pub(crate) async fn drop_tables(&self, suffix: &str) -> Result<(), ProjectionError> {
        for table in TABLES {
            self.client
                .query(&format!(
                    "DROP TABLE IF EXISTS {}.{table}{suffix}",
                    self.database
                ))
                .execute()
                .await?;
        }
        Ok(())
    }

    /// Drops the whole database (tests clean up with it).
    pub async fn drop_database(&self) -> Result<(), ProjectionError> {
        self.client
            .clone()
            .with_database("default")
            .query(&format!("DROP DATABASE IF EXISTS {}", self.database))
            .execute()
            .await?;
        Ok(())
    }
}
