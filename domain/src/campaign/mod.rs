//! The Campaign aggregate: its whole lifecycle as a state machine, its budget and schedule, and the
//! structure it deploys. Every illegal transition is rejected with a typed reason.

pub mod brief;
mod commands;
mod creatives;
mod deployment;
mod events;
mod generation;
mod performance;
mod platform_sync;
mod proposals;
mod proposing;
mod rules;
mod settings;
mod state;
mod tuning;
mod values;

pub use commands::{CampaignCommand, CreateCampaign};
pub use events::*;
pub(crate) use performance::check_report;
pub use performance::{
    Granularity, PerformanceReported, PerformanceRow, ReportFacts, MAX_ROWS_PER_REPORT,
};
pub use platform_sync::{
    platform_changes, ExternalResource, PlatformChange, PlatformChangesPushed, PushedChange,
    MAX_RESOURCES,
};
pub use proposals::{
    within as within_daily_change, Guardrails, ProposalState, ProposalStatus, ProposedAction,
};
pub use rules::{planned_spend_micros, SUPPORTED_CURRENCIES};
pub use state::CampaignState;
pub use tuning::{max_cpc_of as tuning_max_cpc, BudgetTarget};
pub use values::{CampaignStatus, Objective, Platform};

use rules::validate_create;

use crate::aggregate::{Aggregate, HistoryError, Rejection};

use crate::text::required_line;
use crate::violation::Violations;
use chrono::{DateTime, Utc};
use CampaignStatus as S;

pub const NAME_MAX_CHARS: usize = 255;
pub const INSTRUCTIONS_MAX_CHARS: usize = 2_000;
pub const REASON_MAX_CHARS: usize = 1_000;
/// One billion in the account currency: far above any real campaign, low enough that sums of many
/// budgets stay far from `i64::MAX` micros.
pub const MAX_TOTAL_BUDGET_MICROS: i64 = 1_000_000_000 * 1_000_000;

pub struct Campaign;

fn illegal(state: &CampaignState, command: &CampaignCommand) -> Rejection {
    Rejection::IllegalTransition {
        kind: "campaign",
        command: command.name(),
        status: state.status.as_str(),
    }
}

/// The state machine's edges: `command` is only possible in `statuses`.
fn allowed(
    state: &CampaignState,
    command: &CampaignCommand,
    statuses: &[CampaignStatus],
) -> Result<(), Rejection> {
    if statuses.contains(&state.status) {
        Ok(())
    } else {
        Err(illegal(state, command))
    }
}

/// Deployment results are only taken for platforms still awaiting theirs.
fn check_pending(state: &CampaignState, platform: Platform, violations: &mut Violations) {
    if !state.undeployed_platforms().contains(&platform) {
        violations.push(
            "platform",
            "not_pending",
            "this platform is not awaiting deployment",
        );
    }
}

fn one(event: CampaignEvent) -> Decision {
    Ok(vec![event])
}

/// What `decide` answers: the events to append, or why not.
type Decision = Result<Vec<CampaignEvent>, Rejection>;

/// Where a campaign's settings (name, budget, schedule) may still change.
const EDITABLE: [CampaignStatus; 9] = [
    S::Draft,
    S::StructureRequested,
    S::StructurePreview,
    S::Approved,
    S::Rejected,
    S::Deployed,
    S::DeploymentFailed,
    S::Active,
    S::Paused,
];

impl Aggregate for Campaign {
    type State = CampaignState;
    type Command = CampaignCommand;
    type Event = CampaignEvent;
    const CATEGORY: &'static str = "campaign";

    fn decide(
        state: Option<&CampaignState>,
        command: &CampaignCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<CampaignEvent>, Rejection> {
        use CampaignCommand as C;
        use CampaignEvent as E;
        let today = now.date_naive();
        let state = match (state, command) {
            (Some(_), C::Create(_)) => return Err(Rejection::AlreadyExists { kind: "campaign" }),
            (None, C::Create(create)) => {
                return validate_create(create, today).map(|c| vec![E::Created(c)])
            }
            (None, _) => return Err(Rejection::NotFound { kind: "campaign" }),
            (Some(state), _) => state,
        };
        match command {
            C::Create(_) => Err(Rejection::AlreadyExists { kind: "campaign" }),
            C::Rename { name } => settings::rename(state, command, name),
            C::ChangeBudget {
                total_budget_micros,
            } => settings::change_budget(state, command, total_budget_micros),
            C::ChangeSchedule {
                start_date,
                end_date,
            } => settings::change_schedule(state, command, start_date, end_date, today),
            C::AttachSegment {
                audience_id,
                segment_id,
                segment_size,
            } => settings::attach_segment(state, command, audience_id, segment_id, segment_size),
            C::RequestStructure {
                request_id,
                instructions,
                template,
                brief,
            } => generation::request_structure(
                state,
                command,
                request_id,
                instructions,
                template,
                brief,
            ),
            C::AttachGeneratedStructure {
                request_id,
                model_version,
                structure,
                guardrails,
            } => generation::attach_generated_structure(
                state,
                command,
                request_id,
                model_version,
                structure,
                guardrails,
            ),
            C::FailStructureGeneration { request_id, reason } => {
                generation::fail_structure_generation(state, command, request_id, reason)
            }
            C::EditStructure {
                structure,
                guardrails,
            } => generation::edit_structure(state, command, structure, guardrails),
            C::ApproveStructure => generation::approve_structure(state, command),
            C::RejectStructure { reasons } => generation::reject_structure(state, command, reasons),
            C::RequestDeployment => deployment::request_deployment(state, command),
            C::RecordDeployment {
                platform,
                external_id,
                resources,
            } => deployment::record_deployment(state, command, platform, external_id, resources),
            C::RecordPlatformChanges { cause, changes } => {
                platform_sync::record_platform_changes(state, command, cause, changes)
            }
            C::RecordDeploymentFailure {
                platform,
                reason,
                retryable,
            } => deployment::record_deployment_failure(state, command, platform, reason, retryable),
            C::ProposeOptimisation {
                proposal_id,
                action,
                reason,
                confidence_basis_points,
                model_version,
                guardrails,
            } => proposing::propose(
                state,
                command,
                proposal_id,
                action,
                reason,
                confidence_basis_points,
                model_version,
                guardrails,
                today,
            ),
            C::ApproveProposal { proposal_id } | C::DeclineProposal { proposal_id, .. } => {
                proposing::answer_proposal(state, command, proposal_id, today)
            }
            C::Activate => deployment::activate(state, command),
            C::Pause => deployment::pause(state, command),
            C::Resume => deployment::resume(state, command),
            C::Complete => deployment::complete(state, command),
            C::Archive => deployment::archive(state, command),
        }
    }

    fn evolve(
        state: Option<CampaignState>,
        event: &CampaignEvent,
    ) -> Result<CampaignState, HistoryError> {
        use CampaignEvent as E;
        let impossible = |reason| HistoryError {
            kind: "campaign",
            reason,
        };
        let state = match (state, event) {
            (None, E::Created(e)) => {
                return Ok(CampaignState {
                    id: e.campaign_id,
                    tenant_id: e.tenant_id,
                    name: e.name.clone(),
                    objective: e.objective,
                    platforms: e.platforms.clone(),
                    currency: e.currency.clone(),
                    total_budget_micros: e.total_budget_micros,
                    start_date: e.start_date,
                    end_date: e.end_date,
                    status: S::Draft,
                    structure: None,
                    pending_request: None,
                    deployed: Default::default(),
                    resources: Default::default(),
                    segments: vec![],
                    proposals: Default::default(),
                    budget_day: None,
                    reported: Default::default(),
                    retryable_failure: false,
                    paused_creatives: Default::default(),
                })
            }
            (Some(_), E::Created(_)) => return Err(impossible("created twice")),
            (None, _) => return Err(impossible("changed before it was created")),
            (Some(state), _) => state,
        };
        let status = event.status_after().unwrap_or(state.status);
        Ok(match event {
            E::Created(_) => return Err(impossible("created twice")),
            E::Renamed(e) => CampaignState {
                name: e.name.clone(),
                ..state
            },
            E::BudgetChanged(e) => CampaignState {
                total_budget_micros: e.total_budget_micros,
                ..state
            },
            E::ScheduleChanged(e) => CampaignState {
                start_date: e.start_date,
                end_date: e.end_date,
                ..state
            },
            // Written before reports had their own streams; still folded so that a resend of such
            // a report is recognised.
            E::PerformanceReported(e) => {
                let mut reported = state.reported.clone();
                reported.insert(e.report_id);
                CampaignState { reported, ..state }
            }
            E::StructureTuned(e) => CampaignState {
                structure: Some(e.structure.clone()),
                ..state
            },
            E::OptimisationProposed(e) => {
                let mut proposals = state.proposals.clone();
                proposals.insert(
                    e.proposal_id,
                    ProposalState {
                        action: e.action.clone(),
                        status: ProposalStatus::Pending,
                    },
                );
                CampaignState { proposals, ..state }
            }
            E::ProposalApplied(e) => {
                let mut proposals = state.proposals.clone();
                let proposal = proposals
                    .get_mut(&e.proposal_id)
                    .ok_or(impossible("applied a proposal never made"))?;
                proposal.status = ProposalStatus::Applied;
                let budget_day = match (&proposal.action, state.budget_day) {
                    (ProposedAction::ChangeBudget { .. }, Some((day, baseline)))
                        if day == e.applied_on =>
                    {
                        Some((day, baseline))
                    }
                    (ProposedAction::ChangeBudget { .. }, _) if e.automatic => {
                        Some((e.applied_on, state.total_budget_micros))
                    }
                    _ => state.budget_day,
                };
                CampaignState {
                    proposals,
                    budget_day,
                    ..state
                }
            }
            E::ProposalDeclined(e) => {
                let mut proposals = state.proposals.clone();
                let proposal = proposals
                    .get_mut(&e.proposal_id)
                    .ok_or(impossible("declined a proposal never made"))?;
                proposal.status = ProposalStatus::Declined;
                CampaignState { proposals, ..state }
            }
            E::SegmentAttached(e) => {
                let mut segments = state.segments.clone();
                segments.push((e.audience_id, e.segment_id));
                CampaignState { segments, ..state }
            }
            E::StructureRequested(e) => CampaignState {
                status,
                pending_request: Some(e.request_id),
                ..state
            },
            E::StructureGenerated(e) => CampaignState {
                status,
                structure: Some(e.structure.clone()),
                pending_request: None,
                ..state
            },
            E::StructureGenerationFailed(_) => CampaignState {
                status,
                pending_request: None,
                ..state
            },
            E::StructureEdited(e) => CampaignState {
                status,
                structure: Some(e.structure.clone()),
                ..state
            },
            E::DeployedToPlatform(e) => {
                let mut deployed = state.deployed.clone();
                deployed.insert(e.platform, e.external_id.clone());
                let mut resources = state.resources.clone();
                if !e.resources.is_empty() {
                    resources.insert(e.platform, e.resources.clone());
                }
                CampaignState {
                    deployed,
                    resources,
                    ..state
                }
            }
            E::PlatformChangesPushed(_) => state,
            E::CreativePaused(e) => {
                let mut paused_creatives = state.paused_creatives.clone();
                paused_creatives.insert((e.platform, e.path.clone()));
                CampaignState {
                    paused_creatives,
                    ..state
                }
            }
            E::DeploymentFailed(e) => CampaignState {
                status,
                retryable_failure: e.retryable,
                ..state
            },
            E::StructureApproved(_)
            | E::StructureRejected(_)
            | E::DeploymentRequested(_)
            | E::Deployed(_)
            | E::Activated(_)
            | E::Resumed(_)
            | E::Paused(_)
            | E::Completed(_)
            | E::Archived(_) => CampaignState { status, ..state },
        })
    }
}

fn stale_request() -> Rejection {
    let mut violations = Violations::new();
    violations.push(
        "requestId",
        "stale_request",
        "this is not the structure request the campaign is waiting for",
    );
    Rejection::Invalid(violations)
}
