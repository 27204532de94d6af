//! `adflow audit replay`: the log (a stream, a tenant's, or all of it) between positions or times,
//! filtered by aggregate category, event type, actor and correlation id, written to stdout as
//! NDJSON or CSV in log order, with a progress bar on stderr. Read in pages by position, so a
//! log of any size streams through in constant memory. Personal values are opened with their
//! subjects' keys; an erased subject's read as erased.

use crate::config::Config;
use crate::platform::{self, PlatformError};
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::io::Write;
use uuid::Uuid;

const PAGE: i64 = 2_000;

/// What to replay.
#[derive(Debug, Clone, Default)]
pub struct ReplayFilter {
    pub stream: Option<String>,
    pub tenant: Option<Uuid>,
    /// The category (`campaign`, `audience`, `tenant`, `monitor`, `performance`).
    pub category: Option<String>,
    pub event_types: Vec<String>,
    pub actor: Option<String>,
    pub correlation: Option<Uuid>,
    pub from_position: Option<i64>,
    pub to_position: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReplayFormat {
    Ndjson,
    Csv,
}

const COLUMNS: [&str; 11] = [
    "position",
    "stream",
    "version",
    "eventType",
    "schemaVersion",
    "tenantId",
    "actor",
    "correlationId",
    "causationId",
    "recordedAt",
    "data",
];

/// The filter's values as `$1`..`$10` of the conditions `replay` writes.
fn bind<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    filter: &'q ReplayFilter,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(&filter.stream)
        .bind(filter.tenant)
        .bind(&filter.category)
        .bind(&filter.event_types)
        .bind(&filter.actor)
        .bind(filter.correlation)
        .bind(filter.from_position)
        .bind(filter.to_position)
        .bind(filter.from)
        .bind(filter.to)
}

/// A CSV field: quoted when it holds a separator, a quote or a line break (RFC 4180).
fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_owned()
    }
}

/// Writes the replay to `out`; returns how many events it wrote.
pub async fn replay(
    config: &Config,
    filter: &ReplayFilter,
    format: ReplayFormat,
    out: &mut impl Write,
) -> Result<u64, PlatformError> {
    let pool = platform::connect(config).await?;
    let conditions = "($1::text IS NULL OR stream_name = $1)
        AND ($2::uuid IS NULL OR tenant_id = $2)
        AND ($3::text IS NULL OR split_part(stream_name, '-', 1) = $3)
        AND (cardinality($4::text[]) = 0 OR event_type = ANY($4))
        AND ($5::text IS NULL OR actor = $5)
        AND ($6::uuid IS NULL OR correlation_id = $6)
        AND ($7::bigint IS NULL OR position >= $7)
        AND ($8::bigint IS NULL OR position <= $8)
        AND ($9::timestamptz IS NULL OR recorded_at >= $9)
        AND ($10::timestamptz IS NULL OR recorded_at <= $10)";
    let total: i64 = bind(
        sqlx::query(&format!("SELECT count(*) FROM events WHERE {conditions}")),
        filter,
    )
    .fetch_one(&pool)
    .await?
    .try_get(0)?;
    let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(0));
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("replay [{bar:40}] {pos}/{len} events, ETA {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let io = |e: std::io::Error| PlatformError::Usage(format!("cannot write the replay: {e}"));
    if format == ReplayFormat::Csv {
        writeln!(out, "{}", COLUMNS.join(",")).map_err(io)?;
    }
    let keys = adflow_event_store::personal::SubjectKeys::new(pool.clone());
    let mut after = 0i64;
    let mut written = 0u64;
    loop {
        let rows = bind(
            sqlx::query(&format!(
                "SELECT position, stream_name, stream_version, event_type, schema_version, tenant_id,
                    actor, correlation_id, causation_id, recorded_at, data
               FROM events WHERE {conditions} AND position > $11
              ORDER BY position LIMIT {PAGE}"
            )),
            filter,
        )
        .bind(after)
        .fetch_all(&pool)
        .await?;
        for row in &rows {
            let position: i64 = row.try_get("position")?;
            let mut data: serde_json::Value = row.try_get("data")?;
            keys.unseal(row.try_get("tenant_id")?, &mut data).await?;
            let record = serde_json::json!({
                "position": position,
                "stream": row.try_get::<String, _>("stream_name")?,
                "version": row.try_get::<i64, _>("stream_version")?,
                "eventType": row.try_get::<String, _>("event_type")?,
                "schemaVersion": row.try_get::<i32, _>("schema_version")?,
                "tenantId": row.try_get::<Uuid, _>("tenant_id")?,
                "actor": row.try_get::<String, _>("actor")?,
                "correlationId": row.try_get::<Uuid, _>("correlation_id")?,
                "causationId": row.try_get::<Uuid, _>("causation_id")?,
                "recordedAt": row.try_get::<DateTime<Utc>, _>("recorded_at")?,
                "data": data,
            });
            match format {
                ReplayFormat::Ndjson => writeln!(out, "{record}").map_err(io)?,
                ReplayFormat::Csv => {
                    let fields: Vec<String> = COLUMNS
                        .iter()
                        .map(|c| match &record[*c] {
                            serde_json::Value::String(s) => csv_field(s),
                            other => csv_field(&other.to_string()),
                        })
                        .collect();
                    writeln!(out, "{}", fields.join(",")).map_err(io)?;
                }
            }
            after = position;
            written += 1;
        }
        bar.inc(rows.len() as u64);
        if (rows.len() as i64) < PAGE {
            break;
        }
    }
    out.flush().map_err(io)?;
    bar.finish_and_clear();
    pool.close().await;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_only_when_they_must_be() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }
}
