//! Projectors: they follow the global log and keep read models in PostgreSQL.
//!
//! A projector's checkpoint row is updated in the same transaction as the rows it changes, so a
//! crash at any point neither loses nor doubles an update. Any read model can be rebuilt from the
//! start of the log.

pub mod campaigns;
mod runtime;

pub use runtime::{checkpoint, Projection, ProjectionError, Projector, ProjectorOptions};

use std::sync::Arc;

/// Every Postgres read model, by name (the names `adflow projections rebuild` accepts).
pub fn all() -> Vec<Arc<dyn Projection>> {
    vec![Arc::new(campaigns::CampaignsProjection)]
}

pub fn by_name(name: &str) -> Option<Arc<dyn Projection>> {
    all().into_iter().find(|p| p.name() == name)
}
