//! Campaign structures per platform, with every field the platforms' APIs need, and their
//! validation against the limits in [`crate::platform_rules`].
//!
//! Validation never stops at the first problem: it returns every error and every warning, each
//! with the path of the field (like Google Ads' `field_path_elements`), so a generated structure
//! can be fixed in one pass and a marketer sees everything at once.

pub mod ad_strength;
pub mod editorial;
pub mod google;
pub mod linkedin;
mod text;

use crate::violation::Violations;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a campaign deploys: one structure per platform it runs on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignStructure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub google: Option<google::GoogleAdsStructure>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linkedin: Option<linkedin::LinkedInStructure>,
}

/// Everything wrong with a structure: errors block deployment, warnings do not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ValidationReport {
    pub errors: Violations,
    pub warnings: Violations,
}

impl ValidationReport {
    pub fn is_deployable(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Checks every platform rule; paths start with `google/` or `linkedin/`.
pub fn validate(structure: &CampaignStructure) -> ValidationReport {
    let mut report = ValidationReport::default();
    if structure.google.is_none() && structure.linkedin.is_none() {
        report
            .errors
            .push("", "required", "a structure needs at least one platform");
    }
    if let Some(google) = &structure.google {
        google::validate(google, "google", &mut report);
    }
    if let Some(linkedin) = &structure.linkedin {
        linkedin::validate(linkedin, "linkedin", &mut report);
    }
    report
}
