//! What the platforms hold of a deployed campaign (every external id) and what they must be told
//! when the campaign changes: a pause, a resume, a tuned budget, bid or negatives. The rule of
//! which change a campaign event asks of which platform lives here, once; the workers carry it out
//! and record the outcome.

use super::*;
use crate::structure::google::Bidding;
use crate::structure::CampaignStructure;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use CampaignEvent as E;

/// Most resources one platform's deployment may record (a 10,000-operation mutate and then some).
pub const MAX_RESOURCES: usize = 20_000;
const KIND_MAX_CHARS: usize = 40;
const EXTERNAL_ID_MAX_CHARS: usize = 255;

/// One thing a deployment created on a platform: what it is, where it sits in the structure (a
/// JSON pointer into `CampaignStructure`), and the platform's id for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExternalResource {
    /// `CAMPAIGN`, `BUDGET`, `AD_GROUP`, `KEYWORD`, `AD`, `CAMPAIGN_GROUP`, `CREATIVE`, …
    pub kind: String,
    pub path: String,
    pub external_id: String,
}

/// A change to a live campaign on one platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", tag = "change")]
pub enum PlatformChange {
    Pause,
    Resume,
    /// The daily budget of the Google campaign, or of one LinkedIn campaign (by index).
    #[serde(rename_all = "camelCase")]
    DailyBudget {
        daily_budget_micros: i64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        campaign: Option<u32>,
    },
    /// The bid ceiling of every ad group (Google).
    #[serde(rename_all = "camelCase")]
    MaxCpc {
        max_cpc_micros: i64,
    },
    /// Campaign-level negative keywords to add (Google).
    NegativeKeywords {
        keywords: Vec<String>,
    },
    #[serde(rename_all = "camelCase")]
    PauseCreative {
        external_id: String,
    },
    /// The campaign's ad schedule, replacing the one it has (Google).
    AdSchedule {
        entries: Vec<crate::structure::google::AdScheduleEntry>,
    },
}

impl PlatformChange {
    pub fn describe(&self) -> String {
        match self {
            Self::Pause => "pause".into(),
            Self::Resume => "resume".into(),
            Self::DailyBudget {
                daily_budget_micros,
                campaign,
            } => match campaign {
                Some(c) => format!("daily budget of campaign {c}: {daily_budget_micros} micros"),
                None => format!("daily budget {daily_budget_micros} micros"),
            },
            Self::MaxCpc { max_cpc_micros } => format!("max CPC {max_cpc_micros} micros"),
            Self::NegativeKeywords { keywords } => format!("{} negative keywords", keywords.len()),
            Self::PauseCreative { external_id } => format!("pause creative {external_id}"),
            Self::AdSchedule { entries } => format!("ad schedule of {} blocks", entries.len()),
        }
    }
}

/// A change pushed to a platform and how it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PushedChange {
    pub platform: Platform,
    pub change: PlatformChange,
    pub applied: bool,
    /// Why the platform did not take it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The outcome of pushing what one campaign event asked of the platforms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlatformChangesPushed {
    /// The event that asked for the changes.
    pub cause: Uuid,
    pub changes: Vec<PushedChange>,
}

/// The platform changes `event` asks for, given the campaign as it was before it. Only platforms
/// the campaign is deployed on are told anything.
pub fn platform_changes(
    before: &CampaignState,
    event: &CampaignEvent,
) -> Vec<(Platform, PlatformChange)> {
    let deployed: Vec<Platform> = before.deployed.keys().copied().collect();
    let every = |change: PlatformChange| deployed.iter().map(|p| (*p, change.clone())).collect();
    match event {
        E::Activated(_) | E::Resumed(_) => every(PlatformChange::Resume),
        E::Paused(_) | E::Completed(_) => every(PlatformChange::Pause),
        // The platform knows the creative by the id its deployment recorded.
        E::CreativePaused(paused) => before
            .resources
            .get(&paused.platform)
            .and_then(|resources| {
                // A sponsored creative's path also names its post: the creative is wanted.
                resources
                    .iter()
                    .find(|r| r.path == paused.path && (r.kind == "CREATIVE" || r.kind == "AD"))
            })
            .map(|r| {
                vec![(
                    paused.platform,
                    PlatformChange::PauseCreative {
                        external_id: r.external_id.clone(),
                    },
                )]
            })
            .unwrap_or_default(),
        E::StructureTuned(tuned) => match &before.structure {
            Some(old) => tuning_changes(old, &tuned.structure)
                .into_iter()
                .filter(|(p, _)| deployed.contains(p))
                .collect(),
            None => vec![],
        },
        _ => vec![],
    }
}

fn max_cpc(structure: &CampaignStructure) -> Option<i64> {
    match structure.google.as_ref()?.campaign.bidding {
        Bidding::ManualCpc { max_cpc_micros } => Some(max_cpc_micros),
        _ => None,
    }
}

fn tuning_changes(
    old: &CampaignStructure,
    new: &CampaignStructure,
) -> Vec<(Platform, PlatformChange)> {
    let mut changes = Vec::new();
    if let (Some(old_google), Some(new_google)) = (&old.google, &new.google) {
        if old_google.daily_budget_micros != new_google.daily_budget_micros {
            changes.push((
                Platform::Google,
                PlatformChange::DailyBudget {
                    daily_budget_micros: new_google.daily_budget_micros,
                    campaign: None,
                },
            ));
        }
        if let Some(bid) = max_cpc(new).filter(|bid| max_cpc(old) != Some(*bid)) {
            changes.push((
                Platform::Google,
                PlatformChange::MaxCpc {
                    max_cpc_micros: bid,
                },
            ));
        }
        let added: Vec<String> = new_google
            .negative_keywords
            .iter()
            .filter(|k| !old_google.negative_keywords.contains(k))
            .map(|k| k.text.clone())
            .collect();
        if !added.is_empty() {
            changes.push((
                Platform::Google,
                PlatformChange::NegativeKeywords { keywords: added },
            ));
        }
        if old_google.campaign.ad_schedule != new_google.campaign.ad_schedule {
            changes.push((
                Platform::Google,
                PlatformChange::AdSchedule {
                    entries: new_google.campaign.ad_schedule.clone(),
                },
            ));
        }
    }
    if let (Some(old_linkedin), Some(new_linkedin)) = (&old.linkedin, &new.linkedin) {
        for (i, (before, after)) in old_linkedin
            .campaigns
            .iter()
            .zip(&new_linkedin.campaigns)
            .enumerate()
        {
            if before.daily_budget_micros != after.daily_budget_micros {
                changes.push((
                    Platform::Linkedin,
                    PlatformChange::DailyBudget {
                        daily_budget_micros: after.daily_budget_micros,
                        campaign: Some(i as u32),
                    },
                ));
            }
        }
    }
    changes
}

/// Deployment records name every resource with a kind, a path into the structure and an id.
pub(super) fn check_resources(resources: &[ExternalResource], violations: &mut Violations) {
    if resources.len() > MAX_RESOURCES {
        violations.push(
            "resources",
            "too_many",
            format!("at most {MAX_RESOURCES} resources"),
        );
        return;
    }
    for (i, resource) in resources.iter().enumerate() {
        let path = |field: &str| format!("resources/{i}/{field}");
        if resource.kind.is_empty() || resource.kind.chars().count() > KIND_MAX_CHARS {
            violations.push(
                path("kind"),
                "invalid",
                format!("1 to {KIND_MAX_CHARS} characters"),
            );
        }
        if !resource.path.starts_with('/') || resource.path.chars().count() > 300 {
            violations.push(path("path"), "invalid", "a JSON pointer into the structure");
        }
        if resource.external_id.is_empty()
            || resource.external_id.chars().count() > EXTERNAL_ID_MAX_CHARS
        {
            violations.push(
                path("externalId"),
                "invalid",
                format!("1 to {EXTERNAL_ID_MAX_CHARS} characters"),
            );
        }
        if violations.len() >= 20 {
            return;
        }
    }
}

pub(super) fn record_platform_changes(
    state: &CampaignState,
    command: &CampaignCommand,
    cause: &Uuid,
    changes: &[PushedChange],
) -> Decision {
    allowed(
        state,
        command,
        &[S::Deployed, S::Active, S::Paused, S::Completed, S::Archived],
    )?;
    let mut violations = Violations::new();
    if changes.is_empty() {
        violations.push("changes", "required", "at least one change");
    }
    for (i, change) in changes.iter().enumerate() {
        if !state.deployed.contains_key(&change.platform) {
            violations.push(
                format!("changes/{i}/platform"),
                "not_deployed",
                "the campaign is not on this platform",
            );
        }
    }
    violations
        .into_result(vec![E::PlatformChangesPushed(PlatformChangesPushed {
            cause: *cause,
            changes: changes.to_vec(),
        })])
        .map_err(Rejection::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_named_the_way_the_wire_names_it() {
        let change = PlatformChange::DailyBudget {
            daily_budget_micros: 5,
            campaign: Some(1),
        };
        let text = serde_json::to_string(&change).unwrap();
        assert_eq!(
            text,
            r#"{"change":"DAILY_BUDGET","dailyBudgetMicros":5,"campaign":1}"#
        );
        assert_eq!(
            serde_json::from_str::<PlatformChange>(&text).unwrap(),
            change
        );
    }
}
