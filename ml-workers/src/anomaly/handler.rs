//! `ReportsSynced` → the campaign's hourly figures from ClickHouse → the detector → findings for
//! the campaign's monitor (`RecordFindings`, the trigger as its cause). The check waits until the
//! analytics tables hold the triggering event (their checkpoint reached its position), judges the
//! last two days, and leaves it to the monitor to record each episode once.

use super::{detect, DetectorSettings, HourTotals, WEEK};
use crate::backend::{Backend, Submission};
use crate::worker::{
    analytics_hold, trigger, uuid_field, Step, WorkHandler, WorkRequest, WorkType,
};
use crate::MlError;
use adflow_domain::monitoring::{Finding, MonitorCommand};
use adflow_projections::analytics::{queries, Analytics};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use uuid::Uuid;

pub const DETECTOR_VERSION: &str = "seasonal-robust@1";
/// Hours at the end of the series each check judges (earlier ones were judged by earlier checks).
const JUDGED_HOURS: usize = 48;

pub struct AnomalyHandler {
    pub backend: Arc<dyn Backend>,
    pub analytics: Analytics,
    pub settings: DetectorSettings,
}

pub struct Series {
    campaign: Uuid,
    first_hour: i64,
    hours: Vec<HourTotals>,
}

fn at(hour: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(hour * 3600, 0).unwrap_or_default()
}

#[async_trait]
impl WorkHandler for AnomalyHandler {
    type Input = Series;
    type Output = (Uuid, Vec<Finding>);

    const REFUSED: &'static str = "the findings were refused";

    const WORK: WorkType = WorkType::Anomalies;

    async fn prepare(&self, request: &WorkRequest) -> Step<Series> {
        let Some(campaign) = uuid_field(request, "campaignId") else {
            tracing::error!(event_type = %request.event_type, "not a ReportsSynced event, dropped");
            return Step::Done;
        };
        if let Err(error) = analytics_hold(&self.analytics, request).await {
            return Step::Retry(error);
        }
        let span = u32::try_from((self.settings.weeks + 1) * WEEK).unwrap_or(u32::MAX);
        let rows = match queries::campaign_hours(&self.analytics, request.tenant_id, campaign, span)
            .await
        {
            Ok(rows) => rows,
            Err(error) => return Step::Retry(MlError::Backend(error.to_string())),
        };
        let (Some(first), Some(last)) = (rows.first().map(|r| r.0), rows.last().map(|r| r.0))
        else {
            return Step::Done;
        };
        let mut hours = vec![HourTotals::default(); (last - first + 1) as usize];
        for (hour, totals) in rows {
            hours[(hour - first) as usize] = HourTotals {
                impressions: totals.impressions as f64,
                clicks: totals.clicks as f64,
                conversions: totals.conversions as f64,
                cost: totals.cost_micros as f64 / 1e6,
            };
        }
        if hours.len() <= self.settings.weeks * WEEK {
            // Not enough history for a seasonal baseline yet.
            return Step::Done;
        }
        Step::Generate(Box::new(Series {
            campaign,
            first_hour: first,
            hours,
        }))
    }

    fn generate(&self, inputs: Vec<Series>) -> Vec<Result<(Uuid, Vec<Finding>), MlError>> {
        inputs
            .into_iter()
            .map(|series| {
                let from = series.hours.len().saturating_sub(JUDGED_HOURS);
                let findings = detect(&series.hours, from, &self.settings)
                    .into_iter()
                    .map(|a| Finding {
                        metric: a.metric,
                        hour: at(series.first_hour + a.hour as i64),
                        window_hours: a.window as u32,
                        observed: a.observed.is_finite().then_some(a.observed),
                        expected: a.expected,
                        low: a.low,
                        high: a.high.is_finite().then_some(a.high),
                    })
                    .collect();
                Ok((series.campaign, findings))
            })
            .collect()
    }

    async fn answer(
        &self,
        request: &WorkRequest,
        (campaign, findings): (Uuid, Vec<Finding>),
    ) -> Result<Submission, MlError> {
        if findings.is_empty() {
            return Ok(Submission::Accepted);
        }
        let command = MonitorCommand::RecordFindings {
            campaign_id: campaign,
            findings,
            detector: DETECTOR_VERSION.into(),
        };
        self.backend
            .submit_monitor(trigger(request), command, Some(DETECTOR_VERSION))
            .await
    }

    async fn fail(&self, request: &WorkRequest, reason: &str) -> Result<Submission, MlError> {
        // Nothing waits for a check: a failed one is logged, and the next report's check covers it.
        tracing::warn!(event_id = %request.event_id, %reason, "anomaly check failed");
        Ok(Submission::Accepted)
    }
}
