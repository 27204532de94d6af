//! The GraphQL query API: typed, paginated reads of the read models and the analytics tables,
//! scoped to the caller's tenant, with live updates over WebSocket. It never touches the event
//! store; it reads what the projectors built.

mod access_log;
mod analytics;
mod analytics_gate;
mod anomalies;
mod audiences;
mod campaigns;
mod dayparting;
mod db;
mod errors;
mod experiments;
mod freshness;
mod guard;
mod history;
mod input_guard;
mod live;
mod loaders;
mod notifications;
mod optimisation;
mod recommendations;
pub mod reports;
mod scalars;
mod search_terms;
mod siblings;
mod structure;
mod templates;

use adflow_auth::{Authenticator, Principal};
use async_graphql::http::{GraphiQLSource, ALL_WEBSOCKET_PROTOCOLS};
use async_graphql::{EmptyMutation, MergedObject, Schema};
use async_graphql_axum::{GraphQLProtocol, GraphQLResponse};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sqlx::PgPool;
use std::time::Duration;

pub use analytics_gate::AnalyticsConcurrency;
pub use campaigns::MAX_PAGE_SIZE;
pub use db::ReadDb;
pub use errors::ErrorCode;
pub use live::Subscription;

#[derive(MergedObject, Default)]
pub struct Query(
    campaigns::CampaignQuery,
    recommendations::RecommendationQuery,
    audiences::AudienceQuery,
    analytics::AnalyticsQuery,
    history::HistoryQuery,
    templates::TemplateQuery,
    access_log::AccessLogQuery,
    notifications::NotificationQuery,
);

pub type AdflowSchema = Schema<Query, EmptyMutation, Subscription>;

/// Settings the resolvers read from the schema's data.
#[derive(Debug, Clone)]
pub struct QuerySettings {
    /// The longest a query with `minPosition` waits for the read model to catch up.
    pub read_your_writes_timeout: Duration,
    /// The ClickHouse analytics tables, when there are any.
    pub analytics: Option<adflow_projections::analytics::Analytics>,
    /// Whether clients may ask for the schema (`__schema`); off in production.
    pub introspection: bool,
    /// Whether `GET /graphql` serves the GraphiQL IDE; off in production.
    pub graphiql: bool,
    /// Size and nesting limits checked before any document is parsed.
    pub input_limits: adflow_input_limits::InputLimits,
    /// ClickHouse statements at once, per request and per tenant.
    pub analytics_concurrency: AnalyticsConcurrency,
    /// Requests per minute per caller and per tenant (the same kind of buckets as the command
    /// API's, apart from them).
    pub rate_limits: adflow_callers::RateLimits,
    /// `/readyz` answers unready while a read model is further behind the log than this.
    pub ready_max_lag: Duration,
}

impl Default for QuerySettings {
    fn default() -> Self {
        Self {
            read_your_writes_timeout: Duration::from_secs(5),
            analytics: None,
            introspection: true,
            graphiql: true,
            input_limits: adflow_input_limits::InputLimits::default(),
            analytics_concurrency: AnalyticsConcurrency::default(),
            rate_limits: adflow_callers::RateLimits {
                per_caller_per_minute: 1_000,
                per_tenant_per_minute: 10_000,
            },
            ready_max_lag: Duration::from_secs(300),
        }
    }
}

/// Documents kept for automatic persisted queries, per process (least recently used go first).
pub const PERSISTED_QUERIES: usize = 1_024;

/// Queries deeper than this are refused before anything runs.
pub const MAX_DEPTH: usize = 12;
/// Queries costlier than this are refused before anything runs (a field costs 1; a list costs
/// its page size times its children).
pub const MAX_COMPLEXITY: usize = 5_000;

fn builder() -> async_graphql::SchemaBuilder<Query, EmptyMutation, Subscription> {
    Schema::build(Query::default(), EmptyMutation, Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
}

pub fn schema(db: ReadDb, live: live::LiveChanges, settings: QuerySettings) -> AdflowSchema {
    let gates = std::sync::Arc::new(analytics_gate::TenantGates::new(
        settings.analytics_concurrency,
    ));
    let mut builder = loaders::register(builder(), &db, settings.analytics.as_ref(), &gates)
        .data(gates)
        .extension(input_guard::InputGuard(settings.input_limits))
        // Automatic persisted queries (Apollo's protocol): a client sends a document's SHA-256
        // alone once the document has been sent with it, checked by the input guard, once.
        .extension(
            async_graphql::extensions::apollo_persisted_queries::ApolloPersistedQueries::new(
                async_graphql::extensions::apollo_persisted_queries::LruCacheStorage::new(
                    PERSISTED_QUERIES,
                ),
            ),
        )
        .extension(errors::CodedErrors);
    if !settings.introspection {
        builder = builder.disable_introspection();
    }
    builder.data(db).data(live).data(settings).finish()
}

/// The SDL of the schema, as checked in under `schemas/graphql/`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

#[derive(Clone)]
struct QueryState {
    schema: AdflowSchema,
    auth: Authenticator,
    db: ReadDb,
    analytics: Option<adflow_projections::analytics::Analytics>,
    input_limits: adflow_input_limits::InputLimits,
    analytics_concurrency: AnalyticsConcurrency,
    pool: PgPool,
    rate_limits: adflow_callers::RateLimits,
    ready_max_lag: Duration,
}

pub fn router(pool: PgPool, auth: Authenticator, settings: QuerySettings) -> Router {
    let db = ReadDb::new(pool.clone());
    let graphiql_enabled = settings.graphiql;
    let state = QueryState {
        pool: pool.clone(),
        rate_limits: settings.rate_limits,
        ready_max_lag: settings.ready_max_lag,
        analytics: settings.analytics.clone(),
        input_limits: settings.input_limits,
        analytics_concurrency: settings.analytics_concurrency,
        schema: schema(db.clone(), live::LiveChanges::listen(pool), settings),
        auth,
        db,
    };
    let graphql = if graphiql_enabled {
        get(graphiql).post(execute)
    } else {
        axum::routing::post(execute)
    };
    Router::new()
        .route("/graphql", graphql)
        .route("/graphql/ws", get(subscriptions))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(
            "/v1/version",
            get(|| async {
                axum::Json(serde_json::json!({
                    "name": "adflow",
                    "version": env!("CARGO_PKG_VERSION"),
                    "api": "query",
                }))
            }),
        )
        .route("/metrics", get(metrics))
        .route("/v1/reports/performance", get(performance_report))
        .layer(axum::middleware::from_fn(|request, next| {
            adflow_telemetry::track_requests("query", request, next)
        }))
        .with_state(state)
}

/// Ready when PostgreSQL answers within a second and every read model (and the analytics, when
/// ClickHouse answers) is within `ready_max_lag` of the log: `200`, else `503` naming what failed.
async fn readyz(State(state): State<QueryState>) -> Response {
    let mut checks = serde_json::Map::new();
    let lags = tokio::time::timeout(
        adflow_telemetry::probes::CHECK_TIMEOUT,
        adflow_projections::lag::lags(state.db.uncounted(), state.analytics.as_ref()),
    )
    .await;
    let ready = match lags {
        Err(_) => {
            let waited = adflow_telemetry::probes::CHECK_TIMEOUT.as_secs();
            checks.insert(
                "postgres".into(),
                format!("no answer within {waited} s").into(),
            );
            false
        }
        Ok(Err(error)) => {
            checks.insert("postgres".into(), error.to_string().into());
            false
        }
        Ok(Ok(lags)) => {
            checks.insert("postgres".into(), "ok".into());
            let mut ready = true;
            for lag in lags {
                let behind = lag.seconds > state.ready_max_lag.as_secs_f64();
                ready &= !behind;
                let word = if behind {
                    format!("{:.0} s behind", lag.seconds)
                } else {
                    "ok".to_owned()
                };
                checks.insert(format!("projection:{}", lag.projection), word.into());
            }
            ready
        }
    };
    adflow_telemetry::probes::answer(ready, checks)
}

/// Prometheus metrics: projection lag in events and seconds, and the SQL statements sent.
async fn metrics(State(state): State<QueryState>) -> Response {
    match adflow_projections::lag::lags(state.db.uncounted(), state.analytics.as_ref()).await {
        Ok(lags) => {
            let mut body = adflow_projections::lag::prometheus(&lags);
            body.push_str(&adflow_telemetry::render());
            body.push_str(
                "# HELP adflow_query_sql_statements_total SQL statements the query API has sent.\n\
                 # TYPE adflow_query_sql_statements_total counter\n",
            );
            body.push_str(&format!(
                "adflow_query_sql_statements_total {}\n",
                state.db.statements()
            ));
            (
                [(
                    axum::http::header::CONTENT_TYPE,
                    "text/plain; version=0.0.4",
                )],
                body,
            )
                .into_response()
        }
        Err(error) => {
            tracing::error!(%error, "cannot measure projection lag");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .finish(),
    )
}

fn unauthenticated(error: impl ToString) -> Response {
    input_guard::request_error(StatusCode::UNAUTHORIZED, ErrorCode::Unauthenticated, error)
}

fn authorization(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
}

async fn execute(
    State(state): State<QueryState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Response {
    let principal = match identify(&state, authorization(&headers)).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    if let Some(refused) = rate_limited(&state, &principal).await {
        return refused;
    }
    let request = match input_guard::read_request(&state.input_limits, body).await {
        Ok(request) => request
            .data(principal)
            .data(analytics_gate::RequestGate::new(
                state.analytics_concurrency,
            )),
        Err(refused) => return refused,
    };
    let operation = request
        .operation_name
        .as_deref()
        .map_or_else(|| "anonymous".to_owned(), adflow_telemetry::client_label);
    let started = std::time::Instant::now();
    // Every error is coded by the schema's `CodedErrors` extension, here and on WebSocket alike.
    let response = state.schema.execute(request).await;
    let outcome = if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    adflow_telemetry::metrics::histogram!(
        "adflow_graphql_operation_duration_seconds",
        "operation" => operation.clone()
    )
    .record(started.elapsed().as_secs_f64());
    adflow_telemetry::metrics::counter!(
        "adflow_graphql_operations_total",
        "operation" => operation, "outcome" => outcome
    )
    .increment(1);
    GraphQLResponse::from(response).into_response()
}

/// The refusal when the caller or its tenant is past its rate limit (the same buckets for
/// GraphQL and reports).
async fn rate_limited(state: &QueryState, principal: &Principal) -> Option<Response> {
    match adflow_callers::rate_limit::check(&state.pool, state.rate_limits, "graphql:", principal)
        .await
    {
        Ok(None) => None,
        Ok(Some(retry_after)) => {
            let mut refused = input_guard::request_error(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::RateLimited,
                format!("rate limited: retry after {retry_after} s"),
            );
            refused.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after),
            );
            Some(refused)
        }
        Err(error) => {
            tracing::error!(%error, "rate limit check failed");
            Some(input_guard::request_error(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::Unavailable,
                "the rate limiter is unavailable",
            ))
        }
    }
}

/// A problem+json answer (RFC 9457), as the command API answers.
fn problem(status: StatusCode, code: &str, detail: impl Into<String>) -> Response {
    let body = serde_json::json!({
        "type": format!("https://adflow.dev/problems/{code}"),
        "title": status.canonical_reason().unwrap_or("error"),
        "status": status.as_u16(),
        "code": code,
        "detail": detail.into(),
    });
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response()
}

/// `GET /v1/reports/performance`: a performance report as CSV, XLSX or JSON (`reports`).
async fn performance_report(
    State(state): State<QueryState>,
    headers: HeaderMap,
    query: Result<
        axum::extract::Query<std::collections::HashMap<String, String>>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Response {
    let principal = match identify(&state, authorization(&headers)).await {
        Ok(principal) => principal,
        Err(refused) => return refused,
    };
    if let Some(refused) = rate_limited(&state, &principal).await {
        return refused;
    }
    if !principal.role.may(adflow_auth::Action::Read) {
        return problem(
            StatusCode::FORBIDDEN,
            "forbidden",
            "your role may not read reports",
        );
    }
    let query = match query {
        Ok(axum::extract::Query(query)) => query,
        Err(rejection) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "bad_request",
                rejection.body_text(),
            )
        }
    };
    let money = principal.role.may(adflow_auth::Action::ReadSpend);
    let request = match reports::parse(&query, principal.tenant_id.0, money) {
        Ok(request) => request,
        Err(bad) => {
            return problem(
                StatusCode::BAD_REQUEST,
                "bad_parameter",
                format!("{} {}", bad.parameter, bad.detail),
            )
        }
    };
    let Some(analytics) = state.analytics.as_ref() else {
        return problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "analytics are not configured",
        );
    };
    let format = request.format;
    let name = format!(
        "performance-{}-{}.{}",
        request.from,
        request.to,
        format.extension()
    );
    let report = match reports::build(analytics, &state.pool, request).await {
        Ok(report) => report,
        Err(error) => {
            tracing::warn!(%error, "a report could not be summed");
            return problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the analytics store cannot answer now; retry",
            );
        }
    };
    match reports::render(&report) {
        Ok(bytes) => (
            [
                (
                    axum::http::header::CONTENT_TYPE,
                    format.content_type().to_owned(),
                ),
                (
                    axum::http::header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "a report could not be written");
            problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "the report could not be written",
            )
        }
    }
}

/// The caller: an API key (the same keys, tenants and roles as on the command API) or a JWT.
async fn identify(state: &QueryState, authorization: Option<&str>) -> Result<Principal, Response> {
    let token = adflow_auth::bearer(authorization).map_err(unauthenticated)?;
    match adflow_auth::parse_api_key(token) {
        Some((key_id, secret)) => {
            match adflow_callers::api_keys::authenticate(&state.pool, key_id, secret).await {
                Ok(Some(principal)) => Ok(principal),
                Ok(None) => Err(unauthenticated("unknown or revoked API key")),
                Err(error) => {
                    tracing::error!(%error, "API key lookup failed");
                    Err(input_guard::request_error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        ErrorCode::Unavailable,
                        "credentials cannot be checked now",
                    ))
                }
            }
        }
        None => state
            .auth
            .authenticate(authorization)
            .map_err(unauthenticated),
    }
}

/// How long a new WebSocket may take to send `connection_init` (graphql-transport-ws closes
/// with 4408 then).
pub const CONNECTION_INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// graphql-transport-ws (and the older graphql-ws). The token comes with the upgrade request's
/// `Authorization` header or, since browsers cannot set headers on a WebSocket, in the
/// `connection_init` payload as `{"Authorization": "Bearer …"}`. A client that does not send
/// `connection_init` in time is closed with 4408; a connection ends with 4403 when its token
/// expires, so that a subscription delivers nothing past its credential.
async fn subscriptions(
    State(state): State<QueryState>,
    headers: HeaderMap,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let from_header = match authorization(&headers) {
        None => None,
        Some(header) => match identify(&state, Some(header)).await {
            Ok(principal) => Some(principal),
            Err(refused) => return refused,
        },
    };
    let QueryState {
        schema,
        auth,
        input_limits,
        pool,
        ..
    } = state;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(input_limits.max_request_bytes)
        .max_frame_size(input_limits.max_request_bytes)
        .on_upgrade(move |socket| {
            live::serve_socket(socket, schema, protocol, auth, pool, from_header)
        })
}
