//! The command API under load: `adflow all` runs as a second process on a scratch database;
//! concurrent clients each create a campaign and then rename it again and again with `If-Match`
//! (each command loads the stream, decides, appends with the expected version). Prints throughput
//! and latency percentiles, without and with the rate limiter (set high enough never to refuse,
//! so that its cost shows).

use crate::platform::PlatformError;
use adflow_auth::{Authenticator, Role};
use adflow_domain::TenantId;
use serde_json::json;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub async fn run(
    config: &crate::config::Config,
    database: &str,
    clients: usize,
    seconds: u64,
) -> Result<(), PlatformError> {
    for (label, limit) in [
        ("commands, rate limits off", "0"),
        ("commands, rate limits on", "100000000"),
    ] {
        let secret = format!("bench-{}", Uuid::new_v4());
        let env = [
            ("ADFLOW_RATE_LIMIT_PER_MINUTE", limit),
            ("ADFLOW_TENANT_RATE_LIMIT_PER_MINUTE", limit),
        ];
        let (mut server, urls) =
            crate::bench_server::start(config, database, &secret, &env).await?;
        let outcome = hammer(
            &urls.command,
            &secret,
            clients,
            Duration::from_secs(seconds),
        )
        .await;
        server.kill().await.ok();
        let (count, elapsed, latencies) = outcome?;
        crate::bench::report(
            &format!("{label} ({clients} clients)"),
            count,
            elapsed,
            latencies,
        );
    }
    Ok(())
}

async fn hammer(
    url: &str,
    secret: &str,
    clients: usize,
    duration: Duration,
) -> Result<(usize, Duration, Vec<Duration>), PlatformError> {
    let failure = |e: String| PlatformError::Usage(e);
    let http = reqwest::Client::new();
    let tenant = TenantId(Uuid::now_v7());
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let token = Authenticator::hs256(secret.as_bytes())
            .issue(&format!("bench-{client}"), tenant, Role::Manager, 3_600)
            .map_err(|e| failure(e.to_string()))?;
        let (http, url) = (http.clone(), url.to_owned());
        tasks.spawn(async move {
            let body = json!({
                "name": format!("Bench {client}"), "objective": "LEAD_GENERATION", "platforms": ["GOOGLE"],
                "totalBudgetMicros": 10_000_000_000i64, "startDate": "2027-01-01", "endDate": "2027-03-31"
            });
            let created: serde_json::Value = http
                .post(format!("{url}/v1/campaigns"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .map_err(|e| e.to_string())?
                .json()
                .await
                .map_err(|e| e.to_string())?;
            let id = created["id"].as_str().ok_or("no campaign id")?.to_owned();
            let mut version = created["version"].as_u64().ok_or("no version")?;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let response = http
                    .post(format!("{url}/v1/campaigns/{id}/rename"))
                    .bearer_auth(&token)
                    .header("if-match", version.to_string())
                    .json(&json!({"name": format!("Bench {client} v{version}")}))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if !response.status().is_success() {
                    return Err(format!("rename answered {}", response.status()));
                }
                latencies.push(sent.elapsed());
                version += 1;
            }
            Ok::<_, String>(latencies)
        });
    }
    let mut all = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        all.extend(
            joined
                .map_err(|e| failure(e.to_string()))?
                .map_err(failure)?,
        );
    }
    Ok((all.len(), started.elapsed(), all))
}
