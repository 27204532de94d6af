//! Campaign templates, served from the domain's table (they are data, not state).

use crate::campaigns::{Objective, Platform};
use async_graphql::{Object, SimpleObject};

#[derive(SimpleObject, Debug, Clone)]
pub struct CampaignTemplate {
    /// Pass it as `template` when requesting a structure.
    pub key: String,
    pub name: String,
    pub objective: Objective,
    pub platforms: Vec<Platform>,
    /// LinkedIn's share of the daily budget when both platforms run, in basis points.
    pub linkedin_share_basis_points: u32,
    pub brief: String,
}

#[derive(Default)]
pub struct TemplateQuery;

#[Object]
impl TemplateQuery {
    /// The templates a structure request can start from.
    async fn campaign_templates(&self) -> Vec<CampaignTemplate> {
        adflow_domain::templates::TEMPLATES
            .iter()
            .map(|t| CampaignTemplate {
                key: t.key.to_owned(),
                name: t.name.to_owned(),
                objective: t.objective.into(),
                platforms: t.platforms.iter().map(|p| (*p).into()).collect(),
                linkedin_share_basis_points: t.linkedin_share_basis_points,
                brief: t.brief.to_owned(),
            })
            .collect()
    }
}
