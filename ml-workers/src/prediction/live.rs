//! The predictor on real figures: rows from the analytics tables (keyword-hours from Google,
//! campaign-days from LinkedIn) with what the campaign's structure says about each unit (match type,
//! ad copy, bid, negatives), training per tenant into the registry, and the estimates the optimiser
//! reads. Without a registered model, an empirical-Bayes estimate (each unit's counts shrunk toward
//! its kind's pooled rate) stands in.

use super::features::{Observation, Target};
use super::model::{Architecture, Inputs, RateModel, TrainOptions};
use super::registry::{self, ModelRecord, Window};
use super::text::TextVectors;
use super::{estimate, train_rate, Estimate, RateEstimator};
use crate::artifact::sha256_hex;
use crate::MlError;
use adflow_domain::campaign::CampaignState;
use adflow_domain::structure::google::{Bidding, MatchType};
use adflow_domain::structure::linkedin::Creative;
use adflow_projections::analytics::queries::{self, UnitRow};
use adflow_projections::analytics::Analytics;
use chrono::{DateTime, Utc};
use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::Arc;
use uuid::Uuid;

/// The version of the stand-in estimate used before a tenant has a trained model.
pub const EMPIRICAL_VERSION: &str = "empirical-bayes@1";
/// Days of history a training run reads.
pub const TRAINING_DAYS: u32 = 28;

/// What the structure says about one reported unit.
fn context(
    state: Option<&CampaignState>,
    platform: &str,
    ad_group: &str,
    keyword: &str,
    ad: &str,
) -> (String, String, Option<i64>, u32) {
    let structure = state.and_then(|s| s.structure.as_ref());
    if platform == "LINKEDIN" {
        let campaign = structure
            .and_then(|s| s.linkedin.as_ref())
            .and_then(|l| l.campaigns.iter().find(|c| c.name == ad_group));
        // The creative's own words where the report names it (LinkedIn reports each creative).
        let creative = campaign.and_then(|c| {
            let index = adflow_platforms::linkedin::creative_index(&c.name, ad)?;
            c.creatives.get(index)
        });
        let copy = match (creative, campaign) {
            (Some(creative), _) => creative_text(creative),
            (None, Some(c)) => format!("{:?}", c.campaign_type),
            (None, None) => String::new(),
        };
        return ("linkedin/sponsored".into(), copy, None, 0);
    }
    let google = structure.and_then(|s| s.google.as_ref());
    let group = google.and_then(|g| g.ad_groups.iter().find(|a| a.name == ad_group));
    let match_type = group
        .and_then(|g| g.keywords.iter().find(|k| k.text == keyword))
        .map(|k| match k.match_type {
            MatchType::Exact => "google/exact",
            MatchType::Phrase => "google/phrase",
            MatchType::Broad => "google/broad",
        })
        .unwrap_or("google/keyword");
    let copy = group
        .and_then(|g| g.ads.first())
        .and_then(|ad| ad.headlines.first().cloned())
        .unwrap_or_default();
    let bid = google.and_then(|g| match g.campaign.bidding {
        Bidding::ManualCpc { max_cpc_micros } => Some(max_cpc_micros),
        _ => None,
    });
    let negatives = google
        .map(|g| g.negative_keywords.len() as u32)
        .unwrap_or(0);
    (match_type.into(), copy, bid, negatives)
}

/// The words a LinkedIn creative leads with.
pub fn creative_text(creative: &Creative) -> String {
    match creative {
        Creative::SingleImage { headline, .. }
        | Creative::TextAd { headline, .. }
        | Creative::Spotlight { headline, .. } => headline.clone(),
        Creative::Carousel { intro_text, .. } => intro_text.clone(),
        Creative::MessageAd { subject, .. } => subject.clone(),
    }
}

/// The unit key of a row: campaign, platform, ad group and keyword (or ad).
pub fn unit_key(row: &UnitRow) -> String {
    let leaf = if row.keyword.is_empty() {
        &row.ad
    } else {
        &row.keyword
    };
    format!(
        "{}/{}/{}/{}",
        row.campaign_id, row.platform, row.ad_group, leaf
    )
}

/// Rows as observations of `target`; rows without trials are left out.
pub fn observations(
    rows: &[UnitRow],
    campaigns: &HashMap<Uuid, CampaignState>,
    target: Target,
) -> Vec<Observation> {
    rows.iter()
        .filter_map(|row| {
            let (trials, successes) = match target {
                Target::ClickThrough => (row.impressions as f64, row.clicks as f64),
                Target::Conversion => (row.clicks as f64, row.conversions as f64),
            };
            if trials <= 0.0 {
                return None;
            }
            let state = campaigns.get(&row.campaign_id);
            let (kind, copy, max_cpc_micros, negatives) =
                context(state, &row.platform, &row.ad_group, &row.keyword, &row.ad);
            let hour = row.hour();
            // The campaign's first targeted segment: what its audience is.
            let segment = state
                .and_then(|s| s.segments.first())
                .map(|(audience, segment)| format!("{audience}/{segment}"))
                .unwrap_or_default();
            Some(Observation {
                segment,
                unit: unit_key(row),
                ad_group: format!("{}/{}/{}", row.campaign_id, row.platform, row.ad_group),
                campaign: row.campaign_id.to_string(),
                theme: row.ad_group.clone(),
                copy,
                keyword: row.keyword.clone(),
                kind,
                day: hour.div_euclid(24),
                hour_of_day: (target == Target::ClickThrough && row.platform == "GOOGLE")
                    .then_some(hour.rem_euclid(24) as u8),
                max_cpc_micros,
                negatives,
                trials,
                successes,
            })
        })
        .collect()
}

/// The SHA-256 of the observations a model learns from.
pub fn digest(observations: &[Observation]) -> String {
    let mut bytes = Vec::new();
    for o in observations {
        bytes.extend(serde_json::to_vec(o).unwrap_or_default());
        bytes.push(b'\n');
    }
    sha256_hex(&bytes)
}

/// The campaigns the rows name, loaded by `load`.
pub async fn campaigns_of<F, Fut>(
    rows: &[UnitRow],
    load: F,
) -> Result<HashMap<Uuid, CampaignState>, MlError>
where
    F: Fn(Uuid) -> Fut,
    Fut: std::future::Future<Output = Result<Option<CampaignState>, MlError>>,
{
    let mut ids: Vec<Uuid> = rows.iter().map(|r| r.campaign_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut campaigns = HashMap::new();
    for id in ids {
        if let Some(state) = load(id).await? {
            campaigns.insert(id, state);
        }
    }
    Ok(campaigns)
}

/// Trains the tenant's click-through and conversion models on its last [`TRAINING_DAYS`], reading
/// the units' words through `text`, and registers them. Targets without enough data are skipped.
pub async fn train_tenant<F, Fut>(
    pool: &PgPool,
    analytics: &Analytics,
    tenant: Uuid,
    load: F,
    text: &Arc<TextVectors>,
    device: tch::Device,
) -> Result<Vec<ModelRecord>, MlError>
where
    F: Fn(Uuid) -> Fut,
    Fut: std::future::Future<Output = Result<Option<CampaignState>, MlError>>,
{
    let backend = |e: adflow_projections::ProjectionError| MlError::Backend(e.to_string());
    let hourly = queries::unit_rows(analytics, tenant, None, TRAINING_DAYS * 24, true)
        .await
        .map_err(backend)?;
    let daily = queries::unit_rows(analytics, tenant, None, TRAINING_DAYS * 24, false)
        .await
        .map_err(backend)?;
    let campaigns = campaigns_of(&hourly, &load).await?;
    let mut records = Vec::new();
    // The conversion machine reads the click machine trained just before it (when there was one).
    let mut click: Option<RateModel> = None;
    for (target, rows) in [
        (Target::ClickThrough, &hourly),
        (Target::Conversion, &daily),
    ] {
        let observations = observations(rows, &campaigns, target);
        let days: std::collections::BTreeSet<i64> = observations.iter().map(|o| o.day).collect();
        if observations.len() < 50 || days.len() < 3 {
            tracing::info!(%tenant, target = target.as_str(), rows = observations.len(), "too little history to train on");
            continue;
        }
        let validation_days = (days.len() as i64 / 5).max(1);
        let (trained, model) = {
            let observations = observations.clone();
            let text = text.clone();
            let click = click.take();
            tokio::task::spawn_blocking(move || {
                let estimator = train_rate(
                    target,
                    Architecture::FactorisationMachine,
                    &observations,
                    validation_days,
                    &TrainOptions::default(),
                    Inputs {
                        text: Some(&text),
                        click: click.as_ref(),
                    },
                    device,
                )?;
                Ok::<_, MlError>((registry::Trained::new(&estimator)?, estimator.model))
            })
            .await
            .map_err(|e| MlError::Model(e.to_string()))??
        };
        if target == Target::ClickThrough {
            click = Some(model);
        }
        let at = |day: i64| DateTime::<Utc>::from_timestamp(day * 86_400, 0).unwrap_or_default();
        let window = Window {
            from: at(*days.first().unwrap_or(&0)),
            to: at(*days.last().unwrap_or(&0) + 1),
            data_sha256: digest(&observations),
        };
        records.push(registry::register(pool, tenant, trained, &window).await?);
    }
    Ok(records)
}

/// One target's estimates: a registered model, or the empirical-Bayes stand-in.
pub enum RateSource {
    Model(Box<(ModelRecord, RateEstimator)>),
    Empirical,
}

impl RateSource {
    pub fn version(&self) -> String {
        match self {
            RateSource::Model(model) => model.0.label(),
            RateSource::Empirical => EMPIRICAL_VERSION.to_owned(),
        }
    }

    /// An estimate per observation (its counts are the unit's recent history).
    pub fn estimate(&self, observations: &[Observation]) -> Result<Vec<Estimate>, MlError> {
        match self {
            RateSource::Model(model) => model.1.estimate(observations),
            RateSource::Empirical => Ok(empirical(observations)),
        }
    }

    pub async fn latest(
        pool: &PgPool,
        tenant: Uuid,
        target: Target,
        text: &Arc<TextVectors>,
        device: tch::Device,
    ) -> Result<RateSource, MlError> {
        Ok(
            match registry::latest(pool, tenant, target, text, device).await? {
                Some(model) => RateSource::Model(Box::new(model)),
                None => RateSource::Empirical,
            },
        )
    }
}

/// Each unit's rate shrunk toward its kind's pooled rate (a Beta prior worth `PRIOR` trials).
pub fn empirical(observations: &[Observation]) -> Vec<Estimate> {
    const PRIOR: f64 = 200.0;
    let mut pooled: HashMap<&str, (f64, f64)> = HashMap::new();
    let mut units: HashMap<&str, (f64, f64)> = HashMap::new();
    for o in observations {
        let k = pooled.entry(o.kind.as_str()).or_default();
        k.0 += o.trials;
        k.1 += o.successes.min(o.trials);
        let u = units.entry(o.unit.as_str()).or_default();
        u.0 += o.trials;
        u.1 += o.successes.min(o.trials);
    }
    observations
        .iter()
        .map(|o| {
            let (kn, ks) = pooled.get(o.kind.as_str()).copied().unwrap_or((1.0, 0.0));
            let base = (ks + 0.5) / (kn + 1.0);
            let (n, s) = units.get(o.unit.as_str()).copied().unwrap_or_default();
            let p = (s + PRIOR * base) / (n + PRIOR);
            estimate(
                p,
                n,
                super::Evidence {
                    prior: PRIOR,
                    weight: 1.0,
                },
            )
        })
        .collect()
}
