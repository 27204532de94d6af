//! Budget allocation over response curves (the allocator of "Optimisation, part 2", its pure
//! core): each line (a platform's budget, an ad group's share) has a Hill saturation curve of
//! conversions a day over its daily budget; the total is spread to maximise expected conversions
//! within each line's platform minimum and bounds and the tenant's daily change limit. Marginal
//! allocation in steps: optimal for concave curves (a Hill slope ≤ 1), a good approximation for
//! S-shaped ones. Thompson sampling is the caller's: it passes curves drawn from their posteriors.

use crate::violation::Violations;
use serde::{Deserialize, Serialize};

/// Conversions a day at a daily budget `b`: `max · bⁿ / (bⁿ + halfⁿ)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResponseCurve {
    pub max_conversions: f64,
    /// The budget at which half of `max_conversions` is reached (micros).
    pub half_micros: f64,
    pub slope: f64,
}

impl ResponseCurve {
    pub fn conversions(&self, budget_micros: f64) -> f64 {
        if budget_micros <= 0.0 || self.half_micros <= 0.0 {
            return 0.0;
        }
        let x = (budget_micros / self.half_micros).powf(self.slope);
        self.max_conversions * x / (1.0 + x)
    }
}

/// One budget line and its limits (micros a day).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BudgetLine {
    pub curve: ResponseCurve,
    pub current_micros: i64,
    /// The platform's minimum (or the tenant's floor for the line).
    pub min_micros: i64,
    pub max_micros: i64,
}

/// The lowest and highest budget a line may have today: its bounds, and no further from its
/// current budget than `max_change_basis_points` allow.
fn range(line: &BudgetLine, max_change_basis_points: u32) -> (i64, i64) {
    let change = i128::from(line.current_micros) * i128::from(max_change_basis_points) / 10_000;
    let change = i64::try_from(change).unwrap_or(i64::MAX);
    let low = line
        .min_micros
        .max(line.current_micros.saturating_sub(change));
    let high = line
        .max_micros
        .min(line.current_micros.saturating_add(change));
    (low, high.max(low))
}

/// Spreads `total_micros` a day over `lines` in steps of `step_micros`, by their curves. Refused
/// when the lines' lowest budgets already exceed the total or their highest cannot reach it.
pub fn allocate(
    lines: &[BudgetLine],
    total_micros: i64,
    max_change_basis_points: u32,
    step_micros: i64,
) -> Result<Vec<i64>, Violations> {
    allocate_by(
        lines,
        total_micros,
        max_change_basis_points,
        step_micros,
        |i, budget| lines[i].curve.conversions(budget),
    )
}

/// [`allocate`] by any response (`line index, budget → conversions a day`): a sampled curve, or the
/// truth an oracle knows. The lines' own curves are ignored.
pub fn allocate_by(
    lines: &[BudgetLine],
    total_micros: i64,
    max_change_basis_points: u32,
    step_micros: i64,
    response: impl Fn(usize, f64) -> f64,
) -> Result<Vec<i64>, Violations> {
    let mut violations = Violations::new();
    if lines.is_empty() {
        violations.push("lines", "required", "at least one budget line");
    }
    if step_micros <= 0 {
        violations.push("stepMicros", "not_positive", "must be greater than zero");
    }
    let ranges: Vec<(i64, i64)> = lines
        .iter()
        .map(|l| range(l, max_change_basis_points))
        .collect();
    let lowest: i128 = ranges.iter().map(|r| i128::from(r.0)).sum();
    let highest: i128 = ranges.iter().map(|r| i128::from(r.1)).sum();
    if lowest > i128::from(total_micros) {
        violations.push(
            "totalMicros",
            "below_minimums",
            format!("the lines need at least {lowest} micros a day"),
        );
    }
    if highest < i128::from(total_micros) {
        violations.push(
            "totalMicros",
            "above_limits",
            format!("the lines may take at most {highest} micros a day today"),
        );
    }
    if !violations.is_empty() {
        return Err(violations);
    }
    let mut budgets: Vec<i64> = ranges.iter().map(|r| r.0).collect();
    let mut left = total_micros - budgets.iter().sum::<i64>();
    while left > 0 {
        let step = step_micros.min(left);
        let best = lines
            .iter()
            .zip(&budgets)
            .zip(&ranges)
            .enumerate()
            .filter(|(_, ((_, b), r))| **b < r.1)
            .map(|(i, ((_, b), r))| {
                let give = step.min(r.1 - *b);
                let gain = response(i, (*b + give) as f64) - response(i, *b as f64);
                (i, give, gain / give as f64)
            })
            .max_by(|a, b| a.2.total_cmp(&b.2));
        let Some((i, give, _)) = best else { break };
        budgets[i] += give;
        left -= give;
    }
    Ok(budgets)
}

/// Expected conversions a day of `budgets` on `lines`.
pub fn expected_conversions(lines: &[BudgetLine], budgets: &[i64]) -> f64 {
    lines
        .iter()
        .zip(budgets)
        .map(|(l, b)| l.curve.conversions(*b as f64))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(max: f64, half: f64, current: i64) -> BudgetLine {
        BudgetLine {
            curve: ResponseCurve {
                max_conversions: max,
                half_micros: half,
                slope: 1.0,
            },
            current_micros: current,
            min_micros: 10_000_000,
            max_micros: 1_000_000_000,
        }
    }

    #[test]
    fn budget_goes_where_a_unit_buys_more_conversions() {
        // The same 200 a day: a line far from saturation gets more than a saturated one.
        let lines = [
            line(20.0, 50e6, 100_000_000),
            line(20.0, 500e6, 100_000_000),
        ];
        let budgets = allocate(&lines, 200_000_000, 10_000, 1_000_000).unwrap();
        assert_eq!(budgets.iter().sum::<i64>(), 200_000_000);
        assert!(budgets[0] != budgets[1]);
        let even = expected_conversions(&lines, &[100_000_000, 100_000_000]);
        assert!(expected_conversions(&lines, &budgets) > even);
    }

    #[test]
    fn the_daily_change_limit_and_the_minimums_hold() {
        let lines = [line(20.0, 50e6, 100_000_000), line(1.0, 500e6, 100_000_000)];
        // ±20 %: neither line may leave 80..120 today, whatever the curves say.
        let budgets = allocate(&lines, 200_000_000, 2_000, 1_000_000).unwrap();
        assert_eq!(budgets, vec![120_000_000, 80_000_000]);
        let refused = allocate(&lines, 500_000_000, 2_000, 1_000_000).unwrap_err();
        assert!(format!("{refused:?}").contains("above_limits"));
        let refused = allocate(&lines, 10_000_000, 10_000, 1_000_000).unwrap_err();
        assert!(format!("{refused:?}").contains("below_minimums"));
    }

    proptest! {
        /// Whatever the curves, the whole total is spread, every line within its range, and
        /// concave curves never do worse than the lines' current budgets scaled to the total.
        #[test]
        fn an_allocation_spends_the_total_within_every_range(
            curves in proptest::collection::vec((1.0f64..100.0, 1e6f64..1e9, 50_000_000i64..500_000_000), 1..6),
            change in 500u32..10_000,
        ) {
            let lines: Vec<BudgetLine> = curves.iter().map(|(m, h, c)| line(*m, *h, *c)).collect();
            let total: i64 = lines.iter().map(|l| l.current_micros).sum();
            let budgets = allocate(&lines, total, change, 1_000_000).unwrap();
            prop_assert_eq!(budgets.iter().sum::<i64>(), total);
            for (l, b) in lines.iter().zip(&budgets) {
                let (low, high) = range(l, change);
                prop_assert!(*b >= low && *b <= high);
            }
            let current: Vec<i64> = lines.iter().map(|l| l.current_micros).collect();
            prop_assert!(expected_conversions(&lines, &budgets) + 1e-6 >= expected_conversions(&lines, &current) - 0.01);
        }
    }
}
