//! Deployment to the platforms and the running states after it.

use super::*;
use CampaignEvent as E;
use CampaignStatus as S;

pub(super) fn request_deployment(state: &CampaignState, command: &CampaignCommand) -> Decision {
    allowed(state, command, &[S::Approved, S::DeploymentFailed])?;
    if state.status == S::DeploymentFailed && !state.retryable_failure {
        return Err(Rejection::IllegalTransition {
            kind: "campaign",
            command: "retry a non-retryable deployment of",
            status: state.status.as_str(),
        });
    }
    one(E::DeploymentRequested(DeploymentRequested {
        platforms: state.undeployed_platforms(),
    }))
}

pub(super) fn record_deployment(
    state: &CampaignState,
    command: &CampaignCommand,
    platform: &Platform,
    external_id: &str,
    resources: &[ExternalResource],
) -> Decision {
    allowed(state, command, &[S::DeploymentRequested])?;
    let mut violations = Violations::new();
    check_pending(state, *platform, &mut violations);
    let external_id = required_line(external_id, "externalId", NAME_MAX_CHARS, &mut violations);
    super::platform_sync::check_resources(resources, &mut violations);
    let mut events = vec![E::DeployedToPlatform(DeployedToPlatform {
        platform: *platform,
        external_id,
        resources: resources.to_vec(),
    })];
    if state.undeployed_platforms() == [*platform] {
        events.push(E::Deployed(Transitioned {}));
    }
    violations.into_result(events).map_err(Rejection::Invalid)
}

pub(super) fn record_deployment_failure(
    state: &CampaignState,
    command: &CampaignCommand,
    platform: &Platform,
    reason: &str,
    retryable: &bool,
) -> Decision {
    allowed(state, command, &[S::DeploymentRequested])?;
    let mut violations = Violations::new();
    check_pending(state, *platform, &mut violations);
    let reason = required_line(reason, "reason", REASON_MAX_CHARS, &mut violations);
    violations
        .into_result(vec![E::DeploymentFailed(DeploymentFailed {
            platform: *platform,
            reason,
            retryable: *retryable,
        })])
        .map_err(Rejection::Invalid)
}

pub(super) fn activate(state: &CampaignState, command: &CampaignCommand) -> Decision {
    allowed(state, command, &[S::Deployed])?;
    one(E::Activated(Transitioned {}))
}

pub(super) fn pause(state: &CampaignState, command: &CampaignCommand) -> Decision {
    allowed(state, command, &[S::Active])?;
    one(E::Paused(Transitioned {}))
}

pub(super) fn resume(state: &CampaignState, command: &CampaignCommand) -> Decision {
    allowed(state, command, &[S::Paused])?;
    one(E::Resumed(Transitioned {}))
}

pub(super) fn complete(state: &CampaignState, command: &CampaignCommand) -> Decision {
    allowed(state, command, &[S::Active, S::Paused])?;
    one(E::Completed(Transitioned {}))
}

pub(super) fn archive(state: &CampaignState, command: &CampaignCommand) -> Decision {
    allowed(
        state,
        command,
        &[
            S::Draft,
            S::StructurePreview,
            S::Approved,
            S::Rejected,
            S::DeploymentFailed,
            S::Completed,
        ],
    )?;
    one(E::Archived(Transitioned {}))
}
