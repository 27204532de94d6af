//! The change pusher: a campaign event the platforms must hear of becomes the changes the domain
//! names for it (`platform_changes`, decided on the campaign as it was before the event), pushed
//! to each platform and recorded once per event (`PlatformChangesPushed`, the event as its cause).
//! A status change pushes the campaign's status as it is now, not as the event left it, so a
//! pause and a resume handled out of order still leave the platform as the campaign is.

use crate::runtime::{Handled, Work};
use crate::{submit, Cause};
use adflow_application::{AppError, Application};
use adflow_domain::aggregate::{stream_name, Aggregate};

use adflow_domain::campaign::{
    platform_changes, Campaign, CampaignCommand, CampaignEvent, CampaignState, CampaignStatus,
    PlatformChange, PushedChange,
};
use adflow_domain::{DomainEvent, TenantId};
use adflow_event_store::EventStore;
use adflow_platforms::Platforms;
use adflow_work_contract::{WorkRequest, WorkType};
use async_trait::async_trait;
use std::sync::Arc;

pub const ACTOR: &str = "system:platform-changes";

pub struct ChangePusher {
    app: Application,
    store: Arc<dyn EventStore>,
    platforms: Arc<Platforms>,
}

impl ChangePusher {
    pub fn new(app: Application, store: Arc<dyn EventStore>, platforms: Arc<Platforms>) -> Self {
        Self {
            app,
            store,
            platforms,
        }
    }

    /// The campaign before the triggering event, and the event itself.
    async fn before(
        &self,
        request: &WorkRequest,
    ) -> Result<Option<(CampaignState, CampaignEvent)>, String> {
        let stream = stream_name::<Campaign>(TenantId(request.tenant_id), request.aggregate_id);
        let mut decoded = Vec::new();
        let mut from = 1;
        loop {
            let page = self
                .store
                .read_stream(&stream, from, 500)
                .await
                .map_err(|e| e.to_string())?;
            let done = page.len() < 500;
            for event in page {
                if request.stream_version > 0 && event.stream_version > request.stream_version {
                    break;
                }
                from = event.stream_version + 1;
                decoded.push(
                    CampaignEvent::from_payload(
                        &event.event_type,
                        event.schema_version,
                        &event.data,
                    )
                    .map_err(|e| e.to_string())?,
                );
            }
            if done || (request.stream_version > 0 && from > request.stream_version) {
                break;
            }
        }
        let Some(trigger) = decoded.pop() else {
            return Ok(None);
        };
        let before = Campaign::fold(decoded.iter()).map_err(|e| e.to_string())?;
        Ok(before.map(|state| (state, trigger)))
    }
}

#[async_trait]
impl Work for ChangePusher {
    const WORK: WorkType = WorkType::PlatformChange;

    async fn handle(&self, request: &WorkRequest, _attempt: i64, last: bool) -> Handled {
        let tenant = TenantId(request.tenant_id);
        let campaign_id = request.aggregate_id;
        let (before, event) = match self.before(request).await {
            Ok(Some(found)) => found,
            Ok(None) => return Handled::Done,
            Err(error) => return Handled::retry(error),
        };
        let now = match self.app.load::<Campaign>(tenant, campaign_id).await {
            Ok(loaded) => loaded,
            Err(error) => return Handled::retry(error),
        };
        if now.was_caused_by(request.event_id) {
            return Handled::Done;
        }
        let Some(current) = now.state else {
            return Handled::Done;
        };
        let status_now = match current.status {
            CampaignStatus::Active => Some(PlatformChange::Resume),
            CampaignStatus::Paused | CampaignStatus::Completed | CampaignStatus::Archived => {
                Some(PlatformChange::Pause)
            }
            _ => None,
        };
        let changes: Vec<_> = platform_changes(&before, &event)
            .into_iter()
            .map(|(platform, change)| match change {
                PlatformChange::Pause | PlatformChange::Resume => {
                    (platform, status_now.clone().unwrap_or(change))
                }
                other => (platform, other),
            })
            .collect();
        if changes.is_empty() {
            return Handled::Done;
        }
        let connections = match crate::connections(&self.app, tenant).await {
            Ok(connections) => connections,
            Err(error) => return Handled::retry(error),
        };
        let mut pushed = Vec::new();
        for (platform, change) in changes {
            let external_id = current.deployed.get(&platform).cloned().unwrap_or_default();
            let resources = current
                .resources
                .get(&platform)
                .cloned()
                .unwrap_or_default();
            let result = match self
                .platforms
                .account(tenant.0, platform, connections.get(&platform))
                .await
            {
                Ok(account) => self
                    .platforms
                    .gateway(platform)
                    .push(
                        &account,
                        &external_id,
                        &resources,
                        &change,
                        &current.currency,
                    )
                    .await
                    .map(|_| ()),
                Err(error) => Err(error),
            };
            match result {
                Ok(()) => pushed.push(PushedChange {
                    platform,
                    change,
                    applied: true,
                    error: None,
                }),
                // Pushes set a value, so pushing again is harmless: retry while it may help.
                Err(error) if error.retryable() && !last => return Handled::retry(error),
                Err(error) => {
                    tracing::warn!(%campaign_id, platform = platform.as_str(), %error, "change not applied");
                    pushed.push(PushedChange {
                        platform,
                        change,
                        applied: false,
                        error: Some(crate::reason(&error)),
                    })
                }
            }
        }
        let cause = Cause {
            tenant: tenant.0,
            event_id: request.event_id,
            correlation_id: request.correlation_id,
        };
        let command = CampaignCommand::RecordPlatformChanges {
            cause: request.event_id,
            changes: pushed,
        };
        match submit::<Campaign>(&self.app, ACTOR, cause, campaign_id, command, true).await {
            Ok(_) | Err(AppError::Rejected(_)) => Handled::Done,
            Err(error) => Handled::retry(error),
        }
    }
}
