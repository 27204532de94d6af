//! The application layer: the one place where a command is loaded, decided and appended. The
//! command API and every worker send their commands through [`Application::execute`]; nothing
//! else appends domain events.
//!
//! - **Load**: the aggregate's state comes from a bounded cache of folded states keyed by stream
//!   and checked against the store: only the events after the cached version are read and folded,
//!   so a command's cost does not grow with its stream. The cache holds nothing the store could
//!   contradict (a fold of events `1..=v` never changes), so any number of instances may run.
//! - **Decide**: the domain's pure `decide`, with the time passed in.
//! - **Append**: with the expected version; a lost race is a [`AppError::VersionConflict`] for a
//!   caller that decided on what it read (an `If-Match`), or decided again for a caller that asks
//!   for [`Expected::Latest`] (a worker).
//! - **Once per cause**: a command that names its cause (the id of the event that triggered a
//!   worker) is not applied twice: a stream that already holds an event with that causation
//!   answers [`Outcome::AlreadyApplied`]. The expected version makes the look and the append one
//!   atomic step.

mod cache;
mod error;

pub use adflow_event_store::{EventMetadata, Position};
pub use cache::StateCache;
pub use error::AppError;

use adflow_domain::aggregate::{stream_name, Aggregate};
use adflow_domain::campaign::Guardrails;
use adflow_domain::tenant::TenantSettings;
use adflow_domain::{DomainEvent, TenantId};
use adflow_event_store::{EventStore, ExpectedVersion, NewEvent, StoreError};
use std::sync::Arc;
use uuid::Uuid;

/// Rounds of load → decide → append for [`Expected::Latest`] before giving up on a stream that
/// others keep writing.
const ROUNDS: usize = 5;
const PAGE: usize = 500;

/// What the caller expects of the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// The aggregate is created by this command (the domain refuses an existing one).
    Creation,
    /// The version the caller read (`If-Match`): another version is a conflict, no stream is
    /// not found.
    Version(u64),
    /// Whatever the stream holds now: decided again if another writer wins the race.
    Latest,
}

/// A command for aggregate `A`, with everything its events record.
#[derive(Debug, Clone)]
pub struct Command<C> {
    pub tenant: TenantId,
    pub aggregate_id: Uuid,
    pub expected: Expected,
    pub command: C,
    /// Recorded on every event; its `causation_id` names what caused the command.
    pub metadata: EventMetadata,
    /// Apply at most once per `metadata.causation_id` (a worker's answer to an event).
    pub once_per_cause: bool,
}

/// How a command ended, when the domain accepted it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Appended {
        version: u64,
        position: Position,
    },
    /// The domain decided that nothing changes.
    Unchanged {
        version: u64,
    },
    /// An earlier delivery of the same cause was applied; nothing was appended now.
    AlreadyApplied {
        version: u64,
    },
}

impl Outcome {
    pub fn version(&self) -> u64 {
        match self {
            Outcome::Appended { version, .. }
            | Outcome::Unchanged { version }
            | Outcome::AlreadyApplied { version } => *version,
        }
    }

    pub fn position(&self) -> Option<Position> {
        match self {
            Outcome::Appended { position, .. } => Some(*position),
            _ => None,
        }
    }
}

/// An aggregate as loaded: its state (`None` before it exists) and its stream's version.
#[derive(Debug, Clone)]
pub struct Loaded<S> {
    pub state: Option<S>,
    pub version: u64,
    causes: Arc<std::collections::HashSet<Uuid>>,
}

impl<S> Loaded<S> {
    /// Whether an event of the stream was caused by `cause`.
    pub fn was_caused_by(&self, cause: Uuid) -> bool {
        self.causes.contains(&cause)
    }
}

#[derive(Clone)]
pub struct Application {
    store: Arc<dyn EventStore>,
    cache: StateCache,
}

impl Application {
    pub fn new(store: Arc<dyn EventStore>) -> Self {
        Self::with_cache(store, StateCache::default())
    }

    pub fn with_cache(store: Arc<dyn EventStore>, cache: StateCache) -> Self {
        Self { store, cache }
    }

    /// The log, for reading only (exports, audits): every write goes through [`Self::execute`].
    pub fn reader(&self) -> &dyn adflow_event_store::EventReader {
        &*self.store
    }

    /// The state of aggregate `id` of `tenant`, current as of this call.
    pub async fn load<A>(&self, tenant: TenantId, id: Uuid) -> Result<Loaded<A::State>, AppError>
    where
        A: Aggregate,
        A::State: Clone + Send + Sync + 'static,
    {
        let stream = stream_name::<A>(tenant, id);
        self.load_stream::<A>(&stream).await
    }

    async fn load_stream<A>(&self, stream: &str) -> Result<Loaded<A::State>, AppError>
    where
        A: Aggregate,
        A::State: Clone + Send + Sync + 'static,
    {
        let mut loaded = self.cache.get::<A::State>(stream).unwrap_or(Loaded {
            state: None,
            version: 0,
            causes: Arc::default(),
        });
        let cached_version = loaded.version;
        loop {
            let page = self
                .store
                .read_stream(stream, loaded.version + 1, PAGE)
                .await?;
            let full = page.len() == PAGE;
            for recorded in page {
                let event = A::Event::from_payload(
                    &recorded.event_type,
                    recorded.schema_version,
                    &recorded.data,
                )
                .map_err(|e| {
                    AppError::CorruptHistory(format!("{stream}@{}: {e}", recorded.stream_version))
                })?;
                loaded.state = Some(
                    A::evolve(loaded.state.take(), &event)
                        .map_err(|e| AppError::CorruptHistory(format!("{stream}: {e}")))?,
                );
                Arc::make_mut(&mut loaded.causes).insert(recorded.metadata.causation_id);
                loaded.version = recorded.stream_version;
            }
            if !full {
                break;
            }
        }
        if loaded.version > cached_version {
            self.cache.put(stream, &loaded);
        }
        Ok(loaded)
    }

    /// Load → decide → append: the one write path.
    pub async fn execute<A>(&self, command: Command<A::Command>) -> Result<Outcome, AppError>
    where
        A: Aggregate,
        A::State: Clone + Send + Sync + 'static,
    {
        let stream = stream_name::<A>(command.tenant, command.aggregate_id);
        for _ in 0..ROUNDS {
            let loaded = self.load_stream::<A>(&stream).await?;
            if command.once_per_cause && loaded.was_caused_by(command.metadata.causation_id) {
                return Ok(Outcome::AlreadyApplied {
                    version: loaded.version,
                });
            }
            if let Expected::Version(expected) = command.expected {
                if loaded.version == 0 {
                    return Err(AppError::NotFound);
                }
                if expected != loaded.version {
                    return Err(AppError::VersionConflict {
                        actual: loaded.version,
                    });
                }
            }
            let decided = A::decide(loaded.state.as_ref(), &command.command, chrono::Utc::now())
                .map_err(AppError::Rejected)?;
            if decided.is_empty() {
                return Ok(Outcome::Unchanged {
                    version: loaded.version,
                });
            }
            let events = decided
                .iter()
                .map(|event| {
                    let payload = event.to_payload();
                    NewEvent {
                        event_id: Uuid::now_v7(),
                        event_type: payload.event_type.to_owned(),
                        schema_version: payload.schema_version,
                        data: payload.data,
                        metadata: command.metadata.clone(),
                    }
                })
                .collect();
            let started = std::time::Instant::now();
            let appended = self
                .store
                .append(&stream, ExpectedVersion::Exact(loaded.version), events)
                .await;
            adflow_telemetry::metrics::histogram!(
                "adflow_append_duration_seconds",
                "category" => A::CATEGORY
            )
            .record(started.elapsed().as_secs_f64());
            match appended {
                Ok(appended) => {
                    tracing::info!(%stream, version = appended.stream_version, position = %appended.position, "appended");
                    return Ok(Outcome::Appended {
                        version: appended.stream_version,
                        position: appended.position,
                    });
                }
                Err(StoreError::WrongExpectedVersion { actual, .. }) => {
                    if command.expected != Expected::Latest {
                        return Err(AppError::VersionConflict { actual });
                    }
                }
                Err(error) => return Err(error.into()),
            }
        }
        Err(AppError::Contended { stream })
    }

    /// The tenant's optimisation guardrails (the defaults until an Admin sets them).
    pub async fn guardrails(&self, tenant: TenantId) -> Result<Guardrails, AppError> {
        Ok(self
            .load::<TenantSettings>(tenant, tenant.0)
            .await?
            .state
            .map(|settings| settings.guardrails)
            .unwrap_or_default())
    }
}
