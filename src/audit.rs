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

/// One event of a stream as the as-of and diff commands read it.
struct StreamEvent {
    version: i64,
    position: i64,
    event_type: String,
    schema_version: u32,
    data: serde_json::Value,
    actor: String,
    correlation_id: uuid::Uuid,
    causation_id: uuid::Uuid,
    recorded_at: chrono::DateTime<chrono::Utc>,
}

impl StreamEvent {
    fn within(&self, as_of: &AsOf) -> bool {
        as_of.version.is_none_or(|v| self.version <= v)
            && as_of.position.is_none_or(|p| self.position <= p)
            && as_of.at.is_none_or(|t| self.recorded_at <= t)
    }
}

/// The stream's events up to `until`, and the aggregate's state after each, folded by the domain.
async fn fold_stream(
    config: &Config,
    stream: &str,
    until: &AsOf,
) -> Result<(Vec<StreamEvent>, Vec<serde_json::Value>), PlatformError> {
    use sqlx::Row;
    let pool = platform::connect(config).await?;
    let rows = sqlx::query(
        "SELECT stream_version, position, event_type, schema_version, data, actor, correlation_id,
                causation_id, recorded_at
           FROM events
          WHERE stream_name = $1
            AND ($2::bigint IS NULL OR stream_version <= $2)
            AND ($3::bigint IS NULL OR position <= $3)
            AND ($4::timestamptz IS NULL OR recorded_at <= $4)
          ORDER BY stream_version",
    )
    .bind(stream)
    .bind(until.version)
    .bind(until.position)
    .bind(until.at)
    .fetch_all(&pool)
    .await?;
    pool.close().await;
    let events = rows
        .iter()
        .map(|row| -> Result<StreamEvent, sqlx::Error> {
            Ok(StreamEvent {
                version: row.try_get("stream_version")?,
                position: row.try_get("position")?,
                event_type: row.try_get("event_type")?,
                schema_version: u32::try_from(row.try_get::<i32, _>("schema_version")?)
                    .unwrap_or(0),
                data: row.try_get("data")?,
                actor: row.try_get("actor")?,
                correlation_id: row.try_get("correlation_id")?,
                causation_id: row.try_get("causation_id")?,
                recorded_at: row.try_get("recorded_at")?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let payloads: Vec<adflow_domain::history::RecordedPayload<'_>> = events
        .iter()
        .map(|e| adflow_domain::history::RecordedPayload {
            event_type: &e.event_type,
            schema_version: e.schema_version,
            data: &e.data,
        })
        .collect();
    let category = stream.split('-').next().unwrap_or_default();
    let states = adflow_domain::history::states(category, &payloads)
        .map_err(|error| PlatformError::Usage(format!("{stream}: {error}")))?;
    Ok((events, states))
}

/// The state of the aggregate behind `stream` as of a version, position or time, folded from the
/// log itself (not a read model) by the domain's own `evolve`; printed as JSON.
pub async fn state(config: &Config, stream: &str, as_of: AsOf) -> Result<(), PlatformError> {
    let (events, states) = fold_stream(config, stream, &as_of).await?;
    let last = events.last();
    let answer = serde_json::json!({
        "stream": stream,
        "version": last.map(|e| e.version),
        "position": last.map(|e| e.position),
        "recordedAt": last.map(|e| e.recorded_at),
        "state": states.last().cloned().unwrap_or(serde_json::Value::Null),
    });
    println!("{answer:#}");
    Ok(())
}

/// What changed in the aggregate behind `stream` between two moments: every changed value (by
/// JSON pointer, before and after) and the events that changed it, with who and which request
/// (correlation and causation ids); printed as JSON.
pub async fn diff(
    config: &Config,
    stream: &str,
    from: AsOf,
    to: AsOf,
) -> Result<(), PlatformError> {
    let (events, states) = fold_stream(config, stream, &to).await?;
    let split = events.iter().take_while(|e| e.within(&from)).count();
    let null = serde_json::Value::Null;
    let before = split
        .checked_sub(1)
        .and_then(|i| states.get(i))
        .unwrap_or(&null);
    let after = states.last().unwrap_or(&null);
    let changes: Vec<serde_json::Value> = adflow_domain::history::diff(before, after)
        .into_iter()
        .map(|c| serde_json::json!({"path": c.path, "before": c.before, "after": c.after}))
        .collect();
    let between: Vec<serde_json::Value> = events[split..]
        .iter()
        .map(|e| {
            serde_json::json!({
                "version": e.version, "position": e.position, "eventType": e.event_type,
                "actor": e.actor, "correlationId": e.correlation_id,
                "causationId": e.causation_id, "recordedAt": e.recorded_at,
            })
        })
        .collect();
    let answer = serde_json::json!({
        "stream": stream,
        "fromVersion": split,
        "toVersion": events.last().map(|e| e.version),
        "changes": changes,
        "events": between,
    });
    println!("{answer:#}");
    Ok(())
}

/// How a value of the aggregate behind `stream` came to be: every event that changed the value at
/// `path` (a JSON pointer into the state, or any value under it), oldest first, with the value
/// before and after, who did it and which request caused it (correlation and causation ids).
pub async fn explain(config: &Config, stream: &str, path: &str) -> Result<(), PlatformError> {
    let (events, states) = fold_stream(config, stream, &AsOf::default()).await?;
    let null = serde_json::Value::Null;
    let mut chain = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let before = i
            .checked_sub(1)
            .and_then(|j| states.get(j))
            .unwrap_or(&null);
        let after = states.get(i).unwrap_or(&null);
        // The value at the path (or anything under it) differs, however the change came: set
        // by itself, under it, or with a whole parent (the first event creates everything).
        if before.pointer(path) != after.pointer(path) {
            chain.push(serde_json::json!({
                "version": e.version, "position": e.position, "eventType": e.event_type,
                "actor": e.actor, "correlationId": e.correlation_id,
                "causationId": e.causation_id, "recordedAt": e.recorded_at,
                "before": before.pointer(path).cloned().unwrap_or(serde_json::Value::Null),
                "after": after.pointer(path).cloned().unwrap_or(serde_json::Value::Null),
            }));
        }
    }
    let current = states
        .last()
        .and_then(|s| s.pointer(path))
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    println!(
        "{:#}",
        serde_json::json!({"stream": stream, "path": path, "value": current, "changedBy": chain})
    );
    Ok(())
}
