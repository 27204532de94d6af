//! Segmentation requests: CRM account features go to the segmentation model; its answer adds
//! segments with size estimates and personas in one step, or a failure with the reason.

use super::{parse_criteria, Persona, RawFacets, TargetingCriteria};
use crate::text::required_line;
use crate::violation::Violations;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub const MAX_ACCOUNTS: usize = 5_000;
pub const MAX_REQUESTED_SEGMENTS: u32 = 10;
/// Shares are basis points (10,000 = all contacts); a mix may be off by rounding.
const MIX_TOLERANCE: u32 = 100;

/// One CRM account as the model sees it: no names, no identifiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CrmAccount {
    pub industry: String,
    /// ISO 3166 code.
    pub country: String,
    pub employees: u32,
    /// Contacts by seniority, in basis points: entry, manager, director, VP and above.
    pub seniority_basis_points: Vec<u32>,
    /// Contacts by function, in basis points: engineering, finance, marketing, sales, operations.
    pub function_basis_points: Vec<u32>,
    /// Opens, visits and meetings, 0 to 10,000.
    pub engagement_basis_points: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SegmentationRequested {
    pub request_id: Uuid,
    pub max_segments: u32,
    pub accounts: Vec<CrmAccount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SegmentationCompleted {
    pub request_id: Uuid,
    pub model_version: String,
    pub segment_ids: Vec<Uuid>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SegmentationFailed {
    pub request_id: Uuid,
    pub reason: String,
}

/// A segment the model proposes.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedSegment {
    pub segment_id: Uuid,
    pub name: String,
    pub criteria: TargetingCriteria,
    pub estimated_size: u64,
    pub persona: Persona,
}

fn mix(values: &[u32], len: usize, path: &str, violations: &mut Violations) {
    if values.len() != len {
        violations.push(
            path,
            "invalid_length",
            format!("needs exactly {len} shares"),
        );
    } else if values.iter().sum::<u32>().abs_diff(10_000) > MIX_TOLERANCE {
        violations.push(
            path,
            "invalid_sum",
            "shares must add up to 10,000 basis points",
        );
    }
}

/// Every problem of a request, with paths under `accounts/<i>/…`.
pub fn check_request(
    accounts: &[CrmAccount],
    max_segments: u32,
    violations: &mut Violations,
) -> Vec<CrmAccount> {
    if accounts.is_empty() || accounts.len() > MAX_ACCOUNTS {
        violations.push(
            "accounts",
            "invalid_length",
            format!("needs 1 to {MAX_ACCOUNTS} accounts"),
        );
    }
    if !(1..=MAX_REQUESTED_SEGMENTS).contains(&max_segments) {
        violations.push(
            "maxSegments",
            "out_of_range",
            format!("must be 1 to {MAX_REQUESTED_SEGMENTS}"),
        );
    }
    accounts
        .iter()
        .enumerate()
        .map(|(i, account)| {
            let path = |field: &str| format!("accounts/{i}/{field}");
            let industry = required_line(&account.industry, &path("industry"), 100, violations);
            if !crate::campaign::brief::MARKETS
                .iter()
                .any(|(code, _, _)| *code == account.country)
            {
                violations.push(
                    path("country"),
                    "unknown_value",
                    "must be a supported market code",
                );
            }
            if account.employees == 0 {
                violations.push(path("employees"), "out_of_range", "must be at least 1");
            }
            mix(
                &account.seniority_basis_points,
                4,
                &path("seniorityBasisPoints"),
                violations,
            );
            mix(
                &account.function_basis_points,
                5,
                &path("functionBasisPoints"),
                violations,
            );
            if account.engagement_basis_points > 10_000 {
                violations.push(
                    path("engagementBasisPoints"),
                    "out_of_range",
                    "must be 0 to 10,000",
                );
            }
            CrmAccount {
                industry,
                ..account.clone()
            }
        })
        .collect()
}

/// The model's criteria checked like a person's: the same facets and limits.
pub fn check_criteria(
    criteria: &TargetingCriteria,
    path: &str,
    violations: &mut Violations,
) -> TargetingCriteria {
    let raw = |facets: &std::collections::BTreeMap<super::Facet, Vec<String>>| -> RawFacets {
        facets
            .iter()
            .map(|(facet, values)| (facet.as_str().to_owned(), values.clone()))
            .collect()
    };
    parse_criteria(
        &raw(&criteria.include),
        &raw(&criteria.exclude),
        path,
        violations,
    )
}
