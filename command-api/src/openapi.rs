//! The OpenAPI 3.1 contract, generated from the code: every operation of the router with the
//! request type its handler parses (schemas derived from those types by schemars, JSON Schema
//! 2020-12 as OpenAPI 3.1 uses), the roles that may call it, and the problem document every error
//! is. Served at `/openapi.json`, with a docs page at `/docs`; checked in at
//! `schemas/openapi/openapi.json` and guarded by a drift test.

use crate::api_keys::{ApiKeyCreated, ApiKeyRevoked, CreateApiKeyRequest};
use crate::audiences::{
    AccountListRequest, AddSegmentRequest, DefineAudienceRequest, EstimateRequest, PersonaRequest,
    SegmentationRequest,
};
use crate::campaigns::{ChangeBudgetRequest, CreateCampaignRequest, RenameCampaignRequest};
use crate::connections::{ConnectionTested, GoogleConnectRequest, LinkedInConnectRequest};
use crate::data_subjects::{DataSubjectErasure, DataSubjectExport};
use crate::inbound::{InboundEndpointCreated, InboundEndpointRequest};
use crate::lifecycle::{
    AttachSegmentRequest, DeploymentResultRequest, EditStructureRequest, PerformanceRequest,
    RejectRequest, ScheduleRequest, StructureRequestRequest, StructureResultRequest,
};
use crate::notifications::{InboxUpdated, MarkReadRequest, PreferencesRequest};
use crate::optimisation::{DecisionRulesRequest, RunAccepted};
use crate::problem::Problem;
use crate::proposals::{DeclineRequest, GuardrailsRequest, ProposalRequest};
use crate::report_schedules::{
    ReportRunRequest, ReportScheduleChanged, ReportScheduleCreated, ReportScheduleRequest,
};
use crate::webhooks::{ReplayRequest, WebhookChanged, WebhookRequest, WebhookSecret};
use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::Schema;
use serde_json::{json, Map, Value};

/// What a command answers with on success.
#[derive(schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)] // a schema only: the handlers build the same shape with `json!`
struct CommandAccepted {
    /// The aggregate the command went to.
    id: uuid::Uuid,
    /// Its version now; send it as `If-Match` with the next command.
    version: u64,
    /// The log position of the last event appended, for `minPosition` in GraphQL; null when the
    /// command changed nothing (a repeated report, an idempotent replay of nothing).
    position: Option<String>,
}

struct Operation {
    path: &'static str,
    summary: &'static str,
    roles: &'static str,
    /// `Some` when the operation reads a JSON body.
    body: Option<Schema>,
    /// Creates an aggregate (201) instead of changing an existing one (200, `If-Match`).
    creates: bool,
    /// What it answers with, when not `CommandAccepted`; such operations are not commands to an
    /// aggregate and take no `If-Match`.
    response: Option<Schema>,
    /// Answered asynchronously (202): the work is queued, its result follows as events.
    accepted: bool,
    /// A read (GET) rather than a command (POST).
    read: bool,
    /// A deletion (DELETE) rather than a command (POST).
    delete: bool,
    /// Replays its first answer for a repeated `Idempotency-Key` (most commands do).
    idempotency_key: bool,
}

const MANAGE_CAMPAIGNS: &str = "Admin, Manager";
const WORK_RESULTS: &str = "Admin (service tokens of the ML workers and platform gateways)";
const MANAGE_AUDIENCES: &str = "Admin, Manager, Analyst";

fn operations(generator: &mut SchemaGenerator) -> Vec<Operation> {
    let op = |path, summary, roles, body: Option<Schema>, creates| Operation {
        path,
        summary,
        roles,
        body,
        creates,
        response: None,
        accepted: false,
        read: false,
        delete: false,
        idempotency_key: true,
    };
    let steps = [
        ("/v1/campaigns/{id}/approve", "Approve the structure"),
        (
            "/v1/campaigns/{id}/deploy",
            "Request deployment to the campaign's platforms",
        ),
        (
            "/v1/campaigns/{id}/activate",
            "Activate a deployed campaign",
        ),
        ("/v1/campaigns/{id}/pause", "Pause an active campaign"),
        ("/v1/campaigns/{id}/resume", "Resume a paused campaign"),
        ("/v1/campaigns/{id}/complete", "Complete a campaign"),
        ("/v1/campaigns/{id}/archive", "Archive a campaign"),
    ];
    let mut all = vec![
        op(
            "/v1/campaigns",
            "Create a campaign",
            MANAGE_CAMPAIGNS,
            Some(generator.subschema_for::<CreateCampaignRequest>()),
            true,
        ),
        op(
            "/v1/campaigns/{id}/rename",
            "Rename a campaign",
            MANAGE_CAMPAIGNS,
            Some(generator.subschema_for::<RenameCampaignRequest>()),
            false,
        ),
        op(
            "/v1/campaigns/{id}/budget",
            "Change the total budget",
            MANAGE_CAMPAIGNS,
            Some(generator.subschema_for::<ChangeBudgetRequest>()),
            false,
        ),
        op(
            "/v1/campaigns/{id}/schedule",
            "Change the schedule",
            MANAGE_CAMPAIGNS,
            Some(generator.subschema_for::<ScheduleRequest>()),
            false,
        ),
        op(
            "/v1/campaigns/{id}/structure-requests",
            "Ask the generator for a structure",
            MANAGE_CAMPAIGNS,
            Some(generator.subschema_for::<StructureRequestRequest>()),
            false,
        ),
        op(
            "/v1/campaigns/{id}/structure-requests/{requestId}/result",
            "Report the generator's structure or failure",
            WORK_RESULTS,
            Some(generator.subschema_for::<StructureResultRequest>()),
            false,
        ),
        op(
            "/v1/campaigns/{id}/structure",
            "Edit the structure by hand",
            MANAGE_CAMPAIGNS,
            Some(generator.subschema_for::<EditStructureRequest>()),
            false,
        ),
        op(
            "/v1/campaigns/{id}/structure/reject",
            "Reject the structure",
            MANAGE_CAMPAIGNS,
            Some(generator.subschema_for::<RejectRequest>()),
            false,
        ),
        op(
            "/v1/campaigns/{id}/deployments/{platform}",
            "Report a deployment to `google` or `linkedin`",
            WORK_RESULTS,
            Some(generator.subschema_for::<DeploymentResultRequest>()),
            false,
        ),
        op(
            "/v1/campaigns/{id}/segments",
            "Target an audience segment (422 `not_found` at `/audienceId` or `/segmentId` when it is not in your tenant; 422 below the platforms' minimum audience)",
            MANAGE_CAMPAIGNS,
            Some(generator.subschema_for::<AttachSegmentRequest>()),
            false,
        ),
        op(
            "/v1/campaigns/{id}/proposals",
            "Propose an optimisation (applies itself within the guardrails)",
            WORK_RESULTS,
            Some(generator.subschema_for::<ProposalRequest>()),
            false,
        ),
        op(
            "/v1/campaigns/{id}/proposals/{proposalId}/approve",
            "Apply a proposal",
            MANAGE_CAMPAIGNS,
            None,
            false,
        ),
        op(
            "/v1/campaigns/{id}/proposals/{proposalId}/decline",
            "Decline a proposal",
            MANAGE_CAMPAIGNS,
            Some(generator.subschema_for::<DeclineRequest>()),
            false,
        ),
        op(
            "/v1/campaigns/{id}/performance",
            "Report a platform's performance rows",
            WORK_RESULTS,
            Some(generator.subschema_for::<PerformanceRequest>()),
            false,
        ),
        op(
            "/v1/settings/guardrails",
            "Set the tenant's guardrails for automatic changes",
            "Admin",
            Some(generator.subschema_for::<GuardrailsRequest>()),
            false,
        ),
        op(
            "/v1/audiences",
            "Define an audience",
            MANAGE_AUDIENCES,
            Some(generator.subschema_for::<DefineAudienceRequest>()),
            true,
        ),
        op(
            "/v1/audiences/{id}/segments",
            "Add a segment",
            MANAGE_AUDIENCES,
            Some(generator.subschema_for::<AddSegmentRequest>()),
            false,
        ),
        op(
            "/v1/audiences/{id}/segments/{segmentId}/estimate",
            "Record a segment's estimated size",
            MANAGE_AUDIENCES,
            Some(generator.subschema_for::<EstimateRequest>()),
            false,
        ),
        op(
            "/v1/audiences/{id}/segments/{segmentId}/personas",
            "Add a persona to a segment",
            MANAGE_AUDIENCES,
            Some(generator.subschema_for::<PersonaRequest>()),
            false,
        ),
        op(
            "/v1/audiences/{id}/account-lists",
            "Import a hashed account list",
            MANAGE_AUDIENCES,
            Some(generator.subschema_for::<AccountListRequest>()),
            false,
        ),
        op(
            "/v1/audiences/{id}/segmentation-requests",
            "Ask the segmentation model for segments and personas of CRM accounts",
            MANAGE_AUDIENCES,
            Some(generator.subschema_for::<SegmentationRequest>()),
            false,
        ),
    ];
    all.push(op(
        "/v1/settings/platform-connections/google",
        "Connect a Google Ads customer with its OAuth2 refresh token (stored encrypted, never shown again)",
        "Admin",
        Some(generator.subschema_for::<GoogleConnectRequest>()),
        false,
    ));
    all.push(op(
        "/v1/settings/platform-connections/linkedin",
        "Connect a LinkedIn ad account with its OAuth2 refresh token (stored encrypted, never shown again)",
        "Admin",
        Some(generator.subschema_for::<LinkedInConnectRequest>()),
        false,
    ));
    all.push(op(
        "/v1/settings/platform-connections/{platform}/disconnect",
        "Disconnect an ad account and delete its credentials",
        "Admin",
        None,
        false,
    ));
    all.push(op(
        "/v1/settings/decision-rules",
        "Set the tenant's decision rules: thresholds of the optimiser and which kinds of proposal may apply themselves",
        "Admin",
        Some(generator.subschema_for::<DecisionRulesRequest>()),
        false,
    ));
    all.push(Operation {
        response: Some(generator.subschema_for::<RunAccepted>()),
        accepted: true,
        ..op(
            "/v1/campaigns/{id}/optimization-runs",
            "Ask the optimiser to look at the campaign now; its answer (proposals, or nothing to change) follows as events, on `optimizationRuns` in GraphQL",
            MANAGE_CAMPAIGNS,
            None,
            false,
        )
    });
    all.push(Operation {
        response: Some(generator.subschema_for::<ConnectionTested>()),
        ..op(
            "/v1/settings/platform-connections/{platform}/test",
            "Test a connection: refresh its access token and read the account",
            "Admin",
            None,
            false,
        )
    });
    all.push(Operation {
        response: Some(generator.subschema_for::<ApiKeyCreated>()),
        ..op(
            "/v1/api-keys",
            "Create an API key (its secret is shown in this response only)",
            "Admin",
            Some(generator.subschema_for::<CreateApiKeyRequest>()),
            true,
        )
    });
    all.push(Operation {
        response: Some(generator.subschema_for::<ApiKeyRevoked>()),
        ..op(
            "/v1/api-keys/{id}/revoke",
            "Revoke an API key",
            "Admin",
            None,
            false,
        )
    });
    all.push(Operation {
        response: Some(generator.subschema_for::<InboxUpdated>()),
        ..op(
            "/v1/notification-preferences",
            "Set your notification preferences: your e-mail address, a Slack incoming webhook, and the channels of each kind of notice",
            "every role (your own inbox)",
            Some(generator.subschema_for::<PreferencesRequest>()),
            false,
        )
    });
    all.push(Operation {
        response: Some(generator.subschema_for::<InboxUpdated>()),
        ..op(
            "/v1/notifications/read",
            "Mark notices of your feed read",
            "every role (your own inbox)",
            Some(generator.subschema_for::<MarkReadRequest>()),
            false,
        )
    });
    all.push(Operation {
        idempotency_key: false,
        response: Some(generator.subschema_for::<InboundEndpointCreated>()),
        ..op(
            "/v1/inbound-endpoints",
            "Create an endpoint for a platform or CRM to push leads and offline conversions to, signed the Standard Webhooks way (its secret is shown in this response only)",
            "Admin",
            Some(generator.subschema_for::<InboundEndpointRequest>()),
            true,
        )
    });
    all.push(Operation {
        idempotency_key: false,
        response: Some(generator.subschema_for::<ReportScheduleCreated>()),
        ..op(
            "/v1/report-schedules",
            "Schedule a performance report, daily or weekly, by e-mail to your notification address or to a signed webhook (its secret is shown in this response only)",
            MANAGE_CAMPAIGNS,
            Some(generator.subschema_for::<ReportScheduleRequest>()),
            true,
        )
    });
    all.push(Operation {
        idempotency_key: false,
        delete: true,
        response: Some(generator.subschema_for::<ReportScheduleChanged>()),
        ..op(
            "/v1/report-schedules/{id}",
            "Delete a report schedule",
            MANAGE_CAMPAIGNS,
            None,
            false,
        )
    });
    all.push(Operation {
        idempotency_key: false,
        response: Some(generator.subschema_for::<ReportScheduleChanged>()),
        ..op(
            "/v1/report-schedules/{id}/run",
            "Send a schedule's report for a chosen period now; its regular runs go on",
            MANAGE_CAMPAIGNS,
            Some(generator.subschema_for::<ReportRunRequest>()),
            false,
        )
    });
    all.push(Operation {
        idempotency_key: false,
        response: Some(generator.subschema_for::<WebhookChanged>()),
        ..op(
            "/v1/webhooks/{id}/replay",
            "Send a subscription's events again from a log position (manual redelivery); enables a disabled subscription",
            "Admin",
            Some(generator.subschema_for::<ReplayRequest>()),
            false,
        )
    });
    all.push(Operation {
        idempotency_key: false,
        delete: true,
        response: Some(generator.subschema_for::<WebhookChanged>()),
        ..op(
            "/v1/webhooks/{id}",
            "Delete a subscription and its delivery log",
            "Admin",
            None,
            false,
        )
    });
    all.push(Operation {
        idempotency_key: false,
        response: Some(generator.subschema_for::<WebhookSecret>()),
        ..op(
            "/v1/webhooks",
            "Subscribe a URL to the tenant's events (Standard Webhooks signatures; the secret is shown in this response only)",
            "Admin",
            Some(generator.subschema_for::<WebhookRequest>()),
            true,
        )
    });
    all.push(Operation {
        idempotency_key: false,
        response: Some(generator.subschema_for::<WebhookSecret>()),
        ..op(
            "/v1/webhooks/{id}/rotate-secret",
            "Rotate a subscription's secret: the new one and the previous one both sign until the next rotation",
            "Admin",
            None,
            false,
        )
    });
    all.push(Operation {
        response: Some(generator.subschema_for::<DataSubjectExport>()),
        read: true,
        ..op(
            "/v1/data-subjects/{id}",
            "Export everything the log holds about a data subject, opened with its keys (portability)",
            "Admin",
            None,
            false,
        )
    });
    all.push(Operation {
        idempotency_key: false,
        response: Some(generator.subschema_for::<DataSubjectErasure>()),
        ..op(
            "/v1/data-subjects/{id}/erase",
            "Erase a data subject: destroy its keys (crypto-shredding) and record the erasure",
            "Admin",
            None,
            false,
        )
    });
    all.extend(
        steps
            .into_iter()
            .map(|(path, summary)| op(path, summary, MANAGE_CAMPAIGNS, None, false)),
    );
    all.sort_by_key(|o| o.path);
    all
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

fn operation(op: &Operation) -> Value {
    let mut parameters: Vec<Value> = op
        .path
        .split('/')
        .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
        .map(|name| {
            let schema = match name {
                "platform" => json!({"type": "string", "enum": ["google", "linkedin"]}),
                _ => json!({"type": "string"}),
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect();
    if !op.creates && op.response.is_none() && !op.path.starts_with("/v1/settings/") {
        // A report goes to its own day stream and leaves the campaign's version as it was, so the
        // campaign's version is only checked when the reporter sends it.
        let required = op.path != "/v1/campaigns/{id}/performance";
        parameters.push(json!({"name": "If-Match", "in": "header", "required": required,
            "description": "The version you last read (`3` or `\"3\"`, optionally weak `W/\"3\"`); a stale one is answered with 409.",
            "schema": {"type": "string", "pattern": "^(W/)?\"?[0-9]{1,19}\"?$"}}));
    }
    if !op.read && op.idempotency_key {
        parameters.push(json!({"name": "Idempotency-Key", "in": "header", "required": false,
            "description": "Replays the first response for 24 h; the same key with another body is refused (422).",
            "schema": {"type": "string", "pattern": "^[!-~]{1,255}$"}}));
    }
    let (status, description) = if op.accepted {
        ("202", "Accepted")
    } else if op.creates {
        ("201", "Created")
    } else {
        ("200", "Applied")
    };
    let mut responses = Map::new();
    responses.insert(
        status.into(),
        json!({"description": description,
               "headers": {"ETag": {"schema": {"type": "string"}}, "X-Request-Id": {"schema": {"type": "string"}}},
               "content": {"application/json": {"schema": op.response.as_ref().map(|r| r.as_value().clone()).unwrap_or_else(|| json!({"$ref": "#/components/schemas/CommandAccepted"}))}}}),
    );
    for (code, description) in [
        ("400", "Malformed JSON, JSON nested deeper than the limit (`json_too_deep`), If-Match or Idempotency-Key"),
        ("401", "No valid bearer token"),
        ("403", "The caller's role may not do this"),
        ("404", "No such resource in the caller's tenant"),
        (
            "409",
            "Version conflict, illegal transition, or a request with this key in flight",
        ),
        ("413", "Body too large"),
        ("415", "Body not application/json"),
        (
            "422",
            "Validation failed: every invalid field with its JSON pointer",
        ),
        ("428", "If-Match missing"),
        ("429", "Rate limited; see Retry-After"),
        ("503", "A backing service is unavailable"),
    ] {
        responses.insert(code.into(), problem(description));
    }
    let mut operation = json!({
        "summary": op.summary,
        "description": format!("Roles: {}.", op.roles),
        "operationId": operation_id(op.path),
        "parameters": parameters,
        "responses": responses,
    });
    if let Some(schema) = &op.body {
        operation["requestBody"] =
            json!({"required": true, "content": {"application/json": {"schema": schema}}});
    }
    if op.read {
        json!({"get": operation})
    } else if op.delete {
        json!({"delete": operation})
    } else {
        json!({"post": operation})
    }
}

/// `/v1/campaigns/{id}/structure-requests` → `campaigns_structure_requests`.
fn operation_id(path: &str) -> String {
    path.trim_start_matches("/v1/")
        .split('/')
        .filter(|part| !part.starts_with('{'))
        .map(|part| part.replace('-', "_"))
        .collect::<Vec<_>>()
        .join("_")
}

/// The whole document.
pub fn document() -> Value {
    let mut generator = SchemaSettings::draft2020_12()
        .with(|s| s.definitions_path = "#/components/schemas".into())
        .into_generator();
    let operations = operations(&mut generator);
    generator.subschema_for::<CommandAccepted>();
    generator.subschema_for::<Problem<'static>>();
    let mut paths = Map::new();
    for op in &operations {
        paths.insert(op.path.into(), operation(op));
    }
    let mut schemas = Value::Object(generator.take_definitions(true));
    with_integer_bounds(&mut schemas);
    let mut paths = Value::Object(paths);
    with_integer_bounds(&mut paths);
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Adflow command API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Every change to Adflow's state. Commands to an existing aggregate need If-Match; \
                            every error is application/problem+json with a stable `code`."
        },
        "servers": [{"url": "http://127.0.0.1:8080"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": schemas,
        }
    })
}

/// schemars names an integer's width (`format: uint32`) but not its range; the server refuses a
/// number its type cannot hold, so the document states the range.
fn with_integer_bounds(document: &mut Value) {
    let mut pending = vec![document];
    while let Some(value) = pending.pop() {
        match value {
            Value::Object(fields) => {
                let range = match fields.get("format").and_then(Value::as_str) {
                    Some("int8") => Some((json!(i8::MIN), json!(i8::MAX))),
                    Some("uint8") => Some((json!(0), json!(u8::MAX))),
                    Some("int16") => Some((json!(i16::MIN), json!(i16::MAX))),
                    Some("uint16") => Some((json!(0), json!(u16::MAX))),
                    Some("int32") => Some((json!(i32::MIN), json!(i32::MAX))),
                    Some("uint32") => Some((json!(0), json!(u32::MAX))),
                    Some("int64") => Some((json!(i64::MIN), json!(i64::MAX))),
                    Some("uint64") => Some((json!(0), json!(u64::MAX))),
                    _ => None,
                };
                if let Some((minimum, maximum)) = range {
                    fields.entry("minimum").or_insert(minimum);
                    fields.entry("maximum").or_insert(maximum);
                }
                pending.extend(fields.values_mut());
            }
            Value::Array(items) => pending.extend(items.iter_mut()),
            _ => {}
        }
    }
}

/// The interactive docs page: Scalar's API reference, loaded by the browser from its CDN.
pub const DOCS_PAGE: &str = r#"<!doctype html>
<html><head><title>Adflow command API</title><meta charset="utf-8"></head>
<body><script id="api-reference" data-url="/openapi.json"></script>
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference"></script></body></html>"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_its_errors_and_every_reference_resolves() {
        let document = document();
        let text = document.to_string();
        let schemas = document["components"]["schemas"].as_object().unwrap();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(schemas.contains_key(name), "dangling $ref to {name}");
        }
        let paths = document["paths"].as_object().unwrap();
        assert_eq!(paths.len(), 48);
        for (path, item) in paths {
            let operation = if path == "/v1/data-subjects/{id}" {
                &item["get"]
            } else if item["delete"].is_object() {
                &item["delete"]
            } else {
                &item["post"]
            };
            assert!(operation["responses"]["422"].is_object(), "{path}");
        }
    }
}
