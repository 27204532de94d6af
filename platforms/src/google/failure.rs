//! `GoogleAdsFailure` (the error detail of every failed Google Ads REST call) in our terms.
//!
//! ```json
//! {"error": {"code": 400, "status": "INVALID_ARGUMENT", "message": "…",
//!   "details": [{"@type": "type.googleapis.com/google.ads.googleads.v22.errors.GoogleAdsFailure",
//!     "errors": [{"errorCode": {"campaignError": "DUPLICATE_CAMPAIGN_NAME"}, "message": "…",
//!       "location": {"fieldPathElements": [{"fieldName": "mutate_operations", "index": 1}, …]}}],
//!     "requestId": "…"}]}}
//! ```

use crate::{Cause, PlatformError};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Deserialize)]
struct Envelope {
    error: Status,
}

#[derive(Debug, Deserialize)]
struct Status {
    #[serde(default)]
    message: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    details: Vec<Failure>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Failure {
    #[serde(default)]
    errors: Vec<FailureError>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FailureError {
    #[serde(default)]
    error_code: BTreeMap<String, String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    location: Option<Location>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(default)]
    field_path_elements: Vec<PathElement>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PathElement {
    field_name: String,
    #[serde(default)]
    index: Option<u64>,
}

fn cause(error: &FailureError) -> Cause {
    let code = error
        .error_code
        .iter()
        .next()
        .map(|(kind, value)| format!("{kind}.{value}"))
        .unwrap_or_else(|| "unknown".into());
    let field_path = error.location.as_ref().map(|location| {
        location
            .field_path_elements
            .iter()
            .map(|element| match element.index {
                Some(index) => format!("{}[{index}]", element.field_name),
                None => element.field_name.clone(),
            })
            .collect::<Vec<_>>()
            .join(".")
    });
    Cause {
        code,
        message: error.message.clone(),
        field_path,
    }
}

/// The typed error of a failed call, from its HTTP status and body.
pub(crate) fn classify(status: u16, body: &[u8]) -> PlatformError {
    let Ok(Envelope { error }) = serde_json::from_slice::<Envelope>(body) else {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        return match status {
            429 => PlatformError::RateLimited(text),
            500..=599 => PlatformError::Unavailable(format!("HTTP {status}: {text}")),
            _ => PlatformError::Protocol(format!("HTTP {status}: {text}")),
        };
    };
    let causes: Vec<Cause> = error
        .details
        .iter()
        .flat_map(|failure| failure.errors.iter().map(cause))
        .collect();
    let has = |code: &str| causes.iter().any(|c| c.code == code);
    let summary = if causes.is_empty() {
        format!("{} {}", error.status, error.message)
    } else {
        causes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    };
    if has("quotaError.RESOURCE_EXHAUSTED") {
        // The developer token's daily operations: they reset at midnight Pacific time.
        return PlatformError::QuotaExhausted {
            message: summary,
            retry_after: Some(Duration::from_secs(3600)),
        };
    }
    if has("quotaError.RESOURCE_TEMPORARILY_EXHAUSTED") || status == 429 {
        return PlatformError::RateLimited(summary);
    }
    if causes.iter().any(|c| c.code.starts_with("internalError.")) || status >= 500 {
        return PlatformError::Unavailable(summary);
    }
    if status == 401
        || status == 403
        || causes.iter().any(|c| {
            c.code.starts_with("authenticationError.") || c.code.starts_with("authorizationError.")
        })
    {
        return PlatformError::Auth(summary);
    }
    if status == 404 {
        return PlatformError::NotFound(summary);
    }
    if causes.is_empty() {
        return PlatformError::Protocol(format!("HTTP {status}: {summary}"));
    }
    PlatformError::Invalid { causes }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_failure_becomes_typed_causes_with_field_paths() {
        let body = include_bytes!("../../fixtures/google/duplicate_campaign_name.json");
        let PlatformError::Invalid { causes } = classify(400, body) else {
            panic!("not invalid");
        };
        assert_eq!(causes[0].code, "campaignError.DUPLICATE_CAMPAIGN_NAME");
        assert_eq!(
            causes[0].field_path.as_deref(),
            Some("mutate_operations[1].campaign_operation.create.name")
        );
    }

    #[test]
    fn quota_throttling_and_outages_are_told_apart() {
        let daily = include_bytes!("../../fixtures/google/resource_exhausted.json");
        assert!(matches!(
            classify(429, daily),
            PlatformError::QuotaExhausted { .. }
        ));
        let throttled = include_bytes!("../../fixtures/google/resource_temporarily_exhausted.json");
        assert!(matches!(
            classify(429, throttled),
            PlatformError::RateLimited(_)
        ));
        let internal = include_bytes!("../../fixtures/google/internal_error.json");
        assert!(matches!(
            classify(500, internal),
            PlatformError::Unavailable(_)
        ));
        let auth = include_bytes!("../../fixtures/google/oauth_token_invalid.json");
        assert!(matches!(classify(401, auth), PlatformError::Auth(_)));
        assert!(matches!(
            classify(502, b"<html>Bad Gateway</html>"),
            PlatformError::Unavailable(_)
        ));
    }
}
