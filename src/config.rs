//! The one configuration loader: environment variables prefixed `ADFLOW_`, each with a working
//! local default (README, "Configuration").

use adflow_input_limits::InputLimits;
use serde::Deserialize;
use std::net::SocketAddr;

pub const DEV_JWT_SECRET: &str = "adflow-local-development-key-not-for-production";
/// The AES-256 key platform credentials are encrypted with when none is configured.
pub const DEV_CREDENTIALS_KEY: &str =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

#[derive(Clone, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct Config {
    /// PostgreSQL: the local event store, the read models and the command API's tables.
    pub database_url: String,
    pub database_max_connections: u32,
    /// `postgres` (default) or `kurrentdb` (EventStoreDB/KurrentDB at `esdb_url`).
    pub event_store: String,
    pub esdb_url: Option<String>,
    /// PostgreSQL event store: appends per shared transaction (group commit); 1 turns it off.
    pub group_commit_max_batch: usize,
    /// PostgreSQL event store: group-commit batches in flight at once.
    pub group_commit_writers: usize,
    /// NATS with JetStream, where AI work requests are published.
    pub nats_url: String,
    /// ClickHouse's HTTP interface and the database of the analytics tables.
    pub clickhouse_url: String,
    pub clickhouse_database: String,
    /// Port 0 picks a free port; the bound addresses are printed on the `ADFLOW_READY` line.
    pub command_api_addr: SocketAddr,
    pub query_api_addr: SocketAddr,
    /// HS256 key of the local token issuer (`adflow token`).
    pub jwt_secret: String,
    /// The identity provider's JWKS (RS256/ES256 keys), as a file or a URL read at start-up.
    pub jwks_path: Option<String>,
    pub jwks_url: Option<String>,
    /// How often a JWKS read from a URL is read again (key rotation).
    pub jwks_refresh_seconds: u64,
    /// The `iss` and `aud` the provider's tokens must carry.
    pub jwt_issuer: Option<String>,
    pub jwt_audience: Option<String>,
    pub read_your_writes_timeout_ms: u64,
    /// Commands per minute per caller within a tenant, and per tenant (0: no limit).
    pub rate_limit_per_minute: u32,
    pub tenant_rate_limit_per_minute: u32,
    /// Whether GraphQL clients may introspect the schema; turn off in production.
    pub graphql_introspection: bool,
    /// Whether `GET /graphql` serves the GraphiQL IDE; turn off in production.
    pub graphiql: bool,
    pub projection_poll_ms: u64,
    /// Whether `adflow all` also runs the ML worker (it loads the models: about 100 MB).
    pub ml_worker: bool,
    /// The JetStream stream and subject prefix of AI work requests (`<prefix>.structure.requested`).
    pub ml_stream: String,
    pub ml_subject_prefix: String,
    /// Attempts before a work request is answered with a failure event.
    pub ml_max_attempts: i64,
    /// Seconds a delivered request may stay unacknowledged before JetStream redelivers it.
    pub ml_ack_wait_seconds: u64,
    pub log: String,
    /// `text` (default) or `json`: one JSON object per log line, for a log collector.
    pub log_format: String,
    /// Client input limits, checked before anything parses it (`adflow-input-limits`): the
    /// largest GraphQL request body or WebSocket message, the longest GraphQL document, the
    /// deepest nesting of a GraphQL document, and of a JSON body or GraphQL variables.
    pub max_request_bytes: usize,
    pub max_query_bytes: usize,
    pub max_query_nesting: usize,
    pub max_json_nesting: usize,
    /// Set by `adflow all` for the API processes it supervises: the inherited listening socket,
    /// and that the process stops when its standard input closes (the supervisor is gone).
    pub listen_fd: Option<i32>,
    pub supervised: bool,
    /// ClickHouse statements one GraphQL request, and one tenant, may have running at once.
    pub analytics_per_request: usize,
    pub analytics_per_tenant: usize,
    /// How long a client may take to send a request's headers before its connection is closed.
    pub header_read_timeout_ms: u64,
    /// Whether `adflow all` runs the deployer, the change pusher and the report sync.
    pub platform_workers: bool,
    /// Points both platforms at a sandbox (`adflow sandbox`), e.g. `http://127.0.0.1:7300`;
    /// unset, the real endpoints below.
    pub platform_sandbox_url: Option<String>,
    pub google_ads_url: String,
    pub google_ads_version: String,
    pub google_token_url: String,
    pub google_developer_token: String,
    pub google_client_id: String,
    pub google_client_secret: String,
    pub linkedin_url: String,
    /// The `LinkedIn-Version` header (`YYYYMM`).
    pub linkedin_version: String,
    pub linkedin_token_url: String,
    pub linkedin_client_id: String,
    pub linkedin_client_secret: String,
    /// One platform request's deadline.
    pub platform_timeout_ms: u64,
    /// A failed platform work request is delivered again after this times its attempt number.
    pub platform_retry_delay_ms: u64,
    /// 64 hex digits: the AES-256-GCM key of the platform credentials at rest.
    pub credentials_key: String,
    /// Report sync cadence per platform, and the days every pull takes again.
    pub report_sync_google_seconds: u64,
    pub report_sync_linkedin_seconds: u64,
    pub report_lookback_days: i64,
    /// How often the optimiser looks at every active campaign (0: only on demand).
    pub optimisation_schedule_seconds: u64,
    /// Days after which a tenant's prediction models are trained again.
    pub retrain_days: i64,
    /// 64 hex digits, the Ed25519 seed that signs checkpoints of the log's chain heads; unset,
    /// no checkpoint is taken. Keep it out of the database's reach (a secret of its own).
    pub audit_signing_key: Option<String>,
    /// The public key `adflow audit verify` checks checkpoints with, when the signing key is not
    /// at hand (an auditor's machine).
    pub audit_public_key: Option<String>,
    /// How often the projections process signs a checkpoint (0: only `adflow audit checkpoint`).
    pub audit_checkpoint_seconds: u64,
    /// Retention per data category, in days (0 keeps it): the platforms' hourly figures in
    /// ClickHouse, refused commands in the access log, CRM identifier hashes (their keys).
    pub retention_raw_platform_days: u32,
    pub retention_access_log_days: u32,
    pub retention_crm_identifier_days: u32,
    /// How often the projections process sweeps (0: only `adflow retention sweep`).
    pub retention_sweep_seconds: u64,
    /// GraphQL requests per minute per caller and per tenant (0 turns a limit off).
    pub graphql_rate_limit_per_minute: u32,
    pub graphql_tenant_rate_limit_per_minute: u32,
    /// Browser origins allowed to call either API, comma-separated (`https://app.example.com`);
    /// empty: no CORS headers.
    pub cors_allowed_origins: String,
    /// Webhooks: deliveries to private, loopback and link-local addresses (off: only public
    /// receivers), one attempt's deadline, the first retry's delay (doubling, jittered, at most an
    /// hour), the hours of failure after which a subscription is disabled, the poll interval.
    pub webhooks_allow_private: bool,
    pub webhook_timeout_ms: u64,
    pub webhook_retry_base_ms: u64,
    pub webhook_give_up_hours: i64,
    pub webhook_poll_ms: u64,
    /// Notification e-mail: the SMTP server as lettre reads it (`smtp://host:2525` plain,
    /// `smtp://user:pass@host:587?tls=required` with STARTTLS, `smtps://host` with TLS); unset:
    /// e-mail deliveries fail with that reason. The sender address.
    pub smtp_url: Option<String>,
    pub smtp_from: String,
    /// Where the web app shows a campaign, for links in e-mail and Slack
    /// (`https://app.example.com`); unset: no links.
    pub app_url: Option<String>,
    /// How often the notification sender looks for messages to send.
    pub notification_poll_ms: u64,
    /// How often the projections process looks for scheduled reports that are due.
    pub report_schedule_poll_ms: u64,
    /// How often the projections process checks every active campaign's pacing.
    pub pacing_check_seconds: u64,
    /// The query API's `/readyz` answers unready while a read model lags the log by more.
    pub ready_max_lag_seconds: u64,
    /// Where a process without an API (projections, platform workers, the ML worker) serves
    /// `/healthz`, `/readyz` and `/metrics`; unset, it serves none. Port 0 picks a free port
    /// (printed on the `ADFLOW_READY` line as `ops=`).
    pub ops_addr: Option<SocketAddr>,
    /// The daily request quotas the `adflow_platform_quota_remaining` gauge counts down from:
    /// Google's developer token (Basic Access: 15,000 operations a day; requests are counted) and
    /// LinkedIn's application (its developer portal shows the figure; 0: no gauge).
    pub google_daily_quota: u64,
    pub linkedin_daily_quota: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "postgres://adflow:adflow@127.0.0.1:5432/adflow".into(),
            database_max_connections: 32,
            event_store: "postgres".into(),
            esdb_url: None,
            group_commit_max_batch: 1,
            group_commit_writers: 2,
            nats_url: "nats://127.0.0.1:4222".into(),
            clickhouse_url: "http://127.0.0.1:8123".into(),
            clickhouse_database: "adflow".into(),
            command_api_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            query_api_addr: SocketAddr::from(([127, 0, 0, 1], 8081)),
            jwt_secret: DEV_JWT_SECRET.into(),
            jwks_path: None,
            jwks_url: None,
            jwks_refresh_seconds: 600,
            jwt_issuer: None,
            jwt_audience: None,
            read_your_writes_timeout_ms: 5_000,
            rate_limit_per_minute: 100,
            tenant_rate_limit_per_minute: 1_000,
            graphql_introspection: true,
            graphiql: true,
            projection_poll_ms: 10,
            ml_worker: true,
            ml_stream: "ADFLOW_ML".into(),
            ml_subject_prefix: "ml".into(),
            ml_max_attempts: 5,
            ml_ack_wait_seconds: 60,
            log: "info".into(),
            max_request_bytes: InputLimits::default().max_request_bytes,
            max_query_bytes: InputLimits::default().max_query_bytes,
            max_query_nesting: InputLimits::default().max_query_nesting,
            max_json_nesting: InputLimits::default().max_json_nesting,
            listen_fd: None,
            supervised: false,
            analytics_per_request: 4,
            analytics_per_tenant: 8,
            header_read_timeout_ms: 10_000,
            platform_workers: true,
            platform_sandbox_url: None,
            google_ads_url: "https://googleads.googleapis.com".into(),
            google_ads_version: adflow_platforms::google::DEFAULT_VERSION.into(),
            google_token_url: "https://oauth2.googleapis.com/token".into(),
            google_developer_token: String::new(),
            google_client_id: String::new(),
            google_client_secret: String::new(),
            linkedin_url: "https://api.linkedin.com".into(),
            linkedin_version: adflow_platforms::linkedin::DEFAULT_VERSION.into(),
            linkedin_token_url: "https://www.linkedin.com/oauth/v2/accessToken".into(),
            linkedin_client_id: String::new(),
            linkedin_client_secret: String::new(),
            platform_timeout_ms: 30_000,
            platform_retry_delay_ms: 2_000,
            credentials_key: DEV_CREDENTIALS_KEY.into(),
            report_sync_google_seconds: 3_600,
            report_sync_linkedin_seconds: 86_400,
            report_lookback_days: 3,
            optimisation_schedule_seconds: 3_600,
            retrain_days: 7,
            audit_signing_key: None,
            audit_public_key: None,
            audit_checkpoint_seconds: 3_600,
            retention_raw_platform_days: 90,
            retention_access_log_days: 365,
            retention_crm_identifier_days: 730,
            retention_sweep_seconds: 86_400,
            graphql_rate_limit_per_minute: 1_000,
            graphql_tenant_rate_limit_per_minute: 10_000,
            cors_allowed_origins: String::new(),
            webhooks_allow_private: false,
            webhook_timeout_ms: 10_000,
            webhook_retry_base_ms: 5_000,
            webhook_give_up_hours: 72,
            webhook_poll_ms: 500,
            smtp_url: None,
            smtp_from: "Adflow <notifications@adflow.invalid>".into(),
            app_url: None,
            notification_poll_ms: 500,
            log_format: "text".into(),
            report_schedule_poll_ms: 60_000,
            pacing_check_seconds: 900,
            ready_max_lag_seconds: 300,
            ops_addr: None,
            google_daily_quota: 15_000,
            linkedin_daily_quota: 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(String);

/// Variables whose values are secrets: never printed (`Debug` shows them as `<redacted>`). The
/// database URL carries a password.
pub const SECRETS: [&str; 6] = [
    "jwt_secret",
    "google_client_secret",
    "linkedin_client_secret",
    "credentials_key",
    "audit_signing_key",
    "database_url",
];

/// Records the field names serde's derive hands to `deserialize_struct`, and nothing else: the
/// variables the loader reads, from the struct itself rather than a list kept by hand.
struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> serde::Deserializer<'de> for FieldNames<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom(
            "only a struct's field names are read",
        ))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(serde::de::Error::custom("field names recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

impl Config {
    /// Every variable the loader reads, as set in the environment (`ADFLOW_DATABASE_URL`, ...).
    pub fn variables() -> Vec<String> {
        let mut fields: &'static [&'static str] = &[];
        let _ = Config::deserialize(FieldNames(&mut fields));
        fields
            .iter()
            .map(|f| format!("ADFLOW_{}", f.to_uppercase()))
            .collect()
    }
}

/// The settings with every secret redacted.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut shown = serde_json::to_value(self).unwrap_or_default();
        if let Some(fields) = shown.as_object_mut() {
            for secret in SECRETS {
                if fields.get(secret).is_some_and(|v| !v.is_null()) {
                    fields.insert(secret.into(), "<redacted>".into());
                }
            }
        }
        write!(f, "Config {shown}")
    }
}

/// envy names a field without its prefix (`… provided by DATABASE_MAX_CONNECTIONS`): name the
/// variable as it is set.
fn named(message: &str) -> String {
    let mut named = message.to_owned();
    for variable in Config::variables() {
        let bare = variable.trim_start_matches("ADFLOW_");
        named = named.replace(&format!("by {bare}"), &format!("by {variable}"));
    }
    named
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        let config = envy::prefixed("ADFLOW_")
            .from_env::<Config>()
            .map_err(|e| ConfigError(named(&e.to_string())))?;
        // A limit of 0 would refuse every request; a huge nesting limit would let a document
        // overflow a parser's stack again.
        for (name, value, most) in [
            ("ADFLOW_MAX_QUERY_NESTING", config.max_query_nesting, 256),
            ("ADFLOW_MAX_JSON_NESTING", config.max_json_nesting, 128),
            (
                "ADFLOW_MAX_REQUEST_BYTES",
                config.max_request_bytes,
                64 << 20,
            ),
            ("ADFLOW_MAX_QUERY_BYTES", config.max_query_bytes, 64 << 20),
        ] {
            if value == 0 || value > most {
                return Err(ConfigError(format!(
                    "{name} must be between 1 and {most}, not {value}"
                )));
            }
        }
        if !matches!(config.log_format.as_str(), "text" | "json") {
            return Err(ConfigError(format!(
                "ADFLOW_LOG_FORMAT must be text or json, not {:?}",
                config.log_format
            )));
        }
        Ok(config)
    }

    pub fn input_limits(&self) -> InputLimits {
        InputLimits {
            max_request_bytes: self.max_request_bytes,
            max_query_bytes: self.max_query_bytes,
            max_query_nesting: self.max_query_nesting,
            max_json_nesting: self.max_json_nesting,
        }
    }
}

impl Config {
    /// Where the platform clients send their requests: the sandbox when one is configured.
    pub fn platform_endpoints(&self) -> adflow_platforms::Endpoints {
        let mut endpoints = match &self.platform_sandbox_url {
            Some(url) => adflow_platforms::Endpoints::sandbox(url),
            None => adflow_platforms::Endpoints {
                google_ads_url: self.google_ads_url.clone(),
                google_ads_version: self.google_ads_version.clone(),
                google_token_url: self.google_token_url.clone(),
                google_developer_token: self.google_developer_token.clone(),
                google_client_id: self.google_client_id.clone(),
                google_client_secret: self.google_client_secret.clone(),
                linkedin_url: self.linkedin_url.clone(),
                linkedin_version: self.linkedin_version.clone(),
                linkedin_token_url: self.linkedin_token_url.clone(),
                linkedin_client_id: self.linkedin_client_id.clone(),
                linkedin_client_secret: self.linkedin_client_secret.clone(),
                timeout: std::time::Duration::from_millis(self.platform_timeout_ms),
                retry: adflow_platforms::RetryPolicy::default(),
            },
        };
        endpoints.timeout = std::time::Duration::from_millis(self.platform_timeout_ms);
        endpoints
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_local_ports() {
        let config: Config = envy::prefixed("ADFLOW_TEST_NOTHING_")
            .from_iter(Vec::new())
            .unwrap();
        assert_eq!(config.command_api_addr.port(), 8080);
        assert_eq!(config.query_api_addr.port(), 8081);
        let custom: Config = envy::prefixed("ADFLOW_")
            .from_iter(vec![(
                "ADFLOW_COMMAND_API_ADDR".to_string(),
                "127.0.0.1:0".to_string(),
            )])
            .unwrap();
        assert_eq!(custom.command_api_addr.port(), 0);
        assert!(envy::prefixed("ADFLOW_")
            .from_iter::<_, Config>(vec![(
                "ADFLOW_QUERY_API_ADDR".to_string(),
                "nope".to_string()
            )])
            .is_err());
    }

    #[test]
    fn every_variable_the_loader_reads_is_in_the_readme_table() {
        let readme = include_str!("../README.md");
        let variables = Config::variables();
        assert!(variables.len() > 80, "{variables:?}");
        assert!(variables.contains(&"ADFLOW_DATABASE_URL".to_owned()));
        let missing: Vec<&String> = variables
            .iter()
            .filter(|v| !readme.contains(&format!("`{v}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "not in README's Configuration table: {missing:?}"
        );
    }

    #[test]
    fn secrets_are_never_printed_and_wrong_values_name_their_variable() {
        let config = Config {
            jwt_secret: "s3cr3t-jwt".into(),
            credentials_key: "ab".repeat(32),
            database_url: "postgres://adflow:hunter2@db/adflow".into(),
            ..Config::default()
        };
        let printed = format!("{config:?}");
        for secret in ["s3cr3t-jwt", &"ab".repeat(32), "hunter2"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(
            printed.contains("\"jwt_secret\":\"<redacted>\""),
            "{printed}"
        );
        assert!(printed.contains("\"log\":\"info\""));
        let wrong = envy::prefixed("ADFLOW_")
            .from_iter::<_, Config>(vec![(
                "ADFLOW_DATABASE_MAX_CONNECTIONS".to_owned(),
                "many".to_owned(),
            )])
            .unwrap_err();
        assert!(
            named(&wrong.to_string()).contains("ADFLOW_DATABASE_MAX_CONNECTIONS"),
            "{wrong}"
        );
    }
}
