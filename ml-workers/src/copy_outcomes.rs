//! Creative experiments feeding the copy scorer: each decided experiment's winner (label 1) and
//! losers (label 0), in the scorer's training format, so `adflow-ml train-copy-scorer --extra`
//! learns from what the tenant's own audiences clicked. A loser is not bad copy in general — it
//! lost to a sibling for this audience — which is why these rows go beside the marketer-labelled
//! set rather than replace it.

use crate::prediction::live::creative_text;
use crate::MlError;
use adflow_domain::campaign::CampaignState;
use adflow_domain::optimisation::experiments::{
    ad_experiments, AdDay, AdExperiment, ExperimentDesign, Verdict, EXPERIMENT_DAYS,
};
use adflow_domain::platform_rules::linkedin::SPONSORED_HEADLINE;
use adflow_domain::structure::linkedin::LinkedInStructure;
use adflow_projections::analytics::queries;
use adflow_projections::analytics::Analytics;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Training rows (`label, max_chars, product, offer, text`) of one campaign's decided experiments;
/// `product` is the campaign's name (the offer's words are not kept on the campaign).
pub fn rows(
    product: &str,
    linkedin: &LinkedInStructure,
    experiments: &[AdExperiment],
) -> Vec<String> {
    let clean = |text: &str| text.replace(['\t', '\n', '\r'], " ");
    let mut out = Vec::new();
    for e in experiments {
        let Verdict::Winner { arm: winner, .. } = e.verdict else {
            continue;
        };
        let Some(campaign) = linkedin.campaigns.iter().find(|c| c.name == e.ad_group) else {
            continue;
        };
        for (i, arm) in e.arms.iter().enumerate() {
            let Some(creative) =
                adflow_platforms::linkedin::creative_index(&campaign.name, &arm.name)
                    .and_then(|j| campaign.creatives.get(j))
            else {
                continue;
            };
            out.push(format!(
                "{}\t{}\t{}\t\t{}",
                u8::from(i == winner),
                SPONSORED_HEADLINE.max_chars,
                clean(product),
                clean(&creative_text(creative))
            ));
        }
    }
    out
}

/// The tenant's decided experiments over the last eight weeks, as training rows.
pub async fn export<F, Fut>(
    analytics: &Analytics,
    tenant: Uuid,
    load: F,
) -> Result<Vec<String>, MlError>
where
    F: Fn(Uuid) -> Fut,
    Fut: std::future::Future<Output = Result<Option<CampaignState>, MlError>>,
{
    let daily = queries::unit_rows(analytics, tenant, None, EXPERIMENT_DAYS * 24, false)
        .await
        .map_err(|e| MlError::Backend(e.to_string()))?;
    let mut by_campaign: BTreeMap<Uuid, Vec<AdDay>> = BTreeMap::new();
    for r in daily
        .into_iter()
        .filter(|r| r.platform == "LINKEDIN" && !r.ad.is_empty())
    {
        by_campaign
            .entry(r.campaign_id)
            .or_default()
            .push(r.ad_day());
    }
    let mut out = Vec::new();
    for (campaign, days) in by_campaign {
        let Some(state) = load(campaign).await? else {
            continue;
        };
        let Some(linkedin) = state.structure.as_ref().and_then(|s| s.linkedin.as_ref()) else {
            continue;
        };
        let experiments = ad_experiments(&days, &ExperimentDesign::default());
        out.extend(rows(&state.name, linkedin, &experiments));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use adflow_domain::optimisation::experiments::Arm;

    #[test]
    fn a_decided_experiment_becomes_rows_the_scorer_reads() {
        let structure = adflow_platforms::samples::structure("Rows", 2, 3);
        let linkedin = structure.linkedin.unwrap();
        let campaign = linkedin.campaigns[0].name.clone();
        let arm = |j: usize| Arm {
            name: format!("{campaign} #{}", j + 1),
            trials: 10_000.0,
            successes: 100.0,
        };
        let decided = AdExperiment {
            ad_group: campaign.clone(),
            arms: vec![arm(0), arm(1)],
            winner_probabilities: vec![0.02, 0.98],
            verdict: Verdict::Winner {
                arm: 1,
                probability: 0.98,
            },
            days: 20,
        };
        let running = AdExperiment {
            verdict: Verdict::Running,
            ..decided.clone()
        };
        let rows = rows("Payroll\tsoftware", &linkedin, &[decided, running]);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(
            rows[1].starts_with("1\t200\tPayroll software\t\t"),
            "{}",
            rows[1]
        );
        assert!(rows[0].starts_with("0\t"));
        let examples = crate::copy::scorer::parse_dataset(&rows.join("\n")).unwrap();
        assert_eq!(examples.len(), 2);
    }
}
