//! The Campaign aggregate: its whole lifecycle as a state machine, its budget and schedule, and the
//! structure it deploys. Every illegal transition is rejected with a typed reason.

mod commands;
mod events;
mod state;
mod values;

pub use commands::{CampaignCommand, CreateCampaign};
pub use events::*;
pub use state::CampaignState;
pub use values::{CampaignStatus, Objective, Platform};

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::structure::{self, CampaignStructure};
use crate::text::required_line;
use crate::violation::{Violation, Violations};
use chrono::{DateTime, NaiveDate, Utc};
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

fn check_budget(micros: i64, path: &str, violations: &mut Violations) {
    if micros <= 0 {
        violations.push(path, "not_positive", "must be greater than zero");
    } else if micros > MAX_TOTAL_BUDGET_MICROS {
        violations.push(
            path,
            "too_large",
            format!("must be at most {MAX_TOTAL_BUDGET_MICROS} micros"),
        );
    }
}

fn parse_date(value: &str, path: &str, violations: &mut Violations) -> Option<NaiveDate> {
    let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok();
    if parsed.is_none() {
        violations.push(path, "invalid_date", "must be a date written YYYY-MM-DD");
    }
    parsed
}

/// What a structure would spend over the whole schedule at its daily budgets, in micros.
pub fn planned_spend_micros(
    structure: &CampaignStructure,
    start: NaiveDate,
    end: NaiveDate,
) -> i128 {
    let days = i128::from((end - start).num_days() + 1).max(0);
    let google = structure
        .google
        .iter()
        .map(|g| i128::from(g.daily_budget_micros));
    let linkedin = structure.linkedin.iter().flat_map(|l| {
        l.campaigns
            .iter()
            .map(|c| i128::from(c.daily_budget_micros))
    });
    google.chain(linkedin).sum::<i128>() * days
}

fn check_fits_budget(
    structure: &CampaignStructure,
    total_budget_micros: i64,
    start: NaiveDate,
    end: NaiveDate,
    path: &str,
    violations: &mut Violations,
) {
    let planned = planned_spend_micros(structure, start, end);
    if planned > i128::from(total_budget_micros) {
        violations.push(
            path,
            "over_budget",
            format!("the daily budgets over the schedule add up to {planned} micros, above the total of {total_budget_micros}"),
        );
    }
}

/// A structure a campaign may hold: one part per campaign platform and none other, no platform
/// error, within the total budget over the schedule. Returns the warnings it still carries.
fn check_structure(
    state: &CampaignState,
    structure: &CampaignStructure,
) -> Result<Vec<Violation>, Rejection> {
    let report = structure::validate(structure);
    let mut violations = Violations::new();
    for violation in report.errors.iter() {
        let path = if violation.path.is_empty() {
            "structure".to_owned()
        } else {
            format!("structure/{}", violation.path)
        };
        violations.push(path, &violation.code, violation.message.clone());
    }
    for (platform, present, key) in [
        (
            Platform::Google,
            structure.google.is_some(),
            "structure/google",
        ),
        (
            Platform::Linkedin,
            structure.linkedin.is_some(),
            "structure/linkedin",
        ),
    ] {
        let wanted = state.platforms.contains(&platform);
        if wanted && !present {
            violations.push(
                key,
                "required",
                format!("the campaign runs on {}", platform.as_str()),
            );
        } else if present && !wanted {
            violations.push(
                key,
                "unexpected_platform",
                format!("the campaign does not run on {}", platform.as_str()),
            );
        }
    }
    check_fits_budget(
        structure,
        state.total_budget_micros,
        state.start_date,
        state.end_date,
        "structure",
        &mut violations,
    );
    violations
        .into_result(report.warnings.into_vec())
        .map_err(Rejection::Invalid)
}

fn validate_create(
    command: &CreateCampaign,
    today: NaiveDate,
) -> Result<CampaignCreated, Rejection> {
    let mut violations = Violations::new();
    let name = required_line(&command.name, "name", NAME_MAX_CHARS, &mut violations);

    let objective = Objective::parse(&command.objective);
    if objective.is_none() {
        let allowed: Vec<_> = Objective::ALL.iter().map(|o| o.as_str()).collect();
        violations.push(
            "objective",
            "unknown_value",
            format!("must be one of {}", allowed.join(", ")),
        );
    }

    let mut platforms = Vec::new();
    if command.platforms.is_empty() {
        violations.push("platforms", "required", "must name at least one platform");
    }
    for (index, raw) in command.platforms.iter().enumerate() {
        let path = format!("platforms/{index}");
        match Platform::parse(raw) {
            None => violations.push(path, "unknown_value", "must be LINKEDIN or GOOGLE"),
            Some(p) if platforms.contains(&p) => {
                violations.push(path, "duplicate", "is listed twice")
            }
            Some(p) => platforms.push(p),
        }
    }

    check_budget(
        command.total_budget_micros,
        "totalBudgetMicros",
        &mut violations,
    );

    let start = parse_date(&command.start_date, "startDate", &mut violations);
    let end = parse_date(&command.end_date, "endDate", &mut violations);
    if let Some(start) = start {
        if start < today {
            violations.push(
                "startDate",
                "in_the_past",
                format!("must not be before today ({today})"),
            );
        }
    }
    if let (Some(start), Some(end)) = (start, end) {
        if end < start {
            violations.push("endDate", "before_start", "must not be before startDate");
        }
    }

    match (objective, start, end) {
        (Some(objective), Some(start_date), Some(end_date)) if violations.is_empty() => {
            Ok(CampaignCreated {
                campaign_id: command.campaign_id,
                tenant_id: command.tenant_id,
                name,
                objective,
                platforms,
                total_budget_micros: command.total_budget_micros,
                start_date,
                end_date,
            })
        }
        _ => Err(Rejection::Invalid(violations)),
    }
}

fn change_schedule(
    state: &CampaignState,
    start: &str,
    end: &str,
    today: NaiveDate,
) -> Result<Vec<CampaignEvent>, Rejection> {
    let mut violations = Violations::new();
    let start = parse_date(start, "startDate", &mut violations);
    let end = parse_date(end, "endDate", &mut violations);
    let running = matches!(state.status, S::Active | S::Paused);
    if let Some(start) = start.filter(|s| *s != state.start_date) {
        if running {
            violations.push(
                "startDate",
                "already_started",
                "a running campaign keeps its start date",
            );
        } else if start < today {
            violations.push(
                "startDate",
                "in_the_past",
                format!("must not be before today ({today})"),
            );
        }
    }
    if let Some(end) = end.filter(|e| *e != state.end_date && *e < today) {
        violations.push(
            "endDate",
            "in_the_past",
            format!("must not be before today ({end} < {today})"),
        );
    }
    if let (Some(start), Some(end)) = (start, end) {
        if end < start {
            violations.push("endDate", "before_start", "must not be before startDate");
        }
        if let Some(structure) = &state.structure {
            check_fits_budget(
                structure,
                state.total_budget_micros,
                start,
                end,
                "endDate",
                &mut violations,
            );
        }
    }
    match (start, end) {
        (Some(start_date), Some(end_date)) if violations.is_empty() => {
            if (start_date, end_date) == (state.start_date, state.end_date) {
                Ok(vec![])
            } else {
                Ok(vec![CampaignEvent::ScheduleChanged(
                    CampaignScheduleChanged {
                        start_date,
                        end_date,
                    },
                )])
            }
        }
        _ => Err(Rejection::Invalid(violations)),
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
                check_budget(*total_budget_micros, "totalBudgetMicros", &mut violations);
                if let Some(structure) = &state.structure {
                    check_fits_budget(
                        structure,
                        *total_budget_micros,
                        state.start_date,
                        state.end_date,
                        "totalBudgetMicros",
                        &mut violations,
                    );
                }
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
                violations
                    .into_result(vec![E::StructureRequested(StructureGenerationRequested {
                        request_id: *request_id,
                        instructions,
                        template: seed.as_ref().map(|(key, _)| key.clone()),
                        template_brief: seed.and_then(|(_, brief)| brief),
                    })])
                    .map_err(Rejection::Invalid)
            }
            C::AttachGeneratedStructure {
                request_id,
                model_version,
                structure,
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
                let warnings = check_structure(state, structure)?;
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
            C::EditStructure { structure } => {
                allowed(state, command, &[S::StructurePreview, S::Rejected])?;
                let warnings = check_structure(state, structure)?;
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
                if !state.undeployed_platforms().contains(platform) {
                    violations.push(
                        "platform",
                        "not_pending",
                        "this platform is not awaiting deployment",
                    );
                }
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
                if !state.undeployed_platforms().contains(platform) {
                    violations.push(
                        "platform",
                        "not_pending",
                        "this platform is not awaiting deployment",
                    );
                }
                let reason = required_line(reason, "reason", REASON_MAX_CHARS, &mut violations);
                violations
                    .into_result(vec![E::DeploymentFailed(DeploymentFailed {
                        platform: *platform,
                        reason,
                        retryable: *retryable,
                    })])
                    .map_err(Rejection::Invalid)
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
                    total_budget_micros: e.total_budget_micros,
                    start_date: e.start_date,
                    end_date: e.end_date,
                    status: S::Draft,
                    structure: None,
                    pending_request: None,
                    deployed: Default::default(),
                    segments: vec![],
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
