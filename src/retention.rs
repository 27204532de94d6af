//! The retention sweeper: each data category kept no longer than its period (`ADFLOW_RETENTION_*`
//! days; 0 keeps it), every removal recorded per tenant on the tenant's retention ledger
//! (`RetentionApplied`, actor `system:retention`) through the one write path. Run daily by the
//! projections process (`ADFLOW_RETENTION_SWEEP_SECONDS`) and on demand by
//! `adflow retention sweep`. A removal is done before it is recorded: if recording fails the error
//! is logged with the counts, and the trail lacks that sweep.

use crate::config::Config;
use crate::platform::{self, PlatformError};
use adflow_application::{Application, Command, Expected};
use adflow_domain::retention::{RetentionCategory, RetentionCommand, RetentionLedger};
use adflow_domain::TenantId;
use adflow_event_store::EventMetadata;
use adflow_projections::analytics::Analytics;
use chrono::{Days, NaiveDate, Utc};
use sqlx::PgPool;
use std::collections::BTreeMap;
use uuid::Uuid;

/// What one sweep removed: per category, per tenant.
pub type Swept = BTreeMap<RetentionCategory, BTreeMap<Uuid, u64>>;

fn cutoff(today: NaiveDate, days: u32) -> Option<NaiveDate> {
    (days > 0).then(|| today.checked_sub_days(Days::new(u64::from(days))))?
}

fn counted(rows: Vec<(Uuid,)>) -> BTreeMap<Uuid, u64> {
    let mut counts = BTreeMap::new();
    for (tenant,) in rows {
        *counts.entry(tenant).or_default() += 1;
    }
    counts
}

/// Removes what is past its period as of `today`, and records it.
pub async fn sweep(
    config: &Config,
    pool: &PgPool,
    application: &Application,
    analytics: &Analytics,
    today: NaiveDate,
) -> Result<Swept, PlatformError> {
    let mut swept = Swept::new();
    let mut cutoffs = BTreeMap::new();
    if let Some(day) = cutoff(today, config.retention_raw_platform_days) {
        let removed = analytics.drop_hourly_before(day).await?;
        cutoffs.insert(RetentionCategory::RawPlatformData, day);
        swept.insert(
            RetentionCategory::RawPlatformData,
            removed.into_iter().collect(),
        );
    }
    if let Some(day) = cutoff(today, config.retention_access_log_days) {
        let rows: Vec<(Uuid,)> =
            sqlx::query_as("DELETE FROM access_log WHERE at < $1 RETURNING tenant_id")
                .bind(day)
                .fetch_all(pool)
                .await?;
        cutoffs.insert(RetentionCategory::AccessLog, day);
        swept.insert(RetentionCategory::AccessLog, counted(rows));
    }
    if let Some(day) = cutoff(today, config.retention_crm_identifier_days) {
        let rows: Vec<(Uuid,)> = sqlx::query_as(
            "UPDATE data_subject_keys SET key = NULL, erased_at = now()
              WHERE created_at < $1 AND key IS NOT NULL RETURNING tenant_id",
        )
        .bind(day)
        .fetch_all(pool)
        .await?;
        if !rows.is_empty() {
            // As for an erasure: the destroyed keys' old row versions must not linger on disk.
            sqlx::query("VACUUM data_subject_keys")
                .execute(pool)
                .await?;
        }
        cutoffs.insert(RetentionCategory::CrmIdentifiers, day);
        swept.insert(RetentionCategory::CrmIdentifiers, counted(rows));
    }
    let run = Uuid::now_v7();
    for (category, tenants) in &swept {
        for (tenant, removed) in tenants {
            let recorded = application
                .execute::<RetentionLedger>(Command {
                    tenant: TenantId(*tenant),
                    aggregate_id: *tenant,
                    expected: Expected::Latest,
                    command: RetentionCommand::RecordSweep {
                        category: *category,
                        cutoff: cutoffs[category],
                        removed: *removed,
                    },
                    metadata: EventMetadata {
                        tenant_id: *tenant,
                        actor: "system:retention".into(),
                        correlation_id: run,
                        causation_id: run,
                        extra: Default::default(),
                    },
                    once_per_cause: false,
                })
                .await;
            if let Err(error) = recorded {
                tracing::error!(%error, %tenant, ?category, removed, "a retention sweep was not recorded");
            }
        }
    }
    Ok(swept)
}

/// `adflow retention sweep`: one sweep now, printed.
pub async fn sweep_now(config: &Config) -> Result<(), PlatformError> {
    let pool = platform::connect(config).await?;
    adflow_schemas::migrate(&pool).await?;
    let application = Application::new(platform::event_store(config, &pool)?);
    let analytics = Analytics::new(&config.clickhouse_url, &config.clickhouse_database)?;
    let swept = sweep(
        config,
        &pool,
        &application,
        &analytics,
        Utc::now().date_naive(),
    )
    .await?;
    for (category, tenants) in &swept {
        let total: u64 = tenants.values().sum();
        println!(
            "{category:?}: {total} removed across {} tenants",
            tenants.len()
        );
    }
    pool.close().await;
    Ok(())
}

/// A sweep every `retention_sweep_seconds` while the process runs.
pub async fn sweep_periodically(
    pool: PgPool,
    config: Config,
    application: Application,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let analytics = match Analytics::new(&config.clickhouse_url, &config.clickhouse_database) {
        Ok(analytics) => analytics,
        Err(error) => {
            tracing::error!(%error, "no retention sweeps");
            return;
        }
    };
    let every = std::time::Duration::from_secs(config.retention_sweep_seconds.max(1));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        let today = Utc::now().date_naive();
        if let Err(error) = sweep(&config, &pool, &application, &analytics, today).await {
            tracing::warn!(%error, "retention sweep failed; trying at the next");
        }
    }
}
