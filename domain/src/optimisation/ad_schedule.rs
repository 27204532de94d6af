//! Dayparting: which hours of the week a campaign's clicks are worth more or less, turned into an
//! ad schedule a platform can run. Google Ads takes ad schedule criteria (a day, a start and end
//! hour, a bid modifier from −90 % to +900 %, at most six per day) and, once a campaign has any,
//! serves only within them — so a proposal always covers the whole week, in six four-hour blocks a
//! day, and keeps 1.0 wherever the difference is not both material and credible. LinkedIn has no
//! ad scheduling: the advice says so instead. Pure: the caller passes the estimated profile.

use super::hour_of_week::{profile_from_hours, HourFigures};
use super::{ExpectedImpact, Recommendation};
use crate::campaign::{Platform, ProposedAction};
use crate::structure::google::AdScheduleEntry;
use serde::{Deserialize, Serialize};

pub const HOURS_OF_WEEK: usize = 168;
/// Hours per schedule block: six blocks a day, Google's limit of schedules per day.
pub const BLOCK_HOURS: usize = 4;
/// Google's bid modifier range.
pub const MIN_MODIFIER: f64 = 0.1;
pub const MAX_MODIFIER: f64 = 10.0;

/// The estimated value of a click in each hour of the week (0 = Monday 00:00, account time)
/// relative to the campaign's average, with the spread of its logarithm and the clicks behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourOfWeekProfile {
    pub ratio: Vec<f64>,
    pub log_sd: Vec<f64>,
    pub clicks: Vec<f64>,
}

/// When a difference is worth a modifier.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DaypartingRules {
    /// The smallest change worth making (0.1 = a block 10 % better or worse than average).
    pub material_change: f64,
    /// How sure (one-sided z of the block's interval) that the block differs from average.
    pub credible_z: f64,
    /// The furthest a proposal moves a bid (0.5 = between −50 % and +50 %): well inside the
    /// platform's range, a guardrail of our own.
    pub max_change: f64,
}

impl Default for DaypartingRules {
    fn default() -> Self {
        Self {
            material_change: 0.1,
            credible_z: 1.645,
            max_change: 0.5,
        }
    }
}

/// What dayparting advises for one platform of a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE", tag = "advice")]
pub enum ScheduleAdvice {
    /// A whole week of blocks, at least one of them with a modifier other than 1.
    Propose { blocks: Vec<AdScheduleEntry> },
    /// No block differs materially and credibly from the average.
    NothingMaterial,
    /// The platform cannot schedule ads; `reason` says so to the user.
    Unsupported { reason: String },
}

/// The blocks of the week with the click-weighted ratio of each and its spread.
fn blocks(profile: &HourOfWeekProfile) -> Vec<(u8, u8, f64, f64)> {
    let mut out = Vec::with_capacity(HOURS_OF_WEEK / BLOCK_HOURS);
    for start in (0..HOURS_OF_WEEK).step_by(BLOCK_HOURS) {
        let hours = start..start + BLOCK_HOURS;
        let weight: f64 = hours.clone().map(|h| profile.clicks[h].max(1e-9)).sum();
        let log_ratio = hours
            .clone()
            .map(|h| profile.clicks[h].max(1e-9) * profile.ratio[h].max(1e-9).ln())
            .sum::<f64>()
            / weight;
        // The hours share most of their evidence (a weekday and an hour-of-day effect), so the
        // block is no surer than its surest hour.
        let log_sd = hours
            .map(|h| profile.log_sd[h])
            .fold(f64::INFINITY, f64::min);
        out.push(((start / 24) as u8, (start % 24) as u8, log_ratio, log_sd));
    }
    out
}

/// The ad schedule to propose for `platform`, from the campaign's profile.
pub fn advise(
    platform: Platform,
    profile: &HourOfWeekProfile,
    rules: &DaypartingRules,
) -> ScheduleAdvice {
    if platform == Platform::Linkedin {
        return ScheduleAdvice::Unsupported {
            reason: "LinkedIn Ads has no ad scheduling: a campaign serves at every hour its \
                     budget allows; dayparting applies to Google Ads only"
                .to_owned(),
        };
    }
    let complete = [&profile.ratio, &profile.log_sd, &profile.clicks]
        .iter()
        .all(|v| v.len() == HOURS_OF_WEEK);
    if !complete {
        return ScheduleAdvice::NothingMaterial;
    }
    let material = (1.0 + rules.material_change).ln();
    let mut any = false;
    let blocks: Vec<AdScheduleEntry> = blocks(profile)
        .into_iter()
        .map(|(weekday, start, log_ratio, log_sd)| {
            let credible = log_ratio.abs() - rules.credible_z * log_sd > 0.0;
            let bid_modifier = if credible && log_ratio.abs() >= material {
                any = true;
                log_ratio.exp().clamp(
                    (1.0 - rules.max_change).max(MIN_MODIFIER),
                    (1.0 + rules.max_change).min(MAX_MODIFIER),
                )
            } else {
                1.0
            };
            AdScheduleEntry {
                weekday,
                start_hour: start,
                end_hour: start + BLOCK_HOURS as u8,
                // Whole percent, as Google's interface shows it.
                bid_modifier_basis_points: ((bid_modifier * 100.0).round() * 100.0) as u32,
            }
        })
        .collect();
    if any {
        ScheduleAdvice::Propose { blocks }
    } else {
        ScheduleAdvice::NothingMaterial
    }
}

/// Dayparting as a proposal: the profile of `hours` (a Google campaign's hourly reports) turned
/// into a whole week's schedule, proposed when some block differs materially and credibly and the
/// schedule differs from `current`. Each changed block passed a one-sided 95 % test (the
/// confidence); the volume a modifier buys is not modelled, so no conversions are promised.
pub fn schedule_recommendation(
    hours: &[HourFigures],
    current: &[AdScheduleEntry],
) -> Option<Recommendation> {
    let (profile, slope) = profile_from_hours(hours);
    let ScheduleAdvice::Propose { blocks } =
        advise(Platform::Google, &profile, &DaypartingRules::default())
    else {
        return None;
    };
    if blocks == current {
        return None;
    }
    let changed: Vec<String> = blocks
        .iter()
        .filter(|b| b.bid_modifier_basis_points != 10_000)
        .map(|b| {
            format!(
                "{} {:02}–{:02} h {:+} %",
                ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][usize::from(b.weekday % 7)],
                b.start_hour,
                b.end_hour,
                (i64::from(b.bid_modifier_basis_points) - 10_000) / 100
            )
        })
        .collect();
    Some(Recommendation {
        reason: format!(
            "dayparting: a click is worth materially more or less in {} blocks of the week \
             ({}{}); bids follow (click value borrowed {slope:.2} from click-through by hour)",
            changed.len(),
            changed
                .iter()
                .take(6)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            if changed.len() > 6 { ", …" } else { "" }
        ),
        action: ProposedAction::SetAdSchedule { entries: blocks },
        confidence_basis_points: 9_500,
        impact: ExpectedImpact {
            conversions_per_day: 0.0,
            conversions_per_day_low: 0.0,
            conversions_per_day_high: 0.0,
            cost_per_day_micros: 0,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(ratio: impl Fn(usize) -> f64, log_sd: f64) -> HourOfWeekProfile {
        HourOfWeekProfile {
            ratio: (0..HOURS_OF_WEEK).map(ratio).collect(),
            log_sd: vec![log_sd; HOURS_OF_WEEK],
            clicks: vec![100.0; HOURS_OF_WEEK],
        }
    }

    #[test]
    fn linkedin_is_told_it_cannot_schedule() {
        let advice = advise(
            Platform::Linkedin,
            &profile(|_| 2.0, 0.01),
            &DaypartingRules::default(),
        );
        assert!(
            matches!(advice, ScheduleAdvice::Unsupported { reason } if reason.contains("no ad scheduling"))
        );
    }

    #[test]
    fn a_credible_material_difference_covers_the_whole_week_within_bounds() {
        // Mornings are worth twice the average, evenings a third less; the rest average.
        let advice = advise(
            Platform::Google,
            &profile(
                |h| match h % 24 {
                    8..=11 => 2.0,
                    16..=19 => 0.66,
                    _ => 1.0,
                },
                0.05,
            ),
            &DaypartingRules::default(),
        );
        let ScheduleAdvice::Propose { blocks } = advice else {
            panic!("expected a proposal, got {advice:?}");
        };
        assert_eq!(blocks.len(), 42);
        let covered: usize = blocks
            .iter()
            .map(|b| usize::from(b.end_hour - b.start_hour))
            .sum();
        assert_eq!(covered, HOURS_OF_WEEK);
        let morning = blocks
            .iter()
            .find(|b| b.weekday == 2 && b.start_hour == 8)
            .unwrap();
        assert_eq!(morning.bid_modifier_basis_points, 15_000, "capped at +50 %");
        let evening = blocks
            .iter()
            .find(|b| b.weekday == 2 && b.start_hour == 16)
            .unwrap();
        assert_eq!(evening.bid_modifier_basis_points, 6_600);
        let night = blocks
            .iter()
            .find(|b| b.weekday == 2 && b.start_hour == 0)
            .unwrap();
        assert_eq!(night.bid_modifier_basis_points, 10_000);
        let mut violations = crate::violation::Violations::new();
        crate::structure::google::check_ad_schedule(&blocks, "blocks", &mut violations);
        assert!(
            violations.is_empty(),
            "Google would take it: {violations:?}"
        );
    }

    #[test]
    fn a_strong_morning_rhythm_becomes_a_proposal_once() {
        // Four weeks of a Google campaign whose mornings click and convert twice as well.
        let first = 20_000 * 24 + 96; // a Monday, 00:00
        let hours: Vec<HourFigures> = (0..28 * 24)
            .map(|t| {
                let lift = if (8..12).contains(&(t % 24)) {
                    2.0
                } else {
                    1.0
                };
                HourFigures {
                    hour: first + t,
                    impressions: 2_000.0,
                    clicks: 60.0 * lift,
                    conversions: 3.0 * lift * lift,
                }
            })
            .collect();
        let recommendation = schedule_recommendation(&hours, &[]).expect("a schedule");
        let ProposedAction::SetAdSchedule { entries } = &recommendation.action else {
            panic!("{recommendation:?}");
        };
        assert_eq!(entries.len(), 42);
        let morning = entries
            .iter()
            .find(|e| e.weekday == 1 && e.start_hour == 8)
            .unwrap();
        assert!(morning.bid_modifier_basis_points > 10_000, "{morning:?}");
        assert!(recommendation.reason.contains("dayparting"));
        // The same schedule in place: nothing to propose.
        assert!(schedule_recommendation(&hours, entries).is_none());
    }

    #[test]
    fn small_or_uncertain_differences_propose_nothing() {
        let rules = DaypartingRules::default();
        let small = profile(|h| if h % 24 < 12 { 1.05 } else { 0.95 }, 0.01);
        assert_eq!(
            advise(Platform::Google, &small, &rules),
            ScheduleAdvice::NothingMaterial
        );
        let noisy = profile(|h| if h % 24 < 12 { 1.4 } else { 0.7 }, 0.4);
        assert_eq!(
            advise(Platform::Google, &noisy, &rules),
            ScheduleAdvice::NothingMaterial
        );
    }
}
