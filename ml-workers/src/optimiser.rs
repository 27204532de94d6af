//! `OptimisationRunRequested` → the campaign's last two weeks from ClickHouse → the tenant's
//! newest click-through and conversion models (or the empirical-Bayes stand-in) → predictions per
//! keyword, ad group, platform and campaign → the decision rules → each proposal through the
//! campaign's own proposal and guardrail flow → the run's record (what was predicted, proposed,
//! applied, left for a person or refused, with the settings before and after) on the monitor.

use crate::backend::{Backend, Submission, Trigger};
use crate::prediction::features::{Observation, Target};
use crate::prediction::live::{self, RateSource};
use crate::prediction::text::TextVectors;
use crate::prediction::Estimate;
use crate::worker::{
    analytics_hold, trigger, uuid_field, Step, WorkHandler, WorkRequest, WorkType,
};
use crate::MlError;
use adflow_domain::campaign::{
    BudgetTarget, CampaignCommand, CampaignState, Platform, ProposalStatus, ProposedAction,
};
use adflow_domain::monitoring::{MonitorCommand, EPISODE_GAP_HOURS};
use adflow_domain::optimisation::ad_schedule::schedule_recommendation;
use adflow_domain::optimisation::allocation::{reallocate, AllocationLine};
use adflow_domain::optimisation::experiments::{
    ad_experiments, pause_losers, AdDay, ExperimentDesign, EXPERIMENT_DAYS,
};
use adflow_domain::optimisation::hour_of_week::HourFigures;
use adflow_domain::optimisation::runs::{
    proposal_id, snapshot, OptimisationRunCompleted, Prediction, PredictionLevel, ProposalOutcome,
    RateInterval, RunProposal, MAX_RUN_PREDICTIONS, MAX_RUN_PROPOSALS,
};
use adflow_domain::optimisation::{
    recommend, CampaignOutlook, PlatformOutlook, RateEstimate, Recommendation, Window,
};
use adflow_domain::tenant::TenantSettingsState;
use adflow_platforms::simulator::rng::{key_hash, Draws};
use adflow_projections::analytics::queries::{self, UnitRow};
use adflow_projections::analytics::Analytics;
use async_trait::async_trait;
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

pub const RULES_VERSION: &str = "decision-rules@1";
/// Days the optimiser reads: the last week judged, the week before it for trends.
const HISTORY_DAYS: u32 = 14;

pub struct OptimiserHandler {
    pub backend: Arc<dyn Backend>,
    pub analytics: Analytics,
    pub pool: PgPool,
    /// The embeddings the predictor reads units' words through.
    pub text: Arc<TextVectors>,
    pub device: tch::Device,
}

pub struct RunInput {
    campaign: Uuid,
    run: Uuid,
    state: CampaignState,
    settings: TenantSettingsState,
    open_anomalies: usize,
    rows: Vec<UnitRow>,
    daily: Vec<UnitRow>,
    /// Each ad's days over the experiments' window.
    ad_days: Vec<AdDay>,
    ctr: RateSource,
    cvr: RateSource,
}

pub struct RunPlan {
    campaign: Uuid,
    run: Uuid,
    settings: TenantSettingsState,
    predictions: Vec<Prediction>,
    recommendations: Vec<Recommendation>,
    versions: Vec<String>,
    allocation: Vec<AllocationLine>,
}

fn retry(error: impl std::fmt::Display) -> Step<RunInput> {
    Step::Retry(MlError::Backend(error.to_string()))
}

#[async_trait]
impl WorkHandler for OptimiserHandler {
    type Input = RunInput;
    type Output = RunPlan;

    const REFUSED: &'static str = "the optimisation run was refused";

    const WORK: WorkType = WorkType::Optimisation;

    async fn prepare(&self, request: &WorkRequest) -> Step<RunInput> {
        let (Some(campaign), Some(run)) = (
            uuid_field(request, "campaignId"),
            uuid_field(request, "runId"),
        ) else {
            tracing::error!(event_type = %request.event_type, "not an OptimisationRunRequested event, dropped");
            return Step::Done;
        };
        if let Err(error) = analytics_hold(&self.analytics, request).await {
            return Step::Retry(error);
        }
        let tenant = request.tenant_id;
        let state = match self.backend.campaign(tenant, campaign).await {
            Ok(Some(state)) => state,
            Ok(None) => return Step::Fail("no such campaign".into()),
            Err(error) => return Step::Retry(error),
        };
        let settings = match self.backend.tenant_settings(tenant).await {
            Ok(settings) => settings,
            Err(error) => return Step::Retry(error),
        };
        let monitor = match self.backend.monitor(tenant, campaign).await {
            Ok(monitor) => monitor,
            Err(error) => return Step::Retry(error),
        };
        let hours = HISTORY_DAYS * 24;
        let (rows, daily, experiment_days) = match (
            queries::unit_rows(&self.analytics, tenant, Some(campaign), hours, true).await,
            queries::unit_rows(&self.analytics, tenant, Some(campaign), hours, false).await,
            queries::unit_rows(
                &self.analytics,
                tenant,
                Some(campaign),
                EXPERIMENT_DAYS * 24,
                false,
            )
            .await,
        ) {
            (Ok(rows), Ok(daily), Ok(experiment_days)) => (rows, daily, experiment_days),
            (Err(error), _, _) | (_, Err(error), _) | (_, _, Err(error)) => return retry(error),
        };
        let ad_days = experiment_days
            .into_iter()
            .filter(|r| r.platform == "LINKEDIN" && !r.ad.is_empty())
            .map(|r| r.ad_day())
            .collect();
        // An anomaly whose episode is still going (within the gap of the newest figures).
        let newest = rows.iter().map(UnitRow::hour).max().unwrap_or(0);
        let open_anomalies = monitor
            .map(|m| {
                m.last
                    .values()
                    .filter(|at| at.timestamp() / 3600 + EPISODE_GAP_HOURS >= newest)
                    .count()
            })
            .unwrap_or(0);
        let (ctr, cvr) = match (
            RateSource::latest(
                &self.pool,
                tenant,
                Target::ClickThrough,
                &self.text,
                self.device,
            )
            .await,
            RateSource::latest(
                &self.pool,
                tenant,
                Target::Conversion,
                &self.text,
                self.device,
            )
            .await,
        ) {
            (Ok(ctr), Ok(cvr)) => (ctr, cvr),
            (Err(error), _) | (_, Err(error)) => return Step::Retry(error),
        };
        Step::Generate(Box::new(RunInput {
            campaign,
            run,
            state,
            settings,
            open_anomalies,
            rows,
            daily,
            ad_days,
            ctr,
            cvr,
        }))
    }

    fn generate(&self, inputs: Vec<RunInput>) -> Vec<Result<RunPlan, MlError>> {
        inputs.into_iter().map(plan).collect()
    }

    async fn answer(&self, request: &WorkRequest, plan: RunPlan) -> Result<Submission, MlError> {
        let tenant = request.tenant_id;
        let on_campaign = Trigger {
            aggregate_id: plan.campaign,
            ..trigger(request)
        };
        let model_version = plan.versions.join(" ");
        let mut proposals = Vec::new();
        for (i, recommendation) in plan.recommendations.iter().enumerate() {
            let Some(before) = self.backend.campaign(tenant, plan.campaign).await? else {
                break;
            };
            let id = proposal_id(plan.run, i);
            let rules = &plan.settings.decision_rules;
            let command = CampaignCommand::ProposeOptimisation {
                proposal_id: id,
                action: recommendation.action.clone(),
                reason: recommendation.reason.clone(),
                confidence_basis_points: recommendation.confidence_basis_points,
                model_version: model_version.clone(),
                guardrails: rules.guardrails_for(&recommendation.action, &plan.settings.guardrails),
            };
            let submitted = self
                .backend
                .propose(on_campaign, command, &model_version)
                .await?;
            let after = self.backend.campaign(tenant, plan.campaign).await?;
            let status = after
                .as_ref()
                .and_then(|s| s.proposals.get(&id))
                .map(|p| p.status);
            let (outcome, refusal, after) = match (&submitted, status) {
                (Submission::Rejected(reason), _) => {
                    (ProposalOutcome::Refused, Some(reason.clone()), None)
                }
                (_, Some(ProposalStatus::Applied)) => {
                    (ProposalOutcome::Applied, None, after.as_ref().map(snapshot))
                }
                _ => (ProposalOutcome::Pending, None, None),
            };
            proposals.push(RunProposal {
                proposal_id: id,
                action: recommendation.action.clone(),
                reason: recommendation.reason.clone(),
                confidence_basis_points: recommendation.confidence_basis_points,
                impact: recommendation.impact,
                outcome,
                refusal,
                before: snapshot(&before),
                after,
            });
        }
        let completed = OptimisationRunCompleted {
            campaign_id: plan.campaign,
            run_id: plan.run,
            proposals,
            predictions: plan.predictions,
            model_versions: plan.versions,
            allocation: plan.allocation,
        };
        self.backend
            .submit_monitor(
                trigger(request),
                MonitorCommand::CompleteRun(completed),
                Some(RULES_VERSION),
            )
            .await
    }

    async fn fail(&self, request: &WorkRequest, reason: &str) -> Result<Submission, MlError> {
        // The run is answered with nothing to change, so it does not stay open.
        let (Some(campaign), Some(run)) = (
            uuid_field(request, "campaignId"),
            uuid_field(request, "runId"),
        ) else {
            return Ok(Submission::Accepted);
        };
        tracing::warn!(%campaign, %run, %reason, "optimisation run failed");
        let completed = OptimisationRunCompleted {
            campaign_id: campaign,
            run_id: run,
            proposals: vec![],
            predictions: vec![],
            model_versions: vec![RULES_VERSION.to_owned()],
            allocation: vec![],
        };
        self.backend
            .submit_monitor(
                trigger(request),
                MonitorCommand::CompleteRun(completed),
                Some(RULES_VERSION),
            )
            .await
    }
}

/// Trials-weighted sums of estimates, per entity.
#[derive(Default, Clone, Copy)]
struct Sums {
    trials: f64,
    p: f64,
    low: f64,
    high: f64,
}

impl Sums {
    fn add(&mut self, e: &Estimate, trials: f64) {
        self.trials += trials;
        self.p += e.probability * trials;
        self.low += e.low * trials;
        self.high += e.high * trials;
    }

    fn interval(&self) -> RateInterval {
        let n = self.trials.max(1e-9);
        RateInterval {
            expected: self.p / n,
            low: self.low / n,
            high: self.high / n,
        }
    }
}

type EntityKey = (PredictionLevel, Platform, String);

fn platform_of(name: &str) -> Platform {
    if name == "LINKEDIN" {
        Platform::Linkedin
    } else {
        Platform::Google
    }
}

/// The entities a row counts toward: keyword (Google), ad group (or LinkedIn campaign),
/// platform, campaign.
fn entities(row: &UnitRow) -> Vec<EntityKey> {
    let platform = platform_of(&row.platform);
    let mut keys = vec![
        (PredictionLevel::Campaign, platform, String::new()),
        (PredictionLevel::Platform, platform, String::new()),
        (PredictionLevel::AdGroup, platform, row.ad_group.clone()),
    ];
    if !row.keyword.is_empty() {
        keys.push((
            PredictionLevel::Keyword,
            platform,
            format!("{}/{}", row.ad_group, row.keyword),
        ));
    }
    // LinkedIn reports each creative (Google reports keywords, not ads).
    if !row.ad.is_empty() {
        keys.push((
            PredictionLevel::Creative,
            platform,
            format!("{}/{}", row.ad_group, row.ad),
        ));
    }
    keys
}

fn plan(input: RunInput) -> Result<RunPlan, MlError> {
    let campaigns = HashMap::from([(input.campaign, input.state.clone())]);
    let latest_day = input
        .daily
        .iter()
        .map(|r| r.hour().div_euclid(24))
        .max()
        .unwrap_or(0);
    let recent = |row: &UnitRow| row.hour().div_euclid(24) > latest_day - 7;
    let recent_rows: Vec<UnitRow> = input.rows.iter().filter(|r| recent(r)).cloned().collect();
    let recent_days: Vec<UnitRow> = input.daily.iter().filter(|r| recent(r)).cloned().collect();
    // Click-through from the hourly rows, conversion rate from the daily ones; each row's
    // estimate weighs by its trials.
    let mut ctr: BTreeMap<EntityKey, Sums> = BTreeMap::new();
    let mut cvr: BTreeMap<EntityKey, Sums> = BTreeMap::new();
    let mut money: BTreeMap<EntityKey, (f64, f64)> = BTreeMap::new();
    for (target, rows, sums) in [
        (Target::ClickThrough, &recent_rows, &mut ctr),
        (Target::Conversion, &recent_days, &mut cvr),
    ] {
        let kept: Vec<&UnitRow> = rows
            .iter()
            .filter(|r| match target {
                Target::ClickThrough => r.impressions > 0,
                Target::Conversion => r.clicks > 0,
            })
            .collect();
        let owned: Vec<UnitRow> = kept.iter().map(|r| (*r).clone()).collect();
        let observations: Vec<Observation> = live::observations(&owned, &campaigns, target);
        let source = match target {
            Target::ClickThrough => &input.ctr,
            Target::Conversion => &input.cvr,
        };
        let estimates = source.estimate(&observations)?;
        for ((row, o), e) in owned.iter().zip(&observations).zip(&estimates) {
            for key in entities(row) {
                sums.entry(key).or_default().add(e, o.trials);
            }
        }
    }
    for row in &recent_days {
        for key in entities(row) {
            let m = money.entry(key).or_default();
            m.0 += row.cost_micros as f64;
            m.1 += row.clicks as f64;
        }
    }
    let mut predictions: Vec<Prediction> = ctr
        .iter()
        .map(|(key, ctr_sums)| {
            let conversion = cvr.get(key).map(Sums::interval).unwrap_or(RateInterval {
                expected: 0.0,
                low: 0.0,
                high: 1.0,
            });
            let (cost, clicks) = money.get(key).copied().unwrap_or_default();
            let cpc = (clicks > 0.0).then(|| cost / clicks);
            let cost_per_conversion =
                cpc.filter(|_| conversion.low > 0.0)
                    .map(|cpc| RateInterval {
                        expected: cpc / conversion.expected.max(1e-9),
                        low: cpc / conversion.high.max(1e-9),
                        high: cpc / conversion.low.max(1e-9),
                    });
            Prediction {
                level: key.0,
                platform: key.1,
                entity: key.2.chars().take(500).collect(),
                click_through_rate: ctr_sums.interval(),
                conversion_rate: conversion,
                cost_per_conversion_micros: cost_per_conversion,
            }
        })
        .collect();
    predictions
        .sort_by(|a, b| (a.level, a.platform, &a.entity).cmp(&(b.level, b.platform, &b.entity)));
    predictions.truncate(MAX_RUN_PREDICTIONS);
    let outlook = CampaignOutlook {
        status: input.state.status,
        platforms: budget_lines(&input, latest_day, &cvr),
        open_anomalies: input.open_anomalies,
    };
    let rules = &input.settings.decision_rules;
    let mut recommendations = recommend(&outlook, rules);
    // The allocator spreads the campaign's budget over its lines by their response; one draw per
    // line from its efficiency's posterior (Thompson sampling), fixed by the run so a redelivery
    // decides the same.
    let draws: Vec<f64> = (0..outlook.platforms.len())
        .map(|line| standard_normal(input.run, line))
        .collect();
    let reallocation = reallocate(&outlook, rules, &draws);
    // Creative experiments: the losers of every decided one are proposed for a pause.
    let experiments = ad_experiments(&input.ad_days, &ExperimentDesign::default());
    let linkedin = input
        .state
        .structure
        .as_ref()
        .and_then(|s| s.linkedin.as_ref());
    let locate = |ad_group: &str, ad: &str| {
        let (i, campaign) = linkedin?
            .campaigns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == ad_group)?;
        let j = adflow_platforms::linkedin::creative_index(&campaign.name, ad)?;
        (j < campaign.creatives.len()).then(|| {
            (
                Platform::Linkedin,
                format!("/linkedin/campaigns/{i}/creatives/{j}"),
            )
        })
    };
    let paused = |platform: Platform, path: &str| {
        input
            .state
            .paused_creatives
            .contains(&(platform, path.to_owned()))
    };
    let linkedin_conversion_rate = outlook
        .platforms
        .iter()
        .find(|p| p.platform == Platform::Linkedin)
        .map(|p| p.conversion_rate.probability)
        .unwrap_or(0.0);
    recommendations.extend(pause_losers(
        &experiments,
        locate,
        paused,
        linkedin_conversion_rate,
    ));
    recommendations.extend(schedule_proposal(&input));
    let shifts = |r: &Recommendation| matches!(r.action, ProposedAction::ShiftDailyBudget { .. });
    if !recommendations.iter().any(shifts) {
        recommendations.extend(reallocation.as_ref().and_then(|r| r.recommendation.clone()));
    }
    recommendations.retain(|r| !input.state.has_pending(&r.action));
    recommendations.truncate(MAX_RUN_PROPOSALS);
    Ok(RunPlan {
        campaign: input.campaign,
        run: input.run,
        settings: input.settings,
        predictions,
        recommendations,
        versions: vec![
            input.ctr.version(),
            input.cvr.version(),
            RULES_VERSION.to_owned(),
        ],
        allocation: reallocation.map(|r| r.lines).unwrap_or_default(),
    })
}

/// Dayparting: Google's ad schedule from the run's hourly rows (the domain decides).
fn schedule_proposal(input: &RunInput) -> Option<Recommendation> {
    let google = input.state.structure.as_ref()?.google.as_ref()?;
    let hours: Vec<HourFigures> = input
        .rows
        .iter()
        .filter(|r| r.platform == "GOOGLE")
        .map(UnitRow::hour_figures)
        .collect();
    schedule_recommendation(&hours, &google.campaign.ad_schedule)
}

/// A standard normal draw fixed by the run and the line (the simulator's counter-based draws).
fn standard_normal(run: Uuid, line: usize) -> f64 {
    Draws::new(key_hash(line as u64, &run.to_string()), 0, 0).normal()
}

/// One outlook per daily budget: Google's, and each LinkedIn campaign's.
fn budget_lines(
    input: &RunInput,
    latest_day: i64,
    cvr: &BTreeMap<EntityKey, Sums>,
) -> Vec<PlatformOutlook> {
    let Some(structure) = &input.state.structure else {
        return Vec::new();
    };
    let window = |filter: &dyn Fn(&UnitRow) -> bool, from: i64, to: i64| {
        let mut w = Window::default();
        let mut days = std::collections::BTreeSet::new();
        for row in input.daily.iter().filter(|r| filter(r)) {
            let day = row.hour().div_euclid(24);
            if day > latest_day - to && day <= latest_day - from {
                days.insert(day);
                w.clicks += row.clicks as f64;
                w.conversions += row.conversions as f64;
                w.cost_micros += row.cost_micros as f64;
            }
        }
        w.days = days.len() as f64;
        w
    };
    let estimate = |key: EntityKey| {
        let i = cvr.get(&key).map(Sums::interval).unwrap_or(RateInterval {
            expected: 0.0,
            low: 0.0,
            high: 1.0,
        });
        RateEstimate {
            probability: i.expected,
            low: i.low,
            high: i.high,
        }
    };
    let mut lines = Vec::new();
    if let Some(google) = &structure.google {
        let is_google = |r: &UnitRow| r.platform == "GOOGLE";
        lines.push(PlatformOutlook {
            platform: Platform::Google,
            budget: BudgetTarget {
                platform: Platform::Google,
                linkedin_campaign: 0,
            },
            daily_budget_micros: google.daily_budget_micros,
            max_cpc_micros: adflow_domain::campaign::tuning_max_cpc(structure),
            recent: window(&is_google, 0, 7),
            previous: window(&is_google, 7, 14),
            conversion_rate: estimate((PredictionLevel::Platform, Platform::Google, String::new())),
        });
    }
    if let Some(linkedin) = &structure.linkedin {
        for (i, campaign) in linkedin.campaigns.iter().enumerate() {
            let name = campaign.name.clone();
            let is_this = move |r: &UnitRow| r.platform == "LINKEDIN" && r.ad_group == name;
            lines.push(PlatformOutlook {
                platform: Platform::Linkedin,
                budget: BudgetTarget {
                    platform: Platform::Linkedin,
                    linkedin_campaign: i,
                },
                daily_budget_micros: campaign.daily_budget_micros,
                max_cpc_micros: None,
                recent: window(&is_this, 0, 7),
                previous: window(&is_this, 7, 14),
                conversion_rate: estimate((
                    PredictionLevel::AdGroup,
                    Platform::Linkedin,
                    campaign.name.clone(),
                )),
            });
        }
    }
    lines
}
