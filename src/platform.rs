//! Wiring: pools, the event store adapter, the HTTP servers and the projectors, with one shutdown.

use crate::config::{Config, DEV_JWT_SECRET};
use adflow_auth::{Authenticator, Role};
use adflow_domain::TenantId;
use adflow_event_store::kurrent::KurrentEventStore;
use adflow_event_store::personal::{SealingStore, SubjectKeys};
use adflow_event_store::postgres::{GroupCommitOptions, PostgresEventStore};
use adflow_event_store::{EventStore, StoreError};
use adflow_projections::analytics::{Analytics, AnalyticsOptions, AnalyticsProjector};
use adflow_projections::{Projector, ProjectorOptions};
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("PostgreSQL at ADFLOW_DATABASE_URL: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migrations: {0}")]
    Migrate(#[from] adflow_schemas::MigrateError),
    #[error("event store: {0}")]
    Store(#[from] StoreError),
    #[error("projection: {0}")]
    Projection(#[from] adflow_projections::ProjectionError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Usage(String),
}

#[derive(Debug, Clone, Copy)]
pub struct Parts {
    command_api: bool,
    query_api: bool,
    projections: bool,
    platform_workers: bool,
}

impl Parts {
    const NONE: Parts = Parts {
        command_api: false,
        query_api: false,
        projections: false,
        platform_workers: false,
    };
    pub const COMMAND_API: Parts = Parts {
        command_api: true,
        ..Parts::NONE
    };
    pub const QUERY_API: Parts = Parts {
        query_api: true,
        ..Parts::NONE
    };
    pub const PROJECTIONS: Parts = Parts {
        projections: true,
        ..Parts::NONE
    };
    /// The deployer, the change pusher and the report sync.
    pub const PLATFORM_WORKERS: Parts = Parts {
        platform_workers: true,
        ..Parts::NONE
    };
    /// What `adflow all` runs in its own process (the platform workers unless
    /// `ADFLOW_PLATFORM_WORKERS=false`); the APIs and the ML worker run in supervised children.
    pub const BACKGROUND: Parts = Parts {
        projections: true,
        platform_workers: true,
        ..Parts::NONE
    };
}

pub async fn connect(config: &Config) -> Result<PgPool, PlatformError> {
    Ok(PgPoolOptions::new()
        .max_connections(config.database_max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect(&config.database_url)
        .await?)
}

pub async fn migrate(config: &Config) -> Result<(), PlatformError> {
    migrate_quietly(config).await?;
    eprintln!("migrations applied");
    Ok(())
}

pub async fn migrate_quietly(config: &Config) -> Result<(), PlatformError> {
    let pool = connect(config).await?;
    adflow_schemas::migrate(&pool).await?;
    pool.close().await;
    Ok(())
}

/// The configured log, behind the sealing of personal values (crypto-shredding: their keys are
/// in PostgreSQL whichever store holds the log).
pub fn event_store(config: &Config, pool: &PgPool) -> Result<Arc<dyn EventStore>, PlatformError> {
    Ok(Arc::new(SealingStore::new(
        unsealed_event_store(config, pool)?,
        SubjectKeys::new(pool.clone()),
    )))
}

fn unsealed_event_store(
    config: &Config,
    pool: &PgPool,
) -> Result<Arc<dyn EventStore>, PlatformError> {
    match config.event_store.as_str() {
        "postgres" => {
            let store = PostgresEventStore::with_poll_interval(
                pool.clone(),
                Duration::from_millis(config.projection_poll_ms),
            );
            Ok(Arc::new(if config.group_commit_max_batch > 1 {
                store.with_group_commit(GroupCommitOptions {
                    max_batch: config.group_commit_max_batch,
                    writers: config.group_commit_writers,
                })
            } else {
                store
            }))
        }
        "kurrentdb" | "esdb" => {
            let url = config
                .esdb_url
                .clone()
                .or_else(|| std::env::var("ESDB_URL").ok())
                .ok_or_else(|| {
                    PlatformError::Usage(
                        "ADFLOW_EVENT_STORE=kurrentdb needs ADFLOW_ESDB_URL".into(),
                    )
                })?;
            Ok(Arc::new(KurrentEventStore::connect(&url)?))
        }
        other => Err(PlatformError::Usage(format!(
            "ADFLOW_EVENT_STORE must be postgres or kurrentdb, not {other:?}"
        ))),
    }
}

/// CORS for the frontends' browsers: only the configured origins (none by default: no CORS
/// headers at all, so browsers keep the same-origin rule).
fn cors(config: &Config) -> Result<tower_http::cors::CorsLayer, PlatformError> {
    use axum::http::{header, HeaderName, HeaderValue, Method};
    let origins = config
        .cors_allowed_origins
        .split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            HeaderValue::from_str(origin).map_err(|_| {
                PlatformError::Usage(format!(
                    "ADFLOW_CORS_ALLOWED_ORIGINS holds an invalid origin: {origin:?}"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(tower_http::cors::CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::GET, Method::POST, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            header::IF_MATCH,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-request-id"),
        ])
        .expose_headers([
            header::ETAG,
            header::RETRY_AFTER,
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(Duration::from_secs(600)))
}

fn analytics(config: &Config) -> Result<Analytics, PlatformError> {
    Ok(Analytics::new(
        &config.clickhouse_url,
        &config.clickhouse_database,
    )?)
}

/// The local HS256 key, plus the identity provider's JWKS when one is configured (a file, or a
/// URL read once at start-up).
async fn authenticator(config: &Config) -> Result<Authenticator, PlatformError> {
    if config.jwt_secret == DEV_JWT_SECRET {
        tracing::warn!(
            "using the local development JWT key; set ADFLOW_JWT_SECRET outside development"
        );
    }
    let local = Authenticator::hs256(config.jwt_secret.as_bytes());
    let jwks = match (&config.jwks_path, &config.jwks_url) {
        (Some(path), _) => std::fs::read_to_string(path)
            .map_err(|e| PlatformError::Usage(format!("ADFLOW_JWKS_PATH {path}: {e}")))?,
        (None, Some(url)) => reqwest::get(url)
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| PlatformError::Usage(format!("ADFLOW_JWKS_URL {url}: {e}")))?
            .text()
            .await
            .map_err(|e| PlatformError::Usage(format!("ADFLOW_JWKS_URL {url}: {e}")))?,
        (None, None) => return Ok(local),
    };
    let authenticator = local
        .with_jwks(
            &jwks,
            config.jwt_issuer.clone(),
            config.jwt_audience.clone(),
        )
        .map_err(|e| PlatformError::Usage(e.to_string()))?;
    if let Some(url) = config.jwks_url.clone() {
        // Providers rotate their keys: read the set again now and then; a failed read keeps the
        // keys we have.
        let refreshed = authenticator.clone();
        let every = Duration::from_secs(config.jwks_refresh_seconds.max(10));
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let document = match reqwest::get(&url)
                    .await
                    .and_then(reqwest::Response::error_for_status)
                {
                    Ok(response) => response.text().await,
                    Err(error) => Err(error),
                };
                let outcome = document
                    .map_err(|e| e.to_string())
                    .and_then(|d| refreshed.replace_jwks(&d).map_err(|e| e.to_string()));
                if let Err(error) = outcome {
                    tracing::warn!(%error, %url, "cannot refresh the JWKS; keeping the current keys");
                }
            }
        });
    }
    Ok(authenticator)
}

/// Stops on SIGINT or SIGTERM, and in a supervised child also when the supervisor goes.
pub fn listen_for_signals(stop: watch::Sender<bool>, supervised: bool) {
    if supervised {
        crate::supervisor::stop_when_supervisor_goes(stop.clone());
    }
    tokio::spawn(async move {
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminate => {}
        }
        tracing::info!("shutting down");
        let _ = stop.send(true);
    });
}

/// Serves `/healthz` (alive), `/readyz` (PostgreSQL answers within a second) and `/metrics` for a
/// process without an API of its own, on `ADFLOW_OPS_ADDR`; with `lag_of`, `/metrics` also has
/// every projection's lag (the projections process). Returns the bound address, when configured.
pub async fn spawn_ops_server(
    tasks: &mut tokio::task::JoinSet<()>,
    config: &Config,
    pool: PgPool,
    lag_of: Option<Option<Analytics>>,
    shutdown: watch::Receiver<bool>,
) -> Result<Option<SocketAddr>, PlatformError> {
    let Some(addr) = config.ops_addr else {
        return Ok(None);
    };
    let ready_pool = pool.clone();
    let router = axum::Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .route(
            "/readyz",
            axum::routing::get(move || {
                let pool = ready_pool.clone();
                async move { adflow_telemetry::probes::postgres_only(&pool).await }
            }),
        )
        .route(
            "/metrics",
            axum::routing::get(move || {
                let (pool, lag_of) = (pool.clone(), lag_of.clone());
                async move {
                    let mut body = adflow_telemetry::render();
                    if let Some(analytics) = lag_of {
                        match adflow_projections::lag::lags(&pool, analytics.as_ref()).await {
                            Ok(lags) => body.push_str(&adflow_projections::lag::prometheus(&lags)),
                            Err(error) => tracing::warn!(%error, "cannot measure projection lag"),
                        }
                    }
                    (
                        [(
                            axum::http::header::CONTENT_TYPE,
                            "text/plain; version=0.0.4",
                        )],
                        body,
                    )
                }
            }),
        );
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| PlatformError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| PlatformError::Bind { addr, source })?;
    tasks.spawn(crate::connections::serve(
        listener,
        router,
        shutdown,
        Duration::from_millis(config.header_read_timeout_ms),
    ));
    Ok(Some(bound))
}

/// Serves `router` on `addr` (or on the socket a supervisor handed down, `ADFLOW_LISTEN_FD`)
/// until shutdown; returns the bound address (port 0 picks one).
async fn spawn_server(
    tasks: &mut tokio::task::JoinSet<()>,
    config: &Config,
    addr: SocketAddr,
    router: axum::Router,
    shutdown: watch::Receiver<bool>,
) -> Result<SocketAddr, PlatformError> {
    let bind_error = |source| PlatformError::Bind { addr, source };
    let listener = match config.listen_fd {
        None => TcpListener::bind(addr).await.map_err(bind_error)?,
        Some(fd) => {
            use std::os::fd::FromRawFd;
            // SAFETY: the supervisor passes an open listening socket at this number, and
            // `serve_until` takes it for at most one server.
            let inherited = unsafe { std::net::TcpListener::from_raw_fd(fd) };
            inherited.set_nonblocking(true).map_err(bind_error)?;
            TcpListener::from_std(inherited).map_err(bind_error)?
        }
    };
    let bound = listener.local_addr().map_err(bind_error)?;
    tasks.spawn(crate::connections::serve(
        listener,
        router,
        shutdown,
        Duration::from_millis(config.header_read_timeout_ms),
    ));
    Ok(bound)
}

pub async fn serve(config: &Config, parts: Parts) -> Result<(), PlatformError> {
    let (stop, shutdown) = watch::channel(false);
    listen_for_signals(stop, config.supervised);
    serve_until(config, parts, shutdown, vec![]).await
}

/// Runs `parts` until `shutdown`; `ready` holds what a caller already started, for the
/// `ADFLOW_READY` line.
pub async fn serve_until(
    config: &Config,
    parts: Parts,
    shutdown: watch::Receiver<bool>,
    mut ready: Vec<String>,
) -> Result<(), PlatformError> {
    if config.listen_fd.is_some() && parts.command_api && parts.query_api {
        return Err(PlatformError::Usage(
            "ADFLOW_LISTEN_FD is one socket: run one API with it".into(),
        ));
    }
    let pool = connect(config).await?;
    adflow_schemas::migrate(&pool).await?;
    let store = event_store(config, &pool)?;
    let mut tasks = tokio::task::JoinSet::new();

    if parts.command_api {
        let router = adflow_command_api::router(adflow_command_api::AppState {
            application: adflow_application::Application::new(store.clone()),
            pool: pool.clone(),
            auth: authenticator(config).await?,
            limits: adflow_command_api::RateLimits {
                per_caller_per_minute: config.rate_limit_per_minute,
                per_tenant_per_minute: config.tenant_rate_limit_per_minute,
            },
            input_limits: config.input_limits(),
            platforms: Some(crate::ad_platforms::platforms(config, &pool)?),
        })
        .layer(cors(config)?);
        let addr = spawn_server(
            &mut tasks,
            config,
            config.command_api_addr,
            router,
            shutdown.clone(),
        )
        .await?;
        ready.push(format!("command_api={addr}"));
    }

    if parts.query_api {
        let settings = adflow_query_api::QuerySettings {
            read_your_writes_timeout: Duration::from_millis(config.read_your_writes_timeout_ms),
            analytics: Some(analytics(config)?),
            introspection: config.graphql_introspection,
            graphiql: config.graphiql,
            input_limits: config.input_limits(),
            analytics_concurrency: adflow_query_api::AnalyticsConcurrency {
                per_request: config.analytics_per_request,
                per_tenant: config.analytics_per_tenant,
                ..Default::default()
            },
            rate_limits: adflow_callers::RateLimits {
                per_caller_per_minute: config.graphql_rate_limit_per_minute,
                per_tenant_per_minute: config.graphql_tenant_rate_limit_per_minute,
            },
            ready_max_lag: Duration::from_secs(config.ready_max_lag_seconds),
        };
        let router = adflow_query_api::router(pool.clone(), authenticator(config).await?, settings)
            .layer(cors(config)?);
        let addr = spawn_server(
            &mut tasks,
            config,
            config.query_api_addr,
            router,
            shutdown.clone(),
        )
        .await?;
        ready.push(format!("query_api={addr}"));
    }

    if parts.projections {
        for projection in adflow_projections::all() {
            let projector = Projector::new(
                store.clone(),
                pool.clone(),
                projection,
                ProjectorOptions::default(),
            );
            let shutdown = shutdown.clone();
            tasks.spawn(async move { projector.run(shutdown).await });
        }
        let analytics_projector = AnalyticsProjector::new(
            store.clone(),
            pool.clone(),
            analytics(config)?,
            AnalyticsOptions::default(),
        );
        let stop = shutdown.clone();
        tasks.spawn(async move { analytics_projector.run(stop).await });
        tasks.spawn(dispatch(
            store.clone(),
            pool.clone(),
            config.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(crate::webhooks::deliver(
            pool.clone(),
            store.clone(),
            config.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(crate::notifications::send_periodically(
            pool.clone(),
            config.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(crate::pacing::check_periodically(
            pool.clone(),
            analytics(config)?,
            config.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(crate::report_schedules::run_periodically(
            pool.clone(),
            analytics(config)?,
            config.clone(),
            shutdown.clone(),
        ));
        if config.retention_sweep_seconds > 0 {
            tasks.spawn(crate::retention::sweep_periodically(
                pool.clone(),
                config.clone(),
                adflow_application::Application::new(store.clone()),
                shutdown.clone(),
            ));
        }
        if config.event_store == "postgres" && config.audit_checkpoint_seconds > 0 {
            tasks.spawn(crate::audit::checkpoint_periodically(
                pool.clone(),
                config.clone(),
                shutdown.clone(),
            ));
        }
        ready.push("projections=running".into());
    }

    // In `adflow all` only when configured; asked for by name (`adflow platform-workers`), always.
    let all_background = parts.projections && parts.platform_workers;
    if parts.platform_workers && (!all_background || config.platform_workers) {
        let platforms = crate::ad_platforms::platforms(config, &pool)?;
        crate::ad_platforms::spawn_workers(
            &mut tasks,
            config,
            store.clone(),
            &pool,
            platforms,
            shutdown.clone(),
        );
        ready.push("platform_workers=running".into());
    }

    if parts.projections || parts.platform_workers {
        let lag_of = parts.projections.then(|| analytics(config).ok());
        if let Some(addr) =
            spawn_ops_server(&mut tasks, config, pool.clone(), lag_of, shutdown.clone()).await?
        {
            ready.push(format!("ops={addr}"));
        }
    }

    report_ready(&ready);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// One machine-readable line, for scripts, the supervisor and the test harness. A supervisor that
/// has gone away closed this pipe: that is no reason to panic.
pub fn report_ready(ready: &[String]) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "ADFLOW_READY {}", ready.join(" ")).and_then(|()| stdout.flush());
}

/// Publishes AI work requests to NATS; keeps trying to connect (the APIs run meanwhile).
async fn dispatch(
    store: Arc<dyn EventStore>,
    pool: PgPool,
    config: Config,
    mut shutdown: watch::Receiver<bool>,
) {
    let nats_url = config.nats_url;
    use adflow_projections::dispatcher::{Dispatcher, DispatcherOptions};
    let reader: Arc<dyn adflow_event_store::EventReader> = store;
    loop {
        match Dispatcher::connect(
            reader.clone(),
            pool.clone(),
            &nats_url,
            DispatcherOptions {
                stream: config.ml_stream.clone(),
                subject_prefix: config.ml_subject_prefix.clone(),
                ..DispatcherOptions::default()
            },
        )
        .await
        {
            Ok(dispatcher) => return dispatcher.run(shutdown).await,
            Err(error) => {
                tracing::warn!(%error, %nats_url, "NATS dispatcher not connected, retrying in 5 s")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

pub async fn rebuild(config: &Config, name: &str) -> Result<(), PlatformError> {
    let projection = adflow_projections::by_name(name);
    if projection.is_none() && name != adflow_projections::analytics::NAME {
        let mut known: Vec<_> = adflow_projections::all().iter().map(|p| p.name()).collect();
        known.push(adflow_projections::analytics::NAME);
        return Err(PlatformError::Usage(format!(
            "no read model {name:?}; known: {}",
            known.join(", ")
        )));
    }
    let pool = connect(config).await?;
    adflow_schemas::migrate(&pool).await?;
    let store = event_store(config, &pool)?;
    // The log's size, for the progress bar's ETA (PostgreSQL store; unknown otherwise).
    let total: Option<i64> = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await
        .ok();
    let bar = match total {
        Some(total) => indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(0)),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} events, {per_sec}, ETA {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("rebuilding {name}"));
    let started = Instant::now();
    let applied = match projection {
        Some(projection) => {
            adflow_projections::rebuild::rebuild_and_swap(store, &pool, projection, |n| {
                bar.set_position(n)
            })
            .await?
        }
        None => {
            adflow_projections::analytics::rebuild::rebuild_and_swap(
                store,
                &pool,
                &analytics(config)?,
                |n| bar.set_position(n),
            )
            .await?
        }
    };
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    eprintln!(
        "rebuilt {name}: {applied} events in {seconds:.2}s ({:.0} events/s), swapped in without downtime",
        applied as f64 / seconds.max(1e-9)
    );
    Ok(())
}

pub fn token(
    config: &Config,
    tenant: Option<uuid::Uuid>,
    role: &str,
    subject: &str,
    ttl: u64,
) -> Result<(), PlatformError> {
    let role = Role::parse(role).ok_or_else(|| {
        PlatformError::Usage(format!(
            "unknown role {role:?}: admin, manager, analyst or viewer"
        ))
    })?;
    let tenant = TenantId(tenant.unwrap_or_else(uuid::Uuid::now_v7));
    let token = Authenticator::hs256(config.jwt_secret.as_bytes())
        .issue(subject, tenant, role, ttl)
        .map_err(|e| PlatformError::Usage(e.to_string()))?;
    eprintln!("tenant {tenant}, role {role}, valid {ttl}s");
    println!("{token}");
    Ok(())
}
