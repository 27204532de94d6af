//! A durable JetStream pull consumer per work type. A message is acknowledged once its work is
//! recorded (or found already recorded); a transient failure is delivered again after a delay,
//! and the handler is told when an attempt is the last one, so that it records a failure rather
//! than leave the campaign waiting. A few messages are worked on at once (platform calls wait on
//! the network, not the CPU).

use crate::WorkerError;
use adflow_work_contract::{WorkRequest, WorkType};
use async_nats::jetstream::{self, consumer, AckKind};
use async_trait::async_trait;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    pub stream: String,
    pub subject_prefix: String,
    /// Unacknowledged this long, a message is delivered again (its worker died).
    pub ack_wait: Duration,
    /// The attempt that is told it is the last.
    pub max_attempts: i64,
    pub retry_delay: Duration,
    pub concurrency: usize,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        Self {
            stream: adflow_work_contract::DEFAULT_STREAM.into(),
            subject_prefix: adflow_work_contract::DEFAULT_SUBJECT_PREFIX.into(),
            ack_wait: Duration::from_secs(300),
            max_attempts: 5,
            retry_delay: Duration::from_secs(2),
            concurrency: 4,
        }
    }
}

/// How a message ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Handled {
    Done,
    /// Deliver again later (`None`: the runtime's delay for this attempt).
    Retry {
        reason: String,
        delay: Option<Duration>,
    },
}

impl Handled {
    /// Deliver again after the runtime's delay, saying why.
    pub fn retry(error: impl std::fmt::Display) -> Self {
        Handled::Retry {
            reason: error.to_string(),
            delay: None,
        }
    }
}

#[async_trait]
pub trait Work: Send + Sync + 'static {
    const WORK: WorkType;
    /// `last`: no further delivery will follow a retry; record the failure instead.
    async fn handle(&self, request: &WorkRequest, attempt: i64, last: bool) -> Handled;
}

fn nats(error: impl std::fmt::Display) -> WorkerError {
    WorkerError::Nats(error.to_string())
}

/// Consumes `W::WORK` until `shutdown`; work under way is finished first.
pub async fn consume<W: Work>(
    work: Arc<W>,
    client: async_nats::Client,
    options: RuntimeOptions,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), WorkerError> {
    let jetstream = jetstream::new(client);
    let stream = jetstream
        .get_or_create_stream(adflow_work_contract::stream_config(
            &options.stream,
            &options.subject_prefix,
        ))
        .await
        .map_err(nats)?;
    let durable = W::WORK.durable();
    let mut consumer: consumer::PullConsumer = stream
        .get_or_create_consumer(
            durable,
            consumer::pull::Config {
                durable_name: Some(durable.to_owned()),
                filter_subject: adflow_work_contract::subject(&options.subject_prefix, W::WORK),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: options.ack_wait,
                max_deliver: -1,
                ..Default::default()
            },
        )
        .await
        .map_err(nats)?;
    let mut messages = consumer.messages().await.map_err(nats)?;
    let slots = Arc::new(Semaphore::new(options.concurrency.max(1)));
    tracing::info!(work = W::WORK.subject(), "platform worker consuming");
    let mut pending_check = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        let next = tokio::select! {
            next = messages.next() => next,
            _ = pending_check.tick() => {
                if let Ok(info) = consumer.info().await {
                    adflow_telemetry::metrics::gauge!(
                        "adflow_jetstream_consumer_pending",
                        "consumer" => durable
                    )
                    .set(info.num_pending as f64);
                }
                continue;
            }
            _ = shutdown.changed() => break,
        };
        let message = match next {
            Some(Ok(message)) => message,
            Some(Err(error)) => {
                tracing::warn!(%error, "JetStream delivery error");
                continue;
            }
            None => {
                return Err(WorkerError::Nats(
                    "the consumer's message stream ended".into(),
                ))
            }
        };
        let slot = slots.clone().acquire_owned().await.map_err(nats)?;
        let work = work.clone();
        let options = options.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let request: WorkRequest = match serde_json::from_slice(&message.payload) {
                Ok(request) => request,
                Err(error) => {
                    tracing::error!(%error, "unreadable work request, terminated");
                    let _ = message.ack_with(AckKind::Term).await;
                    return;
                }
            };
            let attempt = message.info().map(|info| info.delivered).unwrap_or(1);
            let last = attempt >= options.max_attempts;
            let started = std::time::Instant::now();
            let handled = work.handle(&request, attempt, last).await;
            adflow_telemetry::metrics::histogram!(
                "adflow_worker_batch_duration_seconds",
                "work" => W::WORK.subject()
            )
            .record(started.elapsed().as_secs_f64());
            match handled {
                Handled::Done => {
                    if let Err(error) = message.ack().await {
                        tracing::warn!(%error, "ack failed; the redelivery will find the work done");
                    }
                }
                Handled::Retry { reason, delay } => {
                    let delay = delay.unwrap_or(
                        options.retry_delay * u32::try_from(attempt.clamp(1, 30)).unwrap_or(1),
                    );
                    tracing::warn!(event_id = %request.event_id, attempt, %reason, ?delay, "will retry");
                    let _ = message.ack_with(AckKind::Nak(Some(delay))).await;
                }
            }
        });
    }
    // Let the work under way finish (its records are what a redelivery would redo).
    let _ = tokio::time::timeout(
        Duration::from_secs(30),
        slots.acquire_many(options.concurrency.max(1) as u32),
    )
    .await;
    Ok(())
}
