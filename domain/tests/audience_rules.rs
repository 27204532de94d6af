use adflow_domain::aggregate::Aggregate;
use adflow_domain::audience::*;
use adflow_domain::scenario::Scenario;
use adflow_domain::{AudienceId, Rejection, TenantId};
use proptest::prelude::*;
use std::collections::BTreeMap;
use uuid::Uuid;

fn facets(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
        .collect()
}

fn define(include: &[(&str, &[&str])], exclude: &[(&str, &[&str])]) -> AudienceCommand {
    AudienceCommand::Define(DefineAudience {
        audience_id: AudienceId(Uuid::from_u128(1)),
        tenant_id: TenantId(Uuid::from_u128(2)),
        name: "CFOs in DACH".into(),
        include: facets(include),
        exclude: facets(exclude),
    })
}

#[test]
fn a_valid_audience_is_defined() {
    let events = Scenario::<Audience>::given(vec![])
        .when(define(
            &[("locations", &["DE", "AT"]), ("titles", &["CFO"])],
            &[("industries", &["Banking"])],
        ))
        .into_result()
        .unwrap();
    let AudienceEvent::Defined(defined) = &events[0] else {
        panic!("not a definition")
    };
    assert_eq!(
        defined.criteria.include[&Facet::Titles],
        vec!["CFO".to_string()]
    );
    assert_eq!(
        defined.criteria.exclude[&Facet::Industries],
        vec!["Banking".to_string()]
    );
}

#[test]
fn linkedin_facet_combinations_and_contradictions_are_rejected() {
    Scenario::<Audience>::given(vec![])
        .when(define(
            &[
                ("titles", &["CFO"]),
                ("jobFunctions", &["Finance"]),
                ("seniorities", &["CXO"]),
                ("planets", &["Mars"]),
            ],
            &[("titles", &["CFO", ""])],
        ))
        .then_violations(&[
            ("criteria/include/planets", "unknown_facet"),
            ("criteria/exclude/titles/1", "required"),
            ("criteria/include/locations", "required"),
            ("criteria/include/titles", "incompatible_facets"),
            ("criteria/include/seniorities", "incompatible_facets"),
            ("criteria/exclude/titles/0", "contradiction"),
        ]);
}

#[test]
fn defining_twice_is_rejected() {
    let first = Scenario::<Audience>::given(vec![])
        .when(define(&[("locations", &["DE"])], &[]))
        .into_result()
        .unwrap();
    Scenario::<Audience>::given(first)
        .when(define(&[("locations", &["DE"])], &[]))
        .then_rejected(Rejection::AlreadyExists { kind: "audience" });
}

proptest! {
    #[test]
    fn accepted_audiences_always_have_a_location_and_no_empty_values(
        values in prop::collection::vec(".{0,12}", 0..6),
        facet in prop::sample::select(Facet::ALL.to_vec()),
    ) {
        let refs: Vec<&str> = values.iter().map(String::as_str).collect();
        let command = define(&[(facet.as_str(), &refs)], &[]);
        if let Ok(events) = Scenario::<Audience>::given(vec![]).when(command).into_result() {
            let AudienceEvent::Defined(defined) = &events[0] else { panic!("not a definition") };
            prop_assert!(defined.criteria.include.contains_key(&Facet::Locations));
            for list in defined.criteria.include.values() {
                prop_assert!(!list.is_empty());
                prop_assert!(list.iter().all(|v| !v.trim().is_empty() && v.trim() == v));
            }
        }
    }
}

const SEGMENT: Uuid = Uuid::from_u128(10);

fn defined() -> Vec<AudienceEvent> {
    Scenario::<Audience>::given(vec![])
        .when(define(&[("locations", &["DE"])], &[]))
        .into_result()
        .unwrap()
}

fn with_segment() -> Vec<AudienceEvent> {
    let mut history = defined();
    history.extend(
        Scenario::<Audience>::given(history.clone())
            .when(AudienceCommand::AddSegment {
                segment_id: SEGMENT,
                name: "Mid-market finance".into(),
                include: facets(&[("locations", &["DE"]), ("companySizes", &["201-500"])]),
                exclude: facets(&[]),
                estimated_size: Some(12_000),
            })
            .into_result()
            .unwrap(),
    );
    history
}

fn persona(name: &str) -> Persona {
    Persona {
        name: name.into(),
        titles: vec!["CFO".into(), "VP Finance".into()],
        seniority: Some("CXO".into()),
        industry: None,
        pains: vec!["Month-end close takes two weeks".into()],
        messaging_angles: vec!["Close in three days".into()],
    }
}

#[test]
fn segments_carry_criteria_sizes_and_personas() {
    let mut history = with_segment();
    Scenario::<Audience>::given(history.clone())
        .when(AudienceCommand::AddSegment {
            segment_id: SEGMENT,
            name: "again".into(),
            include: facets(&[("locations", &["DE"])]),
            exclude: facets(&[]),
            estimated_size: None,
        })
        .then_rejected(Rejection::AlreadyExists { kind: "segment" });
    Scenario::<Audience>::given(history.clone())
        .when(AudienceCommand::AddSegment {
            segment_id: Uuid::from_u128(11),
            name: " ".into(),
            include: facets(&[("titles", &["CFO"]), ("seniorities", &["CXO"])]),
            exclude: facets(&[]),
            estimated_size: None,
        })
        .then_violations(&[
            ("name", "required"),
            ("criteria/include/locations", "required"),
            ("criteria/include/seniorities", "incompatible_facets"),
        ]);
    for command in [
        AudienceCommand::EstimateSegmentSize {
            segment_id: SEGMENT,
            estimated_size: 9_500,
        },
        AudienceCommand::AddPersona {
            segment_id: SEGMENT,
            persona: persona("Finance leader"),
        },
    ] {
        history.extend(
            Scenario::<Audience>::given(history.clone())
                .when(command)
                .into_result()
                .unwrap(),
        );
    }
    let state = Audience::fold(history.iter()).unwrap().unwrap();
    assert_eq!(state.segments[&SEGMENT].estimated_size, Some(9_500));
    assert_eq!(
        state.segments[&SEGMENT].personas,
        vec![persona("Finance leader")]
    );
    Scenario::<Audience>::given(history.clone())
        .when(AudienceCommand::EstimateSegmentSize {
            segment_id: SEGMENT,
            estimated_size: 9_500,
        })
        .then(vec![]);
    Scenario::<Audience>::given(history)
        .when(AudienceCommand::AddPersona {
            segment_id: Uuid::from_u128(99),
            persona: persona("x"),
        })
        .then_rejected(Rejection::NotFound { kind: "segment" });
}

#[test]
fn personas_are_checked_field_by_field() {
    let mut bad = persona("");
    bad.pains = vec!["".into(); 21];
    Scenario::<Audience>::given(with_segment())
        .when(AudienceCommand::AddPersona {
            segment_id: SEGMENT,
            persona: bad,
        })
        .into_result()
        .map(|_| ())
        .map_err(|rejection| match rejection {
            Rejection::Invalid(v) => {
                let paths: Vec<&str> = v.iter().map(|v| v.path.as_str()).take(3).collect();
                assert_eq!(paths, ["persona/name", "persona/pains", "persona/pains/0"]);
            }
            other => panic!("{other:?}"),
        })
        .unwrap_err();
}

#[test]
fn account_lists_hold_hashes_only_and_name_their_lawful_basis() {
    let hash = "a".repeat(64);
    Scenario::<Audience>::given(defined())
        .when(AudienceCommand::ImportAccountList {
            list_id: Uuid::from_u128(20),
            name: "Target accounts".into(),
            lawful_basis: "WHY_NOT".into(),
            hashed_identifiers: vec![hash.clone(), "jane@example.com".into(), "A".repeat(64)],
        })
        .then_violations(&[
            ("lawfulBasis", "required"),
            ("hashedIdentifiers/1", "not_hashed"),
            ("hashedIdentifiers/2", "not_hashed"),
        ]);
    let events = Scenario::<Audience>::given(defined())
        .when(AudienceCommand::ImportAccountList {
            list_id: Uuid::from_u128(20),
            name: "Target accounts".into(),
            lawful_basis: "LEGITIMATE_INTEREST".into(),
            hashed_identifiers: vec![hash.clone(), "0".repeat(64)],
        })
        .into_result()
        .unwrap();
    let mut history = defined();
    history.extend(events);
    let state = Audience::fold(history.iter()).unwrap().unwrap();
    let list = &state.account_lists[&Uuid::from_u128(20)];
    assert_eq!(
        (list.identifiers, list.lawful_basis),
        (2, LawfulBasis::LegitimateInterest)
    );
    Scenario::<Audience>::given(defined())
        .when(AudienceCommand::ImportAccountList {
            list_id: Uuid::from_u128(21),
            name: "Too big".into(),
            lawful_basis: "CONSENT".into(),
            hashed_identifiers: vec![hash; MAX_IDENTIFIERS_PER_IMPORT + 1],
        })
        .then_violations(&[("hashedIdentifiers", "too_many")]);
}

const REQUEST: Uuid = Uuid::from_u128(77);

fn account() -> CrmAccount {
    CrmAccount {
        industry: "Software".into(),
        country: "DE".into(),
        employees: 400,
        seniority_basis_points: vec![2_000, 4_000, 3_000, 1_000],
        function_basis_points: vec![7_000, 500, 1_000, 1_000, 500],
        engagement_basis_points: 6_000,
    }
}

fn segmentation_requested() -> Vec<AudienceEvent> {
    let mut history = defined();
    history.extend(
        Scenario::<Audience>::given(history.clone())
            .when(AudienceCommand::RequestSegmentation {
                request_id: REQUEST,
                accounts: vec![account()],
                max_segments: 3,
            })
            .into_result()
            .unwrap(),
    );
    history
}

fn generated(id: u128) -> GeneratedSegment {
    let mut include = BTreeMap::new();
    include.insert(Facet::Locations, vec!["urn:li:geo:101282230".to_owned()]);
    include.insert(Facet::Industries, vec!["Software".to_owned()]);
    GeneratedSegment {
        segment_id: Uuid::from_u128(id),
        name: "Engineering managers, Software".into(),
        criteria: TargetingCriteria {
            include,
            exclude: BTreeMap::new(),
        },
        estimated_size: 12_000,
        persona: Persona {
            name: "Engineering Manager at a Software company".into(),
            titles: vec!["Engineering Manager".into()],
            seniority: Some("Manager".into()),
            industry: Some("Software".into()),
            pains: vec!["shipping faster".into()],
            messaging_angles: vec!["developer time saved".into()],
        },
    }
}

#[test]
fn a_segmentation_request_checks_every_account_and_field() {
    let mut bad = account();
    bad.country = "XX".into();
    bad.seniority_basis_points = vec![5_000, 5_000];
    bad.function_basis_points = vec![9_000, 0, 0, 0, 0];
    Scenario::<Audience>::given(defined())
        .when(AudienceCommand::RequestSegmentation {
            request_id: REQUEST,
            accounts: vec![account(), bad],
            max_segments: 11,
        })
        .then_violations(&[
            ("maxSegments", "out_of_range"),
            ("accounts/1/country", "unknown_value"),
            ("accounts/1/seniorityBasisPoints", "invalid_length"),
            ("accounts/1/functionBasisPoints", "invalid_sum"),
        ]);
}

#[test]
fn the_answer_adds_segments_with_personas_once_and_only_for_the_pending_request() {
    let history = segmentation_requested();
    // A second request waits for the first to be answered.
    assert!(Scenario::<Audience>::given(history.clone())
        .when(AudienceCommand::RequestSegmentation {
            request_id: Uuid::from_u128(78),
            accounts: vec![account()],
            max_segments: 2,
        })
        .into_result()
        .is_err());
    let answer = AudienceCommand::AttachGeneratedSegments {
        request_id: REQUEST,
        model_version: "crm-segmenter@1".into(),
        segments: vec![generated(100), generated(101)],
    };
    let events = Scenario::<Audience>::given(history.clone())
        .when(answer.clone())
        .into_result()
        .unwrap();
    assert_eq!(
        events.len(),
        5,
        "two segments, two personas, one completion"
    );
    let mut after = history.clone();
    after.extend(events);
    let state = Audience::fold(after.iter()).unwrap().unwrap();
    assert_eq!(state.segments.len(), 2);
    assert!(state.pending_segmentation.is_none());
    assert_eq!(state.segments[&Uuid::from_u128(100)].personas.len(), 1);
    // The same answer again, or an answer to another request, is refused.
    assert!(Scenario::<Audience>::given(after)
        .when(answer)
        .into_result()
        .is_err());
    assert!(Scenario::<Audience>::given(history)
        .when(AudienceCommand::FailSegmentation {
            request_id: Uuid::from_u128(78),
            reason: "no".into(),
        })
        .into_result()
        .is_err());
}
