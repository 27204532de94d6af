//! The port the workers use: one `AdPlatform` per platform. What a platform was asked and what it
//! answered, in our terms; the adapters translate to and from each wire format.

use crate::PlatformError;
use adflow_domain::campaign::Platform;
use adflow_domain::structure::CampaignStructure;
use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The account an adapter acts on, with the secret it authenticates with.
#[derive(Clone, PartialEq, Eq)]
pub enum Account {
    Google {
        /// Ten digits, no dashes.
        customer_id: String,
        /// The manager account the access goes through, if any.
        login_customer_id: Option<String>,
        refresh_token: String,
    },
    Linkedin {
        /// The ad account's numeric id (`urn:li:sponsoredAccount:<id>`).
        account_id: String,
        refresh_token: String,
    },
}

impl std::fmt::Debug for Account {
    // Never print a secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Account::Google { customer_id, .. } => write!(f, "Google({customer_id})"),
            Account::Linkedin { account_id, .. } => write!(f, "Linkedin({account_id})"),
        }
    }
}

/// Marks what Adflow created for one campaign, so that a retried or resumed deployment finds
/// its earlier work on the platform (by name) instead of creating it twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentKey(String);

impl DeploymentKey {
    pub fn for_campaign(campaign: Uuid) -> Self {
        Self(format!("[adflow {}]", campaign.simple()))
    }

    /// `name` with the key appended, within `limit` characters.
    pub fn name(&self, name: &str, limit: usize) -> String {
        let room = limit.saturating_sub(self.0.chars().count() + 1);
        let short: String = name.chars().take(room).collect();
        format!("{short} {}", self.0)
    }
}

pub use adflow_domain::campaign::{ExternalResource, PlatformChange as Change};

#[derive(Debug, Clone, PartialEq)]
pub struct Deployed {
    /// The campaign (Google) or campaign group (LinkedIn).
    pub external_id: String,
    pub resources: Vec<ExternalResource>,
    /// HTTP requests it took, retries included.
    pub requests: u32,
    /// Found on the platform from an earlier attempt rather than created now.
    pub resumed: bool,
}

/// How fine a platform's report rows are. LinkedIn reports days only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Granularity {
    Hour,
    Day,
}

/// A row as a platform reports it, in our units.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub day: NaiveDate,
    /// `None` for a daily row.
    pub hour: Option<u32>,
    pub ad_group: Option<String>,
    pub keyword: Option<String>,
    pub ad: Option<String>,
    pub impressions: i64,
    pub clicks: i64,
    pub conversions: i64,
    pub cost_micros: i64,
    pub revenue_micros: i64,
}

/// A search that matched one of a campaign's keywords, its figures summed over the window asked
/// for (Google's search terms report).
#[derive(Debug, Clone, PartialEq)]
pub struct SearchTermRow {
    pub ad_group: String,
    /// The keyword the search matched, and how.
    pub keyword: String,
    pub match_type: Option<adflow_domain::structure::google::MatchType>,
    /// What was searched, as the platform reports it (lower-case).
    pub search_term: String,
    /// `ADDED` (a keyword already), `EXCLUDED` (a negative already), `ADDED_EXCLUDED` or `NONE`.
    pub status: String,
    pub impressions: i64,
    pub clicks: i64,
    pub conversions: i64,
    pub cost_micros: i64,
}

#[async_trait]
pub trait AdPlatform: Send + Sync {
    fn platform(&self) -> Platform;
    fn granularity(&self) -> Granularity;
    /// Authenticates and reads the account: a connection test.
    async fn check(&self, account: &Account) -> Result<String, PlatformError>;
    /// Creates the platform's part of `structure`, or finds what an earlier attempt created.
    async fn deploy(
        &self,
        account: &Account,
        key: &DeploymentKey,
        structure: &CampaignStructure,
        currency: &str,
    ) -> Result<Deployed, PlatformError>;
    async fn push(
        &self,
        account: &Account,
        external_id: &str,
        resources: &[ExternalResource],
        change: &Change,
        currency: &str,
    ) -> Result<u32, PlatformError>;
    /// Rows of the days `from..=to` for the deployed campaign `external_id`, at the finest level
    /// the platform has (Google: keyword and hour; LinkedIn: creative and day).
    async fn report(
        &self,
        account: &Account,
        external_id: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReportRow>, PlatformError>;
    /// The searches that matched the campaign's keywords over `from..=to`. A platform without
    /// search terms (LinkedIn targets people, not searches) reports none.
    async fn search_terms(
        &self,
        _account: &Account,
        _external_id: &str,
        _from: NaiveDate,
        _to: NaiveDate,
    ) -> Result<Vec<SearchTermRow>, PlatformError> {
        Ok(Vec::new())
    }
}
