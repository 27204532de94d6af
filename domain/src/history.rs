//! An aggregate's states from its events, folded with the aggregate's own `evolve` (the code the
//! command side decides with): what an auditor replays, as JSON, for any category of stream.

use crate::aggregate::Aggregate;
use crate::audience::Audience;
use crate::campaign::Campaign;
use crate::inbound::InboundLedger;
use crate::monitoring::CampaignMonitor;
use crate::notifications::Inbox;
use crate::performance::CampaignPerformance;
use crate::personal::DataSubject;
use crate::retention::RetentionLedger;
use crate::tenant::TenantSettings;
use crate::DomainEvent;
use serde::Serialize;

/// One recorded event as the fold reads it.
pub struct RecordedPayload<'a> {
    pub event_type: &'a str,
    pub schema_version: u32,
    pub data: &'a serde_json::Value,
}

/// Why a history does not fold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FoldError {
    #[error("no aggregate has the category {0}")]
    UnknownCategory(String),
    #[error("event {index} ({event_type}) does not fold: {reason}")]
    Unreadable {
        index: usize,
        event_type: String,
        reason: String,
    },
}

fn fold<A>(events: &[RecordedPayload<'_>]) -> Result<Vec<serde_json::Value>, FoldError>
where
    A: Aggregate,
    A::State: Serialize,
{
    let mut state: Option<A::State> = None;
    let mut after_each = Vec::with_capacity(events.len());
    for (index, e) in events.iter().enumerate() {
        let unreadable = |reason: String| FoldError::Unreadable {
            index,
            event_type: e.event_type.to_owned(),
            reason,
        };
        let event = A::Event::from_payload(e.event_type, e.schema_version, e.data)
            .map_err(|error| unreadable(error.to_string()))?;
        let next =
            A::evolve(state.take(), &event).map_err(|error| unreadable(error.to_string()))?;
        after_each.push(serde_json::to_value(&next).unwrap_or(serde_json::Value::Null));
        state = Some(next);
    }
    Ok(after_each)
}

/// The state after each of `events` (a stream's, from its first) of an aggregate of `category`.
pub fn states(
    category: &str,
    events: &[RecordedPayload<'_>],
) -> Result<Vec<serde_json::Value>, FoldError> {
    match category {
        Campaign::CATEGORY => fold::<Campaign>(events),
        Audience::CATEGORY => fold::<Audience>(events),
        TenantSettings::CATEGORY => fold::<TenantSettings>(events),
        CampaignPerformance::CATEGORY => fold::<CampaignPerformance>(events),
        CampaignMonitor::CATEGORY => fold::<CampaignMonitor>(events),
        DataSubject::CATEGORY => fold::<DataSubject>(events),
        RetentionLedger::CATEGORY => fold::<RetentionLedger>(events),
        Inbox::CATEGORY => fold::<Inbox>(events),
        InboundLedger::CATEGORY => fold::<InboundLedger>(events),
        other => Err(FoldError::UnknownCategory(other.to_owned())),
    }
}

/// One value that differs between two states, at its JSON pointer.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub path: String,
    /// `Null` where the field did not exist.
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// What differs between two states: objects field by field, lists of the same length item by
/// item, anything else as a whole.
pub fn diff(before: &serde_json::Value, after: &serde_json::Value) -> Vec<Change> {
    fn walk(path: String, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<Change>) {
        use serde_json::Value;
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for key in keys {
                    let escaped = key.replace('~', "~0").replace('/', "~1");
                    walk(
                        format!("{path}/{escaped}"),
                        x.get(key).unwrap_or(&Value::Null),
                        y.get(key).unwrap_or(&Value::Null),
                        out,
                    );
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (p, q)) in x.iter().zip(y).enumerate() {
                    walk(format!("{path}/{i}"), p, q, out);
                }
            }
            _ if a != b => out.push(Change {
                path,
                before: a.clone(),
                after: b.clone(),
            }),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(String::new(), before, after, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_diff_names_each_changed_leaf_by_its_pointer() {
        let before = json!({"name": "A", "budget": {"total": 10, "daily": [1, 2]}, "gone": true});
        let after = json!({"name": "B", "budget": {"total": 10, "daily": [1, 3]}, "new/field": 1});
        let changes = diff(&before, &after);
        let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(paths, ["/budget/daily/1", "/gone", "/name", "/new~1field"]);
        assert_eq!(changes[2].before, json!("A"));
        assert_eq!(changes[2].after, json!("B"));
        assert_eq!(changes[1].after, serde_json::Value::Null);
        assert!(diff(&after, &after).is_empty());
    }
}
