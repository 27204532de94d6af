//! Dayparting advice on a campaign, computed when asked from its hourly reports in ClickHouse:
//! the domain fits the value of a click by hour of the week and says, per platform, which ad
//! schedule to propose — a whole week of Google ad schedule blocks with bid modifiers, nothing when
//! no difference is material and credible, or that LinkedIn cannot schedule ads.

use crate::analytics::analytics;
use crate::campaigns::Platform;
use crate::errors::analytics as unavailable;
use adflow_domain::optimisation::ad_schedule::{advise, DaypartingRules, ScheduleAdvice};
use adflow_domain::optimisation::hour_of_week::{profile_from_hours, HourFigures};
use adflow_projections::analytics::queries;
use async_graphql::{Context, Enum, SimpleObject};
use uuid::Uuid;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ScheduleAdviceKind {
    /// A schedule for the whole week; blocks without a change keep a modifier of 1.
    Propose,
    /// No hour of the week differs materially and credibly from the average.
    NothingMaterial,
    /// The platform cannot schedule ads (LinkedIn).
    Unsupported,
}

/// One entry of a proposed Google ad schedule.
#[derive(Debug, Clone, SimpleObject)]
pub struct ScheduleBlock {
    /// 0 = Monday … 6 = Sunday (UTC).
    pub weekday: i32,
    pub start_hour: i32,
    /// Exclusive; 24 is midnight.
    pub end_hour: i32,
    /// Multiplies bids in the block (0.5–1.5; 1 leaves them).
    pub bid_modifier: f64,
}

/// What dayparting advises for one platform of a campaign.
#[derive(Debug, Clone, SimpleObject)]
pub struct AdScheduleAdvice {
    pub platform: Platform,
    pub advice: ScheduleAdviceKind,
    /// Why, for `UNSUPPORTED`.
    pub reason: Option<String>,
    pub blocks: Vec<ScheduleBlock>,
    /// Clicks and conversions the advice rests on.
    pub clicks: f64,
    pub conversions: f64,
    /// How closely the value of a click followed click-through by hour in this data (0: not at
    /// all, so nothing was borrowed from it).
    pub click_through_slope: f64,
}

/// The advice for each of `platforms` of `campaign`, from its last `weeks` weeks of hourly reports.
pub async fn advice(
    ctx: &Context<'_>,
    tenant: Uuid,
    campaign: Uuid,
    platforms: &[Platform],
    weeks: u32,
) -> async_graphql::Result<Vec<AdScheduleAdvice>> {
    let (_permits, analytics) = analytics(ctx).await?;
    let rows = queries::unit_rows(analytics, tenant, Some(campaign), weeks * 168, true)
        .await
        .map_err(unavailable)?;
    let rules = DaypartingRules::default();
    Ok(platforms
        .iter()
        .map(|platform| {
            let domain: adflow_domain::campaign::Platform = (*platform).into();
            let name = domain.as_str();
            let hours: Vec<HourFigures> = rows
                .iter()
                .filter(|r| r.platform == name)
                .map(|r| r.hour_figures())
                .collect();
            let (profile, slope) = profile_from_hours(&hours);
            let (advice, reason, blocks) = match advise(domain, &profile, &rules) {
                ScheduleAdvice::Propose { blocks } => (
                    ScheduleAdviceKind::Propose,
                    None,
                    blocks
                        .into_iter()
                        .map(|b| ScheduleBlock {
                            weekday: i32::from(b.weekday),
                            start_hour: i32::from(b.start_hour),
                            end_hour: i32::from(b.end_hour),
                            bid_modifier: f64::from(b.bid_modifier_basis_points) / 10_000.0,
                        })
                        .collect(),
                ),
                ScheduleAdvice::NothingMaterial => {
                    (ScheduleAdviceKind::NothingMaterial, None, Vec::new())
                }
                ScheduleAdvice::Unsupported { reason } => {
                    (ScheduleAdviceKind::Unsupported, Some(reason), Vec::new())
                }
            };
            AdScheduleAdvice {
                platform: *platform,
                advice,
                reason,
                blocks,
                clicks: hours.iter().map(|h| h.clicks).sum(),
                conversions: hours.iter().map(|h| h.conversions).sum(),
                click_through_slope: slope,
            }
        })
        .collect())
}
