//! The authorisation matrix: every command endpoint × every role × the caller's own tenant and
//! another tenant, plus no token at all. Expected: no token → 401; a role the table does not allow
//! → 403 (before anything is loaded); another tenant's aggregate → 404 and nothing appended to it;
//! an allowed role in its own tenant gets past authorisation (whatever the domain then says).

use adflow_auth::{Action, Role};
use adflow_domain::TenantId;
use adflow_testkit::app::TestApp;
use adflow_testkit::fixtures::{active_campaign, campaign, str_of};
use chrono::{Days, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

struct Endpoint {
    path: String,
    body: Value,
    action: Action,
    /// Targets an existing aggregate (another tenant's must be invisible), rather than creating
    /// one or changing the caller's own tenant settings.
    existing: bool,
}

#[tokio::test]
async fn every_role_on_every_endpoint_in_its_own_and_another_tenant() {
    let app = TestApp::spawn(env!("CARGO_BIN_EXE_adflow")).await;
    let owner = TenantId(Uuid::now_v7());
    let manager = app.token_for("a-manager", owner, Role::Manager);
    let admin = app.token_for("a-admin", owner, Role::Admin);
    let (campaign_id, version) = active_campaign(&app, &manager, &admin).await;
    let proposed = app
        .command(
            &format!("/v1/campaigns/{campaign_id}/proposals"),
            Some(&admin),
            &json!({"action": {"kind": "PAUSE"}, "reason": "r", "confidenceBasisPoints": 5000, "modelVersion": "m"}),
            &[("if-match", &version.to_string())],
        )
        .await;
    assert_eq!(proposed.status, StatusCode::OK, "{:?}", proposed.body);
    let proposal: Uuid = sqlx::query_scalar(
        "SELECT (data->>'proposalId')::uuid FROM events WHERE event_type = 'OptimisationProposed'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let audience = app
        .command(
            "/v1/audiences",
            Some(&manager),
            &json!({"name": "DACH", "criteria": {"include": {"locations": ["DE"]}}}),
            &[],
        )
        .await;
    let audience_id = str_of(&audience.body, "/id").to_owned();
    let segment = app
        .command(
            &format!("/v1/audiences/{audience_id}/segments"),
            Some(&manager),
            &json!({"name": "Mid-market", "criteria": {"include": {"locations": ["DE"]}}, "estimatedSize": 90000}),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(segment.status, StatusCode::OK, "{:?}", segment.body);
    let segment_id: Uuid = sqlx::query_scalar(
        "SELECT (data->>'segmentId')::uuid FROM events WHERE event_type = 'SegmentAdded'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();

    let key = app
        .command(
            "/v1/api-keys",
            Some(&admin),
            &json!({"name": "CRM", "role": "viewer"}),
            &[],
        )
        .await;
    assert_eq!(key.status, StatusCode::CREATED, "{:?}", key.body);
    let key_id = str_of(&key.body, "/id").to_owned();

    let day = Utc::now().date_naive() + Days::new(7);
    let c = |suffix: &str| format!("/v1/campaigns/{campaign_id}/{suffix}");
    let a = |suffix: &str| format!("/v1/audiences/{audience_id}{suffix}");
    let endpoint = |path: String, body: Value, action: Action, existing: bool| Endpoint {
        path,
        body,
        action,
        existing,
    };
    use Action::*;
    let endpoints = vec![
        endpoint(
            "/v1/api-keys".into(),
            json!({"name": "Sync", "role": "analyst"}),
            ManageSettings,
            false,
        ),
        endpoint(
            format!("/v1/api-keys/{key_id}/revoke"),
            json!({}),
            ManageSettings,
            true,
        ),
        endpoint(
            "/v1/campaigns".into(),
            campaign("New"),
            ManageCampaigns,
            false,
        ),
        endpoint(
            "/v1/settings/guardrails".into(),
            json!({"autoApply": false, "minConfidenceBasisPoints": 9000, "maxDailyBudgetChangeBasisPoints": 2000}),
            ManageSettings,
            false,
        ),
        endpoint(
            c("rename"),
            json!({"name": "Renamed"}),
            ManageCampaigns,
            true,
        ),
        endpoint(
            c("budget"),
            json!({"totalBudgetMicros": 30_000_000_000i64}),
            ManageCampaigns,
            true,
        ),
        endpoint(
            c("schedule"),
            json!({"startDate": day.to_string(), "endDate": (day + Days::new(40)).to_string()}),
            ManageCampaigns,
            true,
        ),
        endpoint(c("structure-requests"), json!({}), ManageCampaigns, true),
        endpoint(
            c(&format!("structure-requests/{}/result", Uuid::now_v7())),
            json!({"failure": "the model timed out"}),
            RecordWorkResults,
            true,
        ),
        endpoint(
            c("structure/reject"),
            json!({"reasons": ["off brand"]}),
            ManageCampaigns,
            true,
        ),
        endpoint(
            c("segments"),
            json!({"audienceId": audience_id, "segmentId": segment_id}),
            ManageCampaigns,
            true,
        ),
        endpoint(
            c("proposals"),
            json!({"action": {"kind": "RESUME"}, "reason": "r", "confidenceBasisPoints": 5000, "modelVersion": "m"}),
            RecordWorkResults,
            true,
        ),
        endpoint(
            c(&format!("proposals/{proposal}/decline")),
            json!({"reason": "no"}),
            ManageCampaigns,
            true,
        ),
        endpoint(
            c(&format!("proposals/{proposal}/approve")),
            json!({}),
            ManageCampaigns,
            true,
        ),
        endpoint(
            c("performance"),
            json!({"reportId": Uuid::now_v7(), "platform": "GOOGLE",
                   "windowStart": format!("{day}T00:00:00Z"), "windowEnd": format!("{day}T01:00:00Z"),
                   "rows": [{"hour": format!("{day}T00:00:00Z"), "impressions": 10, "clicks": 1,
                             "conversions": 0, "costMicros": 1000, "revenueMicros": 0}]}),
            RecordWorkResults,
            true,
        ),
        endpoint(
            c("deployments/google"),
            json!({"externalId": "customers/1/campaigns/9"}),
            RecordWorkResults,
            true,
        ),
        endpoint(c("pause"), json!({}), ManageCampaigns, true),
        endpoint(c("resume"), json!({}), ManageCampaigns, true),
        endpoint(c("complete"), json!({}), ManageCampaigns, true),
        endpoint(
            "/v1/audiences".into(),
            json!({"name": "Nordics", "criteria": {"include": {"locations": ["SE"]}}}),
            ManageAudiences,
            false,
        ),
        endpoint(
            a("/segments"),
            json!({"name": "SMB", "criteria": {"include": {"locations": ["DE"]}}}),
            ManageAudiences,
            true,
        ),
        endpoint(
            a(&format!("/segments/{segment_id}/estimate")),
            json!({"estimatedSize": 120000}),
            ManageAudiences,
            true,
        ),
        endpoint(
            a(&format!("/segments/{segment_id}/personas")),
            json!({"name": "CFO", "titles": ["CFO"], "pains": ["Slow close"], "messagingAngles": ["Close faster"]}),
            ManageAudiences,
            true,
        ),
        endpoint(
            a("/account-lists"),
            json!({"name": "Accounts", "lawfulBasis": "CONSENT",
                   "hashedIdentifiers": ["9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]}),
            ManageAudiences,
            true,
        ),
    ];

    let stranger = TenantId(Uuid::now_v7());
    let mut checked = 0;
    for endpoint in &endpoints {
        let anonymous = app
            .command(&endpoint.path, None, &endpoint.body, &[("if-match", "1")])
            .await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "{} without a token",
            endpoint.path
        );
        for role in Role::ALL {
            for (tenant, own) in [(owner, true), (stranger, false)] {
                let token = app.token_for(
                    &format!("{}-{role}", if own { "a" } else { "b" }),
                    tenant,
                    role,
                );
                let reply = app
                    .command(
                        &endpoint.path,
                        Some(&token),
                        &endpoint.body,
                        &[("if-match", "1")],
                    )
                    .await;
                let case = format!(
                    "{} as {role} of {} tenant: {:?}",
                    endpoint.path,
                    if own { "its own" } else { "another" },
                    reply.body
                );
                if !role.may(endpoint.action) {
                    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{case}");
                } else if !own && endpoint.existing {
                    // 404; or, where the body names other resources, those are looked up in the
                    // caller's tenant first and reported missing there: neither says anything
                    // about the owner's data.
                    let only_missing_references = reply.status == StatusCode::UNPROCESSABLE_ENTITY
                        && reply.body["errors"]
                            .as_array()
                            .is_some_and(|e| e.iter().all(|e| e["code"] == "not_found"));
                    assert!(
                        reply.status == StatusCode::NOT_FOUND || only_missing_references,
                        "{case}"
                    );
                } else {
                    assert!(
                        !matches!(
                            reply.status,
                            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                        ),
                        "{case}"
                    );
                    assert!(reply.status != StatusCode::INTERNAL_SERVER_ERROR, "{case}");
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, endpoints.len() * 2 * Role::ALL.len());

    // Nothing any caller of the other tenant sent reached the owner's streams.
    let leaked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE stream_name LIKE '%' || $1 || '%' AND actor LIKE 'user:b-%'",
    )
    .bind(owner.0.to_string())
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0);
}
