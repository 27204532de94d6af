//! Rebuild without downtime: the projection is built from position zero into a shadow schema
//! while the live read model keeps serving and the live projector keeps following the log; then
//! the shadow tables and their checkpoint replace the live ones in one short transaction. The live
//! projector goes on from the shadow's checkpoint, so events after it are applied to the new
//! tables exactly once.

use crate::runtime::{checkpoint, Projection, ProjectionError, Projector, ProjectorOptions};
use adflow_event_store::EventReader;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::sync::Arc;

/// Rebuilds `projection` behind the live one and swaps it in; `progress` hears the number of
/// events applied so far. Returns the number of events applied.
pub async fn rebuild_and_swap(
    reader: Arc<dyn EventReader>,
    pool: &PgPool,
    projection: Arc<dyn Projection>,
    mut progress: impl FnMut(u64),
) -> Result<u64, ProjectionError> {
    let name = projection.name();
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let (shadow, retired) = (format!("rebuild_{slug}"), format!("retired_{slug}"));
    let tables = projection.tables();

    sqlx::query(&format!("DROP SCHEMA IF EXISTS {shadow} CASCADE"))
        .execute(pool)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA {shadow}"))
        .execute(pool)
        .await?;
    for table in tables.iter().chain(&["projection_checkpoints"]) {
        sqlx::query(&format!(
            "CREATE TABLE {shadow}.{table} (LIKE public.{table} INCLUDING ALL)"
        ))
        .execute(pool)
        .await?;
    }

    // The projection's unqualified table names resolve to the shadow schema on these connections.
    let options = (*pool.connect_options())
        .clone()
        .options([("search_path", format!("{shadow},public"))]);
    let shadow_pool = PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await?;
    let projector = Projector::new(
        reader,
        shadow_pool.clone(),
        projection.clone(),
        ProjectorOptions::default(),
    );
    let mut applied = 0u64;
    loop {
        match projector.step().await? {
            0 => break,
            n => {
                applied += n as u64;
                progress(applied);
            }
        }
    }
    let built = checkpoint(&shadow_pool, name).await?;
    shadow_pool.close().await;

    let mut tx = pool.begin().await?;
    // Waits for the live projector's current batch, and holds it off until the swap commits.
    sqlx::query(
        "INSERT INTO public.projection_checkpoints (projection) VALUES ($1) ON CONFLICT DO NOTHING",
    )
    .bind(name)
    .execute(&mut *tx)
    .await?;
    sqlx::query("SELECT 1 FROM public.projection_checkpoints WHERE projection = $1 FOR UPDATE")
        .bind(name)
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("CREATE SCHEMA {retired}"))
        .execute(&mut *tx)
        .await?;
    for table in tables {
        sqlx::query(&format!("ALTER TABLE public.{table} SET SCHEMA {retired}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&format!("ALTER TABLE {shadow}.{table} SET SCHEMA public"))
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(
        "UPDATE public.projection_checkpoints SET commit_id = $2, position = $3, updated_at = now() WHERE projection = $1",
    )
    .bind(name)
    .bind(i64::try_from(built.commit).unwrap_or(i64::MAX))
    .bind(i64::try_from(built.prepare).unwrap_or(i64::MAX))
    .execute(&mut *tx)
    .await?;
    sqlx::query(&format!("DROP SCHEMA {retired} CASCADE"))
        .execute(&mut *tx)
        .await?;
    sqlx::query(&format!("DROP SCHEMA {shadow} CASCADE"))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(applied)
}
