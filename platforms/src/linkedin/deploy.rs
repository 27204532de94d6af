//! A LinkedIn deployment: the campaign group, its campaigns and their creatives (sponsored content
//! through a dark post), each level found by name before it is created, so that a retried or
//! resumed deployment adopts what an earlier attempt made.

use super::rest::{AsyncFind, ByName};
use super::{ad_account, encode, payloads, LinkedIn, NAME_LIMIT};
use crate::gateway::{Account, Deployed, DeploymentKey, ExternalResource};
use crate::http::Requests;
use crate::PlatformError;
use adflow_domain::structure::CampaignStructure;
use serde_json::{json, Value};

pub(super) async fn deploy(
    client: &LinkedIn,
    account: &Account,
    key: &DeploymentKey,
    structure: &CampaignStructure,
    currency: &str,
) -> Result<Deployed, PlatformError> {
    let account = ad_account(account)?;
    let linkedin = structure
        .linkedin
        .as_ref()
        .ok_or_else(|| PlatformError::Unsupported("the structure has no LinkedIn part".into()))?;
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
    let group = match group_finder.find(client, &account, &mut requests).await? {
        Some(id) => {
            resumed = true;
            id
        }
        None => {
            let body = payloads::campaign_group(account.id, &group_name);
            client
                .create(
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
    let existing = client
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
                let body = payloads::campaign(account.id, &group_urn, &name, campaign, currency);
                let finder = ByName {
                    finder: campaigns_finder.clone(),
                    name: &name,
                    urn_prefix: "",
                };
                client
                    .create(&account, "adCampaigns", &body, finder, &mut requests)
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
        let existing_creatives = client
            .elements(&account, &creatives_finder, &mut requests)
            .await?;
        for (j, creative) in campaign.creatives.iter().enumerate() {
            let creative_name = payloads::creative_name(&name, j);
            let found = existing_creatives
                .iter()
                .find(|e| e.get("name").and_then(Value::as_str) == Some(creative_name.as_str()));
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
                                    Some(client.organization(&account, &mut requests).await?);
                            }
                            body["author"] = json!(organization.clone().unwrap_or_default());
                            let answer = client
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
                    client
                        .create(&account, "creatives", &body, finder, &mut requests)
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
