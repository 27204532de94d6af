//! Faults on request: the next `times` requests matching a rule fail the way a platform fails.

use super::Sandbox;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{Response, StatusCode};
use axum::middleware::Next;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", tag = "kind")]
pub enum Fault {
    /// Answer this status with the platform's error body (500, 503, 429 …) without doing anything.
    Status { status: u16 },
    /// Wait before handling.
    Latency { ms: u64 },
    /// Do the work, then never answer: the client's deadline passes after the write took effect.
    LoseResponse,
    /// Never answer, and do nothing.
    Hang,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// `GOOGLE` or `LINKEDIN`; any when absent.
    #[serde(default)]
    pub platform: Option<String>,
    /// A substring of the path (after the platform prefix), e.g. `adCampaigns` or `:mutate`.
    #[serde(default)]
    pub path_contains: Option<String>,
    #[serde(default)]
    pub method: Option<String>,
    pub fault: Fault,
    /// Matching requests let through before it starts hitting.
    #[serde(default)]
    pub after: u32,
    /// How many matching requests it hits.
    pub times: u32,
}

const NEVER: Duration = Duration::from_secs(3600);

fn error_body(google: bool, status: u16) -> Response<Body> {
    let body = if google {
        let (state, code) = match status {
            429 => (
                "RESOURCE_EXHAUSTED",
                serde_json::json!({"quotaError": "RESOURCE_TEMPORARILY_EXHAUSTED"}),
            ),
            503 => (
                "UNAVAILABLE",
                serde_json::json!({"internalError": "TRANSIENT_ERROR"}),
            ),
            _ => (
                "INTERNAL",
                serde_json::json!({"internalError": "INTERNAL_ERROR"}),
            ),
        };
        super::google::failure(
            status,
            state,
            vec![(code, "Injected by the sandbox.".into(), None)],
        )
    } else {
        serde_json::json!({"status": status, "message": "Injected by the sandbox."})
    };
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

pub(super) async fn inject(
    State(sandbox): State<Sandbox>,
    request: Request,
    next: Next,
) -> Response<Body> {
    let path = request.uri().path().to_owned();
    let platform = if path.starts_with("/google") {
        "GOOGLE"
    } else if path.starts_with("/linkedin") {
        "LINKEDIN"
    } else {
        return next.run(request).await;
    };
    let method = request.method().as_str().to_owned();
    let fault = {
        let mut world = sandbox.world();
        let hit = world.faults.iter_mut().find(|rule| {
            rule.times > 0
                && rule.platform.as_deref().is_none_or(|p| p == platform)
                && rule
                    .method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(&method))
                && rule
                    .path_contains
                    .as_deref()
                    .is_none_or(|p| path.contains(p))
        });
        hit.and_then(|rule| {
            if rule.after > 0 {
                rule.after -= 1;
                return None;
            }
            rule.times -= 1;
            Some(rule.fault.clone())
        })
    };
    match fault {
        None => next.run(request).await,
        Some(Fault::Status { status }) => error_body(platform == "GOOGLE", status),
        Some(Fault::Latency { ms }) => {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            next.run(request).await
        }
        Some(Fault::LoseResponse) => {
            let _done = next.run(request).await;
            tokio::time::sleep(NEVER).await;
            error_body(platform == "GOOGLE", 504)
        }
        Some(Fault::Hang) => {
            tokio::time::sleep(NEVER).await;
            error_body(platform == "GOOGLE", 504)
        }
    }
}
