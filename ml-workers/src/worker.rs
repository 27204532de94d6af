//! The worker runtime: a durable JetStream pull consumer per work type, each served by a
//! `WorkHandler`. Messages that arrive together are generated in one batch (one model call). A
//! message is acknowledged only once its answer was accepted, found already applied, or
//! permanently refused; a transient failure is retried with a delay, and on the last allowed
//! attempt the request is answered with a failure, so nothing stays "generating".

use crate::backend::{Submission, Trigger};
use crate::MlError;
use async_nats::jetstream::{self, consumer, AckKind, Message};
use async_trait::async_trait;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::Instrument;

pub use adflow_work_contract::{WorkRequest, WorkType};

/// A UUID field of the triggering event (`campaignId`, `runId`).
pub fn uuid_field(request: &WorkRequest, field: &str) -> Option<uuid::Uuid> {
    request
        .data
        .get(field)
        .and_then(|v| v.as_str())
        .and_then(|v| v.parse().ok())
}

/// Whether the analytics tables hold the triggering event yet (their checkpoint reached its
/// position); an error to retry on when they do not, or cannot be read.
pub async fn analytics_hold(
    analytics: &adflow_projections::analytics::Analytics,
    request: &WorkRequest,
) -> Result<(), MlError> {
    let Some(position) = request
        .position
        .as_deref()
        .and_then(|p| p.parse::<adflow_event_store::Position>().ok())
    else {
        return Ok(());
    };
    match adflow_projections::analytics::queries::checkpoint(analytics, "").await {
        Ok(reached) if reached >= position => Ok(()),
        Ok(_) => Err(MlError::Backend(
            "the analytics tables do not hold the triggering event yet".into(),
        )),
        Err(error) => Err(MlError::Backend(error.to_string())),
    }
}

/// Which request an answer belongs to.
pub fn trigger(request: &WorkRequest) -> Trigger {
    Trigger {
        tenant_id: request.tenant_id,
        aggregate_id: request.aggregate_id,
        event_id: request.event_id,
        correlation_id: request.correlation_id,
    }
}

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub stream: String,
    pub subject_prefix: String,
    /// Most requests generated in one batch.
    pub batch_max: usize,
    /// How long to wait for more requests once one arrived.
    pub batch_window: Duration,
    /// Attempts before a request is answered with a failure.
    pub max_attempts: i64,
    /// Unacknowledged this long, a message is delivered again (the worker died).
    pub ack_wait: Duration,
    pub retry_delay: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            stream: adflow_work_contract::DEFAULT_STREAM.into(),
            subject_prefix: adflow_work_contract::DEFAULT_SUBJECT_PREFIX.into(),
            batch_max: 8,
            batch_window: Duration::from_millis(15),
            max_attempts: 5,
            ack_wait: Duration::from_secs(60),
            retry_delay: Duration::from_secs(1),
        }
    }
}

/// What to do with a message once its request was looked at.
pub enum Step<I> {
    /// Nothing left to do (answered, superseded, not for us).
    Done,
    Generate(Box<I>),
    /// Answer with a failure right away (the request cannot succeed).
    Fail(String),
    Retry(MlError),
}

/// How often a worker reads its consumer's pending count (for `/metrics`).
const PENDING_CHECK: Duration = Duration::from_secs(5);

/// One work type: how to read a request, run the model on a batch, and answer.
#[async_trait]
pub trait WorkHandler: Send + Sync + 'static {
    type Input: Send + 'static;
    type Output: Send + 'static;
    /// How a failure event begins when the aggregate refuses the answer (a tenant guardrail,
    /// say): "the structure was refused: …".
    const REFUSED: &'static str;

    /// The work this handler answers (its subject and durable consumer).
    const WORK: WorkType;
    async fn prepare(&self, request: &WorkRequest) -> Step<Self::Input>;
    /// Runs on a blocking thread; one result per input, in order.
    fn generate(&self, inputs: Vec<Self::Input>) -> Vec<Result<Self::Output, MlError>>;
    async fn answer(
        &self,
        request: &WorkRequest,
        output: Self::Output,
    ) -> Result<Submission, MlError>;
    async fn fail(&self, request: &WorkRequest, reason: &str) -> Result<Submission, MlError>;
}

fn nats(error: impl std::fmt::Display) -> MlError {
    MlError::Nats(error.to_string())
}

fn attempt(message: &Message) -> i64 {
    message.info().map(|info| info.delivered).unwrap_or(1)
}

pub struct Worker<H: WorkHandler> {
    pub handler: Arc<H>,
    pub options: WorkerOptions,
}

impl<H: WorkHandler> Worker<H> {
    pub fn new(handler: H, options: WorkerOptions) -> Self {
        Self {
            handler: Arc::new(handler),
            options,
        }
    }

    pub async fn consumer(
        &self,
        client: async_nats::Client,
    ) -> Result<consumer::PullConsumer, MlError> {
        let jetstream = jetstream::new(client);
        let o = &self.options;
        let stream = jetstream
            .get_or_create_stream(adflow_work_contract::stream_config(
                &o.stream,
                &o.subject_prefix,
            ))
            .await
            .map_err(nats)?;
        let durable = H::WORK.durable();
        stream
            .get_or_create_consumer(
                durable,
                consumer::pull::Config {
                    durable_name: Some(durable.to_owned()),
                    filter_subject: adflow_work_contract::subject(&o.subject_prefix, H::WORK),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: o.ack_wait,
                    // Unlimited: the worker itself ends a request after `max_attempts`.
                    max_deliver: -1,
                    ..Default::default()
                },
            )
            .await
            .map_err(nats)
    }

    /// Consumes until `shutdown`.
    pub async fn run(
        &self,
        client: async_nats::Client,
        mut shutdown: watch::Receiver<bool>,
    ) -> Result<(), MlError> {
        let mut consumer = self.consumer(client).await?;
        let mut messages = consumer.messages().await.map_err(nats)?;
        let mut pending_check = tokio::time::interval(PENDING_CHECK);
        loop {
            let first = tokio::select! {
                next = messages.next() => next,
                _ = pending_check.tick() => {
                    if let Ok(info) = consumer.info().await {
                        adflow_telemetry::metrics::gauge!(
                            "adflow_jetstream_consumer_pending",
                            "consumer" => H::WORK.durable()
                        )
                        .set(info.num_pending as f64);
                    }
                    continue;
                }
                _ = shutdown.changed() => return Ok(()),
            };
            let Some(first) = first else {
                return Err(MlError::Nats("the consumer's message stream ended".into()));
            };
            let mut batch = vec![first.map_err(nats)?];
            while batch.len() < self.options.batch_max {
                match tokio::time::timeout(self.options.batch_window, messages.next()).await {
                    Ok(Some(Ok(message))) => batch.push(message),
                    Ok(Some(Err(error))) => tracing::warn!(%error, "JetStream delivery error"),
                    Ok(None) | Err(_) => break,
                }
            }
            let started = std::time::Instant::now();
            self.handle(batch).await;
            adflow_telemetry::metrics::histogram!(
                "adflow_worker_batch_duration_seconds",
                "work" => H::WORK.subject()
            )
            .record(started.elapsed().as_secs_f64());
        }
    }

    /// Looks up, generates and answers one batch; every message ends acknowledged or retried.
    pub async fn handle(&self, batch: Vec<Message>) {
        let mut pending = Vec::new();
        let mut inputs = Vec::new();
        for message in batch {
            let request: WorkRequest = match serde_json::from_slice(&message.payload) {
                Ok(request) => request,
                Err(error) => {
                    // Not attributable to anything: nothing to answer, and redelivery cannot help.
                    tracing::error!(%error, subject = %message.subject, "unreadable work request, terminated");
                    let _ = message.ack_with(AckKind::Term).await;
                    continue;
                }
            };
            let step = match self.handler.prepare(&request).await {
                Step::Generate(input) => {
                    inputs.push(*input);
                    None
                }
                other => Some(other),
            };
            pending.push((message, request, step));
        }
        let count = inputs.len();
        let mut results = if count == 0 {
            Vec::new()
        } else {
            // The models are CPU (or GPU) bound: off the async threads; a panic is a failed attempt.
            let handler = self.handler.clone();
            let started = std::time::Instant::now();
            match tokio::task::spawn_blocking(move || handler.generate(inputs)).await {
                Ok(results) => {
                    adflow_telemetry::metrics::histogram!(
                        "adflow_model_duration_seconds",
                        "work" => H::WORK.subject()
                    )
                    .record(started.elapsed().as_secs_f64());
                    let ms = started.elapsed().as_millis() as u64;
                    tracing::info!(work = H::WORK.subject(), requests = count, ms, "generated");
                    results
                }
                Err(error) => (0..count)
                    .map(|_| Err(MlError::Model(format!("the model crashed: {error}"))))
                    .collect(),
            }
        }
        .into_iter();
        for (message, request, step) in pending {
            let step = match step {
                Some(step) => step,
                None => match results.next() {
                    Some(Ok(output)) => {
                        let span = tracing::info_span!("answer", otel.name = format!("answer {}", H::WORK.subject()), correlation_id = %request.correlation_id, event_id = %request.event_id);
                        adflow_telemetry::traces::continue_from(
                            &span,
                            message
                                .headers
                                .as_ref()
                                .and_then(|h| h.get(adflow_telemetry::traces::TRACEPARENT))
                                .map(|v| v.as_str()),
                        );
                        let outcome =
                            match self.handler.answer(&request, output).instrument(span).await {
                                Ok(Submission::Rejected(reason)) => {
                                    self.fail(&request, &format!("{}: {reason}", H::REFUSED))
                                        .await
                                }
                                other => other,
                            };
                        self.finish(message, &request, outcome).await;
                        continue;
                    }
                    Some(Err(MlError::Model(reason))) => Step::Fail(reason),
                    Some(Err(error)) => Step::Retry(error),
                    None => Step::Retry(MlError::Model("no result for the request".into())),
                },
            };
            match step {
                Step::Done => {
                    let _ = message.ack().await;
                }
                Step::Fail(reason) => {
                    let outcome = self.fail(&request, &reason).await;
                    self.finish(message, &request, outcome).await;
                }
                Step::Retry(error) => self.retry(message, &request, error).await,
                Step::Generate(_) => {}
            }
        }
    }

    async fn fail(&self, request: &WorkRequest, reason: &str) -> Result<Submission, MlError> {
        let reason: String = reason.chars().take(900).collect();
        tracing::warn!(event_id = %request.event_id, %reason, "generation failed");
        self.handler.fail(request, &reason).await
    }

    async fn finish(
        &self,
        message: Message,
        request: &WorkRequest,
        outcome: Result<Submission, MlError>,
    ) {
        match outcome {
            Ok(submission) => {
                tracing::info!(event_id = %request.event_id, ?submission, "answered");
                if let Err(error) = message.ack().await {
                    // Redelivered later, and then found already applied.
                    tracing::warn!(%error, "ack failed");
                }
            }
            Err(error) => self.retry(message, request, error).await,
        }
    }

    async fn retry(&self, message: Message, request: &WorkRequest, error: MlError) {
        let attempt = attempt(&message);
        if attempt >= self.options.max_attempts {
            let reason = format!("gave up after {attempt} attempts: {error}");
            if let Ok(submission) = self.fail(request, &reason).await {
                tracing::warn!(event_id = %request.event_id, ?submission, "request ended with a failure");
                let _ = message.ack().await;
                return;
            }
        }
        tracing::warn!(event_id = %request.event_id, attempt, %error, "attempt failed, will retry");
        let delay = self.options.retry_delay * u32::try_from(attempt.clamp(1, 30)).unwrap_or(1);
        let _ = message.ack_with(AckKind::Nak(Some(delay))).await;
    }
}
