//! The Campaign aggregate: its whole lifecycle as a state machine, its budget and schedule, and the
//! structure it deploys. Every illegal transition is rejected with a typed reason.

pub mod brief;
mod commands;
mod events;
mod performance;
mod proposals;
mod rules;
mod state;
mod tuning;
mod values;

pub use commands::{CampaignCommand, CreateCampaign};
pub use events::*;
pub use performance::{PerformanceReported, PerformanceRow, MAX_ROWS_PER_REPORT};
pub use proposals::{Guardrails, ProposalState, ProposalStatus, ProposedAction};
pub use rules::{planned_spend_micros, SUPPORTED_CURRENCIES};
pub use state::CampaignState;
pub use tuning::BudgetTarget;
pub use values::{CampaignStatus, Objective, Platform};

use rules::{change_schedule, check_new_budget, check_structure, validate_create};

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

fn one(event: CampaignEvent) -> Result<Vec<CampaignEvent>, Rejection> {
    Ok(vec![event])
}

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
        let editable = [
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
        match command {
            C::Create(_) => Err(Rejection::AlreadyExists { kind: "campaign" }),
            C::Rename { name } => {
                if state.status == S::Archived {
                    return Err(illegal(state, command));
                }
                let mut violations = Violations::new();
                let name = required_line(name, "name", NAME_MAX_CHARS, &mut violations);
                let events = if name == state.name {
                    vec![]
                } else {
                    vec![E::Renamed(CampaignRenamed { name })]
                };
                violations.into_result(events).map_err(Rejection::Invalid)
            }
            C::ChangeBudget {
                total_budget_micros,
            } => {
                allowed(state, command, &editable)?;
                let mut violations = Violations::new();
                check_new_budget(
                    state,
                    *total_budget_micros,
                    "totalBudgetMicros",
                    &mut violations,
                );
                let events = if *total_budget_micros == state.total_budget_micros {
                    vec![]
                } else {
                    vec![E::BudgetChanged(CampaignBudgetChanged {
                        total_budget_micros: *total_budget_micros,
                    })]
                };
                violations.into_result(events).map_err(Rejection::Invalid)
            }
            C::ChangeSchedule {
                start_date,
                end_date,
            } => {
                allowed(state, command, &editable)?;
                change_schedule(state, start_date, end_date, today)
            }
            C::AttachSegment {
                audience_id,
                segment_id,
                segment_size,
            } => {
                allowed(
                    state,
                    command,
                    &[
                        S::Draft,
                        S::StructureRequested,
                        S::StructurePreview,
                        S::Rejected,
                        S::Approved,
                    ],
                )?;
                if state.segments.contains(&(*audience_id, *segment_id)) {
                    return Ok(vec![]);
                }
                let mut violations = Violations::new();
                let needed = state
                    .platforms
                    .iter()
                    .map(|p| crate::platform_rules::min_audience_size(*p))
                    .max()
                    .unwrap_or(0);
                match segment_size {
                    None => violations.push(
                        "segmentId",
                        "size_unknown",
                        "estimate the segment's size before targeting it",
                    ),
                    Some(size) if *size < needed => violations.push(
                        "segmentId",
                        "audience_too_small",
                        format!("{size} members; the campaign's platforms need at least {needed}"),
                    ),
                    Some(_) => {}
                }
                violations
                    .into_result(vec![E::SegmentAttached(SegmentAttached {
                        audience_id: *audience_id,
                        segment_id: *segment_id,
                        estimated_size: segment_size.unwrap_or(0),
                    })])
                    .map_err(Rejection::Invalid)
            }
            C::RequestStructure {
                request_id,
                instructions,
                template,
                brief,
            } => {
                allowed(state, command, &[S::Draft, S::Rejected])?;
                let mut violations = Violations::new();
                let seed = template.as_deref().map(|key| {
                    let found = crate::templates::template(key);
                    if found.is_none() {
                        let known: Vec<_> =
                            crate::templates::TEMPLATES.iter().map(|t| t.key).collect();
                        violations.push(
                            "template",
                            "unknown_value",
                            format!("must be one of {}", known.join(", ")),
                        );
                    }
                    (key.to_owned(), found.map(|t| t.brief.to_owned()))
                });
                let instructions = instructions.as_deref().map(|text| {
                    required_line(
                        text,
                        "instructions",
                        INSTRUCTIONS_MAX_CHARS,
                        &mut violations,
                    )
                });
                let brief = brief
                    .as_ref()
                    .map(|brief| brief.validated("brief", &mut violations));
                violations
                    .into_result(vec![E::StructureRequested(StructureGenerationRequested {
                        request_id: *request_id,
                        instructions,
                        template: seed.as_ref().map(|(key, _)| key.clone()),
                        template_brief: seed.and_then(|(_, brief)| brief),
                        brief,
                    })])
                    .map_err(Rejection::Invalid)
            }
            C::AttachGeneratedStructure {
                request_id,
                model_version,
                structure,
                guardrails,
            } => {
                allowed(state, command, &[S::StructureRequested])?;
                if state.pending_request != Some(*request_id) {
                    return Err(stale_request());
                }
                let mut violations = Violations::new();
                let model_version = required_line(
                    model_version,
                    "modelVersion",
                    NAME_MAX_CHARS,
                    &mut violations,
                );
                if !violations.is_empty() {
                    return Err(Rejection::Invalid(violations));
                }
                let warnings = check_structure(state, structure, guardrails)?;
                one(E::StructureGenerated(StructureGenerated {
                    request_id: *request_id,
                    model_version,
                    structure: structure.clone(),
                    warnings,
                }))
            }
            C::FailStructureGeneration { request_id, reason } => {
                allowed(state, command, &[S::StructureRequested])?;
                if state.pending_request != Some(*request_id) {
                    return Err(stale_request());
                }
                let mut violations = Violations::new();
                let reason = required_line(reason, "reason", REASON_MAX_CHARS, &mut violations);
                violations
                    .into_result(vec![E::StructureGenerationFailed(
                        StructureGenerationFailed {
                            request_id: *request_id,
                            reason,
                        },
                    )])
                    .map_err(Rejection::Invalid)
            }
            C::EditStructure {
                structure,
                guardrails,
            } => {
                allowed(state, command, &[S::StructurePreview, S::Rejected])?;
                let warnings = check_structure(state, structure, guardrails)?;
                one(E::StructureEdited(StructureEdited {
                    structure: structure.clone(),
                    warnings,
                }))
            }
            C::ApproveStructure => {
                allowed(state, command, &[S::StructurePreview])?;
                one(E::StructureApproved(StructureApproved {}))
            }
            C::RejectStructure { reasons } => {
                allowed(state, command, &[S::StructurePreview])?;
                let mut violations = Violations::new();
                if reasons.is_empty() {
                    violations.push(
                        "reasons",
                        "required",
                        "say why, so the next structure can be better",
                    );
                }
                let reasons: Vec<String> = reasons
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        required_line(
                            r,
                            &format!("reasons/{i}"),
                            REASON_MAX_CHARS,
                            &mut violations,
                        )
                    })
                    .collect();
                violations
                    .into_result(vec![E::StructureRejected(StructureRejected { reasons })])
                    .map_err(Rejection::Invalid)
            }
            C::RequestDeployment => {
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
            C::RecordDeployment {
                platform,
                external_id,
            } => {
                allowed(state, command, &[S::DeploymentRequested])?;
                let mut violations = Violations::new();
                check_pending(state, *platform, &mut violations);
                let external_id =
                    required_line(external_id, "externalId", NAME_MAX_CHARS, &mut violations);
                let mut events = vec![E::DeployedToPlatform(DeployedToPlatform {
                    platform: *platform,
                    external_id,
                })];
                if state.undeployed_platforms() == [*platform] {
                    events.push(E::Deployed(Transitioned {}));
                }
                violations.into_result(events).map_err(Rejection::Invalid)
            }
            C::RecordDeploymentFailure {
                platform,
                reason,
                retryable,
            } => {
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
            C::ProposeOptimisation {
                proposal_id,
                action,
                reason,
                confidence_basis_points,
                model_version,
                guardrails,
            } => {
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
                if proposals::within_guardrails(
                    state,
                    action,
                    *confidence_basis_points,
                    guardrails,
                    today,
                ) {
                    events.push(E::ProposalApplied(ProposalApplied {
                        proposal_id: *proposal_id,
                        automatic: true,
                        applied_on: today,
                    }));
                    events.extend(effects);
                }
                Ok(events)
            }
            C::ApproveProposal { proposal_id } | C::DeclineProposal { proposal_id, .. } => {
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
                        let reason =
                            required_line(reason, "reason", REASON_MAX_CHARS, &mut violations);
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
            C::ReportPerformance(report) => {
                if state.reported.contains(&report.report_id) {
                    return Ok(vec![]);
                }
                performance::check_report(state, report)?;
                one(E::PerformanceReported(report.clone()))
            }
            C::Activate => {
                allowed(state, command, &[S::Deployed])?;
                one(E::Activated(Transitioned {}))
            }
            C::Pause => {
                allowed(state, command, &[S::Active])?;
                one(E::Paused(Transitioned {}))
            }
            C::Resume => {
                allowed(state, command, &[S::Paused])?;
                one(E::Resumed(Transitioned {}))
            }
            C::Complete => {
                allowed(state, command, &[S::Active, S::Paused])?;
                one(E::Completed(Transitioned {}))
            }
            C::Archive => {
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
                    segments: vec![],
                    proposals: Default::default(),
                    budget_day: None,
                    reported: Default::default(),
                    retryable_failure: false,
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
                CampaignState { deployed, ..state }
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
