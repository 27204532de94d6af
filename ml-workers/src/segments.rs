//! Audience segmentation: CRM accounts (industry, size, the seniority and function mix of their
//! contacts, engagement) clustered with k-means into segments, each with a LinkedIn-style
//! targeting, a size estimate and a persona. Segments under the platform minimum are merged into
//! their nearest neighbour until every segment can serve.

use crate::kmeans::kmeans;
use crate::MlError;
use adflow_domain::audience::{Facet, Persona, TargetingCriteria};
use std::collections::BTreeMap;
use tch::{Kind, Tensor};

pub const SENIORITIES: [&str; 4] = ["Entry", "Manager", "Director", "VP"];
pub const FUNCTIONS: [&str; 5] = ["Engineering", "Finance", "Marketing", "Sales", "Operations"];

#[derive(Debug, Clone, PartialEq)]
pub struct Account {
    pub industry: String,
    /// ISO 3166 code.
    pub country: String,
    pub employees: u32,
    /// Shares of the account's contacts by seniority, in `SENIORITIES` order (sum ≈ 1).
    pub seniority_mix: [f32; 4],
    /// Shares by function, in `FUNCTIONS` order.
    pub function_mix: [f32; 5],
    /// 0..1: opens, visits, meetings.
    pub engagement: f32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    pub name: String,
    pub criteria: TargetingCriteria,
    pub estimated_size: u64,
    pub persona: Persona,
    pub accounts: Vec<usize>,
}

pub trait Segmenter: Send + Sync {
    fn segment(
        &self,
        accounts: &[Account],
        k: usize,
        platform_min: u64,
        seed: u64,
    ) -> Result<Vec<Segment>, MlError>;
}

pub struct KMeansSegmenter;

fn size_band(employees: u32) -> &'static str {
    match employees {
        0..=50 => "11-50",
        51..=200 => "51-200",
        201..=1_000 => "201-1000",
        1_001..=5_000 => "1001-5000",
        _ => "5001+",
    }
}

fn industries(accounts: &[Account]) -> Vec<String> {
    let mut names: Vec<String> = accounts.iter().map(|a| a.industry.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// Standardised feature rows: industry one-hot, log size, seniority mix, function mix, engagement.
pub fn feature_matrix(accounts: &[Account]) -> Tensor {
    let names = industries(accounts);
    let width = names.len() + 1 + 4 + 5 + 1;
    let mut rows = Vec::with_capacity(accounts.len() * width);
    for a in accounts {
        rows.extend(names.iter().map(|n| (n == &a.industry) as u8 as f32));
        rows.push((a.employees.max(1) as f32).log10());
        rows.extend(a.seniority_mix);
        rows.extend(a.function_mix);
        rows.push(a.engagement);
    }
    let x = Tensor::from_slice(&rows).view([accounts.len() as i64, width as i64]);
    let mean = x.mean_dim([0i64].as_slice(), true, Kind::Float);
    let std = x.std_dim([0i64].as_slice(), false, true).clamp_min(1e-3);
    (x - mean) / std
}

fn dominant<const N: usize>(
    mixes: impl Iterator<Item = [f32; N]>,
    labels: [&str; N],
) -> Vec<String> {
    let mut total = [0f32; N];
    let mut count = 0f32;
    for mix in mixes {
        for (t, m) in total.iter_mut().zip(mix) {
            *t += m;
        }
        count += 1.0;
    }
    let mut ranked: Vec<(usize, f32)> = total
        .iter()
        .map(|t| t / count.max(1.0))
        .enumerate()
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
    // The leading values that together hold at least 60 % of contacts, at most two.
    let mut kept = Vec::new();
    let mut share = 0.0;
    for (i, s) in ranked.into_iter().take(2) {
        if share >= 0.6 {
            break;
        }
        kept.push(labels[i].to_owned());
        share += s;
    }
    kept
}

fn most_common<'a>(values: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    let total: usize = counts.values().sum();
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked
        .into_iter()
        .filter(|(_, c)| *c * 4 >= total)
        .take(3)
        .map(|(v, _)| v.to_owned())
        .collect()
}

const PAINS: [(&str, &str, &str); 5] = [
    (
        "Engineering",
        "shipping faster without more headcount",
        "developer time saved",
    ),
    (
        "Finance",
        "forecasts that miss and a slow month-end close",
        "hours back at month end",
    ),
    (
        "Marketing",
        "proving pipeline from spend",
        "pipeline per euro spent",
    ),
    (
        "Sales",
        "deals slipping out of the forecast",
        "more deals closed per rep",
    ),
    (
        "Operations",
        "manual processes that do not scale",
        "processes that run themselves",
    ),
];

fn describe(members: &[&Account], estimated_size: u64) -> (String, TargetingCriteria, Persona) {
    let seniorities = dominant(members.iter().map(|a| a.seniority_mix), SENIORITIES);
    let functions = dominant(members.iter().map(|a| a.function_mix), FUNCTIONS);
    let industries = most_common(members.iter().map(|a| a.industry.as_str()));
    let sizes = most_common(members.iter().map(|a| size_band(a.employees)));
    let countries = most_common(members.iter().map(|a| a.country.as_str()));
    let engaged = members.iter().map(|a| a.engagement).sum::<f32>() / members.len().max(1) as f32;
    let function = functions
        .first()
        .cloned()
        .unwrap_or_else(|| "Operations".into());
    let seniority = seniorities
        .first()
        .cloned()
        .unwrap_or_else(|| "Manager".into());
    let industry = industries
        .first()
        .cloned()
        .unwrap_or_else(|| "Software".into());
    let size = sizes.first().cloned().unwrap_or_default();
    let name = format!(
        "{}, {industry} ({size})",
        audience_label(&function, &seniority)
    );
    let mut include = BTreeMap::new();
    let locations = adflow_domain::campaign::brief::MARKETS
        .iter()
        .filter(|(code, _, _)| countries.iter().any(|c| c == code))
        .map(|(_, _, urn)| (*urn).to_owned())
        .collect::<Vec<_>>();
    include.insert(
        Facet::Locations,
        if locations.is_empty() {
            vec!["urn:li:geo:103644278".to_owned()]
        } else {
            locations
        },
    );
    include.insert(Facet::Industries, industries.clone());
    include.insert(Facet::Seniorities, seniorities.clone());
    include.insert(Facet::JobFunctions, functions.clone());
    include.insert(Facet::CompanySizes, sizes);
    let (pain, angle) = PAINS
        .iter()
        .find(|(f, _, _)| *f == function)
        .map(|(_, p, a)| (*p, *a))
        .unwrap_or(("manual work", "time saved"));
    let temperature = if engaged >= 0.5 {
        "already engaged"
    } else {
        "not yet engaged"
    };
    let persona = Persona {
        name: format!("{} at a {industry} company", title(&function, &seniority)),
        titles: vec![title(&function, &seniority), format!("Head of {function}")],
        seniority: Some(seniority),
        industry: Some(industry),
        pains: vec![pain.to_owned()],
        messaging_angles: vec![
            angle.to_owned(),
            format!("{temperature}: about {estimated_size} reachable members"),
        ],
    };
    (
        name,
        TargetingCriteria {
            include,
            exclude: BTreeMap::new(),
        },
        persona,
    )
}

fn title(function: &str, seniority: &str) -> String {
    match seniority {
        "Entry" => format!("{function} Specialist"),
        "Manager" => format!("{function} Manager"),
        "Director" => format!("Director of {function}"),
        _ => format!("VP {function}"),
    }
}

fn audience_label(function: &str, seniority: &str) -> String {
    match seniority {
        "Entry" => format!("{function} specialists"),
        "Manager" => format!("{function} managers"),
        "Director" => format!("{function} directors"),
        _ => format!("{function} VPs"),
    }
}

/// Members the platform can reach: decision makers of the segment's functions and seniorities.
fn estimate(members: &[&Account]) -> u64 {
    members
        .iter()
        .map(|a| {
            let senior: f32 = a.seniority_mix[1..].iter().sum();
            let top_function = a.function_mix.iter().copied().fold(0.0, f32::max);
            (a.employees as f32 * senior * top_function).round() as u64
        })
        .sum()
}

impl Segmenter for KMeansSegmenter {
    fn segment(
        &self,
        accounts: &[Account],
        k: usize,
        platform_min: u64,
        seed: u64,
    ) -> Result<Vec<Segment>, MlError> {
        if accounts.is_empty() {
            return Err(MlError::BadRequest("no accounts to segment".into()));
        }
        let x = feature_matrix(accounts);
        let mut k = k.clamp(1, accounts.len());
        loop {
            let clusters = kmeans(&x, k, seed, 100).assignments;
            let mut groups: Vec<Vec<usize>> = vec![Vec::new(); k];
            for (i, c) in clusters.iter().enumerate() {
                groups[*c].push(i);
            }
            groups.retain(|g| !g.is_empty());
            let sizes: Vec<u64> = groups
                .iter()
                .map(|g| estimate(&g.iter().map(|&i| &accounts[i]).collect::<Vec<_>>()))
                .collect();
            // Too small to serve: try fewer, larger segments.
            if sizes.iter().any(|s| *s < platform_min) && k > 1 {
                k -= 1;
                continue;
            }
            if sizes.iter().any(|s| *s < platform_min) {
                return Err(MlError::Model(format!(
                    "the accounts reach about {} members; the platform needs {platform_min}",
                    sizes.iter().sum::<u64>()
                )));
            }
            return Ok(groups
                .into_iter()
                .zip(sizes)
                .map(|(members, estimated_size)| {
                    let refs: Vec<&Account> = members.iter().map(|&i| &accounts[i]).collect();
                    let (name, criteria, persona) = describe(&refs, estimated_size);
                    Segment {
                        name,
                        criteria,
                        estimated_size,
                        persona,
                        accounts: members,
                    }
                })
                .collect());
        }
    }
}

/// industry, country, employees, seniority mix, function mix, engagement
type Archetype = (&'static str, &'static str, u32, [f32; 4], [f32; 5], f32);

/// A CRM export with planted archetypes (for evaluation and tests): `(accounts, archetype)`.
pub fn synthetic_crm(per_archetype: usize, seed: u64) -> (Vec<Account>, Vec<usize>) {
    let archetypes: [Archetype; 4] = [
        (
            "Software",
            "US",
            400,
            [0.2, 0.4, 0.3, 0.1],
            [0.7, 0.05, 0.1, 0.1, 0.05],
            0.7,
        ),
        (
            "Financial Services",
            "GB",
            3_000,
            [0.3, 0.3, 0.25, 0.15],
            [0.05, 0.7, 0.05, 0.1, 0.1],
            0.3,
        ),
        (
            "Manufacturing",
            "DE",
            1_500,
            [0.5, 0.3, 0.15, 0.05],
            [0.1, 0.1, 0.05, 0.15, 0.6],
            0.2,
        ),
        (
            "Marketing Services",
            "NL",
            80,
            [0.3, 0.3, 0.2, 0.2],
            [0.05, 0.05, 0.6, 0.25, 0.05],
            0.8,
        ),
    ];
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut jitter = |v: f32, spread: f32| (v * (1.0 + (rng.f32() - 0.5) * spread)).max(0.001);
    let mut accounts = Vec::new();
    let mut labels = Vec::new();
    for (label, (industry, country, employees, seniority, function, engagement)) in
        archetypes.iter().enumerate()
    {
        for _ in 0..per_archetype {
            let normalise = |v: Vec<f32>| {
                let total: f32 = v.iter().sum();
                v.into_iter().map(|x| x / total).collect::<Vec<_>>()
            };
            let s = normalise(seniority.iter().map(|v| jitter(*v, 0.6)).collect());
            let f = normalise(function.iter().map(|v| jitter(*v, 0.6)).collect());
            accounts.push(Account {
                industry: (*industry).to_owned(),
                country: (*country).to_owned(),
                employees: jitter(*employees as f32, 1.0) as u32 + 10,
                seniority_mix: [s[0], s[1], s[2], s[3]],
                function_mix: [f[0], f[1], f[2], f[3], f[4]],
                engagement: jitter(*engagement, 0.5).min(1.0),
            });
            labels.push(label);
        }
    }
    (accounts, labels)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kmeans::purity_and_nmi;

    #[test]
    fn recovers_planted_archetypes_and_every_segment_can_serve() {
        let (accounts, truth) = synthetic_crm(40, 11);
        let segments = KMeansSegmenter
            .segment(&accounts, 4, 300, 3)
            .expect("segments");
        let mut predicted = vec![0; accounts.len()];
        for (s, segment) in segments.iter().enumerate() {
            assert!(
                segment.estimated_size >= 300,
                "{}: {}",
                segment.name,
                segment.estimated_size
            );
            assert!(segment.criteria.include.contains_key(&Facet::Locations));
            for &i in &segment.accounts {
                predicted[i] = s;
            }
        }
        let (purity, nmi) = purity_and_nmi(&predicted, &truth);
        assert!(purity > 0.9 && nmi > 0.8, "purity {purity}, NMI {nmi}");
    }

    #[test]
    fn small_lists_merge_until_they_serve_or_fail_clearly() {
        let (accounts, _) = synthetic_crm(1, 5);
        let result = KMeansSegmenter.segment(&accounts[..2], 2, 1_000_000, 1);
        assert!(matches!(result, Err(MlError::Model(_))));
    }
}
