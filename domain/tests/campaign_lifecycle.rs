//! The campaign's lifecycle, as rules a product person can review.

mod common;

use adflow_domain::aggregate::Aggregate;
use adflow_domain::campaign::*;
use adflow_domain::performance::{
    CampaignPerformance, PerformanceCommand, PerformanceEvent, PerformanceRecorded,
    PerformanceRestated,
};
use adflow_domain::scenario::Scenario;
use adflow_domain::structure::CampaignStructure;
use adflow_domain::{CampaignId, Rejection, TenantId};
use chrono::NaiveDate;
use common::*;
use proptest::prelude::*;
use uuid::Uuid;

const REQUEST: Uuid = Uuid::from_u128(77);

fn created() -> CampaignEvent {
    CampaignEvent::Created(CampaignCreated {
        campaign_id: CampaignId(Uuid::from_u128(1)),
        tenant_id: TenantId(Uuid::from_u128(2)),
        name: "Q1 pipeline".into(),
        objective: Objective::LeadGeneration,
        platforms: vec![Platform::Google, Platform::Linkedin],
        currency: "EUR".into(),
        // 30 days at 50 + 100 currency units per day = 4,500 units.
        total_budget_micros: 5_000_000_000,
        start_date: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
        end_date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
    })
}

fn structure() -> CampaignStructure {
    CampaignStructure {
        google: Some(google()),
        linkedin: Some(linkedin()),
    }
}

fn requested() -> CampaignEvent {
    CampaignEvent::StructureRequested(StructureGenerationRequested {
        request_id: REQUEST,
        instructions: None,
        template: None,
        template_brief: None,
        brief: None,
    })
}

fn generated() -> CampaignEvent {
    CampaignEvent::StructureGenerated(StructureGenerated {
        request_id: REQUEST,
        model_version: "structure-gen 0.1.0".into(),
        structure: structure(),
        warnings: vec![],
    })
}

fn t() -> Transitioned {
    Transitioned {}
}

fn approved() -> Vec<CampaignEvent> {
    vec![
        created(),
        requested(),
        generated(),
        CampaignEvent::StructureApproved(StructureApproved {}),
    ]
}

fn deploying() -> Vec<CampaignEvent> {
    let mut history = approved();
    history.push(CampaignEvent::DeploymentRequested(DeploymentRequested {
        platforms: vec![Platform::Google, Platform::Linkedin],
    }));
    history
}

fn active() -> Vec<CampaignEvent> {
    let mut history = deploying();
    history.extend([
        CampaignEvent::DeployedToPlatform(DeployedToPlatform {
            platform: Platform::Google,
            external_id: "customers/1/campaigns/2".into(),
            resources: vec![],
        }),
        CampaignEvent::DeployedToPlatform(DeployedToPlatform {
            platform: Platform::Linkedin,
            external_id: "urn:li:sponsoredCampaignGroup:3".into(),
            resources: vec![],
        }),
        CampaignEvent::Deployed(t()),
        CampaignEvent::Activated(t()),
    ]);
    history
}

fn status_of(history: &[CampaignEvent]) -> CampaignStatus {
    Campaign::fold(history.iter()).unwrap().unwrap().status
}

#[test]
fn the_happy_path_from_draft_to_archived() {
    let attach = CampaignCommand::AttachGeneratedStructure {
        request_id: REQUEST,
        model_version: "structure-gen 0.1.0".into(),
        structure: structure(),
        guardrails: Guardrails::default(),
    };
    Scenario::<Campaign>::given(vec![created()])
        .when(CampaignCommand::RequestStructure {
            request_id: REQUEST,
            instructions: None,
            template: None,
            brief: None,
        })
        .then(vec![requested()]);
    Scenario::<Campaign>::given(vec![created(), requested()])
        .when(attach)
        .then(vec![generated()]);
    Scenario::<Campaign>::given(vec![created(), requested(), generated()])
        .when(CampaignCommand::ApproveStructure)
        .then(vec![CampaignEvent::StructureApproved(StructureApproved {})]);
    Scenario::<Campaign>::given(approved())
        .when(CampaignCommand::RequestDeployment)
        .then(deploying()[4..].to_vec());

    let mut history = deploying();
    history.extend(
        Scenario::<Campaign>::given(history.clone())
            .when(CampaignCommand::RecordDeployment {
                platform: Platform::Google,
                external_id: "customers/1/campaigns/2".into(),
                resources: vec![],
            })
            .into_result()
            .unwrap(),
    );
    assert_eq!(
        status_of(&history),
        CampaignStatus::DeploymentRequested,
        "one platform to go"
    );
    let last = Scenario::<Campaign>::given(history.clone())
        .when(CampaignCommand::RecordDeployment {
            platform: Platform::Linkedin,
            external_id: "urn:li:sponsoredCampaignGroup:3".into(),
            resources: vec![],
        })
        .into_result()
        .unwrap();
    assert_eq!(
        last.last(),
        Some(&CampaignEvent::Deployed(t())),
        "the last platform completes the deployment"
    );
    history.extend(last);
    assert_eq!(status_of(&history), CampaignStatus::Deployed);

    for (command, status) in [
        (CampaignCommand::Activate, CampaignStatus::Active),
        (CampaignCommand::Pause, CampaignStatus::Paused),
        (CampaignCommand::Resume, CampaignStatus::Active),
        (CampaignCommand::Complete, CampaignStatus::Completed),
        (CampaignCommand::Archive, CampaignStatus::Archived),
    ] {
        history.extend(
            Scenario::<Campaign>::given(history.clone())
                .when(command)
                .into_result()
                .unwrap(),
        );
        assert_eq!(status_of(&history), status);
    }
}

#[test]
fn a_rejected_structure_is_revised_by_hand_or_generated_again() {
    let mut history = vec![created(), requested(), generated()];
    Scenario::<Campaign>::given(history.clone())
        .when(CampaignCommand::RejectStructure { reasons: vec![] })
        .then_violations(&[("reasons", "required")]);
    history.push(CampaignEvent::StructureRejected(StructureRejected {
        reasons: vec!["Too broad".into()],
    }));
    assert_eq!(status_of(&history), CampaignStatus::Rejected);

    let mut edited = structure();
    edited.google.as_mut().unwrap().campaign.name = "Q1 Search (narrow)".into();
    let events = Scenario::<Campaign>::given(history.clone())
        .when(CampaignCommand::EditStructure {
            structure: edited.clone(),
            guardrails: Guardrails::default(),
        })
        .into_result()
        .unwrap();
    assert_eq!(
        events,
        vec![CampaignEvent::StructureEdited(StructureEdited {
            structure: edited,
            warnings: vec![]
        })]
    );

    let again = Uuid::from_u128(78);
    history.extend(
        Scenario::<Campaign>::given(history.clone())
            .when(CampaignCommand::RequestStructure {
                request_id: again,
                instructions: Some("Exclude students".into()),
                template: None,
                brief: None,
            })
            .into_result()
            .unwrap(),
    );
    Scenario::<Campaign>::given(history.clone())
        .when(CampaignCommand::AttachGeneratedStructure {
            request_id: REQUEST,
            model_version: "m".into(),
            structure: structure(),
            guardrails: Guardrails::default(),
        })
        .then_violations(&[("requestId", "stale_request")]);
    history.extend(
        Scenario::<Campaign>::given(history.clone())
            .when(CampaignCommand::FailStructureGeneration {
                request_id: again,
                reason: "model timed out".into(),
            })
            .into_result()
            .unwrap(),
    );
    assert_eq!(status_of(&history), CampaignStatus::Draft);
}

#[test]
fn illegal_transitions_are_rejected_with_the_current_status() {
    let cases: Vec<(Vec<CampaignEvent>, CampaignCommand, &str)> = vec![
        (vec![created()], CampaignCommand::ApproveStructure, "DRAFT"),
        (vec![created()], CampaignCommand::RequestDeployment, "DRAFT"),
        (vec![created()], CampaignCommand::Activate, "DRAFT"),
        (
            vec![created(), requested()],
            CampaignCommand::RequestStructure {
                request_id: REQUEST,
                instructions: None,
                template: None,
                brief: None,
            },
            "STRUCTURE_REQUESTED",
        ),
        (
            vec![created(), requested(), generated()],
            CampaignCommand::RequestDeployment,
            "STRUCTURE_PREVIEW",
        ),
        (
            approved(),
            CampaignCommand::EditStructure {
                structure: structure(),
                guardrails: Guardrails::default(),
            },
            "APPROVED",
        ),
        (
            deploying(),
            CampaignCommand::Archive,
            "DEPLOYMENT_REQUESTED",
        ),
        (active(), CampaignCommand::Activate, "ACTIVE"),
        (active(), CampaignCommand::Resume, "ACTIVE"),
        (active(), CampaignCommand::Archive, "ACTIVE"),
        (
            active(),
            CampaignCommand::RequestStructure {
                request_id: REQUEST,
                instructions: None,
                template: None,
                brief: None,
            },
            "ACTIVE",
        ),
    ];
    for (history, command, status) in cases {
        let name = command.name();
        let result = Scenario::<Campaign>::given(history)
            .when(command)
            .into_result();
        assert_eq!(
            result,
            Err(Rejection::IllegalTransition {
                kind: "campaign",
                command: name,
                status
            }),
            "{name}"
        );
    }
    let mut archived = active();
    archived.extend([CampaignEvent::Completed(t()), CampaignEvent::Archived(t())]);
    for command in [
        CampaignCommand::Rename { name: "x".into() },
        CampaignCommand::ChangeBudget {
            total_budget_micros: 1,
        },
    ] {
        assert!(matches!(
            Scenario::<Campaign>::given(archived.clone())
                .when(command)
                .into_result(),
            Err(Rejection::IllegalTransition {
                status: "ARCHIVED",
                ..
            })
        ));
    }
}

#[test]
fn a_structure_must_match_the_platforms_and_fit_the_budget() {
    let mut google_only = structure();
    google_only.linkedin = None;
    google_only.google.as_mut().unwrap().daily_budget_micros = 500_000_000;
    Scenario::<Campaign>::given(vec![created(), requested()])
        .when(CampaignCommand::AttachGeneratedStructure {
            request_id: REQUEST,
            model_version: "m".into(),
            structure: google_only,
            guardrails: Guardrails::default(),
        })
        .then_violations(&[
            ("structure/linkedin", "required"),
            ("structure", "over_budget"),
        ]);

    let mut broken = structure();
    broken.google.as_mut().unwrap().ad_groups[0].ads[0]
        .headlines
        .truncate(2);
    Scenario::<Campaign>::given(vec![created(), requested()])
        .when(CampaignCommand::AttachGeneratedStructure {
            request_id: REQUEST,
            model_version: " ".into(),
            structure: broken.clone(),
            guardrails: Guardrails::default(),
        })
        .then_violations(&[("modelVersion", "required")]);
    Scenario::<Campaign>::given(vec![created(), requested()])
        .when(CampaignCommand::AttachGeneratedStructure {
            request_id: REQUEST,
            model_version: "m".into(),
            structure: broken,
            guardrails: Guardrails::default(),
        })
        .then_violations(&[("structure/google/adGroups/0/ads/0/headlines", "wrong_count")]);

    // Once a structure is planned, the budget cannot drop below what it would spend.
    Scenario::<Campaign>::given(vec![created(), requested(), generated()])
        .when(CampaignCommand::ChangeBudget {
            total_budget_micros: 4_000_000_000,
        })
        .then_violations(&[("totalBudgetMicros", "over_budget")]);
}

#[test]
fn deployment_failures_are_retried_only_when_retryable() {
    let mut history = deploying();
    history.push(CampaignEvent::DeploymentFailed(DeploymentFailed {
        platform: Platform::Linkedin,
        reason: "rate limited".into(),
        retryable: true,
    }));
    Scenario::<Campaign>::given(history.clone())
        .when(CampaignCommand::RequestDeployment)
        .then(vec![CampaignEvent::DeploymentRequested(
            DeploymentRequested {
                platforms: vec![Platform::Google, Platform::Linkedin],
            },
        )]);
    history.push(CampaignEvent::DeploymentFailed(DeploymentFailed {
        platform: Platform::Linkedin,
        reason: "policy violation".into(),
        retryable: false,
    }));
    assert!(matches!(
        Scenario::<Campaign>::given(history)
            .when(CampaignCommand::RequestDeployment)
            .into_result(),
        Err(Rejection::IllegalTransition {
            status: "DEPLOYMENT_FAILED",
            ..
        })
    ));
    Scenario::<Campaign>::given(deploying())
        .when(CampaignCommand::RecordDeployment {
            platform: Platform::Google,
            external_id: "".into(),
            resources: vec![],
        })
        .then_violations(&[("externalId", "required")]);
}

#[test]
fn a_running_campaign_keeps_its_start_date_but_may_run_longer() {
    let now = Scenario::<Campaign>::default_now();
    Scenario::<Campaign>::given(active())
        .at(now)
        .when(CampaignCommand::ChangeSchedule {
            start_date: "2026-02-02".into(),
            end_date: "2026-03-02".into(),
        })
        .then_violations(&[("startDate", "already_started")]);
    Scenario::<Campaign>::given(active())
        .when(CampaignCommand::ChangeSchedule {
            start_date: "2026-02-01".into(),
            end_date: "2026-03-01".into(),
        })
        .then(vec![CampaignEvent::ScheduleChanged(
            CampaignScheduleChanged {
                start_date: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
                end_date: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap(),
            },
        )]);
    // Longer at the same daily budgets would overspend the total.
    Scenario::<Campaign>::given(active())
        .when(CampaignCommand::ChangeSchedule {
            start_date: "2026-02-01".into(),
            end_date: "2026-04-30".into(),
        })
        .then_violations(&[("endDate", "over_budget")]);
}

fn any_command() -> impl Strategy<Value = CampaignCommand> {
    prop_oneof![
        Just(CampaignCommand::RequestStructure {
            request_id: REQUEST,
            instructions: None,
            template: None,
            brief: None,
        }),
        Just(CampaignCommand::AttachGeneratedStructure {
            request_id: REQUEST,
            model_version: "m".into(),
            structure: structure(),
            guardrails: Guardrails::default(),
        }),
        Just(CampaignCommand::FailStructureGeneration {
            request_id: REQUEST,
            reason: "r".into()
        }),
        Just(CampaignCommand::EditStructure {
            structure: structure(),
            guardrails: Guardrails::default(),
        }),
        Just(CampaignCommand::ApproveStructure),
        Just(CampaignCommand::RejectStructure {
            reasons: vec!["no".into()]
        }),
        Just(CampaignCommand::RequestDeployment),
        prop::sample::select(vec![Platform::Google, Platform::Linkedin]).prop_map(|platform| {
            CampaignCommand::RecordDeployment {
                platform,
                external_id: "x".into(),
                resources: vec![],
            }
        }),
        (
            prop::sample::select(vec![Platform::Google, Platform::Linkedin]),
            any::<bool>()
        )
            .prop_map(
                |(platform, retryable)| CampaignCommand::RecordDeploymentFailure {
                    platform,
                    reason: "r".into(),
                    retryable
                }
            ),
        Just(CampaignCommand::Activate),
        Just(CampaignCommand::Pause),
        Just(CampaignCommand::Resume),
        Just(CampaignCommand::Complete),
        Just(CampaignCommand::Archive),
        (1i64..10_000_000_000).prop_map(|total_budget_micros| CampaignCommand::ChangeBudget {
            total_budget_micros
        }),
        (0u64..60).prop_map(|days| CampaignCommand::ChangeSchedule {
            start_date: "2026-02-01".into(),
            end_date: (NaiveDate::from_ymd_opt(2026, 2, 1).unwrap() + chrono::Days::new(days))
                .to_string(),
        }),
    ]
}

proptest! {
    /// Any sequence of commands: the accepted events replay to the same state, every status is the
    /// one the events name, and a planned structure never outspends the total budget.
    #[test]
    fn any_command_sequence_keeps_the_invariants(commands in prop::collection::vec(any_command(), 0..40)) {
        let now = Scenario::<Campaign>::default_now();
        let mut history = vec![created()];
        let mut state = Campaign::fold(history.iter()).unwrap();
        for command in commands {
            if let Ok(events) = Campaign::decide(state.as_ref(), &command, now) {
                for event in &events {
                    state = Some(Campaign::evolve(state, event).unwrap());
                }
                history.extend(events);
            }
            let current = state.as_ref().unwrap();
            if let Some(structure) = &current.structure {
                prop_assert!(planned_spend_micros(structure, current.start_date, current.end_date) <= i128::from(current.total_budget_micros));
            }
            let named = history.iter().rev().find_map(CampaignEvent::status_after);
            prop_assert_eq!(Some(current.status), named);
        }
        prop_assert_eq!(Campaign::fold(history.iter()).unwrap(), state);
    }
}

#[test]
fn a_segment_below_the_platforms_minimum_cannot_be_targeted() {
    let (audience, segment) = (Uuid::from_u128(5), Uuid::from_u128(6));
    let attach = |size| CampaignCommand::AttachSegment {
        audience_id: audience,
        segment_id: segment,
        segment_size: size,
    };
    // Google (1,000) is the stricter of the campaign's two platforms.
    Scenario::<Campaign>::given(vec![created()])
        .when(attach(Some(999)))
        .then_violations(&[("segmentId", "audience_too_small")]);
    Scenario::<Campaign>::given(vec![created()])
        .when(attach(None))
        .then_violations(&[("segmentId", "size_unknown")]);
    let attached = CampaignEvent::SegmentAttached(SegmentAttached {
        audience_id: audience,
        segment_id: segment,
        estimated_size: 1_000,
    });
    Scenario::<Campaign>::given(vec![created()])
        .when(attach(Some(1_000)))
        .then(vec![attached.clone()]);
    Scenario::<Campaign>::given(vec![created(), attached])
        .when(attach(Some(5_000)))
        .then(vec![]);
    assert!(matches!(
        Scenario::<Campaign>::given(active())
            .when(attach(Some(5_000)))
            .into_result(),
        Err(Rejection::IllegalTransition {
            status: "ACTIVE",
            ..
        })
    ));
}

#[test]
fn a_template_seeds_the_structure_request_with_its_brief() {
    let events = Scenario::<Campaign>::given(vec![created()])
        .when(CampaignCommand::RequestStructure {
            request_id: REQUEST,
            instructions: None,
            template: Some("webinar-promotion".into()),
            brief: None,
        })
        .into_result()
        .unwrap();
    let CampaignEvent::StructureRequested(requested) = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(requested.template.as_deref(), Some("webinar-promotion"));
    assert!(requested
        .template_brief
        .as_deref()
        .unwrap()
        .contains("Registrations"));
    Scenario::<Campaign>::given(vec![created()])
        .when(CampaignCommand::RequestStructure {
            request_id: REQUEST,
            instructions: Some(" ".into()),
            template: Some("nope".into()),
            brief: None,
        })
        .then_violations(&[("template", "unknown_value"), ("instructions", "required")]);
}

const PROPOSAL: Uuid = Uuid::from_u128(300);

fn on() -> Guardrails {
    Guardrails {
        auto_apply: true,
        min_confidence_basis_points: 8_000,
        max_daily_budget_change_basis_points: 2_000,
        max_daily_spend_micros: None,
    }
}

fn propose(action: ProposedAction, confidence: u32, guardrails: Guardrails) -> CampaignCommand {
    CampaignCommand::ProposeOptimisation {
        proposal_id: PROPOSAL,
        action,
        reason: "CPA 40 % under target for 7 days".into(),
        confidence_basis_points: confidence,
        model_version: "budget-optimiser 0.1.0".into(),
        guardrails,
    }
}

fn proposed(action: ProposedAction, confidence: u32) -> CampaignEvent {
    CampaignEvent::OptimisationProposed(OptimisationProposed {
        proposal_id: PROPOSAL,
        action,
        reason: "CPA 40 % under target for 7 days".into(),
        confidence_basis_points: confidence,
        model_version: "budget-optimiser 0.1.0".into(),
    })
}

fn applied(automatic: bool) -> CampaignEvent {
    CampaignEvent::ProposalApplied(ProposalApplied {
        proposal_id: PROPOSAL,
        automatic,
        applied_on: Scenario::<Campaign>::default_now().date_naive(),
    })
}

fn budget(micros: i64) -> ProposedAction {
    ProposedAction::ChangeBudget {
        total_budget_micros: micros,
    }
}

#[test]
fn a_proposal_within_the_guardrails_applies_itself() {
    // +20 % of 5,000 currency units is the edge of the guardrail.
    Scenario::<Campaign>::given(active())
        .when(propose(budget(6_000_000_000), 9_000, on()))
        .then(vec![
            proposed(budget(6_000_000_000), 9_000),
            applied(true),
            CampaignEvent::BudgetChanged(CampaignBudgetChanged {
                total_budget_micros: 6_000_000_000,
            }),
        ]);
    Scenario::<Campaign>::given(active())
        .when(propose(ProposedAction::Pause, 9_000, on()))
        .then(vec![
            proposed(ProposedAction::Pause, 9_000),
            applied(true),
            CampaignEvent::Paused(t()),
        ]);
}

#[test]
fn a_proposal_outside_the_guardrails_waits_for_a_person() {
    for (action, confidence, guardrails) in [
        (budget(6_000_000_001), 9_000, on()), // more than +20 %
        (budget(6_000_000_000), 7_999, on()), // not confident enough
        (budget(6_000_000_000), 9_000, Guardrails::default()), // tenant did not opt in
    ] {
        Scenario::<Campaign>::given(active())
            .when(propose(action.clone(), confidence, guardrails))
            .then(vec![proposed(action, confidence)]);
    }
    let mut paused = active();
    paused.push(CampaignEvent::Paused(t()));
    Scenario::<Campaign>::given(paused)
        .when(propose(ProposedAction::Resume, 10_000, on()))
        .then(vec![proposed(ProposedAction::Resume, 10_000)]);
}

#[test]
fn the_daily_guardrail_counts_from_the_budget_the_day_started_with() {
    let mut history = active();
    history.extend([
        proposed(budget(6_000_000_000), 9_000),
        applied(true),
        CampaignEvent::BudgetChanged(CampaignBudgetChanged {
            total_budget_micros: 6_000_000_000,
        }),
    ]);
    // Another +10 % on top would be +32 % on the day: it waits.
    let second = CampaignCommand::ProposeOptimisation {
        proposal_id: Uuid::from_u128(301),
        action: budget(6_600_000_000),
        reason: "still under target".into(),
        confidence_basis_points: 9_500,
        model_version: "budget-optimiser 0.1.0".into(),
        guardrails: on(),
    };
    let events = Scenario::<Campaign>::given(history.clone())
        .when(second)
        .into_result()
        .unwrap();
    assert_eq!(events.len(), 1, "only proposed: {events:?}");
    // The next day the baseline is the new budget.
    let tomorrow = Scenario::<Campaign>::default_now() + chrono::Days::new(1);
    let third = CampaignCommand::ProposeOptimisation {
        proposal_id: Uuid::from_u128(302),
        action: budget(6_600_000_000),
        reason: "still under target".into(),
        confidence_basis_points: 9_500,
        model_version: "budget-optimiser 0.1.0".into(),
        guardrails: on(),
    };
    let events = Scenario::<Campaign>::given(history)
        .at(tomorrow)
        .when(third)
        .into_result()
        .unwrap();
    assert_eq!(events.len(), 3, "applied the next day: {events:?}");
}

#[test]
fn people_approve_or_decline_and_every_proposal_stays_in_history() {
    let mut history = active();
    history.push(proposed(budget(9_000_000_000), 6_000));
    Scenario::<Campaign>::given(history.clone())
        .when(CampaignCommand::ApproveProposal {
            proposal_id: PROPOSAL,
        })
        .then(vec![
            applied(false),
            CampaignEvent::BudgetChanged(CampaignBudgetChanged {
                total_budget_micros: 9_000_000_000,
            }),
        ]);
    Scenario::<Campaign>::given(history.clone())
        .when(CampaignCommand::DeclineProposal {
            proposal_id: PROPOSAL,
            reason: "Q1 budget is fixed".into(),
        })
        .then(vec![CampaignEvent::ProposalDeclined(ProposalDeclined {
            proposal_id: PROPOSAL,
            reason: "Q1 budget is fixed".into(),
        })]);
    history.push(CampaignEvent::ProposalDeclined(ProposalDeclined {
        proposal_id: PROPOSAL,
        reason: "no".into(),
    }));
    assert_eq!(
        Scenario::<Campaign>::given(history.clone())
            .when(CampaignCommand::ApproveProposal {
                proposal_id: PROPOSAL
            })
            .into_result(),
        Err(Rejection::IllegalTransition {
            kind: "proposal",
            command: "apply a proposal to",
            status: "DECLINED"
        })
    );
    let state = Campaign::fold(history.iter()).unwrap().unwrap();
    assert_eq!(state.proposals[&PROPOSAL].status, ProposalStatus::Declined);
    Scenario::<Campaign>::given(history)
        .when(CampaignCommand::ApproveProposal {
            proposal_id: Uuid::from_u128(999),
        })
        .then_rejected(Rejection::NotFound { kind: "proposal" });
}

#[test]
fn a_proposal_that_could_not_be_carried_out_is_refused() {
    Scenario::<Campaign>::given(active())
        .when(propose(ProposedAction::Resume, 9_000, on()))
        .then_rejected(Rejection::IllegalTransition {
            kind: "campaign",
            command: "resume",
            status: "ACTIVE",
        });
    Scenario::<Campaign>::given(active())
        .when(propose(budget(1_000), 9_000, on()))
        .then_violations(&[("action/totalBudgetMicros", "over_budget")]);
    Scenario::<Campaign>::given(vec![created()])
        .when(propose(ProposedAction::Pause, 9_000, on()))
        .then_rejected(Rejection::IllegalTransition {
            kind: "campaign",
            command: "propose an optimisation for",
            status: "DRAFT",
        });
}

#[test]
fn a_structure_may_not_plan_to_spend_faster_than_the_tenant_allows() {
    // The structure plans 50 + 100 currency units a day.
    let capped = Guardrails {
        max_daily_spend_micros: Some(149_000_000),
        ..Guardrails::default()
    };
    Scenario::<Campaign>::given(vec![created(), requested()])
        .when(CampaignCommand::AttachGeneratedStructure {
            request_id: REQUEST,
            model_version: "m".into(),
            structure: structure(),
            guardrails: capped,
        })
        .then_violations(&[("structure", "over_spend_rate")]);
    let enough = Guardrails {
        max_daily_spend_micros: Some(150_000_000),
        ..Guardrails::default()
    };
    Scenario::<Campaign>::given(vec![created(), requested(), generated()])
        .when(CampaignCommand::EditStructure {
            structure: structure(),
            guardrails: enough,
        })
        .then(vec![CampaignEvent::StructureEdited(StructureEdited {
            structure: structure(),
            warnings: vec![],
        })]);
}

fn google_target() -> BudgetTarget {
    BudgetTarget {
        platform: Platform::Google,
        linkedin_campaign: 0,
    }
}

fn linkedin_target() -> BudgetTarget {
    BudgetTarget {
        platform: Platform::Linkedin,
        linkedin_campaign: 0,
    }
}

fn daily_total(history: &[CampaignEvent]) -> i128 {
    let state = Campaign::fold(history.iter()).unwrap().unwrap();
    planned_spend_micros(
        state.structure.as_ref().unwrap(),
        state.start_date,
        state.start_date,
    )
}

#[test]
fn structure_tuning_proposals_change_the_running_structure() {
    use adflow_domain::structure::google::{Keyword, MatchType};
    // A negative keyword only narrows the audience: it applies itself.
    let negative = ProposedAction::AddNegativeKeyword {
        keyword: Keyword {
            text: "jobs".into(),
            match_type: MatchType::Phrase,
        },
    };
    let events = Scenario::<Campaign>::given(active())
        .when(propose(negative, 9_000, on()))
        .into_result()
        .unwrap();
    assert!(
        matches!(events.last(), Some(CampaignEvent::StructureTuned(_))),
        "{events:?}"
    );
    // The sample structure bids Maximize Conversions: there is no manual CPC to change.
    Scenario::<Campaign>::given(active())
        .when(propose(
            ProposedAction::ChangeMaxCpc {
                max_cpc_micros: 2_000_000,
            },
            9_000,
            on(),
        ))
        .then_violations(&[("action", "not_manual_cpc")]);
    // Shifting 10 of Google's 50 a day to LinkedIn is within ±20 % of the source: automatic.
    let shift = ProposedAction::ShiftDailyBudget {
        from: google_target(),
        to: linkedin_target(),
        micros: 10_000_000,
    };
    let events = Scenario::<Campaign>::given(active())
        .when(propose(shift, 9_000, on()))
        .into_result()
        .unwrap();
    assert_eq!(events.len(), 3, "{events:?}");
    let mut history = active();
    let before = daily_total(&history);
    history.extend(events);
    assert_eq!(
        daily_total(&history),
        before,
        "the daily total is conserved"
    );
    // Leaving LinkedIn under its 10-a-day minimum is refused like any invalid structure.
    let drain = ProposedAction::ShiftDailyBudget {
        from: linkedin_target(),
        to: google_target(),
        micros: 95_000_000,
    };
    Scenario::<Campaign>::given(active())
        .when(propose(drain, 9_000, on()))
        .then_violations(&[(
            "structure/linkedin/campaigns/0/dailyBudgetMicros",
            "below_minimum",
        )]);
}

proptest! {
    /// Money is conserved: any sequence of budget shifts, applied or refused, keeps the daily total.
    #[test]
    fn budget_shifts_conserve_the_daily_total(shifts in prop::collection::vec((any::<bool>(), 1i64..120_000_000), 0..20)) {
        let now = Scenario::<Campaign>::default_now();
        let mut history = active();
        let before = daily_total(&history);
        for (n, (to_google, micros)) in shifts.into_iter().enumerate() {
            let (from, to) = if to_google { (linkedin_target(), google_target()) } else { (google_target(), linkedin_target()) };
            let command = CampaignCommand::ProposeOptimisation {
                proposal_id: Uuid::from_u128(1_000 + n as u128),
                action: ProposedAction::ShiftDailyBudget { from, to, micros },
                reason: "rebalance".into(),
                confidence_basis_points: 10_000,
                model_version: "m".into(),
                guardrails: Guardrails { max_daily_budget_change_basis_points: 10_000, ..on() },
            };
            let state = Campaign::fold(history.iter()).unwrap();
            if let Ok(events) = Campaign::decide(state.as_ref(), &command, now) {
                history.extend(events);
            }
            prop_assert_eq!(daily_total(&history), before);
        }
    }
}

fn report(rows: Vec<PerformanceRow>) -> PerformanceReported {
    PerformanceReported {
        report_id: Uuid::from_u128(500),
        granularity: Default::default(),
        platform: Platform::Google,
        window_start: "2026-02-03T00:00:00Z".parse().unwrap(),
        window_end: "2026-02-04T00:00:00Z".parse().unwrap(),
        rows,
    }
}

fn row(hour: &str, impressions: i64, clicks: i64) -> PerformanceRow {
    PerformanceRow {
        hour: hour.parse().unwrap(),
        ad_group: Some("customers/1/adGroups/2".into()),
        ad: Some("customers/1/adGroupAds/2~3".into()),
        keyword: None,
        segment_id: None,
        impressions,
        clicks,
        conversions: 1,
        cost_micros: 2_500_000,
        revenue_micros: 0,
    }
}

/// What the campaign of `history` says to a report.
fn facts(history: &[CampaignEvent], report: &PerformanceReported) -> ReportFacts {
    Campaign::fold(history.iter())
        .unwrap()
        .unwrap()
        .report_facts(report.report_id)
}

fn record(history: &[CampaignEvent], report: PerformanceReported) -> PerformanceCommand {
    PerformanceCommand::Record {
        restate: false,
        campaign_id: Uuid::from_u128(7),
        campaign: facts(history, &report),
        report,
    }
}

fn recorded(report: PerformanceReported) -> PerformanceEvent {
    PerformanceEvent::Recorded(PerformanceRecorded {
        campaign_id: Uuid::from_u128(7),
        report,
    })
}

#[test]
fn performance_reports_are_checked_row_by_row_and_recorded_once() {
    let good = report(vec![
        row("2026-02-03T09:00:00Z", 1_000, 30),
        row("2026-02-03T10:00:00Z", 800, 12),
    ]);
    Scenario::<CampaignPerformance>::given(vec![])
        .when(record(&active(), good.clone()))
        .then(vec![recorded(good.clone())]);
    Scenario::<CampaignPerformance>::given(vec![recorded(good.clone())])
        .when(record(&active(), good.clone()))
        .then(vec![]);
    // A log written before day streams holds the report in the campaign's stream: still once.
    let mut legacy = active();
    legacy.push(CampaignEvent::PerformanceReported(good.clone()));
    Scenario::<CampaignPerformance>::given(vec![])
        .when(record(&legacy, good.clone()))
        .then(vec![]);

    let mut bad = report(vec![
        row("2026-02-03T09:30:00Z", 10, 11),
        PerformanceRow {
            cost_micros: -1,
            ..row("2026-02-05T00:00:00Z", 5, 1)
        },
    ]);
    bad.platform = Platform::Google;
    Scenario::<CampaignPerformance>::given(vec![])
        .when(record(&active(), bad))
        .then_violations(&[
            ("rows/0/hour", "not_an_hour"),
            ("rows/0/clicks", "more_than_impressions"),
            ("rows/1/hour", "outside_window"),
            ("rows/1/costMicros", "negative"),
        ]);
    let mut outside = report(vec![row("2026-05-01T00:00:00Z", 1, 0)]);
    outside.window_start = "2026-05-01T00:00:00Z".parse().unwrap();
    outside.window_end = "2026-05-02T00:00:00Z".parse().unwrap();
    Scenario::<CampaignPerformance>::given(vec![])
        .when(record(&active(), outside))
        .then_violations(&[("windowStart", "outside_schedule")]);
    assert!(matches!(
        Scenario::<CampaignPerformance>::given(vec![])
            .when(record(&[created()], report(vec![])))
            .into_result(),
        Err(Rejection::IllegalTransition {
            status: "DRAFT",
            ..
        })
    ));
}

#[test]
fn a_day_stream_sums_each_report_once_and_holds_one_campaign_platform_and_day() {
    let first = report(vec![
        row("2026-02-03T09:00:00Z", 1_000, 30),
        row("2026-02-03T10:00:00Z", 800, 12),
    ]);
    let second = PerformanceReported {
        report_id: Uuid::from_u128(501),
        granularity: Default::default(),
        ..report(vec![row("2026-02-03T11:00:00Z", 200, 2)])
    };
    let day = CampaignPerformance::fold(&[recorded(first.clone()), recorded(second.clone())])
        .unwrap()
        .unwrap();
    assert_eq!(day.reports.len(), 2);
    assert_eq!(
        (
            day.totals.impressions,
            day.totals.clicks,
            day.totals.cost_micros
        ),
        (2_000, 44, 7_500_000)
    );
    assert_eq!(
        first.day_stream_id(Uuid::from_u128(7)),
        second.day_stream_id(Uuid::from_u128(7)),
        "one campaign, platform and day: one stream"
    );
    let other_day = PerformanceReported {
        window_start: "2026-02-04T00:00:00Z".parse().unwrap(),
        window_end: "2026-02-05T00:00:00Z".parse().unwrap(),
        ..second.clone()
    };
    assert_ne!(
        first.day_stream_id(Uuid::from_u128(7)),
        other_day.day_stream_id(Uuid::from_u128(7))
    );
    assert_ne!(
        first.day_stream_id(Uuid::from_u128(7)),
        first.day_stream_id(Uuid::from_u128(8))
    );
    assert!(CampaignPerformance::fold(&[recorded(first), recorded(other_day)]).is_err());
}

fn sync(history: &[CampaignEvent], report: PerformanceReported) -> PerformanceCommand {
    match record(history, report) {
        PerformanceCommand::Record {
            campaign_id,
            campaign,
            report,
            ..
        } => PerformanceCommand::Record {
            campaign_id,
            campaign,
            report,
            restate: true,
        },
    }
}

#[test]
fn a_report_pulled_again_replaces_its_figures_and_records_only_the_change() {
    let first = report(vec![
        row("2026-02-03T09:00:00Z", 1_000, 30),
        row("2026-02-03T10:00:00Z", 800, 12),
    ]);
    // Late conversions on the 9 o'clock row; the 10 o'clock row is gone (invalid clicks removed).
    let mut late = first.clone();
    late.rows = vec![PerformanceRow {
        conversions: 4,
        revenue_micros: 90_000_000,
        ..row("2026-02-03T09:00:00Z", 1_000, 30)
    }];
    let history = vec![recorded(first.clone())];
    // The same figures again: nothing.
    Scenario::<CampaignPerformance>::given(history.clone())
        .when(sync(&active(), first.clone()))
        .then(vec![]);
    // Sent by hand with other figures: a resend, nothing (only the sync restates).
    Scenario::<CampaignPerformance>::given(history.clone())
        .when(record(&active(), late.clone()))
        .then(vec![]);
    let restated = PerformanceEvent::Restated(PerformanceRestated {
        campaign_id: Uuid::from_u128(7),
        report: late.clone(),
        changes: vec![
            PerformanceRow {
                conversions: 3,
                revenue_micros: 90_000_000,
                impressions: 0,
                clicks: 0,
                cost_micros: 0,
                ..row("2026-02-03T09:00:00Z", 0, 0)
            },
            PerformanceRow {
                impressions: -800,
                clicks: -12,
                conversions: -1,
                cost_micros: -2_500_000,
                revenue_micros: 0,
                ..row("2026-02-03T10:00:00Z", 0, 0)
            },
        ],
    });
    Scenario::<CampaignPerformance>::given(history.clone())
        .when(sync(&active(), late.clone()))
        .then(vec![restated.clone()]);
    let day = CampaignPerformance::fold(&[recorded(first), restated.clone()])
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            day.totals.impressions,
            day.totals.clicks,
            day.totals.conversions,
            day.totals.revenue_micros
        ),
        (1_000, 30, 4, 90_000_000),
        "the day holds the restated figures, not their sum with the first ones"
    );
    // Pulled a third time unchanged: nothing.
    Scenario::<CampaignPerformance>::given(vec![
        recorded(report(vec![
            row("2026-02-03T09:00:00Z", 1_000, 30),
            row("2026-02-03T10:00:00Z", 800, 12),
        ])),
        restated,
    ])
    .when(sync(&active(), late))
    .then(vec![]);
}

proptest! {
    /// However often a day is re-pulled, its totals are the last pull's, and the first rows plus
    /// every recorded change add up to them.
    #[test]
    fn restatements_add_up_to_the_last_pull(
        pulls in proptest::collection::vec(proptest::collection::btree_map(0u32..6, (0i64..500, 0i64..5), 1..6), 1..6)
    ) {
        let mut history: Vec<PerformanceEvent> = vec![];
        let mut sum = (0i64, 0i64);
        let mut last = (0i64, 0i64);
        for pull in pulls {
            let rows: Vec<PerformanceRow> = pull
                .iter()
                .map(|(h, (impressions, conversions))| PerformanceRow {
                    conversions: *conversions,
                    ..row(&format!("2026-02-03T{:02}:00:00Z", 9 + h), *impressions, 0)
                })
                .collect();
            last = (rows.iter().map(|r| r.impressions).sum(), rows.iter().map(|r| r.conversions).sum());
            let state = CampaignPerformance::fold(&history).unwrap();
            let events = CampaignPerformance::decide(state.as_ref(), &sync(&active(), report(rows)), chrono::Utc::now()).unwrap();
            for event in &events {
                let added: Vec<&PerformanceRow> = match event {
                    PerformanceEvent::Recorded(e) => e.report.rows.iter().collect(),
                    PerformanceEvent::Restated(e) => e.changes.iter().collect(),
                };
                sum.0 += added.iter().map(|r| r.impressions).sum::<i64>();
                sum.1 += added.iter().map(|r| r.conversions).sum::<i64>();
            }
            history.extend(events);
        }
        let day = CampaignPerformance::fold(&history).unwrap().unwrap();
        prop_assert_eq!((day.totals.impressions as i64, day.totals.conversions as i64), last);
        prop_assert_eq!(sum, last);
    }
}

#[test]
fn campaign_events_ask_the_deployed_platforms_for_the_matching_change() {
    let mut history = active();
    let before = Campaign::fold(history.iter()).unwrap().unwrap();
    assert_eq!(
        platform_changes(&before, &CampaignEvent::Paused(t())),
        vec![
            (Platform::Linkedin, PlatformChange::Pause),
            (Platform::Google, PlatformChange::Pause)
        ]
    );
    assert_eq!(
        platform_changes(
            &before,
            &CampaignEvent::Renamed(CampaignRenamed { name: "x".into() })
        ),
        vec![]
    );
    let mut tuned = before.structure.clone().unwrap();
    let google = tuned.google.as_mut().unwrap();
    google.daily_budget_micros += 10_000_000;
    google
        .negative_keywords
        .push(adflow_domain::structure::google::Keyword {
            text: "internship".into(),
            match_type: adflow_domain::structure::google::MatchType::Phrase,
        });
    tuned.linkedin.as_mut().unwrap().campaigns[0].daily_budget_micros = 70_000_000;
    let event = CampaignEvent::StructureTuned(StructureTuned {
        structure: tuned.clone(),
        warnings: vec![],
    });
    assert_eq!(
        platform_changes(&before, &event),
        vec![
            (
                Platform::Google,
                PlatformChange::DailyBudget {
                    daily_budget_micros: google_budget(&tuned),
                    campaign: None
                }
            ),
            (
                Platform::Google,
                PlatformChange::NegativeKeywords {
                    keywords: vec!["internship".into()]
                }
            ),
            (
                Platform::Linkedin,
                PlatformChange::DailyBudget {
                    daily_budget_micros: 70_000_000,
                    campaign: Some(0)
                }
            ),
        ]
    );
    // Not deployed on LinkedIn: LinkedIn hears nothing.
    history.retain(
        |e| !matches!(e, CampaignEvent::DeployedToPlatform(d) if d.platform == Platform::Linkedin),
    );
    let google_only = Campaign::fold(history.iter()).unwrap().unwrap();
    assert!(platform_changes(&google_only, &event)
        .iter()
        .all(|(p, _)| *p == Platform::Google));
}

fn google_budget(structure: &CampaignStructure) -> i64 {
    structure.google.as_ref().unwrap().daily_budget_micros
}

#[test]
fn platform_changes_are_recorded_for_deployed_platforms_only() {
    let cause = Uuid::from_u128(900);
    let pushed = vec![PushedChange {
        platform: Platform::Google,
        change: PlatformChange::Pause,
        applied: true,
        error: None,
    }];
    Scenario::<Campaign>::given(active())
        .when(CampaignCommand::RecordPlatformChanges {
            cause,
            changes: pushed.clone(),
        })
        .then(vec![CampaignEvent::PlatformChangesPushed(
            PlatformChangesPushed {
                cause,
                changes: pushed,
            },
        )]);
    let mut google_only = deploying();
    google_only.push(CampaignEvent::DeployedToPlatform(DeployedToPlatform {
        platform: Platform::Google,
        external_id: "customers/1/campaigns/2".into(),
        resources: vec![],
    }));
    google_only.push(CampaignEvent::DeploymentFailed(DeploymentFailed {
        platform: Platform::Linkedin,
        reason: "x".into(),
        retryable: true,
    }));
    assert!(matches!(
        Scenario::<Campaign>::given(google_only)
            .when(CampaignCommand::RecordPlatformChanges {
                cause,
                changes: vec![]
            })
            .into_result(),
        Err(Rejection::IllegalTransition { .. })
    ));
    Scenario::<Campaign>::given(active())
        .when(CampaignCommand::RecordPlatformChanges {
            cause,
            changes: vec![
                PushedChange {
                    platform: Platform::Google,
                    change: PlatformChange::Resume,
                    applied: true,
                    error: None
                };
                0
            ],
        })
        .then_violations(&[("changes", "required")]);
}

#[test]
fn a_deployment_records_every_resource_and_refuses_malformed_ones() {
    let resource = |path: &str, id: &str| ExternalResource {
        kind: "KEYWORD".into(),
        path: path.into(),
        external_id: id.into(),
    };
    let good = vec![resource(
        "/google/adGroups/0/keywords/0",
        "customers/1/adGroupCriteria/2~3",
    )];
    let history = {
        let mut h = deploying();
        h.push(CampaignEvent::DeployedToPlatform(DeployedToPlatform {
            platform: Platform::Linkedin,
            external_id: "urn:li:sponsoredCampaignGroup:3".into(),
            resources: vec![],
        }));
        h
    };
    let state = Scenario::<Campaign>::given(history.clone())
        .when(CampaignCommand::RecordDeployment {
            platform: Platform::Google,
            external_id: "customers/1/campaigns/2".into(),
            resources: good.clone(),
        })
        .into_result()
        .unwrap();
    assert!(matches!(&state[0], CampaignEvent::DeployedToPlatform(d) if d.resources == good));
    let mut all = history;
    all.extend(state);
    assert_eq!(
        Campaign::fold(all.iter()).unwrap().unwrap().resources[&Platform::Google],
        good
    );
    Scenario::<Campaign>::given(deploying())
        .when(CampaignCommand::RecordDeployment {
            platform: Platform::Google,
            external_id: "customers/1/campaigns/2".into(),
            resources: vec![resource("adGroups/0", ""), resource("/google", "x")],
        })
        .then_violations(&[
            ("resources/0/path", "invalid"),
            ("resources/0/externalId", "invalid"),
        ]);
}

#[test]
fn a_daily_budget_change_applies_itself_within_the_daily_limit_and_the_spend_rate_only() {
    let set = |micros: i64| ProposedAction::ChangeDailyBudget {
        target: google_target(),
        daily_budget_micros: micros,
    };
    let decided = |action: ProposedAction, guardrails: Guardrails| {
        Scenario::<Campaign>::given(active())
            .when(propose(action, 9_000, guardrails))
            .into_result()
            .unwrap()
    };
    // Google's 50 a day: 60 is +20 %, within; 61 is not, and waits for a person.
    let raised = decided(set(60_000_000), on());
    assert_eq!(raised.len(), 3, "{raised:?}");
    let mut history = active();
    let before = daily_total(&history);
    history.extend(raised);
    assert_eq!(daily_total(&history), before + 10_000_000);
    assert_eq!(decided(set(61_000_000), on()).len(), 1);
    // Lowering spend is always within.
    assert_eq!(decided(set(30_000_000), on()).len(), 3);
    // The tenant's spend rate holds even within the daily limit.
    let capped = Guardrails {
        max_daily_spend_micros: Some(i64::try_from(before).unwrap()),
        ..on()
    };
    assert_eq!(decided(set(60_000_000), capped).len(), 1);
    // A budget of nothing is refused outright.
    Scenario::<Campaign>::given(active())
        .when(propose(set(0), 9_000, on()))
        .then_violations(&[("action/dailyBudgetMicros", "not_positive")]);
}

/// A campaign live on LinkedIn with two creatives in its first campaign and one in its second.
fn with_creatives() -> Vec<CampaignEvent> {
    let mut history = deploying();
    let creative = |path: &str, id: &str| ExternalResource {
        kind: "CREATIVE".into(),
        path: path.into(),
        external_id: id.into(),
    };
    history.extend([
        CampaignEvent::DeployedToPlatform(DeployedToPlatform {
            platform: Platform::Google,
            external_id: "customers/1/campaigns/2".into(),
            resources: vec![],
        }),
        CampaignEvent::DeployedToPlatform(DeployedToPlatform {
            platform: Platform::Linkedin,
            external_id: "urn:li:sponsoredCampaignGroup:3".into(),
            resources: vec![
                // A sponsored creative's dark post shares its path.
                ExternalResource {
                    kind: "POST".into(),
                    path: "/linkedin/campaigns/0/creatives/1".into(),
                    external_id: "urn:li:share:99".into(),
                },
                creative(
                    "/linkedin/campaigns/0/creatives/0",
                    "urn:li:sponsoredCreative:10",
                ),
                creative(
                    "/linkedin/campaigns/0/creatives/1",
                    "urn:li:sponsoredCreative:11",
                ),
                creative(
                    "/linkedin/campaigns/1/creatives/0",
                    "urn:li:sponsoredCreative:20",
                ),
            ],
        }),
        CampaignEvent::Deployed(t()),
        CampaignEvent::Activated(t()),
    ]);
    history
}

#[test]
fn a_creative_pause_stops_one_deployed_creative_but_never_the_last_of_its_group() {
    let pause = |path: &str| ProposedAction::PauseCreative {
        platform: Platform::Linkedin,
        path: path.into(),
    };
    let events = Scenario::<Campaign>::given(with_creatives())
        .when(propose(
            pause("/linkedin/campaigns/0/creatives/1"),
            9_000,
            on(),
        ))
        .into_result()
        .unwrap();
    let paused = events.last().unwrap().clone();
    assert!(
        matches!(paused, CampaignEvent::CreativePaused(_)),
        "{events:?}"
    );
    // The platform is told to pause the creative by the id its deployment recorded.
    let before = Campaign::fold(with_creatives().iter()).unwrap().unwrap();
    assert_eq!(
        platform_changes(&before, &paused),
        vec![(
            Platform::Linkedin,
            PlatformChange::PauseCreative {
                external_id: "urn:li:sponsoredCreative:11".into()
            }
        )]
    );
    let mut history = with_creatives();
    history.extend(events);
    // Its sibling is now the last one serving; the second campaign's only creative too.
    for path in [
        "/linkedin/campaigns/0/creatives/0",
        "/linkedin/campaigns/1/creatives/0",
    ] {
        let mut proposal = propose(pause(path), 9_000, on());
        if let CampaignCommand::ProposeOptimisation { proposal_id, .. } = &mut proposal {
            *proposal_id = uuid::Uuid::from_u128(77);
        }
        Scenario::<Campaign>::given(history.clone())
            .when(proposal)
            .then_violations(&[("action/path", "last_creative")]);
    }
    let mut again = propose(pause("/linkedin/campaigns/0/creatives/1"), 9_000, on());
    if let CampaignCommand::ProposeOptimisation { proposal_id, .. } = &mut again {
        *proposal_id = uuid::Uuid::from_u128(78);
    }
    Scenario::<Campaign>::given(history)
        .when(again)
        .then_violations(&[("action/path", "already_paused")]);
    for (path, code) in [
        ("/linkedin/campaigns/0/creatives/9", "not_deployed"),
        ("/linkedin/campaigns/0", "not_a_creative"),
    ] {
        Scenario::<Campaign>::given(with_creatives())
            .when(propose(pause(path), 9_000, on()))
            .then_violations(&[("action/path", code)]);
    }
}
