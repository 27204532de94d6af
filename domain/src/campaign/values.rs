//! The campaign's value types: platforms, objectives, lifecycle statuses.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Platform {
    Linkedin,
    Google,
}

impl Platform {
    pub const ALL: [Platform; 2] = [Platform::Linkedin, Platform::Google];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Linkedin => "LINKEDIN",
            Platform::Google => "GOOGLE",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Objective {
    BrandAwareness,
    WebsiteVisits,
    Engagement,
    VideoViews,
    LeadGeneration,
    WebsiteConversions,
}

impl Objective {
    pub const ALL: [Objective; 6] = [
        Objective::BrandAwareness,
        Objective::WebsiteVisits,
        Objective::Engagement,
        Objective::VideoViews,
        Objective::LeadGeneration,
        Objective::WebsiteConversions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Objective::BrandAwareness => "BRAND_AWARENESS",
            Objective::WebsiteVisits => "WEBSITE_VISITS",
            Objective::Engagement => "ENGAGEMENT",
            Objective::VideoViews => "VIDEO_VIEWS",
            Objective::LeadGeneration => "LEAD_GENERATION",
            Objective::WebsiteConversions => "WEBSITE_CONVERSIONS",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == value)
    }
}

/// Where a campaign is in its life:
/// draft → structure requested → structure preview → approved (or rejected, then revised) →
/// deployment requested → deployed (or deployment failed, retryable) → active ⇄ paused →
/// completed → archived.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignStatus {
    Draft,
    StructureRequested,
    StructurePreview,
    Approved,
    Rejected,
    DeploymentRequested,
    Deployed,
    DeploymentFailed,
    Active,
    Paused,
    Completed,
    Archived,
}

impl CampaignStatus {
    pub const ALL: [CampaignStatus; 12] = [
        CampaignStatus::Draft,
        CampaignStatus::StructureRequested,
        CampaignStatus::StructurePreview,
        CampaignStatus::Approved,
        CampaignStatus::Rejected,
        CampaignStatus::DeploymentRequested,
        CampaignStatus::Deployed,
        CampaignStatus::DeploymentFailed,
        CampaignStatus::Active,
        CampaignStatus::Paused,
        CampaignStatus::Completed,
        CampaignStatus::Archived,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "DRAFT",
            CampaignStatus::StructureRequested => "STRUCTURE_REQUESTED",
            CampaignStatus::StructurePreview => "STRUCTURE_PREVIEW",
            CampaignStatus::Approved => "APPROVED",
            CampaignStatus::Rejected => "REJECTED",
            CampaignStatus::DeploymentRequested => "DEPLOYMENT_REQUESTED",
            CampaignStatus::Deployed => "DEPLOYED",
            CampaignStatus::DeploymentFailed => "DEPLOYMENT_FAILED",
            CampaignStatus::Active => "ACTIVE",
            CampaignStatus::Paused => "PAUSED",
            CampaignStatus::Completed => "COMPLETED",
            CampaignStatus::Archived => "ARCHIVED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }
}
