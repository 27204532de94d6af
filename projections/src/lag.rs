//! How far each projector is behind the log, in events and in seconds, for metrics.

use crate::analytics::{queries, Analytics};
use crate::runtime::checkpoint;
use adflow_event_store::Position;
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq)]
pub struct Lag {
    pub projection: &'static str,
    pub checkpoint: Position,
    /// Events in the log after the checkpoint.
    pub events: i64,
    /// Age of the oldest event not yet projected (0 when caught up).
    pub seconds: f64,
}

/// The lag of every projection, measured against the PostgreSQL event store's `events` table;
/// with `analytics`, the ClickHouse projector's too (left out, with a warning, while ClickHouse
/// cannot be reached: the other figures stay available).
pub async fn lags(pool: &PgPool, analytics: Option<&Analytics>) -> Result<Vec<Lag>, sqlx::Error> {
    let mut checkpoints = Vec::new();
    for projection in crate::all() {
        checkpoints.push((
            projection.name(),
            checkpoint(pool, projection.name()).await?,
        ));
    }
    if let Some(analytics) = analytics {
        match queries::checkpoint(analytics, "").await {
            Ok(at) => checkpoints.push((crate::analytics::NAME, at)),
            Err(error) => tracing::warn!(%error, "analytics checkpoint unavailable for metrics"),
        }
    }
    let mut lags = Vec::new();
    for (name, at) in checkpoints {
        let (events, seconds): (i64, f64) = sqlx::query_as(
            "SELECT count(*), coalesce(extract(epoch FROM now() - min(recorded_at))::float8, 0) \
             FROM events WHERE (commit_id, position) > ($1, $2)",
        )
        .bind(i64::try_from(at.commit).unwrap_or(i64::MAX))
        .bind(i64::try_from(at.prepare).unwrap_or(i64::MAX))
        .fetch_one(pool)
        .await?;
        lags.push(Lag {
            projection: name,
            checkpoint: at,
            events,
            seconds: seconds.max(0.0),
        });
    }
    Ok(lags)
}

/// The Prometheus text exposition of `lags`.
pub fn prometheus(lags: &[Lag]) -> String {
    let mut out = String::from(
        "# HELP adflow_projection_lag_events Events in the log not yet projected.\n\
         # TYPE adflow_projection_lag_events gauge\n",
    );
    for lag in lags {
        out.push_str(&format!(
            "adflow_projection_lag_events{{projection=\"{}\"}} {}\n",
            lag.projection, lag.events
        ));
    }
    out.push_str(
        "# HELP adflow_projection_lag_seconds Age of the oldest event not yet projected.\n\
         # TYPE adflow_projection_lag_seconds gauge\n",
    );
    for lag in lags {
        out.push_str(&format!(
            "adflow_projection_lag_seconds{{projection=\"{}\"}} {:.3}\n",
            lag.projection, lag.seconds
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exposition_names_each_projection() {
        let text = prometheus(&[Lag {
            projection: "campaigns",
            checkpoint: Position::START,
            events: 3,
            seconds: 1.5,
        }]);
        assert!(
            text.contains("adflow_projection_lag_events{projection=\"campaigns\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("adflow_projection_lag_seconds{projection=\"campaigns\"} 1.500\n"),
            "{text}"
        );
    }
}
