//! The Audience aggregate: a named set of targeting criteria. Segments, personas and CRM account
//! lists grow here in the domain issue.

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::ids::{AudienceId, TenantId};
use crate::text::required_line;
use crate::violation::Violations;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const NAME_MAX_CHARS: usize = 255;
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

#[derive(Debug, Clone, PartialEq)]
pub enum AudienceCommand {
    Define(DefineAudience),
}

/// Criteria arrive keyed by the facet names the caller typed, so unknown facets are reported with
/// everything else.
#[derive(Debug, Clone, PartialEq)]
pub struct DefineAudience {
    pub audience_id: AudienceId,
    pub tenant_id: TenantId,
    pub name: String,
    pub include: BTreeMap<String, Vec<String>>,
    pub exclude: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AudienceDefined {
    pub audience_id: AudienceId,
    pub tenant_id: TenantId,
    pub name: String,
    pub criteria: TargetingCriteria,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AudienceEvent {
    Defined(AudienceDefined),
}

impl AudienceEvent {
    pub const DEFINED: &'static str = "AudienceDefined";
}

impl DomainEvent for AudienceEvent {
    fn to_payload(&self) -> EventPayload {
        match self {
            AudienceEvent::Defined(e) => encode(Self::DEFINED, 1, e),
        }
    }

    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        match (event_type, schema_version) {
            (Self::DEFINED, 1) => {
                decode(event_type, schema_version, data).map(AudienceEvent::Defined)
            }
            _ => Err(unknown(event_type, schema_version)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct AudienceState {
    pub id: AudienceId,
    pub tenant_id: TenantId,
    pub name: String,
    pub criteria: TargetingCriteria,
}

pub struct Audience;

impl Aggregate for Audience {
    type State = AudienceState;
    type Command = AudienceCommand;
    type Event = AudienceEvent;
    const CATEGORY: &'static str = "audience";

    fn decide(
        state: Option<&AudienceState>,
        command: &AudienceCommand,
        _now: DateTime<Utc>,
    ) -> Result<Vec<AudienceEvent>, Rejection> {
        match (state, command) {
            (Some(_), AudienceCommand::Define(_)) => {
                Err(Rejection::AlreadyExists { kind: "audience" })
            }
            (None, AudienceCommand::Define(define)) => {
                validate_define(define).map(|e| vec![AudienceEvent::Defined(e)])
            }
        }
    }

    fn evolve(
        state: Option<AudienceState>,
        event: &AudienceEvent,
    ) -> Result<AudienceState, HistoryError> {
        match (state, event) {
            (None, AudienceEvent::Defined(e)) => Ok(AudienceState {
                id: e.audience_id,
                tenant_id: e.tenant_id,
                name: e.name.clone(),
                criteria: e.criteria.clone(),
            }),
            (Some(_), AudienceEvent::Defined(_)) => Err(HistoryError {
                kind: "audience",
                reason: "defined twice",
            }),
        }
    }
}

fn parse_facets(
    raw: &BTreeMap<String, Vec<String>>,
    clause: &str,
    violations: &mut Violations,
) -> BTreeMap<Facet, Vec<String>> {
    let mut facets = BTreeMap::new();
    for (name, values) in raw {
        let path = format!("criteria/{clause}/{name}");
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

fn validate_define(command: &DefineAudience) -> Result<AudienceDefined, Rejection> {
    let mut violations = Violations::new();
    let name = required_line(&command.name, "name", NAME_MAX_CHARS, &mut violations);
    let include = parse_facets(&command.include, "include", &mut violations);
    let exclude = parse_facets(&command.exclude, "exclude", &mut violations);

    if !include.contains_key(&Facet::Locations) {
        violations.push(
            "criteria/include/locations",
            "required",
            "every audience needs at least one location (both platforms require one)",
        );
    }
    for (a, b) in crate::platform_rules::incompatible_facets(|f| include.contains_key(&f)) {
        violations.push(
            format!("criteria/include/{}", b.as_str()),
            "incompatible_facets",
            format!("cannot be combined with {} (LinkedIn rule)", a.as_str()),
        );
    }
    for (facet, values) in &include {
        let Some(excluded) = exclude.get(facet) else {
            continue;
        };
        for (index, value) in excluded.iter().enumerate() {
            if values.contains(value) {
                violations.push(
                    format!("criteria/exclude/{}/{index}", facet.as_str()),
                    "contradiction",
                    "is both included and excluded",
                );
            }
        }
    }

    violations
        .into_result(AudienceDefined {
            audience_id: command.audience_id,
            tenant_id: command.tenant_id,
            name,
            criteria: TargetingCriteria { include, exclude },
        })
        .map_err(Rejection::Invalid)
}
