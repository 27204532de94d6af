//! The worker's view of the system: what it reads (the campaign, its segments, the tenant's
//! guardrails) and how it answers (a command). `StoreBackend` does both on the event store, the
//! same load → decide → append as the command API, with the triggering event's id as the
//! idempotency key: an answer is appended with that id as its causation, and an answer whose
//! causation is already in the stream is not appended again. The expected-version check makes the
//! look and the append one atomic step, so two deliveries racing each other still append once.

use crate::brief::TargetSegment;
use crate::MlError;
use adflow_domain::aggregate::{stream_name, Aggregate};
use adflow_domain::audience::{Audience, AudienceCommand, AudienceState};
use adflow_domain::campaign::{Campaign, CampaignCommand, CampaignState, Guardrails};
use adflow_domain::tenant::TenantSettings;
use adflow_domain::{DomainEvent, Rejection, TenantId};
use adflow_event_store::{
    EventMetadata, EventStore, ExpectedVersion, NewEvent, RecordedEvent, StoreError,
};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::Arc;
use uuid::Uuid;

/// Which request an answer belongs to: the triggering event and its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trigger {
    pub tenant_id: Uuid,
    /// The campaign or audience the request is about.
    pub aggregate_id: Uuid,
    pub event_id: Uuid,
    pub correlation_id: Uuid,
}

/// How the system took an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// Appended now.
    Accepted,
    /// Appended by an earlier delivery of the same request.
    AlreadyApplied,
    /// The aggregate refused it; retrying cannot help (for example, the request was answered or
    /// superseded).
    Rejected(String),
}

#[async_trait]
pub trait Backend: Send + Sync {
    async fn campaign(
        &self,
        tenant: Uuid,
        campaign: Uuid,
    ) -> Result<Option<CampaignState>, MlError>;
    async fn segment(
        &self,
        tenant: Uuid,
        audience: Uuid,
        segment: Uuid,
    ) -> Result<Option<TargetSegment>, MlError>;
    async fn guardrails(&self, tenant: Uuid) -> Result<Guardrails, MlError>;
    async fn audience(
        &self,
        tenant: Uuid,
        audience: Uuid,
    ) -> Result<Option<AudienceState>, MlError>;
    /// Errors are transient (store unreachable): the caller retries.
    async fn submit_campaign(
        &self,
        trigger: Trigger,
        command: CampaignCommand,
        model_version: Option<&str>,
    ) -> Result<Submission, MlError>;
    async fn submit_audience(
        &self,
        trigger: Trigger,
        command: AudienceCommand,
        model_version: Option<&str>,
    ) -> Result<Submission, MlError>;
}

pub struct StoreBackend {
    store: Arc<dyn EventStore>,
    actor: String,
}

const PAGE: usize = 500;

fn backend_error(error: impl std::fmt::Display) -> MlError {
    MlError::Backend(error.to_string())
}

impl StoreBackend {
    pub fn new(store: Arc<dyn EventStore>, worker: &str) -> Self {
        Self {
            store,
            actor: format!("system:{worker}"),
        }
    }

    async fn history(&self, stream: &str) -> Result<Vec<RecordedEvent>, MlError> {
        let mut events = Vec::new();
        loop {
            let page = self
                .store
                .read_stream(stream, events.len() as u64 + 1, PAGE)
                .await
                .map_err(backend_error)?;
            let full = page.len() == PAGE;
            events.extend(page);
            if !full {
                return Ok(events);
            }
        }
    }

    async fn load<A: Aggregate>(
        &self,
        stream: &str,
    ) -> Result<(Option<A::State>, Vec<RecordedEvent>), MlError> {
        let recorded = self.history(stream).await?;
        let events = recorded
            .iter()
            .map(|r| A::Event::from_payload(&r.event_type, r.schema_version, &r.data))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| MlError::Backend(format!("{stream}: {e}")))?;
        let state =
            A::fold(events.iter()).map_err(|e| MlError::Backend(format!("{stream}: {e}")))?;
        Ok((state, recorded))
    }

    /// Load → check the causation → decide → append with the expected version.
    async fn submit_to<A: Aggregate>(
        &self,
        trigger: Trigger,
        command: A::Command,
        model_version: Option<&str>,
    ) -> Result<Submission, MlError> {
        let stream = stream_name::<A>(TenantId(trigger.tenant_id), trigger.aggregate_id);
        // A lost race re-reads and decides again; a few rounds settle any real contention.
        for _ in 0..5 {
            let (state, recorded) = self.load::<A>(&stream).await?;
            if recorded
                .iter()
                .any(|r| r.metadata.causation_id == trigger.event_id)
            {
                return Ok(Submission::AlreadyApplied);
            }
            let version = recorded.last().map_or(0, |r| r.stream_version);
            let decided = match A::decide(state.as_ref(), &command, chrono::Utc::now()) {
                Ok(events) => events,
                Err(rejection) => return Ok(Submission::Rejected(describe(&rejection))),
            };
            let mut extra = BTreeMap::new();
            if let Some(model) = model_version {
                extra.insert("modelVersion".to_owned(), model.to_owned());
            }
            let metadata = EventMetadata {
                tenant_id: trigger.tenant_id,
                actor: self.actor.clone(),
                correlation_id: trigger.correlation_id,
                causation_id: trigger.event_id,
                extra,
            };
            let events = decided
                .iter()
                .map(|event| {
                    let payload = event.to_payload();
                    NewEvent {
                        event_id: Uuid::now_v7(),
                        event_type: payload.event_type.to_owned(),
                        schema_version: payload.schema_version,
                        data: payload.data,
                        metadata: metadata.clone(),
                    }
                })
                .collect();
            match self
                .store
                .append(&stream, ExpectedVersion::Exact(version), events)
                .await
            {
                Ok(_) => return Ok(Submission::Accepted),
                Err(StoreError::WrongExpectedVersion { .. }) => continue,
                Err(error) => return Err(backend_error(error)),
            }
        }
        Err(MlError::Backend(format!(
            "{stream}: still contended after 5 attempts"
        )))
    }
}

#[async_trait]
impl Backend for StoreBackend {
    async fn campaign(
        &self,
        tenant: Uuid,
        campaign: Uuid,
    ) -> Result<Option<CampaignState>, MlError> {
        let stream = stream_name::<Campaign>(TenantId(tenant), campaign);
        Ok(self.load::<Campaign>(&stream).await?.0)
    }

    async fn segment(
        &self,
        tenant: Uuid,
        audience: Uuid,
        segment: Uuid,
    ) -> Result<Option<TargetSegment>, MlError> {
        let stream = stream_name::<Audience>(TenantId(tenant), audience);
        let (state, _) = self.load::<Audience>(&stream).await?;
        Ok(state.and_then(|audience| {
            audience.segments.get(&segment).map(|s| TargetSegment {
                name: s.name.clone(),
                criteria: s.criteria.clone(),
                estimated_size: s.estimated_size,
            })
        }))
    }

    async fn guardrails(&self, tenant: Uuid) -> Result<Guardrails, MlError> {
        let stream = stream_name::<TenantSettings>(TenantId(tenant), tenant);
        let (settings, _) = self.load::<TenantSettings>(&stream).await?;
        Ok(settings.map(|s| s.guardrails).unwrap_or_default())
    }

    async fn submit_campaign(
        &self,
        trigger: Trigger,
        command: CampaignCommand,
        model_version: Option<&str>,
    ) -> Result<Submission, MlError> {
        self.submit_to::<Campaign>(trigger, command, model_version)
            .await
    }

    async fn submit_audience(
        &self,
        trigger: Trigger,
        command: AudienceCommand,
        model_version: Option<&str>,
    ) -> Result<Submission, MlError> {
        self.submit_to::<Audience>(trigger, command, model_version)
            .await
    }

    async fn audience(
        &self,
        tenant: Uuid,
        audience: Uuid,
    ) -> Result<Option<AudienceState>, MlError> {
        let stream = stream_name::<Audience>(TenantId(tenant), audience);
        Ok(self.load::<Audience>(&stream).await?.0)
    }
}

fn describe(rejection: &Rejection) -> String {
    match rejection {
        Rejection::Invalid(violations) => format!("{rejection}: {violations:?}"),
        other => other.to_string(),
    }
}
