//! Dayparting judged on the market simulator: the domain's hour-of-week profile
//! (`optimisation::hour_of_week`) fitted to what the platform reported, against the simulator's
//! planted rhythm, next to naive readings; `ad_schedule::advise` turns it into a schedule.

use adflow_domain::campaign::Platform;
use adflow_domain::optimisation::ad_schedule::{
    advise, DaypartingRules, ScheduleAdvice, BLOCK_HOURS, HOURS_OF_WEEK,
};
use adflow_domain::optimisation::hour_of_week::{
    borrow_from_click_through, click_value_profile, fit_profile, HourOfWeekCounts, HourlySeries,
};
use adflow_platforms::simulator::rng::{key_hash, Draws};
use adflow_platforms::simulator::{Market, UnitKind};
use chrono::{Duration, TimeZone, Utc};
use serde::Serialize;

/// Spearman's rank correlation.
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    fn ranks(values: &[f64]) -> Vec<f64> {
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|i, j| values[*i].total_cmp(&values[*j]));
        let mut ranks = vec![0.0; values.len()];
        let mut i = 0;
        while i < order.len() {
            let mut j = i;
            while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
                j += 1;
            }
            for k in i..=j {
                ranks[order[k]] = (i + j) as f64 / 2.0;
            }
            i = j + 1;
        }
        ranks
    }
    let (ra, rb) = (ranks(a), ranks(b));
    let n = ra.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (ma, mb) = (ra.iter().sum::<f64>() / n, rb.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = rb.iter().map(|y| (y - mb).powi(2)).sum();
    if va <= 0.0 || vb <= 0.0 {
        0.0
    } else {
        cov / (va * vb).sqrt()
    }
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DaypartingEvaluation {
    pub seed: u64,
    pub weeks: i64,
    pub campaigns: usize,
    /// Mean over campaigns of the rank correlation with the planted hour-of-week pattern.
    pub ours: f64,
    /// The same for the naive reading: hours with the most conversions are the best ones.
    pub conversions_by_hour: f64,
    /// The same for click-through by hour (what a click-based tool would schedule by).
    pub click_through_by_hour: f64,
    /// Of our proposed block modifiers against the planted pattern's block means.
    pub proposed_blocks: f64,
    /// Campaigns given a schedule (the rest: no material, credible difference).
    pub campaigns_proposed: usize,
    /// Mean planted peak-to-trough ratio over weekday office hours (how much there is to find).
    pub planted_spread: f64,
    /// Mean decay of the conversion lag the fits chose (the simulator's: 0.6 an hour).
    pub lag_decay: f64,
    /// Our click-value profile from conversions alone (before borrowing from click-through).
    pub conversions_only: f64,
    /// Mean slope of click value on click-through the data showed.
    pub slope: f64,
    /// The following `weeks` weeks with no schedule, our schedule and the oracle's: conversions
    /// and spend (in currency units), all campaigns together.
    pub later: [(f64, f64); 3],
}

/// A bid modifier for each hour of the week from blocks of `BLOCK_HOURS` (first hour, modifier).
fn hourly_modifiers(blocks: impl Iterator<Item = (usize, f64)>) -> Vec<f64> {
    let mut modifiers = vec![1.0; HOURS_OF_WEEK];
    for (first, modifier) in blocks {
        for slot in modifiers.iter_mut().skip(first).take(BLOCK_HOURS) {
            *slot = modifier;
        }
    }
    modifiers
}

/// Google campaigns, each reaching its own audience, run `weeks` weeks from a Monday; each is fitted
/// on what the platform reported and compared with its planted rhythm.
pub fn evaluate(seed: u64, weeks: i64, campaigns: usize) -> DaypartingEvaluation {
    let start = Utc
        .with_ymd_and_hms(2026, 3, 2, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let mut market = Market::new(seed);
    let mut draws = Draws::new(key_hash(seed, "dayparting-eval"), 0, 0);
    for c in 0..campaigns {
        let key = format!("c{c}");
        let budget = ((300.0 + 500.0 * draws.uniform()) * 1e6) as i64;
        market.add_campaign(&key, start, budget, true);
        let fit = 0.6 + 1.2 * draws.uniform();
        for k in 0..24 {
            market.add_unit(
                &format!("{key}/kw{k}"),
                &key,
                UnitKind::Keyword {
                    match_type: (k % 3) as u8,
                },
                &format!("Campaign {c} ad {}", k % 4),
                fit,
                start,
            );
        }
    }
    let h0 = start.timestamp() / 3600;
    let h1 = h0 + weeks * 168;
    let as_of = start + Duration::days(weeks * 7 + 3);
    let rules = DaypartingRules::default();
    let mut result = DaypartingEvaluation {
        seed,
        weeks,
        campaigns,
        ours: 0.0,
        conversions_by_hour: 0.0,
        click_through_by_hour: 0.0,
        proposed_blocks: 0.0,
        campaigns_proposed: 0,
        planted_spread: 0.0,
        lag_decay: 0.0,
        conversions_only: 0.0,
        slope: 0.0,
        later: [(0.0, 0.0); 3],
    };
    for c in 0..campaigns {
        let key = format!("c{c}");
        let Some(planted) = market.engagement(&key) else {
            continue;
        };
        let mut counts = HourOfWeekCounts::default();
        let mut series = HourlySeries {
            first_hour: h0,
            clicks: vec![0.0; (h1 - h0) as usize],
            conversions: vec![0.0; (h1 - h0) as usize],
        };
        for row in market.campaign_hours(&key, h0, h1, as_of) {
            let (clicks, conversions) = (row.figures.clicks as f64, row.figures.conversions as f64);
            counts.add(
                row.hour,
                row.figures.impressions as f64,
                clicks,
                conversions,
            );
            if let Some(t) = usize::try_from(row.hour - h0)
                .ok()
                .filter(|t| *t < series.clicks.len())
            {
                series.clicks[t] += clicks;
                series.conversions[t] += conversions;
            }
        }
        let (conversions_only, decay) = click_value_profile(&series);
        result.lag_decay += decay;
        let click_through = fit_profile(&counts.clicks, &counts.impressions);
        let (profile, slope) = borrow_from_click_through(&conversions_only, &click_through);
        result.slope += slope;
        result.conversions_only += spearman(&conversions_only.ratio, &planted);
        result.ours += spearman(&profile.ratio, &planted);
        result.conversions_by_hour += spearman(&counts.conversions, &planted);
        result.click_through_by_hour += spearman(&click_through.ratio, &planted);
        let office: Vec<f64> = (0..5 * 24)
            .filter(|slot| (8..18).contains(&(slot % 24)))
            .map(|slot| planted[slot])
            .collect();
        let spread = office.iter().copied().fold(f64::NEG_INFINITY, f64::max)
            / office.iter().copied().fold(f64::INFINITY, f64::min);
        result.planted_spread += spread;
        let advice = advise(Platform::Google, &profile, &rules);
        // The next four weeks three ways: no schedule, ours, and the oracle's (the planted
        // rhythm's block means, within the same ±50 %).
        let ours = match &advice {
            ScheduleAdvice::Propose { blocks } => hourly_modifiers(blocks.iter().map(|b| {
                (
                    usize::from(b.weekday) * 24 + usize::from(b.start_hour),
                    f64::from(b.bid_modifier_basis_points) / 10_000.0,
                )
            })),
            _ => Vec::new(),
        };
        let oracle = hourly_modifiers((0..HOURS_OF_WEEK).step_by(BLOCK_HOURS).map(|first| {
            let mean = planted[first..first + BLOCK_HOURS].iter().sum::<f64>() / BLOCK_HOURS as f64;
            (first, mean.clamp(0.5, 1.5))
        }));
        for (arm, modifiers) in [Vec::new(), ours, oracle].into_iter().enumerate() {
            let mut later = market.clone();
            let switch = start + Duration::days(weeks * 7);
            if let Some(sim) = later.campaign_mut(&key) {
                sim.bid_modifiers.set(switch, modifiers);
            }
            let as_of = start + Duration::days(weeks * 14 + 3);
            for row in later.campaign_hours(&key, h1, h1 + weeks * 168, as_of) {
                result.later[arm].0 += row.figures.conversions as f64;
                result.later[arm].1 += row.figures.cost_micros as f64 / 1e6;
            }
        }
        if let ScheduleAdvice::Propose { blocks } = advice {
            result.campaigns_proposed += 1;
            let modifiers: Vec<f64> = blocks
                .iter()
                .map(|b| f64::from(b.bid_modifier_basis_points))
                .collect();
            let truth: Vec<f64> = blocks
                .iter()
                .map(|b| {
                    let first = usize::from(b.weekday) * 24 + usize::from(b.start_hour);
                    let hours = usize::from(b.end_hour - b.start_hour);
                    planted[first..first + hours].iter().sum::<f64>() / hours as f64
                })
                .collect();
            result.proposed_blocks += spearman(&modifiers, &truth);
        }
    }
    let n = campaigns.max(1) as f64;
    result.ours /= n;
    result.conversions_by_hour /= n;
    result.click_through_by_hour /= n;
    result.planted_spread /= n;
    result.lag_decay /= n;
    result.conversions_only /= n;
    result.slope /= n;
    result.proposed_blocks /= result.campaigns_proposed.max(1) as f64;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spearman_of_a_monotone_map_is_one_and_of_its_reverse_minus_one() {
        let a = [1.0, 2.0, 3.0, 4.0];
        assert!((spearman(&a, &[10.0, 20.0, 30.0, 400.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&a, &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
    }
}
