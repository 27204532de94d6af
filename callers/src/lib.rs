//! Who is calling either API, and how often. A bearer value is an API key (`adf_<id>_<secret>`,
//! checked against its SHA-256 in `api_keys`) or a JWT (`adflow_auth::Authenticator`); every
//! request then passes the caller's and the tenant's rate buckets. Both live in PostgreSQL, so the
//! command API and the query API, and every instance of either, agree on them.

pub mod api_keys;
pub mod rate_limit;
pub mod signing;

pub use rate_limit::{Decision, RateLimits};
