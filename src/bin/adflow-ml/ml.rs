//! Wiring of the ML worker (`adflow-ml worker`, which `adflow all` supervises) and the model
//! commands (`adflow-ml eval`, `adflow-ml train-copy-scorer`).

use crate::Failure;
use adflow::config::Config;
use adflow::platform::{self, PlatformError};
use adflow_event_store::EventStore;
use adflow_ml_workers::backend::StoreBackend;
use adflow_ml_workers::encoder::MiniLm;
use adflow_ml_workers::handlers::{SegmentHandler, StructureHandler};
use adflow_ml_workers::prediction::text::TextVectors;
use adflow_ml_workers::segments::KMeansSegmenter;
use adflow_ml_workers::worker::{WorkHandler, Worker, WorkerOptions};
use adflow_ml_workers::{evaluation, Models};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

fn options(config: &Config) -> WorkerOptions {
    WorkerOptions {
        stream: config.ml_stream.clone(),
        subject_prefix: config.ml_subject_prefix.clone(),
        max_attempts: config.ml_max_attempts,
        ack_wait: Duration::from_secs(config.ml_ack_wait_seconds.max(1)),
        ..WorkerOptions::default()
    }
}

/// The workers of every work type, sharing the loaded models and the backend.
pub fn workers(
    config: &Config,
    store: Arc<dyn EventStore>,
    models: &Models,
) -> (Worker<StructureHandler>, Worker<SegmentHandler>) {
    let backend = Arc::new(StoreBackend::new(
        adflow_application::Application::new(store),
        "ml-worker",
    ));
    let options = options(config);
    let structure = StructureHandler {
        backend: backend.clone(),
        generator: models.structure.clone(),
    };
    let segments = SegmentHandler {
        backend,
        segmenter: Arc::new(KMeansSegmenter),
        model_version: adflow_ml_workers::SEGMENTER_VERSION.to_owned(),
    };
    (
        Worker::new(structure, options.clone()),
        Worker::new(segments, options),
    )
}

/// The predictor's text embeddings, on the device the models run on.
fn text_vectors() -> Result<Arc<TextVectors>, Failure> {
    let device = adflow_ml_workers::prediction::default_device();
    Ok(Arc::new(TextVectors::new(Arc::new(MiniLm::load_default(
        device,
    )?))))
}

/// Runs a worker until shutdown; reconnects to NATS after any failure.
pub async fn run_worker<H: WorkHandler>(
    worker: Worker<H>,
    nats_url: String,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let outcome = match async_nats::connect(&nats_url).await {
            Ok(client) => worker.run(client, shutdown.clone()).await,
            Err(error) => Err(adflow_ml_workers::MlError::Nats(error.to_string())),
        };
        match outcome {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, %nats_url, work = H::WORK.subject(), "ML worker stopped, restarting in 2 s")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(2)) => {}
            _ = shutdown.wait_for(|stop| *stop) => return,
        }
    }
}

/// Runs one worker per work type until SIGTERM (or, supervised, until `adflow all` goes).
pub async fn serve(config: &Config) -> Result<(), Failure> {
    let (stop, shutdown) = watch::channel(false);
    platform::listen_for_signals(stop, config.supervised);
    let pool = platform::connect(config).await?;
    adflow_schemas::migrate(&pool)
        .await
        .map_err(PlatformError::from)?;
    let store = platform::event_store(config, &pool)?;
    let analytics = adflow_projections::analytics::Analytics::new(
        &config.clickhouse_url,
        &config.clickhouse_database,
    )
    .map_err(PlatformError::from)?;
    let models = Models::load_default()?;
    tracing::info!(device = ?models.device, "ML models loaded");
    let text = Arc::new(TextVectors::new(models.encoder.clone()));
    let device = adflow_ml_workers::prediction::default_device();
    let optimiser = Worker::new(
        adflow_ml_workers::optimiser::OptimiserHandler {
            backend: Arc::new(StoreBackend::new(
                adflow_application::Application::new(store.clone()),
                "ml-optimiser",
            )),
            analytics: analytics.clone(),
            pool: pool.clone(),
            text: text.clone(),
            device,
        },
        options(config),
    );
    let anomalies = Worker::new(
        adflow_ml_workers::anomaly::AnomalyHandler {
            backend: Arc::new(StoreBackend::new(
                adflow_application::Application::new(store.clone()),
                "ml-worker",
            )),
            analytics: adflow_projections::analytics::Analytics::new(
                &config.clickhouse_url,
                &config.clickhouse_database,
            )
            .map_err(PlatformError::from)?,
            settings: Default::default(),
        },
        options(config),
    );
    let (structures, segments) = workers(config, store.clone(), &models);
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(run_worker(
        structures,
        config.nats_url.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(run_worker(
        segments,
        config.nats_url.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(run_worker(
        anomalies,
        config.nats_url.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(run_worker(
        optimiser,
        config.nats_url.clone(),
        shutdown.clone(),
    ));
    if config.optimisation_schedule_seconds > 0 {
        let schedule = adflow_ml_workers::schedule::Schedule {
            application: adflow_application::Application::new(store.clone()),
            pool: pool.clone(),
            analytics,
            interval: Duration::from_secs(config.optimisation_schedule_seconds),
            retrain_after: chrono::Duration::days(config.retrain_days.max(1)),
            text,
            device,
        };
        tasks.spawn(schedule.run(shutdown.clone()));
    }
    let mut ready = vec!["ml_worker=running".to_owned()];
    if let Some(addr) =
        platform::spawn_ops_server(&mut tasks, config, pool.clone(), None, shutdown.clone()).await?
    {
        ready.push(format!("ops={addr}"));
    }
    platform::report_ready(&ready);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

pub fn evaluate() -> Result<(), Failure> {
    let models = Models::load_default()?;
    evaluation::run_all(&models)?;
    let rate = evaluation::encoder_throughput(models.encoder.as_ref(), 512, 64)?;
    println!(
        "encoder: {rate:.0} embeddings/s (batches of 64 short texts, {:?})",
        models.device
    );
    Ok(())
}

/// `adflow-ml eval copy`: the generator on the copy evaluation set.
pub fn evaluate_copy(briefs: Option<&std::path::Path>) -> Result<(), Failure> {
    use adflow_ml_workers::copy_eval;
    let set = match briefs {
        Some(path) => {
            let json = std::fs::read_to_string(path).map_err(|e| {
                adflow_ml_workers::MlError::Model(format!("{}: {e}", path.display()))
            })?;
            copy_eval::parse_briefs(&json)?
        }
        None => copy_eval::eval_briefs()?,
    };
    let models = Models::load_default()?;
    let started = std::time::Instant::now();
    let result = copy_eval::evaluate_briefs(&models, &set)?;
    result.print();
    println!(
        "copy scorer {}: {:?}",
        models.scorer.artifact.label(),
        models.scorer.artifact.metrics
    );
    let (lines, auc) = models
        .scorer
        .ranking_auc(adflow_ml_workers::copy::scorer::HOLDOUT)?;
    println!("copy scorer ranking of {lines} held-out harder lines: AUC {auc:.3}");
    let (lines, auc) = models
        .scorer
        .ranking_auc(adflow_ml_workers::copy::scorer::BLIND_HOLDOUT)?;
    println!(
        "copy scorer ranking of {lines} blind held-out lines (failures its features do not name): AUC {auc:.3}"
    );
    println!("({:.1} s)", started.elapsed().as_secs_f64());
    Ok(())
}

pub fn train_copy_scorer(out: &Path, version: &str, extra: Option<&Path>) -> Result<(), Failure> {
    let extra = match extra {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| PlatformError::Usage(format!("{}: {e}", path.display())))?,
        None => String::new(),
    };
    let (bytes, metrics) = evaluation::train_copy_scorer(version, &extra)?;
    std::fs::write(out, bytes)
        .map_err(|e| PlatformError::Usage(format!("{}: {e}", out.display())))?;
    println!(
        "wrote {} (copy-scorer@{version}): {metrics:?}",
        out.display()
    );
    Ok(())
}

/// `adflow-ml eval anomalies`: ours next to the daily rule, on the simulator's ground truth.
pub fn evaluate_anomalies(
    seed: u64,
    campaign_weeks: usize,
    settings: &adflow_ml_workers::anomaly::DetectorSettings,
) {
    let started = std::time::Instant::now();
    let result = adflow_ml_workers::anomaly::evaluate(seed, campaign_weeks, settings);
    println!("settings: {settings:?}");
    println!(
        "anomaly detection on {} simulated campaign-weeks (seed {seed}): {} anomalies in the evaluated weeks",
        result.campaign_weeks, result.anomalies
    );
    println!(
        "{:<34} {:>9} {:>7} {:>6} {:>9} {:>9} {:>11} {:>15}  recall by kind",
        "detector",
        "precision",
        "recall",
        "F1",
        "delay p50",
        "delay avg",
        "alerts",
        "false/clean wk"
    );
    for score in [&result.ours, &result.rule] {
        let kinds: Vec<String> = score
            .recall_by_kind
            .iter()
            .map(|(k, r)| format!("{k} {r:.2}"))
            .collect();
        println!(
            "{:<34} {:>9.3} {:>7.3} {:>6.3} {:>8.0}h {:>8.1}h {:>5}/{:<5} {:>15.2}  {}",
            score.name,
            score.precision,
            score.recall,
            score.f1,
            score.median_delay_hours,
            score.mean_delay_hours,
            score.true_alerts,
            score.alerts,
            score.false_alerts_per_clean_week,
            kinds.join(", ")
        );
    }
    println!("({:.1} s)", started.elapsed().as_secs_f64());
}

/// `adflow-ml eval prediction`: logistic regression and the factorisation machine next to the
/// oracle that knows the simulator's true rates, on a held-out fourth week.
pub fn evaluate_prediction(
    seed: u64,
    campaigns: usize,
    options: &adflow_ml_workers::prediction::model::TrainOptions,
) -> Result<(), Failure> {
    let device = adflow_ml_workers::prediction::default_device();
    let text = text_vectors()?;
    let result = adflow_ml_workers::prediction::evaluate::evaluate(
        seed,
        campaigns,
        options,
        Some(&text),
        device,
    )?;
    println!(
        "performance prediction on {} simulated campaigns, {} units (seed {seed}, {}): weeks 1-3 train (last 4 days validate), week 4 held out; both models read hashed fields and the {} embeddings of keyword and copy; the conversion machine reads the click machine's audience x message interactions besides",
        result.campaigns,
        result.units,
        result.device,
        result.text_encoder.as_deref().unwrap_or("(no)")
    );
    for t in &result.targets {
        println!(
            "\n{} ({} held-out rows, {:.0} trials; new units in week 4: {})",
            match t.target {
                adflow_ml_workers::prediction::features::Target::ClickThrough =>
                    "click-through (per impression, hourly)",
                adflow_ml_workers::prediction::features::Target::Conversion =>
                    "conversion rate (per click, daily)",
            },
            t.test_rows,
            t.test_trials,
            t.cold_start_log_loss.units
        );
        println!(
            "{:<32} {:>7} {:>11} {:>10} {:>12} {:>16}",
            "model", "AUC", "AUC/oracle", "log loss", "calib. error", "cold-start loss"
        );
        let mut lines = vec![
            (
                "logistic regression",
                &t.logistic,
                t.logistic_auc_ratio_to_oracle,
                t.cold_start_log_loss.logistic,
            ),
            (
                "factorisation machine",
                &t.model,
                t.auc_ratio_to_oracle,
                t.cold_start_log_loss.model,
            ),
        ];
        for ablation in &t.ablations {
            lines.push((
                ablation.name.as_str(),
                &ablation.score,
                ablation.score.auc / t.oracle.auc.max(1e-9),
                ablation.cold_start_log_loss,
            ));
        }
        lines.push((
            "oracle (true rates)",
            &t.oracle,
            1.0,
            t.cold_start_log_loss.oracle,
        ));
        for (name, score, ratio, cold) in lines {
            println!(
                "{:<32} {:>7.4} {:>11.4} {:>10.5} {:>12.5} {:>16.5}",
                name, score.auc, ratio, score.log_loss, score.calibration_error, cold
            );
        }
        println!(
            "90 % intervals (factorisation machine): {:.1} % of held-out units' true rates inside; mean width {:.5}",
            t.interval_coverage_of_truth * 100.0,
            t.mean_interval_width
        );
    }
    println!("\n(trained and scored in {:.1} s)", result.train_seconds);
    Ok(())
}

/// What the tenant commands read: campaigns from the event store, figures from ClickHouse.
struct TenantReads {
    pool: sqlx::PgPool,
    application: adflow_application::Application,
    analytics: adflow_projections::analytics::Analytics,
}

impl TenantReads {
    async fn connect(config: &Config) -> Result<Self, Failure> {
        let pool = platform::connect(config).await?;
        adflow_schemas::migrate(&pool)
            .await
            .map_err(PlatformError::from)?;
        let store = platform::event_store(config, &pool)?;
        let analytics = adflow_projections::analytics::Analytics::new(
            &config.clickhouse_url,
            &config.clickhouse_database,
        )
        .map_err(PlatformError::from)?;
        Ok(Self {
            pool,
            application: adflow_application::Application::new(store),
            analytics,
        })
    }

    async fn campaign(
        &self,
        tenant: uuid::Uuid,
        campaign: uuid::Uuid,
    ) -> Result<Option<adflow_domain::campaign::CampaignState>, adflow_ml_workers::MlError> {
        self.application
            .load::<adflow_domain::campaign::Campaign>(adflow_domain::TenantId(tenant), campaign)
            .await
            .map(|loaded| loaded.state)
            .map_err(|e| adflow_ml_workers::MlError::Backend(e.to_string()))
    }
}

/// `adflow-ml export-copy-outcomes`: the tenant's decided creative experiments as copy-scorer
/// training rows (winner 1, losers 0), written to `out`.
pub async fn export_copy_outcomes(
    config: &Config,
    tenant: uuid::Uuid,
    out: &Path,
) -> Result<(), Failure> {
    let reads = TenantReads::connect(config).await?;
    let reads = &reads;
    let rows = adflow_ml_workers::copy_outcomes::export(&reads.analytics, tenant, |campaign| {
        reads.campaign(tenant, campaign)
    })
    .await?;
    let mut text = rows.join("\n");
    text.push('\n');
    std::fs::write(out, text)
        .map_err(|e| PlatformError::Usage(format!("{}: {e}", out.display())))?;
    println!(
        "wrote {} rows of decided experiments to {} (train with: adflow-ml train-copy-scorer --extra {})",
        rows.len(),
        out.display(),
        out.display()
    );
    Ok(())
}

/// `adflow-ml train prediction --tenant <id>`: trains the tenant's click-through and conversion
/// models now and registers them (on demand; the worker's schedule does it weekly).
pub async fn train_prediction(config: &Config, tenant: uuid::Uuid) -> Result<(), Failure> {
    let reads = TenantReads::connect(config).await?;
    let reads = &reads;
    let records = adflow_ml_workers::prediction::live::train_tenant(
        &reads.pool,
        &reads.analytics,
        tenant,
        |campaign| reads.campaign(tenant, campaign),
        &text_vectors()?,
        adflow_ml_workers::prediction::default_device(),
    )
    .await?;
    if records.is_empty() {
        println!("tenant {tenant}: too little history to train on (needs 3 days and 50 rows)");
    }
    for record in records {
        println!(
            "registered {} (window {} .. {}, data sha256 {}): {}",
            record.label(),
            record.window_from,
            record.window_to,
            record.data_sha256,
            record.metrics
        );
    }
    Ok(())
}

/// `adflow-ml eval optimisation-loop`: the decision rules acting daily on the simulator against
/// leaving the campaigns alone, with the guardrails checked independently.
pub fn evaluate_loop(seeds: &[u64], campaigns: usize) {
    use adflow_domain::campaign::Guardrails;
    use adflow_domain::optimisation::DecisionRules;
    let guardrails = Guardrails {
        auto_apply: true,
        min_confidence_basis_points: 7_000,
        max_daily_budget_change_basis_points: 2_000,
        max_daily_spend_micros: None,
    };
    let rules = DecisionRules {
        min_clicks: 50,
        ..DecisionRules::default()
    };
    println!(
        "closed loop: {campaigns} simulated Google campaigns a seed, 28 days; the rules act daily from day 8 (guardrails: ±20 %/day, confidence ≥ 0.70)"
    );
    println!(
        "{:>5} {:>22} {:>22} {:>22} {:>12} {:>8} {:>10}  actions",
        "seed",
        "nothing: conv / spend",
        "even cut: conv / spend",
        "optimised: conv/spend",
        "Δ conv @ =$",
        "applied",
        "violations"
    );
    let mut gains = Vec::new();
    let mut violations = 0;
    for seed in seeds {
        let r = adflow_ml_workers::closed_loop::evaluate(*seed, campaigns, &rules, &guardrails);
        let (n, e, o) = (&r.nothing, &r.equal_spend, &r.optimised);
        // From day 8, when the optimiser can act: conversions at (nearly) the same spend.
        let gain = o.conversions_after / e.conversions_after.max(1e-9) - 1.0;
        gains.push(gain);
        violations += r.guardrail_violations;
        println!(
            "{:>5} {:>9.0} / {:>10.0} {:>9.0} / {:>10.0} {:>9.0} / {:>10.0} {:>+11.1}% {:>8} {:>10}  {:?}",
            seed,
            n.conversions_after,
            n.spend_after,
            e.conversions_after,
            e.spend_after,
            o.conversions_after,
            o.spend_after,
            gain * 100.0,
            r.applied,
            r.guardrail_violations,
            r.by_action
        );
    }
    let mean = gains.iter().sum::<f64>() / gains.len().max(1) as f64;
    let worst = gains.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "from day 8: conversions of the optimised campaigns against the same campaigns left alone at equal spend: mean {:+.1} %, worst {:+.1} %; guardrail violations {violations}",
        mean * 100.0,
        worst * 100.0
    );
}

/// `adflow-ml bench prediction`: single-prediction latency (p50/p95/p99) and batch throughput of
/// the factorisation machine, on the device this build finds.
pub fn bench_prediction(single: usize) -> Result<(), Failure> {
    use adflow_ml_workers::prediction::{evaluate, features::Target, model, train_rate};
    let device = adflow_ml_workers::prediction::default_device();
    let history = evaluate::simulate(3, 8);
    let text = text_vectors()?;
    let click = train_rate(
        Target::ClickThrough,
        model::Architecture::FactorisationMachine,
        &history.hourly,
        4,
        &model::TrainOptions::default(),
        model::Inputs::text(Some(&text)),
        device,
    )?;
    // The conversion machine reads the click machine: its prediction runs both.
    let conversion = train_rate(
        Target::Conversion,
        model::Architecture::FactorisationMachine,
        &history.daily,
        4,
        &model::TrainOptions::default(),
        model::Inputs {
            text: Some(&text),
            click: Some(&click.model),
        },
        device,
    )?;
    for (name, estimator, rows) in [
        ("click-through", &click, &history.hourly),
        (
            "conversion (with the click model)",
            &conversion,
            &history.daily,
        ),
    ] {
        let mut latencies = Vec::with_capacity(single);
        for i in 0..single {
            let one = std::slice::from_ref(&rows[i % rows.len()]);
            let started = std::time::Instant::now();
            let e = estimator.estimate(one)?;
            latencies.push(started.elapsed().as_secs_f64() * 1e3);
            std::hint::black_box(e);
        }
        latencies.sort_by(f64::total_cmp);
        let at = |q: f64| latencies[((latencies.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "{name}: single prediction ({device:?}, {single} calls, estimate with interval): p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms",
            at(0.5),
            at(0.95),
            at(0.99)
        );
        for batch in [256usize, 4_096, 32_768] {
            let chunk: Vec<_> = rows.iter().cycle().take(batch).cloned().collect();
            let rounds = (200_000 / batch).max(3);
            let started = std::time::Instant::now();
            for _ in 0..rounds {
                std::hint::black_box(estimator.estimate(&chunk)?);
            }
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{name}: batch of {batch:>6}: {:>10.0} predictions/s",
                (batch * rounds) as f64 / seconds
            );
        }
    }
    Ok(())
}

/// `adflow-ml eval optimisation`: the budget allocator against budgets left alone, an equal split
/// and the oracle that knows the true curves.
pub fn evaluate_allocation(seeds: &[u64], weeks: i64) {
    println!("budget allocation: 6 simulated lines a seed, {weeks} weeks, every arm within ±20 % a day per line");
    let mut to_equal = Vec::new();
    let mut to_oracle = Vec::new();
    let mut one_stage_to_oracle = Vec::new();
    let mut expected_to_equal = Vec::new();
    let mut expected_to_oracle = Vec::new();
    for seed in seeds {
        let r = adflow_ml_workers::allocation_eval::evaluate(*seed, weeks);
        println!("seed {seed}:");
        for arm in &r.arms {
            println!(
                "  {:<32} conversions {:>7.0} spend {:>10.0} cost/conv {:>7.2} | last 4 weeks: conversions {:>6.0} (expected {:>6.1}) spend {:>9.0}",
                arm.name,
                arm.conversions,
                arm.spend,
                arm.spend / arm.conversions.max(1.0),
                arm.conversions_late,
                arm.expected_late,
                arm.spend_late
            );
        }
        let late = |i: usize| r.arms[i].conversions_late;
        let expected = |i: usize| r.arms[i].expected_late;
        to_equal.push(late(3) / late(1).max(1.0) - 1.0);
        to_oracle.push(late(3) / late(4).max(1.0) - 1.0);
        one_stage_to_oracle.push(late(2) / late(4).max(1.0) - 1.0);
        expected_to_equal.push(expected(3) / expected(1).max(1e-9) - 1.0);
        expected_to_oracle.push(expected(3) / expected(4).max(1e-9) - 1.0);
    }
    let summary = |v: &[f64]| {
        let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
        let worst = v.iter().copied().fold(f64::INFINITY, f64::min);
        (mean * 100.0, worst * 100.0)
    };
    let (me, we) = summary(&to_equal);
    let (mo, wo) = summary(&to_oracle);
    let (m1, w1) = summary(&one_stage_to_oracle);
    let (xe, xwe) = summary(&expected_to_equal);
    let (xo, xwo) = summary(&expected_to_oracle);
    println!("last four weeks, conversions that happened: ours against equal split mean {me:+.1} %, worst {we:+.1} %; against the oracle mean {mo:+.1} %, worst {wo:+.1} % (one Hill on conversions: mean {m1:+.1} %, worst {w1:+.1} %)");
    println!("last four weeks, conversions the true curves expect of each arm's budgets: ours against equal split mean {xe:+.1} %, worst {xwe:+.1} %; against the oracle mean {xo:+.1} %, worst {xwo:+.1} %");
}

/// `adflow-ml eval dayparting`: the hour-of-week value of a click recovered from reports, against
/// the simulator's planted rhythm.
pub fn evaluate_dayparting(seeds: &[u64], weeks: i64, campaigns: usize) {
    println!(
        "dayparting: {campaigns} simulated Google campaigns a seed, {weeks} weeks of hourly reports; \
         Spearman rank correlation with the planted hour-of-week pattern (oracle: 1.000)"
    );
    let mut ours = Vec::new();
    let mut lift = Vec::new();
    for seed in seeds {
        let r = adflow_ml_workers::dayparting::evaluate(*seed, weeks, campaigns);
        println!(
            "seed {seed}: ours {:.3} (conversions alone {:.3}, slope on click-through {:.2}) | click-through by hour {:.3} | naive conversions by hour {:.3} | proposed blocks {:.3} ({} of {} campaigns given a schedule; planted office-hours spread ×{:.2}; lag decay chosen {:.2})",
            r.ours,
            r.conversions_only,
            r.slope,
            r.click_through_by_hour,
            r.conversions_by_hour,
            r.proposed_blocks,
            r.campaigns_proposed,
            r.campaigns,
            r.planted_spread,
            r.lag_decay
        );
        ours.push(r.ours);
        let [none, our, oracle] = r.later;
        let change = |arm: (f64, f64)| (arm.0 / none.0.max(1.0) - 1.0) * 100.0;
        println!(
            "        the next {weeks} weeks: conversions / spend / cost per conversion — no schedule {:.0} / {:.0} / {:.2}; ours {:.0} / {:.0} / {:.2} ({:+.1} % conversions); oracle {:.0} / {:.0} / {:.2} ({:+.1} %)",
            none.0, none.1, none.1 / none.0.max(1.0),
            our.0, our.1, our.1 / our.0.max(1.0), change(our),
            oracle.0, oracle.1, oracle.1 / oracle.0.max(1.0), change(oracle)
        );
        lift.push((change(our), change(oracle)));
    }
    let n = lift.len().max(1) as f64;
    println!(
        "the weeks after: conversions against no schedule, ours mean {:+.1} %, oracle mean {:+.1} %",
        lift.iter().map(|l| l.0).sum::<f64>() / n,
        lift.iter().map(|l| l.1).sum::<f64>() / n
    );
    let mean = ours.iter().sum::<f64>() / ours.len().max(1) as f64;
    let worst = ours.iter().copied().fold(f64::INFINITY, f64::min);
    println!("ours: mean rank correlation {mean:.3}, worst seed {worst:.3}");
}

/// `adflow-ml eval experiments`: A/A false winners and time to a decision on a true 20 % lift.
pub fn evaluate_experiments(seeds: &[u64], tests: usize) {
    let design = adflow_domain::optimisation::experiments::ExperimentDesign::default();
    println!(
        "creative experiments: mSPRT (alpha {}, tuned to a {:.0} % lift), looked at daily for up to {} days; {tests} A/A and {tests} A/B tests a seed",
        design.alpha,
        design.expected_lift * 100.0,
        design.max_looks
    );
    for seed in seeds {
        let r = adflow_ml_workers::experiments_eval::evaluate(*seed, tests, &design);
        println!(
            "seed {seed}: A/A false winners {} of {} ({:.1} %) | A/B (+20 %): right {} wrong {} undecided {}; median days to the right decision {:.1}; mean winner probability {:.3}",
            r.aa_false_winners,
            r.tests,
            r.aa_false_winner_rate * 100.0,
            r.ab_right_winners,
            r.ab_wrong_winners,
            r.ab_undecided,
            r.ab_median_days_to_decision,
            r.ab_mean_winner_probability
        );
    }
}

/// `adflow-ml eval search-terms`: negatives from two weeks of search terms, scored on the two
/// weeks after them.
pub fn evaluate_search_terms(seeds: &[u64], campaigns: usize) {
    println!(
        "negative keywords from search terms: {campaigns} simulated Google campaigns a seed (12 keywords, exact/phrase/broad), two weeks read, the next two scored"
    );
    println!(
        "{:<6} {:<22} {:>9} {:>9} {:>24} {:>22} {:>20}",
        "seed",
        "rule",
        "negatives",
        "right",
        "non-buyer spend blocked",
        "buyer spend blocked",
        "buyer conv. blocked"
    );
    for seed in seeds {
        let r = adflow_ml_workers::search_terms_eval::evaluate(*seed, campaigns);
        for (name, s) in [
            ("ours", &r.ours),
            ("spent a conversion", &r.spent_a_conversion),
            ("oracle", &r.oracle),
        ] {
            println!(
                "{:<6} {:<22} {:>9} {:>9} {:>23.1}% {:>22.2} {:>20}",
                seed,
                name,
                s.negatives,
                s.right,
                s.non_buyer_spend_blocked * 100.0,
                s.buyer_spend_blocked_micros as f64 / 1e6,
                s.buyer_conversions_blocked
            );
        }
        println!(
            "{:<6} non-buyers took {:.1} % of the later weeks' spend ({:.2})",
            seed,
            r.non_buyer_spend_share * 100.0,
            r.later_spend_micros as f64 / 1e6
        );
    }
}
