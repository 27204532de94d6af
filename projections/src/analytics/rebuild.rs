//! Rebuilding the analytics tables without downtime: a second projector fills `*_rebuild` tables
//! from the start of the log while the live tables keep serving and the live projector keeps
//! writing; then, holding the live writer lock, the shadow catches up the last events and the
//! tables are renamed into place. The checkpoint lives in the rollup table, so it moves with them
//! and the live projector goes on from the rebuilt tables' position.

use super::projector::WriterLock;
use super::{Analytics, AnalyticsOptions, AnalyticsProjector, TABLES};
use crate::ProjectionError;
use adflow_event_store::EventReader;
use sqlx::PgPool;
use std::sync::Arc;

const SHADOW: &str = "_rebuild";
const RETIRED: &str = "_retired";

/// Rebuilds every analytics table and swaps the new ones in; `progress` hears the number of
/// events applied so far. Returns that number.
pub async fn rebuild_and_swap(
    reader: Arc<dyn EventReader>,
    pool: &PgPool,
    analytics: &Analytics,
    mut progress: impl FnMut(u64),
) -> Result<u64, ProjectionError> {
    analytics.ensure_tables("").await?;
    analytics.drop_tables(SHADOW).await?;
    analytics.drop_tables(RETIRED).await?;
    analytics.ensure_tables(SHADOW).await?;
    let shadow = AnalyticsProjector::with_suffix(
        reader,
        pool.clone(),
        analytics.clone(),
        SHADOW,
        AnalyticsOptions::default(),
    );
    let mut applied = shadow.catch_up_with(&mut progress).await?;

    let live = WriterLock::acquire(pool, analytics, "").await?;
    applied += shadow.catch_up_with(|n| progress(applied + n)).await?;
    let db = analytics.database();
    let renames: Vec<String> = TABLES
        .iter()
        .flat_map(|t| {
            [
                format!("{db}.{t} TO {db}.{t}{RETIRED}"),
                format!("{db}.{t}{SHADOW} TO {db}.{t}"),
            ]
        })
        .collect();
    analytics
        .client()
        .query(&format!("RENAME TABLE {}", renames.join(", ")))
        .execute()
        .await?;
    live.release().await?;
    analytics.drop_tables(RETIRED).await?;
    Ok(applied)
}
