//! `adflow bench platforms`: the platform gateways against the sandbox in this process. Deploys a
//! structure of N ad groups × M keywords to both platforms (requests, seconds; then the same
//! deployment again, which adopts what exists), and syncs D days of reports through the report
//! sync into a scratch event store (rows/s), next to the bare pull of the same rows from the
//! platform (the baseline: HTTP and parsing without recording), and a second sync of the same
//! days after late conversions arrived (the restatement pass).

use crate::config::Config;
use crate::platform::PlatformError;
use adflow::scratch::Scratch;
use adflow_application::Application;
use adflow_domain::aggregate::Aggregate;
use adflow_domain::campaign::{Campaign, CampaignCommand, CreateCampaign, Guardrails, Platform};
use adflow_domain::tenant::{TenantCommand, TenantSettings};
use adflow_domain::{CampaignId, TenantId};
use adflow_event_store::postgres::PostgresEventStore;
use adflow_platform_workers::reports::{LiveDeployment, ReportSync, ReportSyncOptions};
use adflow_platform_workers::Cause;
use adflow_platforms::credentials::{CredentialKey, Credentials};
use adflow_platforms::sandbox::{Sandbox, SandboxConfig};
use adflow_platforms::{samples, Account, Change, DeploymentKey, Endpoints, Platforms};
use chrono::{Days, Utc};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;
use uuid::Uuid;

fn usage(error: impl std::fmt::Display) -> PlatformError {
    PlatformError::Usage(error.to_string())
}

async fn command<A: Aggregate>(
    app: &Application,
    tenant: TenantId,
    id: Uuid,
    command: A::Command,
) -> Result<(), PlatformError>
where
    A::State: Clone + Send + Sync + 'static,
{
    let cause = Cause {
        tenant: tenant.0,
        event_id: Uuid::now_v7(),
        correlation_id: Uuid::now_v7(),
    };
    adflow_platform_workers::submit::<A>(app, "system:bench", cause, id, command, false)
        .await
        .map(|_| ())
        .map_err(usage)
}

pub async fn run(
    config: &Config,
    scratch: &Scratch,
    ad_groups: usize,
    keywords: usize,
    days: u64,
) -> Result<(), PlatformError> {
    let start = Utc::now().date_naive() + Days::new(1);
    let sandbox = Sandbox::new(SandboxConfig {
        seed: 11,
        speed: 0.0,
        start: start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
        ..SandboxConfig::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(usage)?;
    let base = format!("http://{}", listener.local_addr().map_err(usage)?);
    let control = sandbox.clone();
    tokio::spawn(async move { sandbox.serve(listener, std::future::pending()).await });
    let key = CredentialKey::from_hex(&config.credentials_key).map_err(usage)?;
    let platforms = Arc::new(Platforms::new(
        reqwest::Client::new(),
        Endpoints::sandbox(&base),
        Credentials::new(scratch.pool.clone(), key),
    ));
    let accounts = [
        (
            Platform::Google,
            Account::Google {
                customer_id: "1234567890".into(),
                login_customer_id: None,
                refresh_token: "bench-google".into(),
            },
        ),
        (
            Platform::Linkedin,
            Account::Linkedin {
                account_id: "510000001".into(),
                refresh_token: "bench-linkedin".into(),
            },
        ),
    ];
    let structure = samples::structure("Bench", ad_groups, keywords);
    let campaign = Uuid::now_v7();
    let deployment_key = DeploymentKey::for_campaign(campaign);
    println!(
        "deployment of {ad_groups} ad groups x {keywords} keywords ({} keywords) to the sandbox:",
        ad_groups * keywords
    );
    let mut deployed = BTreeMap::new();
    for (platform, account) in &accounts {
        let gateway = platforms.gateway(*platform);
        let started = Instant::now();
        let first = gateway
            .deploy(account, &deployment_key, &structure, "USD")
            .await
            .map_err(usage)?;
        let seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let again = gateway
            .deploy(account, &deployment_key, &structure, "USD")
            .await
            .map_err(usage)?;
        println!(
            "  {:<8} created {:>4} resources in {:>3} requests, {:.3} s; deployed again (adopting what exists): {:>3} requests, {:.3} s",
            platform.as_str(),
            first.resources.len(),
            first.requests,
            seconds,
            again.requests,
            started.elapsed().as_secs_f64()
        );
        gateway
            .push(
                account,
                &first.external_id,
                &first.resources,
                &Change::Resume,
                "USD",
            )
            .await
            .map_err(usage)?;
        deployed.insert(*platform, first);
    }

    // The same campaign in a scratch event store, deployed and connected, for the report sync.
    let store = Arc::new(PostgresEventStore::new(scratch.pool.clone()));
    let app = Application::new(store);
    let tenant = TenantId(Uuid::now_v7());
    let end = start + Days::new(days + 30);
    command::<Campaign>(
        &app,
        tenant,
        campaign,
        CampaignCommand::Create(CreateCampaign {
            campaign_id: CampaignId(campaign),
            tenant_id: tenant,
            name: "Bench".into(),
            objective: "LEAD_GENERATION".into(),
            platforms: vec!["GOOGLE".into(), "LINKEDIN".into()],
            currency: "USD".into(),
            total_budget_micros: 1_000_000_000_000,
            start_date: start.to_string(),
            end_date: end.to_string(),
        }),
    )
    .await?;
    let request_id = Uuid::now_v7();
    command::<Campaign>(
        &app,
        tenant,
        campaign,
        CampaignCommand::RequestStructure {
            request_id,
            instructions: None,
            template: None,
            brief: None,
        },
    )
    .await?;
    command::<Campaign>(
        &app,
        tenant,
        campaign,
        CampaignCommand::AttachGeneratedStructure {
            request_id,
            model_version: "bench".into(),
            structure: structure.clone(),
            guardrails: Guardrails::default(),
        },
    )
    .await?;
    command::<Campaign>(&app, tenant, campaign, CampaignCommand::ApproveStructure).await?;
    command::<Campaign>(&app, tenant, campaign, CampaignCommand::RequestDeployment).await?;
    for (platform, d) in &deployed {
        command::<Campaign>(
            &app,
            tenant,
            campaign,
            CampaignCommand::RecordDeployment {
                platform: *platform,
                external_id: d.external_id.clone(),
                resources: d.resources.clone(),
            },
        )
        .await?;
    }
    command::<Campaign>(&app, tenant, campaign, CampaignCommand::Activate).await?;
    for (platform, account) in &accounts {
        let (account_id, login) = match account {
            Account::Google { customer_id, .. } => (customer_id.clone(), None),
            Account::Linkedin { account_id, .. } => (account_id.clone(), None),
        };
        command::<TenantSettings>(
            &app,
            tenant,
            tenant.0,
            TenantCommand::ConnectPlatform {
                platform: *platform,
                account_id,
                login_customer_id: login,
            },
        )
        .await?;
        let secret = match account {
            Account::Google { refresh_token, .. } | Account::Linkedin { refresh_token, .. } => {
                refresh_token
            }
        };
        platforms
            .credentials()
            .store(tenant.0, *platform, secret)
            .await
            .map_err(usage)?;
    }
    let sync = ReportSync::new(
        app,
        scratch.pool.clone(),
        platforms.clone(),
        ReportSyncOptions::default(),
    );
    control_advance(&control, days as i64 * 24);
    let (from, to) = (start, start + Days::new(days - 1));
    println!("report sync of {days} days:");
    for (platform, account) in &accounts {
        let d = &deployed[platform];
        let deployment = LiveDeployment {
            tenant: tenant.0,
            campaign,
            platform: *platform,
            external_id: d.external_id.clone(),
            synced_through: None,
        };
        let started = Instant::now();
        let rows = platforms
            .gateway(*platform)
            .report(account, &d.external_id, from, to)
            .await
            .map_err(usage)?;
        let pull_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let first = sync.sync(&deployment, from, to).await.map_err(usage)?;
        let first_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let unchanged = sync.sync(&deployment, from, to).await.map_err(usage)?;
        let unchanged_seconds = started.elapsed().as_secs_f64();
        let rate = |rows: usize, seconds: f64| rows as f64 / seconds.max(1e-9);
        let conversions: i64 = rows.iter().map(|r| r.conversions).sum();
        println!(
            "  {:<8} {:>6} rows ({conversions} conversions); pull alone {:>8.0} rows/s; pull + record {:>8.0} rows/s ({} reports, {:.2}x of the pull); again unchanged {:>8.0} rows/s ({} unchanged)",
            platform.as_str(),
            rows.len(),
            rate(rows.len(), pull_seconds),
            rate(first.rows, first_seconds),
            first.recorded,
            pull_seconds / first_seconds.max(1e-9),
            rate(unchanged.rows, unchanged_seconds),
            unchanged.unchanged
        );
    }
    // Two more days: late conversions restate the earlier days.
    control_advance(&control, 48);
    for (platform, account) in &accounts {
        let d = &deployed[platform];
        let rows = platforms
            .gateway(*platform)
            .report(account, &d.external_id, from, to)
            .await
            .map_err(usage)?;
        let conversions: i64 = rows.iter().map(|r| r.conversions).sum();
        let deployment = LiveDeployment {
            tenant: tenant.0,
            campaign,
            platform: *platform,
            external_id: d.external_id.clone(),
            synced_through: None,
        };
        let started = Instant::now();
        let restated = sync.sync(&deployment, from, to).await.map_err(usage)?;
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "  {:<8} re-pulled after late conversions ({conversions} now): {:>8.0} rows/s ({} reports restated, {} unchanged)",
            platform.as_str(),
            restated.rows as f64 / seconds.max(1e-9),
            restated.restated,
            restated.unchanged
        );
    }
    Ok(())
}

fn control_advance(sandbox: &Sandbox, hours: i64) {
    sandbox.advance(chrono::Duration::hours(hours));
}
