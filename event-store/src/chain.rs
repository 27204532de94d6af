//! The log's hash chain (schemas/migrations/0012_event_hash_chain.sql and 0014): every event's
//! hash is `sha256(predecessor's hash ‖ content hash)`, the content hash computed here, by the
//! writer, over everything the event says. [`verify`] recomputes every hash from the rows
//! themselves, stream by stream in one pass, and names the first event in log order where the
//! chain does not hold.

use crate::error::StoreError;
use crate::model::NewEvent;
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Separates the fields of an event's content (ASCII unit separator).
const SEPARATOR: u8 = 0x1f;

/// Rows read per page while verifying.
const VERIFY_PAGE: i64 = 5_000;

/// JSON with object keys in byte order and no insignificant whitespace, so that the data an
/// adapter hashes before the append and the data it reads back (PostgreSQL's `jsonb` reorders
/// keys and rewrites numbers) serialise to the same bytes.
pub fn canonical_json(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => match n.as_f64() {
            // jsonb has no negative zero: it would read back as 0.
            Some(f) if f == 0.0 && n.is_f64() => out.extend_from_slice(b"0.0"),
            _ => out.extend_from_slice(n.to_string().as_bytes()),
        },
        Value::String(s) => {
            // Serialising a string cannot fail.
            let _ = serde_json::to_writer(&mut *out, s);
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                canonical_json(item, out);
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let _ = serde_json::to_writer(&mut *out, key);
                out.push(b':');
                canonical_json(item, out);
            }
            out.push(b'}');
        }
    }
}

/// The fields of an event that its hash covers.
pub struct Content<'a> {
    pub stream: &'a str,
    pub event_id: Uuid,
    pub event_type: &'a str,
    pub schema_version: u32,
    pub tenant_id: Uuid,
    pub data: &'a serde_json::Value,
    pub actor: &'a str,
    pub correlation_id: Uuid,
    pub causation_id: Uuid,
    pub extra: &'a BTreeMap<String, String>,
}

impl Content<'_> {
    /// SHA-256 of the fields, separated, the data and metadata as canonical JSON.
    pub fn hash(&self) -> [u8; 32] {
        let mut bytes = Vec::with_capacity(256);
        for field in [
            self.stream.as_bytes(),
            self.event_id.as_bytes(),
            self.event_type.as_bytes(),
            &self.schema_version.to_be_bytes(),
            self.tenant_id.as_bytes(),
        ] {
            bytes.extend_from_slice(field);
            bytes.push(SEPARATOR);
        }
        canonical_json(self.data, &mut bytes);
        bytes.push(SEPARATOR);
        for field in [
            self.actor.as_bytes(),
            self.correlation_id.as_bytes(),
            self.causation_id.as_bytes(),
        ] {
            bytes.extend_from_slice(field);
            bytes.push(SEPARATOR);
        }
        for (key, value) in self.extra {
            bytes.extend_from_slice(key.as_bytes());
            bytes.push(b'=');
            bytes.extend_from_slice(value.as_bytes());
            bytes.push(SEPARATOR);
        }
        Sha256::digest(&bytes).into()
    }
}

/// The content hash of `event` appended to `stream`.
pub fn content_hash(stream: &str, event: &NewEvent) -> [u8; 32] {
    Content {
        stream,
        event_id: event.event_id,
        event_type: &event.event_type,
        schema_version: event.schema_version,
        tenant_id: event.metadata.tenant_id,
        data: &event.data,
        actor: &event.metadata.actor,
        correlation_id: event.metadata.correlation_id,
        causation_id: event.metadata.causation_id,
        extra: &event.metadata.extra,
    }
    .hash()
}

/// An event's link in its stream's chain.
pub fn link(previous: &[u8], content_hash: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(content_hash);
    hasher.finalize().into()
}

/// What is wrong at the first bad event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainProblem {
    /// Its content (or its predecessor's hash) no longer matches its hash: altered, or moved.
    Altered,
    /// The version before it is missing from its stream: an event was removed.
    Missing,
    /// It carries no hash at all (written around `append_events`).
    Unchained,
}

/// The first event where the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub position: i64,
    pub stream_name: String,
    pub stream_version: i64,
    pub problem: ChainProblem,
}

/// What a verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub events: i64,
    pub streams: i64,
    pub first_break: Option<ChainBreak>,
}

/// The previous row of the stream being verified.
struct Previous {
    stream: String,
    version: i64,
    hash: Vec<u8>,
}

/// Recomputes every stream's chain from the rows: one pass in stream order (keyset pages on the
/// stream/version index), memory independent of the log's size.
pub async fn verify(pool: &PgPool) -> Result<ChainReport, StoreError> {
    verify_after(pool, &BTreeMap::new()).await
}

/// [`verify`], trusting each stream up to its anchor (a head a verified signed checkpoint
/// recorded, whose hash is the stored one): only the events after it are recomputed.
pub async fn verify_after(
    pool: &PgPool,
    anchors: &BTreeMap<String, crate::checkpoints::Head>,
) -> Result<ChainReport, StoreError> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    let mut report = ChainReport {
        events: 0,
        streams: 0,
        first_break: None,
    };
    let mut previous: Option<Previous> = None;
    let mut after = (String::new(), 0i64);
    loop {
        let rows = sqlx::query(
            "SELECT position, stream_name, stream_version, event_id, event_type, schema_version,
                    tenant_id, data, actor, correlation_id, causation_id, extra_metadata, hash,
                    hash_scheme,
                    CASE WHEN hash_scheme = 1 THEN
                        event_content(stream_name, stream_version, event_id, event_type,
                                      schema_version, tenant_id, data, actor, correlation_id,
                                      causation_id, extra_metadata)
                    END AS legacy_content
               FROM events
              WHERE (stream_name, stream_version) > ($1, $2)
              ORDER BY stream_name, stream_version
              LIMIT $3",
        )
        .bind(&after.0)
        .bind(after.1)
        .bind(VERIFY_PAGE)
        .fetch_all(pool)
        .await?;
        for row in &rows {
            let stream: String = row.try_get("stream_name").map_err(corrupt)?;
            let version: i64 = row.try_get("stream_version").map_err(corrupt)?;
            let position: i64 = row.try_get("position").map_err(corrupt)?;
            let hash: Option<Vec<u8>> = row.try_get("hash").map_err(corrupt)?;
            let same_stream = previous.as_ref().is_some_and(|p| p.stream == stream);
            if !same_stream {
                report.streams += 1;
            }
            report.events += 1;
            let (previous_version, previous_hash) = match &previous {
                Some(p) if same_stream => (p.version, p.hash.as_slice()),
                _ => (0, &[][..]),
            };
            let anchored = anchors.get(&stream).is_some_and(|(at, _)| version <= *at);
            let problem = if anchored {
                None
            } else if version != previous_version + 1 {
                Some(ChainProblem::Missing)
            } else {
                match &hash {
                    None => Some(ChainProblem::Unchained),
                    Some(stored) => {
                        let expected = expected_hash(row, &stream, previous_hash)?;
                        (stored.as_slice() != expected).then_some(ChainProblem::Altered)
                    }
                }
            };
            if let Some(problem) = problem {
                if report
                    .first_break
                    .as_ref()
                    .is_none_or(|b| position < b.position)
                {
                    report.first_break = Some(ChainBreak {
                        position,
                        stream_name: stream.clone(),
                        stream_version: version,
                        problem,
                    });
                }
            }
            after = (stream.clone(), version);
            previous = Some(Previous {
                stream,
                version,
                hash: hash.unwrap_or_default(),
            });
        }
        if (rows.len() as i64) < VERIFY_PAGE {
            break;
        }
    }
    Ok(report)
}

/// What the row's hash should be, after `previous` (empty for a stream's first event).
fn expected_hash(
    row: &sqlx::postgres::PgRow,
    stream: &str,
    previous: &[u8],
) -> Result<[u8; 32], StoreError> {
    let corrupt = |e: sqlx::Error| StoreError::Corrupt(e.to_string());
    let scheme: i16 = row.try_get("hash_scheme").map_err(corrupt)?;
    if scheme == 1 {
        // 0012: the predecessor's hash and the content as PostgreSQL joins it, in one SHA-256.
        let content: Vec<u8> = row.try_get("legacy_content").map_err(corrupt)?;
        let mut hasher = Sha256::new();
        hasher.update(previous);
        hasher.update(&content);
        return Ok(hasher.finalize().into());
    }
    let extra: Option<serde_json::Value> = row.try_get("extra_metadata").map_err(corrupt)?;
    let extra: BTreeMap<String, String> = match extra {
        None => BTreeMap::new(),
        // Metadata that is not a map of strings was not written by an adapter: it cannot match.
        Some(extra) => serde_json::from_value(extra).unwrap_or_default(),
    };
    let schema_version: i32 = row.try_get("schema_version").map_err(corrupt)?;
    let data: serde_json::Value = row.try_get("data").map_err(corrupt)?;
    let content = Content {
        stream,
        event_id: row.try_get("event_id").map_err(corrupt)?,
        event_type: &row.try_get::<String, _>("event_type").map_err(corrupt)?,
        schema_version: u32::try_from(schema_version).unwrap_or(u32::MAX),
        tenant_id: row.try_get("tenant_id").map_err(corrupt)?,
        data: &data,
        actor: &row.try_get::<String, _>("actor").map_err(corrupt)?,
        correlation_id: row.try_get("correlation_id").map_err(corrupt)?,
        causation_id: row.try_get("causation_id").map_err(corrupt)?,
        extra: &extra,
    };
    Ok(link(previous, &content.hash()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn canonical(value: &serde_json::Value) -> String {
        let mut out = Vec::new();
        canonical_json(value, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn canonical_json_sorts_keys_and_survives_what_jsonb_does_to_numbers() {
        assert_eq!(
            canonical(&json!({"bb": 1, "a": [true, null, "x\"y"], "c": {"z": 0.5, "y": -2}})),
            r#"{"a":[true,null,"x\"y"],"bb":1,"c":{"y":-2,"z":0.5}}"#
        );
        // What jsonb gives back for these numbers parses to the same canonical text.
        for (written, read_back) in [
            (json!(1e-7), "0.0000001"),
            (json!(1e20), "100000000000000000000"),
            (json!(3.0), "3.0"),
            (json!(-0.0), "0.0"),
            (json!(18_446_744_073_709_551_615u64), "18446744073709551615"),
        ] {
            let read_back: serde_json::Value = serde_json::from_str(read_back).unwrap();
            assert_eq!(canonical(&written), canonical(&read_back), "{written}");
        }
    }

    #[test]
    fn every_field_is_covered() {
        let extra = BTreeMap::from([("client".to_owned(), "cli".to_owned())]);
        let data = json!({"name": "A"});
        let base = Content {
            stream: "campaign-t_a",
            event_id: Uuid::nil(),
            event_type: "CampaignRenamed",
            schema_version: 1,
            tenant_id: Uuid::nil(),
            data: &data,
            actor: "user:a",
            correlation_id: Uuid::nil(),
            causation_id: Uuid::nil(),
            extra: &extra,
        };
        let hash = base.hash();
        let other_data = json!({"name": "B"});
        let no_extra = BTreeMap::new();
        for changed in [
            Content {
                stream: "campaign-t_b",
                ..base
            },
            Content {
                event_id: Uuid::max(),
                ..base
            },
            Content {
                event_type: "CampaignCreated",
                ..base
            },
            Content {
                schema_version: 2,
                ..base
            },
            Content {
                tenant_id: Uuid::max(),
                ..base
            },
            Content {
                data: &other_data,
                ..base
            },
            Content {
                actor: "user:b",
                ..base
            },
            Content {
                correlation_id: Uuid::max(),
                ..base
            },
            Content {
                causation_id: Uuid::max(),
                ..base
            },
            Content {
                extra: &no_extra,
                ..base
            },
        ] {
            assert_ne!(changed.hash(), hash);
        }
    }
}
