//! The search terms review that follows a Google report pull: the searches behind the campaign's
//! clicks over the last two weeks, read from the platform, judged by the domain's rule
//! ([`adflow_domain::optimisation::search_terms`]), and every negative keyword it calls for sent as
//! a proposal through the campaign's own proposal and guardrail flow — applied at once where the
//! tenant lets bid-level changes apply themselves, otherwise left for a person. A proposal's id is
//! derived from the campaign and the search, so a later pull never proposes the same search twice
//! (nor again after a person declined it).

use crate::reports::LiveDeployment;
use crate::{submit, Cause, WorkerError};
use adflow_application::{AppError, Application};
use adflow_domain::campaign::{Campaign, CampaignCommand, CampaignState, ProposedAction};
use adflow_domain::monitoring::{
    monitor_stream_id, CampaignMonitor, MonitorCommand, SearchTermsReviewed, MAX_REVIEWED_SEARCHES,
};
use adflow_domain::optimisation::search_terms::{negative_keywords, SearchTermFigures, Targeting};
use adflow_domain::tenant::TenantSettings;
use adflow_domain::{Rejection, TenantId};
use adflow_platforms::{Account, AdPlatform};
use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;
use uuid::Uuid;

pub const ACTOR: &str = "system:search-terms";
/// The model version a search-term proposal names.
pub const RULE_VERSION: &str = "search-terms@1";
/// Days of searches one review reads.
pub const WINDOW_DAYS: i64 = 14;
/// Proposal ids: UUID v5 of the campaign and the search in this namespace.
const PROPOSAL_NAMESPACE: Uuid = Uuid::from_u128(0x0193_8e41_2c7a_7b10_a4d2_5f06_9e3c_71b8);

pub fn proposal_id(campaign: Uuid, search_term: &str) -> Uuid {
    Uuid::new_v5(
        &PROPOSAL_NAMESPACE,
        format!("{campaign}/negative/{search_term}").as_bytes(),
    )
}

/// What one review did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reviewed {
    pub searches: usize,
    pub proposed: usize,
}

/// Reviews `campaign`'s searches through `through` (the last day with data).
pub async fn review(
    app: &Application,
    cause: Cause,
    deployment: &LiveDeployment,
    state: &CampaignState,
    gateway: &dyn AdPlatform,
    account: &Account,
    through: NaiveDate,
) -> Result<Reviewed, WorkerError> {
    let campaign = deployment.campaign;
    let Some(google) = state.structure.as_ref().and_then(|s| s.google.as_ref()) else {
        return Ok(Reviewed::default());
    };
    let from = (through - Duration::days(WINDOW_DAYS - 1)).max(state.start_date);
    if from > through {
        return Ok(Reviewed::default());
    }
    let rows = gateway
        .search_terms(account, &deployment.external_id, from, through)
        .await?;
    let searches: Vec<SearchTermFigures> = rows
        .into_iter()
        .map(|r| SearchTermFigures {
            search_term: r.search_term,
            keyword: r.keyword,
            clicks: r.clicks,
            conversions: r.conversions,
            cost_micros: r.cost_micros,
        })
        .collect();
    let settings = app
        .load::<TenantSettings>(TenantId(cause.tenant), cause.tenant)
        .await?
        .state
        .unwrap_or_default();
    let rules = settings.decision_rules;
    let days = u32::try_from((through - from).num_days() + 1).unwrap_or(1);
    let recommendations = negative_keywords(
        &Targeting::of(google),
        &searches,
        days,
        rules.target_cost_per_conversion_micros,
    );
    let mut reviewed = Reviewed {
        searches: searches.len(),
        proposed: 0,
    };
    let mut proposed_negatives = Vec::new();
    for recommendation in recommendations {
        let ProposedAction::AddNegativeKeyword { keyword } = &recommendation.action else {
            continue;
        };
        proposed_negatives.push(keyword.text.clone());
        let command = CampaignCommand::ProposeOptimisation {
            proposal_id: proposal_id(campaign, &keyword.text),
            guardrails: rules.guardrails_for(&recommendation.action, &settings.guardrails),
            action: recommendation.action.clone(),
            reason: crate::reason(&recommendation.reason),
            confidence_basis_points: recommendation.confidence_basis_points,
            model_version: RULE_VERSION.to_owned(),
        };
        match submit::<Campaign>(app, ACTOR, cause, campaign, command, false).await {
            Ok(_) => reviewed.proposed += 1,
            // Proposed by an earlier review (pending, applied or declined): nothing new.
            Err(AppError::Rejected(Rejection::AlreadyExists { .. })) => {}
            Err(AppError::Rejected(rejection)) => {
                tracing::warn!(%campaign, %rejection, "negative keyword proposal refused");
            }
            Err(error) => return Err(error.into()),
        }
    }
    // The report as read, on the campaign's monitor: what the proposals rest on, for auditors and
    // for GraphQL (`Campaign.searchTerms`).
    let record = MonitorCommand::RecordSearchTerms(SearchTermsReviewed {
        campaign_id: campaign,
        platform: deployment.platform,
        from,
        to: through,
        rule: RULE_VERSION.to_owned(),
        searches_total: u32::try_from(searches.len()).unwrap_or(u32::MAX),
        searches: costliest(&searches),
        proposed_negatives,
    });
    submit::<CampaignMonitor>(
        app,
        ACTOR,
        cause,
        monitor_stream_id(campaign),
        record,
        false,
    )
    .await?;
    Ok(reviewed)
}

/// The report's searches summed per search and keyword, the costliest first, as many as a review
/// records.
fn costliest(rows: &[SearchTermFigures]) -> Vec<SearchTermFigures> {
    let mut summed: BTreeMap<(String, String), SearchTermFigures> = BTreeMap::new();
    for row in rows {
        let entry = summed
            .entry((row.search_term.clone(), row.keyword.clone()))
            .or_insert_with(|| SearchTermFigures {
                search_term: row.search_term.clone(),
                keyword: row.keyword.clone(),
                ..SearchTermFigures::default()
            });
        entry.clicks += row.clicks;
        entry.conversions += row.conversions;
        entry.cost_micros += row.cost_micros;
    }
    let mut searches: Vec<SearchTermFigures> = summed.into_values().collect();
    searches.sort_by_key(|s| std::cmp::Reverse(s.cost_micros));
    searches.truncate(MAX_REVIEWED_SEARCHES);
    searches
}
