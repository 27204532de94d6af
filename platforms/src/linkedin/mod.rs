//! The LinkedIn Marketing API (versioned REST under `/rest`, headers `LinkedIn-Version` and
//! `X-Restli-Protocol-Version: 2.0.0`): campaign group, campaigns with targeting criteria,
//! creatives; new ids come back in the `x-restli-id` header. Creation is not idempotent there, so
//! every create is preceded (on resume) or followed (after a lost answer) by a finder by name:
//! a retried deployment adopts what the earlier attempt made instead of making a second.
//! Reports come from `adAnalytics`, daily: LinkedIn has no hourly granularity.

mod changes;
mod deploy;
mod payloads;
pub use payloads::creative_index;
mod rest;

use crate::gateway::{
    Account, AdPlatform, Change, Deployed, DeploymentKey, ExternalResource, Granularity, ReportRow,
};
use crate::http::{Endpoints, Requests, TokenCache};
use crate::{Cause, PlatformError};
use adflow_domain::campaign::Platform;
use adflow_domain::structure::CampaignStructure;
use async_trait::async_trait;
use chrono::{Datelike, NaiveDate};
use serde_json::Value;

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

fn date(d: NaiveDate) -> String {
    format!("(year:{},month:{},day:{})", d.year(), d.month(), d.day())
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
        deploy::deploy(self, account, key, structure, currency).await
    }

    async fn push(
        &self,
        account: &Account,
        external_id: &str,
        resources: &[ExternalResource],
        change: &Change,
        currency: &str,
    ) -> Result<u32, PlatformError> {
        changes::push(self, account, external_id, resources, change, currency).await
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
        // Each creative's figures (pivot CREATIVE), so creatives can be compared: the campaign's
        // name as the ad group, the creative's as the ad.
        let creatives = self
            .elements(
                &account,
                &format!(
                    "/adAccounts/{}/creatives?q=criteria&campaigns=List({list})",
                    account.id
                ),
                &mut requests,
            )
            .await?;
        let pivots: std::collections::HashMap<String, (String, Option<String>)> = creatives
            .iter()
            .filter_map(|c| {
                let urn = c.get("id")?.as_str()?.to_owned();
                let campaign = names.get(c.get("campaign")?.as_str()?)?.clone();
                let name = c.get("name").and_then(Value::as_str).map(str::to_owned);
                Some((urn, (campaign, name)))
            })
            .chain(
                names
                    .iter()
                    .map(|(urn, name)| (urn.clone(), (name.clone(), None))),
            )
            .collect();
        let path = format!(
            "/adAnalytics?q=analytics&pivot=CREATIVE&timeGranularity=DAILY&dateRange=(start:{},end:{})&campaigns=List({list})\
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
            .map(|element| payloads::report_row(element, &pivots))
            .collect()
    }
}
