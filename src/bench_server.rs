//! The platform as a second process for the HTTP benchmarks: `adflow all` on scratch databases,
//! its addresses read from its `ADFLOW_READY` line.

use crate::platform::PlatformError;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub struct Urls {
    pub command: String,
    pub query: String,
}

/// Starts `adflow all` on `database` (PostgreSQL and ClickHouse) with `secret` as its token key.
pub async fn start(
    config: &crate::config::Config,
    database: &str,
    secret: &str,
    env: &[(&str, &str)],
) -> Result<(Child, Urls), PlatformError> {
    let url = {
        let mut url = config.database_url.clone();
        let cut = url.rfind('/').unwrap_or(url.len());
        url.truncate(cut);
        format!("{url}/{database}")
    };
    let binary = std::env::current_exe().map_err(|e| PlatformError::Usage(e.to_string()))?;
    let mut child = Command::new(binary)
        .arg("all")
        .env("ADFLOW_DATABASE_URL", url)
        .env("ADFLOW_CLICKHOUSE_DATABASE", database)
        .env("ADFLOW_COMMAND_API_ADDR", "127.0.0.1:0")
        .env("ADFLOW_QUERY_API_ADDR", "127.0.0.1:0")
        .env("ADFLOW_JWT_SECRET", secret)
        .env("ADFLOW_LOG", "warn")
        .env("ADFLOW_READ_YOUR_WRITES_TIMEOUT_MS", "60000")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| PlatformError::Usage(format!("cannot start the server: {e}")))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| PlatformError::Usage("no stdout".into()))?;
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.strip_prefix("ADFLOW_READY ") {
                return Some(rest.to_owned());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .ok_or_else(|| PlatformError::Usage("the server did not start".into()))?;
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let address = |part: &str| {
        ready
            .split_whitespace()
            .find_map(|p| p.strip_prefix(part))
            .map(|a| format!("http://{a}"))
            .ok_or_else(|| PlatformError::Usage(format!("no {part} in {ready}")))
    };
    Ok((
        child,
        Urls {
            command: address("command_api=")?,
            query: address("query_api=")?,
        },
    ))
}
