//! Optimisation proposals: made (and applied at once when within the tenant's guardrails),
//! approved or declined.

use super::*;
use chrono::NaiveDate;
use uuid::Uuid;
use CampaignCommand as C;
use CampaignEvent as E;

#[allow(clippy::too_many_arguments)] // one argument per field of the command
pub(super) fn propose(
    state: &CampaignState,
    command: &CampaignCommand,
    proposal_id: &Uuid,
    action: &ProposedAction,
    reason: &str,
    confidence_basis_points: &u32,
    model_version: &str,
    guardrails: &Guardrails,
    today: NaiveDate,
) -> Decision {
    allowed(state, command, &[S::Deployed, S::Active, S::Paused])?;
    if state.proposals.contains_key(proposal_id) {
        return Err(Rejection::AlreadyExists { kind: "proposal" });
    }
    let mut violations = Violations::new();
    let reason = required_line(reason, "reason", REASON_MAX_CHARS, &mut violations);
    let model_version = required_line(
        model_version,
        "modelVersion",
        NAME_MAX_CHARS,
        &mut violations,
    );
    if *confidence_basis_points > 10_000 {
        violations.push(
            "confidenceBasisPoints",
            "too_large",
            "at most 10000 (certain)",
        );
    }
    if !violations.is_empty() {
        return Err(Rejection::Invalid(violations));
    }
    // A proposal that could not be carried out now is refused now.
    let effects = proposals::effect(state, action)?;
    let mut events = vec![E::OptimisationProposed(OptimisationProposed {
        proposal_id: *proposal_id,
        action: action.clone(),
        reason,
        confidence_basis_points: *confidence_basis_points,
        model_version,
    })];
    if proposals::within_guardrails(state, action, *confidence_basis_points, guardrails, today) {
        events.push(E::ProposalApplied(ProposalApplied {
            proposal_id: *proposal_id,
            automatic: true,
            applied_on: today,
        }));
        events.extend(effects);
    }
    Ok(events)
}

pub(super) fn answer_proposal(
    state: &CampaignState,
    command: &CampaignCommand,
    proposal_id: &Uuid,
    today: NaiveDate,
) -> Decision {
    let proposal = state
        .proposals
        .get(proposal_id)
        .ok_or(Rejection::NotFound { kind: "proposal" })?;
    if proposal.status != ProposalStatus::Pending {
        return Err(Rejection::IllegalTransition {
            kind: "proposal",
            command: command.name(),
            status: match proposal.status {
                ProposalStatus::Applied => "APPLIED",
                _ => "DECLINED",
            },
        });
    }
    match command {
        C::DeclineProposal { reason, .. } => {
            let mut violations = Violations::new();
            let reason = required_line(reason, "reason", REASON_MAX_CHARS, &mut violations);
            violations
                .into_result(vec![E::ProposalDeclined(ProposalDeclined {
                    proposal_id: *proposal_id,
                    reason,
                })])
                .map_err(Rejection::Invalid)
        }
        _ => {
            let mut events = vec![E::ProposalApplied(ProposalApplied {
                proposal_id: *proposal_id,
                automatic: false,
                applied_on: today,
            })];
            events.extend(proposals::effect(state, &proposal.action)?);
            Ok(events)
        }
    }
}
