use adflow_domain::aggregate::Aggregate;
use adflow_domain::campaign::*;
use adflow_domain::scenario::Scenario;
use adflow_domain::{CampaignId, DomainEvent, Rejection, TenantId};
use chrono::NaiveDate;
use proptest::prelude::*;
use uuid::Uuid;

fn create() -> CreateCampaign {
    CreateCampaign {
        campaign_id: CampaignId(Uuid::from_u128(1)),
        tenant_id: TenantId(Uuid::from_u128(2)),
        name: "  Q1 pipeline  ".into(),
        objective: "LEAD_GENERATION".into(),
        platforms: vec!["LINKEDIN".into(), "GOOGLE".into()],
        currency: "EUR".into(),
        total_budget_micros: 50_000_000_000,
        start_date: "2026-02-01".into(),
        end_date: "2026-03-31".into(),
    }
}

fn created() -> CampaignEvent {
    CampaignEvent::Created(CampaignCreated {
        campaign_id: CampaignId(Uuid::from_u128(1)),
        tenant_id: TenantId(Uuid::from_u128(2)),
        name: "Q1 pipeline".into(),
        objective: Objective::LeadGeneration,
        platforms: vec![Platform::Linkedin, Platform::Google],
        currency: "EUR".into(),
        total_budget_micros: 50_000_000_000,
        start_date: NaiveDate::from_ymd_opt(2026, 2, 1).unwrap(),
        end_date: NaiveDate::from_ymd_opt(2026, 3, 31).unwrap(),
    })
}

#[test]
fn a_valid_campaign_is_created_with_a_trimmed_name() {
    Scenario::<Campaign>::given(vec![])
        .when(CampaignCommand::Create(create()))
        .then(vec![created()]);
}

#[test]
fn creating_twice_is_rejected() {
    Scenario::<Campaign>::given(vec![created()])
        .when(CampaignCommand::Create(create()))
        .then_rejected(Rejection::AlreadyExists { kind: "campaign" });
}

#[test]
fn every_invalid_field_is_reported_at_once() {
    let command = CreateCampaign {
        name: " ".into(),
        objective: "WIN".into(),
        platforms: vec!["GOOGLE".into(), "TIKTOK".into(), "GOOGLE".into()],
        currency: "EUR".into(),
        total_budget_micros: 0,
        start_date: "2025-12-31".into(),
        end_date: "tomorrow".into(),
        ..create()
    };
    Scenario::<Campaign>::given(vec![])
        .when(CampaignCommand::Create(command))
        .then_violations(&[
            ("name", "required"),
            ("objective", "unknown_value"),
            ("platforms/1", "unknown_value"),
            ("platforms/2", "duplicate"),
            ("totalBudgetMicros", "not_positive"),
            ("endDate", "invalid_date"),
            ("startDate", "in_the_past"),
        ]);
}

#[test]
fn end_before_start_and_empty_platforms_are_rejected() {
    let command = CreateCampaign {
        platforms: vec![],
        start_date: "2026-05-02".into(),
        end_date: "2026-05-01".into(),
        total_budget_micros: MAX_TOTAL_BUDGET_MICROS + 1,
        ..create()
    };
    Scenario::<Campaign>::given(vec![])
        .when(CampaignCommand::Create(command))
        .then_violations(&[
            ("platforms", "required"),
            ("totalBudgetMicros", "too_large"),
            ("endDate", "before_start"),
        ]);
}

#[test]
fn edits_need_an_existing_campaign() {
    Scenario::<Campaign>::given(vec![])
        .when(CampaignCommand::ChangeBudget {
            total_budget_micros: 1,
        })
        .then_rejected(Rejection::NotFound { kind: "campaign" });
}

#[test]
fn renaming_to_the_same_name_records_nothing() {
    Scenario::<Campaign>::given(vec![created()])
        .when(CampaignCommand::Rename {
            name: "Q1 pipeline ".into(),
        })
        .then(vec![]);
    Scenario::<Campaign>::given(vec![created()])
        .when(CampaignCommand::Rename { name: "Q2".into() })
        .then(vec![CampaignEvent::Renamed(CampaignRenamed {
            name: "Q2".into(),
        })]);
}

#[test]
fn events_round_trip_through_their_payload() {
    for event in [
        created(),
        CampaignEvent::Renamed(CampaignRenamed { name: "n".into() }),
        CampaignEvent::BudgetChanged(CampaignBudgetChanged {
            total_budget_micros: 7,
        }),
    ] {
        let payload = event.to_payload();
        let back =
            CampaignEvent::from_payload(payload.event_type, payload.schema_version, &payload.data)
                .unwrap();
        assert_eq!(back, event);
    }
    assert!(CampaignEvent::from_payload("CampaignCreated", 99, &serde_json::json!({})).is_err());
}

proptest! {
    #[test]
    fn decide_never_panics_and_accepted_creates_fold(
        name in ".{0,300}",
        objective in prop::sample::select(vec!["LEAD_GENERATION", "BRAND_AWARENESS", "nope", ""]),
        budget in any::<i64>(),
        start_offset in -10i64..400,
        length in -5i64..400,
    ) {
        let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap() + chrono::Days::new(start_offset.unsigned_abs());
        let start = if start_offset < 0 { NaiveDate::from_ymd_opt(2025, 12, 31).unwrap() } else { start };
        let end = if length < 0 { start - chrono::Days::new(1) } else { start + chrono::Days::new(length as u64) };
        let command = CreateCampaign {
            name: name.clone(),
            objective: objective.into(),
            total_budget_micros: budget,
            start_date: start.to_string(),
            end_date: end.to_string(),
            ..create()
        };
        let outcome = Scenario::<Campaign>::given(vec![]).when(CampaignCommand::Create(command)).into_result();
        match outcome {
            Ok(events) => {
                let state = Campaign::fold(events.iter()).unwrap().unwrap();
                prop_assert!(state.total_budget_micros > 0 && state.total_budget_micros <= MAX_TOTAL_BUDGET_MICROS);
                prop_assert!(state.end_date >= state.start_date);
                prop_assert_eq!(state.name.as_str(), name.trim());
                prop_assert!(!state.name.is_empty());
            }
            Err(Rejection::Invalid(violations)) => prop_assert!(!violations.is_empty()),
            Err(other) => prop_assert!(false, "unexpected rejection {other:?}"),
        }
    }

    #[test]
    fn any_sequence_of_budget_changes_folds_to_the_last_accepted(budgets in prop::collection::vec(-5i64..5_000_000_000_000, 0..30)) {
        let mut history = vec![created()];
        let mut expected = 50_000_000_000;
        for budget in budgets {
            let state = Campaign::fold(history.iter()).unwrap();
            match Campaign::decide(state.as_ref(), &CampaignCommand::ChangeBudget { total_budget_micros: budget }, Scenario::<Campaign>::default_now()) {
                Ok(events) => { history.extend(events); expected = budget; }
                Err(_) => prop_assert!(budget <= 0 || budget > MAX_TOTAL_BUDGET_MICROS),
            }
        }
        prop_assert_eq!(Campaign::fold(history.iter()).unwrap().unwrap().total_budget_micros, expected);
    }
}

#[test]
fn version_one_creations_are_upcast_with_the_currency_accounts_had_then() {
    let v1 = serde_json::json!({
        "campaignId": Uuid::from_u128(1), "tenantId": Uuid::from_u128(2), "name": "Old",
        "objective": "ENGAGEMENT", "platforms": ["GOOGLE"], "totalBudgetMicros": 5,
        "startDate": "2025-01-01", "endDate": "2025-02-01"
    });
    let CampaignEvent::Created(created) =
        CampaignEvent::from_payload("CampaignCreated", 1, &v1).unwrap()
    else {
        panic!("not a creation")
    };
    assert_eq!(created.currency, "USD");
    assert_eq!(
        CampaignEvent::Created(created).to_payload().schema_version,
        2,
        "written as the current version"
    );
}

#[test]
fn the_currency_must_be_one_both_platforms_bill_in() {
    Scenario::<Campaign>::given(vec![])
        .when(CampaignCommand::Create(CreateCampaign {
            currency: "XTS".into(),
            ..create()
        }))
        .then_violations(&[("currency", "unknown_value")]);
}
