//! Retention: data kept no longer than its category's period. The sweeper (an adapter) removes
//! what is past its period and records each removal here, per tenant, so the trail shows what
//! was removed, of which category, up to when.

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What kind of data a retention period applies to.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RetentionCategory {
    /// The platforms' hourly figures in the analytics store ("hot"); the daily rollup and the
    /// reports in the log stay.
    RawPlatformData,
    /// Refused commands in the access log.
    AccessLog,
    /// CRM identifier hashes: their subjects' keys are destroyed (crypto-shredding).
    CrmIdentifiers,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RetentionCommand {
    RecordSweep {
        category: RetentionCategory,
        /// Data older than this was removed.
        cutoff: NaiveDate,
        removed: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RetentionApplied {
    pub category: RetentionCategory,
    pub cutoff: NaiveDate,
    /// Rows (or keys) removed for this tenant.
    pub removed: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum RetentionEvent {
    Applied(RetentionApplied),
}

impl RetentionEvent {
    pub const APPLIED: &'static str = "RetentionApplied";
}

impl DomainEvent for RetentionEvent {
    fn to_payload(&self) -> EventPayload {
        match self {
            RetentionEvent::Applied(e) => encode(Self::APPLIED, 1, e),
        }
    }

    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        match (event_type, schema_version) {
            (Self::APPLIED, 1) => {
                decode(event_type, schema_version, data).map(RetentionEvent::Applied)
            }
            _ => Err(unknown(event_type, schema_version)),
        }
    }
}

/// Per category: how much was removed in all, and up to when, last.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RetentionState {
    pub removed: BTreeMap<RetentionCategory, u64>,
    pub last_cutoff: BTreeMap<RetentionCategory, NaiveDate>,
}

/// A tenant's retention ledger; its stream is keyed by the tenant's own id.
pub struct RetentionLedger;

impl Aggregate for RetentionLedger {
    type State = RetentionState;
    type Command = RetentionCommand;
    type Event = RetentionEvent;
    const CATEGORY: &'static str = "retention";

    fn decide(
        _state: Option<&RetentionState>,
        command: &RetentionCommand,
        _now: DateTime<Utc>,
    ) -> Result<Vec<RetentionEvent>, Rejection> {
        let RetentionCommand::RecordSweep {
            category,
            cutoff,
            removed,
        } = command;
        // A sweep that removed nothing changed nothing.
        Ok(if *removed == 0 {
            vec![]
        } else {
            vec![RetentionEvent::Applied(RetentionApplied {
                category: *category,
                cutoff: *cutoff,
                removed: *removed,
            })]
        })
    }

    fn evolve(
        state: Option<RetentionState>,
        event: &RetentionEvent,
    ) -> Result<RetentionState, HistoryError> {
        let mut state = state.unwrap_or_default();
        let RetentionEvent::Applied(e) = event;
        *state.removed.entry(e.category).or_default() += e.removed;
        state.last_cutoff.insert(e.category, e.cutoff);
        Ok(state)
    }
}
