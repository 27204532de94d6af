//! The worker runtime: a durable JetStream pull consumer per work type. Messages that arrive
//! together are generated in one batch (one encoder call). A message is acknowledged only once its
//! answer was accepted, found already applied, or permanently refused; a transient failure is
//! retried with a delay, and on the last allowed attempt the request is answered with a failure,
//! so a campaign never stays "generating".

use crate::backend::{Backend, Submission, Trigger};
use crate::brief::Brief;
use crate::structure::StructureGenerator;
use crate::MlError;
use adflow_domain::campaign::{CampaignCommand, CampaignEvent, CampaignStatus};
use adflow_domain::DomainEvent;
use async_nats::jetstream::{self, consumer, stream, AckKind, Message};
use futures_util::StreamExt;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::Instrument;
use uuid::Uuid;

/// What the dispatcher publishes (`projections::dispatcher::WorkRequest`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkRequest {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub tenant_id: Uuid,
    pub aggregate_id: Uuid,
    pub correlation_id: Uuid,
    pub data: serde_json::Value,
}

#[derive(Debug, Clone)]
pub struct WorkerOptions {
    pub stream: String,
    pub subject_prefix: String,
    /// The durable consumer's name; workers sharing it share the work.
    pub durable: String,
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
            stream: "ADFLOW_ML".into(),
            subject_prefix: "ml".into(),
            durable: "ml-structure".into(),
            batch_max: 8,
            batch_window: Duration::from_millis(15),
            max_attempts: 5,
            ack_wait: Duration::from_secs(60),
            retry_delay: Duration::from_secs(1),
        }
    }
}

pub struct StructureWorker {
    pub backend: Arc<dyn Backend>,
    pub generator: Arc<dyn StructureGenerator>,
    pub options: WorkerOptions,
}

/// What to do with a message once its request was looked at.
enum Step {
    Done,
    Generate(Box<Brief>),
    /// Answer with a failure right away (the request cannot succeed).
    Fail(String),
    Retry(MlError),
}

fn nats(error: impl std::fmt::Display) -> MlError {
    MlError::Nats(error.to_string())
}

fn attempt(message: &Message) -> i64 {
    message.info().map(|info| info.delivered).unwrap_or(1)
}

impl StructureWorker {
    pub async fn consumer(
        &self,
        client: async_nats::Client,
    ) -> Result<consumer::PullConsumer, MlError> {
        let jetstream = jetstream::new(client);
        let o = &self.options;
        let stream = jetstream
            .get_or_create_stream(stream::Config {
                name: o.stream.clone(),
                subjects: vec![format!("{}.>", o.subject_prefix)],
                duplicate_window: Duration::from_secs(24 * 3600),
                max_age: Duration::from_secs(7 * 24 * 3600),
                ..Default::default()
            })
            .await
            .map_err(nats)?;
        stream
            .get_or_create_consumer(
                &o.durable,
                consumer::pull::Config {
                    durable_name: Some(o.durable.clone()),
                    filter_subject: format!("{}.structure.requested", o.subject_prefix),
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
        let consumer = self.consumer(client).await?;
        let mut messages = consumer.messages().await.map_err(nats)?;
        loop {
            let first = tokio::select! {
                next = messages.next() => next,
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
            self.handle(batch).await;
        }
    }

    /// Looks up, generates and answers one batch; every message ends acknowledged or retried.
    pub async fn handle(&self, batch: Vec<Message>) {
        let mut pending = Vec::new();
        for message in batch {
            let request: WorkRequest = match serde_json::from_slice(&message.payload) {
                Ok(request) => request,
                Err(error) => {
                    // Not attributable to any campaign: nothing to answer, and redelivery cannot help.
                    tracing::error!(%error, subject = %message.subject, "unreadable work request, terminated");
                    let _ = message.ack_with(AckKind::Term).await;
                    continue;
                }
            };
            let step = self.prepare(&request).await;
            pending.push((message, request, step));
        }
        let briefs: Vec<Brief> = pending
            .iter()
            .filter_map(|(_, _, step)| match step {
                Step::Generate(brief) => Some(brief.as_ref().clone()),
                _ => None,
            })
            .collect();
        let generator = self.generator.clone();
        let count = briefs.len();
        let mut results = if count == 0 {
            Vec::new()
        } else {
            // The models are CPU (or GPU) bound: off the async threads; a panic is a failed attempt.
            let started = std::time::Instant::now();
            match tokio::task::spawn_blocking(move || generator.generate(&briefs)).await {
                Ok(results) => {
                    tracing::info!(
                        briefs = count,
                        ms = started.elapsed().as_millis() as u64,
                        "generated"
                    );
                    results
                }
                Err(error) => (0..count)
                    .map(|_| Err(MlError::Model(format!("the generator crashed: {error}"))))
                    .collect(),
            }
        }
        .into_iter();
        for (message, request, step) in pending {
            let step = match step {
                Step::Generate(_) => match results.next() {
                    Some(Ok(generated)) => {
                        let span = tracing::info_span!("answer", correlation_id = %request.correlation_id, event_id = %request.event_id);
                        let outcome = self.attach(&request, generated).instrument(span).await;
                        self.finish(message, &request, outcome).await;
                        continue;
                    }
                    Some(Err(MlError::Model(reason))) => Step::Fail(reason),
                    Some(Err(error)) => Step::Retry(error),
                    None => Step::Retry(MlError::Model("no result for the request".into())),
                },
                other => other,
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

    async fn prepare(&self, request: &WorkRequest) -> Step {
        let event = match CampaignEvent::from_payload(
            &request.event_type,
            request.schema_version,
            &request.data,
        ) {
            Ok(CampaignEvent::StructureRequested(event)) => event,
            Ok(_) | Err(_) => {
                tracing::error!(event_type = %request.event_type, "not a structure request, dropped");
                return Step::Done;
            }
        };
        let campaign = match self
            .backend
            .campaign(request.tenant_id, request.aggregate_id)
            .await
        {
            Ok(Some(campaign)) => campaign,
            Ok(None) => return Step::Done,
            Err(error) => return Step::Retry(error),
        };
        // Answered, superseded or withdrawn meanwhile: nothing left to do.
        if campaign.status != CampaignStatus::StructureRequested
            || campaign.pending_request != Some(event.request_id)
        {
            return Step::Done;
        }
        let mut segments = Vec::new();
        for (audience, segment) in &campaign.segments {
            match self
                .backend
                .segment(request.tenant_id, *audience, *segment)
                .await
            {
                Ok(Some(found)) => segments.push(found),
                Ok(None) => {}
                Err(error) => return Step::Retry(error),
            }
        }
        match Brief::from_request(&campaign, &event, segments) {
            Some(brief) => Step::Generate(Box::new(brief)),
            None => Step::Fail(
                "the request carries no brief: the generator needs an offer, a landing page URL and a business name"
                    .into(),
            ),
        }
    }

    fn trigger(request: &WorkRequest) -> Trigger {
        Trigger {
            tenant_id: request.tenant_id,
            campaign_id: request.aggregate_id,
            event_id: request.event_id,
            correlation_id: request.correlation_id,
        }
    }

    fn request_id(request: &WorkRequest) -> Uuid {
        request
            .data
            .get("requestId")
            .and_then(|v| v.as_str())
            .and_then(|v| v.parse().ok())
            .unwrap_or_default()
    }

    async fn attach(
        &self,
        request: &WorkRequest,
        generated: crate::structure::Generated,
    ) -> Result<Submission, MlError> {
        let guardrails = self.backend.guardrails(request.tenant_id).await?;
        let command = CampaignCommand::AttachGeneratedStructure {
            request_id: Self::request_id(request),
            model_version: generated.model_version.clone(),
            structure: generated.structure,
            guardrails,
        };
        match self
            .backend
            .submit(
                Self::trigger(request),
                command,
                Some(&generated.model_version),
            )
            .await?
        {
            // The campaign refused the structure (a tenant guardrail, say): answer with why.
            Submission::Rejected(reason) => {
                self.fail(request, &format!("the structure was refused: {reason}"))
                    .await
            }
            other => Ok(other),
        }
    }

    async fn fail(&self, request: &WorkRequest, reason: &str) -> Result<Submission, MlError> {
        let reason: String = reason.chars().take(900).collect();
        tracing::warn!(event_id = %request.event_id, %reason, "structure generation failed");
        let command = CampaignCommand::FailStructureGeneration {
            request_id: Self::request_id(request),
            reason,
        };
        self.backend
            .submit(Self::trigger(request), command, None)
            .await
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
