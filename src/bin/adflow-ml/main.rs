//! `adflow-ml`: the ML worker and the model tooling, the one binary that links LibTorch.
//! `adflow all` starts `adflow-ml worker` as a supervised child; it also runs alone (any number
//! share one durable consumer per work type).

mod bench_ml;
mod ml;

use adflow::platform::PlatformError;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "adflow-ml",
    version,
    about = "Adflow's ML worker: structures, copy and segments for requests from NATS"
)]
struct Cli {
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// Answer generation and segmentation requests from NATS until stopped.
    Worker,
    /// Print every model's evaluation metrics (keyword clustering, copy, structures, segments);
    /// `eval anomalies` scores the anomaly detector on the market simulator.
    Eval {
        #[command(subcommand)]
        which: Option<EvalWhich>,
    },
    /// Single-prediction latency and batch throughput of the performance predictor.
    BenchPrediction {
        #[arg(long, default_value_t = 2_000)]
        single: usize,
    },
    /// Train a tenant's click-through and conversion models now and add them to the registry.
    TrainPrediction {
        #[arg(long)]
        tenant: uuid::Uuid,
    },
    /// Train the copy scorer on ml-workers/data/copy_quality.tsv (and `--extra` rows in its
    /// format, such as exported experiment outcomes) and write its artifact.
    TrainCopyScorer {
        #[arg(long, default_value = "ml-workers/models/copy-scorer.safetensors")]
        out: PathBuf,
        #[arg(long, default_value = "1")]
        version: String,
        #[arg(long)]
        extra: Option<PathBuf>,
    },
    /// Write a tenant's decided creative experiments as copy-scorer training rows.
    ExportCopyOutcomes {
        #[arg(long)]
        tenant: uuid::Uuid,
        #[arg(long)]
        out: PathBuf,
    },
    /// The ML path under measurement: brief → structure visible in GraphQL (`adflow all` with
    /// this worker), copy generation per ad, and encoder throughput (docs/benchmarks.md).
    Bench {
        /// Structure requests, made one after another.
        #[arg(long, default_value_t = 20)]
        briefs: usize,
    },
}

#[derive(Subcommand)]
enum EvalWhich {
    /// Copy on the evaluation set (ml-workers/data/copy_eval_briefs.json): Ad Strength, value
    /// propositions in headlines, casing, grammar, duplication and instructions.
    Copy {
        /// Another set of briefs in the same JSON shape (briefs kept outside the repository).
        #[arg(long)]
        briefs: Option<std::path::PathBuf>,
    },
    /// The anomaly detector on simulated campaign-weeks with injected spend spikes, tracking
    /// outages and CTR collapses, next to the ±75 %-versus-3-week-average rule.
    Anomalies {
        #[arg(long, default_value_t = 200)]
        campaign_weeks: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Standard deviations of noise an alert needs (the detector's default when absent).
        #[arg(long)]
        z: Option<f64>,
        /// Relative departure an alert needs.
        #[arg(long)]
        relative: Option<f64>,
        /// Least expected clicks in a window before it is judged.
        #[arg(long)]
        min_clicks: Option<f64>,
    },
    /// The budget allocator on simulated lines: unchanged, equal split, ours and the oracle.
    Optimisation {
        #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5")]
        seeds: Vec<u64>,
        #[arg(long, default_value_t = 12)]
        weeks: i64,
    },
    /// Dayparting on simulated Google campaigns: the recovered hour-of-week value of a click
    /// against the simulator's planted rhythm (rank correlation), next to naive readings.
    Dayparting {
        #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5")]
        seeds: Vec<u64>,
        #[arg(long, default_value_t = 4)]
        weeks: i64,
        #[arg(long, default_value_t = 12)]
        campaigns: usize,
    },
    /// Negative keywords from search terms on simulated Google campaigns: what our rule, the
    /// spent-a-conversion rule and the oracle would block in the two weeks after the report.
    SearchTerms {
        #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
        seeds: Vec<u64>,
        #[arg(long, default_value_t = 30)]
        campaigns: usize,
    },
    /// Creative experiments: A/A tests (false winners) and A/B tests with a true 20 % lift (time
    /// to a decision) under the sequential design, on the simulator.
    Experiments {
        #[arg(long, value_delimiter = ',', default_value = "1")]
        seeds: Vec<u64>,
        #[arg(long, default_value_t = 200)]
        tests: usize,
    },
    /// The decision rules acting daily on simulated campaigns against leaving them alone.
    OptimisationLoop {
        #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5")]
        seeds: Vec<u64>,
        #[arg(long, default_value_t = 12)]
        campaigns: usize,
    },
    /// The click-through and conversion models on a held-out simulated week, next to logistic
    /// regression and the oracle that knows the true rates.
    Prediction {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, default_value_t = 32)]
        campaigns: usize,
        #[arg(long)]
        epochs: Option<usize>,
        #[arg(long)]
        factors: Option<i64>,
        #[arg(long)]
        l2: Option<f64>,
    },
}

/// Why an `adflow-ml` command failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error("ML: {0}")]
    Ml(#[from] adflow_ml_workers::MlError),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    adflow::process::run("adflow-ml", |config| async move {
        match cli.command {
            Commands::Worker => ml::serve(&config).await,
            Commands::Eval { which: None } => ml::evaluate(),
            Commands::Eval {
                which:
                    Some(EvalWhich::Anomalies {
                        campaign_weeks,
                        seed,
                        z,
                        relative,
                        min_clicks,
                    }),
            } => {
                let mut settings = adflow_ml_workers::anomaly::DetectorSettings::default();
                settings.z = z.unwrap_or(settings.z);
                settings.relative = relative.unwrap_or(settings.relative);
                settings.min_clicks = min_clicks.unwrap_or(settings.min_clicks);
                ml::evaluate_anomalies(seed, campaign_weeks, &settings);
                Ok(())
            }
            Commands::Eval {
                which:
                    Some(EvalWhich::Prediction {
                        seed,
                        campaigns,
                        epochs,
                        factors,
                        l2,
                    }),
            } => {
                let mut options = adflow_ml_workers::prediction::model::TrainOptions::default();
                options.epochs = epochs.unwrap_or(options.epochs);
                options.factors = factors.unwrap_or(options.factors);
                options.l2 = l2.unwrap_or(options.l2);
                ml::evaluate_prediction(seed, campaigns, &options)
            }
            Commands::Eval {
                which: Some(EvalWhich::OptimisationLoop { seeds, campaigns }),
            } => {
                ml::evaluate_loop(&seeds, campaigns);
                Ok(())
            }
            Commands::Eval {
                which: Some(EvalWhich::Optimisation { seeds, weeks }),
            } => {
                ml::evaluate_allocation(&seeds, weeks);
                Ok(())
            }
            Commands::Eval {
                which:
                    Some(EvalWhich::Dayparting {
                        seeds,
                        weeks,
                        campaigns,
                    }),
            } => {
                ml::evaluate_dayparting(&seeds, weeks, campaigns);
                Ok(())
            }
            Commands::Eval {
                which: Some(EvalWhich::Copy { briefs }),
            } => ml::evaluate_copy(briefs.as_deref()),
            Commands::Eval {
                which: Some(EvalWhich::SearchTerms { seeds, campaigns }),
            } => {
                ml::evaluate_search_terms(&seeds, campaigns);
                Ok(())
            }
            Commands::Eval {
                which: Some(EvalWhich::Experiments { seeds, tests }),
            } => {
                ml::evaluate_experiments(&seeds, tests);
                Ok(())
            }
            Commands::BenchPrediction { single } => ml::bench_prediction(single),
            Commands::TrainPrediction { tenant } => ml::train_prediction(&config, tenant).await,
            Commands::TrainCopyScorer {
                out,
                version,
                extra,
            } => ml::train_copy_scorer(&out, &version, extra.as_deref()),
            Commands::ExportCopyOutcomes { tenant, out } => {
                ml::export_copy_outcomes(&config, tenant, &out).await
            }
            Commands::Bench { briefs } => {
                let scratch = adflow::scratch::Scratch::create(&config).await?;
                let result = bench_ml::run(&config, &scratch.name, briefs).await;
                adflow_projections::analytics::Analytics::new(
                    &config.clickhouse_url,
                    &scratch.name,
                )
                .map_err(PlatformError::from)?
                .drop_database()
                .await
                .map_err(PlatformError::from)?;
                scratch.drop_database(&config).await?;
                result
            }
        }
    })
}
