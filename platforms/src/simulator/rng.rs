//! Counter-based randomness: every draw is a pure function of (seed, key, hour, stream), so the
//! market gives the same figures whatever order it is asked in, and the same for the same seed.

/// FNV-1a over the key, then mixed with the seed: the per-entity stream.
pub fn key_hash(seed: u64, key: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    splitmix(hash ^ seed.rotate_left(17))
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A sequence of draws for one (entity, hour, purpose).
pub struct Draws {
    state: u64,
}

impl Draws {
    pub fn new(entity: u64, hour: i64, stream: u32) -> Self {
        Self {
            state: splitmix(entity ^ splitmix(hour as u64) ^ (u64::from(stream) << 48)),
        }
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        self.state = splitmix(self.state);
        ((self.state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// `exp(N(0, sigma))`, rescaled to mean 1.
    pub fn lognormal(&mut self, sigma: f64) -> f64 {
        (sigma * self.normal() - sigma * sigma / 2.0).exp()
    }

    /// Poisson(mean): inversion for small means, a rounded normal for large ones.
    pub fn poisson(&mut self, mean: f64) -> u64 {
        if mean.is_nan() || mean <= 0.0 {
            return 0;
        }
        if mean > 40.0 {
            return (mean + mean.sqrt() * self.normal()).round().max(0.0) as u64;
        }
        let limit = (-mean).exp();
        let mut product = self.uniform();
        let mut count = 0;
        while product > limit {
            product *= self.uniform();
            count += 1;
        }
        count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_reproducible_and_roughly_right() {
        let entity = key_hash(7, "google/1/kw/2");
        let a: Vec<u64> = (0..5)
            .map(|h| Draws::new(entity, h, 1).poisson(3.0))
            .collect();
        let b: Vec<u64> = (0..5)
            .map(|h| Draws::new(entity, h, 1).poisson(3.0))
            .collect();
        assert_eq!(a, b);
        let mean = (0..20_000)
            .map(|h| Draws::new(entity, h, 2).poisson(12.0) as f64)
            .sum::<f64>()
            / 20_000.0;
        assert!((mean - 12.0).abs() < 0.2, "{mean}");
        let big = (0..20_000)
            .map(|h| Draws::new(entity, h, 3).poisson(500.0) as f64)
            .sum::<f64>()
            / 20_000.0;
        assert!((big - 500.0).abs() < 2.0, "{big}");
        let lognormal = (0..20_000)
            .map(|h| Draws::new(entity, h, 4).lognormal(0.5))
            .sum::<f64>()
            / 20_000.0;
        assert!((lognormal - 1.0).abs() < 0.03, "{lognormal}");
    }
}
