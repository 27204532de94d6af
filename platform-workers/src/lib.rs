//! The workers between Adflow and the ad platforms, each writing through the application layer
//! (the same load → decide → append as the command API):
//!
//! - [`deployer`]: on `DeploymentRequested`, creates each pending platform's part and records it
//!   with every external id, or records the failure; a redelivery after a crash finds what the
//!   platform already holds instead of creating it twice.
//! - [`changes`]: on a campaign event the platforms must hear of (activated, paused, resumed,
//!   completed, tuned), pushes the change and records the outcome once per event.
//! - [`reports`]: pulls every live campaign's reports on a schedule, with a look-back window;
//!   a re-pulled day replaces its earlier figures.
//!
//! [`runtime`] is the JetStream consumer both event-driven workers run on.

pub mod changes;
pub mod deployer;
pub mod reports;
pub mod runtime;
pub mod search_terms;

use adflow_application::{AppError, Application, Command, EventMetadata, Expected, Outcome};
use adflow_domain::aggregate::Aggregate;
use adflow_domain::campaign::Platform;
use adflow_domain::tenant::{PlatformAccount, TenantSettings};
use adflow_domain::TenantId;
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("NATS: {0}")]
    Nats(String),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Platform(#[from] adflow_platforms::PlatformError),
}

/// Who a worker's command came from and what caused it.
#[derive(Debug, Clone, Copy)]
pub struct Cause {
    pub tenant: Uuid,
    pub event_id: Uuid,
    pub correlation_id: Uuid,
}

/// Runs `command` on aggregate `id` as `actor`, recording `cause`.
pub async fn submit<A>(
    app: &Application,
    actor: &str,
    cause: Cause,
    id: Uuid,
    command: A::Command,
    once_per_cause: bool,
) -> Result<Outcome, AppError>
where
    A: Aggregate,
    A::State: Clone + Send + Sync + 'static,
{
    app.execute::<A>(Command {
        tenant: TenantId(cause.tenant),
        aggregate_id: id,
        expected: Expected::Latest,
        command,
        metadata: EventMetadata {
            tenant_id: cause.tenant,
            actor: actor.to_owned(),
            correlation_id: cause.correlation_id,
            causation_id: cause.event_id,
            extra: BTreeMap::new(),
        },
        once_per_cause,
    })
    .await
}

/// The tenant's connected ad accounts (none when it never connected one).
pub async fn connections(
    app: &Application,
    tenant: TenantId,
) -> Result<BTreeMap<Platform, PlatformAccount>, AppError> {
    Ok(app
        .load::<TenantSettings>(tenant, tenant.0)
        .await?
        .state
        .map(|s| s.connections)
        .unwrap_or_default())
}

/// Keeps a reason within the domain's limit on reasons.
pub(crate) fn reason(text: impl std::fmt::Display) -> String {
    text.to_string().chars().take(900).collect()
}
