//! The sequence-gap bug, shown and designed out.
//!
//! A transaction that takes a log position early but commits late is the classic way for a reader
//! to skip an event: it sees the later position first, moves its checkpoint past the earlier one,
//! and never comes back. These tests hold such a transaction open on purpose.

use adflow_event_store::contract::event;
use adflow_event_store::postgres::PostgresEventStore;
use adflow_event_store::{EventAppender, EventReader, ExpectedVersion, Position, StoreError};
use futures_util::StreamExt;
use sqlx::{Connection, PgConnection};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Appends through the store's SQL function inside a transaction the test controls.
async fn append_in_open_transaction(conn: &mut PgConnection, stream: &str, tenant: Uuid) -> Uuid {
    let e = event(tenant, 0);
    sqlx::query("BEGIN").execute(&mut *conn).await.unwrap();
    let content_hash = adflow_event_store::chain::content_hash(stream, &e).to_vec();
    sqlx::query("SELECT * FROM append_events($1, NULL, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
        .bind(stream)
        .bind(tenant)
        .bind(vec![e.event_id])
        .bind(vec![e.event_type.clone()])
        .bind(vec![1i32])
        .bind(vec![e.data.clone()])
        .bind(vec![e.metadata.actor.clone()])
        .bind(vec![e.metadata.correlation_id])
        .bind(vec![e.metadata.causation_id])
        .bind(vec![serde_json::to_value(&e.metadata.extra).unwrap()])
        .bind(vec![content_hash])
        .execute(&mut *conn)
        .await
        .unwrap();
    e.event_id
}

async fn naive_read(pool: &sqlx::PgPool, after: i64) -> Vec<(i64, Uuid)> {
    sqlx::query_as("SELECT position, event_id FROM events WHERE position > $1 ORDER BY position")
        .bind(after)
        .fetch_all(pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_late_commit_is_never_skipped_where_a_naive_reader_skips_it() {
    let db = adflow_testkit::fresh_database().await;
    let store = PostgresEventStore::new(db.pool.clone());
    let tenant = Uuid::now_v7();

    let mut slow = PgConnection::connect(&db.url).await.unwrap();
    let slow_id = append_in_open_transaction(&mut slow, "gap-slow", tenant).await;
    let fast = store
        .append(
            "gap-fast",
            ExpectedVersion::NoStream,
            vec![event(tenant, 1)],
        )
        .await
        .unwrap();

    // The naive reader (position order, no visibility rule) sees the fast event and checkpoints past
    // the slow one's lower position.
    let naive = naive_read(&db.pool, 0).await;
    assert_eq!(naive.len(), 1);
    let naive_checkpoint = naive[0].0;

    // The store holds the fast event back while an older transaction is still open.
    assert!(store
        .read_all(Position::START, 100)
        .await
        .unwrap()
        .is_empty());

    sqlx::query("COMMIT").execute(&mut slow).await.unwrap();

    // The naive reader has lost the slow event for good...
    let naive_after = naive_read(&db.pool, naive_checkpoint).await;
    assert!(
        naive_after.is_empty(),
        "the naive reader skips the late commit"
    );
    assert!(naive_read(&db.pool, 0)
        .await
        .iter()
        .any(|(_, id)| *id == slow_id));

    // ...while the store delivers both, the late commit first (it began first). (Write transactions
    // of tests running beside this one may hold the log back for a moment, hence the retries.)
    let mut all = vec![];
    for _ in 0..1000 {
        all = store.read_all(Position::START, 100).await.unwrap();
        if all.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let ids: Vec<Uuid> = all.iter().map(|e| e.event_id).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], slow_id);
    assert_eq!(all[1].position, fast.position);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_misses_nothing_while_slow_transactions_commit_out_of_order() {
    let db = adflow_testkit::fresh_database().await;
    let store = Arc::new(PostgresEventStore::with_poll_interval(
        db.pool.clone(),
        Duration::from_millis(5),
    ));
    let tenant = Uuid::now_v7();
    const SLOW_WRITERS: usize = 4;
    const SLOW_APPENDS: usize = 15;
    const FAST_WRITERS: usize = 8;
    const FAST_APPENDS: usize = 60;
    let total = SLOW_WRITERS * SLOW_APPENDS + FAST_WRITERS * FAST_APPENDS;

    let subscriber = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut subscription = store.subscribe_all(Position::START);
            let mut seen = Vec::new();
            while seen.len() < total {
                match tokio::time::timeout(Duration::from_secs(30), subscription.next()).await {
                    Ok(Some(Ok(e))) => seen.push(e),
                    Ok(Some(Err(e))) => eprintln!("passing error: {e}"),
                    other => panic!(
                        "subscription stalled after {} events: {other:?}",
                        seen.len()
                    ),
                }
            }
            seen
        })
    };

    let mut writers = Vec::new();
    for w in 0..SLOW_WRITERS {
        let url = db.url.clone();
        writers.push(tokio::spawn(async move {
            let mut conn = PgConnection::connect(&url).await.unwrap();
            for n in 0..SLOW_APPENDS {
                append_in_open_transaction(&mut conn, &format!("slow-{w}-{n}"), tenant).await;
                tokio::time::sleep(Duration::from_millis(
                    5 + (n as u64 * 7 + w as u64 * 3) % 20,
                ))
                .await;
                sqlx::query("COMMIT").execute(&mut conn).await.unwrap();
            }
        }));
    }
    for w in 0..FAST_WRITERS {
        let store = store.clone();
        writers.push(tokio::spawn(async move {
            for n in 0..FAST_APPENDS {
                store
                    .append(
                        &format!("fast-{w}"),
                        ExpectedVersion::Exact(n as u64),
                        vec![event(tenant, n as u64)],
                    )
                    .await
                    .unwrap();
            }
        }));
    }
    for writer in writers {
        writer.await.unwrap();
    }
    let seen = subscriber.await.unwrap();
    let unique: HashSet<Uuid> = seen.iter().map(|e| e.event_id).collect();
    assert_eq!(unique.len(), total, "every event exactly once");
    assert!(seen.windows(2).all(|w| w[0].position < w[1].position));
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(stored as usize, total);
}

#[tokio::test]
async fn event_ids_reused_by_a_different_append_are_refused() {
    let db = adflow_testkit::fresh_database().await;
    let store = PostgresEventStore::new(db.pool.clone());
    let tenant = Uuid::now_v7();
    let a = event(tenant, 0);
    let b = event(tenant, 1);
    store
        .append("reuse-1", ExpectedVersion::Any, vec![a.clone()])
        .await
        .unwrap();
    // The same id in another stream, and a batch that only partly repeats an earlier one.
    for (stream, batch) in [
        ("reuse-2", vec![a.clone()]),
        ("reuse-1", vec![a.clone(), b.clone()]),
        ("reuse-1", vec![b.clone(), a.clone()]),
    ] {
        match store.append(stream, ExpectedVersion::Any, batch).await {
            Err(StoreError::EventIdConflict(_)) => {}
            other => panic!("expected an event id conflict, got {other:?}"),
        }
    }
    let mixed_tenants = vec![event(tenant, 2), event(Uuid::now_v7(), 3)];
    assert!(matches!(
        store
            .append("reuse-3", ExpectedVersion::Any, mixed_tenants)
            .await,
        Err(StoreError::InvalidAppend(_))
    ));
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&db.pool)
        .await
        .unwrap();
    assert_eq!(count, 1);
    let next = store
        .append("reuse-1", ExpectedVersion::Exact(1), vec![b])
        .await
        .unwrap();
    assert_eq!(
        next.stream_version, 2,
        "refused appends left the stream's version alone"
    );
}
