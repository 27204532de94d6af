//! The decider shape every aggregate follows: `decide(state, command, now) -> events | rejection` and
//! `evolve(state, event) -> state`. "Not yet created" is `None`, so creation rules and update rules
//! never mix with null checks.

use crate::event::DomainEvent;
use crate::ids::TenantId;
use crate::violation::Violations;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// Why the domain refused a command. These are business answers, never infrastructure failures
/// (a lost connection or a version conflict is the adapters' error, not a `Rejection`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("the command is invalid ({} violation(s))", .0.len())]
    Invalid(Violations),
    #[error("this {kind} already exists")]
    AlreadyExists { kind: &'static str },
    #[error("this {kind} does not exist")]
    NotFound { kind: &'static str },
    /// The command is not possible in the aggregate's current state (`cannot approve a campaign
    /// that is DRAFT`).
    #[error("cannot {command} a {kind} that is {status}")]
    IllegalTransition {
        kind: &'static str,
        command: &'static str,
        status: &'static str,
    },
}

/// The stream of events does not describe a possible history: it was written by a buggy version or
/// tampered with. Loading such an aggregate must fail loudly, never guess.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("impossible history for {kind}: {reason}")]
pub struct HistoryError {
    pub kind: &'static str,
    pub reason: &'static str,
}

pub trait Aggregate {
    /// The state of a created aggregate.
    type State;
    type Command;
    type Event: DomainEvent;
    /// The stream category (the part of the stream name before the first `-`).
    const CATEGORY: &'static str;

    fn decide(
        state: Option<&Self::State>,
        command: &Self::Command,
        now: DateTime<Utc>,
    ) -> Result<Vec<Self::Event>, Rejection>;

    fn evolve(state: Option<Self::State>, event: &Self::Event)
        -> Result<Self::State, HistoryError>;

    /// Folds a whole history; `None` when the history is empty.
    fn fold<'a>(
        events: impl IntoIterator<Item = &'a Self::Event>,
    ) -> Result<Option<Self::State>, HistoryError>
    where
        Self::Event: 'a,
    {
        events
            .into_iter()
            .try_fold(None, |state, event| Self::evolve(state, event).map(Some))
    }
}

/// The stream of one aggregate: the category, then the tenant, then the aggregate id, so that a
/// tenant's data is scoped from the stream name on (`campaign-<tenant>_<id>`).
pub fn stream_name<A: Aggregate>(tenant: TenantId, id: Uuid) -> String {
    format!("{}-{}_{}", A::CATEGORY, tenant, id)
}

/// The category, tenant and aggregate id that [`stream_name`] put into a stream name.
pub fn parse_stream_name(stream: &str) -> Option<(&str, TenantId, Uuid)> {
    let (category, rest) = stream.split_once('-')?;
    let (tenant, id) = rest.split_once('_')?;
    Some((category, TenantId(tenant.parse().ok()?), id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::Campaign;

    #[test]
    fn stream_names_carry_category_and_tenant() {
        let tenant = TenantId(Uuid::nil());
        let id = Uuid::max();
        assert_eq!(
            stream_name::<Campaign>(tenant, id),
            "campaign-00000000-0000-0000-0000-000000000000_ffffffff-ffff-ffff-ffff-ffffffffffff"
        );
        assert_eq!(
            parse_stream_name(&stream_name::<Campaign>(tenant, id)),
            Some(("campaign", tenant, id))
        );
        assert_eq!(parse_stream_name("campaign-nope_nope"), None);
        assert_eq!(parse_stream_name("campaign"), None);
    }
}
