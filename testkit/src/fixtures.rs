//! Requests the end-to-end tests share: a valid campaign, a valid structure, a campaign taken all
//! the way to ACTIVE through the command API.

use crate::app::TestApp;
use chrono::{Days, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};
use uuid::Uuid;

/// A valid `CreateCampaign` body, starting in a week and running 30 days.
pub fn campaign(name: &str) -> Value {
    let start = Utc::now().date_naive() + Days::new(7);
    json!({
        "name": name,
        "objective": "LEAD_GENERATION",
        "platforms": ["LINKEDIN", "GOOGLE"],
        "totalBudgetMicros": 25_000_000_000i64,
        "startDate": start.to_string(),
        "endDate": (start + Days::new(30)).to_string(),
    })
}

/// A valid Google Ads structure whose first headline is `headline`.
pub fn google_structure(headline: &str) -> Value {
    json!({
        "google": {
            "dailyBudgetMicros": 50_000_000,
            "campaign": {
                "name": "Q1 Search", "channel": "SEARCH",
                "bidding": {"strategy": "MAXIMIZE_CONVERSIONS", "targetCpaMicros": 80_000_000},
                "locations": ["geoTargetConstants/2276"], "languages": ["languageConstants/1001"]
            },
            "adGroups": [{
                "name": "Campaign software",
                "keywords": [{"text": "b2b campaign software", "matchType": "PHRASE"}],
                "ads": [{
                    "headlines": [headline, "Plan campaigns in minutes", "Try Adflow free"],
                    "descriptions": ["Generate LinkedIn and Google campaigns from one brief.", "Budgets, copy and keywords in one place."],
                    "finalUrls": ["https://adflow.example/b2b"]
                }]
            }]
        }
    })
}

/// The string at `pointer`, or "".
pub fn str_of<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// A Google campaign taken through structure, approval, deployment and activation; returns its id
/// and version.
pub async fn active_campaign(app: &TestApp, manager: &str, service: &str) -> (String, u64) {
    let mut body = campaign("Running");
    body["platforms"] = json!(["GOOGLE"]);
    let id = str_of(
        &app.command("/v1/campaigns", Some(manager), &body, &[])
            .await
            .body,
        "/id",
    )
    .to_owned();
    let path = |suffix: &str| format!("/v1/campaigns/{id}/{suffix}");
    let reply = app
        .command(
            &path("structure-requests"),
            Some(manager),
            &json!({}),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let request_id: Uuid = sqlx::query_scalar(
        "SELECT (data->>'requestId')::uuid FROM events WHERE event_type = 'StructureGenerationRequested' AND stream_name LIKE '%' || $1",
    )
    .bind(&id)
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    let result =
        json!({"modelVersion": "m", "structure": google_structure("B2B ads that convert")});
    let steps: Vec<(String, &str, Value)> = vec![
        (
            path(&format!("structure-requests/{request_id}/result")),
            service,
            result,
        ),
        (path("approve"), manager, json!({})),
        (path("deploy"), manager, json!({})),
        (
            path("deployments/google"),
            service,
            json!({"externalId": "customers/1/campaigns/2"}),
        ),
        (path("activate"), manager, json!({})),
    ];
    let mut version = 2u64;
    for (url, token, body) in steps {
        let reply = app
            .command(
                &url,
                Some(token),
                &body,
                &[("if-match", &version.to_string())],
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{url}: {:?}", reply.body);
        version = reply.body["version"].as_u64().unwrap();
    }
    (id, version)
}
