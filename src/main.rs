//! `adflow`: one binary for the platform but its ML worker (`adflow-ml`, which links LibTorch). `adflow all` runs the command API, the projectors
//! and the query API in one process; each can also run alone.

mod bench;
mod bench_commands;
mod bench_graphql;
mod bench_platforms;

// The shared wiring, under the names the benchmarks use (`crate::platform`, …).
use adflow::{ad_platforms, audit, audit_replay, bench_server, config, platform, supervisor};

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "adflow",
    version,
    about = "Adflow: event-sourced backend for AI-driven B2B advertising"
)]
struct Cli {
    #[command(subcommand)]
    command: Subcommands,
}

#[derive(Subcommand)]
enum Subcommands {
    /// Everything, for local use: projectors and workers here, each API in a supervised child
    /// process that is restarted if it dies.
    All,
    /// The HTTP command API alone.
    CommandApi,
    /// The GraphQL query API alone.
    QueryApi,
    /// Projectors: run them, or rebuild a read model.
    Projections {
        #[command(subcommand)]
        action: Option<ProjectionsAction>,
    },
    /// The deployer, the change pusher and the report sync alone.
    PlatformWorkers,
    /// Google Ads and LinkedIn Marketing API stand-ins on loopback, over a seeded market
    /// simulator (control endpoints under /_sandbox).
    Sandbox {
        #[arg(long, default_value = "127.0.0.1:7300")]
        listen: std::net::SocketAddr,
        /// The market's seed: the same seed gives the same market.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Simulated seconds per second (3600: a simulated hour per second; 0 stops the clock).
        #[arg(long, default_value_t = 3600.0)]
        speed: f64,
        /// Google Ads operations per day before RESOURCE_EXHAUSTED (Basic access: 15,000).
        #[arg(long, default_value_t = 15_000)]
        daily_operations: u64,
    },
    /// Performance reports from the platforms.
    Reports {
        #[command(subcommand)]
        action: ReportsAction,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Data retention per category (ADFLOW_RETENTION_* days).
    Retention {
        #[command(subcommand)]
        action: RetentionAction,
    },
    /// Print a bearer token signed with the local development key.
    Token {
        /// Tenant id (a UUID); a new one is minted when omitted.
        #[arg(long)]
        tenant: Option<uuid::Uuid>,
        /// admin, manager, analyst or viewer.
        #[arg(long, default_value = "manager")]
        role: String,
        #[arg(long, default_value = "developer")]
        subject: String,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 86_400)]
        ttl: u64,
    },
    /// What auditors run against the log.
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
    /// Benchmarks that print numbers (see docs/benchmarks.md).
    Bench {
        #[command(subcommand)]
        which: bench::Bench,
    },
}

#[derive(Subcommand)]
enum RetentionAction {
    /// Remove what is past its period now, and record each removal per tenant.
    Sweep,
}

#[derive(Subcommand)]
enum AuditAction {
    /// Recompute every stream's hash chain and name the first altered, removed or moved event;
    /// check every signed checkpoint and that the heads it recorded are still in the log (exit
    /// status 1 when anything does not hold).
    Verify {
        /// Trust the log up to this signed checkpoint (a number, or `latest`) once its signature
        /// and heads are verified, and recompute the chain only after it.
        #[arg(long)]
        from_checkpoint: Option<String>,
        /// The Ed25519 public key checkpoints are checked with (64 hex digits); by default the
        /// one of ADFLOW_AUDIT_SIGNING_KEY, or ADFLOW_AUDIT_PUBLIC_KEY.
        #[arg(long)]
        public_key: Option<String>,
    },
    /// Sign a checkpoint of the chain heads now (needs ADFLOW_AUDIT_SIGNING_KEY).
    Checkpoint,
    /// The log (a stream, a tenant's or all of it) as NDJSON or CSV on stdout, in log order,
    /// filtered; a progress bar on stderr.
    Replay {
        #[arg(long)]
        stream: Option<String>,
        #[arg(long)]
        tenant: Option<uuid::Uuid>,
        /// campaign, audience, tenant, monitor or performance.
        #[arg(long)]
        category: Option<String>,
        /// Event types to keep (repeat or separate with commas); all when absent.
        #[arg(long = "event-type", value_delimiter = ',')]
        event_types: Vec<String>,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long)]
        correlation: Option<uuid::Uuid>,
        #[arg(long)]
        from_position: Option<i64>,
        #[arg(long)]
        to_position: Option<i64>,
        /// RFC 3339.
        #[arg(long)]
        from: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(long)]
        to: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(long, value_enum, default_value = "ndjson")]
        format: audit_replay::ReplayFormat,
    },
    /// What changed in an aggregate between two versions (or positions, or times): each changed
    /// value by JSON pointer and the events between, with actor and request ids; JSON.
    Diff {
        #[arg(long)]
        stream: String,
        #[arg(long)]
        from_version: Option<i64>,
        #[arg(long)]
        to_version: Option<i64>,
        #[arg(long)]
        from_position: Option<i64>,
        #[arg(long)]
        to_position: Option<i64>,
        /// RFC 3339.
        #[arg(long)]
        from: Option<chrono::DateTime<chrono::Utc>>,
        #[arg(long)]
        to: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// How a current value came to be: the events that changed it (a JSON pointer into the
    /// state, such as `/name`), with before and after, actor and request ids; JSON.
    Explain {
        #[arg(long)]
        stream: String,
        #[arg(long)]
        path: String,
    },
    /// An aggregate's state as of a version, a log position or a time, folded from the log by
    /// the domain (the latest when no limit is given); printed as JSON.
    State {
        /// The stream, for example `campaign-<tenant>_<id>`.
        #[arg(long)]
        stream: String,
        #[arg(long)]
        version: Option<i64>,
        #[arg(long)]
        position: Option<i64>,
        /// RFC 3339, for example 2026-12-02T10:00:00Z.
        #[arg(long)]
        at: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[derive(Subcommand)]
enum ReportsAction {
    /// Pull every live campaign's reports for a range of days again (restating what changed).
    Backfill {
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        from: chrono::NaiveDate,
        /// Last day, YYYY-MM-DD.
        #[arg(long)]
        to: chrono::NaiveDate,
    },
}

#[derive(Subcommand)]
enum ProjectionsAction {
    /// Follow the log and keep every read model current (the default).
    Run,
    /// Empty a read model and project it again from position zero.
    Rebuild {
        /// The read model, for example `campaigns`.
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    adflow::process::run("adflow", |config| async move {
        match cli.command {
            Subcommands::All => supervisor::serve_all(&config).await,
            Subcommands::CommandApi => platform::serve(&config, platform::Parts::COMMAND_API).await,
            Subcommands::QueryApi => platform::serve(&config, platform::Parts::QUERY_API).await,
            Subcommands::Projections {
                action: None | Some(ProjectionsAction::Run),
            } => platform::serve(&config, platform::Parts::PROJECTIONS).await,
            Subcommands::Projections {
                action: Some(ProjectionsAction::Rebuild { name }),
            } => platform::rebuild(&config, &name).await,
            Subcommands::PlatformWorkers => {
                platform::serve(&config, platform::Parts::PLATFORM_WORKERS).await
            }
            Subcommands::Sandbox {
                listen,
                seed,
                speed,
                daily_operations,
            } => ad_platforms::sandbox(listen, seed, speed, daily_operations).await,
            Subcommands::Reports {
                action: ReportsAction::Backfill { from, to },
            } => ad_platforms::backfill(&config, from, to).await,
            Subcommands::Migrate => platform::migrate(&config).await,
            Subcommands::Retention {
                action: RetentionAction::Sweep,
            } => adflow::retention::sweep_now(&config).await,
            Subcommands::Token {
                tenant,
                role,
                subject,
                ttl,
            } => platform::token(&config, tenant, &role, &subject, ttl),
            Subcommands::Audit {
                action:
                    AuditAction::Replay {
                        stream,
                        tenant,
                        category,
                        event_types,
                        actor,
                        correlation,
                        from_position,
                        to_position,
                        from,
                        to,
                        format,
                    },
            } => {
                let filter = audit_replay::ReplayFilter {
                    stream,
                    tenant,
                    category,
                    event_types,
                    actor,
                    correlation,
                    from_position,
                    to_position,
                    from,
                    to,
                };
                let mut out = std::io::BufWriter::new(std::io::stdout().lock());
                audit_replay::replay(&config, &filter, format, &mut out)
                    .await
                    .map(|written| eprintln!("replayed {written} events"))
            }
            Subcommands::Audit {
                action:
                    AuditAction::Diff {
                        stream,
                        from_version,
                        to_version,
                        from_position,
                        to_position,
                        from,
                        to,
                    },
            } => {
                audit::diff(
                    &config,
                    &stream,
                    audit::AsOf {
                        version: from_version,
                        position: from_position,
                        at: from,
                    },
                    audit::AsOf {
                        version: to_version,
                        position: to_position,
                        at: to,
                    },
                )
                .await
            }
            Subcommands::Audit {
                action: AuditAction::Explain { stream, path },
            } => audit::explain(&config, &stream, &path).await,
            Subcommands::Audit {
                action:
                    AuditAction::State {
                        stream,
                        version,
                        position,
                        at,
                    },
            } => {
                audit::state(
                    &config,
                    &stream,
                    audit::AsOf {
                        version,
                        position,
                        at,
                    },
                )
                .await
            }
            Subcommands::Audit {
                action: AuditAction::Checkpoint,
            } => audit::checkpoint(&config).await,
            Subcommands::Audit {
                action:
                    AuditAction::Verify {
                        from_checkpoint,
                        public_key,
                    },
            } => match audit::verify(&config, from_checkpoint.as_deref(), public_key.as_deref())
                .await
            {
                Ok(true) => Ok(()),
                Ok(false) => Err(platform::PlatformError::Usage(
                    "the log's hash chain is broken".into(),
                )),
                Err(error) => Err(error),
            },
            Subcommands::Bench { which } => bench::run(&config, which).await,
        }
    })
}
