//! The LinkedIn Marketing API (versioned REST under `/rest`, headers `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`): campaign group, campaigns with targeting criteria,
//! creatives; new ids come back in the `x-restli-id` header. Creation is not idempotent there, so
//! every create is preceded (on resume) or followed (after a lost answer) by a finder by name:
//! a retried deployment adopts what the earlier attempt made instead of making a second.
//! Reports come from `adAnalytics`, daily: LinkedIn has no hourly granularity.

mod payloads;

use crate::gateway::{
    Account, AdPlatform, Change, Deployed, DeploymentKey, ExternalResource, Granularity, ReportRow,
};
use crate::http::{transport, Endpoints, Requests, TokenCache};
use crate::{Cause, PlatformError};
use adflow_domain::campaign::Platform;
use adflow_domain::structure::CampaignStructure;
use async_trait::async_trait;
use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};

pub const DEFAULT_VERSION: &str = "202511";
/// LinkedIn's limit on campaign group, campaign and creative names.
pub const NAME_LIMIT: usize = 255;

pub struct LinkedIn {
    http: reqwest::Client,
    endpoints: Endpoints,
    tokens: TokenCache,
}

pub(crate) struct AdAccount<'a> {
    id: &'a str,
    refresh_token: &'a str,
}

fn ad_account(account: &Account) -> Result<AdAccount<'_>, PlatformError> {
    match account {
        Account::Linkedin {
            account_id,
            refresh_token,
        } => Ok(AdAccount {
            id: account_id,
            refresh_token,
        }),
        other => Err(PlatformError::Unsupported(format!(
            "{other:?} is not a LinkedIn ad account"
        ))),
    }
}

/// Percent-encodes everything but unreserved characters (Rest.li 2.0 query values).
pub(crate) fn encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// LinkedIn's error body: `{"status": 422, "code": "…", "message": "…",
/// "errorDetails": {"inputErrors": [{"code": "…", "description": "…", "input": {"inputPath": {"fieldPath": "…"}}}]}}`.
pub(crate) fn classify(status: u16, body: &[u8]) -> PlatformError {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let message = parsed
        .get("message")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
    match status {
        // LinkedIn sends no Retry-After: the caller backs off on its own.
        429 => PlatformError::RateLimited(message),
        500..=599 => PlatformError::Unavailable(format!("HTTP {status}: {message}")),
        401 | 403 => PlatformError::Auth(message),
        404 => PlatformError::NotFound(message),
        _ => {
            let mut causes: Vec<Cause> = parsed
                .pointer("/errorDetails/inputErrors")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(|e| Cause {
                    code: e
                        .get("code")
                        .and_then(Value::as_str)
                        .unwrap_or("INVALID")
                        .to_owned(),
                    message: e
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    field_path: e
                        .pointer("/input/inputPath/fieldPath")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                })
                .collect();
            if causes.is_empty() {
                causes.push(Cause {
                    code: parsed
                        .get("code")
                        .and_then(Value::as_str)
                        .unwrap_or("BAD_REQUEST")
                        .to_owned(),
                    message,
                    field_path: None,
                });
            }
            PlatformError::Invalid { causes }
        }
    }
}

struct Answer {
    id: Option<String>,
    body: Value,
}

impl LinkedIn {
    pub fn new(http: reqwest::Client, endpoints: Endpoints) -> Self {
        Self {
            http,
            endpoints,
            tokens: TokenCache::default(),
        }
    }

    async fn send_once(
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
        let response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
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
    async fn send(
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
            match self
                .send_once(
                    account,
                    method.clone(),
                    path,
                    body,
                    partial_update,
                    requests,
                )
                .await
            {
                Err(PlatformError::Auth(_)) if attempt == 1 => {
                    self.tokens.forget(account.refresh_token)
                }
                Err(error) if error.transient() && attempt < retry.attempts => {
                    tracing::warn!(%error, attempt, path, "LinkedIn call failed, retrying");
                    tokio::time::sleep(retry.delay(attempt)).await;
                }
                other => return other,
            }
        }
    }

    /// The organization an ad account advertises for (`reference`).
    async fn organization(
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

    async fn get(
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
    async fn create(
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
                Err(PlatformError::Auth(_)) if attempt == 1 => {
                    self.tokens.forget(account.refresh_token)
                }
                Err(error) if error.transient() && attempt < retry.attempts => {
                    unsure |= error.ambiguous();
                    tracing::warn!(%error, attempt, collection, "LinkedIn create failed, retrying");
                    tokio::time::sleep(retry.delay(attempt)).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// The elements of a finder (`q=search` / `q=criteria`), every page.
    async fn elements(
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

fn date(d: NaiveDate) -> String {
    format!("(year:{},month:{},day:{})", d.year(), d.month(), d.day())
}

fn money(micros: i64, currency: &str) -> Value {
    json!({"amount": format!("{}.{:02}", micros / 1_000_000, (micros % 1_000_000) / 10_000), "currencyCode": currency})
}

#[async_trait]
impl AdPlatform for LinkedIn {
    fn platform(&self) -> Platform {
        Platform::Linkedin
    }

    fn granularity(&self) -> Granularity {
        Granularity::Day
    }

    async fn check(&self, account: &Account) -> Result<String, PlatformError> {
        let account = ad_account(account)?;
        let answer = self
            .get(
                &account,
                &format!("/adAccounts/{}", account.id),
                &mut Requests::default(),
            )
            .await?;
        answer
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| PlatformError::Protocol("an ad account without a name".into()))
    }

    async fn deploy(
        &self,
        account: &Account,
        key: &DeploymentKey,
        structure: &CampaignStructure,
        currency: &str,
    ) -> Result<Deployed, PlatformError> {
        let account = ad_account(account)?;
        let linkedin = structure.linkedin.as_ref().ok_or_else(|| {
            PlatformError::Unsupported("the structure has no LinkedIn part".into())
        })?;
        let mut requests = Requests::default();
        let mut resources = Vec::new();
        let mut resumed = false;
        let group_name = key.name(&linkedin.campaign_group.name, NAME_LIMIT);
        let group_finder = ByName {
            finder: format!(
                "/adAccounts/{}/adCampaignGroups?q=search&search=(name:(values:List({})))",
                account.id,
                encode(&group_name)
            ),
            name: &group_name,
            urn_prefix: "",
        };
        let group = match group_finder.find(self, &account, &mut requests).await? {
            Some(id) => {
                resumed = true;
                id
            }
            None => {
                let body = payloads::campaign_group(account.id, &group_name);
                self.create(
                    &account,
                    "adCampaignGroups",
                    &body,
                    group_finder,
                    &mut requests,
                )
                .await?
            }
        };
        let group_urn = format!("urn:li:sponsoredCampaignGroup:{group}");
        resources.push(ExternalResource {
            kind: "CAMPAIGN_GROUP".into(),
            path: "/linkedin/campaignGroup".into(),
            external_id: group_urn.clone(),
        });
        let campaigns_finder = format!(
            "/adAccounts/{}/adCampaigns?q=search&search=(campaignGroup:(values:List({})))",
            account.id,
            encode(&group_urn)
        );
        let existing = self
            .elements(&account, &campaigns_finder, &mut requests)
            .await?;
        // The organization the ad account advertises for: the author of its sponsored posts.
        let mut organization: Option<String> = None;
        for (i, campaign) in linkedin.campaigns.iter().enumerate() {
            let name: String = campaign.name.chars().take(NAME_LIMIT).collect();
            let found = existing
                .iter()
                .find(|e| e.get("name").and_then(Value::as_str) == Some(name.as_str()))
                .and_then(|e| e.get("id"))
                .map(|id| id.to_string().trim_matches('"').to_owned());
            let id = match found {
                Some(id) => {
                    resumed = true;
                    id
                }
                None => {
                    let body =
                        payloads::campaign(account.id, &group_urn, &name, campaign, currency);
                    let finder = ByName {
                        finder: campaigns_finder.clone(),
                        name: &name,
                        urn_prefix: "",
                    };
                    self.create(&account, "adCampaigns", &body, finder, &mut requests)
                        .await?
                }
            };
            let campaign_urn = format!("urn:li:sponsoredCampaign:{id}");
            resources.push(ExternalResource {
                kind: "CAMPAIGN".into(),
                path: format!("/linkedin/campaigns/{i}"),
                external_id: campaign_urn.clone(),
            });
            let creatives_finder = format!(
                "/adAccounts/{}/creatives?q=criteria&campaigns=List({})",
                account.id,
                encode(&campaign_urn)
            );
            let existing_creatives = self
                .elements(&account, &creatives_finder, &mut requests)
                .await?;
            for (j, creative) in campaign.creatives.iter().enumerate() {
                let creative_name = payloads::creative_name(&name, j);
                let found = existing_creatives.iter().find(|e| {
                    e.get("name").and_then(Value::as_str) == Some(creative_name.as_str())
                });
                let found_id = found.and_then(|e| e.get("id")).and_then(Value::as_str);
                let id = match found_id {
                    Some(id) => {
                        resumed = true;
                        if let Some(post) = found
                            .and_then(|e| e.pointer("/content/reference"))
                            .and_then(Value::as_str)
                        {
                            resources.push(ExternalResource {
                                kind: "POST".into(),
                                path: format!("/linkedin/campaigns/{i}/creatives/{j}"),
                                external_id: post.to_owned(),
                            });
                        }
                        id.to_owned()
                    }
                    None => {
                        // Sponsored content promotes a post: a dark one (not on the page's feed),
                        // made first. Its answer lost, the post is made again (an orphaned dark
                        // post shows nowhere); the creative itself is found by name.
                        let post = match payloads::post(account.id, creative) {
                            Some(mut body) => {
                                if organization.is_none() {
                                    organization =
                                        Some(self.organization(&account, &mut requests).await?);
                                }
                                body["author"] = json!(organization.clone().unwrap_or_default());
                                let answer = self
                                    .send(
                                        &account,
                                        reqwest::Method::POST,
                                        "/posts",
                                        Some(&body),
                                        false,
                                        &mut requests,
                                    )
                                    .await?;
                                let urn = answer.id.ok_or_else(|| {
                                    PlatformError::Protocol("a post without x-restli-id".into())
                                })?;
                                resources.push(ExternalResource {
                                    kind: "POST".into(),
                                    path: format!("/linkedin/campaigns/{i}/creatives/{j}"),
                                    external_id: urn.clone(),
                                });
                                Some(urn)
                            }
                            None => None,
                        };
                        let body = payloads::creative(
                            &campaign_urn,
                            &creative_name,
                            creative,
                            post.as_deref(),
                        );
                        let finder = ByName {
                            finder: creatives_finder.clone(),
                            name: &creative_name,
                            urn_prefix: "urn:li:sponsoredCreative:",
                        };
                        self.create(&account, "creatives", &body, finder, &mut requests)
                            .await?
                    }
                };
                resources.push(ExternalResource {
                    kind: "CREATIVE".into(),
                    path: format!("/linkedin/campaigns/{i}/creatives/{j}"),
                    external_id: id,
                });
            }
        }
        Ok(Deployed {
            external_id: group_urn,
            resources,
            requests: requests.0,
            resumed,
        })
    }

    async fn push(
        &self,
        account: &Account,
        external_id: &str,
        resources: &[ExternalResource],
        change: &Change,
        currency: &str,
    ) -> Result<u32, PlatformError> {
        let account = ad_account(account)?;
        let mut requests = Requests::default();
        let id_of = |urn: &str| urn.rsplit(':').next().unwrap_or_default().to_owned();
        let campaigns: Vec<String> = resources
            .iter()
            .filter(|r| r.kind == "CAMPAIGN")
            .map(|r| id_of(&r.external_id))
            .collect();
        let patches: Vec<(String, Value)> = match change {
            Change::Pause | Change::Resume => {
                let status = if *change == Change::Pause {
                    "PAUSED"
                } else {
                    "ACTIVE"
                };
                campaigns
                    .iter()
                    .map(|id| (format!("adCampaigns/{id}"), json!({"status": status})))
                    .collect()
            }
            Change::DailyBudget {
                daily_budget_micros,
                campaign: Some(index),
            } => {
                let path = format!("/linkedin/campaigns/{index}");
                resources
                    .iter()
                    .filter(|r| r.kind == "CAMPAIGN" && r.path == path)
                    .map(|r| {
                        (
                            format!("adCampaigns/{}", id_of(&r.external_id)),
                            json!({"dailyBudget": money(*daily_budget_micros, currency)}),
                        )
                    })
                    .collect()
            }
            Change::DailyBudget {
                daily_budget_micros,
                campaign: None,
            } => {
                // The group's budget, split evenly over its campaigns.
                let each = daily_budget_micros / campaigns.len().max(1) as i64;
                campaigns
                    .iter()
                    .map(|id| {
                        (
                            format!("adCampaigns/{id}"),
                            json!({"dailyBudget": money(each, currency)}),
                        )
                    })
                    .collect()
            }
            Change::MaxCpc { max_cpc_micros } => campaigns
                .iter()
                .map(|id| {
                    (
                        format!("adCampaigns/{id}"),
                        json!({"unitCost": money(*max_cpc_micros, currency)}),
                    )
                })
                .collect(),
            Change::PauseCreative { external_id } => vec![(
                format!("creatives/{}", encode(external_id)),
                json!({"intendedStatus": "PAUSED"}),
            )],
            Change::NegativeKeywords { .. } => {
                return Err(PlatformError::Unsupported(
                    "LinkedIn campaigns have no keywords".into(),
                ))
            }
        };
        if patches.is_empty() {
            return Err(PlatformError::Unsupported(format!(
                "no LinkedIn campaign of {external_id} to apply {} to",
                change.describe()
            )));
        }
        for (path, set) in patches {
            let body = json!({"patch": {"$set": set}});
            let path = format!("/adAccounts/{}/{path}", account.id);
            self.send(
                &account,
                reqwest::Method::POST,
                &path,
                Some(&body),
                true,
                &mut requests,
            )
            .await?;
        }
        Ok(requests.0)
    }

    async fn report(
        &self,
        account: &Account,
        external_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReportRow>, PlatformError> {
        let account = ad_account(account)?;
        let mut requests = Requests::default();
        let campaigns = self
            .elements(
                &account,
                &format!(
                    "/adAccounts/{}/adCampaigns?q=search&search=(campaignGroup:(values:List({})))",
                    account.id,
                    encode(external_id)
                ),
                &mut requests,
            )
            .await?;
        if campaigns.is_empty() {
            return Ok(Vec::new());
        }
        let names: std::collections::HashMap<String, String> = campaigns
            .iter()
            .filter_map(|c| {
                let id = c.get("id")?.to_string().trim_matches('"').to_owned();
                Some((
                    format!("urn:li:sponsoredCampaign:{id}"),
                    c.get("name")?.as_str()?.to_owned(),
                ))
            })
            .collect();
        let list = names
            .keys()
            .map(|urn| encode(urn))
            .collect::<Vec<_>>()
            .join(",");
        let path = format!(
            "/adAnalytics?q=analytics&pivot=CAMPAIGN&timeGranularity=DAILY&dateRange=(start:{},end:{})&campaigns=List({list})\
             &fields=impressions,clicks,costInLocalCurrency,externalWebsiteConversions,conversionValueInLocalCurrency,dateRange,pivotValues",
            date(from),
            date(to)
        );
        let answer = self.get(&account, &path, &mut requests).await?;
        answer
            .get("elements")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|element| payloads::report_row(element, &names))
            .collect()
    }
}
