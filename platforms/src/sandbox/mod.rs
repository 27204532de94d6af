//! The sandbox: Google Ads and LinkedIn Marketing API on loopback, the way LocalStack stands in
//! for AWS. Both wire formats (paths, headers, bodies, ids, error bodies), the platforms' rules
//! (validation, OAuth2 refresh, daily operation quota, per-account rate limits), faults on request
//! (latency, 5xx, 429, hangs, a response lost after the write took effect), and behind it all the
//! market simulator, whose figures the report endpoints serve.
//!
//! Control endpoints under `/_sandbox` (never on a real platform): `truth`, `faults`, `clock`,
//! `inventory`, `quota`, `revoke`.

mod control;
mod faults;
mod gaql;
mod google;
mod google_mutate;
mod google_search;
mod linkedin;
mod oauth;
mod search_term_view;

pub use faults::{Fault, FaultRule};

use crate::simulator::{Market, SimClock};
use axum::Router;
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

#[derive(Debug, Clone)]
pub struct SandboxConfig {
    pub seed: u64,
    /// Simulated seconds per wall-clock second; 0 stops the clock (tests move it by hand).
    pub speed: f64,
    pub start: DateTime<Utc>,
    /// Google Ads operations per developer token and day (Basic access: 15,000).
    pub google_daily_operations: u64,
    /// Requests per second per account before 429s.
    pub requests_per_second: u32,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            speed: 3600.0,
            start: Utc::now(),
            google_daily_operations: 15_000,
            requests_per_second: 50,
        }
    }
}

pub(crate) struct World {
    pub market: Market,
    pub clock: SimClock,
    pub google: BTreeMap<String, google::Customer>,
    pub linkedin: BTreeMap<String, linkedin::AdAccount>,
    /// LinkedIn posts by URN (`urn:li:share:<id>`).
    pub posts: BTreeMap<String, serde_json::Value>,
    pub faults: Vec<FaultRule>,
    /// Access token → (refresh token, expiry).
    pub tokens: HashMap<String, (String, Instant)>,
    pub revoked: HashSet<String>,
    pub operations_used: u64,
    pub operations_limit: u64,
    pub requests_per_second: u32,
    /// Account → (second, requests in it).
    pub rate: HashMap<String, (u64, u32)>,
    pub next_id: u64,
    pub requests: u64,
}

impl World {
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Counts a request against the account's per-second budget; false when throttled.
    pub fn admit(&mut self, account: &str) -> bool {
        self.requests += 1;
        let second = Utc::now().timestamp() as u64;
        let entry = self.rate.entry(account.to_owned()).or_insert((second, 0));
        if entry.0 != second {
            *entry = (second, 0);
        }
        entry.1 += 1;
        entry.1 <= self.requests_per_second
    }
}

#[derive(Clone)]
pub struct Sandbox(Arc<Mutex<World>>);

impl Sandbox {
    pub fn new(config: SandboxConfig) -> Self {
        Self(Arc::new(Mutex::new(World {
            market: Market::new(config.seed),
            clock: SimClock::new(config.start, config.speed),
            google: BTreeMap::new(),
            linkedin: BTreeMap::new(),
            posts: BTreeMap::new(),
            faults: Vec::new(),
            tokens: HashMap::new(),
            revoked: HashSet::new(),
            operations_used: 0,
            operations_limit: config.google_daily_operations,
            requests_per_second: config.requests_per_second,
            rate: HashMap::new(),
            next_id: 100_000,
            requests: 0,
        })))
    }

    pub(crate) fn world(&self) -> MutexGuard<'_, World> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Moves the simulated clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        self.world().clock.advance(by);
    }

    /// The ground truth, for evaluations.
    pub fn ground_truth(&self) -> crate::simulator::GroundTruth {
        self.world().market.ground_truth()
    }

    pub fn router(&self) -> Router {
        Router::new()
            .nest("/google", google::routes())
            .nest("/linkedin", linkedin::routes())
            .merge(oauth::routes())
            .nest("/_sandbox", control::routes())
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                faults::inject,
            ))
            .with_state(self.clone())
    }

    /// Serves until `shutdown` resolves.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// Splits `a=1&b=2` without decoding (Rest.li values carry their own syntax).
pub(crate) fn raw_params(query: &str) -> HashMap<String, String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        // Hex digits read byte by byte: slicing the text could split a character.
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::percent_decode;

    #[test]
    fn escapes_decode_and_anything_else_passes_through() {
        assert_eq!(
            percent_decode("Q1%20pipeline%5Badflow%5D+x"),
            "Q1 pipeline[adflow] x"
        );
        assert_eq!(percent_decode("%é%4"), "%é%4");
        assert_eq!(percent_decode("%e9%"), "\u{fffd}%");
    }
}
