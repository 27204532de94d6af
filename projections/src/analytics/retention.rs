//! Raw platform data past its hot period: the hourly facts are partitioned by month, so a month
//! wholly before the cutoff is dropped as a partition (no mutation, no rewrite). The daily rollup
//! and the reports in the log stay; a rebuild from the log brings old hours back until the next
//! sweep drops them again.

use super::Analytics;
use crate::ProjectionError;
use chrono::{Datelike, NaiveDate};
use clickhouse::Row;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Row, Deserialize)]
struct Partition {
    partition: String,
}

#[derive(Row, Deserialize)]
struct TenantRows {
    #[serde(with = "clickhouse::serde::uuid")]
    tenant_id: Uuid,
    rows: u64,
}

impl Analytics {
    /// Drops every month of hourly facts that ends before `cutoff`'s month begins; returns the
    /// rows removed per tenant.
    pub async fn drop_hourly_before(
        &self,
        cutoff: NaiveDate,
    ) -> Result<Vec<(Uuid, u64)>, ProjectionError> {
        let cutoff_month = cutoff.year() as u32 * 100 + cutoff.month();
        let database = self.database();
        let partitions: Vec<u32> = self
            .client()
            .query(
                "SELECT DISTINCT partition FROM system.parts
                  WHERE database = ? AND table = 'performance_hourly' AND active",
            )
            .bind(database)
            .fetch_all::<Partition>()
            .await?
            .into_iter()
            .filter_map(|p| p.partition.trim_matches('\'').parse().ok())
            .filter(|month| *month < cutoff_month)
            .collect();
        if partitions.is_empty() {
            return Ok(Vec::new());
        }
        let removed = self
            .client()
            .query(&format!(
                "SELECT tenant_id, count() AS rows FROM {database}.performance_hourly FINAL
                  WHERE toYYYYMM(hour) < ? GROUP BY tenant_id"
            ))
            .bind(cutoff_month)
            .fetch_all::<TenantRows>()
            .await?
            .into_iter()
            .map(|r| (r.tenant_id, r.rows))
            .collect();
        for month in partitions {
            self.client()
                .query(&format!(
                    "ALTER TABLE {database}.performance_hourly DROP PARTITION {month}"
                ))
                .execute()
                .await?;
        }
        Ok(removed)
    }
}
