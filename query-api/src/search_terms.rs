//! The newest search terms review of a campaign (`SearchTermsReviewed` on its monitor stream, read
//! from the `activity` read model): the searches behind its Google clicks over the review's
//! window, costliest first, and the negative keywords the review proposed.

use crate::anomalies::monitor_events;
use crate::db::ReadDb;
use crate::loaders::Owned;
use crate::scalars::Long;
use adflow_domain::monitoring::SearchTermsReviewed;
use async_graphql::dataloader::Loader;
use async_graphql::SimpleObject;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::Row;
use std::collections::HashMap;

/// One search of the report, summed over the window. Money in the campaign's currency.
#[derive(Debug, Clone, SimpleObject)]
pub struct SearchTerm {
    pub search_term: String,
    /// The keyword the search matched.
    pub keyword: String,
    pub clicks: Long,
    pub conversions: Long,
    pub cost_micros: Long,
}

/// A search terms review: what was read and what it proposed.
#[derive(Debug, Clone, SimpleObject)]
pub struct SearchTermReport {
    pub platform: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// The rule's name and version.
    pub rule: String,
    /// Searches in the report; `searches` holds the costliest of them.
    pub searches_total: i32,
    pub searches: Vec<SearchTerm>,
    /// Phrase negatives the review proposed (each a proposal of the campaign).
    pub proposed_negatives: Vec<String>,
    pub reviewed_at: DateTime<Utc>,
}

fn decode(row: &sqlx::postgres::PgRow) -> Option<SearchTermReport> {
    let data: serde_json::Value = row.try_get("data").ok()?;
    let review = serde_json::from_value::<SearchTermsReviewed>(data).ok()?;
    Some(SearchTermReport {
        platform: review.platform.as_str().to_owned(),
        from: review.from,
        to: review.to,
        rule: review.rule,
        searches_total: i32::try_from(review.searches_total).unwrap_or(i32::MAX),
        searches: review
            .searches
            .into_iter()
            .map(|s| SearchTerm {
                search_term: s.search_term,
                keyword: s.keyword,
                clicks: Long(s.clicks),
                conversions: Long(s.conversions),
                cost_micros: Long(s.cost_micros),
            })
            .collect(),
        proposed_negatives: review.proposed_negatives,
        reviewed_at: row.try_get("recorded_at").ok()?,
    })
}

/// The newest review by campaign (the key's id).
pub struct SearchTermsLoader(pub ReadDb);

impl Loader<Owned> for SearchTermsLoader {
    type Value = SearchTermReport;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[Owned]) -> Result<HashMap<Owned, Self::Value>, Self::Error> {
        let rows = monitor_events(
            &self.0,
            keys,
            &["SearchTermsReviewed"],
            "stream_version DESC",
        )
        .await?;
        let mut found: HashMap<Owned, SearchTermReport> = HashMap::new();
        for (key, row) in rows {
            if found.contains_key(&key) {
                continue;
            }
            if let Some(report) = decode(&row) {
                found.insert(key, report);
            }
        }
        Ok(found)
    }
}
