//! What the predictor knows about one unit (a keyword or a creative) over one hour or day: its
//! identity and the things around it (ad group, campaign, theme, copy, audience segment, platform and
//! match type, bid, negative keywords, hour of week), each hashed into its own range of one
//! embedding table; the words of its keyword and of its copy, which [`super::text`] embeds; and the
//! counts observed (trials and successes: impressions and clicks, or clicks and conversions).

use serde::{Deserialize, Serialize};

/// The categorical fields, in the order of the encoded columns.
pub const FIELDS: [&str; 11] = [
    "unit",
    "ad_group",
    "campaign",
    "theme",
    "copy",
    "segment",
    "kind",
    "hour_of_day",
    "day_type",
    "bid",
    "negatives",
];
/// Hash buckets per field: collisions stay rare for tens of thousands of units per field.
pub const BUCKETS: i64 = 1 << 14;
/// Rows of the embedding table.
pub const TABLE_ROWS: i64 = BUCKETS * FIELDS.len() as i64;

/// What is predicted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Target {
    /// Clicks per impression, hour by hour.
    ClickThrough,
    /// Conversions per click, day by day (conversions follow clicks by hours and arrive late).
    Conversion,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::ClickThrough => "ctr",
            Target::Conversion => "cvr",
        }
    }
}

/// One unit over one hour (or day, `hour_of_day: None`), as a platform reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The keyword (`campaign/ad group/text/match`) or creative, platform-qualified.
    pub unit: String,
    pub ad_group: String,
    pub campaign: String,
    /// What the ad group is about, shared by every campaign that has it (the ad group's name in
    /// the structure: its keyword theme and offer). An audience answers some themes better than
    /// others: the interaction a new campaign can be predicted from.
    #[serde(default)]
    pub theme: String,
    /// The ad text the unit serves with.
    pub copy: String,
    /// A keyword's own words (`cloud cost pricing`); empty for a creative, whose words are its copy.
    /// Hashed only as part of the unit; embedded, they carry what a searcher wants to units the
    /// model has never seen.
    #[serde(default)]
    pub keyword: String,
    /// The audience segment the campaign targets (empty: none named).
    #[serde(default)]
    pub segment: String,
    /// Platform and format: `google/exact`, `google/phrase`, `google/broad`, `linkedin/sponsored`.
    pub kind: String,
    /// Days since the epoch (UTC).
    pub day: i64,
    pub hour_of_day: Option<u8>,
    /// The manual CPC bid; `None` bids automatically.
    pub max_cpc_micros: Option<i64>,
    pub negatives: u32,
    pub trials: f64,
    pub successes: f64,
}

impl Observation {
    pub fn weekday(&self) -> i64 {
        (self.day + 3).rem_euclid(7) // 1970-01-01 was a Thursday; 0 = Monday
    }
}

/// FNV-1a: stable across builds and platforms, unlike the standard hasher.
fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn bucket(field: usize, value: &str) -> i64 {
    field as i64 * BUCKETS + (fnv(value) % BUCKETS as u64) as i64
}

fn bid_band(max_cpc_micros: Option<i64>) -> String {
    match max_cpc_micros {
        None => "auto".to_owned(),
        Some(m) => format!("{}", ((m.max(1) as f64 / 1e6).log2() * 2.0).round() as i64),
    }
}

fn negatives_band(negatives: u32) -> &'static str {
    match negatives {
        0 => "0",
        1..=3 => "1-3",
        4..=10 => "4-10",
        _ => "11+",
    }
}

/// The row of the embedding table of each field.
pub fn encode(o: &Observation) -> [i64; FIELDS.len()] {
    let hour = match o.hour_of_day {
        Some(h) => h.to_string(),
        None => "day".to_owned(),
    };
    let day_type = if o.weekday() >= 5 {
        "weekend"
    } else {
        "weekday"
    };
    let negatives = negatives_band(o.negatives);
    [
        bucket(0, &o.unit),
        bucket(1, &o.ad_group),
        bucket(2, &o.campaign),
        bucket(3, &o.theme),
        bucket(4, &o.copy),
        bucket(5, &o.segment),
        bucket(6, &o.kind),
        bucket(7, &hour),
        bucket(8, day_type),
        bucket(9, &bid_band(o.max_cpc_micros)),
        bucket(10, negatives),
    ]
}

/// The same unit, on its own: what the interval's data count is keyed by.
pub fn unit_key(o: &Observation) -> &str {
    &o.unit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn observation() -> Observation {
        Observation {
            unit: "c/g/kw/exact".into(),
            ad_group: "c/g".into(),
            campaign: "c".into(),
            theme: "cloud costs".into(),
            copy: "Cut cloud bills".into(),
            keyword: "kw".into(),
            segment: "it-directors".into(),
            kind: "google/exact".into(),
            day: 20_000,
            hour_of_day: Some(9),
            max_cpc_micros: Some(2_000_000),
            negatives: 2,
            trials: 10.0,
            successes: 1.0,
        }
    }

    #[test]
    fn each_field_stays_in_its_own_range_and_hashing_is_stable() {
        let rows = encode(&observation());
        for (field, row) in rows.iter().enumerate() {
            assert!(*row >= field as i64 * BUCKETS && *row < (field as i64 + 1) * BUCKETS);
        }
        assert_eq!(rows, encode(&observation()));
        assert_eq!(fnv("a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn a_daily_row_and_a_weekend_differ_from_an_office_hour() {
        let hourly = encode(&observation());
        let mut daily = observation();
        daily.hour_of_day = None;
        daily.day += 2; // a Saturday
        let daily = encode(&daily);
        assert_ne!(hourly[7], daily[7]);
        assert_ne!(hourly[8], daily[8]);
        assert_eq!(hourly[0], daily[0]);
    }
}
