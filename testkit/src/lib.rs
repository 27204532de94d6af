//! The one test harness: a fresh, migrated PostgreSQL database per test, and (in `app`) the real
//! `adflow` binary started on free ports against it, with a typed client.
//!
//! Tests never share a database. Databases are named `adflow_t_<unix seconds>_<random>`; each new
//! one sweeps away those left behind by runs more than two hours old.

pub mod app;
pub mod clickhouse;
pub mod fixtures;
pub mod identity_provider;
pub mod smtp;
pub mod tcp_proxy;
pub mod ws;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

/// The server the test databases are created on; `ops/setup` creates this role.
pub fn admin_url() -> String {
    std::env::var("ADFLOW_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://adflow:adflow@127.0.0.1:5432/adflow".to_owned())
}

pub struct TestDatabase {
    pub name: String,
    pub url: String,
    pub pool: PgPool,
}

/// Creates, migrates and connects to a new database. Panics (failing the test) if the server is
/// not there: tests run against real services, never mocks.
pub async fn fresh_database() -> TestDatabase {
    let admin = PgConnectOptions::from_str(&admin_url())
        .expect("ADFLOW_TEST_DATABASE_URL is not a postgres URL");
    let mut conn = admin
        .clone()
        .connect()
        .await
        .expect("cannot reach PostgreSQL: run ops/setup.sh first");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    sweep_old_databases(&mut conn, now).await;
    let name = format!("adflow_t_{now}_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("cannot create a test database (the role needs CREATEDB)");
    conn.close().await.ok();

    let options = admin.database(&name);
    let url = options.to_url_lossy().to_string();
    let pool = PgPoolOptions::new()
        .max_connections(24)
        .connect_with(options)
        .await
        .expect("cannot connect to the new test database");
    adflow_schemas::migrate(&pool)
        .await
        .expect("migrations failed");
    TestDatabase { name, url, pool }
}

async fn sweep_old_databases(conn: &mut sqlx::PgConnection, now: u64) {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'adflow\\_t\\_%'")
            .fetch_all(&mut *conn)
            .await
            .unwrap_or_default();
    for name in names {
        let created = name.split('_').nth(2).and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|created| created + 7200 < now) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut *conn)
                .await;
        }
    }
}

/// Polls `probe` every 100 ms until it answers `Some`, for at most `seconds`; panics naming
/// `what` when it never does.
pub async fn eventually<T, F, Fut>(seconds: u64, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..seconds * 10 {
        if let Some(found) = probe().await {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{what}: not within {seconds} s");
}
