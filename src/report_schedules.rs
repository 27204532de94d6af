//! Runs scheduled reports (`report_schedules`, created over the command API): a due schedule's
//! report covers the day before (DAILY) or the seven days before (WEEKLY), is summed by the same
//! code as `GET /v1/reports/performance`, and goes by e-mail (attached, to the creator's
//! notification address) or to a webhook (the file as the body, signed the Standard Webhooks
//! way). Every run is logged in `report_runs`; the next is due at 06:00 UTC the next day, or the
//! next Monday. A run that could not be summed is tried again in five minutes. One running
//! process (the projections process) per database.

use crate::config::Config;
use adflow_domain::notifications::inbox_id;
use adflow_event_store::personal::SubjectKeys;
use adflow_projections::analytics::Analytics;
use adflow_query_api::reports::{self, GroupBy, ReportFormat, ReportRequest};
use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};
use lettre::message::{header::ContentType, Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncTransport, Message};
use sqlx::{PgPool, Row};
use std::time::Duration;
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The hour (UTC) schedules run at: the day before is complete in every platform's reports by then.
const RUN_HOUR: u32 = 6;

/// The days a report ending on `end` covers: that day, or the seven days to it.
pub fn period(weekly: bool, end: NaiveDate) -> (NaiveDate, NaiveDate) {
    if weekly {
        (end.checked_sub_days(Days::new(6)).unwrap_or(end), end)
    } else {
        (end, end)
    }
}

/// When a schedule is next due after `now`: 06:00 UTC the next day, or the next Monday.
pub fn next_run(weekly: bool, now: DateTime<Utc>) -> DateTime<Utc> {
    let at_six = |day: NaiveDate| {
        day.and_time(NaiveTime::from_hms_opt(RUN_HOUR, 0, 0).unwrap_or_default())
            .and_utc()
    };
    let mut day = now.date_naive();
    loop {
        let candidate = at_six(day);
        if candidate > now && (!weekly || day.weekday() == chrono::Weekday::Mon) {
            return candidate;
        }
        day = day.succ_opt().unwrap_or(day);
    }
}

/// A schedule that is due.
struct Due {
    id: Uuid,
    tenant: Uuid,
    name: String,
    weekly: bool,
    group_by: GroupBy,
    format: ReportFormat,
    compare: bool,
    money: bool,
    created_by: String,
    webhook_url: Option<String>,
    webhook_secret: Option<String>,
    /// A run asked for by hand, for the period ending this day.
    manual_end: Option<NaiveDate>,
}

fn group_by(text: &str) -> GroupBy {
    match text {
        "DAY" => GroupBy::Day,
        "PLATFORM" => GroupBy::Platform,
        "AD_GROUP" => GroupBy::AdGroup,
        "SEGMENT" => GroupBy::Segment,
        _ => GroupBy::Campaign,
    }
}

fn format(text: &str) -> ReportFormat {
    match text {
        "XLSX" => ReportFormat::Xlsx,
        "JSON" => ReportFormat::Json,
        _ => ReportFormat::Csv,
    }
}

/// Runs due schedules until shutdown.
pub async fn run_periodically(
    pool: PgPool,
    analytics: Analytics,
    config: Config,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let http = match crate::webhooks::outbound_client(&config) {
        Ok(client) => client,
        Err(error) => {
            tracing::error!(%error, "no scheduled reports");
            return;
        }
    };
    let keys = SubjectKeys::new(pool.clone());
    loop {
        if let Err(error) = round(&pool, &analytics, &keys, &config, &http).await {
            tracing::warn!(%error, "scheduled reports round failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(config.report_schedule_poll_ms.max(10))) => {}
            _ = shutdown.changed() => return,
        }
    }
}

async fn round(
    pool: &PgPool,
    analytics: &Analytics,
    keys: &SubjectKeys,
    config: &Config,
    http: &reqwest::Client,
) -> Result<(), BoxError> {
    let rows = sqlx::query(
        "SELECT id, tenant_id, name, cadence, group_by, format, compare, money, created_by,
                webhook_url, webhook_secret, manual_period_end
           FROM report_schedules
          WHERE next_run_at <= now() OR manual_period_end IS NOT NULL
          ORDER BY next_run_at LIMIT 20",
    )
    .fetch_all(pool)
    .await?;
    for row in rows {
        let due = Due {
            id: row.try_get("id")?,
            tenant: row.try_get("tenant_id")?,
            name: row.try_get("name")?,
            weekly: row.try_get::<String, _>("cadence")? == "WEEKLY",
            group_by: group_by(row.try_get("group_by")?),
            format: format(row.try_get("format")?),
            compare: row.try_get("compare")?,
            money: row.try_get("money")?,
            created_by: row.try_get("created_by")?,
            webhook_url: row.try_get("webhook_url")?,
            webhook_secret: row.try_get("webhook_secret")?,
            manual_end: row.try_get("manual_period_end")?,
        };
        run(pool, analytics, keys, config, http, &due).await?;
    }
    Ok(())
}

async fn run(
    pool: &PgPool,
    analytics: &Analytics,
    keys: &SubjectKeys,
    config: &Config,
    http: &reqwest::Client,
    due: &Due,
) -> Result<(), BoxError> {
    let now = Utc::now();
    let end = due
        .manual_end
        .unwrap_or_else(|| now.date_naive() - Days::new(1));
    let (from, to) = period(due.weekly, end);
    let request = ReportRequest {
        tenant: due.tenant,
        from,
        to,
        group_by: due.group_by,
        compare: due.compare,
        campaign_ids: vec![],
        platform: None,
        format: due.format,
        money: due.money,
    };
    let (bytes, outcome, next) = match reports::build(analytics, pool, request).await {
        // The analytics store may be busy: the same period again soon.
        Err(error) => (
            0,
            Err(format!("not summed: {error}")),
            now + chrono::Duration::minutes(5),
        ),
        Ok(report) => match reports::render(&report) {
            Err(error) => (
                0,
                Err(format!("not written: {error}")),
                next_run(due.weekly, now),
            ),
            Ok(file) => {
                let name = format!(
                    "{}-{from}-{to}.{}",
                    due.name
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                        .collect::<String>(),
                    due.format.extension()
                );
                let sent = deliver(pool, keys, config, http, due, (from, to), &name, &file).await;
                (file.len(), sent, next_run(due.weekly, now))
            }
        },
    };
    if let Err(why) = &outcome {
        tracing::warn!(schedule = %due.id, error = %why, "a scheduled report was not delivered");
    }
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO report_runs (schedule_id, period_from, period_to, delivered, error, bytes)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(due.id)
    .bind(from)
    .bind(to)
    .bind(outcome.is_ok())
    .bind(outcome.err())
    .bind(i32::try_from(bytes).unwrap_or(i32::MAX))
    .execute(&mut *tx)
    .await?;
    // A run by hand is done once, whatever became of it, and leaves the schedule as it was.
    let statement = if due.manual_end.is_some() {
        "UPDATE report_schedules SET manual_period_end = NULL WHERE id = $1"
    } else {
        "UPDATE report_schedules SET next_run_at = $2 WHERE id = $1"
    };
    sqlx::query(statement)
        .bind(due.id)
        .bind(next)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn deliver(
    pool: &PgPool,
    keys: &SubjectKeys,
    config: &Config,
    http: &reqwest::Client,
    due: &Due,
    (from, to): (NaiveDate, NaiveDate),
    file_name: &str,
    file: &[u8],
) -> Result<(), String> {
    if let (Some(url), Some(secret)) = (&due.webhook_url, &due.webhook_secret) {
        crate::webhooks::allowed_target(url, config.webhooks_allow_private)
            .await
            .map_err(|why| format!("target refused: {why}"))?;
        let id = Uuid::new_v5(&due.id, from.to_string().as_bytes()).to_string();
        let timestamp = Utc::now().timestamp();
        let response = http
            .post(url)
            .header("content-type", due.format.content_type())
            .header(
                "content-disposition",
                format!("attachment; filename=\"{file_name}\""),
            )
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header(
                "webhook-signature",
                adflow_callers::signing::signature_header(
                    std::slice::from_ref(secret),
                    &id,
                    timestamp,
                    file,
                ),
            )
            .body(file.to_vec())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        return if response.status().is_success() {
            Ok(())
        } else {
            Err(format!("answered {}", response.status()))
        };
    }
    let smtp = crate::notifications::smtp_transport(config)
        .ok_or_else(|| "no SMTP server configured".to_owned())?;
    let address =
        crate::notifications::user_email(pool, keys, due.tenant, inbox_id(&due.created_by))
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "its creator has no notification e-mail address".to_owned())?;
    let text = format!(
        "Your scheduled report \"{}\" for {from} to {to} is attached ({}).\n\n-- \nAdflow scheduled reports. Delete the schedule to stop them.\n",
        due.name,
        due.format.extension().to_uppercase()
    );
    let content_type = ContentType::parse(due.format.content_type()).map_err(|e| e.to_string())?;
    let message = Message::builder()
        .from(
            config
                .smtp_from
                .parse::<Mailbox>()
                .map_err(|e| e.to_string())?,
        )
        .to(address.parse::<Mailbox>().map_err(|e| e.to_string())?)
        .subject(format!("[Adflow] {}: {from} to {to}", due.name))
        .multipart(
            MultiPart::mixed()
                .singlepart(SinglePart::plain(text))
                .singlepart(
                    Attachment::new(file_name.to_owned()).body(file.to_vec(), content_type),
                ),
        )
        .map_err(|e| e.to_string())?;
    smtp.send(message)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_daily_report_covers_its_day_and_a_weekly_one_the_seven_days_to_it() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert_eq!(period(false, day(2)), (day(2), day(2)));
        let before = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(period(true, day(2)), (before, day(2)));
    }

    #[test]
    fn runs_fall_at_six_the_next_day_or_the_next_monday() {
        let at = |d, h| Utc.with_ymd_and_hms(2026, 12, d, h, 0, 0).unwrap();
        // 2026-12-03 is a Thursday.
        assert_eq!(next_run(false, at(3, 5)), at(3, 6));
        assert_eq!(next_run(false, at(3, 6)), at(4, 6));
        assert_eq!(next_run(true, at(3, 5)), at(7, 6));
        assert_eq!(next_run(true, at(7, 6)), at(14, 6));
    }
}
