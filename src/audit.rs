//! `adflow audit`: what auditors run against the log. `verify` recomputes the PostgreSQL log's hash
//! chain and names the first event that was altered, removed or moved.

use crate::config::Config;
use crate::platform::{self, PlatformError};
use adflow_event_store::chain::{self, ChainProblem};

/// Verifies the chain; `Ok(false)` when it is broken (the break is printed).
pub async fn verify(config: &Config) -> Result<bool, PlatformError> {
    if config.event_store != "postgres" {
        return Err(PlatformError::Usage(format!(
            "audit verify reads the PostgreSQL log; this instance's event store is {}",
            config.event_store
        )));
    }
    let pool = platform::connect(config).await?;
    adflow_schemas::migrate(&pool).await?;
    let report = chain::verify(&pool).await?;
    pool.close().await;
    match report.first_break {
        None => {
            println!(
                "the chain holds: {} events in {} streams verified",
                report.events, report.streams
            );
            Ok(true)
        }
        Some(at) => {
            let what = match at.problem {
                ChainProblem::Altered => {
                    "altered (its content or its link no longer matches its hash)"
                }
                ChainProblem::Missing => "preceded by a missing event (version removed)",
                ChainProblem::Unchained => "without a hash (written around append_events)",
            };
            println!(
                "BROKEN at position {}: {} version {} is {what}",
                at.position, at.stream_name, at.stream_version
            );
            Ok(false)
        }
    }
}
