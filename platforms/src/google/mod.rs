//! Google Ads over REST (`https://googleads.googleapis.com/<version>/customers/<id>/…`): one atomic
//! `googleAds:mutate` per deployment (validated first with `validateOnly`), GAQL through
//! `googleAds:searchStream` for reports and for finding what an earlier attempt created.
//! Headers: `Authorization: Bearer <access token>`, `developer-token`, `login-customer-id`.

mod failure;
pub mod operations;
mod reading;

use crate::gateway::{
    Account, AdPlatform, Change, Deployed, DeploymentKey, ExternalResource, Granularity, ReportRow,
    SearchTermRow,
};
use crate::http::{transport, Endpoints, Requests, TokenCache};
use crate::PlatformError;
use adflow_domain::campaign::Platform;
use adflow_domain::structure::google::AdScheduleEntry;
use adflow_domain::structure::CampaignStructure;
use async_trait::async_trait;
use chrono::NaiveDate;
use serde_json::{json, Value};

/// Google's `DayOfWeek` names, Monday first (our weekday 0).
pub(crate) const DAYS_OF_WEEK: [&str; 7] = [
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
];

pub const DEFAULT_VERSION: &str = "v22";
/// Operations one mutate request may carry.
pub const MAX_OPERATIONS_PER_REQUEST: usize = 10_000;

pub struct GoogleAds {
    http: reqwest::Client,
    endpoints: Endpoints,
    tokens: TokenCache,
}

struct Customer<'a> {
    id: &'a str,
    login: Option<&'a str>,
    refresh_token: &'a str,
}

fn customer(account: &Account) -> Result<Customer<'_>, PlatformError> {
    match account {
        Account::Google {
            customer_id,
            login_customer_id,
            refresh_token,
        } => Ok(Customer {
            id: customer_id,
            login: login_customer_id.as_deref(),
            refresh_token,
        }),
        other => Err(PlatformError::Unsupported(format!(
            "{other:?} is not a Google Ads account"
        ))),
    }
}

/// A GAQL string literal.
pub(crate) fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

impl GoogleAds {
    pub fn new(http: reqwest::Client, endpoints: Endpoints) -> Self {
        Self {
            http,
            endpoints,
            tokens: TokenCache::default(),
        }
    }

    /// One call, retried while the failure is transient (throttling, 5xx, timeouts).
    async fn call(
        &self,
        customer: &Customer<'_>,
        method: &str,
        body: &Value,
        requests: &mut Requests,
    ) -> Result<Value, PlatformError> {
        let e = &self.endpoints;
        let url = format!(
            "{}/{}/customers/{}/{method}",
            e.google_ads_url, e.google_ads_version, customer.id
        );
        let mut attempt = 0;
        loop {
            attempt += 1;
            let error = match self.call_once(customer, &url, body, requests).await {
                Err(error) => error,
                answer => return answer,
            };
            let wait = e
                .retry
                .after(attempt, &error, &self.tokens, customer.refresh_token);
            let Some(wait) = wait else { return Err(error) };
            tracing::warn!(%error, attempt, method, "Google Ads call failed, retrying");
            tokio::time::sleep(wait).await;
        }
    }

    async fn call_once(
        &self,
        customer: &Customer<'_>,
        url: &str,
        body: &Value,
        requests: &mut Requests,
    ) -> Result<Value, PlatformError> {
        let e = &self.endpoints;
        let token = self
            .tokens
            .access_token(
                &self.http,
                &e.google_token_url,
                (&e.google_client_id, &e.google_client_secret),
                customer.refresh_token,
                requests,
            )
            .await?;
        let mut request = self
            .http
            .post(url)
            .timeout(e.timeout)
            .bearer_auth(token)
            .header("developer-token", &e.google_developer_token)
            .json(body);
        if let Some(login) = customer.login {
            request = request.header("login-customer-id", login);
        }
        requests.0 += 1;
        let response = request.send().await.map_err(|e| {
            crate::http::count_call("GOOGLE", None);
            transport(e)
        })?;
        let status = response.status().as_u16();
        crate::http::count_call("GOOGLE", Some(status));
        let bytes = response.bytes().await.map_err(transport)?;
        if !(200..300).contains(&status) {
            return Err(failure::classify(status, &bytes));
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| PlatformError::Protocol(format!("HTTP {status} body: {e}")))
    }

    async fn mutate(
        &self,
        customer: &Customer<'_>,
        operations: &[Value],
        validate_only: bool,
        requests: &mut Requests,
    ) -> Result<Value, PlatformError> {
        if operations.len() > MAX_OPERATIONS_PER_REQUEST {
            return Err(PlatformError::Unsupported(format!(
                "{} operations: one atomic mutate carries at most {MAX_OPERATIONS_PER_REQUEST}",
                operations.len()
            )));
        }
        let body = json!({
            "mutateOperations": operations,
            "partialFailure": false,
            "validateOnly": validate_only,
            "responseContentType": "RESOURCE_NAME_ONLY"
        });
        self.call(customer, "googleAds:mutate", &body, requests)
            .await
    }

    /// Replaces the campaign's ad schedule in one atomic mutate: the criteria it has are removed
    /// and the new ones created (Google serves only within a campaign's schedules, so a schedule
    /// is never left half-applied).
    async fn replace_ad_schedule(
        &self,
        customer: &Customer<'_>,
        campaign: &str,
        entries: &[AdScheduleEntry],
    ) -> Result<u32, PlatformError> {
        let mut requests = Requests::default();
        let existing = self
            .search(
                customer,
                &format!(
                    "SELECT campaign_criterion.resource_name FROM campaign_criterion \
                     WHERE campaign.resource_name = '{campaign}' AND campaign_criterion.type = 'AD_SCHEDULE'"
                ),
                &mut requests,
            )
            .await?;
        let mut operations: Vec<Value> = existing
            .iter()
            .filter_map(|row| row.pointer("/campaignCriterion/resourceName")?.as_str())
            .map(|name| json!({"campaignCriterionOperation": {"remove": name}}))
            .collect();
        for e in entries {
            let day = DAYS_OF_WEEK.get(usize::from(e.weekday)).ok_or_else(|| {
                PlatformError::Unsupported(format!("weekday {} is not a day", e.weekday))
            })?;
            operations.push(json!({"campaignCriterionOperation": {"create": {
                "campaign": campaign,
                "adSchedule": {"dayOfWeek": day, "startHour": e.start_hour, "startMinute": "ZERO",
                               "endHour": e.end_hour, "endMinute": "ZERO"},
                "bidModifier": f64::from(e.bid_modifier_basis_points) / 10_000.0}}}));
        }
        if operations.is_empty() {
            return Ok(requests.0);
        }
        self.mutate(customer, &operations, false, &mut requests)
            .await?;
        Ok(requests.0)
    }

    /// Every row of a GAQL query (`searchStream` answers a JSON array of batches).
    async fn search(
        &self,
        customer: &Customer<'_>,
        query: &str,
        requests: &mut Requests,
    ) -> Result<Vec<Value>, PlatformError> {
        let answer = self
            .call(
                customer,
                "googleAds:searchStream",
                &json!({"query": query}),
                requests,
            )
            .await?;
        let batches = answer.as_array().ok_or_else(|| {
            PlatformError::Protocol("searchStream did not answer an array".into())
        })?;
        Ok(batches
            .iter()
            .filter_map(|batch| batch.get("results").and_then(Value::as_array))
            .flatten()
            .cloned()
            .collect())
    }
}

#[async_trait]
impl AdPlatform for GoogleAds {
    fn platform(&self) -> Platform {
        Platform::Google
    }

    fn granularity(&self) -> Granularity {
        Granularity::Hour
    }

    async fn check(&self, account: &Account) -> Result<String, PlatformError> {
        let customer = customer(account)?;
        let rows = self
            .search(
                &customer,
                "SELECT customer.id, customer.descriptive_name FROM customer",
                &mut Requests::default(),
            )
            .await?;
        rows.first()
            .and_then(|row| row.pointer("/customer/descriptiveName"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| PlatformError::NotFound(format!("customer {}", customer.id)))
    }

    async fn deploy(
        &self,
        account: &Account,
        key: &DeploymentKey,
        structure: &CampaignStructure,
        _currency: &str,
    ) -> Result<Deployed, PlatformError> {
        let customer = customer(account)?;
        let google = structure
            .google
            .as_ref()
            .ok_or_else(|| PlatformError::Unsupported("the structure has no Google part".into()))?;
        if !google.companion_campaigns.is_empty() {
            // Display and Performance Max need their images uploaded as image assets first,
            // which this gateway does not do yet: the search campaign goes alone.
            tracing::warn!(
                companions = google.companion_campaigns.len(),
                "companion Display and Performance Max campaigns are not deployed"
            );
        }
        let mut requests = Requests::default();
        let name = operations::campaign_name(google, key);
        if let Some(found) =
            reading::existing(self, &customer, google, &name, &mut requests).await?
        {
            return Ok(Deployed {
                external_id: campaign_of(&found)?,
                resources: found,
                requests: requests.0,
                resumed: true,
            });
        }
        let planned = operations::plan(customer.id, google, key)?;
        // Every refusal before anything exists.
        self.mutate(&customer, &planned.operations, true, &mut requests)
            .await?;
        let created = self
            .mutate(&customer, &planned.operations, false, &mut requests)
            .await;
        let resources = match created {
            Ok(response) => operations::resources(&planned, &response)?,
            Err(PlatformError::Invalid { causes })
                if causes
                    .iter()
                    .any(|c| c.code == "campaignError.DUPLICATE_CAMPAIGN_NAME") =>
            {
                // A retry of a mutate whose first answer was lost: it had gone through.
                reading::existing(self, &customer, google, &name, &mut requests)
                    .await?
                    .ok_or(PlatformError::Invalid { causes })?
            }
            Err(error) => return Err(error),
        };
        Ok(Deployed {
            external_id: campaign_of(&resources)?,
            resources,
            requests: requests.0,
            resumed: false,
        })
    }

    async fn push(
        &self,
        account: &Account,
        external_id: &str,
        resources: &[ExternalResource],
        change: &Change,
        _currency: &str,
    ) -> Result<u32, PlatformError> {
        let customer = customer(account)?;
        let of_kind = |kind: &'static str| resources.iter().filter(move |r| r.kind == kind);
        let update = |operation: &str, resource: Value, mask: &str| json!({operation: {"update": resource, "updateMask": mask}});
        let operations: Vec<Value> = match change {
            Change::Pause | Change::Resume => {
                let status = if *change == Change::Pause { "PAUSED" } else { "ENABLED" };
                vec![update(
                    "campaignOperation",
                    json!({"resourceName": external_id, "status": status}),
                    "status",
                )]
            }
            Change::DailyBudget {
                daily_budget_micros,
                ..
            } => of_kind("BUDGET")
                .map(|budget| {
                    update(
                        "campaignBudgetOperation",
                        json!({"resourceName": budget.external_id, "amountMicros": daily_budget_micros.to_string()}),
                        "amount_micros",
                    )
                })
                .collect(),
            Change::MaxCpc { max_cpc_micros } => of_kind("AD_GROUP")
                .map(|group| {
                    update(
                        "adGroupOperation",
                        json!({"resourceName": group.external_id, "cpcBidMicros": max_cpc_micros.to_string()}),
                        "cpc_bid_micros",
                    )
                })
                .collect(),
            Change::NegativeKeywords { keywords } => keywords
                .iter()
                .map(|text| {
                    json!({"campaignCriterionOperation": {"create": {
                        "campaign": external_id, "negative": true,
                        "keyword": {"text": text, "matchType": "PHRASE"}}}})
                })
                .collect(),
            Change::PauseCreative { external_id } => vec![update(
                "adGroupAdOperation",
                json!({"resourceName": external_id, "status": "PAUSED"}),
                "status",
            )],
            Change::AdSchedule { entries } => {
                return self.replace_ad_schedule(&customer, external_id, entries).await;
            }
        };
        if operations.is_empty() {
            return Err(PlatformError::Unsupported(format!(
                "nothing on Google to apply {} to",
                change.describe()
            )));
        }
        let mut requests = Requests::default();
        self.mutate(&customer, &operations, false, &mut requests)
            .await?;
        Ok(requests.0)
    }

    async fn report(
        &self,
        account: &Account,
        external_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReportRow>, PlatformError> {
        let customer = customer(account)?;
        let query = format!(
            "SELECT campaign.id, ad_group.name, ad_group_criterion.keyword.text, \
             ad_group_criterion.keyword.match_type, segments.date, segments.hour, \
             metrics.impressions, metrics.clicks, metrics.conversions, metrics.cost_micros, \
             metrics.conversions_value FROM keyword_view WHERE campaign.resource_name = {} \
             AND segments.date BETWEEN '{from}' AND '{to}'",
            quote(external_id)
        );
        let rows = self
            .search(&customer, &query, &mut Requests::default())
            .await?;
        rows.iter().map(reading::report_row).collect()
    }

    async fn search_terms(
        &self,
        account: &Account,
        external_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<SearchTermRow>, PlatformError> {
        let customer = customer(account)?;
        // Without segments.date in the selection, Google sums each search over the window.
        let query = format!(
            "SELECT ad_group.name, segments.keyword.info.text, \
             segments.keyword.info.match_type, search_term_view.search_term, \
             search_term_view.status, metrics.impressions, metrics.clicks, \
             metrics.conversions, metrics.cost_micros FROM search_term_view \
             WHERE campaign.resource_name = {} AND segments.date BETWEEN '{from}' AND '{to}'",
            quote(external_id)
        );
        let rows = self
            .search(&customer, &query, &mut Requests::default())
            .await?;
        rows.iter().map(reading::search_term_row).collect()
    }
}

fn campaign_of(resources: &[ExternalResource]) -> Result<String, PlatformError> {
    resources
        .iter()
        .find(|r| r.kind == "CAMPAIGN")
        .map(|r| r.external_id.clone())
        .ok_or_else(|| PlatformError::Protocol("no campaign among the created resources".into()))
}
