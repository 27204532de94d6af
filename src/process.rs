//! What every binary does first: logs to standard error at the configured level, and a tokio
//! runtime whose threads have room on their stacks.

use crate::config::Config;
use std::process::ExitCode;

pub fn runtime(config: &Config) -> Result<tokio::runtime::Runtime, ExitCode> {
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
            return Err(ExitCode::FAILURE);
        }
    };
    Ok(runtime)
}
