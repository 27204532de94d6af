//! The generator's input: a campaign's facts, its structure request and the segments it targets,
//! gathered into one value (so the models never look anything up themselves).

use adflow_domain::audience::TargetingCriteria;
use adflow_domain::campaign::brief::{BrandVoice, GenerationBrief, MARKETS};
use adflow_domain::campaign::{CampaignState, Objective, Platform, StructureGenerationRequested};
use adflow_domain::structure::google::ImageAssets;
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
    /// Image URLs for the formats that show images.
    pub images: ImageAssets,
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
            images: given.images.clone(),
            instructions,
            linkedin_share_basis_points: template.map_or(5_000, |t| t.linkedin_share_basis_points),
            segments,
            seed: request.request_id.as_u128() as u64,
        })
    }

    /// The words the brief always capitalises: acronyms and words with inner capitals (SaaS,
    /// AWS, SOC), the business name's words, and words written with a capital inside a sentence
    /// (Kubernetes, Salesforce) and never in lower case. Copy must show them as written.
    pub fn proper_words(&self) -> Vec<String> {
        let sources = [
            self.offer.as_str(),
            &self.landing_page_text,
            &self.seed_keywords.join(", "),
        ];
        let split = |s: &str| -> Vec<String> {
            s.split(|c: char| !(c.is_alphanumeric() || c == '-'))
                .filter(|w| w.chars().any(char::is_alphanumeric))
                .map(str::to_owned)
                .collect()
        };
        // Keywords are typed in lower case whatever they name: only prose can show a word common.
        let lower_somewhere: std::collections::HashSet<String> = sources[..2]
            .iter()
            .flat_map(|s| split(s))
            .filter(|w| w.chars().next().is_some_and(char::is_lowercase))
            .collect();
        let common = crate::copy::vocabulary();
        // The business name's words, unless the brief also writes one as a common word ("Payroll
        // Nest" runs payroll).
        let mut proper: Vec<String> = split(&self.business_name)
            .into_iter()
            .filter(|w| w.chars().any(char::is_alphabetic))
            .filter(|w| {
                w.chars().filter(|c| c.is_uppercase()).count() > 1
                    || !lower_somewhere.contains(&w.to_lowercase())
            })
            .collect();
        for source in sources {
            // A capital after a sentence's first word names something; so does one opening a
            // later item of a comma list ("donor CRM, Salesforce Nonprofit Cloud sync"), where
            // sentence case puts none. After a colon a capital is only style.
            for sentence in source.split(['.', '!', '?', '\n', ':', '|']) {
                let words = sentence
                    .split([',', ';'])
                    .enumerate()
                    .flat_map(|(item, text)| {
                        split(text)
                            .into_iter()
                            .enumerate()
                            .map(move |(i, word)| (item > 0 || i > 0, word))
                    });
                for (mid_sentence, word) in words {
                    let capitals = word.chars().filter(|c| c.is_uppercase()).count();
                    let named = capitals > 1
                        || (mid_sentence
                            && capitals == 1
                            && word.chars().next().is_some_and(char::is_uppercase)
                            && !lower_somewhere.contains(&word.to_lowercase())
                            && !common.contains(&word.to_lowercase()));
                    if named && !proper.contains(&word) {
                        proper.push(word);
                    }
                }
            }
        }
        proper
    }

    /// `text` with each word cased as the brief writes it where it is one of
    /// [`Brief::proper_words`]: keywords are lower case, copy and names should not be.
    pub fn display_case(&self, text: &str) -> String {
        let proper = self.proper_words();
        text.split(' ')
            .map(|word| {
                proper
                    .iter()
                    .find(|w| w.to_lowercase() == word.to_lowercase())
                    .map_or_else(|| word.to_owned(), Clone::clone)
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
