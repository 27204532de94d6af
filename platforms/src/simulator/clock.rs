//! The sandbox's clock: simulated time runs `speed` times faster than the wall clock (3,600 = a
//! simulated hour per second, a quarter in about 36 minutes), and tests may jump it forward.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone)]
pub struct SimClock {
    real_origin: DateTime<Utc>,
    sim_origin: DateTime<Utc>,
    speed: f64,
    jumped: Duration,
}

impl SimClock {
    /// Starts at `sim_origin` now; `speed` 0 stops it (only jumps move it).
    pub fn new(sim_origin: DateTime<Utc>, speed: f64) -> Self {
        Self {
            real_origin: Utc::now(),
            sim_origin,
            speed: speed.max(0.0),
            jumped: Duration::zero(),
        }
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.at(Utc::now())
    }

    /// The simulated time at wall-clock time `real`.
    pub fn at(&self, real: DateTime<Utc>) -> DateTime<Utc> {
        let elapsed_ms = (real - self.real_origin).num_milliseconds().max(0) as f64;
        let simulated = Duration::milliseconds((elapsed_ms * self.speed) as i64);
        self.sim_origin + simulated + self.jumped
    }

    pub fn advance(&mut self, by: Duration) {
        if by > Duration::zero() {
            self.jumped += by;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_fast_and_jumps() {
        let origin = DateTime::parse_from_rfc3339("2026-01-05T00:00:00Z")
            .unwrap()
            .to_utc();
        let mut clock = SimClock::new(origin, 3600.0);
        let later = clock.real_origin + Duration::seconds(2);
        assert_eq!(clock.at(later), origin + Duration::hours(2));
        clock.advance(Duration::days(1));
        assert_eq!(clock.at(later), origin + Duration::hours(26));
        clock.advance(Duration::hours(-5));
        assert_eq!(clock.at(later), origin + Duration::hours(26));
    }
}
