//! A scratch database per benchmark run (`adflow_bench_*`), migrated, dropped at the end.

use crate::config::Config;
use crate::platform::{connect, PlatformError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};
use std::str::FromStr;
use uuid::Uuid;

pub struct Scratch {
    pub name: String,
    pub pool: PgPool,
}

impl Scratch {
    pub async fn create(config: &Config) -> Result<Scratch, PlatformError> {
        let admin = connect(config).await?;
        let name = format!("adflow_bench_{}", Uuid::new_v4().simple());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await?;
        let options = PgConnectOptions::from_str(&config.database_url)?
            .database(&name)
            .disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(40)
            .connect_with(options)
            .await?;
        adflow_schemas::migrate(&pool).await?;
        sqlx::query("CREATE TABLE raw_inserts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, payload jsonb NOT NULL)")
            .execute(&pool)
            .await?;
        Ok(Scratch { name, pool })
    }

    pub async fn drop_database(self, config: &Config) -> Result<(), PlatformError> {
        self.pool.close().await;
        let admin = connect(config).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ))
        .execute(&admin)
        .await?;
        Ok(())
    }
}
