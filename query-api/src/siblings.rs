//! Nested lists of a page load for the whole page at once, deterministically: the campaigns (or
//! audiences) of one page share a `…Page`, and the first nested field that needs, say, the
//! deployments loads them for every campaign of the page in one statement; the others wait for
//! that load and read their part. (A timed DataLoader batch depends on how fast the resolvers are
//! polled, so a slow machine would split it; this does not.)

use crate::db::ReadDb;
use crate::loaders::{
    AccountListsLoader, DeploymentRow, DeploymentsLoader, Owned, ProposalsLoader, SegmentsLoader,
    StructureLoader, StructureRow,
};
use async_graphql::dataloader::Loader;
use std::collections::HashMap;
use tokio::sync::OnceCell;

type Loaded<V> = OnceCell<HashMap<Owned, V>>;

/// The campaigns shown together (a page of a list, or one campaign).
#[derive(Default)]
pub struct CampaignPage {
    keys: Vec<Owned>,
    structures: Loaded<StructureRow>,
    deployments: Loaded<Vec<DeploymentRow>>,
    proposals: Loaded<Vec<crate::recommendations::ProposalRow>>,
    anomalies: Loaded<Vec<crate::anomalies::AnomalyFound>>,
    runs: Loaded<Vec<crate::optimisation::OptimizationRun>>,
    search_terms: Loaded<crate::search_terms::SearchTermReport>,
}

impl std::fmt::Debug for CampaignPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CampaignPage")
            .field("keys", &self.keys.len())
            .finish()
    }
}

async fn part<L, V>(
    cell: &Loaded<V>,
    loader: L,
    keys: &[Owned],
    key: &Owned,
) -> async_graphql::Result<Option<V>>
where
    L: Loader<Owned, Value = V, Error = async_graphql::Error>,
    V: Clone + Send + Sync + 'static,
{
    let all = cell.get_or_try_init(|| loader.load(keys)).await?;
    Ok(all.get(key).cloned())
}

impl CampaignPage {
    pub fn new(keys: Vec<Owned>) -> Self {
        Self {
            keys,
            ..Self::default()
        }
    }

    pub async fn structure(
        &self,
        db: &ReadDb,
        key: &Owned,
    ) -> async_graphql::Result<Option<StructureRow>> {
        part(
            &self.structures,
            StructureLoader(db.clone()),
            &self.keys,
            key,
        )
        .await
    }

    pub async fn deployments(
        &self,
        db: &ReadDb,
        key: &Owned,
    ) -> async_graphql::Result<Vec<DeploymentRow>> {
        Ok(part(
            &self.deployments,
            DeploymentsLoader(db.clone()),
            &self.keys,
            key,
        )
        .await?
        .unwrap_or_default())
    }

    pub async fn anomalies(
        &self,
        db: &ReadDb,
        key: &Owned,
    ) -> async_graphql::Result<Vec<crate::anomalies::AnomalyFound>> {
        Ok(part(
            &self.anomalies,
            crate::anomalies::AnomaliesLoader(db.clone()),
            &self.keys,
            key,
        )
        .await?
        .unwrap_or_default())
    }

    pub async fn runs(
        &self,
        db: &ReadDb,
        key: &Owned,
    ) -> async_graphql::Result<Vec<crate::optimisation::OptimizationRun>> {
        Ok(part(
            &self.runs,
            crate::optimisation::RunsLoader(db.clone()),
            &self.keys,
            key,
        )
        .await?
        .unwrap_or_default())
    }

    pub async fn search_terms(
        &self,
        db: &ReadDb,
        key: &Owned,
    ) -> async_graphql::Result<Option<crate::search_terms::SearchTermReport>> {
        part(
            &self.search_terms,
            crate::search_terms::SearchTermsLoader(db.clone()),
            &self.keys,
            key,
        )
        .await
    }

    pub async fn proposals(
        &self,
        db: &ReadDb,
        key: &Owned,
    ) -> async_graphql::Result<Vec<crate::recommendations::ProposalRow>> {
        Ok(part(
            &self.proposals,
            ProposalsLoader(db.clone()),
            &self.keys,
            key,
        )
        .await?
        .unwrap_or_default())
    }
}

/// The audiences shown together.
#[derive(Default)]
pub struct AudiencePage {
    keys: Vec<Owned>,
    segments: Loaded<Vec<crate::audiences::SegmentRow>>,
    account_lists: Loaded<Vec<crate::audiences::AccountList>>,
}

impl std::fmt::Debug for AudiencePage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudiencePage")
            .field("keys", &self.keys.len())
            .finish()
    }
}

impl AudiencePage {
    pub fn new(keys: Vec<Owned>) -> Self {
        Self {
            keys,
            ..Self::default()
        }
    }

    pub async fn segments(
        &self,
        db: &ReadDb,
        key: &Owned,
    ) -> async_graphql::Result<Vec<crate::audiences::SegmentRow>> {
        Ok(
            part(&self.segments, SegmentsLoader(db.clone()), &self.keys, key)
                .await?
                .unwrap_or_default(),
        )
    }

    pub async fn account_lists(
        &self,
        db: &ReadDb,
        key: &Owned,
    ) -> async_graphql::Result<Vec<crate::audiences::AccountList>> {
        Ok(part(
            &self.account_lists,
            AccountListsLoader(db.clone()),
            &self.keys,
            key,
        )
        .await?
        .unwrap_or_default())
    }
}
