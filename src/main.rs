//! `adflow`: one binary for the whole platform. `adflow all` runs the command API, the projectors
//! and the query API in one process; each can also run alone.

mod bench;
mod bench_commands;
mod bench_graphql;
mod bench_ml;
mod bench_server;
mod config;
mod connections;
mod ml;
mod platform;
mod supervisor;

use clap::{Parser, Subcommand};
use config::Config;
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
    /// Apply pending database migrations and exit.
    Migrate,
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
    /// The ML worker alone: generates structures for requests from NATS.
    MlWorker,
    /// Model evaluation and training.
    Ml {
        #[command(subcommand)]
        command: ml::MlCommand,
    },
    /// Benchmarks that print numbers (see docs/benchmarks.md).
    Bench {
        #[command(subcommand)]
        which: bench::Bench,
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
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&config.log).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Client input is bounded before any recursive parser sees it (`adflow-input-limits`);
        // a larger stack than the default 2 MiB is a second line of defence.
        .thread_stack_size(8 << 20)
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
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
            Subcommands::Migrate => platform::migrate(&config).await,
            Subcommands::MlWorker => platform::serve(&config, platform::Parts::ML_WORKER).await,
            Subcommands::Ml { command } => ml::command(command),
            Subcommands::Token {
                tenant,
                role,
                subject,
                ttl,
            } => platform::token(&config, tenant, &role, &subject, ttl),
            Subcommands::Bench { which } => bench::run(&config, which).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("adflow: {error}");
            ExitCode::FAILURE
        }
    }
}
