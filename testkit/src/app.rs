//! The real `adflow all` binary on free ports, against a fresh database, with a small typed client.

use crate::{fresh_database, TestDatabase};
use adflow_auth::{Authenticator, Role};
use adflow_domain::TenantId;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::Value;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use uuid::Uuid;

pub struct TestApp {
    pub db: TestDatabase,
    pub binary: String,
    pub command_url: String,
    pub query_url: String,
    pub http: reqwest::Client,
    jwt_secret: String,
    /// Extra environment of the process (settings a test changes).
    env: Vec<(String, String)>,
    child: Child,
    /// Everything the process (and every restart of it) wrote to stdout and stderr.
    output: Output,
}

type Output = std::sync::Arc<std::sync::Mutex<String>>;

/// A response of either API: status, headers and the JSON body (`Null` when there was none).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// A GraphQL answer's `errors[].extensions.code`, in order ("" for an error without one).
    pub fn error_codes(&self) -> Vec<String> {
        error_codes(&self.body)
    }
}

impl TestApp {
    /// Starts `binary all` (pass `env!("CARGO_BIN_EXE_adflow")`) on a new database.
    pub async fn spawn(binary: &str) -> TestApp {
        Self::spawn_with(binary, &[]).await
    }

    /// Like `spawn`, with extra environment variables (`ADFLOW_…` settings).
    pub async fn spawn_with(binary: &str, env: &[(&str, &str)]) -> TestApp {
        let db = fresh_database().await;
        crate::clickhouse::sweep_old_databases().await;
        let jwt_secret = format!("test-secret-{}", Uuid::new_v4());
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let output = Output::default();
        let (child, command_url, query_url) = start(&db, binary, &jwt_secret, &env, &output).await;
        TestApp {
            db,
            binary: binary.to_owned(),
            command_url,
            query_url,
            http: reqwest::Client::new(),
            jwt_secret,
            env,
            child,
            output,
        }
    }

    /// Everything the process wrote so far (its logs go to stderr), for tests that look for what
    /// must never be logged.
    pub fn output(&self) -> String {
        self.output.lock().map(|o| o.clone()).unwrap_or_default()
    }

    /// The GraphQL WebSocket endpoint.
    pub fn subscription_url(&self) -> String {
        format!(
            "{}/graphql/ws",
            self.query_url.replacen("http://", "ws://", 1)
        )
    }

    /// The query API's `adflow_query_sql_statements_total`.
    pub async fn sql_statements(&self) -> u64 {
        let metrics = self
            .http
            .get(format!("{}/metrics", self.query_url))
            .send()
            .await
            .expect("query API unreachable")
            .text()
            .await
            .unwrap_or_default();
        metrics
            .lines()
            .find_map(|line| line.strip_prefix("adflow_query_sql_statements_total "))
            .and_then(|n| n.trim().parse().ok())
            .expect("/metrics has no statement count")
    }

    /// The process id of `adflow all` (the supervisor of the API processes).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Kills the process without warning (as a crash would) and starts it again on the same database.
    pub async fn crash_and_restart(&mut self) {
        self.child.kill().await.ok();
        let (child, command_url, query_url) = start(
            &self.db,
            &self.binary,
            &self.jwt_secret,
            &self.env,
            &self.output,
        )
        .await;
        self.child = child;
        self.command_url = command_url;
        self.query_url = query_url;
    }

    /// Asks the process to stop (SIGTERM) and waits for it; returns whether it exited cleanly.
    pub async fn terminate(&mut self) -> bool {
        let Some(pid) = self.child.id() else {
            return false;
        };
        let sent = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .await;
        if !sent.is_ok_and(|s| s.success()) {
            return false;
        }
        match tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await {
            Ok(Ok(status)) => status.success(),
            _ => false,
        }
    }

    /// Runs another `adflow` subcommand against this app's database, with the app's extra
    /// settings; returns (success, stderr).
    pub async fn run_cli(&self, args: &[&str]) -> (bool, String) {
        let binary = self.binary.clone();
        self.run_binary(&binary, args).await
    }

    /// Runs another binary of the project (`adflow-ml`) with this app's configuration; returns
    /// whether it succeeded and its stdout followed by its stderr.
    pub async fn run_binary(&self, binary: &str, args: &[&str]) -> (bool, String) {
        let output = Command::new(binary)
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("ADFLOW_DATABASE_URL", &self.db.url)
            .env("ADFLOW_CLICKHOUSE_DATABASE", &self.db.name)
            .env("ADFLOW_JWT_SECRET", &self.jwt_secret)
            .env("ADFLOW_LOG", "warn")
            .output()
            .await
            .expect("cannot run the adflow binary");
        (
            output.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        )
    }

    pub fn token(&self, tenant: TenantId, role: Role) -> String {
        self.token_for("tester", tenant, role)
    }

    /// A token of another caller (`subject`).
    pub fn token_for(&self, subject: &str, tenant: TenantId, role: Role) -> String {
        Authenticator::hs256(self.jwt_secret.as_bytes())
            .issue(subject, tenant, role, 3_600)
            .expect("cannot sign a test token")
    }

    /// A token that expires `ttl_seconds` from now.
    pub fn token_with_ttl(&self, tenant: TenantId, role: Role, ttl_seconds: u64) -> String {
        Authenticator::hs256(self.jwt_secret.as_bytes())
            .issue("tester", tenant, role, ttl_seconds)
            .expect("cannot sign a test token")
    }

    /// POSTs `body` as JSON to the command API; `headers` are extra (name, value) pairs.
    pub async fn command(
        &self,
        path: &str,
        token: Option<&str>,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self
            .http
            .post(format!("{}{path}", self.command_url))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        reply(request.send().await.expect("command API unreachable")).await
    }

    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Reply {
        let mut request = self
            .http
            .post(format!("{}/graphql", self.query_url))
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        reply(request.send().await.expect("query API unreachable")).await
    }
}

/// `errors[].extensions.code` of a GraphQL answer (or of an `errors` array), in order.
pub fn error_codes(body: &Value) -> Vec<String> {
    let errors = if body.is_array() {
        body
    } else {
        &body["errors"]
    };
    errors
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

pub async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        body,
    }
}

/// The JetStream stream of this app's AI work requests (named after its database).
pub fn ml_stream(db: &TestDatabase) -> String {
    db.name.replace("adflow_t_", "ADFLOW_ML_T_").to_uppercase()
}

async fn start(
    db: &TestDatabase,
    binary: &str,
    jwt_secret: &str,
    env: &[(String, String)],
    output: &Output,
) -> (Child, String, String) {
    let mut child = Command::new(binary)
        .arg("all")
        .env("ADFLOW_DATABASE_URL", &db.url)
        // The PostgreSQL database's name is fresh, so it names the ClickHouse database too.
        .env("ADFLOW_CLICKHOUSE_DATABASE", &db.name)
        .env("ADFLOW_COMMAND_API_ADDR", "127.0.0.1:0")
        .env("ADFLOW_QUERY_API_ADDR", "127.0.0.1:0")
        .env("ADFLOW_JWT_SECRET", jwt_secret)
        .env("ADFLOW_DATABASE_MAX_CONNECTIONS", "8")
        // CI runs every test at once on two cores, next to ClickHouse fault tests: give
        // read-your-writes room so that a slow machine is not read as a stale projection.
        .env("ADFLOW_READ_YOUR_WRITES_TIMEOUT_MS", "30000")
        // Tests send commands far faster than an integrator may; the limit test sets its own.
        .env("ADFLOW_RATE_LIMIT_PER_MINUTE", "0")
        .env("ADFLOW_TENANT_RATE_LIMIT_PER_MINUTE", "0")
        .env("ADFLOW_GRAPHQL_RATE_LIMIT_PER_MINUTE", "0")
        .env("ADFLOW_GRAPHQL_TENANT_RATE_LIMIT_PER_MINUTE", "0")
        // The ML worker loads its models only in the tests that want it; every app publishes
        // its work requests on a stream of its own, so apps never take each other's work.
        .env("ADFLOW_ML_WORKER", "false")
        // The platform workers act on every deployment request: tests of the platform loop turn
        // them on (with a sandbox); the rest post deployment results by hand.
        .env("ADFLOW_PLATFORM_WORKERS", "false")
        // Optimisation runs only when a test asks for one.
        .env("ADFLOW_OPTIMISATION_SCHEDULE_SECONDS", "0")
        .env("ADFLOW_ML_STREAM", ml_stream(db))
        .env("ADFLOW_ML_SUBJECT_PREFIX", ml_stream(db).to_lowercase())
        .env(
            "ADFLOW_LOG",
            std::env::var("ADFLOW_TEST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cannot start the adflow binary");
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    // The logs still reach the test's stderr (shown when a test fails), and are kept.
    let kept = output.clone();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stderr).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("{line}");
            if let Ok(mut kept) = kept.lock() {
                kept.push_str(&line);
                kept.push('\n');
            }
        }
    });
    let mut lines = BufReader::new(stdout).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut kept) = output.lock() {
                kept.push_str(&line);
                kept.push('\n');
            }
            if let Some(rest) = line.strip_prefix("ADFLOW_READY ") {
                return Some(rest.to_owned());
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
    .expect("adflow did not report ADFLOW_READY");
    // Keep draining stdout so the child never blocks on a full pipe.
    let kept = output.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Ok(mut kept) = kept.lock() {
                kept.push_str(&line);
                kept.push('\n');
            }
        }
    });
    let field = |name: &str| {
        ready
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(&format!("{name}=")))
            .map(|addr| format!("http://{addr}"))
            .expect("ADFLOW_READY names both APIs")
    };
    (child, field("command_api"), field("query_api"))
}
