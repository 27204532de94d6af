//! A tenant's settings: for now the guardrails within which optimisation proposals may apply
//! themselves. A tenant that never set them has the defaults (no automatic changes).

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::campaign::{Guardrails, Platform};
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::optimisation::DecisionRules;
use crate::violation::Violations;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq)]
pub enum TenantCommand {
    SetGuardrails(Guardrails),
    SetDecisionRules(DecisionRules),
    /// Connect an ad account (as the caller typed its ids); its secret is kept outside the log.
    ConnectPlatform {
        platform: Platform,
        account_id: String,
        login_customer_id: Option<String>,
    },
    DisconnectPlatform {
        platform: Platform,
    },
    /// An integrator's API key was issued (the command API keeps its secret's hash for
    /// authentication; the trail keeps who issued what, for whom, with which role).
    RecordApiKeyCreated {
        key_id: Uuid,
        name: String,
        role: String,
    },
    RecordApiKeyRevoked {
        key_id: Uuid,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GuardrailsSet {
    pub guardrails: Guardrails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionRulesSet {
    pub rules: DecisionRules,
}

/// An ad account of the tenant, as the platform names it (never its credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformAccount {
    /// Google: the customer id, ten digits. LinkedIn: the ad account's numeric id.
    pub account_id: String,
    /// Google: the manager account access goes through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_customer_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformConnected {
    pub platform: Platform,
    #[serde(flatten)]
    pub account: PlatformAccount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformDisconnected {
    pub platform: Platform,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyCreated {
    pub key_id: Uuid,
    pub name: String,
    /// `admin`, `manager`, `analyst`, `viewer` or `auditor`.
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyRevoked {
    pub key_id: Uuid,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TenantEvent {
    GuardrailsSet(GuardrailsSet),
    DecisionRulesSet(DecisionRulesSet),
    PlatformConnected(PlatformConnected),
    PlatformDisconnected(PlatformDisconnected),
    ApiKeyCreated(ApiKeyCreated),
    ApiKeyRevoked(ApiKeyRevoked),
}

impl TenantEvent {
    pub const GUARDRAILS_SET: &'static str = "GuardrailsSet";
    pub const DECISION_RULES_SET: &'static str = "DecisionRulesSet";
    pub const PLATFORM_CONNECTED: &'static str = "PlatformConnected";
    pub const PLATFORM_DISCONNECTED: &'static str = "PlatformDisconnected";
    pub const API_KEY_CREATED: &'static str = "ApiKeyCreated";
    pub const API_KEY_REVOKED: &'static str = "ApiKeyRevoked";
}

impl DomainEvent for TenantEvent {
    fn to_payload(&self) -> EventPayload {
        match self {
            TenantEvent::GuardrailsSet(e) => encode(Self::GUARDRAILS_SET, 1, e),
            TenantEvent::DecisionRulesSet(e) => encode(Self::DECISION_RULES_SET, 1, e),
            TenantEvent::PlatformConnected(e) => encode(Self::PLATFORM_CONNECTED, 1, e),
            TenantEvent::PlatformDisconnected(e) => encode(Self::PLATFORM_DISCONNECTED, 1, e),
            TenantEvent::ApiKeyCreated(e) => encode(Self::API_KEY_CREATED, 1, e),
            TenantEvent::ApiKeyRevoked(e) => encode(Self::API_KEY_REVOKED, 1, e),
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
            (Self::DECISION_RULES_SET, 1) => {
                decode(event_type, schema_version, data).map(TenantEvent::DecisionRulesSet)
            }
            (Self::PLATFORM_CONNECTED, 1) => {
                decode(event_type, schema_version, data).map(TenantEvent::PlatformConnected)
            }
            (Self::PLATFORM_DISCONNECTED, 1) => {
                decode(event_type, schema_version, data).map(TenantEvent::PlatformDisconnected)
            }
            (Self::API_KEY_CREATED, 1) => {
                decode(event_type, schema_version, data).map(TenantEvent::ApiKeyCreated)
            }
            (Self::API_KEY_REVOKED, 1) => {
                decode(event_type, schema_version, data).map(TenantEvent::ApiKeyRevoked)
            }
            _ => Err(unknown(event_type, schema_version)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantSettingsState {
    pub guardrails: Guardrails,
    #[serde(default)]
    pub decision_rules: DecisionRules,
    /// The connected ad account of each platform.
    #[serde(default)]
    pub connections: BTreeMap<Platform, PlatformAccount>,
    /// Every API key issued (or revoked) since the trail began, by id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub api_keys: BTreeMap<Uuid, ApiKeyState>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyState {
    /// Absent for a key issued before its creation was recorded.
    pub name: Option<String>,
    pub role: Option<String>,
    pub revoked: bool,
}

/// Digits only: `123-456-7890` and `urn:li:sponsoredAccount:123` are read as their digits.
fn account_digits(
    value: &str,
    path: &str,
    digits: Option<usize>,
    violations: &mut Violations,
) -> String {
    let text = value.trim();
    let text = text
        .strip_prefix("urn:li:sponsoredAccount:")
        .unwrap_or(text);
    let cleaned: String = text.chars().filter(|c| *c != '-').collect();
    let well_formed = !cleaned.is_empty()
        && cleaned.len() <= 20
        && cleaned.bytes().all(|b| b.is_ascii_digit())
        && digits.is_none_or(|n| cleaned.len() == n);
    if !well_formed {
        let expected = match digits {
            Some(n) => format!("{n} digits (dashes allowed)"),
            None => "the account's numeric id".to_owned(),
        };
        violations.push(path, "invalid_account_id", expected);
    }
    cleaned
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
        match command {
            TenantCommand::SetGuardrails(guardrails) => set_guardrails(state, guardrails),
            TenantCommand::SetDecisionRules(rules) => {
                let mut violations = Violations::new();
                rules.check(&mut violations);
                let unchanged = state.is_some_and(|s| s.decision_rules == *rules);
                let events = if unchanged {
                    vec![]
                } else {
                    vec![TenantEvent::DecisionRulesSet(DecisionRulesSet {
                        rules: *rules,
                    })]
                };
                violations.into_result(events).map_err(Rejection::Invalid)
            }
            TenantCommand::ConnectPlatform {
                platform,
                account_id,
                login_customer_id,
            } => {
                let mut violations = Violations::new();
                let google = *platform == Platform::Google;
                let account = PlatformAccount {
                    account_id: account_digits(
                        account_id,
                        "accountId",
                        google.then_some(10),
                        &mut violations,
                    ),
                    login_customer_id: match login_customer_id {
                        Some(login) if google => Some(account_digits(
                            login,
                            "loginCustomerId",
                            Some(10),
                            &mut violations,
                        )),
                        Some(_) => {
                            violations.push(
                                "loginCustomerId",
                                "not_applicable",
                                "only Google Ads accounts have a login customer",
                            );
                            None
                        }
                        None => None,
                    },
                };
                let unchanged = state.and_then(|s| s.connections.get(platform)) == Some(&account);
                let events = if unchanged {
                    vec![]
                } else {
                    vec![TenantEvent::PlatformConnected(PlatformConnected {
                        platform: *platform,
                        account,
                    })]
                };
                violations.into_result(events).map_err(Rejection::Invalid)
            }
            TenantCommand::RecordApiKeyCreated { key_id, name, role } => {
                Ok(if state.is_some_and(|s| s.api_keys.contains_key(key_id)) {
                    vec![]
                } else {
                    vec![TenantEvent::ApiKeyCreated(ApiKeyCreated {
                        key_id: *key_id,
                        name: name.clone(),
                        role: role.clone(),
                    })]
                })
            }
            // A key issued before the trail began is revoked on the record all the same.
            TenantCommand::RecordApiKeyRevoked { key_id } => Ok(
                if state
                    .and_then(|s| s.api_keys.get(key_id))
                    .is_some_and(|key| key.revoked)
                {
                    vec![]
                } else {
                    vec![TenantEvent::ApiKeyRevoked(ApiKeyRevoked {
                        key_id: *key_id,
                    })]
                },
            ),
            TenantCommand::DisconnectPlatform { platform } => {
                if state.is_some_and(|s| s.connections.contains_key(platform)) {
                    Ok(vec![TenantEvent::PlatformDisconnected(
                        PlatformDisconnected {
                            platform: *platform,
                        },
                    )])
                } else {
                    Err(Rejection::NotFound {
                        kind: "platform connection",
                    })
                }
            }
        }
    }

    fn evolve(
        state: Option<TenantSettingsState>,
        event: &TenantEvent,
    ) -> Result<TenantSettingsState, HistoryError> {
        let mut state = state.unwrap_or_default();
        match event {
            TenantEvent::GuardrailsSet(e) => state.guardrails = e.guardrails,
            TenantEvent::DecisionRulesSet(e) => state.decision_rules = e.rules,
            TenantEvent::PlatformConnected(e) => {
                state.connections.insert(e.platform, e.account.clone());
            }
            TenantEvent::PlatformDisconnected(e) => {
                state.connections.remove(&e.platform);
            }
            TenantEvent::ApiKeyCreated(e) => {
                state.api_keys.insert(
                    e.key_id,
                    ApiKeyState {
                        name: Some(e.name.clone()),
                        role: Some(e.role.clone()),
                        revoked: false,
                    },
                );
            }
            TenantEvent::ApiKeyRevoked(e) => {
                state
                    .api_keys
                    .entry(e.key_id)
                    .or_insert(ApiKeyState {
                        name: None,
                        role: None,
                        revoked: false,
                    })
                    .revoked = true;
            }
        }
        Ok(state)
    }
}

fn set_guardrails(
    state: Option<&TenantSettingsState>,
    guardrails: &Guardrails,
) -> Result<Vec<TenantEvent>, Rejection> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn connect(platform: Platform, account: &str, login: Option<&str>) -> TenantCommand {
        TenantCommand::ConnectPlatform {
            platform,
            account_id: account.into(),
            login_customer_id: login.map(Into::into),
        }
    }

    #[test]
    fn accounts_are_connected_by_their_ids_and_the_log_holds_no_secret() {
        let connected = TenantEvent::PlatformConnected(PlatformConnected {
            platform: Platform::Google,
            account: PlatformAccount {
                account_id: "1234567890".into(),
                login_customer_id: Some("9876543210".into()),
            },
        });
        Scenario::<TenantSettings>::given(vec![])
            .when(connect(
                Platform::Google,
                "123-456-7890",
                Some("987-654-3210"),
            ))
            .then(vec![connected.clone()]);
        // The same account again: nothing new to record.
        Scenario::<TenantSettings>::given(vec![connected.clone()])
            .when(connect(Platform::Google, "1234567890", Some("9876543210")))
            .then(vec![]);
        Scenario::<TenantSettings>::given(vec![])
            .when(connect(
                Platform::Linkedin,
                "urn:li:sponsoredAccount:510000001",
                None,
            ))
            .then(vec![TenantEvent::PlatformConnected(PlatformConnected {
                platform: Platform::Linkedin,
                account: PlatformAccount {
                    account_id: "510000001".into(),
                    login_customer_id: None,
                },
            })]);
        Scenario::<TenantSettings>::given(vec![])
            .when(connect(Platform::Google, "12345", Some("x")))
            .then_violations(&[
                ("accountId", "invalid_account_id"),
                ("loginCustomerId", "invalid_account_id"),
            ]);
        Scenario::<TenantSettings>::given(vec![])
            .when(connect(Platform::Linkedin, "510000001", Some("1")))
            .then_violations(&[("loginCustomerId", "not_applicable")]);
        let state = TenantSettings::fold(std::slice::from_ref(&connected))
            .unwrap()
            .unwrap();
        assert!(state.connections.contains_key(&Platform::Google));
        Scenario::<TenantSettings>::given(vec![connected])
            .when(TenantCommand::DisconnectPlatform {
                platform: Platform::Google,
            })
            .then(vec![TenantEvent::PlatformDisconnected(
                PlatformDisconnected {
                    platform: Platform::Google,
                },
            )]);
        assert!(matches!(
            Scenario::<TenantSettings>::given(vec![])
                .when(TenantCommand::DisconnectPlatform {
                    platform: Platform::Google
                })
                .into_result(),
            Err(Rejection::NotFound { .. })
        ));
    }
}
