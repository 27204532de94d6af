//! The optimiser's clock: every interval, one scheduled run per active or paused campaign (the run
//! id derived from the campaign and the hour, so several ML workers ask once), and a retraining of
//! every such tenant's prediction models older than the retraining age.

use crate::prediction::live;
use crate::prediction::text::TextVectors;
use crate::MlError;
use adflow_application::{Application, Command, EventMetadata, Expected};
use adflow_domain::campaign::Campaign;
use adflow_domain::monitoring::{monitor_stream_id, CampaignMonitor, MonitorCommand};
use adflow_domain::optimisation::runs::{scheduled_run_id, RunTrigger};
use adflow_domain::TenantId;
use adflow_projections::analytics::Analytics;
use chrono::{DateTime, DurationRound, Utc};
use sqlx::PgPool;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

const ACTOR: &str = "system:optimisation-schedule";

pub struct Schedule {
    pub application: Application,
    pub pool: PgPool,
    pub analytics: Analytics,
    pub interval: Duration,
    pub retrain_after: chrono::Duration,
    /// The embeddings the predictor reads units' words through.
    pub text: Arc<TextVectors>,
    pub device: tch::Device,
}

fn backend(error: impl std::fmt::Display) -> MlError {
    MlError::Backend(error.to_string())
}

impl Schedule {
    /// The campaigns the optimiser looks after, by tenant.
    async fn campaigns(&self) -> Result<BTreeMap<Uuid, Vec<Uuid>>, MlError> {
        let rows: Vec<(Uuid, Uuid)> = sqlx::query_as(
            "SELECT tenant_id, campaign_id FROM campaigns WHERE status IN ('ACTIVE', 'PAUSED') \
             ORDER BY tenant_id, campaign_id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        let mut by_tenant: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
        for (tenant, campaign) in rows {
            by_tenant.entry(tenant).or_default().push(campaign);
        }
        Ok(by_tenant)
    }

    /// Asks for this hour's run of every campaign; returns how many were new.
    pub async fn request_runs(&self, now: DateTime<Utc>) -> Result<usize, MlError> {
        let hour = now
            .duration_trunc(chrono::Duration::hours(1))
            .unwrap_or(now);
        let mut requested = 0;
        for (tenant, campaigns) in self.campaigns().await? {
            for campaign in campaigns {
                let run_id = scheduled_run_id(campaign, hour);
                let outcome = self
                    .application
                    .execute::<CampaignMonitor>(Command {
                        tenant: TenantId(tenant),
                        aggregate_id: monitor_stream_id(campaign),
                        expected: Expected::Latest,
                        command: MonitorCommand::RequestRun {
                            campaign_id: campaign,
                            run_id,
                            trigger: RunTrigger::Scheduled,
                        },
                        metadata: EventMetadata {
                            tenant_id: tenant,
                            actor: ACTOR.to_owned(),
                            correlation_id: run_id,
                            causation_id: run_id,
                            extra: Default::default(),
                        },
                        once_per_cause: false,
                    })
                    .await
                    .map_err(backend)?;
                requested += usize::from(outcome.position().is_some());
            }
        }
        Ok(requested)
    }

    /// Trains the models of every tenant whose newest are older than the retraining age.
    pub async fn retrain(&self) -> Result<usize, MlError> {
        let tenants: Vec<Uuid> = self.campaigns().await?.into_keys().collect();
        let stale =
            crate::prediction::registry::stale(&self.pool, &tenants, self.retrain_after).await?;
        let mut trained = 0;
        for tenant in stale {
            let application = &self.application;
            let records = live::train_tenant(
                &self.pool,
                &self.analytics,
                tenant,
                |campaign| async move {
                    application
                        .load::<Campaign>(TenantId(tenant), campaign)
                        .await
                        .map(|loaded| loaded.state)
                        .map_err(backend)
                },
                &self.text,
                self.device,
            )
            .await?;
            for record in &records {
                tracing::info!(%tenant, model = %record.label(), metrics = %record.metrics, "prediction model trained");
            }
            trained += records.len();
        }
        Ok(trained)
    }

    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        loop {
            if let Err(error) = self.request_runs(Utc::now()).await {
                tracing::warn!(%error, "scheduled optimisation runs not requested");
            }
            if let Err(error) = self.retrain().await {
                tracing::warn!(%error, "prediction models not retrained");
            }
            tokio::select! {
                _ = tokio::time::sleep(self.interval) => {}
                _ = shutdown.wait_for(|stop| *stop) => return,
            }
        }
    }
}
