//! The ad platforms in the binary: gateways and the credential store from configuration, the
//! platform workers (deployer, change pusher, report sync) in `adflow all`, `adflow sandbox`, and
//! `adflow reports backfill`.

use crate::config::{Config, DEV_CREDENTIALS_KEY};
use crate::platform::PlatformError;
use adflow_application::Application;
use adflow_event_store::EventStore;
use adflow_platform_workers::changes::ChangePusher;
use adflow_platform_workers::deployer::Deployer;
use adflow_platform_workers::reports::{ReportSync, ReportSyncOptions};
use adflow_platform_workers::runtime::{consume, RuntimeOptions, Work};
use adflow_platforms::credentials::{CredentialKey, Credentials};
use adflow_platforms::sandbox::{Sandbox, SandboxConfig};
use adflow_platforms::Platforms;
use chrono::NaiveDate;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Both gateways and the credential store, as configured.
pub fn platforms(config: &Config, pool: &PgPool) -> Result<Arc<Platforms>, PlatformError> {
    if config.credentials_key == DEV_CREDENTIALS_KEY {
        tracing::warn!(
            "using the development credentials key; set ADFLOW_CREDENTIALS_KEY outside development"
        );
    }
    let key = CredentialKey::from_hex(&config.credentials_key)
        .map_err(|e| PlatformError::Usage(e.to_string()))?;
    adflow_platforms::http::set_daily_quotas(
        config.google_daily_quota,
        config.linkedin_daily_quota,
    );
    let http = reqwest::Client::builder()
        .user_agent(concat!("adflow/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| PlatformError::Usage(format!("HTTP client: {e}")))?;
    Ok(Arc::new(Platforms::new(
        http,
        config.platform_endpoints(),
        Credentials::new(pool.clone(), key),
    )))
}

fn runtime_options(config: &Config) -> RuntimeOptions {
    RuntimeOptions {
        stream: config.ml_stream.clone(),
        subject_prefix: config.ml_subject_prefix.clone(),
        max_attempts: config.ml_max_attempts,
        ack_wait: Duration::from_secs(config.ml_ack_wait_seconds.max(1)),
        retry_delay: Duration::from_millis(config.platform_retry_delay_ms),
        ..RuntimeOptions::default()
    }
}

/// Consumes `work` from NATS; keeps trying to connect (the rest of the platform runs meanwhile).
async fn consume_forever<W: Work>(
    work: Arc<W>,
    config: Config,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        match async_nats::connect(&config.nats_url).await {
            Ok(client) => match consume(
                work.clone(),
                client,
                runtime_options(&config),
                shutdown.clone(),
            )
            .await
            {
                Ok(()) => return,
                Err(error) => {
                    tracing::warn!(%error, work = W::WORK.subject(), "platform worker stopped, restarting in 5 s")
                }
            },
            Err(error) => {
                tracing::warn!(%error, url = %config.nats_url, "NATS not reachable, retrying in 5 s")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

fn report_options(config: &Config) -> ReportSyncOptions {
    ReportSyncOptions {
        lookback_days: config.report_lookback_days.max(0),
        google_every: Duration::from_secs(config.report_sync_google_seconds.max(1)),
        linkedin_every: Duration::from_secs(config.report_sync_linkedin_seconds.max(1)),
        ..ReportSyncOptions::default()
    }
}

/// The deployer, the change pusher and the report sync.
pub fn spawn_workers(
    tasks: &mut tokio::task::JoinSet<()>,
    config: &Config,
    store: Arc<dyn EventStore>,
    pool: &PgPool,
    platforms: Arc<Platforms>,
    shutdown: watch::Receiver<bool>,
) {
    let app = Application::new(store.clone());
    tasks.spawn(consume_forever(
        Arc::new(Deployer::new(app.clone(), platforms.clone())),
        config.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(consume_forever(
        Arc::new(ChangePusher::new(app.clone(), store, platforms.clone())),
        config.clone(),
        shutdown.clone(),
    ));
    let sync = ReportSync::new(app, pool.clone(), platforms, report_options(config));
    tasks.spawn(async move { sync.run(shutdown).await });
}

/// `adflow sandbox`: both platforms' APIs on loopback over a seeded market.
pub async fn sandbox(
    listen: SocketAddr,
    seed: u64,
    speed: f64,
    daily_operations: u64,
) -> Result<(), PlatformError> {
    let sandbox = Sandbox::new(SandboxConfig {
        seed,
        speed,
        google_daily_operations: daily_operations,
        ..SandboxConfig::default()
    });
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| PlatformError::Bind {
            addr: listen,
            source,
        })?;
    let bound = listener
        .local_addr()
        .map_err(|source| PlatformError::Bind {
            addr: listen,
            source,
        })?;
    let (stop, mut shutdown) = watch::channel(false);
    crate::platform::listen_for_signals(stop, false);
    crate::platform::report_ready(&[format!("sandbox=http://{bound}")]);
    eprintln!("sandbox: Google Ads at http://{bound}/google, LinkedIn at http://{bound}/linkedin, control at http://{bound}/_sandbox (seed {seed}, {speed}x)");
    sandbox
        .serve(listener, async move {
            let _ = shutdown.wait_for(|stop| *stop).await;
        })
        .await
        .map_err(|source| PlatformError::Bind {
            addr: listen,
            source,
        })
}

/// `adflow reports backfill`: every live deployment's reports for `from..=to`.
pub async fn backfill(
    config: &Config,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<(), PlatformError> {
    if to < from {
        return Err(PlatformError::Usage("--to is before --from".into()));
    }
    let pool = crate::platform::connect(config).await?;
    adflow_schemas::migrate(&pool).await?;
    let store = crate::platform::event_store(config, &pool)?;
    let platforms = platforms(config, &pool)?;
    let sync = ReportSync::new(
        Application::new(store),
        pool,
        platforms,
        report_options(config),
    );
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} pulls, ETA {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("backfilling {from}..{to}"));
    let started = std::time::Instant::now();
    let (total, failures) = sync
        .backfill(from, to, 7, |done, of, _| {
            bar.set_length(of as u64);
            bar.set_position(done as u64);
        })
        .await
        .map_err(|e| PlatformError::Usage(e.to_string()))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "backfilled {from}..{to}: {} rows, {} reports recorded, {} restated, {} unchanged in {seconds:.1}s ({:.0} rows/s)",
        total.rows,
        total.recorded,
        total.restated,
        total.unchanged,
        total.rows as f64 / seconds.max(1e-9)
    );
    for failure in &failures {
        eprintln!("failed: {failure}");
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(PlatformError::Usage(format!(
            "{} pulls failed",
            failures.len()
        )))
    }
}
