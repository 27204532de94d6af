//! Signed checkpoints of the PostgreSQL log's chain heads (migration 0015). Per-stream hash
//! chains catch an edit that leaves the hashes alone; they cannot catch someone with write access
//! who recomputes a stream's whole chain after an edit, or cuts off a stream's newest events. A
//! checkpoint records every stream head that changed since the previous checkpoint, chains its
//! digest to the previous checkpoint's (a global chain over the log's heads) and signs it with
//! Ed25519; the signing key never enters the database. [`verify`] checks every checkpoint's
//! digest and signature against a public key the auditor holds, then that every head a
//! checkpoint recorded is still in the log with the same hash.

use crate::error::StoreError;
use ed25519_dalek::{Signature, Signer, Verifier};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use sqlx::{PgPool, Row};
use std::collections::BTreeMap;

pub use crate::personal::to_hex;

/// A stream's newest event: its version and hash.
pub type Head = (i64, Vec<u8>);

/// One checkpoint as taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub id: i64,
    pub streams: i64,
    pub changed: i64,
    pub digest: Vec<u8>,
}

/// Why checkpoints do not vouch for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckpointProblem {
    /// Its digest does not follow from its heads and its predecessor: the heads were edited.
    Digest { checkpoint: i64 },
    /// Its signature does not verify with the auditor's public key.
    Signature { checkpoint: i64 },
    /// A checkpoint is missing between two others.
    Gap { checkpoint: i64 },
    /// A head it recorded is gone from the log, or has another hash now.
    Head {
        checkpoint: i64,
        stream: String,
        version: i64,
        present: bool,
    },
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointReport {
    pub checkpoints: i64,
    pub problem: Option<CheckpointProblem>,
    /// The heads as of the last checkpoint verified: the chain can be verified from there on.
    pub anchors: BTreeMap<String, Head>,
}

/// A key that is not 64 hex digits of an Ed25519 seed or public key.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadKey(&'static str);

fn hex32(text: &str) -> Option<[u8; 32]> {
    crate::personal::from_hex(text.trim())?.try_into().ok()
}

/// The signing key from its 64 hex digits.
pub fn signing_key(hex: &str) -> Result<SigningKey, BadKey> {
    hex32(hex)
        .map(|seed| SigningKey::from_bytes(&seed))
        .ok_or(BadKey(
            "the audit signing key must be 64 hex digits (an Ed25519 seed)",
        ))
}

/// The public key from its 64 hex digits.
pub fn public_key(hex: &str) -> Result<VerifyingKey, BadKey> {
    hex32(hex)
        .and_then(|bytes| VerifyingKey::from_bytes(&bytes).ok())
        .ok_or(BadKey(
            "the audit public key must be 64 hex digits (an Ed25519 public key)",
        ))
}

/// The digest a checkpoint signs: its id, its predecessor's digest and its heads in name order.
fn digest(id: i64, previous: &[u8], heads: &BTreeMap<String, Head>) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(b"adflow checkpoint v1\x1f");
    hasher.update(id.to_be_bytes());
    hasher.update(previous);
    for (stream, (version, hash)) in heads {
        hasher.update(stream.as_bytes());
        hasher.update([0x1f]);
        hasher.update(version.to_be_bytes());
        hasher.update(hash);
        hasher.update([0x1e]);
    }
    hasher.finalize().to_vec()
}

async fn heads_of(
    pool: &PgPool,
    sql: &str,
    bind: Option<i64>,
) -> Result<BTreeMap<String, Head>, StoreError> {
    let mut query = sqlx::query(sql);
    if let Some(value) = bind {
        query = query.bind(value);
    }
    query
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| {
            Ok((
                row.try_get("stream_name")?,
                (row.try_get("stream_version")?, row.try_get("hash")?),
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

const LOG_HEADS: &str = "SELECT DISTINCT ON (stream_name) stream_name, stream_version,
                                coalesce(hash, ''::bytea) AS hash
                           FROM events ORDER BY stream_name, stream_version DESC";

/// The heads the checkpoints up to `$1` recorded, the newest per stream.
const RECORDED_HEADS: &str = "SELECT DISTINCT ON (stream_name) stream_name, stream_version, hash
                                FROM audit_checkpoint_heads WHERE checkpoint_id <= $1
                               ORDER BY stream_name, checkpoint_id DESC";

/// Takes a checkpoint of every stream head that changed since the last one; one writer at a time.
pub async fn take(pool: &PgPool, key: &SigningKey) -> Result<Checkpoint, StoreError> {
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('adflow_audit_checkpoint'))")
        .execute(&mut *tx)
        .await?;
    let last: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT id, digest FROM audit_checkpoints ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await?;
    let (previous_id, previous_digest) = last.unwrap_or((0, vec![0; 32]));
    let id = previous_id + 1;
    let log = heads_of(pool, LOG_HEADS, None).await?;
    let recorded = heads_of(pool, RECORDED_HEADS, Some(previous_id)).await?;
    let changed: BTreeMap<String, Head> = log
        .iter()
        .filter(|(stream, head)| recorded.get(*stream) != Some(*head))
        .map(|(stream, head)| (stream.clone(), head.clone()))
        .collect();
    let digest = digest(id, &previous_digest, &changed);
    let signature = key.sign(&digest);
    sqlx::query(
        "INSERT INTO audit_checkpoints (id, streams, changed, previous_digest, digest, public_key,
                                        signature)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(log.len() as i64)
    .bind(changed.len() as i64)
    .bind(&previous_digest)
    .bind(&digest)
    .bind(key.verifying_key().as_bytes().as_slice())
    .bind(signature.to_bytes().as_slice())
    .execute(&mut *tx)
    .await?;
    let streams: Vec<&String> = changed.keys().collect();
    let versions: Vec<i64> = changed.values().map(|(v, _)| *v).collect();
    let hashes: Vec<&Vec<u8>> = changed.values().map(|(_, h)| h).collect();
    sqlx::query(
        "INSERT INTO audit_checkpoint_heads (checkpoint_id, stream_name, stream_version, hash)
         SELECT $1, u.s, u.v, u.h FROM unnest($2::text[], $3::bigint[], $4::bytea[]) AS u(s, v, h)",
    )
    .bind(id)
    .bind(&streams)
    .bind(&versions)
    .bind(&hashes)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Checkpoint {
        id,
        streams: log.len() as i64,
        changed: changed.len() as i64,
        digest,
    })
}

/// Verifies the checkpoints up to `up_to` (all when `None`) with `key`, then the log's events
/// at the heads they recorded.
pub async fn verify(
    pool: &PgPool,
    key: &VerifyingKey,
    up_to: Option<i64>,
) -> Result<CheckpointReport, StoreError> {
    let rows = sqlx::query(
        "SELECT id, previous_digest, digest, signature FROM audit_checkpoints
          WHERE $1::bigint IS NULL OR id <= $1 ORDER BY id",
    )
    .bind(up_to)
    .fetch_all(pool)
    .await?;
    let mut report = CheckpointReport {
        checkpoints: rows.len() as i64,
        problem: None,
        anchors: BTreeMap::new(),
    };
    let mut previous = vec![0u8; 32];
    let mut last = 0;
    for row in &rows {
        let id: i64 = row.try_get("id")?;
        if id != last + 1 {
            report.problem = Some(CheckpointProblem::Gap {
                checkpoint: last + 1,
            });
            return Ok(report);
        }
        let heads = heads_of(
            pool,
            "SELECT stream_name, stream_version, hash FROM audit_checkpoint_heads
              WHERE checkpoint_id = $1",
            Some(id),
        )
        .await?;
        let stored: Vec<u8> = row.try_get("digest")?;
        let stored_previous: Vec<u8> = row.try_get("previous_digest")?;
        if stored_previous != previous || digest(id, &previous, &heads) != stored {
            report.problem = Some(CheckpointProblem::Digest { checkpoint: id });
            return Ok(report);
        }
        let signature: Vec<u8> = row.try_get("signature")?;
        let valid = Signature::from_slice(&signature)
            .ok()
            .is_some_and(|signature| key.verify(&stored, &signature).is_ok());
        if !valid {
            report.problem = Some(CheckpointProblem::Signature { checkpoint: id });
            return Ok(report);
        }
        previous = stored;
        last = id;
    }
    if last == 0 {
        return Ok(report);
    }
    // Every recorded head still in the log with its hash, the newest checkpoint's first.
    let recorded = sqlx::query(
        "SELECT h.checkpoint_id, h.stream_name, h.stream_version, h.hash, e.hash AS now
           FROM audit_checkpoint_heads h
           LEFT JOIN events e ON e.stream_name = h.stream_name
                             AND e.stream_version = h.stream_version
          WHERE h.checkpoint_id <= $1 AND e.hash IS DISTINCT FROM h.hash
          ORDER BY h.checkpoint_id, h.stream_name LIMIT 1",
    )
    .bind(last)
    .fetch_optional(pool)
    .await?;
    if let Some(row) = recorded {
        let now: Option<Vec<u8>> = row.try_get("now")?;
        report.problem = Some(CheckpointProblem::Head {
            checkpoint: row.try_get("checkpoint_id")?,
            stream: row.try_get("stream_name")?,
            version: row.try_get("stream_version")?,
            present: now.is_some(),
        });
        return Ok(report);
    }
    report.anchors = heads_of(pool, RECORDED_HEADS, Some(last)).await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_digest_covers_id_predecessor_and_every_head() {
        let heads = BTreeMap::from([("a-t_1".to_owned(), (3, vec![1u8; 32]))]);
        let base = digest(2, &[0; 32], &heads);
        assert_ne!(base, digest(3, &[0; 32], &heads));
        assert_ne!(base, digest(2, &[1; 32], &heads));
        let moved = BTreeMap::from([("a-t_1".to_owned(), (4, vec![1u8; 32]))]);
        assert_ne!(base, digest(2, &[0; 32], &moved));
        assert_ne!(base, digest(2, &[0; 32], &BTreeMap::new()));
    }

    #[test]
    fn keys_parse_from_hex_and_refuse_junk() {
        let key = signing_key(&"07".repeat(32)).unwrap();
        let public = to_hex(key.verifying_key().as_bytes());
        assert_eq!(public_key(&public).unwrap(), key.verifying_key());
        assert!(signing_key("abc").is_err());
        assert!(public_key(&"zz".repeat(32)).is_err());
    }
}
