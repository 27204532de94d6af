//! Keywords: candidates from the offer, landing-page text and seed terms, expanded with
//! commercial or informational modifiers, ranked by semantic relevance to the offer (MiniLM),
//! de-duplicated lexically and semantically, clustered into themed ad groups (k-means on the
//! embeddings), with match types and proposed negatives.

use crate::brief::Brief;
use crate::encoder::TextEncoder;
use crate::kmeans::kmeans;
use crate::MlError;
use adflow_domain::campaign::Objective;
use adflow_domain::platform_rules::google as limits;
use adflow_domain::structure::google::MatchType;
use std::collections::HashSet;
use std::sync::Arc;
use tch::{Kind, Tensor};

#[derive(Debug, Clone, PartialEq)]
pub struct RankedKeyword {
    pub text: String,
    pub relevance: f32,
    pub match_types: Vec<MatchType>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeywordGroup {
    /// Named after its most relevant keyword.
    pub theme: String,
    pub keywords: Vec<RankedKeyword>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KeywordPlan {
    pub groups: Vec<KeywordGroup>,
    pub negatives: Vec<String>,
}

pub trait KeywordGenerator: Send + Sync {
    /// Plans for several briefs with one encoder call for all of their candidates.
    fn plan_batch(&self, briefs: &[Brief]) -> Vec<Result<KeywordPlan, MlError>>;

    fn plan(&self, brief: &Brief) -> Result<KeywordPlan, MlError> {
        self.plan_batch(std::slice::from_ref(brief))
            .pop()
            .unwrap_or_else(|| Err(MlError::Model("no plan".into())))
    }
}

/// A brief's texts to embed: the query (offer, landing page, seeds) then the candidates.
struct Prepared {
    query: Vec<String>,
    pool: Vec<String>,
    landing: String,
}

/// Words that never start or end a keyword: function words, and the verbs and adverbs that
/// marketing sentences are made of ("find idle resources" gives "idle resources").
const STOPWORDS: [&str; 90] = [
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "in", "into", "is",
    "it", "its", "of", "on", "or", "our", "that", "the", "their", "this", "to", "with", "your",
    "you", "we", "will", "can", "more", "than", "all", "any", "up", "out", "who", "what", "per",
    "via", "do", "get", "has", "have", "not", "no", "so", "where", "when", "which", "while",
    "every", "each", "goes", "go", "shows", "show", "makes", "make", "find", "finds", "cut",
    "cuts", "helps", "help", "gets", "across", "about", "after", "before", "over", "under",
    "without", "within", "between", "also", "just", "only", "most", "less", "fewer", "faster",
    "better", "selling", "sell", "weeks", "days", "months", "money",
];
const COMMERCIAL: [&str; 7] = [
    "software", "platform", "tool", "pricing", "demo", "vendor", "solution",
];
pub(crate) const INFORMATIONAL: [&str; 4] = ["guide", "best practices", "examples", "benefits"];
/// Searches a B2B advertiser rarely wants to pay for: job seekers, students, people after
/// something free or open-source (unless the brief offers it), existing users signing in.
const NEGATIVE_CANDIDATES: [&str; 22] = [
    "jobs",
    "careers",
    "salary",
    "internship",
    "hiring",
    "resume",
    "open source",
    "github",
    "login",
    "sign in",
    "free",
    "cheap",
    "course",
    "tutorial",
    "pdf",
    "download",
    "definition",
    "wikipedia",
    "crack",
    "torrent",
    "diy",
    "students",
];

/// How far below the most relevant candidate a keyword may score, once there are a few.
const RELEVANCE_WINDOW: f32 = 0.3;
const MIN_KEYWORDS: usize = 8;

/// Candidates embedded per brief, at most: the encoder's work per structure is bounded.
const MAX_CANDIDATES: usize = 120;

pub struct SemanticKeywords {
    encoder: Arc<dyn TextEncoder>,
    pub max_keywords: usize,
    pub max_groups: usize,
}

impl SemanticKeywords {
    pub fn new(encoder: Arc<dyn TextEncoder>) -> Self {
        Self {
            encoder,
            max_keywords: 36,
            max_groups: 5,
        }
    }

    /// Clusters given keywords into `k` groups: the evaluation's entry point.
    pub fn cluster(&self, keywords: &[&str], k: usize, seed: u64) -> Result<Vec<usize>, MlError> {
        let vectors = self.encoder.embed_unit(keywords)?;
        Ok(kmeans(&vectors, k, seed, 50).assignments)
    }
}

fn words(text: &str) -> Vec<Vec<String>> {
    // Phrases break at punctuation; inside one, words are lower-cased alphanumerics.
    text.split(|c: char| {
        matches!(
            c,
            '.' | ',' | ';' | ':' | '!' | '?' | '(' | ')' | '\n' | '"' | '|' | '/'
        )
    })
    .map(|phrase| {
        phrase
            .split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '\'' || c == '&'))
            .map(|w| {
                w.trim_matches(|c: char| c == '-' || c == '\'')
                    .to_lowercase()
            })
            .filter(|w| !w.is_empty())
            .collect()
    })
    .filter(|p: &Vec<String>| !p.is_empty())
    .collect()
}

fn is_stop(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

/// The n-grams (1–3 words) that neither start nor end with a stop word.
pub fn candidates(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for phrase in words(text) {
        for n in 1..=3 {
            for window in phrase.windows(n) {
                let (first, last) = (&window[0], &window[n - 1]);
                // Inside a phrase only "and" may join ("soc 2 and iso 27001").
                let inner_ok = window
                    .iter()
                    .skip(1)
                    .take(n.saturating_sub(2))
                    .all(|w| !is_stop(w) || matches!(w.as_str(), "and" | "&"));
                // A keyword starts with a word, not a number ("2 and iso", "27001 compliance").
                let starts_with_word = first.chars().any(char::is_alphabetic);
                if is_stop(first)
                    || is_stop(last)
                    || !starts_with_word
                    || !inner_ok
                    || window.iter().all(|w| w.chars().all(|c| c.is_numeric()))
                {
                    continue;
                }
                // A single word is too broad to buy (seed keywords are taken as given).
                if n == 1 {
                    continue;
                }
                found.push(window.join(" "));
            }
        }
    }
    found
}

/// The offer's phrases a search could name: its n-grams without the advertiser's name and the
/// verbs of the offer's sentence — "FleetPilot reduces fuel spend" gives "fuel spend", not
/// "reduces fuel spend"; "GiveGrid helps nonprofits raise 25% more" gives no "nonprofits raise".
pub fn offer_candidates(brief: &Brief) -> Vec<String> {
    let sentence: Vec<String> = words(&brief.offer).into_iter().flatten().collect();
    let name: Vec<String> = words(&brief.business_name).into_iter().flatten().collect();
    let mut excluded: HashSet<String> = name.iter().cloned().collect();
    if let Some(start) = sentence
        .windows(name.len().max(1))
        .position(|w| !name.is_empty() && w == name.as_slice())
    {
        let verb_at = start + name.len();
        if let Some(verb) = sentence.get(verb_at) {
            excluded.insert(verb.clone());
            // "helps nonprofits raise": the verb after the helped one's name is the offer's too.
            if matches!(verb.as_str(), "helps" | "lets" | "enables") {
                if let Some(second) = sentence.get(verb_at + 2) {
                    excluded.insert(second.clone());
                }
            }
        }
    }
    candidates(&brief.offer)
        .into_iter()
        .filter(|c| !c.split(' ').any(|w| excluded.contains(w)))
        .collect()
}

/// A key under which plurals and word order do not count as different keywords.
fn lexical_key(text: &str) -> String {
    let mut stems: Vec<String> = text
        .split_whitespace()
        .map(|w| {
            w.strip_suffix('s')
                .filter(|s| s.len() > 3)
                .unwrap_or(w)
                .to_owned()
        })
        .collect();
    stems.sort();
    stems.join(" ")
}

fn fits(text: &str, forbidden: &[String]) -> bool {
    let lower = text.to_lowercase();
    text.chars().count() <= limits::KEYWORD.max_chars
        && text.split_whitespace().count() <= limits::KEYWORD_MAX_WORDS
        && !forbidden.iter().any(|f| lower.contains(&f.to_lowercase()))
}

fn title_case(text: &str) -> String {
    text.split_whitespace()
        .map(|w| {
            let mut chars = w.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

impl SemanticKeywords {
    fn prepare(&self, brief: &Brief) -> Result<Prepared, MlError> {
        let forbidden = &brief.brand_voice.forbidden_terms;
        let landing: String = brief.landing_page_text.chars().take(2_000).collect();
        // Expand the seeds and the offer's phrases with modifiers that match the objective.
        let modifiers: &[&str] = match brief.objective {
            Objective::LeadGeneration
            | Objective::WebsiteConversions
            | Objective::WebsiteVisits => &COMMERCIAL,
            _ => &INFORMATIONAL,
        };
        // The seeds name the product; without enough of them, the offer's first noun phrases do.
        let offer_phrases = offer_candidates(brief);
        let offer_bases = offer_phrases
            .iter()
            .filter(|c| !c.split(' ').any(is_stop))
            .cloned();
        let bases: Vec<String> = brief
            .seed_keywords
            .iter()
            .map(|s| s.to_lowercase())
            .chain(offer_bases.take(3usize.saturating_sub(brief.seed_keywords.len())))
            .take(8)
            .collect();
        // Seeds and their expansions first: they are never cut below.
        let mut pool: Vec<String> = brief
            .seed_keywords
            .iter()
            .map(|s| s.to_lowercase())
            .collect();
        for base in &bases {
            for modifier in modifiers {
                pool.push(format!("{base} {modifier}"));
            }
        }
        pool.extend(offer_phrases);
        pool.extend(candidates(&landing));
        // A long landing page gives hundreds of n-grams: embed only the likeliest — seeds and
        // their expansions, then phrases by how often they occur, longer before single words.
        let mut counts: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
        for candidate in &pool {
            *counts.entry(candidate.clone()).or_default() += 1;
        }
        // Brand terms belong in a brand campaign, not among the offer's keywords.
        let brand = brief.business_name.to_lowercase();
        let mut seen = HashSet::new();
        pool.retain(|c| fits(c, forbidden) && !c.contains(&brand) && seen.insert(c.clone()));
        let protected = brief.seed_keywords.len() + bases.len() * modifiers.len();
        if pool.len() > MAX_CANDIDATES {
            let (head, tail) = pool.split_at(protected.min(pool.len()));
            let mut tail = tail.to_vec();
            tail.sort_by(|a, b| {
                counts[b]
                    .cmp(&counts[a])
                    .then(b.split(' ').count().cmp(&a.split(' ').count()))
                    .then(a.cmp(b))
            });
            let mut kept = head.to_vec();
            kept.extend(tail);
            kept.truncate(MAX_CANDIDATES);
            pool = kept;
        }
        if pool.is_empty() {
            return Err(MlError::Model(
                "the offer, landing page and seed keywords give no keyword candidates".into(),
            ));
        }

        // Relevance: cosine to the mean of the offer, the landing page and the seeds.
        let mut query: Vec<String> = vec![brief.offer.clone()];
        if !landing.is_empty() {
            query.push(landing.clone());
        }
        query.extend(brief.seed_keywords.iter().cloned());
        Ok(Prepared {
            query,
            pool,
            landing,
        })
    }

    /// Ranks, de-duplicates and clusters one brief's candidates given their unit vectors.
    fn finish(
        &self,
        brief: &Brief,
        prepared: Prepared,
        vectors: &Tensor,
    ) -> Result<KeywordPlan, MlError> {
        let Prepared {
            query,
            pool,
            landing,
        } = prepared;
        let q = vectors.narrow(0, 0, query.len() as i64);
        let centre = crate::encoder::unit_rows(&q.mean_dim([0i64].as_slice(), true, Kind::Float));
        let pool_vectors = vectors.narrow(0, query.len() as i64, pool.len() as i64);
        let relevance: Vec<f32> =
            Vec::<f32>::try_from(pool_vectors.matmul(&centre.transpose(0, 1)).view([-1]))
                .map_err(MlError::Torch)?;

        let mut order: Vec<usize> = (0..pool.len()).collect();
        order.sort_by(|&a, &b| {
            relevance[b]
                .total_cmp(&relevance[a])
                .then(pool[a].cmp(&pool[b]))
        });
        let mut kept: Vec<usize> = Vec::new();
        let mut keys = HashSet::new();
        let similarity: Vec<f32> = Vec::<f32>::try_from(
            pool_vectors
                .matmul(&pool_vectors.transpose(0, 1))
                .view([-1]),
        )
        .map_err(MlError::Torch)?;
        let n = pool.len();
        // Far below the best candidate is off-topic (a phrase of the landing page's small print).
        let floor = order
            .first()
            .map_or(0.0, |&best| relevance[best] - RELEVANCE_WINDOW);
        for i in order {
            if kept.len() == self.max_keywords
                || (kept.len() >= MIN_KEYWORDS && relevance[i] < floor)
            {
                break;
            }
            if !keys.insert(lexical_key(&pool[i])) {
                continue;
            }
            let near_duplicate = kept.iter().any(|&j| similarity[i * n + j] > 0.95);
            if !near_duplicate {
                kept.push(i);
            }
        }

        let index = Tensor::from_slice(&kept.iter().map(|&i| i as i64).collect::<Vec<_>>());
        let kept_vectors = pool_vectors.index_select(0, &index);
        let k = (kept.len() / 7).clamp(1, self.max_groups);
        let clusters = kmeans(&kept_vectors, k, brief.seed, 50).assignments;
        let mut groups: Vec<KeywordGroup> = Vec::new();
        for cluster in 0..k {
            let members: Vec<usize> = kept
                .iter()
                .zip(&clusters)
                .filter(|(_, c)| **c == cluster)
                .map(|(i, _)| *i)
                .collect();
            let Some(&best) = members.first() else {
                continue;
            };
            let keywords = members
                .iter()
                .enumerate()
                .map(|(rank, &i)| RankedKeyword {
                    text: pool[i].clone(),
                    relevance: relevance[i],
                    match_types: match (rank, brief.objective) {
                        (0, Objective::BrandAwareness) => vec![MatchType::Phrase, MatchType::Broad],
                        (0 | 1, _) => vec![MatchType::Exact, MatchType::Phrase],
                        _ => vec![MatchType::Phrase],
                    },
                })
                .collect();
            groups.push(KeywordGroup {
                theme: title_case(&brief.display_case(&pool[best])),
                keywords,
            });
        }
        groups.sort_by(|a, b| b.keywords[0].relevance.total_cmp(&a.keywords[0].relevance));
        let context = format!(
            "{} {} {}",
            brief.offer,
            landing,
            brief.seed_keywords.join(" ")
        )
        .to_lowercase();
        let context_words: HashSet<&str> = context.split(|c: char| !c.is_alphanumeric()).collect();
        let negatives = NEGATIVE_CANDIDATES
            .iter()
            .filter(|n| !n.split(' ').all(|w| context_words.contains(w)))
            .map(|n| (*n).to_owned())
            .collect();
        Ok(KeywordPlan { groups, negatives })
    }
}

impl KeywordGenerator for SemanticKeywords {
    fn plan_batch(&self, briefs: &[Brief]) -> Vec<Result<KeywordPlan, MlError>> {
        let prepared: Vec<Result<Prepared, MlError>> =
            briefs.iter().map(|b| self.prepare(b)).collect();
        let texts: Vec<&str> = prepared
            .iter()
            .flatten()
            .flat_map(|p| p.query.iter().chain(&p.pool).map(String::as_str))
            .collect();
        let vectors = match self.encoder.embed_unit(&texts) {
            Ok(vectors) => vectors,
            Err(error) => {
                let message = error.to_string();
                return briefs
                    .iter()
                    .map(|_| Err(MlError::Model(message.clone())))
                    .collect();
            }
        };
        let mut offset = 0i64;
        briefs
            .iter()
            .zip(prepared)
            .map(|(brief, prepared)| {
                let prepared = prepared?;
                let rows = (prepared.query.len() + prepared.pool.len()) as i64;
                let own = vectors.narrow(0, offset, rows);
                offset += rows;
                self.finish(brief, prepared, &own)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluation::sample_briefs;

    #[test]
    fn the_offers_phrases_leave_out_the_advertiser_and_its_verbs() {
        let mut brief = sample_briefs().remove(0);
        brief.business_name = "GiveGrid".into();
        brief.offer =
            "GiveGrid helps nonprofits raise 25% more with recurring donation campaigns".into();
        let found = offer_candidates(&brief);
        assert!(
            found.contains(&"recurring donation campaigns".to_owned()),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .all(|c| !c.contains("raise") && !c.contains("givegrid") && !c.contains("helps")),
            "{found:?}"
        );
        brief.business_name = "FleetPilot".into();
        brief.offer = "FleetPilot reduces fuel spend by 12% for regional trucking fleets".into();
        let found = offer_candidates(&brief);
        assert!(found.contains(&"fuel spend".to_owned()), "{found:?}");
        assert!(found.iter().all(|c| !c.contains("reduces")), "{found:?}");
    }

    #[test]
    fn candidates_skip_stop_word_edges_and_short_words() {
        let found = candidates("Cut your cloud costs. The FinOps platform for SaaS teams");
        assert!(found.contains(&"cloud costs".to_owned()));
        assert!(found.contains(&"finops platform".to_owned()));
        assert!(!found
            .iter()
            .any(|c| c.starts_with("your ") || c.ends_with(" for")));
        assert!(!found.contains(&"cut".to_owned()));
    }

    #[test]
    fn plurals_and_order_share_a_key() {
        assert_eq!(lexical_key("cloud costs"), lexical_key("cost cloud"));
    }
}
