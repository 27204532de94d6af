//! Both clients against the sandbox on loopback: deployments land whole and once, lost answers and
//! outages are retried without duplicates, quota and credentials fail typed, changes and reports
//! round-trip. The sandbox's clock is stopped and moved by hand, so figures are deterministic.

use adflow_platforms::google::GoogleAds;
use adflow_platforms::linkedin::LinkedIn;
use adflow_platforms::sandbox::{Sandbox, SandboxConfig};
use adflow_platforms::{
    samples, Account, AdPlatform, Change, DeploymentKey, Endpoints, PlatformError, RetryPolicy,
};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

struct Harness {
    base: String,
    http: reqwest::Client,
    google: GoogleAds,
    linkedin: LinkedIn,
}

fn start_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()
}

async fn harness() -> Harness {
    let sandbox = Sandbox::new(SandboxConfig {
        seed: 42,
        speed: 0.0,
        start: Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap(),
        ..SandboxConfig::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { sandbox.serve(listener, std::future::pending()).await });
    let mut endpoints = Endpoints::sandbox(&base);
    endpoints.timeout = std::time::Duration::from_millis(800);
    endpoints.retry = RetryPolicy {
        attempts: 5,
        base: std::time::Duration::from_millis(20),
        cap: std::time::Duration::from_millis(200),
    };
    let http = reqwest::Client::new();
    Harness {
        google: GoogleAds::new(http.clone(), endpoints.clone()),
        linkedin: LinkedIn::new(http.clone(), endpoints),
        http,
        base,
    }
}

fn google_account() -> Account {
    Account::Google {
        customer_id: "1234567890".into(),
        login_customer_id: Some("9876543210".into()),
        refresh_token: "refresh-g".into(),
    }
}

fn linkedin_account() -> Account {
    Account::Linkedin {
        account_id: "510000001".into(),
        refresh_token: "refresh-l".into(),
    }
}

impl Harness {
    async fn control(&self, path: &str, body: Value) {
        let status = self
            .http
            .post(format!("{}/_sandbox/{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status();
        assert!(status.is_success(), "{path}: {status}");
    }

    async fn inventory(&self) -> Value {
        self.http
            .get(format!("{}/_sandbox/inventory", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_structure_deploys_whole_on_both_platforms_and_a_second_attempt_adopts_it() {
    let h = harness().await;
    let structure = samples::structure("Payroll", 3, 4);
    let key = DeploymentKey::for_campaign(Uuid::now_v7());
    let google = h
        .google
        .deploy(&google_account(), &key, &structure, "USD")
        .await
        .unwrap();
    assert!(!google.resumed);
    // budget, campaign, location, language, campaign negative, 3 × (group, 4 keywords, 1 negative, 1 ad)
    assert_eq!(google.resources.len(), 5 + 3 * 7);
    assert!(google
        .external_id
        .starts_with("customers/1234567890/campaigns/"));
    assert_eq!(
        google.requests,
        1 + 1 + 2,
        "token, search for an earlier one, validateOnly, mutate"
    );
    let linkedin = h
        .linkedin
        .deploy(&linkedin_account(), &key, &structure, "USD")
        .await
        .unwrap();
    assert_eq!(
        linkedin.resources.len(),
        1 + 2 + 4 + 4,
        "group, two campaigns, two creatives each, each promoting its dark post"
    );
    assert!(linkedin
        .resources
        .iter()
        .filter(|r| r.kind == "CREATIVE")
        .all(|r| r.external_id.starts_with("urn:li:sponsoredCreative:")));

    let again = h
        .google
        .deploy(&google_account(), &key, &structure, "USD")
        .await
        .unwrap();
    assert!(again.resumed);
    let (mut a, mut b) = (google.resources.clone(), again.resources.clone());
    a.sort_by(|x, y| x.path.cmp(&y.path));
    b.sort_by(|x, y| x.path.cmp(&y.path));
    assert_eq!(
        a, b,
        "the earlier attempt's resources, mapped to the same paths"
    );
    let linkedin_again = h
        .linkedin
        .deploy(&linkedin_account(), &key, &structure, "USD")
        .await
        .unwrap();
    assert!(linkedin_again.resumed);
    assert_eq!(linkedin_again.resources, linkedin.resources);

    let inventory = h.inventory().await;
    let campaigns = inventory["google"]["1234567890"]["campaigns"]
        .as_array()
        .unwrap();
    assert_eq!(campaigns.len(), 1);
    assert_eq!(campaigns[0]["adGroups"], 3);
    assert_eq!(campaigns[0]["criteria"], 15);
    assert_eq!(campaigns[0]["status"], "PAUSED");
    let groups = inventory["linkedin"]["510000001"]["campaignGroups"]
        .as_array()
        .unwrap();
    assert_eq!(groups.len(), 1);
    assert_eq!(groups[0]["campaigns"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_lost_answer_after_the_write_leaves_no_duplicate_on_either_platform() {
    let h = harness().await;
    let structure = samples::structure("Lost", 2, 3);
    let key = DeploymentKey::for_campaign(Uuid::now_v7());
    // The second mutate (after validateOnly) goes through, and its answer never arrives.
    h.control("faults", json!({"platform": "GOOGLE", "pathContains": ":mutate", "after": 1, "times": 1, "fault": {"kind": "LOSE_RESPONSE"}})).await;
    let google = h
        .google
        .deploy(&google_account(), &key, &structure, "USD")
        .await
        .unwrap();
    assert_eq!(google.resources.len(), 5 + 2 * 6);
    // A LinkedIn campaign create and a creative create lose their answers.
    h.control("faults", json!({"platform": "LINKEDIN", "pathContains": "/adCampaigns", "method": "POST", "times": 1, "fault": {"kind": "LOSE_RESPONSE"}})).await;
    h.control("faults", json!({"platform": "LINKEDIN", "pathContains": "/creatives", "method": "POST", "after": 1, "times": 1, "fault": {"kind": "LOSE_RESPONSE"}})).await;
    let linkedin = h
        .linkedin
        .deploy(&linkedin_account(), &key, &structure, "USD")
        .await
        .unwrap();
    assert_eq!(linkedin.resources.len(), 1 + 1 + 2 + 2);
    let inventory = h.inventory().await;
    assert_eq!(
        inventory["google"]["1234567890"]["campaigns"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let group = &inventory["linkedin"]["510000001"]["campaignGroups"][0];
    assert_eq!(group["campaigns"].as_array().unwrap().len(), 1);
    assert_eq!(group["campaigns"][0]["creatives"], 2);
}

#[tokio::test]
async fn outages_and_throttling_are_retried_and_quota_and_credentials_fail_typed() {
    let h = harness().await;
    let structure = samples::structure("Flaky", 1, 2);
    h.control(
        "faults",
        json!({"platform": "GOOGLE", "times": 2, "fault": {"kind": "STATUS", "status": 503}}),
    )
    .await;
    h.control(
        "faults",
        json!({"platform": "LINKEDIN", "times": 3, "fault": {"kind": "STATUS", "status": 429}}),
    )
    .await;
    let key = DeploymentKey::for_campaign(Uuid::now_v7());
    h.google
        .deploy(&google_account(), &key, &structure, "USD")
        .await
        .unwrap();
    h.linkedin
        .deploy(&linkedin_account(), &key, &structure, "USD")
        .await
        .unwrap();

    h.control("quota", json!({"googleDailyOperations": 5}))
        .await;
    let other = DeploymentKey::for_campaign(Uuid::now_v7());
    let error = h
        .google
        .deploy(&google_account(), &other, &structure, "USD")
        .await
        .unwrap_err();
    assert!(
        matches!(error, PlatformError::QuotaExhausted { .. }),
        "{error}"
    );
    assert!(error.retryable());

    h.control("revoke", json!({"refreshToken": "revoked"}))
        .await;
    let revoked = Account::Linkedin {
        account_id: "510000001".into(),
        refresh_token: "revoked".into(),
    };
    assert!(matches!(
        h.linkedin.check(&revoked).await.unwrap_err(),
        PlatformError::Auth(_)
    ));
    assert_eq!(
        h.linkedin.check(&linkedin_account()).await.unwrap(),
        "Sandbox ad account 510000001"
    );
}

#[tokio::test]
async fn the_platforms_rules_come_back_as_typed_causes_with_field_paths() {
    let h = harness().await;
    let mut structure = samples::structure("Rules", 1, 2);
    structure.google.as_mut().unwrap().ad_groups[0].keywords[1].text = "payroll (cheap)!".into();
    let key = DeploymentKey::for_campaign(Uuid::now_v7());
    let PlatformError::Invalid { causes } = h
        .google
        .deploy(&google_account(), &key, &structure, "USD")
        .await
        .unwrap_err()
    else {
        panic!("not refused");
    };
    assert_eq!(causes[0].code, "criterionError.KEYWORD_HAS_INVALID_CHARS");
    assert_eq!(
        causes[0].field_path.as_deref(),
        Some("mutate_operations[7].ad_group_criterion_operation.create.keyword.text")
    );
    let inventory = h.inventory().await;
    assert!(
        inventory["google"]["1234567890"]["campaigns"]
            .as_array()
            .unwrap()
            .is_empty(),
        "validateOnly refused it: nothing exists"
    );
    structure.linkedin.as_mut().unwrap().campaigns[0].daily_budget_micros = 5_000_000;
    let PlatformError::Invalid { causes } = h
        .linkedin
        .deploy(&linkedin_account(), &key, &structure, "USD")
        .await
        .unwrap_err()
    else {
        panic!("not refused");
    };
    assert_eq!(causes[0].field_path.as_deref(), Some("dailyBudget/amount"));
}

#[tokio::test]
async fn changes_reach_the_platform_and_reports_are_restated_as_conversions_arrive() {
    let h = harness().await;
    let structure = samples::structure("Live", 2, 3);
    let key = DeploymentKey::for_campaign(Uuid::now_v7());
    let google = h
        .google
        .deploy(&google_account(), &key, &structure, "USD")
        .await
        .unwrap();
    let linkedin = h
        .linkedin
        .deploy(&linkedin_account(), &key, &structure, "USD")
        .await
        .unwrap();
    for (platform, deployed, account) in [
        (&h.google as &dyn AdPlatform, &google, google_account()),
        (&h.linkedin, &linkedin, linkedin_account()),
    ] {
        platform
            .push(
                &account,
                &deployed.external_id,
                &deployed.resources,
                &Change::Resume,
                "USD",
            )
            .await
            .unwrap();
        platform
            .push(
                &account,
                &deployed.external_id,
                &deployed.resources,
                &Change::DailyBudget {
                    daily_budget_micros: 300_000_000,
                    campaign: None,
                },
                "USD",
            )
            .await
            .unwrap();
        platform
            .push(
                &account,
                &deployed.external_id,
                &deployed.resources,
                &Change::MaxCpc {
                    max_cpc_micros: 5_000_000,
                },
                "USD",
            )
            .await
            .unwrap();
    }
    h.google
        .push(
            &google_account(),
            &google.external_id,
            &google.resources,
            &Change::NegativeKeywords {
                keywords: vec!["jobs near me".into()],
            },
            "USD",
        )
        .await
        .unwrap();
    h.control("clock", json!({"hours": 72})).await;
    let day = start_day() + Duration::days(1);
    let early_google = h
        .google
        .report(&google_account(), &google.external_id, day, day)
        .await
        .unwrap();
    assert!(early_google.iter().any(|r| r.impressions > 0));
    assert!(early_google
        .iter()
        .all(|r| r.hour.is_some() && r.keyword.is_some() && r.ad_group.is_some()));
    let early_linkedin = h
        .linkedin
        .report(&linkedin_account(), &linkedin.external_id, day, day)
        .await
        .unwrap();
    assert!(
        !early_linkedin.is_empty() && early_linkedin.iter().all(|r| r.hour.is_none()),
        "LinkedIn reports days"
    );
    let conversions =
        |rows: &[adflow_platforms::ReportRow]| rows.iter().map(|r| r.conversions).sum::<i64>();
    let clicks = |rows: &[adflow_platforms::ReportRow]| rows.iter().map(|r| r.clicks).sum::<i64>();
    h.control("clock", json!({"hours": 120})).await;
    let late_google = h
        .google
        .report(&google_account(), &google.external_id, day, day)
        .await
        .unwrap();
    assert_eq!(
        clicks(&early_google),
        clicks(&late_google),
        "clicks are final"
    );
    assert!(
        conversions(&late_google) >= conversions(&early_google),
        "late conversions restate the day"
    );

    for (platform, deployed, account) in [
        (&h.google as &dyn AdPlatform, &google, google_account()),
        (&h.linkedin, &linkedin, linkedin_account()),
    ] {
        platform
            .push(
                &account,
                &deployed.external_id,
                &deployed.resources,
                &Change::Pause,
                "USD",
            )
            .await
            .unwrap();
    }
    let inventory = h.inventory().await;
    let campaign = &inventory["google"]["1234567890"]["campaigns"][0];
    assert_eq!(campaign["status"], "PAUSED");
    assert_eq!(campaign["dailyBudgetMicros"], 300_000_000);
    assert_eq!(
        campaign["campaignCriteria"], 4,
        "location, language, two negatives"
    );
    let linkedin_campaign =
        &inventory["linkedin"]["510000001"]["campaignGroups"][0]["campaigns"][0];
    assert_eq!(linkedin_campaign["status"], "PAUSED");
    assert_eq!(
        linkedin_campaign["dailyBudget"]["amount"], "300.00",
        "one campaign takes the whole budget"
    );
    // Paused: the days after it deliver nothing.
    h.control("clock", json!({"hours": 48})).await;
    let paused_day = start_day() + Duration::days(13);
    let after = h
        .google
        .report(
            &google_account(),
            &google.external_id,
            paused_day,
            paused_day,
        )
        .await
        .unwrap();
    assert!(after.iter().all(|r| r.impressions == 0), "{after:?}");
}

#[tokio::test]
async fn search_terms_add_up_to_the_keywords_and_a_negative_keyword_removes_its_searches() {
    let h = harness().await;
    let structure = samples::structure("Searches", 2, 3);
    let key = DeploymentKey::for_campaign(Uuid::now_v7());
    let google = h
        .google
        .deploy(&google_account(), &key, &structure, "USD")
        .await
        .unwrap();
    h.google
        .push(
            &google_account(),
            &google.external_id,
            &google.resources,
            &Change::Resume,
            "USD",
        )
        .await
        .unwrap();
    h.control("clock", json!({"hours": 24 * 6})).await;
    let (from, to) = (start_day(), start_day() + Duration::days(4));
    let terms = h
        .google
        .search_terms(&google_account(), &google.external_id, from, to)
        .await
        .unwrap();
    let report = h
        .google
        .report(&google_account(), &google.external_id, from, to)
        .await
        .unwrap();
    let report_clicks: i64 = report.iter().map(|r| r.clicks).sum();
    assert!(report_clicks > 0);
    assert_eq!(
        terms.iter().map(|t| t.clicks).sum::<i64>(),
        report_clicks,
        "every click came from one search"
    );
    assert_eq!(
        terms.iter().map(|t| t.conversions).sum::<i64>(),
        report.iter().map(|r| r.conversions).sum::<i64>()
    );
    assert!(
        terms.iter().all(|t| !t.search_term.contains("jobs")),
        "the sample's campaign negative \"jobs\" holds from the start"
    );
    let salary: Vec<_> = terms
        .iter()
        .filter(|t| t.search_term.ends_with(" salary"))
        .collect();
    assert!(!salary.is_empty(), "broad keywords catch job seekers");
    assert!(salary
        .iter()
        .all(|t| t.conversions == 0 && t.status == "NONE"));
    assert!(terms
        .iter()
        .all(|t| !t.keyword.is_empty() && !t.ad_group.is_empty() && t.match_type.is_some()));
    assert!(
        terms.iter().any(|t| t.status == "ADDED"),
        "a keyword's own text is a search that is already a keyword"
    );
    let linkedin = h
        .linkedin
        .search_terms(&linkedin_account(), "anything", from, to)
        .await
        .unwrap();
    assert!(linkedin.is_empty(), "LinkedIn has no searches");

    h.google
        .push(
            &google_account(),
            &google.external_id,
            &google.resources,
            &Change::NegativeKeywords {
                keywords: vec!["salary".into()],
            },
            "USD",
        )
        .await
        .unwrap();
    h.control("clock", json!({"hours": 24 * 4})).await;
    let later = start_day() + Duration::days(7);
    let after = h
        .google
        .search_terms(
            &google_account(),
            &google.external_id,
            later,
            later + Duration::days(2),
        )
        .await
        .unwrap();
    assert!(after.iter().any(|t| t.clicks > 0));
    assert!(
        after.iter().all(|t| !t.search_term.contains("salary")),
        "{after:?}"
    );
}
