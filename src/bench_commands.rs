//! The command API under load: `adflow all` runs as a second process on a scratch database;
//! concurrent clients each create a campaign and then rename it again and again with `If-Match`
//! (each command loads the stream, decides, appends with the expected version). Prints throughput
//! and latency percentiles, without and with the rate limiter (set high enough never to refuse,
//! so that its cost shows), next to the raw append rate measured first in the same run; then one
//! client's renames of a campaign with a 10,000-event stream next to one with a short stream.

use crate::platform::PlatformError;
use adflow_auth::{Authenticator, Role};
use adflow_domain::TenantId;
use serde_json::json;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub async fn run(
    config: &crate::config::Config,
    scratch: &adflow::scratch::Scratch,
    clients: usize,
    seconds: u64,
) -> Result<(), PlatformError> {
    let database = scratch.name.as_str();
    let raw =
        crate::bench::append_rate(&scratch.pool, clients, Duration::from_secs(seconds)).await?;
    let mut commands_per_second = vec![];
    for (label, limit) in [
        ("commands, rate limits off", "0"),
        ("commands, rate limits on", "100000000"),
    ] {
        let secret = format!("bench-{}", Uuid::new_v4());
        let env = [
            ("ADFLOW_RATE_LIMIT_PER_MINUTE", limit),
            ("ADFLOW_TENANT_RATE_LIMIT_PER_MINUTE", limit),
            ("ADFLOW_ML_WORKER", "false"),
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
        let (count, elapsed, latencies) = match outcome {
            Ok(outcome) => outcome,
            Err(error) => {
                server.kill().await.ok();
                return Err(error);
            }
        };
        crate::bench::report(
            &format!("{label} ({clients} clients)"),
            count,
            elapsed,
            latencies,
        );
        commands_per_second.push((label, count as f64 / elapsed.as_secs_f64()));
        if limit == "0" {
            let long = long_stream(&urls.command, &secret, &scratch.pool).await;
            server.kill().await.ok();
            long?;
        } else {
            server.kill().await.ok();
        }
    }
    for (label, rate) in commands_per_second {
        println!(
            "{label}: {rate:.0} commands/s = {:.2}x the raw append rate of this run ({raw:.0}/s)",
            rate / raw
        );
    }
    Ok(())
}

/// One client renames a campaign whose stream holds 10,000 events, and one whose stream is short:
/// with states cached by version the two cost the same.
async fn long_stream(url: &str, secret: &str, pool: &sqlx::PgPool) -> Result<(), PlatformError> {
    use adflow_domain::aggregate::stream_name;
    use adflow_domain::campaign::{Campaign, CampaignEvent, CampaignRenamed};
    use adflow_domain::DomainEvent;
    use adflow_event_store::EventAppender;
    const HISTORY: u64 = 10_000;
    const RENAMES: usize = 300;
    let failure = |e: String| PlatformError::Usage(e);
    let http = reqwest::Client::new();
    let tenant = TenantId(Uuid::now_v7());
    let token = Authenticator::hs256(secret.as_bytes())
        .issue("bench-long", tenant, Role::Manager, 3_600)
        .map_err(|e| failure(e.to_string()))?;
    let store = adflow_event_store::postgres::PostgresEventStore::new(pool.clone());
    let mut medians = vec![];
    for history in [0, HISTORY] {
        let (id, mut version) = create_campaign(&http, url, &token, "Long history")
            .await
            .map_err(failure)?;
        let stream = stream_name::<Campaign>(tenant, id);
        while version <= history {
            let events = (0..500)
                .map(|n| {
                    let payload = CampaignEvent::Renamed(CampaignRenamed {
                        name: format!("History {}", version + n),
                    })
                    .to_payload();
                    crate::bench::event(tenant.0, payload.data, payload.event_type)
                })
                .collect();
            store
                .append(
                    &stream,
                    adflow_event_store::ExpectedVersion::Exact(version),
                    events,
                )
                .await
                .map_err(|e| failure(e.to_string()))?;
            version += 500;
        }
        let mut latencies = vec![];
        for n in 0..RENAMES {
            let took = rename(&http, url, &token, id, version, format!("Renamed {n}"))
                .await
                .map_err(failure)?;
            latencies.push(took);
            version += 1;
        }
        latencies.sort();
        let median = crate::bench::percentile(&latencies, 0.5);
        crate::bench::report(
            &format!("renames, {}-event stream", history + 1),
            RENAMES,
            latencies.iter().sum(),
            latencies,
        );
        medians.push(median);
    }
    println!(
        "a rename on a {}-event stream takes {:.2}x the time of one on a 1-event stream (p50)",
        HISTORY + 1,
        medians[1].as_secs_f64() / medians[0].as_secs_f64()
    );
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
            let (id, mut version) =
                create_campaign(&http, &url, &token, &format!("Bench {client}")).await?;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let name = format!("Bench {client} v{version}");
                latencies.push(rename(&http, &url, &token, id, version, name).await?);
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

/// Creates a campaign through the API; returns its id and version.
async fn create_campaign(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    name: &str,
) -> Result<(Uuid, u64), String> {
    let body = json!({
        "name": name, "objective": "LEAD_GENERATION", "platforms": ["GOOGLE"],
        "totalBudgetMicros": 10_000_000_000i64, "startDate": "2027-01-01", "endDate": "2027-03-31"
    });
    let created: serde_json::Value = http
        .post(format!("{url}/v1/campaigns"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    let id = created["id"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .ok_or("no campaign id")?;
    let version = created["version"].as_u64().ok_or("no version")?;
    Ok((id, version))
}

/// One rename with `If-Match: version`; returns how long the API took.
async fn rename(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    id: Uuid,
    version: u64,
    name: String,
) -> Result<Duration, String> {
    let sent = Instant::now();
    let response = http
        .post(format!("{url}/v1/campaigns/{id}/rename"))
        .bearer_auth(token)
        .header("if-match", version.to_string())
        .json(&json!({ "name": name }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("rename answered {}", response.status()));
    }
    Ok(sent.elapsed())
}
