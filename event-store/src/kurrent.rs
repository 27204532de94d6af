//! The EventStoreDB / KurrentDB adapter, on the official `kurrentdb` client.
//!
//! Mapping: Adflow versions count events (first event = 1), EventStoreDB revisions count from 0,
//! so version = revision + 1. The schema version and Adflow's audit metadata travel in the event's
//! custom metadata as one JSON object. Log positions are the server's own (commit, prepare).

use crate::error::StoreError;
use crate::model::{
    AppendOutcome, EventMetadata, ExpectedVersion, NewEvent, Position, RecordedEvent,
};
use crate::port::{EventAppender, EventReader, EventSubscription};
use async_trait::async_trait;
use futures_util::StreamExt;
use kurrentdb::{
    AppendToStreamOptions, Client, ClientSettings, CurrentRevision, EventData, ReadAllOptions,
    ReadStreamOptions, StreamPosition, StreamState, SubscribeToAllOptions, SubscriptionFilter,
};
use serde::{Deserialize, Serialize};

#[derive(Clone)]
pub struct KurrentEventStore {
    client: Client,
}

impl KurrentEventStore {
    /// `url` is a connection string such as `esdb://localhost:2113?tls=false`. Must be called
    /// inside a tokio runtime.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let settings: ClientSettings = url.parse().map_err(|e| {
            StoreError::Unavailable(format!("bad EventStoreDB connection string: {e}"))
        })?;
        let client = Client::new(settings).map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self { client })
    }
}

/// What Adflow keeps in each event's custom metadata.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Envelope {
    pub schema_version: u32,
    #[serde(flatten)]
    pub metadata: EventMetadata,
}

pub(crate) fn stream_state(expected: ExpectedVersion) -> StreamState {
    match expected {
        ExpectedVersion::Any => StreamState::Any,
        ExpectedVersion::NoStream | ExpectedVersion::Exact(0) => StreamState::NoStream,
        ExpectedVersion::StreamExists => StreamState::StreamExists,
        ExpectedVersion::Exact(version) => StreamState::StreamRevision(version - 1),
    }
}

pub(crate) fn version_of(current: CurrentRevision) -> u64 {
    match current {
        CurrentRevision::NoStream => 0,
        CurrentRevision::Current(revision) => revision.saturating_add(1),
    }
}

pub(crate) fn map_error(
    stream: &str,
    expected: ExpectedVersion,
    error: kurrentdb::Error,
) -> StoreError {
    match error {
        kurrentdb::Error::WrongExpectedVersion { current, .. } => {
            StoreError::WrongExpectedVersion {
                stream: stream.to_owned(),
                expected,
                actual: version_of(current),
            }
        }
        other => StoreError::Unavailable(other.to_string()),
    }
}

pub(crate) fn to_event_data(event: &NewEvent) -> Result<EventData, StoreError> {
    let envelope = Envelope {
        schema_version: event.schema_version,
        metadata: event.metadata.clone(),
    };
    EventData::json(&event.event_type, &event.data)
        .and_then(|data| data.id(event.event_id).metadata_as_json(&envelope))
        .map_err(|_| StoreError::InvalidAppend("event is not serialisable"))
}

pub(crate) fn from_recorded(event: &kurrentdb::RecordedEvent) -> Result<RecordedEvent, StoreError> {
    let envelope: Envelope = serde_json::from_slice(&event.custom_metadata)
        .map_err(|e| StoreError::Corrupt(format!("metadata of {}: {e}", event.id)))?;
    let data = serde_json::from_slice(&event.data)
        .map_err(|e| StoreError::Corrupt(format!("data of {}: {e}", event.id)))?;
    Ok(RecordedEvent {
        position: Position {
            commit: event.position.commit,
            prepare: event.position.prepare,
        },
        stream_name: event.stream_id().to_owned(),
        stream_version: event.revision.saturating_add(1),
        event_id: event.id,
        event_type: event.event_type.clone(),
        schema_version: envelope.schema_version,
        data,
        metadata: envelope.metadata,
        recorded_at: event.created,
    })
}

/// Adflow's own events: server events (`$`-prefixed) and foreign events without Adflow metadata
/// are not part of the log that projectors follow.
fn is_adflow_event(event: &kurrentdb::RecordedEvent) -> bool {
    !event.event_type.starts_with('$') && !event.stream_id().starts_with('$')
}

#[async_trait]
impl EventAppender for KurrentEventStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, StoreError> {
        if events.is_empty() {
            return Err(StoreError::InvalidAppend(
                "an append needs at least one event",
            ));
        }
        let data = events
            .iter()
            .map(to_event_data)
            .collect::<Result<Vec<_>, _>>()?;
        let options = AppendToStreamOptions::default().stream_state(stream_state(expected));
        let written = self
            .client
            .append_to_stream(stream.to_owned(), &options, data)
            .await
            .map_err(|e| map_error(stream, expected, e))?;
        Ok(AppendOutcome {
            stream_version: written.next_expected_version.saturating_add(1),
            position: Position {
                commit: written.position.commit,
                prepare: written.position.prepare,
            },
        })
    }
}

#[async_trait]
impl EventReader for KurrentEventStore {
    async fn read_stream(
        &self,
        stream: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let options = ReadStreamOptions::default()
            .forwards()
            .position(StreamPosition::Position(from.saturating_sub(1)))
            .max_count(limit);
        let mut reader = match self.client.read_stream(stream.to_owned(), &options).await {
            Ok(reader) => reader,
            Err(kurrentdb::Error::ResourceNotFound) => return Ok(vec![]),
            Err(e) => return Err(StoreError::Unavailable(e.to_string())),
        };
        let mut events = Vec::new();
        loop {
            match reader.next().await {
                Ok(Some(resolved)) => events.push(from_recorded(resolved.get_original_event())?),
                Ok(None) | Err(kurrentdb::Error::ResourceNotFound) => return Ok(events),
                Err(e) => return Err(StoreError::Unavailable(e.to_string())),
            }
        }
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let start = if after == Position::START {
            StreamPosition::Start
        } else {
            StreamPosition::Position(kurrentdb::Position {
                commit: after.commit,
                prepare: after.prepare,
            })
        };
        // The server's read is inclusive of `after` and counts filtered-out events towards the
        // limit, so ask for one more and keep reading until `limit` Adflow events are in.
        let options = ReadAllOptions::default()
            .forwards()
            .position(start)
            .filter(SubscriptionFilter::on_event_type().exclude_system_events())
            .max_count(limit.saturating_add(1));
        let mut reader = self
            .client
            .read_all(&options)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let mut events = Vec::new();
        while events.len() < limit {
            match reader.next().await {
                Ok(Some(resolved)) => {
                    let original = resolved.get_original_event();
                    let position = Position {
                        commit: original.position.commit,
                        prepare: original.position.prepare,
                    };
                    if position > after && is_adflow_event(original) {
                        events.push(from_recorded(original)?);
                    }
                }
                Ok(None) => break,
                Err(e) => return Err(StoreError::Unavailable(e.to_string())),
            }
        }
        Ok(events)
    }

    fn subscribe_all(&self, after: Position) -> EventSubscription {
        let start = if after == Position::START {
            StreamPosition::Start
        } else {
            StreamPosition::Position(kurrentdb::Position {
                commit: after.commit,
                prepare: after.prepare,
            })
        };
        let options = SubscribeToAllOptions::default()
            .position(start)
            .filter(SubscriptionFilter::on_event_type().exclude_system_events());
        let client = self.client.clone();
        futures_util::stream::once(async move { client.subscribe_to_all(&options).await })
            .flat_map(move |subscription| {
                futures_util::stream::unfold(subscription, move |mut subscription| async move {
                    loop {
                        match subscription.next().await {
                            Ok(resolved) => {
                                let original = resolved.get_original_event();
                                let position = Position {
                                    commit: original.position.commit,
                                    prepare: original.position.prepare,
                                };
                                if position > after && is_adflow_event(original) {
                                    return Some((from_recorded(original), subscription));
                                }
                            }
                            Err(e) => {
                                return Some((
                                    Err(StoreError::Unavailable(e.to_string())),
                                    subscription,
                                ))
                            }
                        }
                    }
                })
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use uuid::Uuid;

    fn metadata() -> EventMetadata {
        EventMetadata {
            tenant_id: Uuid::from_u128(7),
            actor: "user:alice".into(),
            correlation_id: Uuid::from_u128(8),
            causation_id: Uuid::from_u128(9),
            extra: BTreeMap::from([("userAgent".to_string(), "curl/8".to_string())]),
        }
    }

    #[test]
    fn versions_map_to_revisions_one_below() {
        assert_eq!(stream_state(ExpectedVersion::Any), StreamState::Any);
        assert_eq!(
            stream_state(ExpectedVersion::NoStream),
            StreamState::NoStream
        );
        assert_eq!(
            stream_state(ExpectedVersion::Exact(0)),
            StreamState::NoStream
        );
        assert_eq!(
            stream_state(ExpectedVersion::StreamExists),
            StreamState::StreamExists
        );
        assert_eq!(
            stream_state(ExpectedVersion::Exact(1)),
            StreamState::StreamRevision(0)
        );
        assert_eq!(
            stream_state(ExpectedVersion::Exact(42)),
            StreamState::StreamRevision(41)
        );
        assert_eq!(version_of(CurrentRevision::NoStream), 0);
        assert_eq!(version_of(CurrentRevision::Current(0)), 1);
        assert_eq!(version_of(CurrentRevision::Current(u64::MAX)), u64::MAX);
    }

    #[test]
    fn wrong_expected_version_becomes_a_conflict_with_the_actual_version() {
        let error = kurrentdb::Error::WrongExpectedVersion {
            expected: StreamState::StreamRevision(3),
            current: CurrentRevision::Current(5),
        };
        match map_error("campaign-x", ExpectedVersion::Exact(4), error) {
            StoreError::WrongExpectedVersion {
                stream,
                expected,
                actual,
            } => {
                assert_eq!(
                    (stream.as_str(), expected, actual),
                    ("campaign-x", ExpectedVersion::Exact(4), 6)
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(
            map_error(
                "s",
                ExpectedVersion::Any,
                kurrentdb::Error::ConnectionClosed
            ),
            StoreError::Unavailable(_)
        ));
        assert!(matches!(
            map_error(
                "s",
                ExpectedVersion::Any,
                kurrentdb::Error::DeadlineExceeded
            ),
            StoreError::Unavailable(_)
        ));
    }

    #[test]
    fn metadata_travels_in_one_envelope_with_the_schema_version() {
        let envelope = Envelope {
            schema_version: 3,
            metadata: metadata(),
        };
        let json = serde_json::to_value(&envelope).unwrap();
        assert_eq!(json["schemaVersion"], 3);
        assert_eq!(json["tenantId"], Uuid::from_u128(7).to_string());
        assert_eq!(json["actor"], "user:alice");
        assert_eq!(json["extra"]["userAgent"], "curl/8");
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, envelope);
    }

    #[test]
    fn new_events_keep_their_id_and_type() {
        let event = NewEvent {
            event_id: Uuid::from_u128(11),
            event_type: "CampaignCreated".into(),
            schema_version: 1,
            data: serde_json::json!({"name": "Q1"}),
            metadata: metadata(),
        };
        // EventData's fields are private to the client; its Debug output is the only view.
        let data = to_event_data(&event).unwrap();
        let debug = format!("{data:?}");
        assert!(debug.contains(&Uuid::from_u128(11).to_string()), "{debug}");
        assert!(debug.contains("CampaignCreated"), "{debug}");
    }
}
