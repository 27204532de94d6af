//! `adflow audit`: what auditors run against the log. `verify` recomputes the PostgreSQL log's hash
//! chain and names the first event that was altered, removed or moved.

use crate::config::Config;
use crate::platform::{self, PlatformError};
use adflow_event_store::chain::{self, ChainProblem};
use adflow_event_store::checkpoints::{self, CheckpointProblem};

fn postgres_only(config: &Config, what: &str) -> Result<(), PlatformError> {
    if config.event_store != "postgres" {
        return Err(PlatformError::Usage(format!(
            "audit {what} reads the PostgreSQL log; this instance's event store is {}",
            config.event_store
        )));
    }
    Ok(())
}

fn usage(error: impl std::fmt::Display) -> PlatformError {
    PlatformError::Usage(error.to_string())
}

/// Signs a checkpoint of the chain heads.
pub async fn checkpoint(config: &Config) -> Result<(), PlatformError> {
    postgres_only(config, "checkpoint")?;
    let key = config.audit_signing_key.as_deref().ok_or_else(|| {
        PlatformError::Usage("ADFLOW_AUDIT_SIGNING_KEY is not set: nothing to sign with".into())
    })?;
    let key = checkpoints::signing_key(key).map_err(usage)?;
    let pool = platform::connect(config).await?;
    adflow_schemas::migrate(&pool).await?;
    let taken = checkpoints::take(&pool, &key).await?;
    pool.close().await;
    println!(
        "checkpoint {}: {} streams, {} heads changed, digest {}, public key {}",
        taken.id,
        taken.streams,
        taken.changed,
        checkpoints::to_hex(&taken.digest),
        checkpoints::to_hex(key.verifying_key().as_bytes())
    );
    Ok(())
}

/// Signs a checkpoint every `audit_checkpoint_seconds` while the process runs (the projections
/// process does this when a signing key is configured).
pub async fn checkpoint_periodically(
    pool: sqlx::PgPool,
    config: Config,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let Some(key) = config.audit_signing_key.as_deref() else {
        return;
    };
    let key = match checkpoints::signing_key(key) {
        Ok(key) => key,
        Err(error) => {
            tracing::error!(%error, "no audit checkpoints");
            return;
        }
    };
    let every = std::time::Duration::from_secs(config.audit_checkpoint_seconds.max(1));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.changed() => return,
        }
        match checkpoints::take(&pool, &key).await {
            Ok(taken) => {
                tracing::info!(
                    id = taken.id,
                    changed = taken.changed,
                    "audit checkpoint signed"
                )
            }
            Err(error) => tracing::warn!(%error, "audit checkpoint failed; trying at the next"),
        }
    }
}

/// The key checkpoints are verified with: the given one, else the signing key's, else the
/// configured public key.
fn verifying_key(
    config: &Config,
    given: Option<&str>,
) -> Result<Option<checkpoints::VerifyingKey>, PlatformError> {
    if let Some(hex) = given.or(config.audit_public_key.as_deref()) {
        return checkpoints::public_key(hex).map(Some).map_err(usage);
    }
    match config.audit_signing_key.as_deref() {
        Some(hex) => Ok(Some(
            checkpoints::signing_key(hex)
                .map_err(usage)?
                .verifying_key(),
        )),
        None => Ok(None),
    }
}

/// Verifies the checkpoints and the chain; `Ok(false)` when anything does not hold (printed).
pub async fn verify(
    config: &Config,
    from_checkpoint: Option<&str>,
    public_key: Option<&str>,
) -> Result<bool, PlatformError> {
    postgres_only(config, "verify")?;
    let key = verifying_key(config, public_key)?;
    let pool = platform::connect(config).await?;
    adflow_schemas::migrate(&pool).await?;
    let up_to = match from_checkpoint {
        None | Some("latest") => None,
        Some(id) => Some(id.parse::<i64>().map_err(|_| {
            PlatformError::Usage(format!(
                "--from-checkpoint takes a number or latest, not {id}"
            ))
        })?),
    };
    let mut anchors = Default::default();
    match key {
        Some(key) => {
            let report = checkpoints::verify(&pool, &key, up_to).await?;
            if let Some(problem) = report.problem {
                pool.close().await;
                println!("BROKEN checkpoints: {}", describe(&problem));
                return Ok(false);
            }
            println!(
                "{} signed checkpoints verified (signatures, digests, recorded heads)",
                report.checkpoints
            );
            if from_checkpoint.is_some() {
                anchors = report.anchors;
            }
        }
        None if from_checkpoint.is_some() => {
            return Err(PlatformError::Usage(
                "--from-checkpoint needs a public key (--public-key or ADFLOW_AUDIT_PUBLIC_KEY)"
                    .into(),
            ))
        }
        None => println!("no public key given: signed checkpoints not checked"),
    }
    let report = chain::verify_after(&pool, &anchors).await?;
    pool.close().await;
    match report.first_break {
        None => {
            println!(
                "the chain holds: {} events in {} streams verified{}",
                report.events,
                report.streams,
                if anchors.is_empty() {
                    String::new()
                } else {
                    format!(" ({} streams from their checkpointed heads)", anchors.len())
                }
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

fn describe(problem: &CheckpointProblem) -> String {
    match problem {
        CheckpointProblem::Digest { checkpoint } => {
            format!("checkpoint {checkpoint}'s recorded heads were edited (digest mismatch)")
        }
        CheckpointProblem::Signature { checkpoint } => {
            format!("checkpoint {checkpoint}'s signature does not verify with this public key")
        }
        CheckpointProblem::Gap { checkpoint } => format!("checkpoint {checkpoint} is missing"),
        CheckpointProblem::Head {
            checkpoint,
            stream,
            version,
            present,
        } => format!(
            "{stream} version {version}, a head signed in checkpoint {checkpoint}, {}",
            if *present {
                "has another hash now: the stream was rewritten and its chain recomputed"
            } else {
                "is gone from the log: events were removed"
            }
        ),
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
