//! Negative keywords from search terms, judged on the market simulator: simulated Google campaigns
//! run two weeks with no negatives; the domain's rule reads the search terms report of those
//! weeks and proposes negatives; the next two weeks, which it never saw, say what each set of
//! negatives would have blocked — spend on non-buyers' searches (job seekers, students, people
//! after something free: a searcher converting at most 15 % as well as the keyword's own) and
//! spend and conversions of buyers' searches. Next to it: the rule many accounts run by hand (a
//! search that spent a conversion's worth without one) and the oracle that knows which searches
//! are non-buyers'.

use adflow_domain::campaign::ProposedAction;
use adflow_domain::optimisation::search_terms::{
    blocks, negative_keywords, SearchTermFigures, Targeting,
};
use adflow_domain::structure::google::{Keyword, MatchType};
use adflow_platforms::simulator::rng::{key_hash, Draws};
use adflow_platforms::simulator::search_terms::{buyer_rate, Searches};
use adflow_platforms::simulator::{Market, UnitKind};
use chrono::{Duration, TimeZone, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

const WINDOW_DAYS: i64 = 14;
/// A searcher converting at most this share of the keyword's own rate is not a buyer.
const NON_BUYER_RATE: f64 = 0.15;
const TOPICS: [&str; 10] = [
    "payroll",
    "crm",
    "cloud cost",
    "expense",
    "contract",
    "helpdesk",
    "invoice",
    "scheduling",
    "inventory",
    "recruiting",
];
const FORMS: [&str; 12] = [
    "{} software",
    "{} platform",
    "{} tool",
    "{} app",
    "{} system",
    "{} solution",
    "online {}",
    "{} service",
    "{} provider",
    "{} vendor",
    "cloud {}",
    "{} automation",
];

/// What one set of negatives would have blocked in the weeks after the report it came from.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleScore {
    pub negatives: usize,
    /// Negatives most of whose blocked clicks are non-buyers'.
    pub right: usize,
    /// Share of the later weeks' spend on non-buyers' searches that the negatives block.
    pub non_buyer_spend_blocked: f64,
    /// Buyers' spend and conversions the negatives block (what they cost).
    pub buyer_spend_blocked_micros: i64,
    pub buyer_conversions_blocked: i64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchTermsEvaluation {
    pub seed: u64,
    pub campaigns: usize,
    /// Share of the later weeks' spend that went to non-buyers' searches.
    pub non_buyer_spend_share: f64,
    pub later_spend_micros: i64,
    pub ours: RuleScore,
    pub spent_a_conversion: RuleScore,
    pub oracle: RuleScore,
}

/// A search terms report summed over a window: (keyword, search) → figures.
type Report = BTreeMap<(String, String), SearchTermFigures>;

struct Simulated {
    keywords: Vec<Keyword>,
    seen: Report,
    later: Report,
}

fn simulate(seed: u64, campaign: usize) -> Simulated {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let mut market = Market::new(seed);
    let mut draws = Draws::new(key_hash(seed, &format!("search-terms:{campaign}")), 0, 0);
    let key = format!("c{campaign}");
    let budget = ((200.0 + 600.0 * draws.uniform()) * 1e6) as i64;
    market.add_campaign(&key, start, budget, true);
    let topic = TOPICS[campaign % TOPICS.len()];
    let mut texts: BTreeMap<String, (String, Searches)> = BTreeMap::new();
    let mut keywords = Vec::new();
    for (k, form) in FORMS.iter().enumerate() {
        let text = form.replace("{}", topic);
        let match_type = (k % 3) as u8;
        let unit = format!("{key}/g{}/k{k}", k / 3);
        let fit = 0.5 + 1.5 * draws.uniform();
        market.add_unit(
            &unit,
            &key,
            UnitKind::Keyword { match_type },
            "Ad",
            fit,
            start,
        );
        keywords.push(Keyword {
            text: text.clone(),
            match_type: [MatchType::Exact, MatchType::Phrase, MatchType::Broad]
                [usize::from(match_type)],
        });
        let searches = Searches::new(&text, match_type, &[]);
        texts.insert(unit, (text, searches));
    }
    let h0 = start.timestamp() / 3600;
    let rows = market.campaign_hours(
        &key,
        h0,
        h0 + 2 * WINDOW_DAYS * 24,
        start + Duration::days(2 * WINDOW_DAYS + 4),
    );
    let (mut seen, mut later) = (Report::new(), Report::new());
    for row in rows {
        let Some((text, searches)) = texts.get(&row.unit) else {
            continue;
        };
        let window = if row.hour < h0 + WINDOW_DAYS * 24 {
            &mut seen
        } else {
            &mut later
        };
        for term in searches.split(&row.figures, key_hash(seed, &row.unit), row.hour) {
            let entry = window
                .entry((text.clone(), term.text.clone()))
                .or_insert_with(|| SearchTermFigures {
                    search_term: term.text.clone(),
                    keyword: text.clone(),
                    ..SearchTermFigures::default()
                });
            entry.clicks += term.figures.clicks as i64;
            entry.conversions += term.figures.conversions as i64;
            entry.cost_micros += term.figures.cost_micros as i64;
        }
    }
    Simulated {
        keywords,
        seen,
        later,
    }
}

fn is_non_buyer(s: &SearchTermFigures) -> bool {
    buyer_rate(&s.keyword, &s.search_term).is_some_and(|r| r <= NON_BUYER_RATE)
}

/// The rule many accounts run by hand: a search that spent the campaign's cost per conversion
/// without converting becomes a negative of itself (phrase, as ours are).
fn spent_a_conversion(seen: &Report, keywords: &[Keyword]) -> Vec<Keyword> {
    let conversions: i64 = seen.values().map(|s| s.conversions).sum();
    let cost: i64 = seen.values().map(|s| s.cost_micros).sum();
    if conversions == 0 {
        return Vec::new();
    }
    let cost_per_conversion = cost / conversions;
    seen.values()
        .filter(|s| s.conversions == 0 && s.cost_micros >= cost_per_conversion)
        .filter(|s| !keywords.iter().any(|k| k.text == s.search_term))
        .map(|s| Keyword {
            text: s.search_term.clone(),
            match_type: MatchType::Phrase,
        })
        .collect()
}

/// A negative for every non-buyer search the report showed, knowing which they are.
fn oracle(seen: &Report) -> Vec<Keyword> {
    seen.values()
        .filter(|s| is_non_buyer(s))
        .map(|s| Keyword {
            text: s.search_term.clone(),
            match_type: MatchType::Phrase,
        })
        .collect()
}

fn ours(seen: &Report, keywords: &[Keyword]) -> Vec<Keyword> {
    let targeting = Targeting {
        keywords: keywords.to_vec(),
        negatives: Vec::new(),
    };
    let rows: Vec<SearchTermFigures> = seen.values().cloned().collect();
    negative_keywords(&targeting, &rows, WINDOW_DAYS as u32, None)
        .into_iter()
        .filter_map(|r| match r.action {
            ProposedAction::AddNegativeKeyword { keyword } => Some(keyword),
            _ => None,
        })
        .collect()
}

#[derive(Default)]
struct Tally {
    negatives: usize,
    right: usize,
    non_buyer_blocked: i64,
    buyer_spend: i64,
    buyer_conversions: i64,
}

fn score(tally: &mut Tally, negatives: &[Keyword], later: &Report) {
    tally.negatives += negatives.len();
    for negative in negatives {
        let (mut non_buyer, mut all) = (0, 0);
        for s in later.values().filter(|s| blocks(negative, &s.search_term)) {
            all += s.clicks;
            if is_non_buyer(s) {
                non_buyer += s.clicks;
            }
        }
        if all == 0 || non_buyer * 2 >= all {
            tally.right += 1;
        }
    }
    for s in later.values() {
        if !negatives.iter().any(|n| blocks(n, &s.search_term)) {
            continue;
        }
        if is_non_buyer(s) {
            tally.non_buyer_blocked += s.cost_micros;
        } else {
            tally.buyer_spend += s.cost_micros;
            tally.buyer_conversions += s.conversions;
        }
    }
}

pub fn evaluate(seed: u64, campaigns: usize) -> SearchTermsEvaluation {
    let mut tallies: [Tally; 3] = Default::default();
    let (mut later_spend, mut non_buyer_spend) = (0i64, 0i64);
    for campaign in 0..campaigns {
        let sim = simulate(seed, campaign);
        for s in sim.later.values() {
            later_spend += s.cost_micros;
            if is_non_buyer(s) {
                non_buyer_spend += s.cost_micros;
            }
        }
        let sets = [
            ours(&sim.seen, &sim.keywords),
            spent_a_conversion(&sim.seen, &sim.keywords),
            oracle(&sim.seen),
        ];
        for (tally, negatives) in tallies.iter_mut().zip(&sets) {
            score(tally, negatives, &sim.later);
        }
    }
    let to_score = |t: &Tally| RuleScore {
        negatives: t.negatives,
        right: t.right,
        non_buyer_spend_blocked: t.non_buyer_blocked as f64 / non_buyer_spend.max(1) as f64,
        buyer_spend_blocked_micros: t.buyer_spend,
        buyer_conversions_blocked: t.buyer_conversions,
    };
    SearchTermsEvaluation {
        seed,
        campaigns,
        non_buyer_spend_share: non_buyer_spend as f64 / later_spend.max(1) as f64,
        later_spend_micros: later_spend,
        ours: to_score(&tallies[0]),
        spent_a_conversion: to_score(&tallies[1]),
        oracle: to_score(&tallies[2]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_negatives_block_mostly_non_buyers_and_fewer_buyers_than_the_hand_rule() {
        let r = evaluate(1, 8);
        assert!(r.non_buyer_spend_share > 0.02, "{r:?}");
        assert!(r.ours.negatives > 0, "{r:?}");
        assert!(r.ours.right * 10 >= r.ours.negatives * 8, "{r:?}");
        assert!(
            r.ours.buyer_conversions_blocked <= r.spent_a_conversion.buyer_conversions_blocked,
            "{r:?}"
        );
        assert_eq!(r.oracle.buyer_conversions_blocked, 0, "{r:?}");
    }
}
