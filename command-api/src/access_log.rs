//! The access log of refused commands: every 4xx answer to a caller whose credentials were valid
//! (who tried what, and why it was refused), for the Auditor role. The layer puts an empty slot
//! into the request; the request context fills it with the caller once authenticated, and the
//! problem response says its code and the violated fields. Written after the answer is built;
//! a failed write is logged and never changes the answer.

use crate::context::CorrelationId;
use crate::AppState;
use adflow_auth::Principal;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::{Arc, Mutex};

/// Filled by the request context with the authenticated caller.
#[derive(Clone, Default)]
pub struct CallerSlot(Arc<Mutex<Option<Principal>>>);

impl CallerSlot {
    pub fn fill(&self, principal: &Principal) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = Some(principal.clone());
        }
    }

    fn take(&self) -> Option<Principal> {
        self.0.lock().ok().and_then(|mut slot| slot.take())
    }
}

/// Why a problem response refused: its code, and each violated field as `pointer code`.
#[derive(Clone, Debug)]
pub struct Refusal {
    pub code: &'static str,
    pub reasons: Vec<String>,
}

pub async fn record_refusals(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let slot = CallerSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_default();
    let correlation_id = request.extensions().get::<CorrelationId>().map(|c| c.0);
    let response = next.run(request).await;
    if !response.status().is_client_error() {
        return response;
    }
    let (Some(caller), Some(refusal)) = (slot.take(), response.extensions().get::<Refusal>())
    else {
        return response;
    };
    let written = sqlx::query(
        "INSERT INTO access_log (tenant_id, actor, method, route, status, code, reasons,
                                 correlation_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(caller.tenant_id.0)
    .bind(caller.actor())
    .bind(&method)
    .bind(&route)
    .bind(response.status().as_u16() as i16)
    .bind(refusal.code)
    .bind(&refusal.reasons)
    .bind(correlation_id)
    .execute(&state.pool)
    .await;
    if let Err(error) = written {
        tracing::warn!(%error, "a refused command was not written to the access log");
    }
    response
}
