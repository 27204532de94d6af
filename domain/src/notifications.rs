//! Notifications: what in the log a person should hear about, how urgent it is, and where each
//! user wants to hear it. The rules that turn events into notices live here; the notifications
//! projection applies them and the sender (an adapter) delivers them in-app, by e-mail and to
//! Slack-compatible incoming webhooks.
//!
//! A user's preferences and read marks are the user's inbox aggregate (`inbox-<tenant>_<id>`,
//! the id from [`inbox_id`]). The e-mail address and the Slack webhook URL are personal values of
//! the user, sealed in the log like every personal value and gone when the user is erased.

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::campaign::{CampaignEvent, ProposedAction};
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::monitoring::{AnomalyMetric, MonitorEvent};
use crate::personal::PersonalValue;
use crate::violation::Violations;
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

const INBOX_NAMESPACE: Uuid = Uuid::from_u128(0x0193_a1b2_7c3d_7e4f_9a0b_1c2d_3e4f_5a6b);
const NOTICE_NAMESPACE: Uuid = Uuid::from_u128(0x0193_a1b2_7c3d_7e4f_9a0b_1c2d_3e4f_5a6c);

/// The inbox (and data subject) of the user `subject` (the token's `sub` or the API key's id).
pub fn inbox_id(subject: &str) -> Uuid {
    Uuid::new_v5(&INBOX_NAMESPACE, subject.as_bytes())
}

/// A notice's id: the same for the same event and kind, however often the log is projected.
pub fn notice_id(event_id: Uuid, kind: NoticeKind) -> Uuid {
    let mut name = event_id.as_bytes().to_vec();
    name.extend_from_slice(kind.as_str().as_bytes());
    Uuid::new_v5(&NOTICE_NAMESPACE, &name)
}

/// Ids one mark-as-read may carry.
pub const MAX_READ_MARKS: usize = 500;
/// The longest e-mail address (RFC 5321's path limit).
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_WEBHOOK_URL_CHARS: usize = 2_000;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NoticeKind {
    AnomalyAlert,
    ApprovalWaiting,
    DeploymentFailed,
    PacingAlert,
    WebhookDisabled,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 5] = [
        NoticeKind::AnomalyAlert,
        NoticeKind::ApprovalWaiting,
        NoticeKind::DeploymentFailed,
        NoticeKind::PacingAlert,
        NoticeKind::WebhookDisabled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::AnomalyAlert => "ANOMALY_ALERT",
            NoticeKind::ApprovalWaiting => "APPROVAL_WAITING",
            NoticeKind::DeploymentFailed => "DEPLOYMENT_FAILED",
            NoticeKind::PacingAlert => "PACING_ALERT",
            NoticeKind::WebhookDisabled => "WEBHOOK_DISABLED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == text)
    }

    /// Where a notice of this kind goes for a user who said nothing about it: in-app always,
    /// e-mail and Slack when it needs someone to act.
    pub fn default_channels(self) -> Channels {
        let urgent = !matches!(self, NoticeKind::ApprovalWaiting);
        Channels {
            in_app: true,
            email: urgent,
            slack: urgent,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Critical => "CRITICAL",
        }
    }
}

/// Something a person should hear about.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub severity: Severity,
    pub campaign_id: Option<Uuid>,
    /// One line, for a subject or a feed.
    pub title: String,
    /// A few lines with the figures.
    pub body: String,
}

fn action_summary(action: &ProposedAction) -> String {
    let money = |micros: i64| format!("{:.2}", micros as f64 / 1_000_000.0);
    match action {
        ProposedAction::Pause => "pause the campaign".into(),
        ProposedAction::Resume => "resume the campaign".into(),
        ProposedAction::ChangeBudget {
            total_budget_micros,
        } => format!("set the total budget to {}", money(*total_budget_micros)),
        ProposedAction::ShiftDailyBudget { micros, .. } => {
            format!("move {} of daily budget", money(*micros))
        }
        ProposedAction::ChangeDailyBudget {
            daily_budget_micros,
            ..
        } => format!("set a daily budget to {}", money(*daily_budget_micros)),
        ProposedAction::ChangeMaxCpc { max_cpc_micros } => {
            format!("set the max CPC to {}", money(*max_cpc_micros))
        }
        ProposedAction::AddNegativeKeyword { keyword } => {
            format!("add the negative keyword \"{}\"", keyword.text)
        }
        ProposedAction::PauseCreative { path, .. } => format!("pause the creative {path}"),
        ProposedAction::SetAdSchedule { entries } => {
            format!("set an ad schedule of {} blocks", entries.len())
        }
    }
}

/// What one append to a campaign's stream tells people: failed deployments, and proposals that
/// wait for a person (a proposal applied in the same append, within the guardrails, does not).
pub fn campaign_notices(campaign_id: Uuid, events: &[CampaignEvent]) -> Vec<(usize, Notice)> {
    let applied: Vec<Uuid> = events
        .iter()
        .filter_map(|e| match e {
            CampaignEvent::ProposalApplied(a) => Some(a.proposal_id),
            _ => None,
        })
        .collect();
    events
        .iter()
        .enumerate()
        .filter_map(|(index, event)| match event {
            CampaignEvent::DeploymentFailed(failed) => Some((
                index,
                Notice {
                    kind: NoticeKind::DeploymentFailed,
                    severity: Severity::Critical,
                    campaign_id: Some(campaign_id),
                    title: format!("Deployment to {} failed", failed.platform.as_str()),
                    body: format!(
                        "{}\n{}",
                        failed.reason,
                        if failed.retryable {
                            "The platform may accept it later: deploy again."
                        } else {
                            "The platform refused it: change the campaign before deploying again."
                        }
                    ),
                },
            )),
            CampaignEvent::OptimisationProposed(proposed)
                if !applied.contains(&proposed.proposal_id) =>
            {
                Some((
                    index,
                    Notice {
                        kind: NoticeKind::ApprovalWaiting,
                        severity: Severity::Info,
                        campaign_id: Some(campaign_id),
                        title: format!("Approval waiting: {}", action_summary(&proposed.action)),
                        body: format!(
                            "{}\nConfidence {:.0} %, proposed by {}. Proposal {}.",
                            proposed.reason,
                            f64::from(proposed.confidence_basis_points) / 100.0,
                            proposed.model_version,
                            proposed.proposal_id
                        ),
                    },
                ))
            }
            _ => None,
        })
        .collect()
}

fn metric_value(metric: AnomalyMetric, value: f64) -> String {
    match metric {
        AnomalyMetric::Spend | AnomalyMetric::CostPerConversion => {
            format!("{:.2}", value / 1_000_000.0)
        }
        AnomalyMetric::Ctr => format!("{:.2} %", value * 100.0),
        _ => format!("{value:.0}"),
    }
}

/// An anomaly episode's alert.
pub fn monitor_notice(event: &MonitorEvent) -> Option<Notice> {
    let MonitorEvent::AnomalyDetected(anomaly) = event else {
        return None;
    };
    let finding = &anomaly.finding;
    let observed = finding.observed.map_or_else(
        || "undefined".to_owned(),
        |v| metric_value(finding.metric, v),
    );
    let high = finding.high.map_or_else(
        || "no limit".to_owned(),
        |v| metric_value(finding.metric, v),
    );
    Some(Notice {
        kind: NoticeKind::AnomalyAlert,
        severity: Severity::Warning,
        campaign_id: Some(anomaly.campaign_id),
        title: format!("Anomaly in {}: {observed}", finding.metric.as_str()),
        body: format!(
            "{} over the {} hours to {}: observed {observed}, expected {} (normal range {} to {high}).",
            finding.metric.as_str(),
            finding.window_hours,
            finding.hour.format("%Y-%m-%d %H:00 UTC"),
            metric_value(finding.metric, finding.expected),
            metric_value(finding.metric, finding.low),
        ),
    })
}

/// How a campaign's spend today compares with its daily budget at this hour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Pacing {
    pub spent_today_micros: i64,
    pub daily_budget_micros: i64,
    /// The part of the day gone, 0 to 1.
    pub day_elapsed: f64,
}

/// Over-spend: past 120 % of the budget's share of the day so far (and past a tenth of the
/// budget, so that the first hour's noise is no alert). Under-spend: below half of that share
/// once half the day is gone.
pub fn pacing_notice(campaign_id: Uuid, pacing: Pacing) -> Option<Notice> {
    if pacing.daily_budget_micros <= 0 {
        return None;
    }
    let budget = pacing.daily_budget_micros as f64;
    let planned = budget * pacing.day_elapsed.clamp(0.0, 1.0);
    let spent = pacing.spent_today_micros as f64;
    let money = |micros: f64| format!("{:.2}", micros / 1_000_000.0);
    let (title, severity) = if spent > 1.2 * planned && spent > 0.1 * budget {
        ("Over-spending today", Severity::Warning)
    } else if pacing.day_elapsed >= 0.5 && spent < 0.5 * planned {
        ("Under-spending today", Severity::Info)
    } else {
        return None;
    };
    Some(Notice {
        kind: NoticeKind::PacingAlert,
        severity,
        campaign_id: Some(campaign_id),
        title: title.into(),
        body: format!(
            "Spent {} of a daily budget of {} with {:.0} % of the day gone (plan: {}).",
            money(spent),
            money(budget),
            pacing.day_elapsed * 100.0,
            money(planned)
        ),
    })
}

/// Where one kind of notice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Channels {
    pub in_app: bool,
    pub email: bool,
    pub slack: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InboxCommand {
    SetPreferences {
        subject: String,
        email: Option<String>,
        slack_webhook_url: Option<String>,
        channels: BTreeMap<NoticeKind, Channels>,
    },
    MarkRead {
        notification_ids: Vec<Uuid>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationPreferencesSet {
    /// The user (token subject) the inbox belongs to.
    pub subject: String,
    pub email: Option<PersonalValue>,
    pub slack_webhook_url: Option<PersonalValue>,
    /// Kinds left out go to their default channels.
    pub channels: BTreeMap<NoticeKind, Channels>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationsRead {
    pub notification_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum InboxEvent {
    PreferencesSet(NotificationPreferencesSet),
    Read(NotificationsRead),
}

impl InboxEvent {
    pub const PREFERENCES_SET: &'static str = "NotificationPreferencesSet";
    pub const READ: &'static str = "NotificationsRead";
}

impl DomainEvent for InboxEvent {
    fn to_payload(&self) -> EventPayload {
        match self {
            InboxEvent::PreferencesSet(e) => encode(Self::PREFERENCES_SET, 1, e),
            InboxEvent::Read(e) => encode(Self::READ, 1, e),
        }
    }

    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        match (event_type, schema_version) {
            (Self::PREFERENCES_SET, 1) => {
                decode(event_type, schema_version, data).map(InboxEvent::PreferencesSet)
            }
            (Self::READ, 1) => decode(event_type, schema_version, data).map(InboxEvent::Read),
            _ => Err(unknown(event_type, schema_version)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InboxState {
    pub preferences: Option<NotificationPreferencesSet>,
    pub read: usize,
}

/// What `text` must be to receive e-mail: a local part and a domain of at least two dot-separated
/// labels around one `@`, of printable ASCII but for `<>()[]\\,;:"` (and `.` in a label), at most
/// 254 characters. `contract::email_address` in the command API says the same as a pattern.
fn email_address(text: &str) -> bool {
    let allowed = |c: char| c.is_ascii_graphic() && !"<>()[]\\,;:\"@".contains(c);
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let labels: Vec<&str> = domain.split('.').collect();
    text.len() <= MAX_EMAIL_CHARS
        && !local.is_empty()
        && local.chars().all(allowed)
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(allowed))
}

/// A user's notification inbox: preferences and read marks.
pub struct Inbox;

impl Aggregate for Inbox {
    type State = InboxState;
    type Command = InboxCommand;
    type Event = InboxEvent;
    const CATEGORY: &'static str = "inbox";

    fn decide(
        _state: Option<&InboxState>,
        command: &InboxCommand,
        _now: DateTime<Utc>,
    ) -> Result<Vec<InboxEvent>, Rejection> {
        match command {
            InboxCommand::SetPreferences {
                subject,
                email,
                slack_webhook_url,
                channels,
            } => {
                let mut violations = Violations::new();
                if email.as_deref().is_some_and(|e| !email_address(e)) {
                    violations.push("email", "invalid_email", "is not an e-mail address");
                }
                if slack_webhook_url.as_deref().is_some_and(|url| {
                    !(url.starts_with("https://") || url.starts_with("http://"))
                        || url.len() > MAX_WEBHOOK_URL_CHARS
                }) {
                    violations.push(
                        "slackWebhookUrl",
                        "invalid_url",
                        format!(
                            "must be an http(s) URL of at most {MAX_WEBHOOK_URL_CHARS} characters"
                        ),
                    );
                }
                violations.into_result(()).map_err(Rejection::Invalid)?;
                let user = inbox_id(subject);
                Ok(vec![InboxEvent::PreferencesSet(
                    NotificationPreferencesSet {
                        subject: subject.clone(),
                        email: email.as_ref().map(|e| PersonalValue::plain(user, e)),
                        slack_webhook_url: slack_webhook_url
                            .as_ref()
                            .map(|u| PersonalValue::plain(user, u)),
                        channels: channels.clone(),
                    },
                )])
            }
            InboxCommand::MarkRead { notification_ids } => {
                let mut violations = Violations::new();
                if notification_ids.is_empty() || notification_ids.len() > MAX_READ_MARKS {
                    violations.push(
                        "notificationIds",
                        "out_of_range",
                        format!("must name 1 to {MAX_READ_MARKS} notifications"),
                    );
                }
                violations.into_result(()).map_err(Rejection::Invalid)?;
                Ok(vec![InboxEvent::Read(NotificationsRead {
                    notification_ids: notification_ids.clone(),
                })])
            }
        }
    }

    fn evolve(state: Option<InboxState>, event: &InboxEvent) -> Result<InboxState, HistoryError> {
        let mut state = state.unwrap_or_default();
        match event {
            InboxEvent::PreferencesSet(e) => state.preferences = Some(e.clone()),
            InboxEvent::Read(e) => state.read += e.notification_ids.len(),
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests;
