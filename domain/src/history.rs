//! An aggregate's states from its events, folded with the aggregate's own `evolve` (the code the
//! command side decides with): what an auditor replays, as JSON, for any category of stream.

use crate::aggregate::Aggregate;
use crate::audience::Audience;
use crate::campaign::Campaign;
use crate::monitoring::CampaignMonitor;
use crate::performance::CampaignPerformance;
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
        other => Err(FoldError::UnknownCategory(other.to_owned())),
    }
}
