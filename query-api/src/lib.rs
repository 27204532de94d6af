//! The GraphQL query API: typed, paginated reads of the read models, scoped to the caller's tenant.
//! It never touches the event store; it reads what the projectors built.

mod campaigns;
mod errors;
mod freshness;
mod scalars;
mod templates;

use adflow_auth::{Authenticator, Principal};
use async_graphql::http::GraphiQLSource;
use async_graphql::{EmptyMutation, EmptySubscription, MergedObject, Schema};
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sqlx::PgPool;
use std::time::Duration;

pub use errors::ErrorCode;

#[derive(MergedObject, Default)]
pub struct Query(campaigns::CampaignQuery, templates::TemplateQuery);

pub type AdflowSchema = Schema<Query, EmptyMutation, EmptySubscription>;

/// Settings the resolvers read from the schema's data.
#[derive(Debug, Clone)]
pub struct QuerySettings {
    /// The longest a query with `minPosition` waits for the read model to catch up.
    pub read_your_writes_timeout: Duration,
    /// The ClickHouse analytics tables, when there are any (their projector's lag is reported).
    pub analytics: Option<adflow_projections::analytics::Analytics>,
}

impl Default for QuerySettings {
    fn default() -> Self {
        Self {
            read_your_writes_timeout: Duration::from_secs(5),
            analytics: None,
        }
    }
}

pub const MAX_DEPTH: usize = 12;
pub const MAX_COMPLEXITY: usize = 2_000;

pub fn schema(pool: PgPool, settings: QuerySettings) -> AdflowSchema {
    Schema::build(Query::default(), EmptyMutation, EmptySubscription)
        .data(pool)
        .data(settings)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .finish()
}

/// The SDL of the schema, as checked in under `schemas/graphql/`.
pub fn sdl() -> String {
    Schema::build(Query::default(), EmptyMutation, EmptySubscription)
        .finish()
        .sdl()
}

#[derive(Clone)]
struct QueryState {
    schema: AdflowSchema,
    auth: Authenticator,
    pool: PgPool,
    analytics: Option<adflow_projections::analytics::Analytics>,
}

pub fn router(pool: PgPool, auth: Authenticator, settings: QuerySettings) -> Router {
    let state = QueryState {
        analytics: settings.analytics.clone(),
        schema: schema(pool.clone(), settings),
        auth,
        pool,
    };
    Router::new()
        .route("/graphql", get(graphiql).post(execute))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(metrics))
        .with_state(state)
}

/// Prometheus metrics: projection lag in events and seconds.
async fn metrics(State(state): State<QueryState>) -> Response {
    match adflow_projections::lag::lags(&state.pool, state.analytics.as_ref()).await {
        Ok(lags) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4",
            )],
            adflow_projections::lag::prometheus(&lags),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot measure projection lag");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

async fn graphiql() -> Html<String> {
    Html(GraphiQLSource::build().endpoint("/graphql").finish())
}

async fn execute(
    State(state): State<QueryState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let authorization = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let principal: Principal = match state.auth.authenticate(authorization) {
        Ok(principal) => principal,
        Err(error) => {
            let body = serde_json::json!({
                "data": null,
                "errors": [{ "message": error.to_string(), "extensions": { "code": ErrorCode::Unauthenticated.as_str() } }]
            });
            return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
        }
    };
    let request = request.into_inner().data(principal);
    GraphQLResponse::from(state.schema.execute(request).await).into_response()
}
