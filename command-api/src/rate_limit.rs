//! The command API's rate limits: the shared buckets (`adflow_callers::rate_limit`), answered
//! with 429 and `Retry-After`.

use crate::problem::ApiError;
use adflow_auth::Principal;
pub use adflow_callers::rate_limit::{take, Decision, RateLimits};
use sqlx::PgPool;

/// Checks the caller's bucket, then the tenant's.
pub(crate) async fn check(
    pool: &PgPool,
    limits: RateLimits,
    principal: &Principal,
) -> Result<(), ApiError> {
    match adflow_callers::rate_limit::check(pool, limits, "", principal).await? {
        None => Ok(()),
        Some(retry_after_seconds) => Err(ApiError::RateLimited {
            retry_after_seconds,
        }),
    }
}
