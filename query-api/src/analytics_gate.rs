//! ClickHouse work is bounded per request and per tenant: each analytics statement takes a
//! permit from its request's gate and from its tenant's, so that one query with many aliased
//! analytics fields, or one tenant with many such queries, queues behind its own permits instead
//! of occupying ClickHouse. A permit that does not come within the wait is an UNAVAILABLE answer.
//! (The complexity limit bounds how many analytics fields one query may hold at all: see the
//! `ANALYTICS_COST` of each resolver.)

use crate::errors::ErrorCode;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use uuid::Uuid;

/// The complexity of a field that sends a ClickHouse statement of its own (the limit is 5,000).
pub const ANALYTICS_COST: usize = 100;
/// The complexity of a field whose statements are batched by a DataLoader across the level.
pub const BATCHED_ANALYTICS_COST: usize = 10;

/// How many ClickHouse statements may run at once, per request and per tenant.
#[derive(Debug, Clone, Copy)]
pub struct AnalyticsConcurrency {
    pub per_request: usize,
    pub per_tenant: usize,
    /// How long a statement waits for its permits before the field answers UNAVAILABLE.
    pub wait: Duration,
}

impl Default for AnalyticsConcurrency {
    fn default() -> Self {
        Self {
            per_request: 4,
            per_tenant: 8,
            wait: Duration::from_secs(10),
        }
    }
}

/// The tenants' semaphores, shared by every request of the process.
pub struct TenantGates {
    limits: AnalyticsConcurrency,
    tenants: Mutex<HashMap<Uuid, Arc<Semaphore>>>,
}

/// One request's semaphore (request data, created by the HTTP handler).
pub struct RequestGate(Arc<Semaphore>);

impl RequestGate {
    pub fn new(limits: AnalyticsConcurrency) -> Self {
        Self(Arc::new(Semaphore::new(limits.per_request.max(1))))
    }
}

/// Held while a statement runs.
pub struct Permits {
    _tenant: OwnedSemaphorePermit,
    _request: Option<OwnedSemaphorePermit>,
}

impl TenantGates {
    pub fn new(limits: AnalyticsConcurrency) -> Self {
        Self {
            limits,
            tenants: Mutex::new(HashMap::new()),
        }
    }

    fn tenant(&self, tenant: Uuid) -> Arc<Semaphore> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        tenants
            .entry(tenant)
            .or_insert_with(|| Arc::new(Semaphore::new(self.limits.per_tenant.max(1))))
            .clone()
    }

    /// Waits for a permit of the request (when there is one) and of the tenant.
    pub async fn enter(
        &self,
        tenant: Uuid,
        request: Option<&RequestGate>,
    ) -> Result<Permits, async_graphql::Error> {
        let busy = || {
            ErrorCode::Unavailable
                .error("too many analytics queries of your tenant are running; try again shortly")
        };
        let acquire = async {
            let request = match request {
                Some(gate) => Some(gate.0.clone().acquire_owned().await.map_err(|_| busy())?),
                None => None,
            };
            let tenant = self
                .tenant(tenant)
                .acquire_owned()
                .await
                .map_err(|_| busy())?;
            Ok(Permits {
                _tenant: tenant,
                _request: request,
            })
        };
        tokio::time::timeout(self.limits.wait, acquire)
            .await
            .map_err(|_| busy())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tenant_waits_for_its_own_permits_only() {
        let gates = TenantGates::new(AnalyticsConcurrency {
            per_request: 8,
            per_tenant: 2,
            wait: Duration::from_millis(50),
        });
        let busy = Uuid::now_v7();
        let _first = gates.enter(busy, None).await.unwrap();
        let _second = gates.enter(busy, None).await.unwrap();
        assert!(
            gates.enter(busy, None).await.is_err(),
            "a third waits, then gives up"
        );
        assert!(
            gates.enter(Uuid::now_v7(), None).await.is_ok(),
            "another tenant is not held up"
        );
        let request = RequestGate::new(AnalyticsConcurrency {
            per_request: 1,
            ..AnalyticsConcurrency::default()
        });
        let other = Uuid::now_v7();
        let _held = gates.enter(other, Some(&request)).await.unwrap();
        assert!(
            gates.enter(other, Some(&request)).await.is_err(),
            "one per request"
        );
    }
}
