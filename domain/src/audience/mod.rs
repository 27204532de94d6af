//! The Audience aggregate: targeting criteria, segments with size estimates and personas, and
//! CRM account lists kept as hashed identifiers only, each with its lawful basis.

mod account_lists;
mod criteria;
pub mod segmentation;
mod segmenting;
mod segments;

pub use criteria::{
    parse_criteria, Facet, RawFacets, TargetingCriteria, MAX_VALUES_PER_FACET, VALUE_MAX_CHARS,
};
pub use segmentation::{
    CrmAccount, GeneratedSegment, SegmentationCompleted, SegmentationFailed, SegmentationRequested,
};

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::ids::{AudienceId, TenantId};
use crate::personal::{subject_of_identifier, PersonalValue};
use crate::text::required_line;
use crate::violation::Violations;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

pub const NAME_MAX_CHARS: usize = 255;
pub const MAX_SEGMENTS: usize = 50;
pub const MAX_PERSONAS_PER_SEGMENT: usize = 10;
pub const PERSONA_TEXT_MAX_CHARS: usize = 300;
pub const PERSONA_LIST_MAX: usize = 20;
/// One import carries at most this many identifiers (larger lists arrive in several imports), so
/// that no single event grows past a megabyte.
pub const MAX_IDENTIFIERS_PER_IMPORT: usize = 10_000;
/// Reporting stops after this many bad identifiers: the client learns the rule, not 10,000 lines.
const MAX_REPORTED_IDENTIFIERS: usize = 20;

/// Why the tenant may process these people's data (GDPR art. 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LawfulBasis {
    Consent,
    LegitimateInterest,
    Contract,
}

impl LawfulBasis {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "CONSENT" => Some(LawfulBasis::Consent),
            "LEGITIMATE_INTEREST" => Some(LawfulBasis::LegitimateInterest),
            "CONTRACT" => Some(LawfulBasis::Contract),
            _ => None,
        }
    }
}

/// Who the messages speak to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Persona {
    pub name: String,
    pub titles: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seniority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    pub pains: Vec<String>,
    pub messaging_angles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AudienceCommand {
    Define(DefineAudience),
    AddSegment {
        segment_id: Uuid,
        name: String,
        include: RawFacets,
        exclude: RawFacets,
        estimated_size: Option<u64>,
    },
    EstimateSegmentSize {
        segment_id: Uuid,
        estimated_size: u64,
    },
    AddPersona {
        segment_id: Uuid,
        persona: Persona,
    },
    /// `lawful_basis` as typed (`CONSENT`, `LEGITIMATE_INTEREST`, `CONTRACT`).
    ImportAccountList {
        list_id: Uuid,
        name: String,
        lawful_basis: String,
        hashed_identifiers: Vec<String>,
    },
    /// Asks the segmentation model for segments of these accounts.
    RequestSegmentation {
        request_id: Uuid,
        accounts: Vec<CrmAccount>,
        max_segments: u32,
    },
    /// The model's answer: segments with sizes and personas, added together.
    AttachGeneratedSegments {
        request_id: Uuid,
        model_version: String,
        segments: Vec<GeneratedSegment>,
    },
    FailSegmentation {
        request_id: Uuid,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct DefineAudience {
    pub audience_id: AudienceId,
    pub tenant_id: TenantId,
    pub name: String,
    pub include: RawFacets,
    pub exclude: RawFacets,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AudienceDefined {
    pub audience_id: AudienceId,
    pub tenant_id: TenantId,
    pub name: String,
    pub criteria: TargetingCriteria,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SegmentAdded {
    pub segment_id: Uuid,
    pub name: String,
    pub criteria: TargetingCriteria,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SegmentSizeEstimated {
    pub segment_id: Uuid,
    pub estimated_size: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonaAdded {
    pub segment_id: Uuid,
    pub persona: Persona,
}

/// A CRM list, as SHA-256 hashes only: no plain identifier ever reaches the event store, and
/// each hash is personal data of its subject, sealed under the subject's key (crypto-shredding).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountListImported {
    pub list_id: Uuid,
    pub name: String,
    pub lawful_basis: LawfulBasis,
    pub identifiers: Vec<PersonalValue>,
}

/// Version 1 stored the hashes in the clear; read as version 2 with every hash still plain (logs
/// written before version 2 cannot be shredded without rewriting them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountListImportedV1 {
    pub list_id: Uuid,
    pub name: String,
    pub lawful_basis: LawfulBasis,
    pub hashed_identifiers: Vec<String>,
}

impl From<AccountListImportedV1> for AccountListImported {
    fn from(v1: AccountListImportedV1) -> Self {
        Self {
            list_id: v1.list_id,
            name: v1.name,
            lawful_basis: v1.lawful_basis,
            identifiers: v1
                .hashed_identifiers
                .into_iter()
                .map(|hash| PersonalValue::plain(subject_of_identifier(&hash), hash))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum AudienceEvent {
    Defined(AudienceDefined),
    SegmentAdded(SegmentAdded),
    SegmentSizeEstimated(SegmentSizeEstimated),
    PersonaAdded(PersonaAdded),
    AccountListImported(AccountListImported),
    SegmentationRequested(SegmentationRequested),
    SegmentationCompleted(SegmentationCompleted),
    SegmentationFailed(SegmentationFailed),
}

impl AudienceEvent {
    pub const SEGMENTATION_REQUESTED: &'static str = "SegmentationRequested";
    pub const SEGMENTATION_COMPLETED: &'static str = "SegmentationCompleted";
    pub const SEGMENTATION_FAILED: &'static str = "SegmentationFailed";
    pub const DEFINED: &'static str = "AudienceDefined";
    pub const SEGMENT_ADDED: &'static str = "SegmentAdded";
    pub const SEGMENT_SIZE_ESTIMATED: &'static str = "SegmentSizeEstimated";
    pub const PERSONA_ADDED: &'static str = "PersonaAdded";
    pub const ACCOUNT_LIST_IMPORTED: &'static str = "AccountListImported";
}

impl DomainEvent for AudienceEvent {
    fn to_payload(&self) -> EventPayload {
        use AudienceEvent as E;
        match self {
            E::Defined(e) => encode(E::DEFINED, 1, e),
            E::SegmentAdded(e) => encode(E::SEGMENT_ADDED, 1, e),
            E::SegmentSizeEstimated(e) => encode(E::SEGMENT_SIZE_ESTIMATED, 1, e),
            E::PersonaAdded(e) => encode(E::PERSONA_ADDED, 1, e),
            E::AccountListImported(e) => encode(E::ACCOUNT_LIST_IMPORTED, 2, e),
            E::SegmentationRequested(e) => encode(E::SEGMENTATION_REQUESTED, 1, e),
            E::SegmentationCompleted(e) => encode(E::SEGMENTATION_COMPLETED, 1, e),
            E::SegmentationFailed(e) => encode(E::SEGMENTATION_FAILED, 1, e),
        }
    }

    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        use AudienceEvent as E;
        let (t, v) = (event_type, schema_version);
        match (t, v) {
            (E::DEFINED, 1) => decode(t, v, data).map(E::Defined),
            (E::SEGMENT_ADDED, 1) => decode(t, v, data).map(E::SegmentAdded),
            (E::SEGMENT_SIZE_ESTIMATED, 1) => decode(t, v, data).map(E::SegmentSizeEstimated),
            (E::PERSONA_ADDED, 1) => decode(t, v, data).map(E::PersonaAdded),
            (E::ACCOUNT_LIST_IMPORTED, 1) => decode::<AccountListImportedV1>(t, v, data)
                .map(|v1| E::AccountListImported(v1.into())),
            (E::ACCOUNT_LIST_IMPORTED, 2) => decode(t, v, data).map(E::AccountListImported),
            (E::SEGMENTATION_REQUESTED, 1) => decode(t, v, data).map(E::SegmentationRequested),
            (E::SEGMENTATION_COMPLETED, 1) => decode(t, v, data).map(E::SegmentationCompleted),
            (E::SEGMENTATION_FAILED, 1) => decode(t, v, data).map(E::SegmentationFailed),
            _ => Err(unknown(t, v)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentState {
    pub name: String,
    pub criteria: TargetingCriteria,
    pub estimated_size: Option<u64>,
    pub personas: Vec<Persona>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountListState {
    pub name: String,
    pub lawful_basis: LawfulBasis,
    pub identifiers: usize,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AudienceState {
    pub id: AudienceId,
    pub tenant_id: TenantId,
    pub name: String,
    pub criteria: TargetingCriteria,
    pub segments: BTreeMap<Uuid, SegmentState>,
    pub account_lists: BTreeMap<Uuid, AccountListState>,
    /// The segmentation request the model is working on.
    pub pending_segmentation: Option<Uuid>,
}

/// What `decide` answers: the events to append, or why not.
type Decision = Result<Vec<AudienceEvent>, Rejection>;

pub struct Audience;

fn is_sha256_hex(value: &str) -> bool {
    value.len() == 64
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn text_list(values: &[String], path: &str, violations: &mut Violations) -> Vec<String> {
    if values.len() > PERSONA_LIST_MAX {
        violations.push(
            path,
            "too_many",
            format!("at most {PERSONA_LIST_MAX} entries"),
        );
    }
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            required_line(
                v,
                &format!("{path}/{i}"),
                PERSONA_TEXT_MAX_CHARS,
                violations,
            )
        })
        .collect()
}

fn check_persona(persona: &Persona, violations: &mut Violations) -> Persona {
    let optional = |value: &Option<String>, path: &str, violations: &mut Violations| {
        value
            .as_deref()
            .map(|v| required_line(v, path, PERSONA_TEXT_MAX_CHARS, violations))
    };
    Persona {
        name: required_line(&persona.name, "persona/name", NAME_MAX_CHARS, violations),
        titles: text_list(&persona.titles, "persona/titles", violations),
        seniority: optional(&persona.seniority, "persona/seniority", violations),
        industry: optional(&persona.industry, "persona/industry", violations),
        pains: text_list(&persona.pains, "persona/pains", violations),
        messaging_angles: text_list(
            &persona.messaging_angles,
            "persona/messagingAngles",
            violations,
        ),
    }
}

/// An answer to a segmentation request that is not (or no longer) the pending one.
fn stale_segmentation() -> Rejection {
    Rejection::IllegalTransition {
        kind: "audience",
        command: "answer a segmentation request of",
        status: "not waiting for that request",
    }
}

fn segment<'a>(state: &'a AudienceState, segment_id: &Uuid) -> Result<&'a SegmentState, Rejection> {
    state
        .segments
        .get(segment_id)
        .ok_or(Rejection::NotFound { kind: "segment" })
}

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
        use AudienceCommand as C;
        use AudienceEvent as E;
        let state = match (state, command) {
            (Some(_), C::Define(_)) => return Err(Rejection::AlreadyExists { kind: "audience" }),
            (None, C::Define(define)) => {
                let mut violations = Violations::new();
                let name = required_line(&define.name, "name", NAME_MAX_CHARS, &mut violations);
                let criteria = parse_criteria(
                    &define.include,
                    &define.exclude,
                    "criteria",
                    &mut violations,
                );
                let defined = AudienceDefined {
                    audience_id: define.audience_id,
                    tenant_id: define.tenant_id,
                    name,
                    criteria,
                };
                return violations
                    .into_result(vec![E::Defined(defined)])
                    .map_err(Rejection::Invalid);
            }
            (None, _) => return Err(Rejection::NotFound { kind: "audience" }),
            (Some(state), _) => state,
        };
        let mut violations = Violations::new();
        let events = match command {
            C::Define(_) => return Err(Rejection::AlreadyExists { kind: "audience" }),
            C::AddSegment {
                segment_id,
                name,
                include,
                exclude,
                estimated_size,
            } => segments::add_segment(
                state,
                &mut violations,
                segment_id,
                name,
                include,
                exclude,
                estimated_size,
            )?,
            C::EstimateSegmentSize {
                segment_id,
                estimated_size,
            } => segments::estimate_segment_size(state, segment_id, estimated_size)?,
            C::AddPersona {
                segment_id,
                persona,
            } => segments::add_persona(state, &mut violations, segment_id, persona)?,
            C::ImportAccountList {
                list_id,
                name,
                lawful_basis,
                hashed_identifiers,
            } => account_lists::import_account_list(
                &mut violations,
                list_id,
                name,
                lawful_basis,
                hashed_identifiers,
            )?,
            C::RequestSegmentation {
                request_id,
                accounts,
                max_segments,
            } => segmenting::request(state, &mut violations, request_id, accounts, max_segments)?,
            C::AttachGeneratedSegments {
                request_id,
                model_version,
                segments,
            } => segmenting::attach_generated(
                state,
                &mut violations,
                request_id,
                model_version,
                segments,
            )?,
            C::FailSegmentation { request_id, reason } => {
                segmenting::fail(state, &mut violations, request_id, reason)?
            }
        };
        violations.into_result(events).map_err(Rejection::Invalid)
    }

    fn evolve(
        state: Option<AudienceState>,
        event: &AudienceEvent,
    ) -> Result<AudienceState, HistoryError> {
        use AudienceEvent as E;
        let impossible = |reason| HistoryError {
            kind: "audience",
            reason,
        };
        let mut state = match (state, event) {
            (None, E::Defined(e)) => {
                return Ok(AudienceState {
                    id: e.audience_id,
                    tenant_id: e.tenant_id,
                    name: e.name.clone(),
                    criteria: e.criteria.clone(),
                    segments: BTreeMap::new(),
                    account_lists: BTreeMap::new(),
                    pending_segmentation: None,
                })
            }
            (Some(_), E::Defined(_)) => return Err(impossible("defined twice")),
            (None, _) => return Err(impossible("changed before it was defined")),
            (Some(state), _) => state,
        };
        match event {
            E::Defined(_) => return Err(impossible("defined twice")),
            E::SegmentAdded(e) => {
                state.segments.insert(
                    e.segment_id,
                    SegmentState {
                        name: e.name.clone(),
                        criteria: e.criteria.clone(),
                        estimated_size: e.estimated_size,
                        personas: vec![],
                    },
                );
            }
            E::SegmentSizeEstimated(e) => {
                let segment = state
                    .segments
                    .get_mut(&e.segment_id)
                    .ok_or(impossible("estimate of an unknown segment"))?;
                segment.estimated_size = Some(e.estimated_size);
            }
            E::PersonaAdded(e) => {
                let segment = state
                    .segments
                    .get_mut(&e.segment_id)
                    .ok_or(impossible("persona of an unknown segment"))?;
                segment.personas.push(e.persona.clone());
            }
            E::AccountListImported(e) => {
                let list = state
                    .account_lists
                    .entry(e.list_id)
                    .or_insert(AccountListState {
                        name: e.name.clone(),
                        lawful_basis: e.lawful_basis,
                        identifiers: 0,
                    });
                list.identifiers += e.identifiers.len();
            }
            E::SegmentationRequested(e) => state.pending_segmentation = Some(e.request_id),
            E::SegmentationCompleted(_) | E::SegmentationFailed(_) => {
                state.pending_segmentation = None
            }
        }
        Ok(state)
    }
}
