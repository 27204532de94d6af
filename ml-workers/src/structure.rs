//! Structure generation: from a brief to a complete, platform-valid structure. The budget is split
//! across platforms and campaigns (LinkedIn's daily minimum respected), keywords become themed ad
//! groups with responsive search ads, segments become LinkedIn campaigns with sponsored content;
//! the result is checked with the domain's own validators before it leaves the worker.

use crate::brief::{Brief, TargetSegment};
use crate::copy::{self, search_ad, CopyFormat, CopyGenerator, Slots, Variation};
use crate::keywords::{KeywordGenerator, KeywordPlan};
use crate::MlError;
use adflow_domain::audience::{Facet, TargetingCriteria};
use adflow_domain::campaign::{planned_spend_micros, Objective, Platform};
use adflow_domain::platform_rules::{google as google_limits, linkedin as linkedin_limits};
use adflow_domain::structure::editorial::TextRole;
use adflow_domain::structure::google::{
    companion_channel, AdGroup, Bidding, Channel, CompanionCampaign, GoogleAdsStructure,
    GoogleCampaign, Keyword, MatchType, ResponsiveSearchAd,
};
use adflow_domain::structure::linkedin::{
    CampaignGroup, CampaignType, CarouselCard, Creative, LinkedInCampaign, LinkedInStructure,
};
use adflow_domain::structure::{self, CampaignStructure};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

/// Copy variations kept per ad (the floor is ten).
pub const VARIATIONS_PER_AD: usize = 10;
/// Message ads per Sponsored Messaging campaign: a few to rotate, not a search ad's ten.
const MESSAGE_ADS: usize = 3;
/// Text ads per text-ad campaign.
const TEXT_ADS: usize = 5;
/// Google's daily budget share of the Display or Performance Max campaign beside search.
const COMPANION_SHARE_PERCENT: i64 = 30;
/// Below this a split leaves either campaign too little to learn from (Google asks Performance
/// Max for a budget of several conversions a day), so the search campaign keeps it all.
const COMPANION_MIN_DAILY_MICROS: i64 = 10_000_000;
/// Contextual keywords of a Display ad group: one per search theme, at most this many.
const DISPLAY_KEYWORDS_MAX: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct Generated {
    pub structure: CampaignStructure,
    /// Every model that shaped it, `name@version`, comma-separated (goes on the event).
    pub model_version: String,
}

pub trait StructureGenerator: Send + Sync {
    /// Generates for several briefs at once, so the encoder runs one batch for all of them.
    fn generate(&self, briefs: &[Brief]) -> Vec<Result<Generated, MlError>>;

    /// The versions of the models behind it, recorded on every event it causes.
    fn model_version(&self) -> &str;
}

pub struct ModelStructureGenerator {
    pub keywords: Arc<dyn KeywordGenerator>,
    pub copy: Arc<dyn CopyGenerator>,
    pub model_version: String,
}

/// Daily budgets per platform: `(google, linkedin per campaign, linkedin campaigns)`.
pub fn split_budget(
    brief: &Brief,
    wanted_linkedin_campaigns: usize,
) -> Result<(i64, i64, usize), MlError> {
    let days = brief.days().max(1);
    // Whole cents: platforms take no fractions of their currency's smallest unit.
    let unit = adflow_domain::platform_rules::google::MONEY_UNIT_MICROS;
    let daily = brief.total_budget_micros / days / unit * unit;
    let google = brief.platforms.contains(&Platform::Google);
    let linkedin = brief.platforms.contains(&Platform::Linkedin);
    let linkedin_share = match (google, linkedin) {
        (true, true) => i64::from(brief.linkedin_share_basis_points.min(10_000)),
        (false, true) => 10_000,
        _ => 0,
    };
    let mut linkedin_daily = daily * linkedin_share / 10_000;
    let mut campaigns = wanted_linkedin_campaigns.max(1);
    if linkedin {
        // Fewer LinkedIn campaigns before any falls under the platform's daily minimum; then, if
        // Google runs too, move budget from Google up to one campaign's minimum.
        while campaigns > 1
            && linkedin_daily / (campaigns as i64) < linkedin_limits::MIN_DAILY_BUDGET_MICROS
        {
            campaigns -= 1;
        }
        if linkedin_daily < linkedin_limits::MIN_DAILY_BUDGET_MICROS && google {
            linkedin_daily = linkedin_limits::MIN_DAILY_BUDGET_MICROS.min(daily);
        }
        if linkedin_daily < linkedin_limits::MIN_DAILY_BUDGET_MICROS {
            return Err(MlError::Model(format!(
                "the budget allows {daily} micros a day over {days} days; a LinkedIn campaign needs at least {}",
                linkedin_limits::MIN_DAILY_BUDGET_MICROS
            )));
        }
    } else {
        campaigns = 0;
    }
    let per_campaign = if campaigns > 0 {
        linkedin_daily / campaigns as i64 / unit * unit
    } else {
        0
    };
    let google_daily = if google {
        daily - per_campaign * campaigns as i64
    } else {
        0
    };
    if google && google_daily <= 0 {
        return Err(MlError::Model(format!(
            "the budget of {daily} micros a day leaves nothing for Google after LinkedIn's minimum"
        )));
    }
    Ok((google_daily, per_campaign, campaigns))
}

fn bidding(objective: Objective) -> Bidding {
    match objective {
        Objective::LeadGeneration | Objective::WebsiteConversions => Bidding::MaximizeConversions {
            target_cpa_micros: None,
        },
        _ => Bidding::TargetSpend {
            cpc_bid_ceiling_micros: None,
        },
    }
}

fn path_segment(theme: &str) -> Option<String> {
    let word: String = theme
        .split_whitespace()
        .next()?
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '-')
        .take(google_limits::PATH.max_chars)
        .collect();
    (!word.is_empty()).then(|| word.to_lowercase())
}

/// Distinct texts of one field across variations, best first.
fn distinct(variations: &[Variation], field: usize, max: usize) -> Vec<String> {
    let mut seen = HashSet::new();
    variations
        .iter()
        .map(|v| v.texts[field].clone())
        .filter(|t| seen.insert(t.to_lowercase()))
        .take(max)
        .collect()
}

/// Every keyword of every group, shortest first (short themes fit short headlines).
fn themes_of(plan: &KeywordPlan) -> Vec<String> {
    let mut themes: Vec<String> = plan
        .groups
        .iter()
        .flat_map(|g| g.keywords.iter().map(|k| k.text.clone()))
        .collect();
    themes.sort_by_key(|t| t.chars().count());
    themes.dedup();
    themes
}

/// The plan with every ad group of searches about another product only ("vault alternative",
/// "x vs y") folded into the most relevant other group: copy may not name another company's
/// product, so such a group's ad could never hold its own keywords and would rate poorly. The
/// keywords still run, beside ones the ad speaks to.
fn with_elsewhere_keywords_folded(plan: &KeywordPlan) -> KeywordPlan {
    let elsewhere = |g: &crate::keywords::KeywordGroup| {
        g.keywords
            .iter()
            .all(|k| copy::noun_phrase(&k.text).is_empty())
    };
    let (kept, folded): (Vec<_>, Vec<_>) = plan.groups.iter().cloned().partition(|g| !elsewhere(g));
    let mut groups = kept;
    match groups.first_mut() {
        Some(first) => first
            .keywords
            .extend(folded.into_iter().flat_map(|g| g.keywords)),
        None => groups = plan.groups.clone(),
    }
    KeywordPlan {
        groups,
        negatives: plan.negatives.clone(),
    }
}

/// A carousel of the brief's facts, a card each (2 to 10 cards of at most 45 characters), led by
/// the best sponsored-content intro; `None` when the brief states fewer than two.
fn carousel(brief: &Brief, facts: &[copy::Fact], variations: &[Variation]) -> Option<Creative> {
    let max = linkedin_limits::CAROUSEL_CARD_HEADLINE.max_chars;
    let mut cards: Vec<CarouselCard> = Vec::new();
    for fact in facts {
        let Some(text) = [Some(&fact.clause), fact.headline.as_ref()]
            .into_iter()
            .flatten()
            .find(|t| t.chars().count() <= max)
        else {
            continue;
        };
        if cards.iter().all(|c| !c.headline.eq_ignore_ascii_case(text))
            && copy::acceptable(brief, TextRole::Headline, text)
        {
            cards.push(CarouselCard {
                headline: text.clone(),
                destination_url: brief.landing_page_url.clone(),
            });
        }
        if cards.len() == linkedin_limits::CAROUSEL_CARDS_MAX.min(5) {
            break;
        }
    }
    // A brief with too few facts for a carousel: the best sponsored-content headlines that fit.
    for v in variations {
        if cards.len() > linkedin_limits::CAROUSEL_CARDS_MIN {
            break;
        }
        let text = &v.texts[1];
        if text.chars().count() <= max
            && cards.iter().all(|c| !c.headline.eq_ignore_ascii_case(text))
        {
            cards.push(CarouselCard {
                headline: text.clone(),
                destination_url: brief.landing_page_url.clone(),
            });
        }
    }
    let intro_text = variations.first()?.texts[0].clone();
    (cards.len() >= linkedin_limits::CAROUSEL_CARDS_MIN)
        .then_some(Creative::Carousel { intro_text, cards })
}

/// The LinkedIn format an objective calls for beside sponsored content: Sponsored Messaging for
/// leads, text ads for site visits.
fn extra_linkedin_format(objective: Objective) -> Option<CampaignType> {
    match objective {
        Objective::LeadGeneration => Some(CampaignType::MessageAd),
        Objective::WebsiteVisits => Some(CampaignType::TextAd),
        _ => None,
    }
}

/// The plan's negatives and, when the instructions ask, the competitors' names (phrase match:
/// "kubecost pricing" is kept out, "cost tools" is not).
fn campaign_negatives(brief: &Brief, plan: &KeywordPlan) -> Vec<Keyword> {
    let steering = copy::Steering::from_instructions(&brief.instructions);
    let mut negatives: Vec<Keyword> = plan
        .negatives
        .iter()
        .map(|n| Keyword {
            text: n.clone(),
            match_type: MatchType::Broad,
        })
        .collect();
    for name in steering.competitors {
        let text: String = name
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-')
            .take(google_limits::KEYWORD.max_chars)
            .collect();
        if !text.trim().is_empty() && !negatives.iter().any(|n| n.text == text) {
            negatives.push(Keyword {
                text: text.trim().to_owned(),
                match_type: MatchType::Phrase,
            });
        }
    }
    negatives
}

/// The Display or Performance Max campaign the objective calls for, written from the search
/// campaign's copy, when the brief has the images it needs and Google's budget carries a split.
fn companion_campaign(
    brief: &Brief,
    plan: &KeywordPlan,
    search: &GoogleCampaign,
    facts: &[copy::Fact],
    search_ads: &[&ResponsiveSearchAd],
    daily: i64,
) -> Option<CompanionCampaign> {
    let unit = google_limits::MONEY_UNIT_MICROS;
    let budget = daily * COMPANION_SHARE_PERCENT / 100 / unit * unit;
    if budget < COMPANION_MIN_DAILY_MICROS || daily - budget < COMPANION_MIN_DAILY_MICROS {
        return None;
    }
    let channel = companion_channel(brief.objective);
    let label = match channel {
        Channel::Display => "Display",
        Channel::PerformanceMax => "Performance Max",
        Channel::Search => return None,
    };
    let campaign = GoogleCampaign {
        name: truncate_name(format!("{} | {label}", brief.campaign_name)),
        channel,
        ..search.clone()
    };
    let (ad_groups, asset_groups) = match channel {
        Channel::Display => {
            let ad = copy::image_ads::display_ad(brief, facts, search_ads)?;
            let mut keywords: Vec<Keyword> = Vec::new();
            for first in plan.groups.iter().filter_map(|g| g.keywords.first()) {
                let keyword = Keyword {
                    text: first.text.clone(),
                    match_type: MatchType::Broad,
                };
                if keywords.len() < DISPLAY_KEYWORDS_MAX && !keywords.contains(&keyword) {
                    keywords.push(keyword);
                }
            }
            let group = AdGroup {
                name: truncate_name(format!("{} | Display", brief.business_name)),
                keywords,
                negative_keywords: Vec::new(),
                ads: Vec::new(),
                display_ads: vec![ad],
            };
            (vec![group], Vec::new())
        }
        _ => {
            let name = truncate_name(format!("{} | All audiences", brief.business_name));
            let group = copy::image_ads::asset_group(brief, facts, search_ads, name)?;
            (Vec::new(), vec![group])
        }
    };
    Some(CompanionCampaign {
        daily_budget_micros: budget,
        campaign,
        ad_groups,
        asset_groups,
    })
}

fn truncate_name(name: String) -> String {
    name.chars().take(google_limits::NAME.max_chars).collect()
}

impl ModelStructureGenerator {
    fn google(
        &self,
        brief: &Brief,
        plan: &KeywordPlan,
        daily: i64,
    ) -> Result<GoogleAdsStructure, MlError> {
        let plan = &with_elsewhere_keywords_folded(plan);
        let mut ad_groups = Vec::new();
        let facts = copy::steered_facts(brief);
        let steering = copy::Steering::from_instructions(&brief.instructions);
        let emphasised = facts
            .iter()
            .take_while(|f| steering.emphasised_in(&f.clause))
            .count();
        let mut used_headlines: HashSet<String> = HashSet::new();
        for (index, group) in plan.groups.iter().enumerate() {
            // Each ad group leads with other facts (the emphasised stay first), so the campaign's
            // ads do not all say the same thing.
            let mut facts = facts.clone();
            let rest = facts.len() - emphasised;
            if rest > 0 {
                facts[emphasised..].rotate_left(index % rest);
            }
            // The group's own keywords first, then the campaign's other themes: enough distinct
            // headlines for a full responsive search ad even in a small group.
            let mut themes: Vec<String> = group
                .keywords
                .iter()
                .take(4)
                .map(|k| k.text.clone())
                .collect();
            for other in plan.groups.iter().flat_map(|g| g.keywords.first()) {
                if !themes.contains(&other.text) {
                    themes.push(other.text.clone());
                }
            }
            themes.extend(
                brief
                    .seed_keywords
                    .iter()
                    .filter(|s| !themes.contains(s))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
            let slots = Slots::from_brief(brief, themes);
            let variations =
                self.copy
                    .variations(brief, &slots, CopyFormat::SearchAd, VARIATIONS_PER_AD)?;
            let group_keywords: Vec<String> =
                group.keywords.iter().map(|k| k.text.clone()).collect();
            let mut headlines = search_ad::headlines(
                brief,
                &facts,
                &variations,
                &group_keywords,
                &used_headlines,
                VARIATIONS_PER_AD,
            );
            let descriptions = search_ad::descriptions(brief, &facts, &variations);
            if headlines.len() < VARIATIONS_PER_AD {
                // Long keywords fit few 30-character patterns: widen the material with every
                // group's keywords and the offer's own phrases, and top the headlines up.
                let mut wider = themes_of(plan);
                wider.extend(crate::keywords::offer_candidates(brief));
                let slots = Slots::from_brief(brief, wider);
                let more = self
                    .copy
                    .variations(brief, &slots, CopyFormat::SearchAd, 1)?;
                // Every distinct headline of the wider material, best first: the best few may
                // be ones the ad already holds.
                let wider = distinct(&more, 0, usize::MAX);
                // Still short (one long theme): the offer's own wording, cut to fit.
                let offer = search_ad::offer_headlines(brief);
                for headline in wider.into_iter().chain(offer) {
                    if headlines.len() == google_limits::HEADLINES_MAX {
                        break;
                    }
                    if !headlines.iter().any(|h| h.eq_ignore_ascii_case(&headline)) {
                        headlines.push(headline);
                    }
                }
            }
            if headlines.len() < VARIATIONS_PER_AD
                || descriptions.len() < google_limits::DESCRIPTIONS_MIN
            {
                return Err(MlError::Model(format!(
                    "ad group {:?}: {} distinct headlines and {} descriptions",
                    group.theme,
                    headlines.len(),
                    descriptions.len()
                )));
            }
            used_headlines.extend(headlines.iter().map(|h| h.to_lowercase()));
            let mut keywords = Vec::new();
            let mut seen = HashSet::new();
            for k in &group.keywords {
                for match_type in &k.match_types {
                    if seen.insert((k.text.clone(), *match_type)) {
                        keywords.push(Keyword {
                            text: k.text.clone(),
                            match_type: *match_type,
                        });
                    }
                }
            }
            ad_groups.push(AdGroup {
                name: truncate_name(group.theme.clone()),
                keywords,
                negative_keywords: Vec::new(),
                ads: vec![ResponsiveSearchAd {
                    headlines,
                    descriptions,
                    path1: path_segment(&group.theme),
                    path2: None,
                    final_urls: vec![brief.landing_page_url.clone()],
                }],
                display_ads: Vec::new(),
            });
        }
        let campaign = GoogleCampaign {
            name: truncate_name(format!("{} | Search", brief.campaign_name)),
            channel: Channel::Search,
            bidding: bidding(brief.objective),
            locations: brief.google_locations(),
            languages: vec!["languageConstants/1000".to_owned()],
            ad_schedule: vec![],
        };
        let search_ads: Vec<&ResponsiveSearchAd> = ad_groups.iter().flat_map(|g| &g.ads).collect();
        let companion = companion_campaign(brief, plan, &campaign, &facts, &search_ads, daily);
        let companion_daily = companion.as_ref().map_or(0, |c| c.daily_budget_micros);
        Ok(GoogleAdsStructure {
            daily_budget_micros: daily - companion_daily,
            campaign,
            ad_groups,
            asset_groups: Vec::new(),
            negative_keywords: campaign_negatives(brief, plan),
            companion_campaigns: companion.into_iter().collect(),
        })
    }

    fn linkedin(
        &self,
        brief: &Brief,
        plan: &KeywordPlan,
        segments: &[TargetSegment],
        per_campaign: i64,
        extra: Option<CampaignType>,
    ) -> Result<LinkedInStructure, MlError> {
        // The two best keywords of every group: the themes the search side found most relevant.
        let themes: Vec<String> = plan
            .groups
            .iter()
            .flat_map(|g| g.keywords.iter().take(2).map(|k| k.text.clone()))
            .collect();
        let facts = copy::steered_facts(brief);
        let mut campaigns = Vec::new();
        for segment in segments {
            let mut slots = Slots::from_brief(brief, themes.clone());
            if segment.name.split_whitespace().count() <= 4 {
                slots.audiences.insert(0, segment.name.clone());
            }
            let variations = self.copy.variations(
                brief,
                &slots,
                CopyFormat::SponsoredContent,
                VARIATIONS_PER_AD,
            )?;
            let mut creatives: Vec<Creative> = variations
                .iter()
                .take(VARIATIONS_PER_AD)
                .map(|v| Creative::SingleImage {
                    intro_text: v.texts[0].clone(),
                    headline: v.texts[1].clone(),
                    destination_url: brief.landing_page_url.clone(),
                })
                .collect();
            creatives.extend(carousel(brief, &facts, &variations));
            campaigns.push(LinkedInCampaign {
                name: truncate_name(format!("{} | {}", brief.campaign_name, segment.name)),
                campaign_type: CampaignType::SponsoredContent,
                objective: brief.objective,
                daily_budget_micros: per_campaign,
                targeting: targeting(brief, &segment.criteria),
                audience_size_estimate: segment.estimated_size,
                creatives,
            });
        }
        if let (Some(kind), Some(segment)) = (extra, segments.first()) {
            let slots = Slots::from_brief(brief, themes.clone());
            let (label, creatives) = match kind {
                CampaignType::MessageAd => ("Messages", self.message_ads(brief, &slots, &facts)?),
                _ => ("Text ads", self.text_ads(brief, &slots)?),
            };
            campaigns.push(LinkedInCampaign {
                name: truncate_name(format!("{} | {label}", brief.campaign_name)),
                campaign_type: kind,
                objective: brief.objective,
                daily_budget_micros: per_campaign,
                targeting: targeting(brief, &segment.criteria),
                audience_size_estimate: segment.estimated_size,
                creatives,
            });
        }
        Ok(LinkedInStructure {
            campaign_group: CampaignGroup {
                name: truncate_name(brief.campaign_name.clone()),
            },
            campaigns,
        })
    }

    /// Sponsored Messaging: a subject and a body that opens with the best variation and goes on
    /// to the brief's features and proof.
    fn message_ads(
        &self,
        brief: &Brief,
        slots: &Slots,
        facts: &[copy::Fact],
    ) -> Result<Vec<Creative>, MlError> {
        let variations = self
            .copy
            .variations(brief, slots, CopyFormat::MessageAd, MESSAGE_ADS)?;
        let features: Vec<&str> = facts
            .iter()
            .filter(|f| f.kind != copy::FactKind::Number)
            .map(|f| f.clause.as_str())
            .collect();
        Ok(variations
            .iter()
            .take(MESSAGE_ADS)
            .map(|v| {
                let mut body = v.texts[1].clone();
                let more = features.join(". ");
                let longer = format!("{body}\n\n{more}.");
                if !more.is_empty()
                    && longer.chars().count() <= linkedin_limits::MESSAGE_BODY.max_chars
                    && copy::acceptable(brief, TextRole::Body, &longer)
                {
                    body = longer;
                }
                Creative::MessageAd {
                    subject: v.texts[0].clone(),
                    body,
                    call_to_action_url: Some(brief.landing_page_url.clone()),
                }
            })
            .collect())
    }

    fn text_ads(&self, brief: &Brief, slots: &Slots) -> Result<Vec<Creative>, MlError> {
        let variations = self
            .copy
            .variations(brief, slots, CopyFormat::TextAd, TEXT_ADS)?;
        Ok(variations
            .iter()
            .take(TEXT_ADS)
            .map(|v| Creative::TextAd {
                headline: v.texts[0].clone(),
                description: v.texts[1].clone(),
                destination_url: brief.landing_page_url.clone(),
            })
            .collect())
    }

    fn one(&self, brief: &Brief, plan: KeywordPlan) -> Result<Generated, MlError> {
        // Segments the platform can serve, largest first; without any, decision makers by default.
        let mut segments: Vec<TargetSegment> = brief
            .segments
            .iter()
            .filter(|s| {
                s.estimated_size
                    .is_none_or(|size| size >= linkedin_limits::MIN_AUDIENCE_SIZE)
            })
            .cloned()
            .collect();
        segments.sort_by_key(|s| std::cmp::Reverse(s.estimated_size));
        if segments.is_empty() {
            segments.push(default_segment());
        }
        // The format the objective calls for beside sponsored content gets a campaign of its own
        // when the budget carries one more at LinkedIn's daily minimum.
        let extra = extra_linkedin_format(brief.objective)
            .filter(|_| brief.platforms.contains(&Platform::Linkedin));
        let wanted = segments.len().min(3) + usize::from(extra.is_some());
        let (google_daily, per_campaign, campaigns) = split_budget(brief, wanted)?;
        let extra = extra.filter(|_| campaigns >= 2);
        segments.truncate((campaigns - usize::from(extra.is_some())).max(1));
        let structure = CampaignStructure {
            google: brief
                .platforms
                .contains(&Platform::Google)
                .then(|| self.google(brief, &plan, google_daily))
                .transpose()?,
            linkedin: brief
                .platforms
                .contains(&Platform::Linkedin)
                .then(|| self.linkedin(brief, &plan, &segments, per_campaign, extra))
                .transpose()?,
        };
        let report = structure::validate(&structure);
        if !report.errors.is_empty() {
            return Err(MlError::Model(format!(
                "the generated structure breaks platform rules: {:?}",
                report.errors
            )));
        }
        let planned = planned_spend_micros(&structure, brief.start_date, brief.end_date);
        if planned > i128::from(brief.total_budget_micros) {
            return Err(MlError::Model(format!(
                "planned spend {planned} exceeds the budget"
            )));
        }
        Ok(Generated {
            structure,
            model_version: self.model_version.clone(),
        })
    }
}

fn default_segment() -> TargetSegment {
    let mut include = BTreeMap::new();
    include.insert(
        Facet::Seniorities,
        vec!["Manager".to_owned(), "Director".to_owned(), "VP".to_owned()],
    );
    TargetSegment {
        name: "Decision makers".to_owned(),
        criteria: TargetingCriteria {
            include,
            exclude: BTreeMap::new(),
        },
        estimated_size: None,
    }
}

/// The segment's criteria with the brief's markets, minus facets LinkedIn refuses to combine.
fn targeting(brief: &Brief, criteria: &TargetingCriteria) -> TargetingCriteria {
    let mut targeting = criteria.clone();
    targeting.include.retain(|_, values| !values.is_empty());
    targeting.exclude.retain(|_, values| !values.is_empty());
    targeting
        .include
        .entry(Facet::Locations)
        .or_insert_with(|| brief.linkedin_locations());
    let refused: Vec<Facet> =
        adflow_domain::platform_rules::incompatible_facets(|f| targeting.include.contains_key(&f))
            .map(|(_, refused)| refused)
            .collect();
    for facet in refused {
        targeting.include.remove(&facet);
    }
    targeting
}

impl StructureGenerator for ModelStructureGenerator {
    fn generate(&self, briefs: &[Brief]) -> Vec<Result<Generated, MlError>> {
        briefs
            .iter()
            .zip(self.keywords.plan_batch(briefs))
            .map(|(brief, plan)| self.one(brief, plan?))
            .collect()
    }

    fn model_version(&self) -> &str {
        &self.model_version
    }
}
