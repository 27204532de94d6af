use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

/// A place in the global log, ordered. It is EventStoreDB's own shape: a commit and a prepare
/// position. In the PostgreSQL adapter `commit` is the id of the transaction that wrote the event
/// and `prepare` the event's sequence number; both adapters deliver the log in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Position {
    pub commit: u64,
    pub prepare: u64,
}

impl Position {
    /// Before the first event.
    pub const START: Position = Position {
        commit: 0,
        prepare: 0,
    };
}

/// Written `commit:prepare` so that it survives JSON clients that cannot hold 64-bit integers.
impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.commit, self.prepare)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a log position is written COMMIT:PREPARE with two unsigned integers, got {0:?}")]
pub struct PositionParseError(pub String);

impl FromStr for Position {
    type Err = PositionParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let error = || PositionParseError(s.chars().take(64).collect());
        let (commit, prepare) = s.split_once(':').ok_or_else(error)?;
        Ok(Position {
            commit: commit.parse().map_err(|_| error())?,
            prepare: prepare.parse().map_err(|_| error())?,
        })
    }
}

impl Serialize for Position {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Position {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What the writer believes about the stream. Versions count events: a stream holding one event is
/// at version 1, so `Exact(0)` means the same as `NoStream`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedVersion {
    Any,
    NoStream,
    StreamExists,
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream at `actual` satisfies this expectation.
    pub fn admits(self, actual: u64) -> bool {
        match self {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => actual == 0,
            ExpectedVersion::StreamExists => actual > 0,
            ExpectedVersion::Exact(n) => actual == n,
        }
    }
}

/// Who did it, for whom, and why: written with every event, read back by auditors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventMetadata {
    pub tenant_id: Uuid,
    /// The user or API key that issued the command (`user:<sub>`, `key:<id>`, `system:<component>`).
    pub actor: String,
    /// One id for the whole flow, from the HTTP request through NATS to the ML worker.
    pub correlation_id: Uuid,
    /// The id of the message (command or event) that directly caused this event.
    pub causation_id: Uuid,
    /// Further audit facts (client address, user agent, model version...).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub data: serde_json::Value,
    pub metadata: EventMetadata,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RecordedEvent {
    pub position: Position,
    pub stream_name: String,
    /// 1 for the first event of a stream.
    pub stream_version: u64,
    pub event_id: Uuid,
    pub event_type: String,
    pub schema_version: u32,
    pub data: serde_json::Value,
    pub metadata: EventMetadata,
    pub recorded_at: DateTime<Utc>,
}

/// Where an append landed: the stream's version after it, and the log position of its last event.
/// An idempotent re-append answers with the first append's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    pub stream_version: u64,
    pub position: Position,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_order_by_commit_then_prepare_and_round_trip_as_text() {
        let a = Position {
            commit: 5,
            prepare: 900,
        };
        let b = Position {
            commit: 6,
            prepare: 1,
        };
        assert!(a < b && Position::START < a);
        assert_eq!(a.to_string().parse::<Position>(), Ok(a));
        for bad in ["", "5", "5:", ":5", "a:b", "1:2:3", "-1:2"] {
            assert!(bad.parse::<Position>().is_err(), "{bad}");
        }
    }

    #[test]
    fn expected_versions_admit_what_they_say() {
        assert!(ExpectedVersion::Any.admits(0) && ExpectedVersion::Any.admits(9));
        assert!(ExpectedVersion::NoStream.admits(0) && !ExpectedVersion::NoStream.admits(1));
        assert!(
            !ExpectedVersion::StreamExists.admits(0) && ExpectedVersion::StreamExists.admits(1)
        );
        assert!(ExpectedVersion::Exact(0).admits(0) && !ExpectedVersion::Exact(2).admits(3));
    }
}
