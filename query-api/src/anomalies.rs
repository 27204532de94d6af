//! What the anomaly detector found in a campaign's figures (`AnomalyDetected` on the campaign's
//! monitor stream), read from the `activity` read model, newest first.

use crate::db::ReadDb;
use crate::errors::database;
use crate::loaders::Owned;
use adflow_domain::monitoring::{monitor_stream_id, AnomalyDetected};
use async_graphql::dataloader::Loader;
use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use sqlx::Row;
use std::collections::HashMap;
use uuid::Uuid;

/// A metric that departed from what was expected over a window of hours. Money (spend, cost
/// per conversion) is in the campaign's currency.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Anomaly")]
pub struct AnomalyFound {
    /// SPEND, IMPRESSIONS, CLICKS, CTR, CONVERSIONS or COST_PER_CONVERSION.
    pub metric: String,
    /// The start of the last hour of the window (UTC).
    pub hour: DateTime<Utc>,
    pub window_hours: i32,
    /// Null: not defined (a cost per conversion without conversions).
    pub observed: Option<f64>,
    pub expected: f64,
    /// The range an observation would have passed within; `high` null: no upper bound.
    pub low: f64,
    pub high: Option<f64>,
    /// The detector's name and version.
    pub detector: String,
    pub detected_at: DateTime<Utc>,
}

/// An `activity` row of an `AnomalyDetected` event (its `data` and `recorded_at`).
pub fn decode(row: &sqlx::postgres::PgRow) -> Option<AnomalyFound> {
    let data: serde_json::Value = row.try_get("data").ok()?;
    let event = serde_json::from_value::<AnomalyDetected>(data).ok()?;
    let finding = event.finding;
    Some(AnomalyFound {
        metric: finding.metric.as_str().to_owned(),
        hour: finding.hour,
        window_hours: i32::try_from(finding.window_hours).unwrap_or(i32::MAX),
        observed: finding.observed,
        expected: finding.expected,
        low: finding.low,
        high: finding.high,
        detector: event.detector,
        detected_at: row.try_get("recorded_at").ok()?,
    })
}

/// The `activity` rows of the campaigns' monitor streams (`keys` name campaigns) of the given
/// event types, in `order`, each with the campaign it belongs to.
pub async fn monitor_events(
    db: &ReadDb,
    keys: &[Owned],
    event_types: &[&str],
    order: &str,
) -> Result<Vec<(Owned, sqlx::postgres::PgRow)>, async_graphql::Error> {
    let monitors: HashMap<(Uuid, Uuid), Owned> = keys
        .iter()
        .map(|k| ((k.tenant, monitor_stream_id(k.id)), *k))
        .collect();
    let (tenants, ids): (Vec<Uuid>, Vec<Uuid>) = monitors.keys().copied().unzip();
    let types: Vec<String> = event_types.iter().map(|t| (*t).to_owned()).collect();
    let rows = sqlx::query(&format!(
        "SELECT tenant_id, aggregate_id, event_type, data, recorded_at FROM activity \
         WHERE category = 'monitor' AND event_type = ANY($3) \
           AND (tenant_id, aggregate_id) IN (SELECT * FROM unnest($1::uuid[], $2::uuid[])) \
         ORDER BY {order}"
    ))
    .bind(tenants)
    .bind(ids)
    .bind(types)
    .fetch_all(db.statement())
    .await
    .map_err(database)?;
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        let (tenant, monitor): (Uuid, Uuid) = (
            row.try_get("tenant_id").map_err(database)?,
            row.try_get("aggregate_id").map_err(database)?,
        );
        if let Some(key) = monitors.get(&(tenant, monitor)) {
            found.push((*key, row));
        }
    }
    Ok(found)
}

/// Anomalies by campaign (the key's id), newest first.
pub struct AnomaliesLoader(pub ReadDb);

impl Loader<Owned> for AnomaliesLoader {
    type Value = Vec<AnomalyFound>;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Owned]) -> Result<HashMap<Owned, Self::Value>, Self::Error> {
        let rows = monitor_events(
            &self.0,
            keys,
            &["AnomalyDetected"],
            "data->>'hour' DESC, stream_version DESC",
        )
        .await?;
        let mut found: HashMap<Owned, Vec<AnomalyFound>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for (key, row) in rows {
            if let Some(anomaly) = decode(&row) {
                found.entry(key).or_default().push(anomaly);
            }
        }
        Ok(found)
    }
}
