//! Creative experiments on a campaign, computed when asked from its ads' daily figures in
//! ClickHouse: every ad group serving two ads or more (LinkedIn creatives of one campaign; Google
//! reports keywords, not ads, so its ad groups do not show here) is an A/B/n test on click-through,
//! judged by the domain's always-valid sequential design, with each ad's probability of being best.

use crate::analytics::analytics;
use crate::errors::analytics as unavailable;
use adflow_domain::optimisation::experiments::{
    ad_experiments, AdDay, ExperimentDesign, Verdict, EXPERIMENT_DAYS,
};
use adflow_projections::analytics::queries;
use async_graphql::{Context, Enum, SimpleObject};
use uuid::Uuid;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExperimentStatus {
    /// Not enough evidence yet.
    Running,
    /// One ad beats every other at the design's error rate: the others are the ones to pause.
    Winner,
    /// The looks ran out with no ad shown better.
    NoWinner,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct ExperimentArm {
    pub ad: String,
    pub impressions: f64,
    pub clicks: f64,
    pub click_through_rate: f64,
    /// The probability that this ad has the highest click-through (Beta posteriors).
    pub winner_probability: f64,
}

#[derive(Debug, Clone, SimpleObject)]
pub struct Experiment {
    /// GOOGLE or LINKEDIN.
    pub platform: String,
    pub ad_group: String,
    /// What the ads are compared on.
    pub metric: String,
    pub status: ExperimentStatus,
    /// The winning ad, once there is one.
    pub winner: Option<String>,
    /// The probability of the current leader (the winner, once there is one) being best.
    pub leader_probability: f64,
    /// Days looked at so far (or until the decision).
    pub days: i32,
    /// The false-winner rate the design allows, however often it is looked at.
    pub alpha: f64,
    pub arms: Vec<ExperimentArm>,
}

/// The campaign's experiments, ad groups in name order.
pub async fn experiments(
    ctx: &Context<'_>,
    tenant: Uuid,
    campaign: Uuid,
) -> async_graphql::Result<Vec<Experiment>> {
    let (_permits, analytics) = analytics(ctx).await?;
    let rows = queries::unit_rows(
        analytics,
        tenant,
        Some(campaign),
        EXPERIMENT_DAYS * 24,
        false,
    )
    .await
    .map_err(unavailable)?;
    let design = ExperimentDesign::default();
    let mut out = Vec::new();
    for platform in ["GOOGLE", "LINKEDIN"] {
        let days: Vec<AdDay> = rows
            .iter()
            .filter(|r| r.platform == platform)
            .map(|r| r.ad_day())
            .collect();
        for e in ad_experiments(&days, &design) {
            let leader = e
                .winner_probabilities
                .iter()
                .copied()
                .fold(0.0f64, f64::max);
            let (status, winner) = match &e.verdict {
                Verdict::Running => (ExperimentStatus::Running, None),
                Verdict::Winner { arm, .. } => (
                    ExperimentStatus::Winner,
                    e.arms.get(*arm).map(|a| a.name.clone()),
                ),
                Verdict::NoWinner => (ExperimentStatus::NoWinner, None),
            };
            out.push(Experiment {
                platform: platform.to_owned(),
                ad_group: e.ad_group.clone(),
                metric: "CLICK_THROUGH".into(),
                status,
                winner,
                leader_probability: leader,
                days: i32::try_from(e.days).unwrap_or(i32::MAX),
                alpha: design.alpha,
                arms: e
                    .arms
                    .iter()
                    .zip(&e.winner_probabilities)
                    .map(|(a, p)| ExperimentArm {
                        ad: a.name.clone(),
                        impressions: a.trials,
                        clicks: a.successes,
                        click_through_rate: if a.trials > 0.0 {
                            a.successes / a.trials
                        } else {
                            0.0
                        },
                        winner_probability: *p,
                    })
                    .collect(),
            });
        }
    }
    Ok(out)
}
