//! The ML path under measurement: brief → structure visible in GraphQL through the real services
//! (`adflow all` with its worker in a second process), then copy generation per ad and encoder
//! throughput in this process.

use crate::Failure;
use adflow::platform::PlatformError;
use adflow_auth::{Authenticator, Role};
use adflow_domain::TenantId;
use adflow_ml_workers::copy::{CopyFormat, CopyGenerator, Slots};
use adflow_ml_workers::{evaluation, Models};
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub async fn run(
    config: &adflow::config::Config,
    database: &str,
    briefs: usize,
) -> Result<(), Failure> {
    let failure = |e: String| PlatformError::Usage(e);
    let secret = format!("bench-{}", Uuid::new_v4());
    let stream = format!("ADFLOW_ML_BENCH_{}", Uuid::new_v4().simple()).to_uppercase();
    let prefix = stream.to_lowercase();
    let env = [
        ("ADFLOW_ML_WORKER", "true"),
        ("ADFLOW_ML_STREAM", stream.as_str()),
        ("ADFLOW_ML_SUBJECT_PREFIX", prefix.as_str()),
        ("ADFLOW_RATE_LIMIT_PER_MINUTE", "0"),
        ("ADFLOW_TENANT_RATE_LIMIT_PER_MINUTE", "0"),
    ];
    let (mut server, urls) = adflow::bench_server::start(config, database, &secret, &env).await?;
    let token = Authenticator::hs256(secret.as_bytes())
        .issue("bench", TenantId(Uuid::now_v7()), Role::Manager, 3_600)
        .map_err(|e| failure(e.to_string()))?;
    let http = reqwest::Client::new();
    let samples = evaluation::sample_briefs();
    let mut latencies = Vec::new();
    let started = Instant::now();
    for i in 0..briefs {
        let sample = &samples[i % samples.len()];
        let body = json!({
            "name": format!("Bench {i}"), "objective": "LEAD_GENERATION", "platforms": ["GOOGLE", "LINKEDIN"],
            "totalBudgetMicros": 30_000_000_000i64, "startDate": "2027-01-01", "endDate": "2027-03-31"
        });
        let created: Value = post(
            &http,
            &format!("{}/v1/campaigns", urls.command),
            &token,
            &body,
            None,
        )
        .await?;
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        let request = json!({"brief": {
            "offer": sample.offer, "landingPageUrl": sample.landing_page_url,
            "landingPageText": sample.landing_page_text, "seedKeywords": sample.seed_keywords,
            "businessName": sample.business_name, "markets": ["US"]
        }});
        let asked = Instant::now();
        post(
            &http,
            &format!("{}/v1/campaigns/{id}/structure-requests", urls.command),
            &token,
            &request,
            Some("1"),
        )
        .await?;
        let query = json!({"query": "query($id: ID!) { campaign(id: $id) { status } }", "variables": {"id": id}});
        // DRAFT before the request is projected; DRAFT after STRUCTURE_REQUESTED is a failure.
        let mut requested = false;
        loop {
            let reply: Value = http
                .post(format!("{}/graphql", urls.query))
                .bearer_auth(&token)
                .json(&query)
                .send()
                .await
                .map_err(|e| failure(e.to_string()))?
                .json()
                .await
                .map_err(|e| failure(e.to_string()))?;
            let status = reply["data"]["campaign"]["status"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if status == "STRUCTURE_PREVIEW" {
                latencies.push(asked.elapsed());
                break;
            }
            requested |= status == "STRUCTURE_REQUESTED";
            if (requested && status == "DRAFT") || asked.elapsed() > Duration::from_secs(60) {
                server.kill().await.ok();
                return Err(Failure::from(failure(format!(
                    "brief {i}: generation ended in {status:?}"
                ))));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let elapsed = started.elapsed();
    server.kill().await.ok();
    percentiles(
        "brief → structure visible in GraphQL (one at a time)",
        elapsed,
        latencies,
    );

    let models = Models::load_default()?;
    let mut per_ad = Vec::new();
    let copy_started = Instant::now();
    for round in 0..10 {
        for sample in &samples {
            let mut brief = sample.clone();
            brief.seed = brief.seed.wrapping_add(round);
            let slots = Slots::from_brief(&brief, brief.seed_keywords.clone());
            for format in CopyFormat::ALL {
                let began = Instant::now();
                let variations = models.copy.variations(&brief, &slots, format, 10)?;
                per_ad.push(began.elapsed());
                if variations.len() < 10 {
                    return Err(Failure::from(failure(format!(
                        "{format:?}: {} variations",
                        variations.len()
                    ))));
                }
            }
        }
    }
    percentiles(
        "copy generation, 10+ ranked variations for one ad",
        copy_started.elapsed(),
        per_ad,
    );
    for batch in [1, 16, 64] {
        let rate = evaluation::encoder_throughput(models.encoder.as_ref(), 256, batch)?;
        println!(
            "encoder (all-MiniLM-L6-v2, {:?}): {rate:.0} embeddings/s in batches of {batch}",
            models.device
        );
    }
    Ok(())
}

fn percentiles(label: &str, elapsed: Duration, mut latencies: Vec<Duration>) {
    latencies.sort();
    let at = |q: f64| {
        let index =
            ((latencies.len() as f64 * q).ceil() as usize).clamp(1, latencies.len().max(1)) - 1;
        latencies.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e3)
    };
    println!(
        "{label}: {} in {:.1} s, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        latencies.len(),
        elapsed.as_secs_f64(),
        at(0.5),
        at(0.95),
        at(1.0)
    );
}

async fn post(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Value, PlatformError> {
    let mut request = http.post(url).bearer_auth(token).json(body);
    if let Some(version) = if_match {
        request = request.header("if-match", version);
    }
    let response = request
        .send()
        .await
        .map_err(|e| PlatformError::Usage(e.to_string()))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| PlatformError::Usage(e.to_string()))?;
    if !status.is_success() {
        return Err(PlatformError::Usage(format!("{url}: {status} {body}")));
    }
    Ok(body)
}
