//! k-means in tch (k-means++ seeding, Lloyd iterations), used for keyword themes and for audience
//! segments. Deterministic for a seed; on unit vectors it groups by cosine similarity.

use tch::{Kind, Tensor};

pub struct Clustering {
    /// The cluster of every row, `0..k`.
    pub assignments: Vec<usize>,
    /// `[k, dim]`.
    pub centroids: Tensor,
}

fn squared_distances(x: &Tensor, centroids: &Tensor) -> Tensor {
    let x2 = x.pow_tensor_scalar(2).sum_dim_intlist(1, true, Kind::Float);
    let c2 = centroids
        .pow_tensor_scalar(2)
        .sum_dim_intlist(1, true, Kind::Float)
        .transpose(0, 1);
    (x2 - x.matmul(&centroids.transpose(0, 1)) * 2.0 + c2).clamp_min(0.0)
}

/// Clusters the rows of `x` (`[n, dim]`, float) into `k` groups (`k` is capped at `n`): the best
/// of ten seeded runs by within-cluster squared distance, as k-means++ alone can land in a poor
/// local optimum.
pub fn kmeans(x: &Tensor, k: usize, seed: u64, iterations: usize) -> Clustering {
    let mut best: Option<(f64, Clustering)> = None;
    for run in 0..10u64 {
        let clustering = kmeans_once(x, k, seed.wrapping_mul(31).wrapping_add(run), iterations);
        let inertia = inertia(x, &clustering);
        if best.as_ref().is_none_or(|(b, _)| inertia < *b) {
            best = Some((inertia, clustering));
        }
    }
    best.map(|(_, c)| c)
        .unwrap_or_else(|| kmeans_once(x, k, seed, iterations))
}

fn inertia(x: &Tensor, clustering: &Clustering) -> f64 {
    if clustering.assignments.is_empty() {
        return 0.0;
    }
    let index = Tensor::from_slice(
        &clustering
            .assignments
            .iter()
            .map(|&a| a as i64)
            .collect::<Vec<_>>(),
    );
    let own = clustering.centroids.index_select(0, &index);
    (x - own)
        .pow_tensor_scalar(2)
        .sum(Kind::Double)
        .double_value(&[])
}

fn kmeans_once(x: &Tensor, k: usize, seed: u64, iterations: usize) -> Clustering {
    let n = x.size()[0] as usize;
    let k = k.clamp(1, n.max(1));
    if n == 0 {
        return Clustering {
            assignments: Vec::new(),
            centroids: x.shallow_clone(),
        };
    }
    let mut rng = fastrand::Rng::with_seed(seed);
    // k-means++: each next centre is drawn with probability proportional to its squared distance.
    let mut chosen = vec![rng.usize(..n)];
    while chosen.len() < k {
        let index = Tensor::from_slice(&chosen.iter().map(|&i| i as i64).collect::<Vec<_>>());
        let centres = x.index_select(0, &index);
        let nearest = squared_distances(x, &centres).amin([1i64].as_slice(), false);
        let weights: Vec<f64> =
            Vec::<f64>::try_from(nearest.to_kind(Kind::Double)).unwrap_or_default();
        let total: f64 = weights.iter().sum();
        let next = if total <= 0.0 {
            // Fewer distinct points than k: take any not yet chosen.
            (0..n).find(|i| !chosen.contains(i)).unwrap_or(0)
        } else {
            let mut target = rng.f64() * total;
            weights
                .iter()
                .position(|w| {
                    target -= w;
                    target <= 0.0
                })
                .unwrap_or(n - 1)
        };
        chosen.push(next);
    }
    let index = Tensor::from_slice(&chosen.iter().map(|&i| i as i64).collect::<Vec<_>>());
    let mut centroids = x.index_select(0, &index);
    let mut assignments = vec![usize::MAX; n];
    for _ in 0..iterations.max(1) {
        let nearest = squared_distances(x, &centroids).argmin(1, false);
        let next: Vec<usize> = Vec::<i64>::try_from(nearest.shallow_clone())
            .unwrap_or_default()
            .into_iter()
            .map(|i| i as usize)
            .collect();
        let one_hot = nearest
            .one_hot(k as i64)
            .to_kind(Kind::Float)
            .transpose(0, 1);
        let counts = one_hot.sum_dim_intlist(1, true, Kind::Float);
        let sums = one_hot.matmul(x);
        // An emptied cluster keeps its old centre rather than collapsing to zero.
        let empty = counts.eq(0.0);
        centroids = sums
            .divide(&counts.clamp_min(1.0))
            .where_self(&empty.logical_not(), &centroids);
        if next == assignments {
            break;
        }
        assignments = next;
    }
    Clustering {
        assignments,
        centroids,
    }
}

/// Purity and normalised mutual information of `predicted` against `truth` (both labels per item).
pub fn purity_and_nmi(predicted: &[usize], truth: &[usize]) -> (f64, f64) {
    use std::collections::HashMap;
    let n = predicted.len().min(truth.len()) as f64;
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let mut joint: HashMap<(usize, usize), f64> = HashMap::new();
    let mut by_cluster: HashMap<usize, f64> = HashMap::new();
    let mut by_class: HashMap<usize, f64> = HashMap::new();
    for (&p, &t) in predicted.iter().zip(truth) {
        *joint.entry((p, t)).or_default() += 1.0;
        *by_cluster.entry(p).or_default() += 1.0;
        *by_class.entry(t).or_default() += 1.0;
    }
    let purity = by_cluster
        .keys()
        .map(|c| {
            joint
                .iter()
                .filter(|((p, _), _)| p == c)
                .map(|(_, v)| *v)
                .fold(0.0, f64::max)
        })
        .sum::<f64>()
        / n;
    let entropy = |counts: &HashMap<usize, f64>| {
        -counts.values().map(|c| (c / n) * (c / n).ln()).sum::<f64>()
    };
    let mutual: f64 = joint
        .iter()
        .map(|((p, t), v)| {
            let pxy = v / n;
            pxy * (pxy / ((by_cluster[p] / n) * (by_class[t] / n))).ln()
        })
        .sum();
    let denominator = (entropy(&by_cluster) + entropy(&by_class)) / 2.0;
    let nmi = if denominator > 0.0 {
        mutual / denominator
    } else {
        1.0
    };
    (purity, nmi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_obvious_groups_and_is_deterministic() {
        let points: Vec<f32> = vec![0.0, 0.0, 0.1, 0.0, 0.0, 0.1, 5.0, 5.0, 5.1, 5.0, 5.0, 5.1];
        let x = Tensor::from_slice(&points).view([6, 2]);
        let a = kmeans(&x, 2, 7, 20).assignments;
        assert_eq!(a[0], a[1]);
        assert_eq!(a[0], a[2]);
        assert_eq!(a[3], a[4]);
        assert_ne!(a[0], a[3]);
        assert_eq!(a, kmeans(&x, 2, 7, 20).assignments);
    }

    #[test]
    fn scores_a_perfect_and_a_useless_clustering() {
        let (purity, nmi) = purity_and_nmi(&[0, 0, 1, 1], &[5, 5, 6, 6]);
        assert!((purity - 1.0).abs() < 1e-9 && (nmi - 1.0).abs() < 1e-9);
        let (_, nmi) = purity_and_nmi(&[0, 0, 0, 0], &[5, 5, 6, 6]);
        assert!(nmi.abs() < 1e-9);
    }
}
