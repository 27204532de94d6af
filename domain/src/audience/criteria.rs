//! Targeting criteria: facets of values, AND across facets, OR within one, and exclusions.

use crate::platform_rules::incompatible_facets;
use crate::text::required_line;
use crate::violation::Violations;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// LinkedIn accepts at most 100 values per facet in one targeting clause; Google's limits are wider,
/// so the stricter one holds for a platform-neutral audience.
pub const MAX_VALUES_PER_FACET: usize = 100;
pub const VALUE_MAX_CHARS: usize = 200;

/// The targeting dimensions that LinkedIn and Google both understand in some form.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Facet {
    Locations,
    Industries,
    Seniorities,
    JobFunctions,
    Titles,
    CompanySizes,
    Skills,
    Employers,
}

impl Facet {
    pub const ALL: [Facet; 8] = [
        Facet::Locations,
        Facet::Industries,
        Facet::Seniorities,
        Facet::JobFunctions,
        Facet::Titles,
        Facet::CompanySizes,
        Facet::Skills,
        Facet::Employers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Facet::Locations => "locations",
            Facet::Industries => "industries",
            Facet::Seniorities => "seniorities",
            Facet::JobFunctions => "jobFunctions",
            Facet::Titles => "titles",
            Facet::CompanySizes => "companySizes",
            Facet::Skills => "skills",
            Facet::Employers => "employers",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == value)
    }
}

/// Include is an AND across facets of ORs within a facet; exclude removes anyone matching any value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TargetingCriteria {
    pub include: BTreeMap<Facet, Vec<String>>,
    pub exclude: BTreeMap<Facet, Vec<String>>,
}

/// Criteria as the caller typed them, keyed by facet names, so unknown facets are reported with
/// everything else.
pub type RawFacets = BTreeMap<String, Vec<String>>;

fn parse_facets(
    raw: &RawFacets,
    path: &str,
    violations: &mut Violations,
) -> BTreeMap<Facet, Vec<String>> {
    let mut facets = BTreeMap::new();
    for (name, values) in raw {
        let path = format!("{path}/{name}");
        let Some(facet) = Facet::parse(name) else {
            let allowed: Vec<_> = Facet::ALL.iter().map(|f| f.as_str()).collect();
            violations.push(
                path,
                "unknown_facet",
                format!("must be one of {}", allowed.join(", ")),
            );
            continue;
        };
        if values.is_empty() {
            violations.push(path.as_str(), "required", "must list at least one value");
        }
        if values.len() > MAX_VALUES_PER_FACET {
            violations.push(
                path.as_str(),
                "too_many",
                format!("must list at most {MAX_VALUES_PER_FACET} values"),
            );
        }
        let mut cleaned: Vec<String> = Vec::with_capacity(values.len());
        for (index, value) in values.iter().enumerate() {
            let value_path = format!("{path}/{index}");
            let value = required_line(value, &value_path, VALUE_MAX_CHARS, violations);
            if cleaned.contains(&value) {
                violations.push(value_path, "duplicate", "is listed twice");
            } else {
                cleaned.push(value);
            }
        }
        facets.insert(facet, cleaned);
    }
    facets
}

/// Parses and checks criteria under `path` (for example `criteria`): known facets, clean values,
/// at least one location, no facet pair LinkedIn refuses, nothing both included and excluded.
pub fn parse_criteria(
    include: &RawFacets,
    exclude: &RawFacets,
    path: &str,
    violations: &mut Violations,
) -> TargetingCriteria {
    let include = parse_facets(include, &format!("{path}/include"), violations);
    let exclude = parse_facets(exclude, &format!("{path}/exclude"), violations);
    if !include.contains_key(&Facet::Locations) {
        violations.push(
            format!("{path}/include/locations"),
            "required",
            "every audience needs at least one location (both platforms require one)",
        );
    }
    for (kept, refused) in incompatible_facets(|f| include.contains_key(&f)) {
        violations.push(
            format!("{path}/include/{}", refused.as_str()),
            "incompatible_facets",
            format!("cannot be combined with {} (LinkedIn rule)", kept.as_str()),
        );
    }
    for (facet, values) in &include {
        let Some(excluded) = exclude.get(facet) else {
            continue;
        };
        for (index, value) in excluded.iter().enumerate() {
            if values.contains(value) {
                violations.push(
                    format!("{path}/exclude/{}/{index}", facet.as_str()),
                    "contradiction",
                    "is both included and excluded",
                );
            }
        }
    }
    TargetingCriteria { include, exclude }
}
