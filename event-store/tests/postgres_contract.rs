//! The shared event-store contract against real PostgreSQL.

use adflow_event_store::postgres::PostgresEventStore;
use std::sync::Arc;

async fn connect() -> Option<Arc<PostgresEventStore>> {
    let db = adflow_testkit::fresh_database().await;
    Some(Arc::new(PostgresEventStore::new(db.pool)))
}

adflow_event_store::event_store_contract!(connect());
