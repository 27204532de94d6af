//! What every binary does: reads the configuration (exit code 2 when it is wrong), logs to
//! standard error at the configured level, runs its command on a tokio runtime whose threads have
//! room on their stacks, and reports a failure as `<binary>: <error>` with exit code 1.

use crate::config::Config;
use std::fmt::Display;
use std::future::Future;
use std::process::ExitCode;

pub fn run<F, Fut, E>(binary: &str, command: F) -> ExitCode
where
    F: FnOnce(Config) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match runtime(binary, &config) {
        Ok(runtime) => runtime,
        Err(code) => return code,
    };
    let outcome = runtime.block_on(command(config));
    adflow_telemetry::traces::shutdown();
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{binary}: {error}");
            ExitCode::FAILURE
        }
    }
}

fn runtime(binary: &str, config: &Config) -> Result<tokio::runtime::Runtime, ExitCode> {
    adflow_telemetry::install();
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::Layer;
    let filter =
        tracing_subscriber::EnvFilter::try_new(&config.log).unwrap_or_else(|_| "info".into());
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let logs = if config.log_format == "json" {
        logs.json()
            .flatten_event(true)
            .with_current_span(false)
            .boxed()
    } else {
        logs.boxed()
    };
    // Spans go to the exporter whatever the log filter says (it filters the log lines only).
    tracing_subscriber::registry()
        .with(logs.with_filter(filter))
        .with(adflow_telemetry::traces::layer(binary))
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
            return Err(ExitCode::FAILURE);
        }
    };
    Ok(runtime)
}
