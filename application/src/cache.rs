//! Folded states of recently used streams. An entry is the fold of a stream's events up to a
//! version; since events are immutable the entry never becomes wrong, only old, and a load reads
//! whatever came after it. Bounded: past the capacity, the oldest entries go first.

use crate::Loaded;
use std::any::Any;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Streams kept by default; a campaign's state is a few kilobytes.
pub const DEFAULT_CAPACITY: usize = 10_000;

#[derive(Clone)]
pub struct StateCache {
    inner: Arc<Mutex<Entries>>,
    capacity: usize,
}

struct Entries {
    by_stream: HashMap<String, Box<dyn Any + Send + Sync>>,
    /// Insertion order, for eviction.
    order: VecDeque<String>,
}

impl Default for StateCache {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl StateCache {
    /// A cache of at most `capacity` streams; 0 turns caching off.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Entries {
                by_stream: HashMap::new(),
                order: VecDeque::new(),
            })),
            capacity,
        }
    }

    pub(crate) fn get<S: Clone + Send + Sync + 'static>(&self, stream: &str) -> Option<Loaded<S>> {
        let entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .by_stream
            .get(stream)
            .and_then(|entry| entry.downcast_ref::<Loaded<S>>())
            .cloned()
    }

    pub(crate) fn put<S: Clone + Send + Sync + 'static>(&self, stream: &str, loaded: &Loaded<S>) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let newer = entries
            .by_stream
            .get(stream)
            .and_then(|entry| entry.downcast_ref::<Loaded<S>>())
            .is_none_or(|cached| cached.version < loaded.version);
        if !newer {
            return;
        }
        if entries
            .by_stream
            .insert(stream.to_owned(), Box::new(loaded.clone()))
            .is_none()
        {
            entries.order.push_back(stream.to_owned());
        }
        while entries.by_stream.len() > self.capacity {
            match entries.order.pop_front() {
                Some(oldest) => {
                    entries.by_stream.remove(&oldest);
                }
                None => break,
            }
        }
    }

    pub fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .by_stream
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
