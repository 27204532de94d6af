//! The ML worker end to end, on the real services: a structure request made over HTTP reaches
//! the worker through the dispatcher and JetStream, and its answer shows in GraphQL; a worker
//! killed before its ack leaves exactly one structure; a request that cannot succeed, or keeps
//! failing, ends in a failure event instead of a campaign stuck in "generating".

use adflow_auth::Role;
use adflow_domain::campaign::CampaignCommand;
use adflow_domain::TenantId;
use adflow_event_store::postgres::PostgresEventStore;
use adflow_ml_workers::backend::{Backend, StoreBackend, Submission, Trigger};
use adflow_ml_workers::brief::{Brief, TargetSegment};
use adflow_ml_workers::handlers::StructureHandler;
use adflow_ml_workers::structure::{Generated, StructureGenerator};
use adflow_ml_workers::worker::{WorkHandler, Worker, WorkerOptions};
use adflow_ml_workers::{MlError, Models};
use adflow_testkit::app::{ml_stream, TestApp};
use adflow_testkit::fixtures::{campaign, str_of};
use async_trait::async_trait;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::watch;
use uuid::Uuid;

const BIN: &str = env!("CARGO_BIN_EXE_adflow");

const CAMPAIGN: &str = "query($id: ID!) { campaign(id: $id) {
  status
  structure {
    google { campaignName dailyBudgetMicros adGroups { name keywords { text matchType } searchAds { headlines adStrength { rating score advice } } }
      companionCampaigns { channel dailyBudgetMicros assetGroups { headlines longHeadlines descriptions images { landscape square logos } } } }
    linkedin { campaignGroupName campaigns { name dailyBudgetMicros } }
  }
} }";

fn brief() -> Value {
    json!({
        "offer": "Cloud cost management for SaaS companies: find idle resources and cut your AWS bill",
        "landingPageUrl": "https://acme.example/cloud-costs",
        "landingPageText": "Acme Cloud shows engineering and finance where cloud money goes. Budgets and alerts per team. Savings reports every week.",
        "seedKeywords": ["cloud cost management", "aws cost optimization"],
        "businessName": "Acme Cloud",
        "markets": ["DE", "GB"],
        "brandVoice": {"requiredTerms": ["Acme Cloud"], "forbiddenTerms": ["cheap"], "tone": "PROFESSIONAL"}
    })
}

fn models() -> &'static Models {
    static MODELS: OnceLock<Models> = OnceLock::new();
    MODELS.get_or_init(|| Models::load_default().expect("models load (run ops/setup.sh)"))
}

/// Creates a campaign and asks for a structure; returns the campaign id.
async fn request_structure(app: &TestApp, token: &str, body: Value, request: Value) -> String {
    let created = app.command("/v1/campaigns", Some(token), &body, &[]).await;
    assert_eq!(created.status, StatusCode::CREATED, "{:?}", created.body);
    let id = str_of(&created.body, "/id").to_owned();
    let requested = app
        .command(
            &format!("/v1/campaigns/{id}/structure-requests"),
            Some(token),
            &request,
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(requested.status, StatusCode::OK, "{:?}", requested.body);
    id
}

/// The campaign's events of one type, oldest first: data, actor, correlation and causation.
type Recorded = (Value, String, Uuid, Uuid);

async fn events(app: &TestApp, campaign: &str, event_type: &str) -> Vec<Recorded> {
    sqlx::query_as(
        "SELECT data, actor, correlation_id, causation_id FROM events WHERE stream_name LIKE '%' || $1 AND event_type = $2 ORDER BY position",
    )
    .bind(campaign)
    .bind(event_type)
    .fetch_all(&app.db.pool)
    .await
    .expect("events readable")
}

async fn wait_for_events(
    app: &TestApp,
    campaign: &str,
    event_type: &str,
    seconds: u64,
) -> Vec<Recorded> {
    for _ in 0..seconds * 10 {
        let found = events(app, campaign, event_type).await;
        if !found.is_empty() {
            return found;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no {event_type} for {campaign} within {seconds} s");
}

fn worker_options(app: &TestApp) -> WorkerOptions {
    WorkerOptions {
        stream: ml_stream(&app.db),
        subject_prefix: ml_stream(&app.db).to_lowercase(),
        ack_wait: Duration::from_secs(2),
        retry_delay: Duration::from_millis(50),
        ..WorkerOptions::default()
    }
}

fn structure_worker(
    backend: Arc<dyn Backend>,
    generator: Arc<dyn StructureGenerator>,
    options: WorkerOptions,
) -> Worker<StructureHandler> {
    Worker::new(StructureHandler { backend, generator }, options)
}

async fn start_worker<H: WorkHandler>(
    worker: Worker<H>,
) -> (tokio::task::JoinHandle<()>, watch::Sender<bool>) {
    let client = async_nats::connect("nats://127.0.0.1:4222")
        .await
        .expect("NATS runs (ops/setup.sh)");
    let (stop, shutdown) = watch::channel(false);
    let handle = tokio::spawn(async move {
        if let Err(error) = worker.run(client, shutdown).await {
            panic!("worker failed: {error}");
        }
    });
    (handle, stop)
}

#[tokio::test]
async fn a_campaign_created_over_http_gets_a_generated_platform_valid_structure_in_graphql() {
    let app = TestApp::spawn_with(BIN, &[("ADFLOW_ML_WORKER", "true")]).await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let mut with_images = brief();
    with_images["images"] = json!({
        "landscape": ["https://acme.example/media/hero-1200x628.png"],
        "square": ["https://acme.example/media/hero-1200x1200.png"],
        "logos": ["https://acme.example/media/logo.png"]
    });
    let mut bad_images = with_images.clone();
    bad_images["images"]["square"] = json!(["hero.png"]);
    let created = app
        .command(
            "/v1/campaigns",
            Some(&manager),
            &campaign("Bad images"),
            &[],
        )
        .await;
    let refused = app
        .command(
            &format!(
                "/v1/campaigns/{}/structure-requests",
                str_of(&created.body, "/id")
            ),
            Some(&manager),
            &json!({"brief": bad_images}),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.to_string().contains("/brief/images/square/0"),
        "{}",
        refused.body
    );
    let id = request_structure(
        &app,
        &manager,
        campaign("Cloud costs Q1"),
        json!({"brief": with_images, "template": "b2b-lead-generation"}),
    )
    .await;

    let mut seen = Value::Null;
    for _ in 0..600 {
        let reply = app
            .graphql(Some(&manager), CAMPAIGN, json!({"id": id}))
            .await;
        seen = reply.body["data"]["campaign"].clone();
        if seen["status"] == "STRUCTURE_PREVIEW" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen["status"], "STRUCTURE_PREVIEW", "{seen}");
    let google = &seen["structure"]["google"];
    let groups = google["adGroups"].as_array().expect("ad groups");
    assert!(!groups.is_empty());
    for group in groups {
        assert!(!group["keywords"].as_array().unwrap().is_empty());
        let headlines = group["searchAds"][0]["headlines"].as_array().unwrap();
        assert!(headlines.len() >= 10, "{group}");
        // The rating follows the score (the generator's ads vary with the request's seed; the
        // criteria themselves are tested in the domain).
        let strength = &group["searchAds"][0]["adStrength"];
        let score = strength["score"].as_i64().unwrap();
        let rating = match score {
            7.. => "EXCELLENT",
            5..=6 => "GOOD",
            3..=4 => "AVERAGE",
            _ => "POOR",
        };
        assert_eq!(strength["rating"], rating, "{strength}");
        assert_eq!(
            strength["advice"].as_array().unwrap().is_empty(),
            score == 8,
            "{strength}"
        );
    }
    let linkedin = &seen["structure"]["linkedin"]["campaigns"];
    assert!(linkedin.as_array().is_some_and(|c| !c.is_empty()), "{seen}");
    // Lead generation with images: a Performance Max companion with 30 % of Google's budget.
    let companion = &google["companionCampaigns"][0];
    assert_eq!(companion["channel"], "PERFORMANCE_MAX", "{google}");
    let (search, pmax) = (
        google["dailyBudgetMicros"].as_i64().unwrap(),
        companion["dailyBudgetMicros"].as_i64().unwrap(),
    );
    assert!(
        (pmax * 100 / (search + pmax) - 30).abs() <= 1,
        "{search} {pmax}"
    );
    let group = &companion["assetGroups"][0];
    assert!(group["headlines"].as_array().unwrap().len() >= 3, "{group}");
    assert!(!group["longHeadlines"].as_array().unwrap().is_empty());
    assert!(group["descriptions"][0].as_str().unwrap().chars().count() <= 60);
    assert_eq!(
        group["images"]["logos"],
        json!(["https://acme.example/media/logo.png"])
    );

    // The answer names the model and quotes the request as its cause, once.
    let requested = events(&app, &id, "StructureGenerationRequested").await;
    let generated = events(&app, &id, "StructureGenerated").await;
    assert_eq!(generated.len(), 1);
    let (data, actor, correlation, causation) = &generated[0];
    assert!(
        str_of(data, "/modelVersion").contains("all-MiniLM-L6-v2"),
        "{data}"
    );
    assert!(
        str_of(data, "/modelVersion").contains("copy-scorer@"),
        "{data}"
    );
    let request_event: (Uuid,) = sqlx::query_as(
        "SELECT event_id FROM events WHERE event_type = 'StructureGenerationRequested'",
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(*causation, request_event.0);
    assert_eq!(*correlation, requested[0].2);
    assert!(actor.starts_with("system:"), "{actor}");
}

#[tokio::test]
async fn a_request_that_cannot_succeed_ends_in_a_failure_event_with_the_reason() {
    let app = TestApp::spawn_with(BIN, &[("ADFLOW_ML_WORKER", "true")]).await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    // LinkedIn alone, 100 a day over a month: below LinkedIn's daily minimum of 10.
    let mut body = campaign("Too small");
    body["platforms"] = json!(["LINKEDIN"]);
    body["totalBudgetMicros"] = json!(100_000_000i64);
    let id = request_structure(&app, &manager, body, json!({"brief": brief()})).await;
    let failed = wait_for_events(&app, &id, "StructureGenerationFailed", 60).await;
    assert!(
        str_of(&failed[0].0, "/reason").contains("LinkedIn campaign needs at least"),
        "{:?}",
        failed[0].0
    );

    // No brief at all: refused by the worker at once, with the reason.
    let id = request_structure(&app, &manager, campaign("No brief"), json!({})).await;
    let failed = wait_for_events(&app, &id, "StructureGenerationFailed", 60).await;
    assert!(
        str_of(&failed[0].0, "/reason").contains("no brief"),
        "{:?}",
        failed[0].0
    );
    assert!(events(&app, &id, "StructureGenerated").await.is_empty());
}

/// Answers like the real backend, then hangs before the worker can acknowledge (a crash between
/// the append and the ack); or fails every read (a poison request for the store).
struct FaultyBackend {
    inner: StoreBackend,
    hang_after_submit: bool,
    fail_reads: bool,
    submitted: AtomicBool,
}

#[async_trait]
impl Backend for FaultyBackend {
    async fn campaign(
        &self,
        tenant: Uuid,
        campaign: Uuid,
    ) -> Result<Option<adflow_domain::campaign::CampaignState>, MlError> {
        if self.fail_reads {
            return Err(MlError::Backend("the store is unreachable".into()));
        }
        self.inner.campaign(tenant, campaign).await
    }
    async fn segment(
        &self,
        tenant: Uuid,
        audience: Uuid,
        segment: Uuid,
    ) -> Result<Option<TargetSegment>, MlError> {
        self.inner.segment(tenant, audience, segment).await
    }
    async fn guardrails(
        &self,
        tenant: Uuid,
    ) -> Result<adflow_domain::campaign::Guardrails, MlError> {
        self.inner.guardrails(tenant).await
    }
    async fn audience(
        &self,
        tenant: Uuid,
        audience: Uuid,
    ) -> Result<Option<adflow_domain::audience::AudienceState>, MlError> {
        self.inner.audience(tenant, audience).await
    }
    async fn submit_audience(
        &self,
        trigger: Trigger,
        command: adflow_domain::audience::AudienceCommand,
        model: Option<&str>,
    ) -> Result<Submission, MlError> {
        self.inner.submit_audience(trigger, command, model).await
    }
    async fn submit_campaign(
        &self,
        trigger: Trigger,
        command: CampaignCommand,
        model: Option<&str>,
    ) -> Result<Submission, MlError> {
        let submission = self.inner.submit_campaign(trigger, command, model).await;
        if self.hang_after_submit {
            self.submitted.store(true, Ordering::SeqCst);
            std::future::pending::<()>().await;
        }
        submission
    }
}

fn faulty(app: &TestApp, hang_after_submit: bool, fail_reads: bool) -> Arc<FaultyBackend> {
    Arc::new(FaultyBackend {
        inner: StoreBackend::new(
            adflow_application::Application::new(Arc::new(PostgresEventStore::new(
                app.db.pool.clone(),
            ))),
            "ml-worker",
        ),
        hang_after_submit,
        fail_reads,
        submitted: AtomicBool::new(false),
    })
}

async fn consumer_idle(app: &TestApp) -> bool {
    let client = async_nats::connect("nats://127.0.0.1:4222").await.unwrap();
    let jetstream = async_nats::jetstream::new(client);
    let mut consumer: async_nats::jetstream::consumer::PullConsumer = jetstream
        .get_consumer_from_stream("ml-structure", &ml_stream(&app.db))
        .await
        .unwrap();
    let info = consumer.info().await.unwrap();
    info.num_ack_pending == 0 && info.num_pending == 0
}

#[tokio::test]
async fn killing_the_worker_before_its_ack_leaves_exactly_one_structure() {
    let app = TestApp::spawn(BIN).await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let id = request_structure(&app, &manager, campaign("Crash"), json!({"brief": brief()})).await;

    let dying = faulty(&app, true, false);
    let (first, _stop_first) = start_worker(structure_worker(
        dying.clone(),
        models().structure.clone(),
        worker_options(&app),
    ))
    .await;
    wait_for_events(&app, &id, "StructureGenerated", 120).await;
    // The event is visible before the worker task is polled again to raise its flag.
    adflow_testkit::eventually(
        10,
        "the dying worker hangs after its submission",
        || async { dying.submitted.load(Ordering::SeqCst).then_some(()) },
    )
    .await;
    first.abort();
    let _ = first.await;

    // JetStream redelivers the unacknowledged request to the next worker after ack_wait.
    let (second, stop) = start_worker(structure_worker(
        faulty(&app, false, false),
        models().structure.clone(),
        worker_options(&app),
    ))
    .await;
    let mut idle = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if consumer_idle(&app).await {
            idle = true;
            break;
        }
    }
    assert!(idle, "the redelivered request was never acknowledged");
    assert_eq!(events(&app, &id, "StructureGenerated").await.len(), 1);
    assert!(events(&app, &id, "StructureGenerationFailed")
        .await
        .is_empty());
    let _ = stop.send(true);
    let _ = second.await;
}

#[tokio::test]
async fn a_request_that_keeps_failing_ends_in_a_failure_event_after_the_last_attempt() {
    let app = TestApp::spawn(BIN).await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let id = request_structure(
        &app,
        &manager,
        campaign("Poison"),
        json!({"brief": brief()}),
    )
    .await;
    let (worker, stop) = start_worker(structure_worker(
        faulty(&app, false, true),
        models().structure.clone(),
        WorkerOptions {
            max_attempts: 3,
            ..worker_options(&app)
        },
    ))
    .await;
    let failed = wait_for_events(&app, &id, "StructureGenerationFailed", 60).await;
    assert!(
        str_of(&failed[0].0, "/reason").starts_with("gave up after 3 attempts"),
        "{:?}",
        failed[0].0
    );
    let _ = stop.send(true);
    let _ = worker.await;
}

/// Records how many briefs each model call received.
struct CountingGenerator {
    inner: Arc<dyn StructureGenerator>,
    batches: Mutex<Vec<usize>>,
    calls: AtomicUsize,
}

impl StructureGenerator for CountingGenerator {
    fn generate(&self, briefs: &[Brief]) -> Vec<Result<Generated, MlError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut batches) = self.batches.lock() {
            batches.push(briefs.len());
        }
        self.inner.generate(briefs)
    }

    fn model_version(&self) -> &str {
        self.inner.model_version()
    }
}

#[tokio::test]
async fn requests_waiting_together_are_generated_in_one_model_call() {
    let app = TestApp::spawn(BIN).await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            request_structure(
                &app,
                &manager,
                campaign(&format!("Batch {i}")),
                json!({"brief": brief()}),
            )
            .await,
        );
    }
    // Every request is on the stream before the worker starts.
    let client = async_nats::connect("nats://127.0.0.1:4222").await.unwrap();
    let jetstream = async_nats::jetstream::new(client);
    for _ in 0..200 {
        let mut stream = jetstream.get_stream(ml_stream(&app.db)).await;
        if let Ok(stream) = stream.as_mut() {
            if stream.info().await.map(|i| i.state.messages).unwrap_or(0) >= 5 {
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let counting = Arc::new(CountingGenerator {
        inner: models().structure.clone(),
        batches: Mutex::new(Vec::new()),
        calls: AtomicUsize::new(0),
    });
    let (worker, stop) = start_worker(structure_worker(
        faulty(&app, false, false),
        counting.clone(),
        WorkerOptions {
            batch_window: Duration::from_millis(200),
            ..worker_options(&app)
        },
    ))
    .await;
    for id in &ids {
        wait_for_events(&app, id, "StructureGenerated", 120).await;
    }
    let batches = counting.batches.lock().unwrap().clone();
    assert_eq!(batches.iter().sum::<usize>(), 5, "{batches:?}");
    assert!(
        batches.iter().any(|b| *b > 1),
        "no batch held more than one request: {batches:?}"
    );
    let _ = stop.send(true);
    let _ = worker.await;
}

const AUDIENCE: &str = "query($id: ID!) { audience(id: $id) {
  segments { name estimatedSize criteria personas { name titles pains } }
} }";

#[tokio::test]
async fn crm_accounts_sent_over_http_come_back_as_segments_with_personas_in_graphql() {
    let app = TestApp::spawn_with(BIN, &[("ADFLOW_ML_WORKER", "true")]).await;
    let tenant = TenantId(Uuid::now_v7());
    let manager = app.token(tenant, Role::Manager);
    let defined = app
        .command(
            "/v1/audiences",
            Some(&manager),
            &json!({"name": "CRM", "criteria": {"include": {"locations": ["DE"]}}}),
            &[],
        )
        .await;
    assert_eq!(defined.status, StatusCode::CREATED, "{:?}", defined.body);
    let id = str_of(&defined.body, "/id").to_owned();
    let basis_points = |shares: &[f32]| -> Vec<u32> {
        let mut points: Vec<u32> = shares
            .iter()
            .map(|s| (s * 10_000.0).round() as u32)
            .collect();
        let total: u32 = points.iter().sum();
        points[0] = (points[0] + 10_000).saturating_sub(total);
        points
    };
    let (accounts, _) = adflow_ml_workers::segments::synthetic_crm(25, 3);
    let accounts: Vec<Value> = accounts
        .iter()
        .map(|a| {
            json!({
                "industry": a.industry, "country": a.country, "employees": a.employees,
                "seniorityBasisPoints": basis_points(&a.seniority_mix),
                "functionBasisPoints": basis_points(&a.function_mix),
                "engagementBasisPoints": (a.engagement * 10_000.0).round() as u32,
            })
        })
        .collect();
    let path = format!("/v1/audiences/{id}/segmentation-requests");
    let refused = app
        .command(
            &path,
            Some(&manager),
            &json!({"accounts": [], "maxSegments": 0}),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        refused.body
    );
    let requested = app
        .command(
            &path,
            Some(&manager),
            &json!({"accounts": accounts, "maxSegments": 4}),
            &[("if-match", "1")],
        )
        .await;
    assert_eq!(requested.status, StatusCode::OK, "{:?}", requested.body);

    let completed = wait_for_events(&app, &id, "SegmentationCompleted", 60).await;
    assert!(str_of(&completed[0].0, "/modelVersion").starts_with("crm-segmenter@"));
    let mut segments = Vec::new();
    for _ in 0..100 {
        let reply = app
            .graphql(Some(&manager), AUDIENCE, json!({"id": id}))
            .await;
        segments = reply.body["data"]["audience"]["segments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if !segments.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!((2..=4).contains(&segments.len()), "{segments:?}");
    for segment in &segments {
        assert!(
            segment["estimatedSize"].as_u64().unwrap() >= 300,
            "{segment}"
        );
        assert!(
            segment["criteria"]["include"]["locations"].is_array(),
            "{segment}"
        );
        let persona = &segment["personas"][0];
        assert!(!persona["name"].as_str().unwrap().is_empty(), "{segment}");
        assert!(
            !persona["pains"].as_array().unwrap().is_empty(),
            "{segment}"
        );
    }
    // The answer is caused by the request, once.
    let requested = events(&app, &id, "SegmentationRequested").await;
    assert_eq!(requested.len(), 1);
    let request_event: (Uuid,) =
        sqlx::query_as("SELECT event_id FROM events WHERE event_type = 'SegmentationRequested'")
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(completed.len(), 1);
    assert_eq!(completed[0].3, request_event.0);
}
