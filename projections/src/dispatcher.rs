//! The NATS dispatcher: follows the log and publishes the events that ask for work (AI
//! generation, platform deployments and changes) to
//! JetStream, with the event id as the message id.
//!
//! The checkpoint moves only after JetStream acknowledged the publish. A crash between the two
//! publishes again on restart, and the stream's duplicate window (set to a day) drops the copy:
//! every request reaches the workers once.

use crate::runtime::checkpoint;
use adflow_domain::aggregate::parse_stream_name;
use adflow_event_store::{EventReader, Position, RecordedEvent};
use adflow_work_contract::{WorkRequest, WorkType};
use async_nats::jetstream;
use sqlx::PgPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] adflow_event_store::StoreError),
    #[error("checkpoint database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("NATS: {0}")]
    Nats(String),
}

#[derive(Debug, Clone)]
pub struct DispatcherOptions {
    /// The JetStream stream that holds the work requests.
    pub stream: String,
    /// Subjects are `<prefix>.<work>`, for example `ml.structure.requested`.
    pub subject_prefix: String,
    pub batch_size: usize,
    pub idle_poll: Duration,
}

impl Default for DispatcherOptions {
    fn default() -> Self {
        Self {
            stream: adflow_work_contract::DEFAULT_STREAM.into(),
            subject_prefix: adflow_work_contract::DEFAULT_SUBJECT_PREFIX.into(),
            batch_size: 200,
            idle_poll: Duration::from_millis(20),
        }
    }
}

/// The work subject of an event, if it asks for AI work (`adflow_work_contract`).
pub fn work_subject(event_type: &str) -> Option<&'static str> {
    WorkType::of_event(event_type).map(WorkType::subject)
}

pub struct Dispatcher {
    reader: Arc<dyn EventReader>,
    pool: PgPool,
    jetstream: jetstream::Context,
    options: DispatcherOptions,
}

impl Dispatcher {
    pub const CHECKPOINT: &'static str = "nats-dispatcher";

    /// Connects and makes sure the stream exists.
    pub async fn connect(
        reader: Arc<dyn EventReader>,
        pool: PgPool,
        nats_url: &str,
        options: DispatcherOptions,
    ) -> Result<Self, DispatchError> {
        let client = async_nats::connect(nats_url)
            .await
            .map_err(|e| DispatchError::Nats(e.to_string()))?;
        let jetstream = jetstream::new(client);
        jetstream
            .get_or_create_stream(adflow_work_contract::stream_config(
                &options.stream,
                &options.subject_prefix,
            ))
            .await
            .map_err(|e| DispatchError::Nats(e.to_string()))?;
        Ok(Self {
            reader,
            pool,
            jetstream,
            options,
        })
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.jetstream
    }

    async fn publish(&self, event: &RecordedEvent, subject: &str) -> Result<(), DispatchError> {
        let Some((_, tenant, aggregate)) = parse_stream_name(&event.stream_name) else {
            return Ok(());
        };
        let request = WorkRequest {
            event_id: event.event_id,
            event_type: event.event_type.clone(),
            schema_version: event.schema_version,
            stream_name: event.stream_name.clone(),
            stream_version: event.stream_version,
            position: Some(event.position.to_string()),
            tenant_id: tenant.0,
            aggregate_id: aggregate,
            correlation_id: event.metadata.correlation_id,
            data: event.data.clone(),
        };
        let payload =
            serde_json::to_vec(&request).map_err(|e| DispatchError::Nats(e.to_string()))?;
        let mut headers = async_nats::HeaderMap::new();
        headers.insert(
            adflow_work_contract::MESSAGE_ID_HEADER,
            event.event_id.to_string().as_str(),
        );
        headers.insert(
            adflow_work_contract::CORRELATION_HEADER,
            event.metadata.correlation_id.to_string().as_str(),
        );
        let subject = format!("{}.{subject}", self.options.subject_prefix);
        // The publication joins the trace of the command that appended the event.
        let span = tracing::info_span!("publish", otel.name = format!("publish {subject}"));
        adflow_telemetry::traces::continue_from(
            &span,
            event
                .metadata
                .extra
                .get(adflow_telemetry::traces::TRACEPARENT)
                .map(String::as_str),
        );
        let traceparent = span.in_scope(adflow_telemetry::traces::current_traceparent);
        if let Some(traceparent) = traceparent {
            headers.insert(adflow_telemetry::traces::TRACEPARENT, traceparent.as_str());
        }
        tracing::Instrument::instrument(
            async {
                self.jetstream
                    .publish_with_headers(subject, headers, payload.into())
                    .await
                    .map_err(|e| DispatchError::Nats(e.to_string()))?
                    .await
                    .map_err(|e| DispatchError::Nats(e.to_string()))
            },
            span,
        )
        .await?;
        Ok(())
    }

    /// Publishes one batch; returns how many events it looked at (0 when caught up).
    pub async fn step(&self) -> Result<usize, DispatchError> {
        let from = checkpoint(&self.pool, Self::CHECKPOINT).await?;
        let batch = self.reader.read_all(from, self.options.batch_size).await?;
        let Some(last) = batch.last().map(|e| e.position) else {
            return Ok(0);
        };
        for event in &batch {
            if let Some(subject) = work_subject(&event.event_type) {
                self.publish(event, subject).await?;
            }
        }
        save_checkpoint(&self.pool, last).await?;
        Ok(batch.len())
    }

    /// Publishes until `shutdown`; failures are logged and retried from the checkpoint.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let mut failures = 0u32;
        while !*shutdown.borrow() {
            let pause = match self.step().await {
                Ok(0) => self.options.idle_poll,
                Ok(_) => {
                    failures = 0;
                    continue;
                }
                Err(error) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(%error, failures, "dispatch failed, retrying");
                    self.options
                        .idle_poll
                        .saturating_mul(2u32.saturating_pow(failures.min(12)))
                        .min(Duration::from_secs(5))
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = shutdown.changed() => {}
            }
        }
    }
}

async fn save_checkpoint(pool: &PgPool, at: Position) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO projection_checkpoints (projection, commit_id, position) VALUES ($1, $2, $3) \
         ON CONFLICT (projection) DO UPDATE SET commit_id = $2, position = $3, updated_at = now()",
    )
    .bind(Dispatcher::CHECKPOINT)
    .bind(i64::try_from(at.commit).unwrap_or(i64::MAX))
    .bind(i64::try_from(at.prepare).unwrap_or(i64::MAX))
    .execute(pool)
    .await
    .map(|_| ())
}
