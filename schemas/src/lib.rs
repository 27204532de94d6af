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
    (
        6,
        "query indexes",
        include_str!("../migrations/0006_query_indexes.sql"),
    ),
    (
        7,
        "rate limits",
        include_str!("../migrations/0007_rate_limits.sql"),
    ),
    (
        8,
        "api keys",
        include_str!("../migrations/0008_api_keys.sql"),
    ),
    (
        9,
        "append batch",
        include_str!("../migrations/0009_append_batch.sql"),
    ),
    (
        10,
        "platform connections",
        include_str!("../migrations/0010_platform_connections.sql"),
    ),
    (
        11,
        "prediction models",
        include_str!("../migrations/0011_prediction_models.sql"),
    ),
    (
        12,
        "event hash chain",
        include_str!("../migrations/0012_event_hash_chain.sql"),
    ),
    (
        13,
        "data subject keys",
        include_str!("../migrations/0013_data_subject_keys.sql"),
    ),
    (
        14,
        "chain content hash",
        include_str!("../migrations/0014_chain_content_hash.sql"),
    ),
    (
        15,
        "audit checkpoints",
        include_str!("../migrations/0015_audit_checkpoints.sql"),
    ),
    (
        16,
        "access log",
        include_str!("../migrations/0016_access_log.sql"),
    ),
    (
        17,
        "webhooks",
        include_str!("../migrations/0017_webhooks.sql"),
    ),
    (
        18,
        "notifications",
        include_str!("../migrations/0018_notifications.sql"),
    ),
    (
        19,
        "report schedules",
        include_str!("../migrations/0019_report_schedules.sql"),
    ),
    (
        20,
        "inbound webhooks",
        include_str!("../migrations/0020_inbound_webhooks.sql"),
    ),
    (
        21,
        "search term reviews",
        include_str!("../migrations/0021_search_term_reviews.sql"),
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

/// The ClickHouse analytics DDL (`clickhouse/analytics.sql`), one statement per entry, for the
/// tables in `database` whose names end in `suffix` (empty for the live tables). `None` when either
/// is not a plain identifier (letters, digits, underscores), since both are spliced into SQL.
pub fn clickhouse_analytics(database: &str, suffix: &str) -> Option<Vec<String>> {
    let plain = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if database.is_empty() || !plain(database) || !plain(suffix) {
        return None;
    }
    let text: String = include_str!("../clickhouse/analytics.sql")
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    Some(
        text.split(';')
            .map(str::trim)
            .filter(|statement| !statement.is_empty())
            .map(|statement| {
                statement
                    .replace("{database}", database)
                    .replace("{suffix}", suffix)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::{clickhouse_analytics, MIGRATIONS};

    #[test]
    fn the_clickhouse_ddl_is_split_into_statements_for_a_plain_database_name() {
        let statements = clickhouse_analytics("adflow", "_rebuild").unwrap();
        assert_eq!(statements.len(), 4, "{statements:#?}");
        assert!(statements[1]
            .starts_with("CREATE TABLE IF NOT EXISTS adflow.performance_hourly_rebuild ("));
        assert!(statements
            .iter()
            .all(|s| !s.contains('{') && !s.contains("--")));
        assert!(clickhouse_analytics("adflow; DROP", "").is_none());
        assert!(clickhouse_analytics("adflow", "-x").is_none());
    }

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
