//! Personal data in events, kept for crypto-shredding: a value about a person (a data subject)
//! is a [`PersonalValue`] naming its subject. The domain decides with the plain value; the event
//! store's sealing adapter encrypts it under the subject's own key before anything is stored, so
//! the log, the read models and every copy of an event hold only ciphertext. Erasing a subject
//! destroys its key: the ciphertext stays (the log is immutable, its hash chain intact) and reads
//! as erased from then on.
//!
//! The erasure itself is in the trail: the [`DataSubject`] aggregate records every erasure.

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::ids::TenantId;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const SUBJECT_NAMESPACE: Uuid = Uuid::from_u128(0x0193_9e0c_5b1f_7a42_8c6d_1e2f_3a4b_5c6d);

/// The data subject a CRM identifier hash belongs to: a UUID v5 of the lowercase hex hash, so the
/// advertiser, who holds the hash, can name the subject in an erasure or export request without
/// sending the hash again.
pub fn subject_of_identifier(hashed_identifier: &str) -> Uuid {
    Uuid::new_v5(&SUBJECT_NAMESPACE, hashed_identifier.as_bytes())
}

/// A value about one person. Exactly one of `plain`, `sealed` or `erased` is set: `plain` only
/// between the domain and the sealing adapter (never stored), `sealed` in the log, `erased` when
/// read after the subject's key was destroyed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonalValue {
    pub data_subject: Uuid,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plain: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed: Option<SealedValue>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
}

/// AES-256-GCM ciphertext under one of the subject's keys (hex of nonce ‖ ciphertext ‖ tag).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SealedValue {
    pub key_id: Uuid,
    pub ciphertext: String,
}

impl PersonalValue {
    pub fn plain(data_subject: Uuid, value: impl Into<String>) -> Self {
        Self {
            data_subject,
            plain: Some(value.into()),
            sealed: None,
            erased: false,
        }
    }
}

/// A person whose data the platform holds, as far as erasure goes.
pub struct DataSubject;

#[derive(Debug, Clone, PartialEq)]
pub enum DataSubjectCommand {
    /// Record that the subject's keys were destroyed (the adapter destroys them first).
    RecordErasure {
        data_subject: Uuid,
        tenant_id: TenantId,
        keys_destroyed: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataSubjectErased {
    pub data_subject: Uuid,
    pub tenant_id: TenantId,
    /// How many keys this erasure destroyed (0 when an earlier erasure already had).
    pub keys_destroyed: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DataSubjectEvent {
    Erased(DataSubjectErased),
}

impl DataSubjectEvent {
    pub const ERASED: &'static str = "DataSubjectErased";
}

impl DomainEvent for DataSubjectEvent {
    fn to_payload(&self) -> EventPayload {
        match self {
            DataSubjectEvent::Erased(e) => encode(Self::ERASED, 1, e),
        }
    }

    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        match (event_type, schema_version) {
            (Self::ERASED, 1) => {
                decode(event_type, schema_version, data).map(DataSubjectEvent::Erased)
            }
            _ => Err(unknown(event_type, schema_version)),
        }
    }
}

/// Every erasure of the subject, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSubjectState {
    pub data_subject: Uuid,
    pub erasures: u32,
    pub keys_destroyed: u32,
}

impl Aggregate for DataSubject {
    type State = DataSubjectState;
    type Command = DataSubjectCommand;
    type Event = DataSubjectEvent;
    const CATEGORY: &'static str = "datasubject";

    fn decide(
        _state: Option<&DataSubjectState>,
        command: &DataSubjectCommand,
        _now: DateTime<Utc>,
    ) -> Result<Vec<DataSubjectEvent>, Rejection> {
        // Every erasure request is recorded, even a repeated one: the trail shows each request.
        let DataSubjectCommand::RecordErasure {
            data_subject,
            tenant_id,
            keys_destroyed,
        } = command;
        Ok(vec![DataSubjectEvent::Erased(DataSubjectErased {
            data_subject: *data_subject,
            tenant_id: *tenant_id,
            keys_destroyed: *keys_destroyed,
        })])
    }

    fn evolve(
        state: Option<DataSubjectState>,
        event: &DataSubjectEvent,
    ) -> Result<DataSubjectState, HistoryError> {
        let DataSubjectEvent::Erased(e) = event;
        let mut state = state.unwrap_or(DataSubjectState {
            data_subject: e.data_subject,
            erasures: 0,
            keys_destroyed: 0,
        });
        state.erasures += 1;
        state.keys_destroyed += e.keys_destroyed;
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_personal_value_serialises_only_what_it_holds() {
        let value = PersonalValue::plain(Uuid::nil(), "ab");
        assert_eq!(
            serde_json::to_value(&value).unwrap(),
            serde_json::json!({"dataSubject": Uuid::nil(), "plain": "ab"})
        );
        let erased: PersonalValue =
            serde_json::from_value(serde_json::json!({"dataSubject": Uuid::nil(), "erased": true}))
                .unwrap();
        assert!(erased.erased && erased.plain.is_none() && erased.sealed.is_none());
    }

    #[test]
    fn the_same_hash_is_the_same_subject() {
        let hash = "a".repeat(64);
        assert_eq!(subject_of_identifier(&hash), subject_of_identifier(&hash));
        assert_ne!(
            subject_of_identifier(&hash),
            subject_of_identifier(&"b".repeat(64))
        );
    }

    #[test]
    fn every_erasure_request_is_recorded() {
        let subject = Uuid::now_v7();
        let command = DataSubjectCommand::RecordErasure {
            data_subject: subject,
            tenant_id: TenantId(Uuid::nil()),
            keys_destroyed: 2,
        };
        let first = DataSubject::decide(None, &command, Utc::now()).unwrap();
        let state = DataSubject::fold(&first).unwrap().unwrap();
        let again = DataSubject::decide(Some(&state), &command, Utc::now()).unwrap();
        assert_eq!(again.len(), 1);
        let state = DataSubject::fold(first.iter().chain(&again))
            .unwrap()
            .unwrap();
        assert_eq!((state.erasures, state.keys_destroyed), (2, 4));
    }
}
