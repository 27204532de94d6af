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

/// Where an as-of state stops: the stream's version, the log's position, or a moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct AsOf {
    pub version: Option<i64>,
    pub position: Option<i64>,
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The state of the aggregate behind `stream` as of a version, position or time, folded from the
/// log itself (not a read model) by the domain's own `evolve`; printed as JSON.
pub async fn state(config: &Config, stream: &str, as_of: AsOf) -> Result<(), PlatformError> {
    use sqlx::Row;
    let pool = platform::connect(config).await?;
    let rows = sqlx::query(
        "SELECT stream_version, position, event_type, schema_version, data, recorded_at
           FROM events
          WHERE stream_name = $1
            AND ($2::bigint IS NULL OR stream_version <= $2)
            AND ($3::bigint IS NULL OR position <= $3)
            AND ($4::timestamptz IS NULL OR recorded_at <= $4)
          ORDER BY stream_version",
    )
    .bind(stream)
    .bind(as_of.version)
    .bind(as_of.position)
    .bind(as_of.at)
    .fetch_all(&pool)
    .await?;
    pool.close().await;
    let category = stream.split('-').next().unwrap_or_default();
    let mut events = Vec::with_capacity(rows.len());
    for row in &rows {
        events.push((
            row.try_get::<String, _>("event_type")?,
            u32::try_from(row.try_get::<i32, _>("schema_version")?).unwrap_or(0),
            row.try_get::<serde_json::Value, _>("data")?,
        ));
    }
    let payloads: Vec<adflow_domain::history::RecordedPayload<'_>> = events
        .iter()
        .map(
            |(event_type, schema_version, data)| adflow_domain::history::RecordedPayload {
                event_type,
                schema_version: *schema_version,
                data,
            },
        )
        .collect();
    let states = adflow_domain::history::states(category, &payloads)
        .map_err(|error| PlatformError::Usage(format!("{stream}: {error}")))?;
    let last = rows.last();
    let answer = serde_json::json!({
        "stream": stream,
        "version": last.map(|r| r.try_get::<i64, _>("stream_version")).transpose()?,
        "position": last.map(|r| r.try_get::<i64, _>("position")).transpose()?,
        "recordedAt": last
            .map(|r| r.try_get::<chrono::DateTime<chrono::Utc>, _>("recorded_at"))
            .transpose()?,
        "state": states.last().cloned().unwrap_or(serde_json::Value::Null),
    });
    println!("{answer:#}");
    Ok(())
}
