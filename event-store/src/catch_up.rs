//! A catch-up subscription built from `read_all`: the same query serves the catch-up and the live
//! phase, so there is no hand-over in which an event could slip through.

use crate::error::StoreError;
use crate::model::{Position, RecordedEvent};
use crate::port::{EventReader, EventSubscription};
use futures_util::StreamExt;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

pub(crate) struct CatchUpOptions {
    pub batch_size: usize,
    /// How long to wait for new events before asking again (new local appends wake it sooner).
    pub poll_interval: Duration,
    /// The longest pause after failed reads (doubling from `poll_interval`).
    pub max_backoff: Duration,
}

struct State<R> {
    reader: Arc<R>,
    wake: Arc<Notify>,
    after: Position,
    buffer: VecDeque<RecordedEvent>,
    failures: u32,
    options: Arc<CatchUpOptions>,
}

pub(crate) fn catch_up<R: EventReader + 'static>(
    reader: Arc<R>,
    wake: Arc<Notify>,
    after: Position,
    options: Arc<CatchUpOptions>,
) -> EventSubscription {
    let state = State {
        reader,
        wake,
        after,
        buffer: VecDeque::new(),
        failures: 0,
        options,
    };
    futures_util::stream::unfold(state, |mut state| async move {
        loop {
            if let Some(event) = state.buffer.pop_front() {
                state.after = event.position;
                return Some((Ok(event), state));
            }
            // Registered before the read, so an append committing during the read still wakes us.
            let wake = state.wake.clone();
            let woken = wake.notified();
            match state
                .reader
                .read_all(state.after, state.options.batch_size)
                .await
            {
                Ok(batch) if batch.is_empty() => {
                    state.failures = 0;
                    tokio::select! {
                        _ = woken => {}
                        _ = tokio::time::sleep(state.options.poll_interval) => {}
                    }
                }
                Ok(batch) => {
                    state.failures = 0;
                    state.buffer.extend(batch);
                }
                Err(error) => {
                    state.failures = state.failures.saturating_add(1);
                    let backoff = state
                        .options
                        .poll_interval
                        .saturating_mul(2u32.saturating_pow(state.failures.min(16)))
                        .min(state.options.max_backoff);
                    tokio::time::sleep(backoff).await;
                    return Some((Err::<RecordedEvent, StoreError>(error), state));
                }
            }
        }
    })
    .boxed()
}
