//! The ad platforms.
//!
//! - [`gateway`]: the port the workers use (`AdPlatform`: deploy, push a change, pull reports),
//!   one adapter per platform: [`google`] (Google Ads REST) and [`linkedin`] (LinkedIn Marketing
//!   API), HTTP through one `reqwest` client with retries ([`http`]).
//! - [`sandbox`]: both APIs on loopback — their request and response shapes, validation rules,
//!   error bodies, quotas, rate limits and faults on request — over the [`simulator`], the market
//!   whose hidden truth evaluations score models against.
//!
//! Real endpoints are configuration ([`Endpoints`]), never code.

pub mod credentials;
mod error;
pub mod gateway;
pub mod google;
pub mod http;
mod hub;
pub mod linkedin;
pub mod simulator;

pub use error::{Cause, PlatformError};
pub use gateway::{
    Account, AdPlatform, Change, Deployed, DeploymentKey, ExternalResource, Granularity, ReportRow,
    SearchTermRow,
};
pub use http::{Endpoints, RetryPolicy};
pub use hub::Platforms;
pub mod samples;
pub mod sandbox;
