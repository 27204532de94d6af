//! Google's `search_term_view` on the sandbox: each keyword's delivery split among the searches it
//! matched (the market's [`crate::simulator::search_terms`]), blocked by the campaign's and the ad
//! group's negative keywords as they stand now, with the status Google gives a search term
//! (`ADDED` when it is a keyword of the ad group, `EXCLUDED` when it is a negative, else `NONE`).

use super::google::{CampaignCriterion, Customer};
use crate::simulator::rng::key_hash;
use crate::simulator::search_terms::{SearchTerm, Searches};
use crate::simulator::UnitHour;
use serde_json::{json, Value};
use std::collections::BTreeMap;

type Row = BTreeMap<String, Value>;

/// What one keyword row of the view matches.
pub(super) struct Matching {
    searches: Searches,
    /// The ad group's keywords (lower-cased), for the `ADDED` status.
    keywords: Vec<String>,
    negatives: Vec<String>,
    ad_group: String,
    campaign: String,
}

fn field(row: &Row, name: &str) -> String {
    match row.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

impl Matching {
    pub(super) fn of(customer: &Customer, row: &Row) -> Matching {
        let ad_group: u64 = field(row, "ad_group.id").parse().unwrap_or_default();
        let campaign: u64 = field(row, "campaign.id").parse().unwrap_or_default();
        let match_type = match field(row, "segments.keyword.info.match_type").as_str() {
            "EXACT" => 0,
            "PHRASE" => 1,
            _ => 2,
        };
        let mut negatives = Vec::new();
        let mut keywords = Vec::new();
        for ((g, _), criterion) in &customer.criteria {
            if *g == ad_group {
                let text = criterion.text.to_lowercase();
                if criterion.negative {
                    negatives.push(text);
                } else {
                    keywords.push(text);
                }
            }
        }
        for ((c, _), criterion) in &customer.campaign_criteria {
            if let (true, CampaignCriterion::Keyword { text, negative, .. }) =
                (*c == campaign, criterion)
            {
                if *negative {
                    negatives.push(text.to_lowercase());
                }
            }
        }
        Matching {
            searches: Searches::new(
                &field(row, "segments.keyword.info.text"),
                match_type,
                &negatives,
            ),
            keywords,
            negatives,
            ad_group: ad_group.to_string(),
            campaign: campaign.to_string(),
        }
    }

    /// The keyword's figures for `hour`, split among the searches it matched.
    pub(super) fn split(&self, hour: &UnitHour) -> Vec<SearchTerm> {
        self.searches
            .split(&hour.figures, key_hash(0, &hour.unit), hour.hour)
    }

    /// The view's own fields for `term` on `row`.
    pub(super) fn describe(&self, row: &mut Row, customer_id: &str, term: &str) {
        let added = self.keywords.iter().any(|k| k == term);
        let excluded = self.negatives.iter().any(|n| n == term);
        let status = match (added, excluded) {
            (true, true) => "ADDED_EXCLUDED",
            (true, false) => "ADDED",
            (false, true) => "EXCLUDED",
            (false, false) => "NONE",
        };
        let encoded: String = term
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        row.insert(
            "search_term_view.resource_name".into(),
            json!(format!(
                "customers/{customer_id}/searchTermViews/{}~{}~{encoded}",
                self.campaign, self.ad_group
            )),
        );
        row.insert("search_term_view.search_term".into(), json!(term));
        row.insert("search_term_view.status".into(), json!(status));
        let ad_group = row
            .get("ad_group.resource_name")
            .cloned()
            .unwrap_or(Value::Null);
        row.insert("search_term_view.ad_group".into(), ad_group);
    }
}
