//! The write path against a real PostgreSQL store: the state cache stays correct when other
//! instances write the same stream, a command's reads do not grow with its stream, and a cause is
//! applied once however many deliveries race.

use adflow_application::{
    AppError, Application, Command, EventMetadata, Expected, Outcome, StateCache,
};
use adflow_domain::campaign::Guardrails;
use adflow_domain::tenant::{TenantCommand, TenantSettings};
use adflow_domain::TenantId;
use adflow_event_store::postgres::PostgresEventStore;
use adflow_event_store::{
    AppendOutcome, EventAppender, EventReader, EventSubscription, ExpectedVersion, NewEvent,
    Position, RecordedEvent, StoreError,
};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use uuid::Uuid;

/// The real store, counting the events it hands out.
struct Counting {
    inner: PostgresEventStore,
    events_read: AtomicUsize,
}

#[async_trait::async_trait]
impl EventAppender for Counting {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> Result<AppendOutcome, StoreError> {
        self.inner.append(stream, expected, events).await
    }
}

#[async_trait::async_trait]
impl EventReader for Counting {
    async fn read_stream(
        &self,
        stream: &str,
        from: u64,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        let events = self.inner.read_stream(stream, from, limit).await?;
        self.events_read.fetch_add(events.len(), Ordering::SeqCst);
        Ok(events)
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RecordedEvent>, StoreError> {
        self.inner.read_all(after, limit).await
    }

    fn subscribe_all(&self, after: Position) -> EventSubscription {
        self.inner.subscribe_all(after)
    }
}

fn guardrails(percent: u32) -> Guardrails {
    Guardrails {
        auto_apply: false,
        min_confidence_basis_points: 5_000,
        max_daily_budget_change_basis_points: percent * 100,
        max_daily_spend_micros: None,
    }
}

fn metadata(tenant: TenantId, cause: Uuid) -> EventMetadata {
    EventMetadata {
        tenant_id: tenant.0,
        actor: "system:test".into(),
        correlation_id: Uuid::now_v7(),
        causation_id: cause,
        extra: Default::default(),
    }
}

fn set(tenant: TenantId, expected: Expected, percent: u32, cause: Uuid) -> Command<TenantCommand> {
    Command {
        tenant,
        aggregate_id: tenant.0,
        expected,
        command: TenantCommand::SetGuardrails(guardrails(percent)),
        metadata: metadata(tenant, cause),
        once_per_cause: true,
    }
}

async fn store() -> Arc<Counting> {
    let db = adflow_testkit::fresh_database().await;
    Arc::new(Counting {
        inner: PostgresEventStore::new(db.pool.clone()),
        events_read: AtomicUsize::new(0),
    })
}

#[tokio::test]
async fn a_cached_state_is_brought_up_to_date_with_what_other_instances_wrote() {
    let store = store().await;
    let tenant = TenantId(Uuid::now_v7());
    let first = Application::new(store.clone());
    let second = Application::new(store.clone());
    first
        .execute::<TenantSettings>(set(tenant, Expected::Latest, 10, Uuid::now_v7()))
        .await
        .unwrap();
    assert_eq!(first.guardrails(tenant).await.unwrap(), guardrails(10));
    // The other instance writes; the first one's cache is now one version behind.
    second
        .execute::<TenantSettings>(set(tenant, Expected::Version(1), 20, Uuid::now_v7()))
        .await
        .unwrap();
    assert_eq!(first.guardrails(tenant).await.unwrap(), guardrails(20));
    // A caller that decided on version 1 loses to the newer write...
    let stale = first
        .execute::<TenantSettings>(set(tenant, Expected::Version(1), 30, Uuid::now_v7()))
        .await;
    assert!(
        matches!(stale, Err(AppError::VersionConflict { actual: 2 })),
        "{stale:?}"
    );
    // ...and one that asks for the latest decides on it.
    let latest = first
        .execute::<TenantSettings>(set(tenant, Expected::Latest, 30, Uuid::now_v7()))
        .await
        .unwrap();
    assert_eq!(latest.version(), 3);
    let uncached = Application::with_cache(store.clone(), StateCache::with_capacity(0));
    let loaded = uncached
        .load::<TenantSettings>(tenant, tenant.0)
        .await
        .unwrap();
    assert_eq!(loaded.version, 3);
    assert_eq!(loaded.state.unwrap().guardrails, guardrails(30));
}

#[tokio::test]
async fn a_commands_reads_do_not_grow_with_its_stream() {
    let store = store().await;
    let tenant = TenantId(Uuid::now_v7());
    let application = Application::new(store.clone());
    // 10,000 events, written straight to the store (as years of history would be).
    let stream = adflow_domain::aggregate::stream_name::<TenantSettings>(tenant, tenant.0);
    for batch in 0..20u64 {
        let events = (0..500)
            .map(|i| {
                let payload = adflow_domain::DomainEvent::to_payload(
                    &adflow_domain::tenant::TenantEvent::GuardrailsSet(
                        adflow_domain::tenant::GuardrailsSet {
                            guardrails: guardrails((i % 90) + 1),
                        },
                    ),
                );
                NewEvent {
                    event_id: Uuid::now_v7(),
                    event_type: payload.event_type.to_owned(),
                    schema_version: payload.schema_version,
                    data: payload.data,
                    metadata: metadata(tenant, Uuid::now_v7()),
                }
            })
            .collect();
        store
            .append(&stream, ExpectedVersion::Exact(batch * 500), events)
            .await
            .unwrap();
    }
    let before = store.events_read.load(Ordering::SeqCst);
    application
        .execute::<TenantSettings>(set(tenant, Expected::Latest, 95, Uuid::now_v7()))
        .await
        .unwrap();
    let first = store.events_read.load(Ordering::SeqCst) - before;
    assert_eq!(first, 10_000, "the first command folds the history once");
    for round in 0..5 {
        let before = store.events_read.load(Ordering::SeqCst);
        application
            .execute::<TenantSettings>(set(tenant, Expected::Latest, 51 + round, Uuid::now_v7()))
            .await
            .unwrap();
        let read = store.events_read.load(Ordering::SeqCst) - before;
        assert_eq!(
            read, 1,
            "round {round}: only the event the previous command appended"
        );
    }
}

#[tokio::test]
async fn a_cause_is_applied_once_however_many_deliveries_race() {
    let store = store().await;
    let tenant = TenantId(Uuid::now_v7());
    let cause = Uuid::now_v7();
    let mut deliveries = tokio::task::JoinSet::new();
    for instance in 0..8 {
        // Separate instances: separate caches, one store.
        let application = Application::new(store.clone());
        deliveries.spawn(async move {
            application
                .execute::<TenantSettings>(set(tenant, Expected::Latest, 10 + instance, cause))
                .await
                .unwrap()
        });
    }
    let mut appended = 0;
    while let Some(outcome) = deliveries.join_next().await {
        match outcome.unwrap() {
            Outcome::Appended { .. } => appended += 1,
            Outcome::AlreadyApplied { .. } => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(appended, 1);
    let stream = adflow_domain::aggregate::stream_name::<TenantSettings>(tenant, tenant.0);
    assert_eq!(store.read_stream(&stream, 1, 100).await.unwrap().len(), 1);
}
