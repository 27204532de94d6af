//! Read-your-writes: the command API answers with the log position of a write; a query that
//! passes it as `minPosition` waits (bounded) until the read model has projected that far.

use crate::errors::{database, ErrorCode};
use crate::QuerySettings;
use adflow_event_store::Position;
use async_graphql::Context;
use std::time::Duration;

pub async fn await_position(
    ctx: &Context<'_>,
    projection: &str,
    min_position: Option<&str>,
) -> async_graphql::Result<()> {
    let Some(raw) = min_position else {
        return Ok(());
    };
    let wanted: Position = raw
        .parse()
        .map_err(|e: adflow_event_store::PositionParseError| {
            ErrorCode::BadUserInput.error(e.to_string())
        })?;
    let db = ctx.data::<crate::db::ReadDb>()?;
    let timeout = ctx.data::<QuerySettings>()?.read_your_writes_timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        let reached = if projection == adflow_projections::analytics::NAME {
            let analytics = ctx
                .data::<QuerySettings>()?
                .analytics
                .as_ref()
                .ok_or_else(|| ErrorCode::Unavailable.error("analytics are not configured"))?;
            adflow_projections::analytics::queries::checkpoint(analytics, "")
                .await
                .map_err(crate::errors::analytics)?
        } else {
            adflow_projections::checkpoint(db.statement(), projection)
                .await
                .map_err(database)?
        };
        if reached >= wanted {
            return Ok(());
        }
        if tokio::time::Instant::now() + pause > deadline {
            return Err(ErrorCode::StaleRead.error(format!(
                "the {projection} read model has not reached position {wanted} within {timeout:?}; retry"
            )));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(25));
    }
}
