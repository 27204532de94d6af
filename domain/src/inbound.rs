//! What platforms and CRMs push to Adflow: lead-form submissions (LinkedIn Lead Gen Forms, Google
//! Ads lead forms) and offline conversions (a CRM's closed deals), per campaign, in a stream of
//! their own (`inbound-<tenant>_<id>`, the id from [`inbound_stream_id`]) so that pushes never
//! move the campaign's version under a person's `If-Match`. Each external id is recorded once: a
//! platform that retries, or a CRM that sends a deal again, changes nothing the second time.
//!
//! A lead's e-mail address and name are personal values of the lead (a data subject of its own,
//! [`lead_subject`]), sealed in the log and erasable.

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::personal::PersonalValue;
use crate::violation::Violations;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use uuid::Uuid;

const INBOUND_NAMESPACE: Uuid = Uuid::from_u128(0x0193_b2c3_8d4e_7f5a_8b1c_2d3e_4f5a_6b7c);
const LEAD_NAMESPACE: Uuid = Uuid::from_u128(0x0193_b2c3_8d4e_7f5a_8b1c_2d3e_4f5a_6b7d);

/// The longest external id (a platform's lead id, a CRM's deal id) or form id.
pub const MAX_EXTERNAL_ID_CHARS: usize = 200;
pub const MAX_CONTACT_CHARS: usize = 254;

/// The id of the stream that records what was pushed about `campaign`.
pub fn inbound_stream_id(campaign: Uuid) -> Uuid {
    Uuid::new_v5(&INBOUND_NAMESPACE, campaign.as_bytes())
}

/// The data subject a lead's contact details belong to: a UUID v5 of the lowercase address, so
/// the advertiser can name the person in an erasure or export request.
pub fn lead_subject(email: &str) -> Uuid {
    Uuid::new_v5(&LEAD_NAMESPACE, email.trim().to_lowercase().as_bytes())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LeadSource {
    LinkedinLeadGen,
    GoogleLeadForm,
    Crm,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InboundCommand {
    RecordLead {
        campaign_id: Uuid,
        source: LeadSource,
        lead_id: String,
        form_id: String,
        submitted_at: DateTime<Utc>,
        email: Option<String>,
        name: Option<String>,
    },
    RecordOfflineConversion {
        campaign_id: Uuid,
        conversion_id: String,
        occurred_at: DateTime<Utc>,
        value_micros: i64,
        currency: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct LeadCaptured {
    pub campaign_id: Uuid,
    pub source: LeadSource,
    pub lead_id: String,
    pub form_id: String,
    pub submitted_at: DateTime<Utc>,
    pub email: Option<PersonalValue>,
    pub name: Option<PersonalValue>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfflineConversionRecorded {
    pub campaign_id: Uuid,
    pub conversion_id: String,
    pub occurred_at: DateTime<Utc>,
    pub value_micros: i64,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InboundEvent {
    LeadCaptured(LeadCaptured),
    OfflineConversionRecorded(OfflineConversionRecorded),
}

impl InboundEvent {
    pub const LEAD_CAPTURED: &'static str = "LeadCaptured";
    pub const OFFLINE_CONVERSION_RECORDED: &'static str = "OfflineConversionRecorded";
}

impl DomainEvent for InboundEvent {
    fn to_payload(&self) -> EventPayload {
        match self {
            InboundEvent::LeadCaptured(e) => encode(Self::LEAD_CAPTURED, 1, e),
            InboundEvent::OfflineConversionRecorded(e) => {
                encode(Self::OFFLINE_CONVERSION_RECORDED, 1, e)
            }
        }
    }

    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        match (event_type, schema_version) {
            (Self::LEAD_CAPTURED, 1) => {
                decode(event_type, schema_version, data).map(InboundEvent::LeadCaptured)
            }
            (Self::OFFLINE_CONVERSION_RECORDED, 1) => decode(event_type, schema_version, data)
                .map(InboundEvent::OfflineConversionRecorded),
            _ => Err(unknown(event_type, schema_version)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboundState {
    pub leads: BTreeSet<String>,
    pub conversions: BTreeSet<String>,
    pub conversion_value_micros: i64,
}

fn external_id(value: &str, path: &str, violations: &mut Violations) {
    let fine = !value.is_empty()
        && value.chars().count() <= MAX_EXTERNAL_ID_CHARS
        && value.chars().all(|c| c.is_ascii_graphic());
    if !fine {
        violations.push(
            path,
            "invalid",
            format!("1 to {MAX_EXTERNAL_ID_CHARS} printable ASCII characters"),
        );
    }
}

/// What platforms and CRMs pushed about one campaign.
pub struct InboundLedger;

impl Aggregate for InboundLedger {
    type State = InboundState;
    type Command = InboundCommand;
    type Event = InboundEvent;
    const CATEGORY: &'static str = "inbound";

    fn decide(
        state: Option<&InboundState>,
        command: &InboundCommand,
        _now: DateTime<Utc>,
    ) -> Result<Vec<InboundEvent>, Rejection> {
        let mut violations = Violations::new();
        match command {
            InboundCommand::RecordLead {
                campaign_id,
                source,
                lead_id,
                form_id,
                submitted_at,
                email,
                name,
            } => {
                external_id(lead_id, "leadId", &mut violations);
                external_id(form_id, "formId", &mut violations);
                let email = email.as_deref().map(str::trim).filter(|e| !e.is_empty());
                if email.is_some_and(|e| {
                    e.chars().count() > MAX_CONTACT_CHARS
                        || e.matches('@').count() != 1
                        || e.chars().any(|c| c.is_whitespace() || c.is_control())
                }) {
                    violations.push("email", "invalid", "is not an e-mail address");
                }
                let name = name.as_deref().map(|n| {
                    crate::text::required_line(n, "name", MAX_CONTACT_CHARS, &mut violations)
                });
                violations.into_result(()).map_err(Rejection::Invalid)?;
                if state.is_some_and(|s| s.leads.contains(lead_id)) {
                    return Ok(vec![]);
                }
                // Without an address the lead has no subject to seal its name under: the name
                // is dropped rather than kept in the clear.
                let subject = email.map(lead_subject);
                Ok(vec![InboundEvent::LeadCaptured(LeadCaptured {
                    campaign_id: *campaign_id,
                    source: *source,
                    lead_id: lead_id.clone(),
                    form_id: form_id.clone(),
                    submitted_at: *submitted_at,
                    email: email
                        .zip(subject)
                        .map(|(e, s)| PersonalValue::plain(s, e.to_lowercase())),
                    name: name.zip(subject).map(|(n, s)| PersonalValue::plain(s, n)),
                })])
            }
            InboundCommand::RecordOfflineConversion {
                campaign_id,
                conversion_id,
                occurred_at,
                value_micros,
                currency,
            } => {
                external_id(conversion_id, "conversionId", &mut violations);
                if *value_micros < 0 {
                    violations.push("valueMicros", "negative", "must be 0 or more");
                }
                if !crate::campaign::SUPPORTED_CURRENCIES.contains(&currency.as_str()) {
                    violations.push(
                        "currency",
                        "unsupported",
                        format!(
                            "one of {}",
                            crate::campaign::SUPPORTED_CURRENCIES.join(", ")
                        ),
                    );
                }
                violations.into_result(()).map_err(Rejection::Invalid)?;
                if state.is_some_and(|s| s.conversions.contains(conversion_id)) {
                    return Ok(vec![]);
                }
                Ok(vec![InboundEvent::OfflineConversionRecorded(
                    OfflineConversionRecorded {
                        campaign_id: *campaign_id,
                        conversion_id: conversion_id.clone(),
                        occurred_at: *occurred_at,
                        value_micros: *value_micros,
                        currency: currency.clone(),
                    },
                )])
            }
        }
    }

    fn evolve(
        state: Option<InboundState>,
        event: &InboundEvent,
    ) -> Result<InboundState, HistoryError> {
        let mut state = state.unwrap_or_default();
        match event {
            InboundEvent::LeadCaptured(e) => {
                state.leads.insert(e.lead_id.clone());
            }
            InboundEvent::OfflineConversionRecorded(e) => {
                state.conversions.insert(e.conversion_id.clone());
                state.conversion_value_micros =
                    state.conversion_value_micros.saturating_add(e.value_micros);
            }
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lead(id: &str, email: Option<&str>) -> InboundCommand {
        InboundCommand::RecordLead {
            campaign_id: Uuid::from_u128(1),
            source: LeadSource::LinkedinLeadGen,
            lead_id: id.into(),
            form_id: "form-1".into(),
            submitted_at: Utc::now(),
            email: email.map(Into::into),
            name: Some("Ana Ruiz".into()),
        }
    }

    #[test]
    fn a_lead_is_recorded_once_with_its_contact_sealed_under_its_subject() {
        let first =
            InboundLedger::decide(None, &lead("l1", Some("Ana@Example.com")), Utc::now()).unwrap();
        let InboundEvent::LeadCaptured(captured) = &first[0] else {
            panic!("{first:?}")
        };
        let email = captured.email.as_ref().unwrap();
        assert_eq!(email.data_subject, lead_subject("ana@example.com"));
        assert_eq!(email.plain.as_deref(), Some("ana@example.com"));
        assert_eq!(
            captured.name.as_ref().unwrap().data_subject,
            email.data_subject
        );
        let state = InboundLedger::fold(&first).unwrap();
        let again =
            InboundLedger::decide(state.as_ref(), &lead("l1", Some("x@y.z")), Utc::now()).unwrap();
        assert!(again.is_empty(), "a retried push records nothing");
        let anonymous = InboundLedger::decide(None, &lead("l2", None), Utc::now()).unwrap();
        let InboundEvent::LeadCaptured(anonymous) = &anonymous[0] else {
            panic!()
        };
        assert!(
            anonymous.name.is_none(),
            "no name in the clear without a subject"
        );
    }

    #[test]
    fn bad_pushes_are_refused_with_their_fields() {
        let refused = InboundLedger::decide(
            None,
            &InboundCommand::RecordOfflineConversion {
                campaign_id: Uuid::nil(),
                conversion_id: "".into(),
                occurred_at: Utc::now(),
                value_micros: -1,
                currency: "XXX".into(),
            },
            Utc::now(),
        );
        let Err(Rejection::Invalid(violations)) = refused else {
            panic!("{refused:?}")
        };
        let paths: Vec<&str> = violations.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["conversionId", "valueMicros", "currency"]);
        assert!(InboundLedger::decide(None, &lead("l 1", Some("a@b")), Utc::now()).is_err());
    }

    proptest! {
        #[test]
        fn conversions_sum_once_per_id_however_often_they_are_sent(
            sends in proptest::collection::vec((0u8..5, 0i64..1_000_000), 1..40)
        ) {
            let mut state: Option<InboundState> = None;
            let mut first_values = std::collections::BTreeMap::new();
            for (id, value) in sends {
                first_values.entry(id).or_insert(value);
                let events = InboundLedger::decide(
                    state.as_ref(),
                    &InboundCommand::RecordOfflineConversion {
                        campaign_id: Uuid::nil(),
                        conversion_id: format!("deal-{id}"),
                        occurred_at: Utc::now(),
                        value_micros: value,
                        currency: "EUR".into(),
                    },
                    Utc::now(),
                ).unwrap();
                for event in &events {
                    state = Some(InboundLedger::evolve(state.take(), event).unwrap());
                }
            }
            let state = state.unwrap();
            prop_assert_eq!(state.conversions.len(), first_values.len());
            prop_assert_eq!(state.conversion_value_micros, first_values.values().sum::<i64>());
        }
    }
}
