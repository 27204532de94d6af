//! The deployer: a campaign's structure onto each pending platform, recorded with every external
//! id. Killed between a platform's answer and its own record, the redelivery finds the campaign
//! still waiting for that platform, asks the platform again, and the gateway adopts what the
//! first attempt created (found by the campaign's deployment key) — no duplicate. A platform done
//! is recorded at once, so a half-done deployment resumes with the rest; the last attempt records
//! a failure, so no campaign stays DEPLOYING.

use crate::runtime::{Handled, Work};
use crate::{reason, submit, Cause};
use adflow_application::{AppError, Application};
use adflow_domain::campaign::{Campaign, CampaignCommand, CampaignStatus, Platform};
use adflow_domain::TenantId;
use adflow_platforms::{DeploymentKey, PlatformError, Platforms};
use adflow_work_contract::{WorkRequest, WorkType};
use async_trait::async_trait;
use std::sync::Arc;

pub const ACTOR: &str = "system:platform-deployer";

pub struct Deployer {
    app: Application,
    platforms: Arc<Platforms>,
}

impl Deployer {
    pub fn new(app: Application, platforms: Arc<Platforms>) -> Self {
        Self { app, platforms }
    }

    async fn record(
        &self,
        cause: Cause,
        campaign: uuid::Uuid,
        command: CampaignCommand,
    ) -> Result<(), AppError> {
        match submit::<Campaign>(&self.app, ACTOR, cause, campaign, command, false).await {
            Ok(_) => Ok(()),
            // Recorded meanwhile by another delivery, or the campaign moved on: nothing to add.
            Err(AppError::Rejected(rejection)) => {
                tracing::info!(%rejection, %campaign, "deployment record refused; already recorded");
                Ok(())
            }
            Err(error) => Err(error),
        }
    }
}

#[async_trait]
impl Work for Deployer {
    const WORK: WorkType = WorkType::Deployment;

    async fn handle(&self, request: &WorkRequest, attempt: i64, last: bool) -> Handled {
        let tenant = TenantId(request.tenant_id);
        let campaign_id = request.aggregate_id;
        let cause = Cause {
            tenant: tenant.0,
            event_id: request.event_id,
            correlation_id: request.correlation_id,
        };
        let state = match self.app.load::<Campaign>(tenant, campaign_id).await {
            Ok(loaded) => loaded.state,
            Err(error) => return Handled::retry(error),
        };
        let Some(state) = state else {
            return Handled::Done;
        };
        if state.status != CampaignStatus::DeploymentRequested {
            return Handled::Done;
        }
        let connections = match crate::connections(&self.app, tenant).await {
            Ok(connections) => connections,
            Err(error) => return Handled::retry(error),
        };
        let key = DeploymentKey::for_campaign(campaign_id);
        let mut failure: Option<(Platform, PlatformError)> = None;
        for platform in state.undeployed_platforms() {
            let outcome = match (
                &state.structure,
                self.platforms
                    .account(tenant.0, platform, connections.get(&platform))
                    .await,
            ) {
                (None, _) => Err(PlatformError::Unsupported(
                    "the campaign has no structure".into(),
                )),
                (_, Err(error)) => Err(error),
                (Some(structure), Ok(account)) => {
                    let started = std::time::Instant::now();
                    let deployed = self
                        .platforms
                        .gateway(platform)
                        .deploy(&account, &key, structure, &state.currency)
                        .await;
                    if let Ok(d) = &deployed {
                        tracing::info!(%campaign_id, platform = platform.as_str(), resources = d.resources.len(), requests = d.requests, resumed = d.resumed, ms = started.elapsed().as_millis() as u64, "deployed");
                    }
                    deployed
                }
            };
            match outcome {
                Ok(deployed) => {
                    let command = CampaignCommand::RecordDeployment {
                        platform,
                        external_id: deployed.external_id,
                        resources: deployed.resources,
                    };
                    if let Err(error) = self.record(cause, campaign_id, command).await {
                        // The platform holds it; the redelivery adopts it and records it then.
                        return Handled::retry(error);
                    }
                }
                Err(error) => {
                    tracing::warn!(%campaign_id, platform = platform.as_str(), attempt, %error, "deployment failed");
                    failure.get_or_insert((platform, error));
                }
            }
        }
        let Some((platform, error)) = failure else {
            return Handled::Done;
        };
        // Throttling and outages pass within minutes: try again. An exhausted daily quota does
        // not: the failure is recorded now (retryable), rather than the campaign waiting in
        // DEPLOYING until the quota resets.
        if error.transient() && !last {
            return Handled::Retry {
                reason: error.to_string(),
                delay: None,
            };
        }
        let command = CampaignCommand::RecordDeploymentFailure {
            platform,
            reason: reason(format!("{error} (attempt {attempt})")),
            retryable: error.retryable(),
        };
        match self.record(cause, campaign_id, command).await {
            Ok(()) => Handled::Done,
            Err(error) => Handled::retry(error),
        }
    }
}
