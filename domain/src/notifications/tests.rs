use super::*;
use crate::campaign::{DeploymentFailed, OptimisationProposed, Platform, ProposalApplied};
use crate::monitoring::{AnomalyDetected, Finding};
use chrono::{NaiveDate, TimeZone};
use proptest::prelude::*;

fn proposed(id: u128) -> CampaignEvent {
    CampaignEvent::OptimisationProposed(OptimisationProposed {
        proposal_id: Uuid::from_u128(id),
        action: ProposedAction::ChangeMaxCpc {
            max_cpc_micros: 2_500_000,
        },
        reason: "cost per conversion beats the target".into(),
        confidence_basis_points: 8_200,
        model_version: "fm@3".into(),
    })
}

fn applied(id: u128) -> CampaignEvent {
    CampaignEvent::ProposalApplied(ProposalApplied {
        proposal_id: Uuid::from_u128(id),
        automatic: true,
        applied_on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
    })
}

#[test]
fn a_proposal_waits_for_a_person_unless_it_applied_in_the_same_append() {
    let campaign = Uuid::from_u128(7);
    let waiting = campaign_notices(campaign, &[proposed(1)]);
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].1.kind, NoticeKind::ApprovalWaiting);
    assert_eq!(
        waiting[0].1.title,
        "Approval waiting: set the max CPC to 2.50"
    );
    assert!(
        waiting[0].1.body.contains("Confidence 82 %"),
        "{:?}",
        waiting[0]
    );
    assert!(campaign_notices(campaign, &[proposed(1), applied(1)]).is_empty());
    let other = campaign_notices(campaign, &[proposed(1), proposed(2), applied(2)]);
    assert_eq!(other.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![0]);
}

#[test]
fn a_failed_deployment_is_critical_and_says_whether_to_retry() {
    let notices = campaign_notices(
        Uuid::from_u128(7),
        &[CampaignEvent::DeploymentFailed(DeploymentFailed {
            platform: Platform::Google,
            reason: "RESOURCE_EXHAUSTED: quota".into(),
            retryable: true,
        })],
    );
    let notice = &notices[0].1;
    assert_eq!(notice.severity, Severity::Critical);
    assert_eq!(notice.title, "Deployment to GOOGLE failed");
    assert!(notice.body.starts_with("RESOURCE_EXHAUSTED: quota\n"));
    assert!(notice.body.contains("deploy again"));
}

#[test]
fn an_anomaly_alert_names_the_metric_the_range_and_the_observed_value() {
    let event = MonitorEvent::AnomalyDetected(AnomalyDetected {
        campaign_id: Uuid::from_u128(7),
        finding: Finding {
            metric: AnomalyMetric::Spend,
            hour: Utc.with_ymd_and_hms(2026, 12, 1, 14, 0, 0).unwrap(),
            window_hours: 3,
            observed: Some(480_000_000.0),
            expected: 120_000_000.0,
            low: 60_000_000.0,
            high: Some(200_000_000.0),
        },
        detector: "seasonal-mad@1".into(),
    });
    let notice = monitor_notice(&event).unwrap();
    assert_eq!(notice.kind, NoticeKind::AnomalyAlert);
    assert_eq!(notice.title, "Anomaly in SPEND: 480.00");
    assert_eq!(
        notice.body,
        "SPEND over the 3 hours to 2026-12-01 14:00 UTC: observed 480.00, expected 120.00 \
         (normal range 60.00 to 200.00)."
    );
}

#[test]
fn pacing_alerts_over_and_under_spend() {
    let campaign = Uuid::from_u128(7);
    let at = |spent: i64, elapsed: f64| {
        pacing_notice(
            campaign,
            Pacing {
                spent_today_micros: spent,
                daily_budget_micros: 100_000_000,
                day_elapsed: elapsed,
            },
        )
    };
    assert_eq!(at(80_000_000, 0.5).unwrap().title, "Over-spending today");
    assert_eq!(at(10_000_000, 0.6).unwrap().title, "Under-spending today");
    assert!(at(50_000_000, 0.5).is_none());
    assert!(at(5_000_000, 0.02).is_none(), "a tenth of the budget first");
    assert!(
        at(10_000_000, 0.3).is_none(),
        "too early to call under-spend"
    );
}

proptest! {
    #[test]
    fn spend_near_the_plan_never_alerts(elapsed in 0.0f64..=1.0, share in 0.5f64..=1.2) {
        let budget = 100_000_000i64;
        let spent = (budget as f64 * elapsed * share) as i64;
        let notice = pacing_notice(Uuid::nil(), Pacing {
            spent_today_micros: spent,
            daily_budget_micros: budget,
            day_elapsed: elapsed,
        });
        prop_assert!(notice.is_none(), "{notice:?}");
    }

    #[test]
    fn notice_ids_are_stable_and_differ_by_kind(id in any::<u128>()) {
        let event = Uuid::from_u128(id);
        prop_assert_eq!(
            notice_id(event, NoticeKind::AnomalyAlert),
            notice_id(event, NoticeKind::AnomalyAlert)
        );
        prop_assert_ne!(
            notice_id(event, NoticeKind::AnomalyAlert),
            notice_id(event, NoticeKind::PacingAlert)
        );
    }
}

#[test]
fn preferences_seal_the_address_under_the_user_and_refuse_bad_ones() {
    let set = |email: &str, url: &str| {
        Inbox::decide(
            None,
            &InboxCommand::SetPreferences {
                subject: "user-1".into(),
                email: Some(email.into()),
                slack_webhook_url: Some(url.into()),
                channels: BTreeMap::new(),
            },
            Utc::now(),
        )
    };
    let events = set(
        "ana@example.com",
        "https://hooks.slack.com/services/T0/B0/x",
    )
    .unwrap();
    let InboxEvent::PreferencesSet(prefs) = &events[0] else {
        panic!("{events:?}")
    };
    let email = prefs.email.as_ref().unwrap();
    assert_eq!(email.data_subject, inbox_id("user-1"));
    assert_eq!(email.plain.as_deref(), Some("ana@example.com"));
    for bad in [
        "ana",
        "ana@@example.com",
        "ana@example",
        "a na@example.com",
        "<a@b.c>",
    ] {
        assert!(
            matches!(
                set(bad, "https://hooks.slack.com/x"),
                Err(Rejection::Invalid(_))
            ),
            "{bad}"
        );
    }
    assert!(set("ana@example.com", "ftp://x").is_err());
    assert!(Inbox::decide(
        None,
        &InboxCommand::MarkRead {
            notification_ids: vec![]
        },
        Utc::now()
    )
    .is_err());
}
