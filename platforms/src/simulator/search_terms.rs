//! The searches behind a keyword's clicks (what Google's search terms report shows). An exact
//! keyword matches its own text; phrase and broad keywords also catch searches with words around
//! it — some from buyers ("… pricing", "… for enterprise"), some from people who will never buy
//! (job seekers, students, people after something free), broad match more of those than phrase.
//! Searches that contain one of the campaign's negative keywords are not matched; their share goes
//! to the others. A keyword-hour's figures are split among its searches at random: impressions and
//! clicks by each search's share (jittered hour by hour), conversions by share times how well each
//! kind of searcher buys, cost with the clicks — so totals are exactly the keyword's. The
//! keyword's own conversion rate stays the market's (an average over its searchers); negatives
//! lift it by their count (the simulator's delivery), not by which searches they block: an
//! approximation.

use super::delivery::Figures;
use super::rng::Draws;
use adflow_domain::optimisation::search_terms::blocks;
use adflow_domain::structure::google::{Keyword, MatchType};

/// Words around a keyword: before it or after it, how a searcher using them converts against the
/// keyword's own rate, and their share of a phrase and of a broad keyword's searches.
struct Modifier {
    words: &'static str,
    before: bool,
    conversion: f64,
    phrase_share: f64,
    broad_share: f64,
}

const MODIFIERS: [Modifier; 10] = [
    Modifier {
        words: "pricing",
        before: false,
        conversion: 1.3,
        phrase_share: 0.10,
        broad_share: 0.06,
    },
    Modifier {
        words: "best",
        before: true,
        conversion: 1.0,
        phrase_share: 0.08,
        broad_share: 0.06,
    },
    Modifier {
        words: "software",
        before: false,
        conversion: 1.1,
        phrase_share: 0.10,
        broad_share: 0.08,
    },
    Modifier {
        words: "for enterprise",
        before: false,
        conversion: 1.2,
        phrase_share: 0.05,
        broad_share: 0.04,
    },
    Modifier {
        words: "jobs",
        before: false,
        conversion: 0.0,
        phrase_share: 0.04,
        broad_share: 0.08,
    },
    Modifier {
        words: "free",
        before: true,
        conversion: 0.1,
        phrase_share: 0.05,
        broad_share: 0.08,
    },
    Modifier {
        words: "open source",
        before: false,
        conversion: 0.1,
        phrase_share: 0.03,
        broad_share: 0.06,
    },
    Modifier {
        words: "what is",
        before: true,
        conversion: 0.15,
        phrase_share: 0.04,
        broad_share: 0.08,
    },
    Modifier {
        words: "tutorial",
        before: false,
        conversion: 0.05,
        phrase_share: 0.02,
        broad_share: 0.05,
    },
    Modifier {
        words: "salary",
        before: false,
        conversion: 0.0,
        phrase_share: 0.01,
        broad_share: 0.04,
    },
];

/// One search that matched a keyword, and its share of the keyword's figures for an hour.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchTerm {
    pub text: String,
    pub figures: Figures,
}

/// A negative as this market applies it: its words, in any order (broad match), whatever match
/// type it was added with.
fn as_broad(negative: &str) -> Keyword {
    Keyword {
        text: negative.to_owned(),
        match_type: MatchType::Broad,
    }
}

/// The searches one keyword matches while some negatives hold: worked out once, then each hour's
/// figures split among them.
pub struct Searches {
    /// Text, share and conversion weight; the keyword's own text first.
    terms: Vec<(String, f64, f64)>,
}

impl Searches {
    /// The searches `keyword` (`match_type` 0 exact, 1 phrase, 2 broad) matches while `negatives`
    /// hold.
    pub fn new(keyword: &str, match_type: u8, negatives: &[String]) -> Searches {
        Searches {
            terms: candidates(keyword, match_type, negatives),
        }
    }

    /// One keyword-hour's figures split among the searches (`unit_hash` and `hour` seed the
    /// hour's jitter, so the same hour always splits the same way). Searches with no impression
    /// are left out.
    pub fn split(&self, figures: &Figures, unit_hash: u64, hour: i64) -> Vec<SearchTerm> {
        split_among(&self.terms, figures, unit_hash, hour)
    }
}

/// The searches a keyword (`match_type` 0 exact, 1 phrase, 2 broad) matches while `negatives`
/// hold, with their shares and conversion weights; the keyword's own text first.
fn candidates(keyword: &str, match_type: u8, negatives: &[String]) -> Vec<(String, f64, f64)> {
    let keyword = keyword.trim().to_lowercase();
    let negatives: Vec<Keyword> = negatives.iter().map(|n| as_broad(n)).collect();
    let mut out = Vec::new();
    let mut taken = 0.0;
    if match_type > 0 {
        for m in &MODIFIERS {
            let share = if match_type == 1 {
                m.phrase_share
            } else {
                m.broad_share
            };
            let text = if m.before {
                format!("{} {keyword}", m.words)
            } else {
                format!("{keyword} {}", m.words)
            };
            taken += share;
            if !negatives.iter().any(|n| blocks(n, &text)) && !keyword.contains(m.words) {
                out.push((text, share, m.conversion));
            }
        }
    }
    out.insert(0, (keyword, (1.0 - taken).max(0.1), 1.0));
    out
}

/// The ground truth an evaluation scores against (models never read it): how a searcher who
/// typed `search` converts against `keyword`'s own rate — 1 for the keyword itself, the
/// modifier's rate for a search that adds one, `None` for a search this market does not make.
pub fn buyer_rate(keyword: &str, search: &str) -> Option<f64> {
    let keyword = keyword.trim().to_lowercase();
    let search = search.trim().to_lowercase();
    if search == keyword {
        return Some(1.0);
    }
    MODIFIERS
        .iter()
        .find(|m| {
            let text = if m.before {
                format!("{} {keyword}", m.words)
            } else {
                format!("{keyword} {}", m.words)
            };
            text == search
        })
        .map(|m| m.conversion)
}

/// Splits `total` in proportion to `weights` (largest remainder: the parts add up to it).
fn apportion(total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if total == 0 || sum <= 0.0 {
        return vec![0; weights.len()];
    }
    let exact: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut parts: Vec<u64> = exact.iter().map(|e| e.floor() as u64).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|a, b| {
        (exact[*b] - exact[*b].floor()).total_cmp(&(exact[*a] - exact[*a].floor()))
    });
    let short = total - parts.iter().sum::<u64>();
    for i in order.into_iter().take(short as usize) {
        parts[i] += 1;
    }
    parts
}

/// Splits `total` among `weights` at random (each unit falls to a part with its weight's
/// probability): an hour's one conversion goes to any search that could have made it, not
/// always to the largest. Large totals are apportioned (their draws would differ by little).
fn draw_parts(total: u64, weights: &[f64], draws: &mut Draws) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    if total > 2_000 || sum <= 0.0 {
        return apportion(total, weights);
    }
    let mut parts = vec![0; weights.len()];
    for _ in 0..total {
        let mut left = draws.uniform() * sum;
        let mut chosen = weights.len() - 1;
        for (i, w) in weights.iter().enumerate() {
            if left < *w {
                chosen = i;
                break;
            }
            left -= w;
        }
        parts[chosen] += 1;
    }
    parts
}

/// One keyword-hour's figures split among `terms` (see [`Searches::split`]).
fn split_among(
    terms: &[(String, f64, f64)],
    figures: &Figures,
    unit_hash: u64,
    hour: i64,
) -> Vec<SearchTerm> {
    let mut draws = Draws::new(unit_hash, hour, 7);
    let shares: Vec<f64> = terms
        .iter()
        .map(|(_, share, _)| share * draws.lognormal(0.3))
        .collect();
    // Every click had an impression: clicks first, the rest of the impressions after them.
    let clicks = draw_parts(figures.clicks, &shares, &mut draws);
    let unclicked = draw_parts(
        figures.impressions.saturating_sub(figures.clicks),
        &shares,
        &mut draws,
    );
    let impressions: Vec<u64> = clicks.iter().zip(&unclicked).map(|(c, u)| c + u).collect();
    // Conversions arrive hours after their clicks (adstock), so an hour's conversions come from
    // each kind of searcher by its share of clicks over time and how well it buys, not from
    // whoever clicked in that hour.
    let buying: Vec<f64> = shares
        .iter()
        .zip(terms)
        .map(|(share, (_, _, conversion))| share * conversion)
        .collect();
    let conversions = draw_parts(figures.conversions, &buying, &mut draws);
    let cost = apportion(
        figures.cost_micros,
        &clicks.iter().map(|c| *c as f64).collect::<Vec<_>>(),
    );
    let revenue = apportion(
        figures.revenue_micros,
        &conversions.iter().map(|c| *c as f64).collect::<Vec<_>>(),
    );
    terms
        .iter()
        .enumerate()
        .filter(|(i, _)| impressions[*i] > 0 || conversions[*i] > 0)
        .map(|(i, (text, _, _))| SearchTerm {
            text: text.clone(),
            figures: Figures {
                impressions: impressions[i],
                clicks: clicks[i],
                conversions: conversions[i],
                cost_micros: cost[i],
                revenue_micros: revenue[i],
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour() -> Figures {
        Figures {
            impressions: 1_000,
            clicks: 60,
            conversions: 5,
            cost_micros: 150_000_000,
            revenue_micros: 900_000_000,
        }
    }

    #[test]
    fn the_searches_add_up_to_the_keyword_and_an_exact_keyword_matches_only_itself() {
        for match_type in 0..3 {
            let terms = Searches::new("cloud cost tool", match_type, &[]).split(&hour(), 11, 5);
            let mut total = Figures::default();
            for t in &terms {
                total.add(&t.figures);
            }
            assert_eq!(total.clicks, 60);
            assert_eq!(total.conversions, 5);
            assert_eq!(total.cost_micros, 150_000_000);
            assert_eq!(total.revenue_micros, 900_000_000);
            assert_eq!(total.impressions, 1_000);
            if match_type == 0 {
                assert_eq!(terms.len(), 1);
                assert_eq!(terms[0].text, "cloud cost tool");
            } else {
                assert!(terms.iter().any(|t| t.text == "cloud cost tool jobs"));
            }
        }
        assert_eq!(
            Searches::new("cloud cost tool", 2, &[]).split(&hour(), 11, 5),
            Searches::new("cloud cost tool", 2, &[]).split(&hour(), 11, 5)
        );
    }

    #[test]
    fn a_negative_keyword_removes_the_searches_that_contain_it() {
        let negatives = vec!["jobs".to_owned(), "open source".to_owned()];
        let terms = Searches::new("cloud cost tool", 2, &negatives).split(&hour(), 11, 5);
        assert!(terms.iter().all(|t| !t.text.contains("jobs")));
        assert!(terms.iter().all(|t| !t.text.contains("open source")));
        assert!(terms.iter().any(|t| t.text == "free cloud cost tool"));
        assert!(blocks(&as_broad("free"), "Free Cloud Tool"));
        assert!(!blocks(&as_broad("free tool"), "cloud tool"));
    }

    #[test]
    fn job_seekers_click_but_never_convert() {
        let mut clicks = 0;
        for hour_index in 0..200 {
            for t in Searches::new("cloud cost tool", 2, &[]).split(&hour(), 3, hour_index) {
                if t.text.ends_with(" jobs") || t.text.ends_with(" salary") {
                    assert_eq!(t.figures.conversions, 0, "{t:?}");
                    clicks += t.figures.clicks;
                }
            }
        }
        assert!(clicks > 500, "{clicks}");
    }
}
