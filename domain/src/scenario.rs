//! Given / when / then for aggregates: business rules read as tests a product person can review.
//!
//! ```
//! use adflow_domain::scenario::Scenario;
//! use adflow_domain::campaign::{Campaign, CampaignCommand};
//! use adflow_domain::Rejection;
//! Scenario::<Campaign>::given(vec![])
//!     .when(CampaignCommand::Rename { name: "x".into() })
//!     .then_rejected(Rejection::NotFound { kind: "campaign" });
//! ```

use crate::aggregate::{Aggregate, Rejection};
use chrono::{DateTime, TimeZone, Utc};
use std::fmt::Debug;

pub struct Scenario<A: Aggregate> {
    history: Vec<A::Event>,
    now: DateTime<Utc>,
}

pub struct Outcome<A: Aggregate> {
    result: Result<Vec<A::Event>, Rejection>,
}

impl<A: Aggregate> Scenario<A>
where
    A::Event: Debug + PartialEq,
{
    /// The fixed "now" of scenarios unless `at` says otherwise: 2026-01-01T00:00:00Z.
    pub fn default_now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
    }

    pub fn given(history: Vec<A::Event>) -> Self {
        Self {
            history,
            now: Self::default_now(),
        }
    }

    pub fn at(self, now: DateTime<Utc>) -> Self {
        Self { now, ..self }
    }

    pub fn when(self, command: A::Command) -> Outcome<A> {
        let state = match A::fold(self.history.iter()) {
            Ok(state) => state,
            Err(e) => panic!("the given history is impossible: {e}"),
        };
        Outcome {
            result: A::decide(state.as_ref(), &command, self.now),
        }
    }
}

impl<A: Aggregate> Outcome<A>
where
    A::Event: Debug + PartialEq,
{
    pub fn then(self, expected: Vec<A::Event>) {
        assert_eq!(self.result, Ok(expected));
    }

    pub fn then_rejected(self, expected: Rejection) {
        assert_eq!(self.result, Err(expected));
    }

    /// Asserts the command was refused as invalid with exactly these `(path, code)` pairs, in order.
    pub fn then_violations(self, expected: &[(&str, &str)]) {
        match self.result {
            Err(Rejection::Invalid(violations)) => {
                let got: Vec<(&str, &str)> = violations
                    .iter()
                    .map(|v| (v.path.as_str(), v.code.as_str()))
                    .collect();
                assert_eq!(got, expected);
            }
            other => panic!("expected violations {expected:?}, got {other:?}"),
        }
    }

    pub fn into_result(self) -> Result<Vec<A::Event>, Rejection> {
        self.result
    }
}
