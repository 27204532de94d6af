//! Google's image formats — a responsive display ad, a Performance Max asset group — written from
//! the campaign's search copy and the brief's facts. Google assembles both from the same kinds of
//! lines a search ad has, plus long headlines, around the advertiser's images (by URL): the lines
//! that carry the brief's facts go first, every line passes the same editorial, brand-voice and
//! instruction checks, and no line repeats another of the ad.

use super::acceptable;
use super::facts::{self, Fact, FactKind};
use super::search_ad::{fits, with_required_terms};
use crate::brief::Brief;
use adflow_domain::platform_rules::google as limits;
use adflow_domain::structure::ad_strength::distinct;
use adflow_domain::structure::editorial::TextRole;
use adflow_domain::structure::google::{
    AssetGroup, ImageAssets, ResponsiveDisplayAd, ResponsiveSearchAd,
};

/// Long headlines of an asset group: fewer than Google's five, so the search ads' descriptions
/// stay descriptions instead of all becoming long headlines.
const ASSET_GROUP_LONG_HEADLINES: usize = 3;

/// The lines an image format chooses from, best first.
struct Lines {
    headlines: Vec<String>,
    long_headlines: Vec<String>,
    descriptions: Vec<String>,
}

fn push_new(list: &mut Vec<String>, text: &str) {
    if !list.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        list.push(text.to_owned());
    }
}

/// A line that is a fact's headline form, or holds enough of the fact's words.
fn carries_fact(text: &str, facts: &[Fact]) -> bool {
    facts.iter().any(|f| {
        f.headline
            .as_ref()
            .is_some_and(|h| h.eq_ignore_ascii_case(text))
            || facts::carries(text, f)
    })
}

fn lines(brief: &Brief, facts: &[Fact], ads: &[&ResponsiveSearchAd]) -> Lines {
    let mut headlines = Vec::new();
    for with_fact in [true, false] {
        for headline in ads.iter().flat_map(|a| &a.headlines) {
            if carries_fact(headline, facts) == with_fact {
                push_new(&mut headlines, headline);
            }
        }
    }
    // A long headline states a claim as a sentence: the brief's numbers, offers and proof first,
    // then the search ads' descriptions that fit.
    let mut long_headlines = Vec::new();
    let sentences: Vec<String> = facts
        .iter()
        .filter(|f| f.kind != FactKind::Feature)
        .map(|f| format!("{}.", f.clause))
        .collect();
    let descriptions_of_ads: Vec<&String> = ads.iter().flat_map(|a| &a.descriptions).collect();
    // A claim short enough for a headline is one already: long headlines say more, when they can.
    let headline_sized = |text: &str| fits(text, limits::HEADLINE.max_chars + 1);
    for short in [false, true] {
        for text in sentences.iter().chain(descriptions_of_ads.iter().copied()) {
            if headline_sized(text) == short
                && fits(text, limits::LONG_HEADLINE.max_chars)
                && acceptable(brief, TextRole::Headline, text)
            {
                push_new(&mut long_headlines, text);
            }
        }
    }
    // Descriptions: the search ads' own (already checked as bodies), then every fact as a short
    // sentence, which Performance Max needs at least one of.
    let mut descriptions = Vec::new();
    for text in descriptions_of_ads {
        push_new(&mut descriptions, text);
    }
    for fact in facts {
        let text = with_required_terms(brief, format!("{}.", fact.clause));
        if fits(&text, limits::DESCRIPTION.max_chars) && acceptable(brief, TextRole::Body, &text) {
            push_new(&mut descriptions, &text);
        }
    }
    Lines {
        headlines,
        long_headlines,
        descriptions,
    }
}

/// The brief's images within a format's limits: marketing images up to `max` (landscape first,
/// square after, each kind keeping one), logos up to Google's five.
fn images_within(images: &ImageAssets, max: usize) -> ImageAssets {
    let landscape = images
        .landscape
        .len()
        .min(max.saturating_sub(images.square.len().min(1)));
    let square = images.square.len().min(max.saturating_sub(landscape));
    ImageAssets {
        landscape: images.landscape[..landscape].to_vec(),
        square: images.square[..square].to_vec(),
        logos: images
            .logos
            .iter()
            .take(limits::LOGOS_MAX)
            .cloned()
            .collect(),
    }
}

/// A responsive display ad, or `None` when the brief lacks a landscape and a square image or the
/// copy has no line for a required field.
pub fn display_ad(
    brief: &Brief,
    facts: &[Fact],
    ads: &[&ResponsiveSearchAd],
) -> Option<ResponsiveDisplayAd> {
    if !brief.images.serve_display() {
        return None;
    }
    let mut lines = lines(brief, facts, ads);
    let long_headline = lines.long_headlines.first()?.clone();
    // A description that restates the long headline adds nothing beside it.
    lines.descriptions.retain(|d| distinct(d, &long_headline));
    lines.headlines.truncate(limits::DISPLAY_HEADLINES_MAX);
    lines
        .descriptions
        .truncate(limits::DISPLAY_DESCRIPTIONS_MAX);
    if lines.headlines.len() < limits::DISPLAY_HEADLINES_MIN
        || lines.descriptions.len() < limits::DISPLAY_DESCRIPTIONS_MIN
    {
        return None;
    }
    Some(ResponsiveDisplayAd {
        headlines: lines.headlines,
        long_headline,
        descriptions: lines.descriptions,
        business_name: brief.business_name.clone(),
        final_urls: vec![brief.landing_page_url.clone()],
        images: images_within(&brief.images, limits::DISPLAY_IMAGES_MAX),
    })
}

/// A Performance Max asset group, or `None` when the brief lacks a landscape image, a square
/// image and a logo, or the copy falls short of the group's minimums.
pub fn asset_group(
    brief: &Brief,
    facts: &[Fact],
    ads: &[&ResponsiveSearchAd],
    name: String,
) -> Option<AssetGroup> {
    if !brief.images.serve_performance_max() {
        return None;
    }
    let mut lines = lines(brief, facts, ads);
    lines.headlines.truncate(limits::HEADLINES_MAX);
    lines
        .long_headlines
        .truncate(ASSET_GROUP_LONG_HEADLINES.min(limits::ASSET_LONG_HEADLINES_MAX));
    lines.descriptions.retain(|d| {
        !lines
            .long_headlines
            .iter()
            .any(|l| l.eq_ignore_ascii_case(d))
    });
    // Google shows the short description where space is tight: it leads.
    let short = limits::ASSET_SHORT_DESCRIPTION.max_chars;
    let first_short = lines
        .descriptions
        .iter()
        .position(|d| d.chars().count() <= short)?;
    let lead = lines.descriptions.remove(first_short);
    lines.descriptions.insert(0, lead);
    lines.descriptions.truncate(limits::ASSET_DESCRIPTIONS_MAX);
    if lines.headlines.len() < limits::HEADLINES_MIN
        || lines.long_headlines.len() < limits::ASSET_LONG_HEADLINES_MIN
        || lines.descriptions.len() < limits::DESCRIPTIONS_MIN
    {
        return None;
    }
    Some(AssetGroup {
        name,
        headlines: lines.headlines,
        long_headlines: lines.long_headlines,
        descriptions: lines.descriptions,
        business_name: brief.business_name.clone(),
        final_urls: vec![brief.landing_page_url.clone()],
        images: images_within(&brief.images, limits::ASSET_GROUP_IMAGES_MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::copy::facts::tests::kube;
    use crate::copy::steered_facts;

    fn search_ad() -> ResponsiveSearchAd {
        ResponsiveSearchAd {
            headlines: vec![
                "Kubernetes Cost Monitoring".into(),
                "Cut AWS and GCP Bills by 30%".into(),
                "SOC 2 Certified".into(),
                "Rightsizing for Kubernetes".into(),
            ],
            descriptions: vec![
                "Free 14-day trial. Cut AWS and GCP bills by 30% for Kubernetes platform teams."
                    .into(),
                "Anomaly alerts and rightsizing recommendations. SOC 2 certified.".into(),
            ],
            path1: None,
            path2: None,
            final_urls: vec!["https://kubesaver.example".into()],
        }
    }

    fn with_images(mut brief: Brief, logos: bool) -> Brief {
        brief.images = ImageAssets {
            landscape: vec!["https://kubesaver.example/wide.png".into()],
            square: (0..20)
                .map(|i| format!("https://kubesaver.example/square-{i}.png"))
                .collect(),
            logos: if logos {
                vec!["https://kubesaver.example/logo.png".into()]
            } else {
                vec![]
            },
        };
        brief
    }

    #[test]
    fn a_display_ad_leads_with_the_facts_and_keeps_within_the_image_limit() {
        let brief = with_images(kube(), false);
        let facts = steered_facts(&brief);
        let ad = display_ad(&brief, &facts, &[&search_ad()]).unwrap();
        assert_eq!(ad.headlines[0], "Cut AWS and GCP Bills by 30%");
        assert!(ad.headlines.len() <= 5);
        assert!(facts.iter().any(|f| facts::carries(&ad.long_headline, f)));
        assert!(!ad.descriptions.contains(&ad.long_headline));
        assert_eq!(ad.images.landscape.len() + ad.images.square.len(), 15);
        assert_eq!(ad.images.landscape.len(), 1);
        assert!(asset_group(&brief, &facts, &[&search_ad()], "All".into()).is_none());
        assert!(display_ad(&kube(), &facts, &[&search_ad()]).is_none());
    }

    #[test]
    fn an_asset_group_has_a_short_description_first_and_its_minimums() {
        let brief = with_images(kube(), true);
        let facts = steered_facts(&brief);
        let group = asset_group(&brief, &facts, &[&search_ad()], "All".into()).unwrap();
        assert!(group.descriptions[0].chars().count() <= 60);
        assert!(group.headlines.len() >= 3 && !group.long_headlines.is_empty());
        assert!(group.descriptions.len() >= 2);
        assert_eq!(group.images.logos.len(), 1);
        assert!(group.images.landscape.len() + group.images.square.len() <= 20);
    }
}
