//! The worker's view of the system: what it reads (the campaign, its segments, the tenant's
//! guardrails) and how it answers (a command). `StoreBackend` does both through the application
//! layer, the same load → decide → append as the command API, with the triggering event's id as
//! the cause: an answer whose cause is already in the stream is not applied again, and the
//! expected version makes that look and the append one atomic step, so two deliveries racing each
//! other still append once.

use crate::brief::TargetSegment;
use crate::MlError;
use adflow_application::{AppError, Application, Command, EventMetadata, Expected, Outcome};
use adflow_domain::aggregate::Aggregate;
use adflow_domain::audience::{Audience, AudienceCommand, AudienceState};
use adflow_domain::campaign::{Campaign, CampaignCommand, CampaignState, Guardrails};
use adflow_domain::monitoring::{CampaignMonitor, MonitorCommand, MonitorState};
use adflow_domain::tenant::{TenantSettings, TenantSettingsState};
use adflow_domain::{Rejection, TenantId};
use async_trait::async_trait;
use std::collections::BTreeMap;
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
    /// Findings for a campaign's monitor (the campaign is the trigger's `aggregate_id`).
    async fn submit_monitor(
        &self,
        trigger: Trigger,
        command: MonitorCommand,
        model_version: Option<&str>,
    ) -> Result<Submission, MlError> {
        let _ = (trigger, command, model_version);
        Err(MlError::Backend(
            "this backend records no monitoring".into(),
        ))
    }
    /// The tenant's settings (guardrails, decision rules); the defaults when never set.
    async fn tenant_settings(&self, tenant: Uuid) -> Result<TenantSettingsState, MlError> {
        Ok(TenantSettingsState {
            guardrails: self.guardrails(tenant).await?,
            ..TenantSettingsState::default()
        })
    }
    async fn monitor(&self, tenant: Uuid, campaign: Uuid) -> Result<Option<MonitorState>, MlError> {
        let _ = (tenant, campaign);
        Ok(None)
    }
    /// A proposal of an optimisation run. Several share the run's trigger as their cause, so
    /// this is not once per cause: the proposal ids (derived from the run) make it idempotent.
    async fn propose(
        &self,
        trigger: Trigger,
        command: CampaignCommand,
        model_version: &str,
    ) -> Result<Submission, MlError> {
        self.submit_campaign(trigger, command, Some(model_version))
            .await
    }
}

/// The backend on the application layer: reads are loads, answers are commands with the
/// triggering event as their cause, applied at most once per cause.
pub struct StoreBackend {
    application: Application,
    actor: String,
}

fn backend_error(error: impl std::fmt::Display) -> MlError {
    MlError::Backend(error.to_string())
}

impl StoreBackend {
    pub fn new(application: Application, worker: &str) -> Self {
        Self {
            application,
            actor: format!("system:{worker}"),
        }
    }

    async fn state<A>(&self, tenant: Uuid, id: Uuid) -> Result<Option<A::State>, MlError>
    where
        A: Aggregate,
        A::State: Clone + Send + Sync + 'static,
    {
        Ok(self
            .application
            .load::<A>(TenantId(tenant), id)
            .await
            .map_err(backend_error)?
            .state)
    }

    async fn submit_to<A>(
        &self,
        trigger: Trigger,
        command: A::Command,
        model_version: Option<&str>,
        once_per_cause: bool,
    ) -> Result<Submission, MlError>
    where
        A: Aggregate,
        A::State: Clone + Send + Sync + 'static,
    {
        let mut extra = BTreeMap::new();
        if let Some(model) = model_version {
            extra.insert("modelVersion".to_owned(), model.to_owned());
        }
        if let Some(traceparent) = adflow_telemetry::traces::current_traceparent() {
            extra.insert(
                adflow_telemetry::traces::TRACEPARENT.to_owned(),
                traceparent,
            );
        }
        let outcome = self
            .application
            .execute::<A>(Command {
                tenant: TenantId(trigger.tenant_id),
                aggregate_id: trigger.aggregate_id,
                expected: Expected::Latest,
                command,
                metadata: EventMetadata {
                    tenant_id: trigger.tenant_id,
                    actor: self.actor.clone(),
                    correlation_id: trigger.correlation_id,
                    causation_id: trigger.event_id,
                    extra,
                },
                once_per_cause,
            })
            .await;
        match outcome {
            Ok(Outcome::AlreadyApplied { .. }) => Ok(Submission::AlreadyApplied),
            Ok(_) => Ok(Submission::Accepted),
            Err(AppError::Rejected(Rejection::AlreadyExists { .. })) if !once_per_cause => {
                Ok(Submission::AlreadyApplied)
            }
            Err(AppError::Rejected(rejection)) => Ok(Submission::Rejected(describe(&rejection))),
            Err(error) => Err(backend_error(error)),
        }
    }
}

#[async_trait]
impl Backend for StoreBackend {
    async fn campaign(
        &self,
        tenant: Uuid,
        campaign: Uuid,
    ) -> Result<Option<CampaignState>, MlError> {
        self.state::<Campaign>(tenant, campaign).await
    }

    async fn segment(
        &self,
        tenant: Uuid,
        audience: Uuid,
        segment: Uuid,
    ) -> Result<Option<TargetSegment>, MlError> {
        let state = self.state::<Audience>(tenant, audience).await?;
        Ok(state.and_then(|audience| {
            audience.segments.get(&segment).map(|s| TargetSegment {
                name: s.name.clone(),
                criteria: s.criteria.clone(),
                estimated_size: s.estimated_size,
            })
        }))
    }

    async fn guardrails(&self, tenant: Uuid) -> Result<Guardrails, MlError> {
        self.application
            .guardrails(TenantId(tenant))
            .await
            .map_err(backend_error)
    }

    async fn submit_campaign(
        &self,
        trigger: Trigger,
        command: CampaignCommand,
        model_version: Option<&str>,
    ) -> Result<Submission, MlError> {
        self.submit_to::<Campaign>(trigger, command, model_version, true)
            .await
    }

    async fn submit_audience(
        &self,
        trigger: Trigger,
        command: AudienceCommand,
        model_version: Option<&str>,
    ) -> Result<Submission, MlError> {
        self.submit_to::<Audience>(trigger, command, model_version, true)
            .await
    }

    async fn audience(
        &self,
        tenant: Uuid,
        audience: Uuid,
    ) -> Result<Option<AudienceState>, MlError> {
        self.state::<Audience>(tenant, audience).await
    }

    async fn submit_monitor(
        &self,
        trigger: Trigger,
        command: MonitorCommand,
        model_version: Option<&str>,
    ) -> Result<Submission, MlError> {
        self.submit_to::<CampaignMonitor>(trigger, command, model_version, true)
            .await
    }

    async fn tenant_settings(&self, tenant: Uuid) -> Result<TenantSettingsState, MlError> {
        Ok(self
            .state::<TenantSettings>(tenant, tenant)
            .await?
            .unwrap_or_default())
    }

    async fn monitor(&self, tenant: Uuid, campaign: Uuid) -> Result<Option<MonitorState>, MlError> {
        self.state::<CampaignMonitor>(
            tenant,
            adflow_domain::monitoring::monitor_stream_id(campaign),
        )
        .await
    }

    async fn propose(
        &self,
        trigger: Trigger,
        command: CampaignCommand,
        model_version: &str,
    ) -> Result<Submission, MlError> {
        self.submit_to::<Campaign>(trigger, command, Some(model_version), false)
            .await
    }
}

fn describe(rejection: &Rejection) -> String {
    match rejection {
        Rejection::Invalid(violations) => format!("{rejection}: {violations:?}"),
        other => other.to_string(),
    }
}
