//! The generator's input: a campaign's facts, its structure request and the segments it targets,
//! gathered into one value (so the models never look anything up themselves).

use adflow_domain::audience::TargetingCriteria;
use adflow_domain::campaign::brief::{BrandVoice, GenerationBrief, MARKETS};
use adflow_domain::campaign::{CampaignState, Objective, Platform, StructureGenerationRequested};
use adflow_domain::templates;
use chrono::NaiveDate;

/// A segment the campaign was attached to, as the audience knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetSegment {
    pub name: String,
    pub criteria: TargetingCriteria,
    pub estimated_size: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Brief {
    pub campaign_name: String,
    pub objective: Objective,
    pub platforms: Vec<Platform>,
    pub total_budget_micros: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub offer: String,
    pub landing_page_url: String,
    pub landing_page_text: String,
    pub seed_keywords: Vec<String>,
    pub business_name: String,
    /// ISO codes; at least one.
    pub markets: Vec<String>,
    pub brand_voice: BrandVoice,
    /// The marketer's free-text instructions and the template's brief, if any.
    pub instructions: String,
    pub linkedin_share_basis_points: u32,
    pub segments: Vec<TargetSegment>,
    /// Makes every choice of the generators repeatable.
    pub seed: u64,
}

impl Brief {
    /// `None` when the request carries no brief: the generator has no offer or landing page to
    /// work from, which is a permanent failure of that request.
    pub fn from_request(
        campaign: &CampaignState,
        request: &StructureGenerationRequested,
        segments: Vec<TargetSegment>,
    ) -> Option<Brief> {
        let given: &GenerationBrief = request.brief.as_ref()?;
        let template = request.template.as_deref().and_then(templates::template);
        let instructions = [
            request.instructions.as_deref(),
            request.template_brief.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
        let markets = if given.markets.is_empty() {
            vec!["US".to_owned()]
        } else {
            given.markets.clone()
        };
        Some(Brief {
            campaign_name: campaign.name.clone(),
            objective: campaign.objective,
            platforms: campaign.platforms.clone(),
            total_budget_micros: campaign.total_budget_micros,
            start_date: campaign.start_date,
            end_date: campaign.end_date,
            offer: given.offer.clone(),
            landing_page_url: given.landing_page_url.clone(),
            landing_page_text: given.landing_page_text.clone().unwrap_or_default(),
            seed_keywords: given.seed_keywords.clone(),
            business_name: given.business_name.clone(),
            markets,
            brand_voice: given.brand_voice.clone(),
            instructions,
            linkedin_share_basis_points: template.map_or(5_000, |t| t.linkedin_share_basis_points),
            segments,
            seed: request.request_id.as_u128() as u64,
        })
    }

    /// `text` with each word cased as the brief writes it where that is an acronym or has inner
    /// capitals (SaaS, AWS, SOC): keywords are lower case, copy and names should not be.
    pub fn display_case(&self, text: &str) -> String {
        let sources = [
            self.offer.as_str(),
            &self.landing_page_text,
            &self.seed_keywords.join(" "),
        ];
        let source_words: Vec<&str> = sources
            .iter()
            .flat_map(|s| s.split(|c: char| !(c.is_alphanumeric() || c == '-')))
            .filter(|w| w.chars().filter(|c| c.is_uppercase()).count() > 1)
            .collect();
        text.split(' ')
            .map(|word| {
                source_words
                    .iter()
                    .find(|w| w.to_lowercase() == word.to_lowercase())
                    .map_or_else(|| word.to_owned(), |w| (*w).to_owned())
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn days(&self) -> i64 {
        (self.end_date - self.start_date).num_days() + 1
    }

    pub fn google_locations(&self) -> Vec<String> {
        self.market_ids(|(_, google, _)| google)
    }

    pub fn linkedin_locations(&self) -> Vec<String> {
        self.market_ids(|(_, _, linkedin)| linkedin)
    }

    fn market_ids(
        &self,
        pick: fn(&(&str, &'static str, &'static str)) -> &'static str,
    ) -> Vec<String> {
        MARKETS
            .iter()
            .filter(|market| self.markets.iter().any(|m| m == market.0))
            .map(|market| pick(market).to_owned())
            .collect()
    }
}
