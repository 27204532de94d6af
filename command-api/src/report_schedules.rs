//! Scheduled performance reports (Admin, Manager): a period, a grouping and a format, sent
//! daily or weekly by e-mail to the creator's notification address, or to a webhook signed the
//! Standard Webhooks way (its secret shown once). The projections process runs them
//! (`src/report_schedules.rs`); the first run is due at once.

use crate::body::JsonBody;
use crate::context::CommandContext;
use crate::problem::ApiError;
use crate::AppState;
use adflow_auth::Action;
use adflow_domain::Violations;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Cadence {
    /// Every day at 06:00 UTC, for the day before.
    Daily,
    /// Every Monday at 06:00 UTC, for the seven days before.
    Weekly,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportGrouping {
    Day,
    Platform,
    Campaign,
    AdGroup,
    Segment,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReportFileFormat {
    Csv,
    Xlsx,
    Json,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportScheduleRequest {
    /// Shown in the e-mail's subject.
    #[schemars(schema_with = "crate::contract::name")]
    pub name: String,
    pub cadence: Cadence,
    pub group_by: ReportGrouping,
    pub format: ReportFileFormat,
    /// Next to the period of the same length just before.
    #[serde(default)]
    pub compare_previous_period: bool,
    /// Where to POST the file; without it, the report goes by e-mail to your notification
    /// address (`POST /v1/notification-preferences`).
    #[serde(default)]
    #[schemars(schema_with = "crate::contract::webhook_url_or_null")]
    pub webhook_url: Option<String>,
}

/// A new schedule, with the webhook signing secret when it delivers to a webhook (shown in this
/// answer only).
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportScheduleCreated {
    pub id: Uuid,
    pub webhook_secret: Option<String>,
}

/// What a deletion or a run asked for answers.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportScheduleChanged {
    pub id: Uuid,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReportRunRequest {
    /// The last day of the period to report (a DAILY schedule's one day, a WEEKLY one's seventh):
    /// sent now, to the schedule's destination, besides its regular runs.
    #[schemars(schema_with = "crate::contract::analytics_date")]
    pub period_end: String,
}

fn names(request: &ReportScheduleRequest) -> (&'static str, &'static str, &'static str) {
    let cadence = match request.cadence {
        Cadence::Daily => "DAILY",
        Cadence::Weekly => "WEEKLY",
    };
    let group_by = match request.group_by {
        ReportGrouping::Day => "DAY",
        ReportGrouping::Platform => "PLATFORM",
        ReportGrouping::Campaign => "CAMPAIGN",
        ReportGrouping::AdGroup => "AD_GROUP",
        ReportGrouping::Segment => "SEGMENT",
    };
    let format = match request.format {
        ReportFileFormat::Csv => "CSV",
        ReportFileFormat::Xlsx => "XLSX",
        ReportFileFormat::Json => "JSON",
    };
    (cadence, group_by, format)
}

pub async fn create(
    State(state): State<AppState>,
    context: CommandContext,
    body: JsonBody<ReportScheduleRequest>,
) -> Result<(StatusCode, Json<ReportScheduleCreated>), ApiError> {
    context.require(Action::ManageCampaigns, "schedule reports")?;
    let request = body.value;
    let mut violations = Violations::new();
    let name = adflow_domain::text::required_line(
        &request.name,
        "name",
        adflow_domain::campaign::NAME_MAX_CHARS,
        &mut violations,
    );
    if !violations.is_empty() {
        return Err(ApiError::Invalid(violations.into_vec()));
    }
    if request
        .webhook_url
        .as_deref()
        .is_some_and(|url| !crate::webhooks::receiver_url(url))
    {
        let mut violations = Violations::new();
        violations.push(
            "webhookUrl",
            "invalid",
            "must be an http or https URL with a host name, an optional port and a plain path",
        );
        return Err(ApiError::Invalid(violations.into_vec()));
    }
    let (cadence, group_by, format) = names(&request);
    let id = Uuid::now_v7();
    let secret = request
        .webhook_url
        .as_ref()
        .map(|_| crate::webhooks::new_secret());
    sqlx::query(
        "INSERT INTO report_schedules (id, tenant_id, name, cadence, group_by, format, compare,
                                       money, created_by, webhook_url, webhook_secret)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(context.principal.tenant_id.0)
    .bind(&name)
    .bind(cadence)
    .bind(group_by)
    .bind(format)
    .bind(request.compare_previous_period)
    .bind(context.principal.role.may(Action::ReadSpend))
    .bind(context.principal.actor())
    .bind(&request.webhook_url)
    .bind(&secret)
    .execute(&state.pool)
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(ReportScheduleCreated {
            id,
            webhook_secret: secret,
        }),
    ))
}

pub async fn delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
) -> Result<Json<ReportScheduleChanged>, ApiError> {
    context.require(Action::ManageCampaigns, "schedule reports")?;
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let deleted = sqlx::query("DELETE FROM report_schedules WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(context.principal.tenant_id.0)
        .execute(&state.pool)
        .await?;
    if deleted.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(Json(ReportScheduleChanged { id }))
}

/// Sends a schedule's report for a chosen period now (a resend, or a period before the schedule
/// existed); the regular runs go on as they were.
pub async fn run_now(
    State(state): State<AppState>,
    Path(id): Path<String>,
    context: CommandContext,
    body: JsonBody<ReportRunRequest>,
) -> Result<Json<ReportScheduleChanged>, ApiError> {
    context.require(Action::ManageCampaigns, "schedule reports")?;
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    let first = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let last = chrono::NaiveDate::from_ymd_opt(2099, 12, 31).unwrap_or_default();
    let end = chrono::NaiveDate::parse_from_str(&body.value.period_end, "%Y-%m-%d")
        .ok()
        .filter(|day| (first..=last).contains(day))
        .ok_or_else(|| {
            let mut violations = Violations::new();
            violations.push(
                "periodEnd",
                "invalid",
                format!("must be a day between {first} and {last}"),
            );
            ApiError::Invalid(violations.into_vec())
        })?;
    let asked = sqlx::query(
        "UPDATE report_schedules SET manual_period_end = $3 WHERE id = $1 AND tenant_id = $2",
    )
    .bind(id)
    .bind(context.principal.tenant_id.0)
    .bind(end)
    .execute(&state.pool)
    .await?;
    if asked.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(Json(ReportScheduleChanged { id }))
}
