//! A campaign's monitoring, in a stream of its own (`monitor-<tenant>_<id>`, the id derived from
//! the campaign's by [`monitor_stream_id`], so that no read model keyed by aggregate id confuses it
//! with the campaign's own stream): which report
//! pulls changed its figures (`ReportsSynced`, what triggers an anomaly check) and what the anomaly
//! detector found (`AnomalyDetected`, one per anomaly episode). The detector
//! runs again after every report, so it finds the same episode again and again; the aggregate
//! records an episode once (a finding within six hours after the last one of the same metric
//! continues it) and keeps the campaign's stream free of monitoring.

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::campaign::Platform;
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::optimisation::runs::{
    check_completion, OptimisationRunCompleted, OptimisationRunRequested, RunStatus, RunTrigger,
};
use crate::optimisation::search_terms::SearchTermFigures;
use crate::violation::Violations;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Namespace of the monitor streams' ids (UUID v5 of the campaign id).
const MONITOR_NAMESPACE: Uuid = Uuid::from_u128(0x0193_8d11_42c7_7b5e_a2f9_5c0d_3e71_9b24);

/// The id of the stream that monitors `campaign`.
pub fn monitor_stream_id(campaign: Uuid) -> Uuid {
    Uuid::new_v5(&MONITOR_NAMESPACE, campaign.as_bytes())
}

/// Hours after a metric's last anomaly within which a new finding continues the same episode.
pub const EPISODE_GAP_HOURS: i64 = 6;
/// Findings one command may carry.
pub const MAX_FINDINGS: usize = 500;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AnomalyMetric {
    Spend,
    Impressions,
    Clicks,
    Ctr,
    Conversions,
    CostPerConversion,
}

impl AnomalyMetric {
    pub const ALL: [AnomalyMetric; 6] = [
        AnomalyMetric::Spend,
        AnomalyMetric::Impressions,
        AnomalyMetric::Clicks,
        AnomalyMetric::Ctr,
        AnomalyMetric::Conversions,
        AnomalyMetric::CostPerConversion,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Spend => "SPEND",
            Self::Impressions => "IMPRESSIONS",
            Self::Clicks => "CLICKS",
            Self::Ctr => "CTR",
            Self::Conversions => "CONVERSIONS",
            Self::CostPerConversion => "COST_PER_CONVERSION",
        }
    }
}

/// One finding: over the `window_hours` ending with `hour`, `metric` was `observed` where
/// `expected` (accepted between `low` and `high`) was due. Money in the account currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub metric: AnomalyMetric,
    /// The start of the last hour of the window (UTC).
    pub hour: DateTime<Utc>,
    pub window_hours: u32,
    /// `None`: not defined (a cost per conversion without conversions).
    pub observed: Option<f64>,
    pub expected: f64,
    pub low: f64,
    /// `None`: no upper bound.
    pub high: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MonitorCommand {
    /// A report pull of `platform` for days `from..=to` recorded or restated reports (or a report
    /// sent in over HTTP recorded one).
    RecordSync {
        campaign_id: Uuid,
        platform: Platform,
        from: NaiveDate,
        to: NaiveDate,
        recorded: u32,
        restated: u32,
    },
    RecordFindings {
        campaign_id: Uuid,
        findings: Vec<Finding>,
        /// The detector's name and version.
        detector: String,
    },
    /// Asks the optimiser to look at the campaign; a run id already asked for records nothing.
    RequestRun {
        campaign_id: Uuid,
        run_id: Uuid,
        trigger: RunTrigger,
    },
    /// The optimiser's answer; a run answered already records nothing (a redelivery).
    CompleteRun(OptimisationRunCompleted),
    /// A search terms review: the searches read and the negatives it proposed. A review through a
    /// day already reviewed records nothing.
    RecordSearchTerms(SearchTermsReviewed),
}

/// Searches one review records at most (the costliest).
pub const MAX_REVIEWED_SEARCHES: usize = 200;

/// The search terms report of `from..=to` as the review read it (its costliest searches), and the
/// negative keywords it proposed (each through the campaign's proposal flow).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SearchTermsReviewed {
    pub campaign_id: Uuid,
    pub platform: Platform,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The rule's name and version.
    pub rule: String,
    /// Searches in the report, of which `searches` are the costliest.
    pub searches_total: u32,
    pub searches: Vec<SearchTermFigures>,
    pub proposed_negatives: Vec<String>,
}

fn check_review(review: &SearchTermsReviewed, violations: &mut Violations) {
    if review.to < review.from {
        violations.push("to", "before_from", "the last day comes after the first");
    }
    if review.searches.len() > MAX_REVIEWED_SEARCHES {
        violations.push(
            "searches",
            "too_many",
            format!("at most {MAX_REVIEWED_SEARCHES} searches"),
        );
    }
    for (i, s) in review
        .searches
        .iter()
        .enumerate()
        .take(MAX_REVIEWED_SEARCHES)
    {
        if s.clicks < 0 || s.conversions < 0 || s.cost_micros < 0 {
            violations.push(
                format!("searches/{i}"),
                "negative",
                "clicks, conversions and cost are never negative",
            );
        }
        if s.search_term.trim().is_empty() || s.search_term.chars().count() > 200 {
            violations.push(
                format!("searches/{i}/searchTerm"),
                "invalid",
                "1 to 200 characters",
            );
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AnomalyDetected {
    pub campaign_id: Uuid,
    #[serde(flatten)]
    pub finding: Finding,
    pub detector: String,
}

/// New figures arrived for the campaign: what an anomaly check follows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportsSynced {
    pub campaign_id: Uuid,
    pub platform: Platform,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub recorded: u32,
    pub restated: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum MonitorEvent {
    ReportsSynced(ReportsSynced),
    AnomalyDetected(AnomalyDetected),
    OptimisationRunRequested(OptimisationRunRequested),
    OptimisationRunCompleted(OptimisationRunCompleted),
    SearchTermsReviewed(SearchTermsReviewed),
}

impl MonitorEvent {
    pub const REPORTS_SYNCED: &'static str = "ReportsSynced";
    pub const ANOMALY_DETECTED: &'static str = "AnomalyDetected";
    pub const OPTIMISATION_RUN_REQUESTED: &'static str = "OptimisationRunRequested";
    pub const OPTIMISATION_RUN_COMPLETED: &'static str = "OptimisationRunCompleted";
    pub const SEARCH_TERMS_REVIEWED: &'static str = "SearchTermsReviewed";
}

impl DomainEvent for MonitorEvent {
    fn to_payload(&self) -> EventPayload {
        match self {
            MonitorEvent::ReportsSynced(e) => encode(Self::REPORTS_SYNCED, 1, e),
            MonitorEvent::AnomalyDetected(e) => encode(Self::ANOMALY_DETECTED, 1, e),
            MonitorEvent::OptimisationRunRequested(e) => {
                encode(Self::OPTIMISATION_RUN_REQUESTED, 1, e)
            }
            MonitorEvent::OptimisationRunCompleted(e) => {
                encode(Self::OPTIMISATION_RUN_COMPLETED, 1, e)
            }
            MonitorEvent::SearchTermsReviewed(e) => encode(Self::SEARCH_TERMS_REVIEWED, 1, e),
        }
    }

    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        match (event_type, schema_version) {
            (Self::REPORTS_SYNCED, 1) => {
                decode(event_type, schema_version, data).map(MonitorEvent::ReportsSynced)
            }
            (Self::ANOMALY_DETECTED, 1) => {
                decode(event_type, schema_version, data).map(MonitorEvent::AnomalyDetected)
            }
            (Self::OPTIMISATION_RUN_REQUESTED, 1) => {
                decode(event_type, schema_version, data).map(MonitorEvent::OptimisationRunRequested)
            }
            (Self::OPTIMISATION_RUN_COMPLETED, 1) => {
                decode(event_type, schema_version, data).map(MonitorEvent::OptimisationRunCompleted)
            }
            (Self::SEARCH_TERMS_REVIEWED, 1) => {
                decode(event_type, schema_version, data).map(MonitorEvent::SearchTermsReviewed)
            }
            _ => Err(unknown(event_type, schema_version)),
        }
    }
}

/// The last anomaly hour of each metric, and how many were recorded.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitorState {
    pub campaign_id: Uuid,
    pub last: BTreeMap<AnomalyMetric, DateTime<Utc>>,
    pub anomalies: u64,
    pub syncs: u64,
    /// Every optimisation run asked for, and whether it was answered.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub runs: BTreeMap<Uuid, RunStatus>,
    /// The last day a search terms review covered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_terms_reviewed_through: Option<NaiveDate>,
}

pub struct CampaignMonitor;

fn check(findings: &[Finding], violations: &mut Violations) {
    if findings.len() > MAX_FINDINGS {
        violations.push(
            "findings",
            "too_many",
            format!("at most {MAX_FINDINGS} findings"),
        );
    }
    for (i, f) in findings.iter().enumerate().take(MAX_FINDINGS) {
        let finite = f.expected.is_finite()
            && f.low.is_finite()
            && f.observed.is_none_or(f64::is_finite)
            && f.high.is_none_or(f64::is_finite);
        if !finite || f.window_hours == 0 || f.window_hours > 24 * 7 {
            violations.push(
                format!("findings/{i}"),
                "invalid",
                "finite figures and a window of 1 to 168 hours",
            );
        }
    }
}

impl Aggregate for CampaignMonitor {
    type State = MonitorState;
    type Command = MonitorCommand;
    type Event = MonitorEvent;
    const CATEGORY: &'static str = "monitor";

    fn decide(
        state: Option<&MonitorState>,
        command: &MonitorCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<MonitorEvent>, Rejection> {
        let run = |id: &Uuid| state.and_then(|s| s.runs.get(id)).copied();
        let (campaign_id, findings, detector) = match command {
            MonitorCommand::RequestRun {
                campaign_id,
                run_id,
                trigger,
            } => {
                if run(run_id).is_some() {
                    return Ok(vec![]);
                }
                return Ok(vec![MonitorEvent::OptimisationRunRequested(
                    OptimisationRunRequested {
                        campaign_id: *campaign_id,
                        run_id: *run_id,
                        trigger: *trigger,
                        requested_at: now,
                    },
                )]);
            }
            MonitorCommand::CompleteRun(completed) => {
                return match run(&completed.run_id) {
                    None => Err(Rejection::NotFound {
                        kind: "optimisation run",
                    }),
                    Some(RunStatus::Completed) => Ok(vec![]),
                    Some(RunStatus::Requested) => {
                        let mut violations = Violations::new();
                        check_completion(completed, &mut violations);
                        violations
                            .into_result(vec![MonitorEvent::OptimisationRunCompleted(
                                completed.clone(),
                            )])
                            .map_err(Rejection::Invalid)
                    }
                };
            }
            MonitorCommand::RecordSync {
                campaign_id,
                platform,
                from,
                to,
                recorded,
                restated,
            } => {
                if to < from {
                    let mut violations = Violations::new();
                    violations.push("to", "before_from", "the last day comes after the first");
                    return Err(Rejection::Invalid(violations));
                }
                if recorded + restated == 0 {
                    return Ok(vec![]);
                }
                return Ok(vec![MonitorEvent::ReportsSynced(ReportsSynced {
                    campaign_id: *campaign_id,
                    platform: *platform,
                    from: *from,
                    to: *to,
                    recorded: *recorded,
                    restated: *restated,
                })]);
            }
            MonitorCommand::RecordSearchTerms(review) => {
                if state
                    .and_then(|s| s.search_terms_reviewed_through)
                    .is_some_and(|through| through >= review.to)
                {
                    return Ok(vec![]);
                }
                let mut violations = Violations::new();
                check_review(review, &mut violations);
                return violations
                    .into_result(vec![MonitorEvent::SearchTermsReviewed(review.clone())])
                    .map_err(Rejection::Invalid);
            }
            MonitorCommand::RecordFindings {
                campaign_id,
                findings,
                detector,
            } => (campaign_id, findings, detector),
        };
        let mut violations = Violations::new();
        check(findings, &mut violations);
        let mut last = state.map(|s| s.last.clone()).unwrap_or_default();
        let mut sorted: Vec<&Finding> = findings.iter().collect();
        sorted.sort_by_key(|f| (f.hour, f.metric));
        let mut events = Vec::new();
        for finding in sorted {
            let continues = last
                .get(&finding.metric)
                .is_some_and(|at| finding.hour <= *at + Duration::hours(EPISODE_GAP_HOURS));
            last.insert(
                finding.metric,
                last.get(&finding.metric)
                    .copied()
                    .unwrap_or(finding.hour)
                    .max(finding.hour),
            );
            if !continues {
                events.push(MonitorEvent::AnomalyDetected(AnomalyDetected {
                    campaign_id: *campaign_id,
                    finding: finding.clone(),
                    detector: detector.clone(),
                }));
            }
        }
        violations.into_result(events).map_err(Rejection::Invalid)
    }

    fn evolve(
        state: Option<MonitorState>,
        event: &MonitorEvent,
    ) -> Result<MonitorState, HistoryError> {
        let campaign_id = match event {
            MonitorEvent::ReportsSynced(e) => e.campaign_id,
            MonitorEvent::AnomalyDetected(e) => e.campaign_id,
            MonitorEvent::OptimisationRunRequested(e) => e.campaign_id,
            MonitorEvent::OptimisationRunCompleted(e) => e.campaign_id,
            MonitorEvent::SearchTermsReviewed(e) => e.campaign_id,
        };
        let mut state = state.unwrap_or(MonitorState {
            campaign_id,
            ..MonitorState::default()
        });
        if state.campaign_id != campaign_id {
            return Err(HistoryError {
                kind: "monitor",
                reason: "an event of another campaign",
            });
        }
        match event {
            MonitorEvent::ReportsSynced(_) => state.syncs += 1,
            MonitorEvent::AnomalyDetected(e) => {
                let at = state.last.entry(e.finding.metric).or_insert(e.finding.hour);
                *at = (*at).max(e.finding.hour);
                state.anomalies += 1;
            }
            MonitorEvent::OptimisationRunRequested(e) => {
                state.runs.insert(e.run_id, RunStatus::Requested);
            }
            MonitorEvent::OptimisationRunCompleted(e) => {
                state.runs.insert(e.run_id, RunStatus::Completed);
            }
            MonitorEvent::SearchTermsReviewed(e) => {
                state.search_terms_reviewed_through = Some(
                    state
                        .search_terms_reviewed_through
                        .map_or(e.to, |t| t.max(e.to)),
                );
            }
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;

    fn finding(metric: AnomalyMetric, hour: &str) -> Finding {
        Finding {
            metric,
            hour: hour.parse().unwrap(),
            window_hours: 6,
            observed: Some(30.0),
            expected: 10.0,
            low: 5.0,
            high: Some(15.0),
        }
    }

    fn detected(f: Finding) -> MonitorEvent {
        MonitorEvent::AnomalyDetected(AnomalyDetected {
            campaign_id: Uuid::from_u128(1),
            finding: f,
            detector: "d@1".into(),
        })
    }

    fn record(findings: Vec<Finding>) -> MonitorCommand {
        MonitorCommand::RecordFindings {
            campaign_id: Uuid::from_u128(1),
            findings,
            detector: "d@1".into(),
        }
    }

    fn review(to: &str, clicks: i64) -> SearchTermsReviewed {
        SearchTermsReviewed {
            campaign_id: Uuid::from_u128(1),
            platform: Platform::Google,
            from: "2026-01-01".parse().unwrap(),
            to: to.parse().unwrap(),
            rule: "search-terms@1".into(),
            searches_total: 1,
            searches: vec![SearchTermFigures {
                search_term: "payroll salary".into(),
                keyword: "payroll".into(),
                clicks,
                conversions: 0,
                cost_micros: 10_000_000,
            }],
            proposed_negatives: vec!["salary".into()],
        }
    }

    #[test]
    fn a_search_terms_review_is_recorded_once_per_day_and_checked() {
        let first = review("2026-01-14", 40);
        Scenario::<CampaignMonitor>::given(vec![])
            .when(MonitorCommand::RecordSearchTerms(first.clone()))
            .then(vec![MonitorEvent::SearchTermsReviewed(first.clone())]);
        // Redelivered, or a second pull the same day: nothing new.
        Scenario::<CampaignMonitor>::given(vec![MonitorEvent::SearchTermsReviewed(first.clone())])
            .when(MonitorCommand::RecordSearchTerms(review("2026-01-14", 41)))
            .then(vec![]);
        let next = review("2026-01-15", 45);
        Scenario::<CampaignMonitor>::given(vec![MonitorEvent::SearchTermsReviewed(first)])
            .when(MonitorCommand::RecordSearchTerms(next.clone()))
            .then(vec![MonitorEvent::SearchTermsReviewed(next)]);
        Scenario::<CampaignMonitor>::given(vec![])
            .when(MonitorCommand::RecordSearchTerms(review("2026-01-14", -1)))
            .then_violations(&[("searches/0", "negative")]);
        Scenario::<CampaignMonitor>::given(vec![])
            .when(MonitorCommand::RecordSearchTerms(review("2025-12-31", 1)))
            .then_violations(&[("to", "before_from")]);
    }

    #[test]
    fn an_episode_is_recorded_once_however_often_it_is_found() {
        let spike = finding(AnomalyMetric::Spend, "2026-01-20T10:00:00Z");
        let next_hour = finding(AnomalyMetric::Spend, "2026-01-20T11:00:00Z");
        let clicks = finding(AnomalyMetric::Clicks, "2026-01-20T11:00:00Z");
        Scenario::<CampaignMonitor>::given(vec![])
            .when(record(vec![
                next_hour.clone(),
                spike.clone(),
                clicks.clone(),
            ]))
            .then(vec![detected(spike.clone()), detected(clicks.clone())]);
        // The next report's check finds the same episode: nothing new.
        Scenario::<CampaignMonitor>::given(vec![detected(spike.clone())])
            .when(record(vec![spike.clone(), next_hour]))
            .then(vec![]);
        // A day later the metric departs again: a new episode.
        let later = finding(AnomalyMetric::Spend, "2026-01-21T12:00:00Z");
        Scenario::<CampaignMonitor>::given(vec![detected(spike)])
            .when(record(vec![later.clone()]))
            .then(vec![detected(later)]);
        let mut broken = finding(AnomalyMetric::Ctr, "2026-01-21T12:00:00Z");
        broken.expected = f64::NAN;
        Scenario::<CampaignMonitor>::given(vec![])
            .when(record(vec![broken]))
            .then_violations(&[("findings/0", "invalid")]);
    }

    #[test]
    fn a_run_is_asked_for_once_and_answered_once() {
        use crate::optimisation::runs::{OptimisationRunCompleted, RunTrigger};
        let run = Uuid::from_u128(9);
        let ask = MonitorCommand::RequestRun {
            campaign_id: Uuid::from_u128(1),
            run_id: run,
            trigger: RunTrigger::Scheduled,
        };
        let asked = Scenario::<CampaignMonitor>::given(vec![])
            .when(ask.clone())
            .into_result()
            .unwrap();
        assert_eq!(asked.len(), 1);
        // The schedule asking again within the hour records nothing.
        Scenario::<CampaignMonitor>::given(asked.clone())
            .when(ask)
            .then(vec![]);
        let answer = MonitorCommand::CompleteRun(OptimisationRunCompleted {
            campaign_id: Uuid::from_u128(1),
            run_id: run,
            proposals: vec![],
            predictions: vec![],
            model_versions: vec!["decision-rules@1".into()],
            allocation: vec![],
        });
        // An answer to a run nobody asked for is refused; a redelivered answer records nothing.
        Scenario::<CampaignMonitor>::given(vec![])
            .when(answer.clone())
            .then_rejected(Rejection::NotFound {
                kind: "optimisation run",
            });
        let answered = Scenario::<CampaignMonitor>::given(asked.clone())
            .when(answer.clone())
            .into_result()
            .unwrap();
        assert_eq!(answered.len(), 1);
        let mut history = asked;
        history.extend(answered);
        Scenario::<CampaignMonitor>::given(history)
            .when(answer)
            .then(vec![]);
    }
}
