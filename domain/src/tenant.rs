//! A tenant's settings: for now the guardrails within which optimisation proposals may apply
//! themselves. A tenant that never set them has the defaults (no automatic changes).

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::campaign::Guardrails;
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::violation::Violations;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq)]
pub enum TenantCommand {
    SetGuardrails(Guardrails),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailsSet {
    pub guardrails: Guardrails,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TenantEvent {
    GuardrailsSet(GuardrailsSet),
}

impl TenantEvent {
    pub const GUARDRAILS_SET: &'static str = "GuardrailsSet";
}

impl DomainEvent for TenantEvent {
    fn to_payload(&self) -> EventPayload {
        match self {
            TenantEvent::GuardrailsSet(e) => encode(Self::GUARDRAILS_SET, 1, e),
        }
    }

    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        match (event_type, schema_version) {
            (Self::GUARDRAILS_SET, 1) => {
                decode(event_type, schema_version, data).map(TenantEvent::GuardrailsSet)
            }
            _ => Err(unknown(event_type, schema_version)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSettingsState {
    pub guardrails: Guardrails,
}

/// The settings aggregate; its stream is keyed by the tenant's own id.
pub struct TenantSettings;

impl Aggregate for TenantSettings {
    type State = TenantSettingsState;
    type Command = TenantCommand;
    type Event = TenantEvent;
    const CATEGORY: &'static str = "tenant";

    fn decide(
        state: Option<&TenantSettingsState>,
        command: &TenantCommand,
        _now: DateTime<Utc>,
    ) -> Result<Vec<TenantEvent>, Rejection> {
        let TenantCommand::SetGuardrails(guardrails) = command;
        let mut violations = Violations::new();
        if guardrails.min_confidence_basis_points > 10_000 {
            violations.push(
                "minConfidenceBasisPoints",
                "too_large",
                "at most 10000 (certain)",
            );
        }
        if guardrails.max_daily_budget_change_basis_points > 10_000 {
            violations.push(
                "maxDailyBudgetChangeBasisPoints",
                "too_large",
                "at most 10000 (±100 %)",
            );
        }
        let current = state.map(|s| s.guardrails).unwrap_or_default();
        let events = if state.is_some() && current == *guardrails {
            vec![]
        } else {
            vec![TenantEvent::GuardrailsSet(GuardrailsSet {
                guardrails: *guardrails,
            })]
        };
        violations.into_result(events).map_err(Rejection::Invalid)
    }

    fn evolve(
        _state: Option<TenantSettingsState>,
        event: &TenantEvent,
    ) -> Result<TenantSettingsState, HistoryError> {
        let TenantEvent::GuardrailsSet(e) = event;
        Ok(TenantSettingsState {
            guardrails: e.guardrails,
        })
    }
}
