//! The model registry (`prediction_models`): each trained model with its version, training
//! window, data digest, metrics and artifact. The newest version of a tenant's target serves.

use super::features::Target;
use super::model::{Architecture, RateModel};
use super::text::TextVectors;
use super::RateEstimator;
use crate::artifact::Artifact;
use crate::MlError;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

fn db(error: sqlx::Error) -> MlError {
    MlError::Backend(error.to_string())
}

/// What the registry says about one model (without its weights).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRecord {
    pub tenant_id: Uuid,
    pub target: String,
    pub version: i32,
    pub architecture: String,
    pub trained_at: DateTime<Utc>,
    pub window_from: DateTime<Utc>,
    pub window_to: DateTime<Utc>,
    pub data_sha256: String,
    pub metrics: serde_json::Value,
}

impl ModelRecord {
    /// `ctr-factorisation-machine@3`: what events record.
    pub fn label(&self) -> String {
        format!("{}-{}@{}", self.target, self.architecture, self.version)
    }
}

/// The training window of a model.
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub data_sha256: String,
}

fn architecture(name: &str) -> Result<Architecture, MlError> {
    match name {
        "logistic-regression" => Ok(Architecture::Logistic),
        "factorisation-machine" => Ok(Architecture::FactorisationMachine),
        other => Err(MlError::Model(format!("unknown architecture {other}"))),
    }
}

/// A trained model taken off the device: what the registry stores.
pub struct Trained {
    target: &'static str,
    architecture: &'static str,
    metrics: HashMap<String, f64>,
    tensors: Vec<(String, Vec<f32>)>,
    metrics_json: serde_json::Value,
}

impl Trained {
    pub fn new(estimator: &RateEstimator) -> Result<Trained, MlError> {
        let mut metrics = estimator.metrics.clone();
        metrics.insert("interval_prior_trials".into(), estimator.evidence.prior);
        metrics.insert("interval_trial_weight".into(), estimator.evidence.weight);
        let unit_trials: Vec<(String, f64)> = estimator
            .unit_trials
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        let mut metrics_json =
            serde_json::to_value(&metrics).map_err(|e| MlError::Model(e.to_string()))?;
        metrics_json["unitTrials"] = serde_json::json!(unit_trials);
        if let Some(vectors) = estimator.model.text_vectors() {
            metrics_json["textEncoder"] = serde_json::json!(vectors.version());
        }
        Ok(Trained {
            target: estimator.target.as_str(),
            architecture: estimator.model.architecture.as_str(),
            metrics,
            tensors: estimator.model.tensors()?,
            metrics_json,
        })
    }
}

/// Stores `trained` as the tenant's next version of its target; returns the record.
pub async fn register(
    pool: &PgPool,
    tenant: Uuid,
    trained: Trained,
    window: &Window,
) -> Result<ModelRecord, MlError> {
    let Trained {
        target,
        architecture,
        metrics,
        tensors,
        metrics_json,
    } = trained;
    let mut transaction = pool.begin().await.map_err(db)?;
    // One registration at a time per tenant and target: the version is the next one.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext($1 || $2::text))")
        .bind(target)
        .bind(tenant)
        .execute(&mut *transaction)
        .await
        .map_err(db)?;
    let version: i32 = sqlx::query_scalar(
        "SELECT COALESCE(max(version), 0) + 1 FROM prediction_models WHERE tenant_id = $1 AND target = $2",
    )
    .bind(tenant)
    .bind(target)
    .fetch_one(&mut *transaction)
    .await
    .map_err(db)?;
    let views: Vec<(&str, &[f32])> = tensors
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    let bytes = Artifact::write(
        &format!("{target}-{architecture}"),
        &version.to_string(),
        &window.data_sha256,
        &metrics,
        &views,
    )?;
    let record: (DateTime<Utc>,) = sqlx::query_as(
        "INSERT INTO prediction_models (tenant_id, target, version, architecture, window_from, \
         window_to, data_sha256, metrics, artifact) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING trained_at",
    )
    .bind(tenant)
    .bind(target)
    .bind(version)
    .bind(architecture)
    .bind(window.from)
    .bind(window.to)
    .bind(&window.data_sha256)
    .bind(&metrics_json)
    .bind(&bytes)
    .fetch_one(&mut *transaction)
    .await
    .map_err(db)?;
    transaction.commit().await.map_err(db)?;
    Ok(ModelRecord {
        tenant_id: tenant,
        target: target.to_owned(),
        version,
        architecture: architecture.to_owned(),
        trained_at: record.0,
        window_from: window.from,
        window_to: window.to,
        data_sha256: window.data_sha256.clone(),
        metrics: metrics_json,
    })
}

type Row = (
    Uuid,
    String,
    i32,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    DateTime<Utc>,
    String,
    serde_json::Value,
);

fn record(row: Row) -> ModelRecord {
    ModelRecord {
        tenant_id: row.0,
        target: row.1,
        version: row.2,
        architecture: row.3,
        trained_at: row.4,
        window_from: row.5,
        window_to: row.6,
        data_sha256: row.7,
        metrics: row.8,
    }
}

/// Every model of the tenant, newest first.
pub async fn list(pool: &PgPool, tenant: Uuid) -> Result<Vec<ModelRecord>, MlError> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT tenant_id, target, version, architecture, trained_at, window_from, window_to, \
         data_sha256, metrics FROM prediction_models WHERE tenant_id = $1 \
         ORDER BY trained_at DESC, target",
    )
    .bind(tenant)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(rows.into_iter().map(record).collect())
}

/// The newest model of the tenant's target, loaded onto `device`; a model that reads words reads
/// them through `text`, which must be the encoder it was trained with.
pub async fn latest(
    pool: &PgPool,
    tenant: Uuid,
    target: Target,
    text: &Arc<TextVectors>,
    device: tch::Device,
) -> Result<Option<(ModelRecord, RateEstimator)>, MlError> {
    let row: Option<(Row, Vec<u8>)> = sqlx::query_as::<_, (Uuid, String, i32, String, DateTime<Utc>, DateTime<Utc>, DateTime<Utc>, String, serde_json::Value, Vec<u8>)>(
        "SELECT tenant_id, target, version, architecture, trained_at, window_from, window_to, \
         data_sha256, metrics, artifact FROM prediction_models WHERE tenant_id = $1 AND target = $2 \
         ORDER BY version DESC LIMIT 1",
    )
    .bind(tenant)
    .bind(target.as_str())
    .fetch_optional(pool)
    .await
    .map_err(db)?
    .map(|r| ((r.0, r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8), r.9));
    let Some((row, bytes)) = row else {
        return Ok(None);
    };
    let record = record(row);
    let artifact = Artifact::parse(&bytes, &record.label())?;
    if let Some(encoder) = record.metrics["textEncoder"].as_str() {
        if encoder != text.version() {
            return Err(MlError::Model(format!(
                "{} was trained on {encoder} embeddings, this process has {}",
                record.label(),
                text.version()
            )));
        }
    }
    let model = RateModel::from_tensors(
        architecture(&record.architecture)?,
        &|name| artifact.floats(name),
        &|name| artifact.has(name),
        Some(text.clone()),
        device,
    )?;
    let unit_trials: HashMap<String, f64> = record.metrics["unitTrials"]
        .as_array()
        .map(|pairs| {
            pairs
                .iter()
                .filter_map(|p| Some((p[0].as_str()?.to_owned(), p[1].as_f64()?)))
                .collect()
        })
        .unwrap_or_default();
    let evidence = super::Evidence {
        prior: record.metrics["interval_prior_trials"]
            .as_f64()
            .unwrap_or(100.0),
        weight: record.metrics["interval_trial_weight"]
            .as_f64()
            .unwrap_or(1.0),
    };
    let metrics = artifact.metrics.clone();
    Ok(Some((
        record,
        RateEstimator {
            target,
            model,
            evidence,
            unit_trials,
            metrics,
        },
    )))
}

/// Tenants with figures but no model trained within `max_age`: what the schedule retrains.
pub async fn stale(
    pool: &PgPool,
    tenants: &[Uuid],
    max_age: chrono::Duration,
) -> Result<Vec<Uuid>, MlError> {
    let fresh: Vec<Uuid> = sqlx::query_scalar(
        "SELECT DISTINCT tenant_id FROM prediction_models WHERE trained_at > now() - make_interval(secs => $1)",
    )
    .bind(max_age.num_seconds() as f64)
    .fetch_all(pool)
    .await
    .map_err(db)?;
    Ok(tenants
        .iter()
        .copied()
        .filter(|t| !fresh.contains(t))
        .collect())
}
