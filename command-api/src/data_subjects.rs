//! GDPR for data subjects (Admin): erasure by crypto-shredding and export (portability).
//!
//! A subject's personal values are sealed in the log under the subject's own keys
//! (`adflow_event_store::personal`). Erasure destroys those keys first, then records the erasure
//! on the subject's stream through the one write path, so the trail shows who erased whom and
//! when; the sealed values read as erased everywhere from then on. A CRM identifier's subject id
//! is `adflow_domain::personal::subject_of_identifier` of its hash.

use crate::context::CommandContext;
use crate::problem::ApiError;
use crate::AppState;
use adflow_application::{Command, Expected};
use adflow_auth::Action;
use adflow_domain::aggregate::parse_stream_name;
use adflow_domain::personal::{DataSubject, DataSubjectCommand};
use adflow_event_store::personal::SubjectKeys;
use adflow_event_store::Position;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use uuid::Uuid;

/// Events read per page while an export scans the tenant's log.
const EXPORT_PAGE: usize = 1_000;

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataSubjectErasure {
    pub data_subject: Uuid,
    /// Keys destroyed by this request (0 when an earlier erasure already destroyed them all).
    pub keys_destroyed: u32,
    /// The erasure's event on the subject's stream.
    pub version: u64,
    pub position: Option<String>,
}

/// Everything the tenant's log holds about one subject, opened with its keys.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataSubjectExport {
    pub data_subject: Uuid,
    /// Whether an erasure destroyed some of the subject's keys.
    pub erased: bool,
    pub records: Vec<PersonalRecord>,
}

#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PersonalRecord {
    pub stream: String,
    pub version: u64,
    pub event_type: String,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
    /// The value in the clear; absent when erased.
    pub value: Option<String>,
    pub erased: bool,
}

fn subject_id(raw: &str) -> Result<Uuid, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound)
}

pub async fn erase(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
) -> Result<(StatusCode, Json<DataSubjectErasure>), ApiError> {
    context.require(Action::ManageSettings, "erase a data subject")?;
    let subject = subject_id(&id)?;
    let tenant = context.principal.tenant_id;
    // Keys first: if recording fails, a retry finds nothing left to destroy and records then.
    let keys_destroyed = SubjectKeys::new(state.pool.clone())
        .erase(tenant.0, subject)
        .await?;
    let outcome = state
        .application
        .execute::<DataSubject>(Command {
            tenant,
            aggregate_id: subject,
            expected: Expected::Latest,
            command: DataSubjectCommand::RecordErasure {
                data_subject: subject,
                tenant_id: tenant,
                keys_destroyed,
            },
            metadata: context.metadata(),
            once_per_cause: false,
        })
        .await?;
    tracing::info!(data_subject = %subject, keys_destroyed, "data subject erased");
    Ok((
        StatusCode::OK,
        Json(DataSubjectErasure {
            data_subject: subject,
            keys_destroyed,
            version: outcome.version(),
            position: outcome.position().map(|p| p.to_string()),
        }),
    ))
}

pub async fn export(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
) -> Result<Json<DataSubjectExport>, ApiError> {
    context.require(Action::ManageSettings, "export a data subject's data")?;
    let subject = subject_id(&id)?;
    let tenant = context.principal.tenant_id;
    let keys = SubjectKeys::new(state.pool.clone());
    let (erased, _) = keys.status(tenant.0, subject).await?;
    let needle = subject.to_string();
    let mut records = Vec::new();
    // A scan of the log: exports are rare, and a subject index would be one more copy of who
    // appears where.
    let mut after = Position::START;
    loop {
        let page = state
            .application
            .reader()
            .read_all(after, EXPORT_PAGE)
            .await?;
        let Some(last) = page.last() else { break };
        after = last.position;
        for mut event in page {
            let ours = event.metadata.tenant_id == tenant.0
                && parse_stream_name(&event.stream_name).is_some_and(|(_, t, _)| t == tenant);
            if !ours || !event.data.to_string().contains(&needle) {
                continue;
            }
            keys.unseal(tenant.0, &mut event.data).await?;
            collect(&event.data, &needle, &mut |value, erased| {
                records.push(PersonalRecord {
                    stream: event.stream_name.clone(),
                    version: event.stream_version,
                    event_type: event.event_type.clone(),
                    recorded_at: event.recorded_at,
                    value,
                    erased,
                });
            });
        }
    }
    Ok(Json(DataSubjectExport {
        data_subject: subject,
        erased,
        records,
    }))
}

/// Calls `found` for every personal value of `subject` in `data`.
fn collect(data: &serde_json::Value, subject: &str, found: &mut dyn FnMut(Option<String>, bool)) {
    let mut stack = vec![data];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::Object(map) => {
                if map.get("dataSubject").and_then(|s| s.as_str()) == Some(subject) {
                    let plain = map.get("plain").and_then(|p| p.as_str()).map(str::to_owned);
                    let erased = map.get("erased").and_then(|e| e.as_bool()) == Some(true);
                    found(plain, erased);
                } else {
                    stack.extend(map.values());
                }
            }
            serde_json::Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
}
