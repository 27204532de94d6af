//! Crypto-shredding of personal data in events. A personal value is a JSON object with a
//! `dataSubject` (the domain's `PersonalValue`); the domain emits it with `plain`, and
//! [`SealingStore`] replaces `plain` by `sealed` (AES-256-GCM under the subject's own key, bound
//! to subject and key) before the inner store sees the event — so the log, and every read model,
//! analytics table or message copied from it, holds only ciphertext. [`SubjectKeys::erase`]
//! destroys a subject's keys; [`SubjectKeys::unseal`] then reads its values as `erased`.
//!
//! The keys live in PostgreSQL (`data_subject_keys`, migration 0013) whichever store holds the
//! log: erasing must delete bytes, which an immutable log cannot.

use crate::error::StoreError;
use crate::model::{AppendOutcome, ExpectedVersion, NewEvent, Position, RecordedEvent};
use crate::port::{EventAppender, EventReader, EventStore, EventSubscription};
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use serde_json::{Map, Value};
use sqlx::{PgPool, Row};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use uuid::Uuid;

const SUBJECT: &str = "dataSubject";
const NONCE_BYTES: usize = 12;

/// Every personal value inside `data`, wherever the event nests it.
fn personal_values_mut(data: &mut Value) -> Vec<&mut Map<String, Value>> {
    let mut found = Vec::new();
    // An explicit stack: event bodies come from the domain, but nothing here should recurse on
    // data a caller shaped.
    let mut stack = vec![data];
    while let Some(value) = stack.pop() {
        match value {
            Value::Object(map) => {
                if map.contains_key(SUBJECT) {
                    found.push(map);
                } else {
                    stack.extend(map.values_mut());
                }
            }
            Value::Array(items) => stack.extend(items.iter_mut()),
            _ => {}
        }
    }
    found
}

fn uuid_field(map: &Map<String, Value>, field: &str) -> Option<Uuid> {
    map.get(field)?.as_str()?.parse().ok()
}

fn aad(subject: Uuid, key_id: Uuid) -> [u8; 32] {
    let mut aad = [0u8; 32];
    aad[..16].copy_from_slice(subject.as_bytes());
    aad[16..].copy_from_slice(key_id.as_bytes());
    aad
}

/// Lowercase hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of lowercase or uppercase hex; `None` for anything else.
pub(crate) fn from_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len() / 2)
        .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok())
        .collect()
}

/// What [`SubjectKeys::unseal`] found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Unsealed {
    pub opened: usize,
    pub erased: usize,
}

/// The per-subject keys.
#[derive(Clone)]
pub struct SubjectKeys {
    pool: PgPool,
}

impl SubjectKeys {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Seals every plain personal value in `data` under its subject's live key, creating the key
    /// on first use. Returns how many values it sealed.
    pub async fn seal(&self, tenant: Uuid, data: &mut Value) -> Result<usize, StoreError> {
        let mut values = personal_values_mut(data);
        values.retain(|map| map.get("plain").is_some_and(Value::is_string));
        if values.is_empty() {
            return Ok(0);
        }
        let mut subjects = BTreeSet::new();
        for map in &values {
            subjects.insert(uuid_field(map, SUBJECT).ok_or(StoreError::InvalidAppend(
                "a personal value's dataSubject is not a UUID",
            ))?);
        }
        let keys = self.live_keys(tenant, &subjects).await?;
        for map in &mut values {
            let subject = uuid_field(map, SUBJECT).unwrap_or_default();
            let (key_id, cipher) = keys.get(&subject).ok_or_else(|| {
                StoreError::Unavailable(format!("no live key for data subject {subject}"))
            })?;
            let Some(Value::String(plain)) = map.remove("plain") else {
                continue;
            };
            let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
            let sealed = cipher
                .encrypt(
                    &nonce,
                    Payload {
                        msg: plain.as_bytes(),
                        aad: &aad(subject, *key_id),
                    },
                )
                .map_err(|_| StoreError::InvalidAppend("a personal value did not encrypt"))?;
            let mut bytes = nonce.to_vec();
            bytes.extend_from_slice(&sealed);
            map.insert(
                "sealed".into(),
                serde_json::json!({"keyId": key_id, "ciphertext": to_hex(&bytes)}),
            );
        }
        Ok(values.len())
    }

    async fn live_keys(
        &self,
        tenant: Uuid,
        subjects: &BTreeSet<Uuid>,
    ) -> Result<HashMap<Uuid, (Uuid, Aes256Gcm)>, StoreError> {
        let subjects: Vec<Uuid> = subjects.iter().copied().collect();
        let key_ids: Vec<Uuid> = subjects.iter().map(|_| Uuid::now_v7()).collect();
        let fresh: Vec<Vec<u8>> = subjects
            .iter()
            .map(|_| Aes256Gcm::generate_key(&mut OsRng).to_vec())
            .collect();
        // Only subjects without a live key get the fresh one; a concurrent sealer's key wins.
        sqlx::query(
            "INSERT INTO data_subject_keys (key_id, tenant_id, subject_id, key)
             SELECT u.key_id, $1, u.subject_id, u.key
               FROM unnest($2::uuid[], $3::uuid[], $4::bytea[]) AS u(key_id, subject_id, key)
             ON CONFLICT (tenant_id, subject_id) WHERE key IS NOT NULL DO NOTHING",
        )
        .bind(tenant)
        .bind(&key_ids)
        .bind(&subjects)
        .bind(&fresh)
        .execute(&self.pool)
        .await?;
        let rows = sqlx::query(
            "SELECT subject_id, key_id, key FROM data_subject_keys
              WHERE tenant_id = $1 AND subject_id = ANY($2) AND key IS NOT NULL",
        )
        .bind(tenant)
        .bind(&subjects)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let key: Vec<u8> = row.try_get("key")?;
                let cipher = Aes256Gcm::new_from_slice(&key).map_err(|_| {
                    StoreError::Corrupt("a data subject key is not 32 bytes".into())
                })?;
                Ok((row.try_get("subject_id")?, (row.try_get("key_id")?, cipher)))
            })
            .collect()
    }

    /// Opens every sealed personal value in `data` whose key is live; a value whose key was
    /// destroyed reads as `{"dataSubject": …, "erased": true}`.
    pub async fn unseal(&self, tenant: Uuid, data: &mut Value) -> Result<Unsealed, StoreError> {
        let mut values = personal_values_mut(data);
        values.retain(|map| map.contains_key("sealed"));
        if values.is_empty() {
            return Ok(Unsealed::default());
        }
        let key_ids: Vec<Uuid> = values
            .iter()
            .filter_map(|map| uuid_field(map.get("sealed")?.as_object()?, "keyId"))
            .collect();
        let rows = sqlx::query(
            "SELECT key_id, key FROM data_subject_keys
              WHERE tenant_id = $1 AND key_id = ANY($2) AND key IS NOT NULL",
        )
        .bind(tenant)
        .bind(&key_ids)
        .fetch_all(&self.pool)
        .await?;
        let mut live = HashMap::new();
        for row in &rows {
            let key: Vec<u8> = row.try_get("key")?;
            if let Ok(cipher) = Aes256Gcm::new_from_slice(&key) {
                live.insert(row.try_get::<Uuid, _>("key_id")?, cipher);
            }
        }
        let mut unsealed = Unsealed::default();
        for map in values {
            let subject = uuid_field(map, SUBJECT).unwrap_or_default();
            let sealed = map.remove("sealed").unwrap_or_default();
            let key_id = sealed
                .as_object()
                .and_then(|s| uuid_field(s, "keyId"))
                .unwrap_or_default();
            let opened = live.get(&key_id).and_then(|cipher| {
                let bytes = from_hex(sealed.get("ciphertext")?.as_str()?)?;
                if bytes.len() < NONCE_BYTES {
                    return None;
                }
                let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
                let plain = cipher
                    .decrypt(
                        Nonce::from_slice(nonce),
                        Payload {
                            msg: ciphertext,
                            aad: &aad(subject, key_id),
                        },
                    )
                    .ok()?;
                String::from_utf8(plain).ok()
            });
            match opened {
                Some(plain) => {
                    map.insert("plain".into(), Value::String(plain));
                    unsealed.opened += 1;
                }
                None if live.contains_key(&key_id) => {
                    return Err(StoreError::Corrupt(format!(
                        "a sealed value of data subject {subject} does not open with its live key"
                    )))
                }
                None => {
                    map.insert("erased".into(), Value::Bool(true));
                    unsealed.erased += 1;
                }
            }
        }
        Ok(unsealed)
    }

    /// The plain text of one stored personal value (a read model keeps it sealed); `None` when
    /// its subject was erased.
    pub async fn open(&self, tenant: Uuid, mut value: Value) -> Result<Option<String>, StoreError> {
        self.unseal(tenant, &mut value).await?;
        Ok(value
            .get("plain")
            .and_then(Value::as_str)
            .map(str::to_owned))
    }

    /// Destroys every live key of the subject; returns how many. The table is vacuumed after, so
    /// the destroyed keys' old row versions do not stay on disk (WAL segments and backups keep
    /// them until they age out: the retention of those is the operator's to bound).
    pub async fn erase(&self, tenant: Uuid, subject: Uuid) -> Result<u32, StoreError> {
        let destroyed = sqlx::query(
            "UPDATE data_subject_keys SET key = NULL, erased_at = now()
              WHERE tenant_id = $1 AND subject_id = $2 AND key IS NOT NULL",
        )
        .bind(tenant)
        .bind(subject)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if destroyed > 0 {
            if let Err(error) = sqlx::query("VACUUM data_subject_keys")
                .execute(&self.pool)
                .await
            {
                tracing::warn!(%error, "could not vacuum data_subject_keys after an erasure");
            }
        }
        Ok(u32::try_from(destroyed).unwrap_or(u32::MAX))
    }

    /// Whether the subject has been erased (some key destroyed) and whether a live key remains.
    pub async fn status(&self, tenant: Uuid, subject: Uuid) -> Result<(bool, bool), StoreError> {
        let row = sqlx::query(
            "SELECT coalesce(bool_or(key IS NULL), false) AS erased,
                    coalesce(bool_or(key IS NOT NULL), false) AS live
               FROM data_subject_keys WHERE tenant_id = $1 AND subject_id = $2",
        )
        .bind(tenant)
        .bind(subject)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get("erased")?, row.try_get("live")?))
    }
}

/// An [`EventStore`] that seals personal values before the inner store appends them. Reads pass
/// through unchanged (sealed): only callers that must show personal data unseal it.
pub struct SealingStore {
    inner: Arc<dyn EventStore>,
    keys: SubjectKeys,
}

impl SealingStore {
    pub fn new(inner: Arc<dyn EventStore>, keys: SubjectKeys) -> Self {
        Self { inner, keys }
    }
}

#[async_trait]
impl EventAppender for SealingStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        mut events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, StoreError> {
        for event in &mut events {
            self.keys
                .seal(event.metadata.tenant_id, &mut event.data)
                .await?;
        }
        self.inner.append(stream, expected, events).await
    }
}

#[async_trait]
impl EventReader for SealingStore {
    async fn read_stream(
        &self,
        stream: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_stream(stream, from, limit).await
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_all(after, limit).await
    }

    fn subscribe_all(&self, after: Position) -> EventSubscription {
        self.inner.subscribe_all(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_values_are_found_wherever_they_nest() {
        let mut data = serde_json::json!({
            "name": "List",
            "identifiers": [
                {"dataSubject": Uuid::nil(), "plain": "a"},
                {"dataSubject": Uuid::nil(), "plain": "b"}
            ],
            "deeper": {"owner": {"dataSubject": Uuid::nil(), "plain": "c"}}
        });
        let mut plain: Vec<String> = personal_values_mut(&mut data)
            .iter()
            .map(|map| map["plain"].as_str().unwrap().to_owned())
            .collect();
        plain.sort();
        assert_eq!(plain, ["a", "b", "c"]);
    }

    #[test]
    fn hex_round_trips_and_refuses_junk() {
        assert_eq!(
            from_hex(&to_hex(&[0, 1, 254, 255])).unwrap(),
            [0, 1, 254, 255]
        );
        assert!(from_hex("abc").is_none());
        assert!(from_hex("zz").is_none());
        assert!(from_hex("é1").is_none());
    }
}
