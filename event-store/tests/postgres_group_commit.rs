//! The shared event-store contract again, with group commit on: every append keeps its own
//! expected-version check and outcome when it shares a transaction with others. And the point of
//! it: concurrent appends to different streams do share commits.

use adflow_event_store::contract::event;
use adflow_event_store::postgres::{GroupCommitOptions, PostgresEventStore};
use adflow_event_store::{EventAppender, ExpectedVersion, StoreError};
use std::collections::HashSet;
use std::sync::Arc;
use uuid::Uuid;

async fn connect() -> Option<Arc<PostgresEventStore>> {
    let db = adflow_testkit::fresh_database().await;
    Some(Arc::new(
        PostgresEventStore::new(db.pool).with_group_commit(GroupCommitOptions::default()),
    ))
}

adflow_event_store::event_store_contract!(connect());

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_share_commits_and_each_keeps_its_own_outcome() {
    let store = connect().await.unwrap();
    let tenant = Uuid::now_v7();
    let writers: Vec<_> = (0..48u64)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = format!("groupcommit-{tenant}_{}", Uuid::now_v7());
                let mut commits = vec![];
                for version in 0..6u64 {
                    let outcome = store
                        .append(
                            &stream,
                            ExpectedVersion::Exact(version),
                            vec![event(tenant, w * 100 + version)],
                        )
                        .await
                        .unwrap();
                    assert_eq!(outcome.stream_version, version + 1);
                    commits.push(outcome.position.commit);
                    // A stale expected version in the same crowd is refused, alone.
                    let stale = store
                        .append(
                            &stream,
                            ExpectedVersion::Exact(version),
                            vec![event(tenant, w * 100 + 50 + version)],
                        )
                        .await;
                    assert!(
                        matches!(stale, Err(StoreError::WrongExpectedVersion { actual, .. }) if actual == version + 1),
                        "{stale:?}"
                    );
                }
                commits
            })
        })
        .collect();
    let mut appends = 0;
    let mut commits = HashSet::new();
    for writer in writers {
        let mine = writer.await.unwrap();
        appends += mine.len();
        commits.extend(mine);
    }
    assert_eq!(appends, 48 * 6);
    assert!(
        commits.len() < appends,
        "{} appends in {} transactions: none were grouped",
        appends,
        commits.len()
    );
}
