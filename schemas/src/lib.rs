//! The SQL migrations under `schemas/migrations`, embedded in the binary so that `adflow migrate`
//! (and every start-up) brings a database up to date without the source tree.

use futures_util::future::BoxFuture;
use sqlx::error::BoxDynError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::PgPool;
use std::borrow::Cow;

pub use sqlx::migrate::MigrateError;

/// Every migration, in order. A test checks this list against the files on disk.
pub const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "event store",
        include_str!("../migrations/0001_event_store.sql"),
    ),
    (
        2,
        "campaign read model",
        include_str!("../migrations/0002_campaign_read_model.sql"),
    ),
    (
        3,
        "idempotency keys",
        include_str!("../migrations/0003_idempotency_keys.sql"),
    ),
    (
        4,
        "campaign currency",
        include_str!("../migrations/0004_campaign_currency.sql"),
    ),
    (
        5,
        "read models",
        include_str!("../migrations/0005_read_models.sql"),
    ),
];

#[derive(Debug, Clone, Copy)]
struct Embedded;

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, BoxDynError>> {
        Box::pin(async {
            Ok(MIGRATIONS
                .iter()
                .map(|(version, description, sql)| {
                    Migration::new(
                        *version,
                        Cow::Borrowed(*description),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

/// Applies every pending migration (under sqlx's advisory lock, so concurrent starters are safe).
pub async fn migrate(pool: &PgPool) -> Result<(), MigrateError> {
    Migrator::new(Embedded).await?.run(pool).await
}

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    #[test]
    fn every_migration_file_is_embedded_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();
        assert_eq!(
            files.len(),
            MIGRATIONS.len(),
            "a migration file is not listed in MIGRATIONS"
        );
        for (file, (version, _, sql)) in files.iter().zip(MIGRATIONS) {
            assert!(
                file.starts_with(&format!("{version:04}_")),
                "{file} is not version {version}"
            );
            assert_eq!(
                &std::fs::read_to_string(format!("{dir}/{file}")).unwrap(),
                sql
            );
        }
    }
}
