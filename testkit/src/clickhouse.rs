//! ClickHouse for tests: the platform's server (a fresh database per test, named like the
//! PostgreSQL ones), or a private server that a fault test may kill and start again.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::process::{Child, Command};

/// The platform's ClickHouse HTTP interface; `ops/setup.sh` starts it.
pub fn clickhouse_url() -> String {
    std::env::var("ADFLOW_CLICKHOUSE_URL").unwrap_or_else(|_| "http://127.0.0.1:8123".to_owned())
}

async fn query(url: &str, sql: &str) -> Result<String, reqwest::Error> {
    reqwest::Client::new()
        .post(url)
        .body(sql.to_owned())
        .send()
        .await?
        .error_for_status()?
        .text()
        .await
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Drops the test databases (`adflow_t_<unix seconds>_<random>`) of runs more than two hours old.
/// Best effort: a test that needs ClickHouse fails on its own if the server is not there.
pub async fn sweep_old_databases() {
    let url = clickhouse_url();
    let Ok(names) = query(
        &url,
        "SELECT name FROM system.databases WHERE name LIKE 'adflow\\\\_t\\\\_%'",
    )
    .await
    else {
        return;
    };
    let now = unix_now();
    for name in names.lines() {
        let created = name.split('_').nth(2).and_then(|s| s.parse::<u64>().ok());
        if created.is_some_and(|created| created + 7200 < now) {
            let _ = query(&url, &format!("DROP DATABASE IF EXISTS {name}")).await;
        }
    }
}

/// A new database name in the test naming scheme; the database itself is created by whoever
/// uses it (the analytics projector creates its own).
pub async fn fresh_clickhouse_database() -> String {
    sweep_old_databases().await;
    format!("adflow_t_{}_{}", unix_now(), uuid::Uuid::new_v4().simple())
}

/// A clickhouse-server of the test's own on free loopback ports, with its data in a temporary
/// directory (removed on drop).
pub struct PrivateClickHouse {
    dir: PathBuf,
    http_port: u16,
    child: Option<Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("no free port")
}

impl PrivateClickHouse {
    pub async fn start() -> PrivateClickHouse {
        let dir = std::env::temp_dir().join(format!("adflow-ch-{}", uuid::Uuid::new_v4().simple()));
        let http_port = free_port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../ops/clickhouse-config.sh");
        let status = Command::new(script)
            .arg(&dir)
            .args([http_port, free_port(), free_port()].map(|p| p.to_string()))
            .status()
            .await
            .expect("cannot run ops/clickhouse-config.sh");
        assert!(status.success(), "ops/clickhouse-config.sh failed");
        let mut server = PrivateClickHouse {
            dir,
            http_port,
            child: None,
        };
        server.resume().await;
        server
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.http_port)
    }

    /// Kills the server at once (SIGKILL: no flush, no goodbye) and waits until it is gone.
    pub async fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.ok();
        }
    }

    /// Starts the server (again) on the same data and ports; returns once it answers queries.
    pub async fn resume(&mut self) {
        let child = Command::new("clickhouse-server")
            .arg(format!(
                "--config-file={}",
                self.dir.join("config.xml").display()
            ))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("cannot start clickhouse-server");
        self.child = Some(child);
        let url = self.url();
        for _ in 0..300 {
            if query(&url, "SELECT 1").await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "the private clickhouse-server did not start (logs in {:?})",
            self.dir
        );
    }
}

impl Drop for PrivateClickHouse {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            child.start_kill().ok();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
