//! Campaign templates: proven starting points, kept as data. A template seeds a structure request
//! (its brief goes to the generator with the marketer's own instructions); it decides nothing.

use crate::campaign::{Objective, Platform};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CampaignTemplate {
    pub key: &'static str,
    pub name: &'static str,
    pub objective: Objective,
    pub platforms: &'static [Platform],
    /// The share of the daily budget the generator should give LinkedIn when both platforms run.
    pub linkedin_share_basis_points: u32,
    /// The brief the generator receives.
    pub brief: &'static str,
}

pub const TEMPLATES: [CampaignTemplate; 4] = [
    CampaignTemplate {
        key: "b2b-lead-generation",
        name: "B2B lead generation",
        objective: Objective::LeadGeneration,
        platforms: &[Platform::Linkedin, Platform::Google],
        linkedin_share_basis_points: 6_000,
        brief: "Lead gen forms on LinkedIn for decision makers by seniority and function; high-intent \
                search on Google with exact and phrase keywords for the problem the offer solves.",
    },
    CampaignTemplate {
        key: "webinar-promotion",
        name: "Webinar promotion",
        objective: Objective::LeadGeneration,
        platforms: &[Platform::Linkedin],
        linkedin_share_basis_points: 10_000,
        brief: "Registrations for a dated event: sponsored content and message ads naming date, speaker \
                and one takeaway; budget front-loaded in the two weeks before the event.",
    },
    CampaignTemplate {
        key: "product-launch",
        name: "Product launch",
        objective: Objective::BrandAwareness,
        platforms: &[Platform::Linkedin, Platform::Google],
        linkedin_share_basis_points: 5_000,
        brief: "Reach the category's buyers with the launch message; broad and phrase keywords for the \
                category on Google, carousel creatives on LinkedIn.",
    },
    CampaignTemplate {
        key: "retargeting",
        name: "Retargeting",
        objective: Objective::WebsiteConversions,
        platforms: &[Platform::Google, Platform::Linkedin],
        linkedin_share_basis_points: 4_000,
        brief: "Bring back visitors who did not convert: proof points and a direct call to action; \
                exclude existing customers.",
    },
];

pub fn template(key: &str) -> Option<&'static CampaignTemplate> {
    TEMPLATES.iter().find(|t| t.key == key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_have_unique_keys_and_sensible_splits() {
        let mut keys: Vec<_> = TEMPLATES.iter().map(|t| t.key).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), TEMPLATES.len());
        for t in TEMPLATES {
            assert!(t.linkedin_share_basis_points <= 10_000, "{}", t.key);
            assert!(!t.platforms.is_empty() && !t.brief.is_empty());
            if !t.platforms.contains(&Platform::Linkedin) {
                assert_eq!(t.linkedin_share_basis_points, 0, "{}", t.key);
            }
        }
        assert_eq!(
            template("retargeting").map(|t| t.objective),
            Some(Objective::WebsiteConversions)
        );
        assert!(template("nope").is_none());
    }
}
