//! The copy evaluation set (`ml-workers/data/copy_eval_briefs.json`: briefs across industries,
//! some with instructions) and the measures `adflow-ml eval copy` prints: Ad Strength of every
//! responsive search ad, the share of ads with a concrete value proposition of their brief in a
//! headline, casing of the brief's proper nouns and acronyms, grammar checks, duplication, and
//! whether instructions held (emphasis shown, forbidden words absent, competitors negative).

use crate::brief::{Brief, TargetSegment};
use crate::copy::{facts, FactKind, Steering};
use crate::structure::{Generated, StructureGenerator};
use crate::{MlError, Models};
use adflow_domain::campaign::brief::{BrandVoice, Tone};
use adflow_domain::campaign::{Objective, Platform};
use adflow_domain::structure::ad_strength::{ad_strength, AdStrength};
use adflow_domain::structure::google::{
    companion_channel, Channel, GoogleAdsStructure, ImageAssets,
};
use adflow_domain::structure::linkedin::Creative;
use adflow_domain::structure::CampaignStructure;
use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};

const EVAL_BRIEFS: &str = include_str!("../data/copy_eval_briefs.json");

#[derive(Debug, Deserialize)]
struct EvalBrief {
    industry: String,
    business: String,
    offer: String,
    url: String,
    landing: String,
    seeds: Vec<String>,
    objective: Objective,
    tone: Tone,
    #[serde(default)]
    instructions: String,
    /// Image URLs the advertiser supplied; without them the image formats are not generated.
    #[serde(default)]
    images: ImageAssets,
}

/// The evaluation set as briefs for Google and LinkedIn, with their industries.
pub fn eval_briefs() -> Result<Vec<(String, Brief)>, MlError> {
    parse_briefs(EVAL_BRIEFS)
}

/// Briefs in the evaluation set's JSON shape (an array of `{industry, business, offer, url,
/// landing, seeds, objective, tone, instructions?}`): the set kept in the repository, or any other.
pub fn parse_briefs(json: &str) -> Result<Vec<(String, Brief)>, MlError> {
    let raw: Vec<EvalBrief> = serde_json::from_str(json)
        .map_err(|e| MlError::Model(format!("copy evaluation briefs: {e}")))?;
    Ok(raw
        .into_iter()
        .enumerate()
        .map(|(i, b)| {
            let brief = Brief {
                campaign_name: format!("{} Q1", b.business),
                objective: b.objective,
                platforms: vec![Platform::Google, Platform::Linkedin],
                total_budget_micros: 60_000_000_000,
                start_date: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap_or_default(),
                end_date: NaiveDate::from_ymd_opt(2027, 3, 31).unwrap_or_default(),
                offer: b.offer,
                landing_page_url: b.url,
                landing_page_text: b.landing,
                seed_keywords: b.seeds,
                business_name: b.business,
                markets: vec!["US".to_owned()],
                brand_voice: BrandVoice {
                    required_terms: Vec::new(),
                    forbidden_terms: Vec::new(),
                    tone: b.tone,
                },
                images: b.images,
                instructions: b.instructions,
                linkedin_share_basis_points: 4_000,
                segments: vec![TargetSegment {
                    name: "IT decision makers".to_owned(),
                    criteria: Default::default(),
                    estimated_size: Some(120_000),
                }],
                seed: 1_000 + i as u64,
            };
            (b.industry, brief)
        })
        .collect())
}

/// One problem a reader would see in a generated line.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub business: String,
    pub text: String,
    pub problem: String,
}

#[derive(Debug, Default)]
pub struct CopyEvaluation {
    pub briefs: usize,
    pub failed: Vec<String>,
    pub search_ads: usize,
    pub ratings: BTreeMap<AdStrength, usize>,
    /// Search ads with a number, offer or proof point of their brief in a headline.
    pub with_concrete_value: usize,
    /// Search ads with any fact of their brief (features too) in a headline.
    pub with_any_fact: usize,
    pub linkedin_creatives: usize,
    /// LinkedIn creatives whose intro text carries a fact of their brief.
    pub creatives_with_fact: usize,
    pub casing: Vec<Finding>,
    pub grammar: Vec<Finding>,
    /// Headlines in total and those that another ad group of the same campaign repeats.
    pub headlines: usize,
    pub repeated_headlines: usize,
    pub emphasis_ads: usize,
    pub emphasis_shown: usize,
    pub forbidden: Vec<Finding>,
    pub competitors_asked: usize,
    pub competitors_negative: usize,
    /// Search ads rated below Good: business, ad group and what would raise the rating.
    pub weak_ads: Vec<String>,
    /// Ads and creatives generated, per format.
    pub formats: BTreeMap<&'static str, usize>,
    /// Briefs lacking a format their objective calls for: `business: format`.
    pub missing_formats: Vec<String>,
    /// Briefs whose Google image format was not generated because they hold no images for it.
    pub without_images: Vec<String>,
    /// Display ads and asset groups, and those with a number, offer or proof point of their brief
    /// in a headline or long headline.
    pub image_ads: usize,
    pub image_ads_with_concrete_value: usize,
    /// The first brief's first search ad and LinkedIn creative, line by line, for a reader.
    pub example: Vec<String>,
}

/// Google's image formats, as the evaluation names them.
const DISPLAY_AD: &str = "responsive display ad";
const ASSET_GROUP: &str = "Performance Max asset group";

/// The lines of one Google image ad (a responsive display ad or an asset group) and where it is.
struct ImageAd<'a> {
    format: &'static str,
    campaign: &'a str,
    headlines: &'a [String],
    long_headlines: Vec<&'a String>,
    descriptions: &'a [String],
}

/// Every display ad and asset group of the structure's companion campaigns.
fn image_ads(google: &GoogleAdsStructure) -> Vec<ImageAd<'_>> {
    let mut out = Vec::new();
    for companion in &google.companion_campaigns {
        let campaign = companion.campaign.name.as_str();
        for ad in companion.ad_groups.iter().flat_map(|g| &g.display_ads) {
            out.push(ImageAd {
                format: DISPLAY_AD,
                campaign,
                headlines: &ad.headlines,
                long_headlines: vec![&ad.long_headline],
                descriptions: &ad.descriptions,
            });
        }
        for group in &companion.asset_groups {
            out.push(ImageAd {
                format: ASSET_GROUP,
                campaign,
                headlines: &group.headlines,
                long_headlines: group.long_headlines.iter().collect(),
                descriptions: &group.descriptions,
            });
        }
    }
    out
}

/// Every text of a structure, with the business it belongs to.
fn texts(structure: &CampaignStructure) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(google) = &structure.google {
        for group in &google.ad_groups {
            for ad in &group.ads {
                out.extend(ad.headlines.iter().cloned());
                out.extend(ad.descriptions.iter().cloned());
            }
        }
        for ad in image_ads(google) {
            out.extend(ad.headlines.iter().cloned());
            out.extend(ad.long_headlines.into_iter().cloned());
            out.extend(ad.descriptions.iter().cloned());
        }
    }
    if let Some(linkedin) = &structure.linkedin {
        for campaign in &linkedin.campaigns {
            for creative in &campaign.creatives {
                out.extend(creative.texts().into_iter().map(str::to_owned));
            }
        }
    }
    out
}

fn words(text: &str) -> Vec<&str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .collect()
}

/// Grammar a reader notices: a lower-case start, a doubled word, a space before punctuation, a
/// keyword's search intent left in a sentence ("monitoring demo").
fn grammar_problems(brief: &Brief, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if text.chars().next().is_some_and(char::is_lowercase) {
        problems.push("starts in lower case".to_owned());
    }
    if crate::copy::doubles_a_word(text) {
        problems.push("doubled word".to_owned());
    }
    if [" .", " ,", " !", " ?", "  "]
        .iter()
        .any(|p| text.contains(p))
    {
        problems.push("stray space".to_owned());
    }
    let lower = text.to_lowercase();
    for seed in &brief.seed_keywords {
        let phrase = crate::copy::noun_phrase(seed);
        if phrase != *seed && lower.contains(&seed.to_lowercase()) {
            problems.push(format!("search intent in copy: {seed:?}"));
        }
    }
    problems
}

/// Runs the generator on the evaluation set and measures what it wrote.
pub fn evaluate(models: &Models) -> Result<CopyEvaluation, MlError> {
    evaluate_briefs(models, &eval_briefs()?)
}

/// Runs the generator on `set` and measures what it wrote.
pub fn evaluate_briefs(
    models: &Models,
    set: &[(String, Brief)],
) -> Result<CopyEvaluation, MlError> {
    let briefs: Vec<Brief> = set.iter().map(|(_, b)| b.clone()).collect();
    let generated = models.structure.generate(&briefs);
    let mut out = CopyEvaluation {
        briefs: briefs.len(),
        ..CopyEvaluation::default()
    };
    for (brief, result) in briefs.iter().zip(generated) {
        let Generated { structure, .. } = match result {
            Ok(g) => g,
            Err(e) => {
                out.failed.push(format!("{}: {e}", brief.business_name));
                continue;
            }
        };
        measure(brief, &structure, &mut out);
    }
    Ok(out)
}

fn finding(brief: &Brief, text: &str, problem: impl Into<String>) -> Finding {
    Finding {
        business: brief.business_name.clone(),
        text: text.to_owned(),
        problem: problem.into(),
    }
}

fn example(brief: &Brief, structure: &CampaignStructure) -> Vec<String> {
    let mut lines = vec![format!("{} — {}", brief.business_name, brief.offer)];
    if let Some(google) = &structure.google {
        if let Some((group, ad)) = google
            .ad_groups
            .first()
            .and_then(|g| g.ads.first().map(|a| (g, a)))
        {
            lines.push(format!("search ad of ad group {:?}:", group.name));
            lines.extend(ad.headlines.iter().map(|h| format!("  H  {h}")));
            lines.extend(ad.descriptions.iter().map(|d| format!("  D  {d}")));
        }
        let negatives: Vec<&str> = google
            .negative_keywords
            .iter()
            .map(|n| n.text.as_str())
            .collect();
        lines.push(format!("  campaign negatives: {}", negatives.join(", ")));
        for ad in image_ads(google) {
            lines.push(format!("{} of {:?}:", ad.format, ad.campaign));
            lines.extend(ad.headlines.iter().map(|h| format!("  H  {h}")));
            lines.extend(ad.long_headlines.iter().map(|h| format!("  LH {h}")));
            lines.extend(ad.descriptions.iter().map(|d| format!("  D  {d}")));
        }
    }
    if let Some(creative) = structure
        .linkedin
        .as_ref()
        .and_then(|l| l.campaigns.first())
        .and_then(|c| c.creatives.first())
    {
        lines.push("LinkedIn creative:".to_owned());
        lines.extend(creative.texts().iter().map(|t| format!("  {t}")));
    }
    lines
}

fn measure(brief: &Brief, structure: &CampaignStructure, out: &mut CopyEvaluation) {
    let all_facts = facts::facts(brief);
    let steering = Steering::from_instructions(&brief.instructions);
    let proper = brief.proper_words();
    // "IT" and "it", "Teams" and "teams": the generator's own common words are not judged.
    let common = crate::copy::vocabulary();
    for text in texts(structure) {
        for word in words(&text) {
            if let Some(p) = proper.iter().find(|p| {
                p.eq_ignore_ascii_case(word)
                    && p.as_str() != word
                    && !common.contains(&word.to_lowercase())
            }) {
                // A sentence may open with a capital the brief writes in lower case; a proper
                // noun may never lose one.
                if word.chars().filter(|c| c.is_uppercase()).count()
                    < p.chars().filter(|c| c.is_uppercase()).count()
                {
                    out.casing
                        .push(finding(brief, &text, format!("{p} written {word}")));
                }
            }
        }
        for problem in grammar_problems(brief, &text) {
            out.grammar.push(finding(brief, &text, problem));
        }
        if steering.violated_by(&text) {
            out.forbidden
                .push(finding(brief, &text, "says what the instructions forbid"));
        }
    }
    if out.example.is_empty() {
        out.example = example(brief, structure);
    }
    let mut here: BTreeMap<&'static str, usize> = BTreeMap::new();
    if let Some(google) = &structure.google {
        *here.entry("responsive search ad").or_default() +=
            google.ad_groups.iter().map(|g| g.ads.len()).sum::<usize>();
        for ad in image_ads(google) {
            *here.entry(ad.format).or_default() += 1;
        }
    }
    if let Some(linkedin) = &structure.linkedin {
        for creative in linkedin.campaigns.iter().flat_map(|c| &c.creatives) {
            let name = match creative {
                Creative::SingleImage { .. } => "LinkedIn single image",
                Creative::Carousel { .. } => "LinkedIn carousel",
                Creative::TextAd { .. } => "LinkedIn text ad",
                Creative::MessageAd { .. } => "LinkedIn message ad",
                Creative::Spotlight { .. } => "LinkedIn spotlight",
            };
            *here.entry(name).or_default() += 1;
        }
    }
    let mut called_for = vec!["LinkedIn single image", "LinkedIn carousel"];
    if brief.platforms.contains(&Platform::Google) {
        called_for.push("responsive search ad");
        let (image_format, served) = match companion_channel(brief.objective) {
            Channel::PerformanceMax => (ASSET_GROUP, brief.images.serve_performance_max()),
            _ => (DISPLAY_AD, brief.images.serve_display()),
        };
        if served {
            called_for.push(image_format);
        } else {
            out.without_images
                .push(format!("{}: {image_format}", brief.business_name));
        }
    }
    match brief.objective {
        Objective::LeadGeneration => called_for.push("LinkedIn message ad"),
        Objective::WebsiteVisits => called_for.push("LinkedIn text ad"),
        _ => {}
    }
    for format in called_for {
        if !here.contains_key(format) {
            out.missing_formats
                .push(format!("{}: {format}", brief.business_name));
        }
    }
    for (format, n) in here {
        *out.formats.entry(format).or_default() += n;
    }
    if let Some(google) = &structure.google {
        let mut seen: HashSet<String> = HashSet::new();
        for group in &google.ad_groups {
            let mut in_group: HashSet<String> = HashSet::new();
            for ad in &group.ads {
                out.search_ads += 1;
                let report = ad_strength(ad, &group.keywords);
                *out.ratings.entry(report.rating).or_default() += 1;
                if report.rating < AdStrength::Good {
                    out.weak_ads.push(format!(
                        "{} / {}: {:?} — {}",
                        brief.business_name,
                        group.name,
                        report.rating,
                        report.advice.join("; ")
                    ));
                }
                let carried = |kinds: &dyn Fn(FactKind) -> bool| {
                    ad.headlines.iter().any(|h| {
                        all_facts
                            .iter()
                            .filter(|f| kinds(f.kind))
                            .any(|f| facts::carries(h, f))
                    })
                };
                if carried(&|k| k != FactKind::Feature) {
                    out.with_concrete_value += 1;
                }
                if carried(&|_| true) {
                    out.with_any_fact += 1;
                }
                if !steering.emphasis.is_empty() {
                    out.emphasis_ads += 1;
                    if ad.headlines.iter().any(|h| steering.emphasised_in(h)) {
                        out.emphasis_shown += 1;
                    }
                }
                for h in &ad.headlines {
                    out.headlines += 1;
                    if seen.contains(&h.to_lowercase()) {
                        out.repeated_headlines += 1;
                    }
                    in_group.insert(h.to_lowercase());
                }
            }
            seen.extend(in_group);
        }
        if !steering.competitors.is_empty() {
            out.competitors_asked += steering.competitors.len();
            out.competitors_negative += steering
                .competitors
                .iter()
                .filter(|c| {
                    google
                        .negative_keywords
                        .iter()
                        .any(|n| n.text == c.to_lowercase())
                })
                .count();
        }
    }
    if let Some(google) = &structure.google {
        for ad in image_ads(google) {
            out.image_ads += 1;
            let concrete = ad
                .headlines
                .iter()
                .chain(ad.long_headlines.iter().copied())
                .any(|l| {
                    all_facts
                        .iter()
                        .filter(|f| f.kind != FactKind::Feature)
                        .any(|f| facts::carries(l, f))
                });
            out.image_ads_with_concrete_value += usize::from(concrete);
        }
    }
    if let Some(linkedin) = &structure.linkedin {
        for campaign in &linkedin.campaigns {
            for creative in &campaign.creatives {
                out.linkedin_creatives += 1;
                if creative
                    .texts()
                    .iter()
                    .any(|t| all_facts.iter().any(|f| facts::carries(t, f)))
                {
                    out.creatives_with_fact += 1;
                }
            }
        }
    }
}

impl CopyEvaluation {
    pub fn share(part: usize, whole: usize) -> f64 {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    }

    pub fn print(&self) {
        let pct = |a, b| 100.0 * Self::share(a, b);
        println!(
            "copy evaluation: {} briefs ({} failed), {} responsive search ads, {} LinkedIn creatives",
            self.briefs,
            self.failed.len(),
            self.search_ads,
            self.linkedin_creatives
        );
        for f in &self.failed {
            println!("  failed: {f}");
        }
        let rating = |r| self.ratings.get(&r).copied().unwrap_or(0);
        println!(
            "Ad Strength: Excellent {} · Good {} · Average {} · Poor {} ({:.1} % Good or better)",
            rating(AdStrength::Excellent),
            rating(AdStrength::Good),
            rating(AdStrength::Average),
            rating(AdStrength::Poor),
            pct(
                rating(AdStrength::Excellent) + rating(AdStrength::Good),
                self.search_ads
            )
        );
        println!(
            "value proposition in a headline: {:.1} % of search ads a number, offer or proof point of their brief; {:.1} % any fact (features too)",
            pct(self.with_concrete_value, self.search_ads),
            pct(self.with_any_fact, self.search_ads)
        );
        let formats: Vec<String> = self
            .formats
            .iter()
            .map(|(f, n)| format!("{n} {f}"))
            .collect();
        println!(
            "formats: {}; briefs lacking a format their objective calls for: {:?}",
            formats.join(", "),
            self.missing_formats
        );
        println!(
            "Google image formats not generated for want of the brief's images: {} briefs {:?}",
            self.without_images.len(),
            self.without_images
        );
        println!(
            "display ads and asset groups with a number, offer or proof point of their brief in a headline or long headline: {:.1} % of {}",
            pct(self.image_ads_with_concrete_value, self.image_ads),
            self.image_ads
        );
        println!(
            "LinkedIn creatives carrying a fact of their brief: {:.1} %",
            pct(self.creatives_with_fact, self.linkedin_creatives)
        );
        println!(
            "casing: {} proper nouns or acronyms lower-cased; grammar: {} findings; headlines repeated across a campaign's ad groups: {:.1} % of {}",
            self.casing.len(),
            self.grammar.len(),
            pct(self.repeated_headlines, self.headlines),
            self.headlines
        );
        println!(
            "instructions: emphasis in a headline of {} of {} ads; {} lines say what was forbidden; {} of {} competitors negative",
            self.emphasis_shown,
            self.emphasis_ads,
            self.forbidden.len(),
            self.competitors_negative,
            self.competitors_asked
        );
        for weak in &self.weak_ads {
            println!("  below Good: {weak}");
        }
        for line in &self.example {
            println!("{line}");
        }
        for f in self
            .casing
            .iter()
            .chain(&self.grammar)
            .chain(&self.forbidden)
            .take(20)
        {
            println!("  {}: {:?} — {}", f.business, f.text, f.problem);
        }
    }
}
