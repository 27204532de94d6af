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
    let AudienceEvent::Defined(defined) = &events[0];
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
            let AudienceEvent::Defined(defined) = &events[0];
            prop_assert!(defined.criteria.include.contains_key(&Facet::Locations));
            for list in defined.criteria.include.values() {
                prop_assert!(!list.is_empty());
                prop_assert!(list.iter().all(|v| !v.trim().is_empty() && v.trim() == v));
            }
        }
    }
}
