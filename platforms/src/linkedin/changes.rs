//! Changes to a live LinkedIn campaign group: partial updates of its campaigns and creatives.

use super::payloads::money;
use super::{ad_account, encode, LinkedIn};
use crate::gateway::{Account, Change, ExternalResource};
use crate::http::Requests;
use crate::PlatformError;
use serde_json::{json, Value};

pub(super) async fn push(
    client: &LinkedIn,
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
        Change::AdSchedule { .. } => {
            return Err(PlatformError::Unsupported(
                "LinkedIn has no ad scheduling".into(),
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
        client
            .send(
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
