//! Scores of rate predictions on counts: each row stands for `trials` events of which `successes`
//! were positive, all with the row's predicted probability.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RateScore {
    pub auc: f64,
    /// Mean binomial negative log-likelihood per trial.
    pub log_loss: f64,
    /// Expected calibration error: the trial-weighted mean |predicted − observed| over ten bins
    /// of equal trials, ordered by prediction.
    pub calibration_error: f64,
}

/// One row: (prediction, trials, successes).
pub type Scored = (f64, f64, f64);

/// The area under the ROC curve of events scored by their row's prediction (ties count half).
pub fn auc(rows: &[Scored]) -> f64 {
    let mut sorted: Vec<&Scored> = rows.iter().filter(|r| r.1 > 0.0).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let positives: f64 = sorted.iter().map(|r| r.2.min(r.1)).sum();
    let negatives: f64 = sorted.iter().map(|r| r.1 - r.2.min(r.1)).sum();
    if positives <= 0.0 || negatives <= 0.0 {
        return 0.5;
    }
    let (mut below, mut area, mut i) = (0.0, 0.0, 0);
    while i < sorted.len() {
        let mut j = i;
        let (mut pos, mut neg) = (0.0, 0.0);
        while j < sorted.len() && sorted[j].0 == sorted[i].0 {
            pos += sorted[j].2.min(sorted[j].1);
            neg += sorted[j].1 - sorted[j].2.min(sorted[j].1);
            j += 1;
        }
        area += pos * (below + neg / 2.0);
        below += neg;
        i = j;
    }
    area / (positives * negatives)
}

pub fn log_loss(rows: &[Scored]) -> f64 {
    let trials: f64 = rows.iter().map(|r| r.1).sum();
    if trials <= 0.0 {
        return 0.0;
    }
    rows.iter()
        .map(|(p, n, s)| {
            let p = p.clamp(1e-7, 1.0 - 1e-7);
            let s = s.min(*n);
            -(s * p.ln() + (n - s) * (1.0 - p).ln())
        })
        .sum::<f64>()
        / trials
}

pub fn calibration_error(rows: &[Scored]) -> f64 {
    let mut sorted: Vec<&Scored> = rows.iter().filter(|r| r.1 > 0.0).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: f64 = sorted.iter().map(|r| r.1).sum();
    if total <= 0.0 {
        return 0.0;
    }
    let mut error = 0.0;
    let (mut trials, mut predicted, mut observed, mut bin) = (0.0, 0.0, 0.0, 1.0);
    for (p, n, s) in sorted {
        trials += n;
        predicted += p * n;
        observed += s.min(*n);
        if trials >= total * bin / 10.0 - 1e-9 {
            error += (predicted - observed).abs();
            (trials, predicted, observed) = (0.0, 0.0, 0.0);
            bin += 1.0;
        }
    }
    (error + (predicted - observed).abs()) / total
}

pub fn score(rows: &[Scored]) -> RateScore {
    RateScore {
        auc: auc(rows),
        log_loss: log_loss(rows),
        calibration_error: calibration_error(rows),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_of_a_perfect_a_reversed_and_a_constant_ranking() {
        let perfect = [(0.9, 10.0, 10.0), (0.1, 10.0, 0.0)];
        let reversed = [(0.1, 10.0, 10.0), (0.9, 10.0, 0.0)];
        let constant = [(0.5, 10.0, 3.0), (0.5, 10.0, 7.0)];
        assert_eq!(auc(&perfect), 1.0);
        assert_eq!(auc(&reversed), 0.0);
        assert_eq!(auc(&constant), 0.5);
        // Counts are events: a row of 4 trials with 1 success ranks like four rows of one.
        let rows = [(0.3, 4.0, 1.0), (0.6, 2.0, 2.0), (0.1, 3.0, 0.0)];
        // positives: one at 0.3, two at 0.6; negatives: three at 0.3, three at 0.1.
        // pairs won: 0.3 → 3 + 3·0.5 = 4.5; each 0.6 → 6 ⇒ 16.5 of 18.
        assert!((auc(&rows) - 16.5 / 18.0).abs() < 1e-12);
    }

    #[test]
    fn log_loss_and_calibration_of_the_true_rate() {
        let rows = [(0.25, 100.0, 25.0)];
        let expected = -(0.25f64 * 0.25f64.ln() + 0.75 * 0.75f64.ln());
        assert!((log_loss(&rows) - expected).abs() < 1e-12);
        assert!(calibration_error(&rows) < 1e-12);
        let overconfident = [(0.5, 100.0, 25.0)];
        assert!((calibration_error(&overconfident) - 0.25).abs() < 1e-12);
    }
}
