//! Adflow's domain: aggregates decide, events record, rules live here once.
//!
//! Pure by construction: no IO, no async, no clock. The caller passes "now" in, so every rule is a
//! deterministic function that a property test can hammer without a runtime.

pub mod aggregate;
pub mod audience;
pub mod campaign;
pub mod contracts;
pub mod event;
pub mod history;
pub mod ids;
pub mod inbound;
pub mod metrics;
pub mod monitoring;
pub mod notifications;
pub mod optimisation;
pub mod performance;
pub mod personal;
pub mod platform_rules;
pub mod retention;
pub mod scenario;
pub mod structure;
pub mod templates;
pub mod tenant;
pub mod text;
pub mod violation;

pub use aggregate::{Aggregate, Rejection};
pub use event::{DecodeError, DomainEvent, EventPayload};
pub use ids::{AudienceId, CampaignId, TenantId};
pub use violation::{Violation, Violations};
