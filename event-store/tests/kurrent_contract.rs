//! The shared event-store contract against EventStoreDB/KurrentDB, where `ESDB_URL` points at one
//! (for example `esdb://127.0.0.1:2113?tls=false`). Without it every case prints SKIPPED.

use adflow_event_store::kurrent::KurrentEventStore;
use std::sync::Arc;

async fn connect() -> Option<Arc<KurrentEventStore>> {
    let url = std::env::var("ESDB_URL").ok().filter(|u| !u.is_empty())?;
    Some(Arc::new(
        KurrentEventStore::connect(&url).expect("ESDB_URL is set but unusable"),
    ))
}

adflow_event_store::event_store_contract!(connect());
