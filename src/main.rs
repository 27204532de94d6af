//! `adflow`: one binary for the platform but its ML worker (`adflow-ml`, which links LibTorch). `adflow all` runs the command API, the projectors
//! and the query API in one process; each can also run alone.

mod bench;
mod bench_commands;
mod bench_graphql;

// The shared wiring, under the names the benchmarks use (`crate::platform`, …).
use adflow::{bench_server, config, platform, supervisor};

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
            Subcommands::Migrate => platform::migrate(&config).await,
            Subcommands::Token {
                tenant,
                role,
                subject,
                ttl,
            } => platform::token(&config, tenant, &role, &subject, ttl),
            Subcommands::Bench { which } => bench::run(&config, which).await,
        }
    })
}
