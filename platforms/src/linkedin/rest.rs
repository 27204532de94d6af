//! LinkedIn's REST plumbing: authenticated, versioned requests with retries, creates that look
//! for an earlier attempt's work before they are sent again, paged finders.

use super::{classify, AdAccount, LinkedIn};
use crate::http::{transport, Endpoints, Requests, TokenCache};
use crate::PlatformError;
use async_trait::async_trait;
use serde_json::Value;

pub(super) struct Answer {
    pub(super) id: Option<String>,
    pub(super) body: Value,
}

impl LinkedIn {
    pub fn new(http: reqwest::Client, endpoints: Endpoints) -> Self {
        Self {
            http,
            endpoints,
            tokens: TokenCache::default(),
        }
    }

    pub(super) async fn send_once(
        &self,
        account: &AdAccount<'_>,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        partial_update: bool,
        requests: &mut Requests,
    ) -> Result<Answer, PlatformError> {
        let e = &self.endpoints;
        let token = self
            .tokens
            .access_token(
                &self.http,
                &e.linkedin_token_url,
                (&e.linkedin_client_id, &e.linkedin_client_secret),
                account.refresh_token,
                requests,
            )
            .await?;
        let mut request = self
            .http
            .request(method, format!("{}/rest{path}", e.linkedin_url))
            .timeout(e.timeout)
            .bearer_auth(token)
            .header("LinkedIn-Version", &e.linkedin_version)
            .header("X-Restli-Protocol-Version", "2.0.0");
        if partial_update {
            request = request.header("X-RestLi-Method", "PARTIAL_UPDATE");
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        requests.0 += 1;
        let response = request.send().await.map_err(|e| {
            crate::http::count_call("LINKEDIN", None);
            crate::http::transport(e)
        })?;
        let status = response.status().as_u16();
        crate::http::count_call("LINKEDIN", Some(status));
        let id = response
            .headers()
            .get("x-restli-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(classify(status, &bytes));
        }
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| PlatformError::Protocol(format!("HTTP {status} body: {e}")))?
        };
        Ok(Answer { id, body })
    }

    /// Reads and updates, retried while the failure is transient (both are idempotent).
    pub(super) async fn send(
        &self,
        account: &AdAccount<'_>,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        partial_update: bool,
        requests: &mut Requests,
    ) -> Result<Answer, PlatformError> {
        let retry = self.endpoints.retry;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = self
                .send_once(
                    account,
                    method.clone(),
                    path,
                    body,
                    partial_update,
                    requests,
                )
                .await;
            let error = match sent {
                Err(error) => error,
                answer => return answer,
            };
            let Some(wait) = retry.after(attempt, &error, &self.tokens, account.refresh_token)
            else {
                return Err(error);
            };
            tracing::warn!(%error, attempt, path, "LinkedIn call failed, retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// The organization an ad account advertises for (`reference`).
    pub(super) async fn organization(
        &self,
        account: &AdAccount<'_>,
        requests: &mut Requests,
    ) -> Result<String, PlatformError> {
        let answer = self
            .get(account, &format!("/adAccounts/{}", account.id), requests)
            .await?;
        answer
            .get("reference")
            .and_then(Value::as_str)
            .filter(|r| r.starts_with("urn:li:organization:"))
            .map(str::to_owned)
            .ok_or_else(|| {
                PlatformError::Unsupported(
                    "the ad account advertises for no organization page".into(),
                )
            })
    }

    pub(super) async fn get(
        &self,
        account: &AdAccount<'_>,
        path: &str,
        requests: &mut Requests,
    ) -> Result<Value, PlatformError> {
        Ok(self
            .send(account, reqwest::Method::GET, path, None, false, requests)
            .await?
            .body)
    }

    /// Creates once: after a throttled attempt it simply tries again, but after an answer that
    /// may have been lost (timeout, 5xx, dropped connection) it first asks `find` whether the
    /// earlier attempt went through.
    pub(super) async fn create(
        &self,
        account: &AdAccount<'_>,
        collection: &str,
        body: &Value,
        find: impl AsyncFind<'_>,
        requests: &mut Requests,
    ) -> Result<String, PlatformError> {
        let retry = self.endpoints.retry;
        let path = format!("/adAccounts/{}/{collection}", account.id);
        let mut attempt = 0;
        let mut unsure = false;
        loop {
            attempt += 1;
            if unsure {
                if let Some(id) = find.find(self, account, requests).await? {
                    tracing::info!(collection, %id, "adopted what an earlier create made");
                    return Ok(id);
                }
            }
            match self
                .send_once(
                    account,
                    reqwest::Method::POST,
                    &path,
                    Some(body),
                    false,
                    requests,
                )
                .await
            {
                Ok(Answer { id: Some(id), .. }) => return Ok(id),
                Ok(Answer { id: None, .. }) => {
                    return Err(PlatformError::Protocol(format!(
                        "a {collection} create without x-restli-id"
                    )))
                }
                Err(error) => {
                    let Some(wait) =
                        retry.after(attempt, &error, &self.tokens, account.refresh_token)
                    else {
                        return Err(error);
                    };
                    unsure |= error.ambiguous();
                    tracing::warn!(%error, attempt, collection, "LinkedIn create failed, retrying");
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }

    /// The elements of a finder (`q=search` / `q=criteria`), every page.
    pub(super) async fn elements(
        &self,
        account: &AdAccount<'_>,
        path: &str,
        requests: &mut Requests,
    ) -> Result<Vec<Value>, PlatformError> {
        let mut all = Vec::new();
        let mut start = 0;
        loop {
            let page = self
                .get(
                    account,
                    &format!("{path}&start={start}&count=100"),
                    requests,
                )
                .await?;
            let elements = page
                .get("elements")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let got = elements.len();
            all.extend(elements);
            let total = page.pointer("/paging/total").and_then(Value::as_u64);
            start += got;
            if got == 0 || total.is_none_or(|t| start as u64 >= t) {
                return Ok(all);
            }
        }
    }
}

/// A finder run before a create is repeated.
#[async_trait]
pub(crate) trait AsyncFind<'a>: Send + Sync {
    async fn find(
        &self,
        client: &LinkedIn,
        account: &AdAccount<'_>,
        requests: &mut Requests,
    ) -> Result<Option<String>, PlatformError>;
}

/// Finds an element named `name` among a finder's answers.
pub(crate) struct ByName<'a> {
    pub finder: String,
    pub name: &'a str,
    /// `urn:li:sponsoredCreative:` for creatives, whose ids are URNs; empty otherwise.
    pub urn_prefix: &'static str,
}

#[async_trait]
impl<'a> AsyncFind<'a> for ByName<'a> {
    async fn find(
        &self,
        client: &LinkedIn,
        account: &AdAccount<'_>,
        requests: &mut Requests,
    ) -> Result<Option<String>, PlatformError> {
        let elements = client.elements(account, &self.finder, requests).await?;
        Ok(elements
            .iter()
            .find(|e| e.get("name").and_then(Value::as_str) == Some(self.name))
            .and_then(|e| e.get("id"))
            .map(|id| match id {
                Value::String(s) => s.clone(),
                other => format!("{}{other}", self.urn_prefix),
            }))
    }
}
