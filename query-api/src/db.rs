//! The read models' pool, counting every statement the API sends: the count is exported in
//! `/metrics` (`adflow_query_sql_statements_total`), and a test holds a page with nested lists to
//! a constant number of statements with it.

use sqlx::PgPool;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct ReadDb {
    pool: PgPool,
    statements: Arc<AtomicU64>,
}

impl ReadDb {
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            statements: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The pool, for exactly one statement: every statement a resolver sends asks for it here.
    pub fn statement(&self) -> &PgPool {
        self.statements.fetch_add(1, Ordering::Relaxed);
        &self.pool
    }

    /// The pool for the API's own bookkeeping (the lag in `/metrics`), not counted.
    pub fn uncounted(&self) -> &PgPool {
        &self.pool
    }

    /// Statements sent since the process started.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}
