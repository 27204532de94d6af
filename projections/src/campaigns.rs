//! The `campaigns` read model: one row per campaign (list and detail screens).

use crate::json;
use crate::live::{announce, Change, ChangeKind};
use crate::runtime::{Projection, ProjectionError};
use adflow_domain::aggregate::{parse_stream_name, Aggregate};
use adflow_domain::campaign::{Campaign, CampaignEvent, CampaignStatus};
use adflow_domain::DomainEvent;
use adflow_event_store::RecordedEvent;
use async_trait::async_trait;
use sqlx::PgConnection;

/// The campaign list and detail (`campaigns`, with the current structure), deployment status per
/// platform (`campaign_deployments`) and optimisation proposals (`proposals`).
pub struct CampaignsProjection;

/// Keeps the detail tables that hang off a campaign.
pub(crate) async fn side_tables(
    tx: &mut PgConnection,
    tenant: uuid::Uuid,
    campaign: uuid::Uuid,
    event: &CampaignEvent,
    recorded: &RecordedEvent,
) -> Result<(), sqlx::Error> {
    announce_change(tx, tenant, campaign, event, recorded).await?;
    let at = recorded.recorded_at;
    match event {
        CampaignEvent::StructureGenerated(e) => set_structure(tx, tenant, campaign, json(&e.structure), json(&e.warnings)).await,
        CampaignEvent::StructureEdited(e) => set_structure(tx, tenant, campaign, json(&e.structure), json(&e.warnings)).await,
        CampaignEvent::StructureTuned(e) => set_structure(tx, tenant, campaign, json(&e.structure), json(&e.warnings)).await,
        CampaignEvent::DeploymentRequested(e) => {
            for platform in &e.platforms {
                sqlx::query(
                    "INSERT INTO campaign_deployments (tenant_id, campaign_id, platform, status, updated_at) \
                     VALUES ($1, $2, $3, 'REQUESTED', $4) \
                     ON CONFLICT (tenant_id, campaign_id, platform) DO UPDATE SET status = 'REQUESTED', \
                       failure_reason = NULL, retryable = NULL, updated_at = EXCLUDED.updated_at",
                )
                .bind(tenant)
                .bind(campaign)
                .bind(platform.as_str())
                .bind(at)
                .execute(&mut *tx)
                .await?;
            }
            Ok(())
        }
        CampaignEvent::DeployedToPlatform(e) => sqlx::query(
            "UPDATE campaign_deployments SET status = 'DEPLOYED', external_id = $4, updated_at = $5 \
             WHERE tenant_id = $1 AND campaign_id = $2 AND platform = $3",
        )
        .bind(tenant)
        .bind(campaign)
        .bind(e.platform.as_str())
        .bind(&e.external_id)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map(|_| ()),
        CampaignEvent::DeploymentFailed(e) => sqlx::query(
            "UPDATE campaign_deployments SET status = 'FAILED', failure_reason = $4, retryable = $5, updated_at = $6 \
             WHERE tenant_id = $1 AND campaign_id = $2 AND platform = $3",
        )
        .bind(tenant)
        .bind(campaign)
        .bind(e.platform.as_str())
        .bind(&e.reason)
        .bind(e.retryable)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map(|_| ()),
        CampaignEvent::OptimisationProposed(e) => sqlx::query(
            "INSERT INTO proposals (tenant_id, proposal_id, campaign_id, action, reason, confidence_basis_points, \
               model_version, status, proposed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', $8) \
             ON CONFLICT (tenant_id, proposal_id) DO NOTHING",
        )
        .bind(tenant)
        .bind(e.proposal_id)
        .bind(campaign)
        .bind(json(&e.action))
        .bind(&e.reason)
        .bind(i32::try_from(e.confidence_basis_points).unwrap_or(i32::MAX))
        .bind(&e.model_version)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map(|_| ()),
        CampaignEvent::ProposalApplied(e) => sqlx::query(
            "UPDATE proposals SET status = 'APPLIED', automatic = $3, decided_at = $4 WHERE tenant_id = $1 AND proposal_id = $2",
        )
        .bind(tenant)
        .bind(e.proposal_id)
        .bind(e.automatic)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map(|_| ()),
        CampaignEvent::ProposalDeclined(e) => sqlx::query(
            "UPDATE proposals SET status = 'DECLINED', automatic = false, decline_reason = $3, decided_at = $4 \
             WHERE tenant_id = $1 AND proposal_id = $2",
        )
        .bind(tenant)
        .bind(e.proposal_id)
        .bind(&e.reason)
        .bind(at)
        .execute(&mut *tx)
        .await
        .map(|_| ()),
        _ => Ok(()),
    }
}

/// Tells subscribers about status changes, deployment progress and new recommendations.
async fn announce_change(
    tx: &mut PgConnection,
    tenant: uuid::Uuid,
    campaign: uuid::Uuid,
    event: &CampaignEvent,
    recorded: &RecordedEvent,
) -> Result<(), sqlx::Error> {
    let change = |kind| Change::new(kind, tenant, campaign, recorded);
    let deployment = |platform: &str, status: &str| Change {
        platform: Some(platform.to_owned()),
        status: Some(status.to_owned()),
        ..change(ChangeKind::Deployment)
    };
    let mut changes = Vec::new();
    // A creation is not a change of status (and the batch path never announces it).
    let created = matches!(event, CampaignEvent::Created(_));
    if let Some(status) = event.status_after().filter(|_| !created) {
        changes.push(Change {
            status: Some(status.as_str().to_owned()),
            ..change(ChangeKind::Status)
        });
    }
    match event {
        CampaignEvent::DeploymentRequested(e) => changes.extend(
            e.platforms
                .iter()
                .map(|p| deployment(p.as_str(), "REQUESTED")),
        ),
        CampaignEvent::DeployedToPlatform(e) => {
            changes.push(deployment(e.platform.as_str(), "DEPLOYED"))
        }
        CampaignEvent::DeploymentFailed(e) => {
            changes.push(deployment(e.platform.as_str(), "FAILED"))
        }
        CampaignEvent::OptimisationProposed(e) => changes.push(Change {
            proposal: Some(e.proposal_id),
            ..change(ChangeKind::Recommendation)
        }),
        _ => {}
    }
    for change in &changes {
        announce(tx, change).await?;
    }
    Ok(())
}

async fn set_structure(
    tx: &mut PgConnection,
    tenant: uuid::Uuid,
    campaign: uuid::Uuid,
    structure: serde_json::Value,
    warnings: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE campaigns SET structure = $3, structure_warnings = $4 WHERE tenant_id = $1 AND campaign_id = $2")
        .bind(tenant)
        .bind(campaign)
        .bind(structure)
        .bind(warnings)
        .execute(tx)
        .await
        .map(|_| ())
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[async_trait]
impl Projection for CampaignsProjection {
    fn name(&self) -> &'static str {
        "campaigns"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["campaigns", "campaign_deployments", "proposals"]
    }

    async fn apply_batch(
        &self,
        tx: &mut PgConnection,
        events: &[RecordedEvent],
    ) -> Result<(), ProjectionError> {
        crate::campaign_batch::apply_batch(self, tx, events).await
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        recorded: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let undecodable = |reason: String| ProjectionError::Undecodable {
            event_id: recorded.event_id,
            event_type: recorded.event_type.clone(),
            reason,
        };
        let Some((category, tenant, id)) = parse_stream_name(&recorded.stream_name) else {
            return Ok(());
        };
        if category != Campaign::CATEGORY {
            return Ok(());
        }
        let event = CampaignEvent::from_payload(
            &recorded.event_type,
            recorded.schema_version,
            &recorded.data,
        )
        .map_err(|e| undecodable(e.to_string()))?;
        let version = to_i64(recorded.stream_version);
        side_tables(tx, tenant.0, id, &event, recorded).await?;
        match event {
            CampaignEvent::Created(created) => {
                let platforms: Vec<&str> = created.platforms.iter().map(|p| p.as_str()).collect();
                sqlx::query(
                    "INSERT INTO campaigns (tenant_id, campaign_id, name, status, objective, platforms, \
                       total_budget_micros, start_date, end_date, version, created_at, updated_at, currency) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12) \
                     ON CONFLICT (tenant_id, campaign_id) DO UPDATE SET name = EXCLUDED.name, \
                       status = EXCLUDED.status, objective = EXCLUDED.objective, platforms = EXCLUDED.platforms, \
                       total_budget_micros = EXCLUDED.total_budget_micros, start_date = EXCLUDED.start_date, \
                       end_date = EXCLUDED.end_date, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at, \
                       currency = EXCLUDED.currency",
                )
                .bind(tenant.0)
                .bind(id)
                .bind(&created.name)
                .bind(CampaignStatus::Draft.as_str())
                .bind(created.objective.as_str())
                .bind(&platforms)
                .bind(created.total_budget_micros)
                .bind(created.start_date)
                .bind(created.end_date)
                .bind(version)
                .bind(recorded.recorded_at)
                .bind(&created.currency)
                .execute(tx)
                .await?;
            }
            CampaignEvent::Renamed(renamed) => {
                sqlx::query(
                    "UPDATE campaigns SET name = $3, version = $4, updated_at = $5 \
                     WHERE tenant_id = $1 AND campaign_id = $2",
                )
                .bind(tenant.0)
                .bind(id)
                .bind(&renamed.name)
                .bind(version)
                .bind(recorded.recorded_at)
                .execute(tx)
                .await?;
            }
            CampaignEvent::BudgetChanged(changed) => {
                sqlx::query(
                    "UPDATE campaigns SET total_budget_micros = $3, version = $4, updated_at = $5 \
                     WHERE tenant_id = $1 AND campaign_id = $2",
                )
                .bind(tenant.0)
                .bind(id)
                .bind(changed.total_budget_micros)
                .bind(version)
                .bind(recorded.recorded_at)
                .execute(tx)
                .await?;
            }
            CampaignEvent::ScheduleChanged(changed) => {
                sqlx::query(
                    "UPDATE campaigns SET start_date = $3, end_date = $4, version = $5, updated_at = $6 \
                     WHERE tenant_id = $1 AND campaign_id = $2",
                )
                .bind(tenant.0)
                .bind(id)
                .bind(changed.start_date)
                .bind(changed.end_date)
                .bind(version)
                .bind(recorded.recorded_at)
                .execute(tx)
                .await?;
            }
            // Lifecycle steps: the domain says which status each leads to.
            other => {
                sqlx::query(
                    "UPDATE campaigns SET status = coalesce($3, status), version = $4, updated_at = $5 \
                     WHERE tenant_id = $1 AND campaign_id = $2",
                )
                .bind(tenant.0)
                .bind(id)
                .bind(other.status_after().map(|s| s.as_str()))
                .bind(version)
                .bind(recorded.recorded_at)
                .execute(tx)
                .await?;
            }
        }
        Ok(())
    }
}
