//! Projectors: they follow the global log and keep read models in PostgreSQL, and the analytics
//! tables in ClickHouse.
//!
//! A projector's checkpoint row is updated in the same transaction as the rows it changes, so a
//! crash at any point neither loses nor doubles an update. Any read model can be rebuilt from the
//! start of the log.

pub mod activity;
pub mod analytics;
pub mod audiences;
mod campaign_batch;
pub mod campaigns;
pub mod dispatcher;
pub mod lag;
pub mod live;
pub mod notifications;
pub mod rebuild;
mod runtime;

pub use runtime::{checkpoint, Projection, ProjectionError, Projector, ProjectorOptions};

use std::sync::Arc;

/// Every Postgres read model, by name (the names `adflow projections rebuild` accepts).
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(campaigns::CampaignsProjection),
        Arc::new(audiences::AudiencesProjection),
        Arc::new(activity::ActivityProjection),
        Arc::new(notifications::NotificationsProjection),
    ]
}

pub fn by_name(name: &str) -> Option<Arc<dyn Projection>> {
    all().into_iter().find(|p| p.name() == name)
}

/// Event parts for JSON columns. The domain's types are plain data that cannot fail to serialise;
/// `Null` would only mark a bug, visibly.
pub(crate) fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
