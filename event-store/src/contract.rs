//! The contract every adapter passes. Each adapter's test file instantiates the whole suite with
//! [`crate::event_store_contract!`]; a case that finds no store (for example EventStoreDB without
//! `ESDB_URL`) says so on stderr and passes without asserting anything.
//!
//! Cases only look at streams they created (a unique prefix per case), so they can share one
//! server with other tests.

use crate::{
    EventMetadata, EventStore, ExpectedVersion, NewEvent, Position, RecordedEvent, StoreError,
};
use futures_util::StreamExt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Instantiates every contract case as a test. `$connect` is an async expression that yields
/// `Option<Arc<S>>`: `None` skips the suite with a message.
#[macro_export]
macro_rules! event_store_contract {
    ($connect:expr) => {
        $crate::event_store_contract!(@cases $connect;
            appends_and_reads_a_stream,
            enforces_expected_versions,
            one_of_many_concurrent_writers_wins_each_version,
            re_appending_the_same_events_writes_nothing,
            a_subscriber_sees_every_event_of_many_writers_once_in_order,
            a_subscription_resumes_from_its_checkpoint_after_a_crash,
            reading_the_log_in_pages_matches_the_subscription,
        );
    };
    (@cases $connect:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                match $connect.await {
                    Some(store) => $crate::contract::$case(store).await,
                    None => eprintln!(concat!("SKIPPED contract case ", stringify!($case), ": no store configured")),
                }
            }
        )*
    };
}

const WAIT: Duration = Duration::from_secs(30);

fn prefix(case: &str) -> String {
    format!(
        "contract{}-{}",
        case.replace('_', ""),
        Uuid::now_v7().simple()
    )
}

pub fn event(tenant: Uuid, n: u64) -> NewEvent {
    NewEvent {
        event_id: Uuid::now_v7(),
        event_type: "ContractTested".into(),
        schema_version: 1,
        data: serde_json::json!({ "n": n }),
        metadata: EventMetadata {
            tenant_id: tenant,
            actor: "system:contract".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: Uuid::now_v7(),
            extra: BTreeMap::from([("case".to_string(), "contract".to_string())]),
        },
    }
}

/// Follows the log from `after` until `expected` events of streams starting with `prefix` arrived.
async fn collect<S: EventStore>(
    store: &S,
    after: Position,
    prefix: &str,
    expected: usize,
) -> Vec<RecordedEvent> {
    let mut subscription = store.subscribe_all(after);
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + WAIT;
    while seen.len() < expected {
        let next = tokio::time::timeout_at(deadline, subscription.next()).await;
        match next {
            Err(_) => panic!("timed out with {} of {expected} events", seen.len()),
            Ok(None) => panic!("subscription ended"),
            Ok(Some(Err(e))) => eprintln!("passing subscription error: {e}"),
            Ok(Some(Ok(e))) if e.stream_name.starts_with(prefix) => seen.push(e),
            Ok(Some(Ok(_))) => {}
        }
    }
    seen
}

pub async fn appends_and_reads_a_stream<S: EventStore>(store: Arc<S>) {
    let stream = prefix("read");
    let tenant = Uuid::now_v7();
    let events: Vec<_> = (0..3).map(|n| event(tenant, n)).collect();
    let outcome = store
        .append(&stream, ExpectedVersion::NoStream, events.clone())
        .await
        .unwrap();
    assert_eq!(outcome.stream_version, 3);

    let read = store.read_stream(&stream, 1, 100).await.unwrap();
    assert_eq!(read.len(), 3);
    for (i, (sent, got)) in events.iter().zip(&read).enumerate() {
        assert_eq!(got.stream_version, i as u64 + 1);
        assert_eq!(got.event_id, sent.event_id);
        assert_eq!(got.event_type, sent.event_type);
        assert_eq!(got.schema_version, sent.schema_version);
        assert_eq!(got.data, sent.data);
        assert_eq!(got.metadata, sent.metadata);
        assert_eq!(got.stream_name, stream);
    }
    assert!(read.windows(2).all(|w| w[0].position < w[1].position));
    assert_eq!(read[2].position, outcome.position);

    assert_eq!(store.read_stream(&stream, 3, 100).await.unwrap().len(), 1);
    assert_eq!(store.read_stream(&stream, 1, 2).await.unwrap().len(), 2);
    assert!(store
        .read_stream(&format!("{stream}-none"), 1, 10)
        .await
        .unwrap()
        .is_empty());
}

pub async fn enforces_expected_versions<S: EventStore>(store: Arc<S>) {
    let stream = prefix("expect");
    let tenant = Uuid::now_v7();
    let conflict = |result: Result<_, StoreError>, want: u64| match result {
        Err(StoreError::WrongExpectedVersion { actual, .. }) => assert_eq!(actual, want),
        other => panic!("expected a conflict at {want}, got {other:?}"),
    };
    conflict(
        store
            .append(
                &stream,
                ExpectedVersion::StreamExists,
                vec![event(tenant, 0)],
            )
            .await,
        0,
    );
    conflict(
        store
            .append(&stream, ExpectedVersion::Exact(2), vec![event(tenant, 0)])
            .await,
        0,
    );
    store
        .append(&stream, ExpectedVersion::NoStream, vec![event(tenant, 0)])
        .await
        .unwrap();
    conflict(
        store
            .append(&stream, ExpectedVersion::NoStream, vec![event(tenant, 1)])
            .await,
        1,
    );
    conflict(
        store
            .append(&stream, ExpectedVersion::Exact(0), vec![event(tenant, 1)])
            .await,
        1,
    );
    let exact = store
        .append(&stream, ExpectedVersion::Exact(1), vec![event(tenant, 1)])
        .await
        .unwrap();
    assert_eq!(exact.stream_version, 2);
    let exists = store
        .append(
            &stream,
            ExpectedVersion::StreamExists,
            vec![event(tenant, 2)],
        )
        .await
        .unwrap();
    assert_eq!(exists.stream_version, 3);
    let any = store
        .append(
            &stream,
            ExpectedVersion::Any,
            vec![event(tenant, 3), event(tenant, 4)],
        )
        .await
        .unwrap();
    assert_eq!(any.stream_version, 5);
    conflict(
        store
            .append(&stream, ExpectedVersion::Exact(4), vec![event(tenant, 5)])
            .await,
        5,
    );
    assert!(matches!(
        store.append(&stream, ExpectedVersion::Any, vec![]).await,
        Err(StoreError::InvalidAppend(_))
    ));
    assert_eq!(store.read_stream(&stream, 1, 100).await.unwrap().len(), 5);
}

pub async fn one_of_many_concurrent_writers_wins_each_version<S: EventStore + 'static>(
    store: Arc<S>,
) {
    let stream = prefix("race");
    let tenant = Uuid::now_v7();
    store
        .append(&stream, ExpectedVersion::NoStream, vec![event(tenant, 0)])
        .await
        .unwrap();
    for round in 1..=5u64 {
        let writers: Vec<_> = (0..16)
            .map(|w| {
                let store = store.clone();
                let stream = stream.clone();
                tokio::spawn(async move {
                    store
                        .append(
                            &stream,
                            ExpectedVersion::Exact(round),
                            vec![event(tenant, round * 100 + w)],
                        )
                        .await
                })
            })
            .collect();
        let mut won = 0;
        for writer in writers {
            match writer.await.unwrap() {
                Ok(outcome) => {
                    won += 1;
                    assert_eq!(outcome.stream_version, round + 1);
                }
                Err(StoreError::WrongExpectedVersion { actual, .. }) => {
                    assert_eq!(actual, round + 1)
                }
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert_eq!(won, 1, "round {round}: exactly one writer wins");
    }
    let read = store.read_stream(&stream, 1, 100).await.unwrap();
    assert_eq!(
        read.iter().map(|e| e.stream_version).collect::<Vec<_>>(),
        (1..=6).collect::<Vec<_>>()
    );
}

pub async fn re_appending_the_same_events_writes_nothing<S: EventStore + 'static>(store: Arc<S>) {
    let stream = prefix("idem");
    let tenant = Uuid::now_v7();
    let batch = vec![event(tenant, 0), event(tenant, 1)];
    let first = store
        .append(&stream, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    let again = store
        .append(&stream, ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert_eq!(again.stream_version, first.stream_version);
    let any = store
        .append(&stream, ExpectedVersion::Any, batch.clone())
        .await
        .unwrap();
    assert_eq!(any.stream_version, first.stream_version);

    // Twenty parallel retries of one new append: it lands once.
    let next = vec![event(tenant, 2)];
    let retries: Vec<_> = (0..20)
        .map(|_| {
            let (store, stream, next) = (store.clone(), stream.clone(), next.clone());
            tokio::spawn(
                async move { store.append(&stream, ExpectedVersion::Exact(2), next).await },
            )
        })
        .collect();
    for retry in retries {
        assert_eq!(retry.await.unwrap().unwrap().stream_version, 3);
    }
    let read = store.read_stream(&stream, 1, 100).await.unwrap();
    assert_eq!(read.len(), 3);
    let after = store
        .append(&stream, ExpectedVersion::Exact(3), vec![event(tenant, 3)])
        .await
        .unwrap();
    assert_eq!(
        after.stream_version, 4,
        "the stream's version is not disturbed by retries"
    );
}

pub async fn a_subscriber_sees_every_event_of_many_writers_once_in_order<
    S: EventStore + 'static,
>(
    store: Arc<S>,
) {
    let prefix = prefix("many");
    let tenant = Uuid::now_v7();
    const WRITERS: u64 = 8;
    const STREAMS_PER_WRITER: u64 = 5;
    const APPENDS_PER_STREAM: u64 = 10;
    let total = (WRITERS * STREAMS_PER_WRITER * APPENDS_PER_STREAM) as usize;

    let subscriber = {
        let (store, prefix) = (store.clone(), prefix.clone());
        tokio::spawn(async move { collect(store.as_ref(), Position::START, &prefix, total).await })
    };
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (store, prefix) = (store.clone(), prefix.clone());
            tokio::spawn(async move {
                for round in 0..APPENDS_PER_STREAM {
                    for s in 0..STREAMS_PER_WRITER {
                        let stream = format!("{prefix}-{w}-{s}");
                        store
                            .append(
                                &stream,
                                ExpectedVersion::Exact(round),
                                vec![event(tenant, round)],
                            )
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let seen = subscriber.await.unwrap();

    let ids: HashSet<Uuid> = seen.iter().map(|e| e.event_id).collect();
    assert_eq!(ids.len(), total, "every event exactly once");
    assert!(
        seen.windows(2).all(|w| w[0].position < w[1].position),
        "log order"
    );
    let mut versions: HashMap<&str, u64> = HashMap::new();
    for e in &seen {
        let last = versions.entry(e.stream_name.as_str()).or_insert(0);
        assert_eq!(
            e.stream_version,
            *last + 1,
            "stream order in {}",
            e.stream_name
        );
        *last = e.stream_version;
    }
}

pub async fn a_subscription_resumes_from_its_checkpoint_after_a_crash<S: EventStore + 'static>(
    store: Arc<S>,
) {
    let prefix = prefix("resume");
    let tenant = Uuid::now_v7();
    let stream = format!("{prefix}-s");
    for n in 0..10 {
        store
            .append(&stream, ExpectedVersion::Any, vec![event(tenant, n)])
            .await
            .unwrap();
    }
    let first_part = collect(store.as_ref(), Position::START, &prefix, 4).await;
    // The subscription was dropped above, as a crashed process would; resume from the checkpoint.
    let checkpoint = first_part[3].position;
    for n in 10..15 {
        store
            .append(&stream, ExpectedVersion::Any, vec![event(tenant, n)])
            .await
            .unwrap();
    }
    let rest = collect(store.as_ref(), checkpoint, &prefix, 11).await;
    let versions: Vec<u64> = first_part
        .iter()
        .chain(&rest)
        .map(|e| e.stream_version)
        .collect();
    assert_eq!(versions, (1..=15).collect::<Vec<_>>());
}

pub async fn reading_the_log_in_pages_matches_the_subscription<S: EventStore + 'static>(
    store: Arc<S>,
) {
    let prefix = prefix("pages");
    let tenant = Uuid::now_v7();
    for s in 0..3 {
        let batch = (0..7).map(|n| event(tenant, n)).collect();
        store
            .append(&format!("{prefix}-{s}"), ExpectedVersion::NoStream, batch)
            .await
            .unwrap();
    }
    let subscribed = collect(store.as_ref(), Position::START, &prefix, 21).await;
    let mut paged = Vec::new();
    let mut after = Position::START;
    loop {
        let page = store.read_all(after, 5).await.unwrap();
        let Some(last) = page.last() else { break };
        assert!(page.len() <= 5);
        after = last.position;
        paged.extend(
            page.into_iter()
                .filter(|e| e.stream_name.starts_with(&prefix)),
        );
        if paged.len() >= 21 {
            break;
        }
    }
    let ids = |events: &[RecordedEvent]| events.iter().map(|e| e.event_id).collect::<Vec<_>>();
    assert_eq!(ids(&paged), ids(&subscribed));
}
