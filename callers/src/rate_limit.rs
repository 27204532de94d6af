//! Rate limits per caller and per tenant, held in PostgreSQL so that every instance of the
//! API counts against the same buckets. The algorithm is GCRA: a bucket stores its theoretical
//! arrival time (TAT); a command is let through when the TAT is at most one period minus one
//! interval ahead of now, which allows a burst of the whole limit and then one command per
//! interval. One statement per bucket; the row lock orders concurrent takers, across instances too.

use adflow_auth::Principal;
use sqlx::PgPool;

/// Commands per minute; 0 turns a limit off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Each caller (token subject or API key) within its tenant.
    pub per_caller_per_minute: u32,
    /// All callers of one tenant together.
    pub per_tenant_per_minute: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            per_caller_per_minute: 100,
            per_tenant_per_minute: 1_000,
        }
    }
}

/// What a bucket said.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Decision {
    Allowed,
    /// Refused; a command would be let through after this many seconds.
    Limited {
        retry_after_seconds: f64,
    },
}

const PERIOD_SECONDS: f64 = 60.0;

/// Takes one command from `bucket`, which lets `per_minute` through per minute.
pub async fn take(pool: &PgPool, bucket: &str, per_minute: u32) -> Result<Decision, sqlx::Error> {
    let interval = PERIOD_SECONDS / f64::from(per_minute.max(1));
    let tolerance = PERIOD_SECONDS - interval;
    // The outer SELECT reads the row as it was before the CTE's update: for a refusal, that is
    // the TAT that refused it.
    let (taken, ahead): (i64, Option<f64>) = sqlx::query_as(
        "WITH taken AS ( \
           INSERT INTO rate_limits AS r (bucket, tat) \
           VALUES ($1, clock_timestamp() + make_interval(secs => $2)) \
           ON CONFLICT (bucket) DO UPDATE \
             SET tat = greatest(r.tat, clock_timestamp()) + make_interval(secs => $2) \
             WHERE greatest(r.tat, clock_timestamp()) - clock_timestamp() <= make_interval(secs => $3) \
           RETURNING 1) \
         SELECT (SELECT count(*) FROM taken), \
                (SELECT extract(epoch FROM tat - clock_timestamp())::float8 FROM rate_limits WHERE bucket = $1)",
    )
    .bind(bucket)
    .bind(interval)
    .bind(tolerance)
    .fetch_one(pool)
    .await?;
    if taken > 0 {
        return Ok(Decision::Allowed);
    }
    let retry_after_seconds = (ahead.unwrap_or(interval) - tolerance).max(0.0);
    Ok(Decision::Limited {
        retry_after_seconds,
    })
}

/// Takes one request from the caller's bucket, then the tenant's (a caller refused on its own
/// limit does not use up its tenant's). `Some(seconds)` to wait when refused.
pub async fn check(
    pool: &PgPool,
    limits: RateLimits,
    scope: &str,
    principal: &Principal,
) -> Result<Option<u64>, sqlx::Error> {
    let tenant = principal.tenant_id.0;
    let buckets = [
        (
            format!("{scope}caller:{tenant}:{}", principal.subject),
            limits.per_caller_per_minute,
        ),
        (
            format!("{scope}tenant:{tenant}"),
            limits.per_tenant_per_minute,
        ),
    ];
    for (bucket, per_minute) in buckets {
        if per_minute == 0 {
            continue;
        }
        if let Decision::Limited {
            retry_after_seconds,
        } = take(pool, &bucket, per_minute).await?
        {
            return Ok(Some(retry_after_seconds.ceil().max(1.0) as u64));
        }
    }
    Ok(None)
}
