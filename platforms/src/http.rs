//! What both clients share: the endpoints (configuration, so a real platform is a configuration
//! change), the retry policy with exponential backoff and full jitter, OAuth2 access tokens from
//! refresh tokens (cached until shortly before they expire), and transport errors in our terms.

use crate::PlatformError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Endpoints {
    /// `https://googleads.googleapis.com`
    pub google_ads_url: String,
    /// The Google Ads API version in the path, for example `v22`.
    pub google_ads_version: String,
    /// `https://oauth2.googleapis.com/token`
    pub google_token_url: String,
    pub google_developer_token: String,
    pub google_client_id: String,
    pub google_client_secret: String,
    /// `https://api.linkedin.com`
    pub linkedin_url: String,
    /// The `LinkedIn-Version` header (`YYYYMM`).
    pub linkedin_version: String,
    /// `https://www.linkedin.com/oauth/v2/accessToken`
    pub linkedin_token_url: String,
    pub linkedin_client_id: String,
    pub linkedin_client_secret: String,
    /// One request's deadline.
    pub timeout: Duration,
    pub retry: RetryPolicy,
}

impl Endpoints {
    /// Everything pointed at a sandbox listening at `base` (`http://127.0.0.1:7300`).
    pub fn sandbox(base: &str) -> Self {
        let base = base.trim_end_matches('/');
        Self {
            google_ads_url: format!("{base}/google"),
            google_ads_version: crate::google::DEFAULT_VERSION.into(),
            google_token_url: format!("{base}/google/token"),
            google_developer_token: "sandbox-developer-token".into(),
            google_client_id: "sandbox-client".into(),
            google_client_secret: "sandbox-secret".into(),
            linkedin_url: format!("{base}/linkedin"),
            linkedin_version: crate::linkedin::DEFAULT_VERSION.into(),
            linkedin_token_url: format!("{base}/linkedin/oauth/v2/accessToken"),
            linkedin_client_id: "sandbox-client".into(),
            linkedin_client_secret: "sandbox-secret".into(),
            timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Tries of one request, the first included.
    pub attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            base: Duration::from_millis(200),
            cap: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// Full jitter: a uniform wait up to `base · 2^attempt`, capped (AWS's "Exponential Backoff
    /// and Jitter"), so that throttled clients do not come back in step.
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        ceiling.mul_f64(fastrand::f64())
    }

    /// After attempt number `attempt` (from 1) failed with `error`: how long to wait before the
    /// next one, or `None` to give up with the error. A refused access token is forgotten and
    /// tried again at once, once (it may have been revoked early); throttling and outages wait.
    pub fn after(
        &self,
        attempt: u32,
        error: &PlatformError,
        tokens: &TokenCache,
        refresh_token: &str,
    ) -> Option<Duration> {
        match error {
            PlatformError::Auth(_) if attempt == 1 => {
                tokens.forget(refresh_token);
                Some(Duration::ZERO)
            }
            error if error.transient() && attempt < self.attempts => Some(self.delay(attempt)),
            _ => None,
        }
    }
}

/// Counts one operation's HTTP requests, retries included.
#[derive(Debug, Default)]
pub struct Requests(pub u32);

/// The daily request quotas (Google's developer token, LinkedIn's application), for
/// `adflow_platform_quota_remaining`; 0: not reported.
static DAILY_QUOTAS: std::sync::Mutex<[u64; 2]> = std::sync::Mutex::new([0, 0]);
/// Calls sent today (UTC) by this process, per platform.
static CALLS_TODAY: std::sync::Mutex<Option<(chrono::NaiveDate, [u64; 2])>> =
    std::sync::Mutex::new(None);

/// Sets the daily quotas the remaining-quota gauge counts down from (per process: every process
/// counts its own calls, so with several, each reports what it alone has left).
pub fn set_daily_quotas(google: u64, linkedin: u64) {
    if let Ok(mut quotas) = DAILY_QUOTAS.lock() {
        *quotas = [google, linkedin];
    }
}

fn quota_left(platform: &'static str) -> Option<u64> {
    let index = usize::from(platform == "LINKEDIN");
    let quota = DAILY_QUOTAS.lock().ok()?[index];
    let today = chrono::Utc::now().date_naive();
    let mut calls = CALLS_TODAY.lock().ok()?;
    let (day, counts) = calls.get_or_insert((today, [0, 0]));
    if *day != today {
        *day = today;
        *counts = [0, 0];
    }
    counts[index] += 1;
    (quota > 0).then(|| quota.saturating_sub(counts[index]))
}

/// Counts one call to a platform by its outcome: the status class, `429` apart (quota), or
/// `transport` when no answer came.
pub fn count_call(platform: &'static str, status: Option<u16>) {
    if let Some(left) = quota_left(platform) {
        adflow_telemetry::metrics::gauge!(
            "adflow_platform_quota_remaining",
            "platform" => platform
        )
        .set(left as f64);
    }
    let outcome = match status {
        None => "transport",
        Some(429) => "429",
        Some(s) if s < 300 => "2xx",
        Some(s) if s < 500 => "4xx",
        Some(_) => "5xx",
    };
    adflow_telemetry::metrics::counter!(
        "adflow_platform_api_calls_total",
        "platform" => platform, "outcome" => outcome
    )
    .increment(1);
}

pub fn transport(error: reqwest::Error) -> PlatformError {
    if error.is_timeout() {
        PlatformError::Unavailable(format!("no answer in time: {error}"))
    } else if error.is_connect() || error.is_request() || error.is_body() {
        PlatformError::Unavailable(format!("connection failed: {error}"))
    } else {
        PlatformError::Protocol(error.to_string())
    }
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: u64,
}

#[derive(serde::Deserialize)]
struct TokenError {
    error: String,
    #[serde(default)]
    error_description: String,
}

/// Access tokens by refresh token, refreshed a minute before they expire.
#[derive(Default)]
pub struct TokenCache {
    tokens: Mutex<HashMap<String, (String, Instant)>>,
}

impl TokenCache {
    pub async fn access_token(
        &self,
        http: &reqwest::Client,
        url: &str,
        (client_id, client_secret): (&str, &str),
        refresh_token: &str,
        requests: &mut Requests,
    ) -> Result<String, PlatformError> {
        if let Some((token, until)) = self.lock().get(refresh_token) {
            if *until > Instant::now() {
                return Ok(token.clone());
            }
        }
        requests.0 += 1;
        let response = http
            .post(url)
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token),
                ("client_id", client_id),
                ("client_secret", client_secret),
            ])
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let body = response.bytes().await.map_err(transport)?;
        if status.is_server_error() {
            return Err(PlatformError::Unavailable(format!(
                "token endpoint answered {status}"
            )));
        }
        if status.as_u16() == 429 {
            return Err(PlatformError::RateLimited(format!(
                "token endpoint answered {status}"
            )));
        }
        if !status.is_success() {
            let reason = serde_json::from_slice::<TokenError>(&body)
                .map(|e| format!("{}: {}", e.error, e.error_description))
                .unwrap_or_else(|_| format!("token endpoint answered {status}"));
            return Err(PlatformError::Auth(reason));
        }
        let answer: TokenAnswer = serde_json::from_slice(&body)
            .map_err(|e| PlatformError::Protocol(format!("token answer: {e}")))?;
        let until = Instant::now() + Duration::from_secs(answer.expires_in.saturating_sub(60));
        self.lock().insert(
            refresh_token.to_owned(),
            (answer.access_token.clone(), until),
        );
        Ok(answer.access_token)
    }

    /// Forgets a token the platform refused (it was revoked or expired early).
    pub fn forget(&self, refresh_token: &str) {
        self.lock().remove(refresh_token);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (String, Instant)>> {
        self.tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
