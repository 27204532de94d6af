//! Field-level validation results. A command is checked completely: every violation is reported at
//! once, each with the path of the offending field (like Google Ads' `field_path_elements`), so a
//! client can fix everything in one round trip.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Violation {
    /// JSON-pointer-like path in the command's wire shape, for example `platforms/1` or `criteria/include/titles`.
    pub path: String,
    /// A stable machine code, for example `too_long`.
    pub code: String,
    /// Human-readable explanation.
    pub message: String,
}

/// An ordered collection of violations, built up while checking a command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violations(Vec<Violation>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, path: impl Into<String>, code: &str, message: impl Into<String>) {
        self.0.push(Violation {
            path: path.into(),
            code: code.to_owned(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Violation> {
        self.0.iter()
    }

    pub fn as_slice(&self) -> &[Violation] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<Violation> {
        self.0
    }

    /// `Ok(value)` when nothing was violated, otherwise every violation collected.
    pub fn into_result<T>(self, value: T) -> Result<T, Violations> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}
