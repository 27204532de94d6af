//! How domain events cross the storage boundary: a type name, a schema version and a JSON body.
//! Decoding goes through the upcasters, so an old event is upgraded on read and never rewritten.

use serde::{de::DeserializeOwned, Serialize};

#[derive(Debug, Clone, PartialEq)]
pub struct EventPayload {
    pub event_type: &'static str,
    pub schema_version: u32,
    pub data: serde_json::Value,
}

#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown event type {event_type} v{schema_version}")]
    UnknownType {
        event_type: String,
        schema_version: u32,
    },
    #[error("malformed {event_type} v{schema_version}: {source}")]
    Malformed {
        event_type: String,
        schema_version: u32,
        source: serde_json::Error,
    },
}

pub trait DomainEvent: Sized {
    fn to_payload(&self) -> EventPayload;
    /// Decodes any version ever written of any event type of this aggregate, upcasting to the current one.
    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError>;
}

/// Serialises an event body. The bodies are plain structs of strings, numbers and lists, which
/// `serde_json` cannot fail on; `Null` is a safe fallback that decoding would reject loudly.
pub(crate) fn encode<T: Serialize>(
    event_type: &'static str,
    schema_version: u32,
    body: &T,
) -> EventPayload {
    EventPayload {
        event_type,
        schema_version,
        data: serde_json::to_value(body).unwrap_or(serde_json::Value::Null),
    }
}

pub(crate) fn decode<T: DeserializeOwned>(
    event_type: &str,
    schema_version: u32,
    data: &serde_json::Value,
) -> Result<T, DecodeError> {
    T::deserialize(data).map_err(|source| DecodeError::Malformed {
        event_type: event_type.to_owned(),
        schema_version,
        source,
    })
}

pub(crate) fn unknown(event_type: &str, schema_version: u32) -> DecodeError {
    DecodeError::UnknownType {
        event_type: event_type.to_owned(),
        schema_version,
    }
}
