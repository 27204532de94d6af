//! Report sync: every live deployment's reports pulled on a schedule (Google hourly rows, LinkedIn
//! daily rows, each platform at its own cadence), with a look-back window for late conversions.
//! A day is recorded as one report per ad group (Google) or campaign (LinkedIn) whose id is
//! derived from (platform, account, campaign, day, group): pulled again, the same report is
//! restated — its figures replaced, never added to — or, unchanged, records nothing. Reports land
//! in their day streams through the application layer.

use crate::{Cause, WorkerError};
use adflow_application::{Application, Outcome};
use adflow_domain::campaign::{
    Campaign, CampaignState, Granularity, PerformanceReported, PerformanceRow, Platform,
    MAX_ROWS_PER_REPORT,
};
use adflow_domain::monitoring::{monitor_stream_id, CampaignMonitor, MonitorCommand};
use adflow_domain::performance::{CampaignPerformance, PerformanceCommand};
use adflow_domain::{Rejection, TenantId};
use adflow_platforms::{Account, Platforms, ReportRow};
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use sqlx::PgPool;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tokio::sync::watch;
use uuid::Uuid;

pub const ACTOR: &str = "system:report-sync";
/// Report ids: UUID v5 of the platform, account, campaign, day and group in this namespace.
const REPORT_NAMESPACE: Uuid = Uuid::from_u128(0x0193_7c20_5b1e_7a44_8d2f_61c9_0e35_b8a1);

#[derive(Debug, Clone)]
pub struct ReportSyncOptions {
    /// Days before the last day with data that every pull takes again (late conversions).
    pub lookback_days: i64,
    /// Days after it a pull reaches ahead (a platform answers nothing for days not yet over).
    pub reach_days: i64,
    pub google_every: std::time::Duration,
    pub linkedin_every: std::time::Duration,
}

impl Default for ReportSyncOptions {
    fn default() -> Self {
        Self {
            lookback_days: 3,
            reach_days: 7,
            google_every: std::time::Duration::from_secs(3600),
            linkedin_every: std::time::Duration::from_secs(24 * 3600),
        }
    }
}

/// A campaign live on a platform, from the read model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveDeployment {
    pub tenant: Uuid,
    pub campaign: Uuid,
    pub platform: Platform,
    pub external_id: String,
    pub synced_through: Option<NaiveDate>,
}

/// What one pull recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pulled {
    pub rows: usize,
    pub recorded: usize,
    pub restated: usize,
    pub unchanged: usize,
}

impl Pulled {
    pub fn add(&mut self, other: Pulled) {
        self.rows += other.rows;
        self.recorded += other.recorded;
        self.restated += other.restated;
        self.unchanged += other.unchanged;
    }
}

pub struct ReportSync {
    app: Application,
    pool: PgPool,
    platforms: Arc<Platforms>,
    options: ReportSyncOptions,
}

fn account_key(account: &Account) -> String {
    match account {
        Account::Google { customer_id, .. } => customer_id.clone(),
        Account::Linkedin { account_id, .. } => account_id.clone(),
    }
}

/// The reports of one pull: rows grouped by day and group, in our shape, split where a group
/// has more rows than a report may carry.
pub fn reports(
    platform: Platform,
    account: &str,
    external_id: &str,
    rows: &[ReportRow],
    granularity: Granularity,
) -> Vec<PerformanceReported> {
    let mut groups: BTreeMap<(NaiveDate, String), Vec<PerformanceRow>> = BTreeMap::new();
    for row in rows {
        if (
            row.impressions,
            row.clicks,
            row.conversions,
            row.cost_micros,
            row.revenue_micros,
        ) == (0, 0, 0, 0, 0)
        {
            continue;
        }
        let hour = row.day.and_time(NaiveTime::MIN).and_utc()
            + Duration::hours(i64::from(row.hour.unwrap_or(0)));
        groups
            .entry((row.day, row.ad_group.clone().unwrap_or_default()))
            .or_default()
            .push(PerformanceRow {
                hour,
                ad_group: row.ad_group.clone(),
                ad: row.ad.clone(),
                keyword: row.keyword.clone(),
                segment_id: None,
                impressions: row.impressions,
                clicks: row.clicks,
                conversions: row.conversions,
                cost_micros: row.cost_micros,
                revenue_micros: row.revenue_micros,
            });
    }
    let mut out = Vec::new();
    for ((day, group), mut rows) in groups {
        rows.sort_by(|a, b| (a.hour, &a.keyword, &a.ad).cmp(&(b.hour, &b.keyword, &b.ad)));
        for (chunk, rows) in rows.chunks(MAX_ROWS_PER_REPORT).enumerate() {
            let key = format!(
                "{}/{account}/{external_id}/{day}/{group}/{chunk}",
                platform.as_str()
            );
            let start = Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN));
            out.push(PerformanceReported {
                report_id: Uuid::new_v5(&REPORT_NAMESPACE, key.as_bytes()),
                platform,
                window_start: start,
                window_end: start + Duration::days(1),
                rows: rows.to_vec(),
                granularity,
            });
        }
    }
    out
}

impl ReportSync {
    pub fn new(
        app: Application,
        pool: PgPool,
        platforms: Arc<Platforms>,
        options: ReportSyncOptions,
    ) -> Self {
        Self {
            app,
            pool,
            platforms,
            options,
        }
    }

    /// Every campaign deployed on a platform and not yet archived.
    pub async fn live(&self) -> Result<Vec<LiveDeployment>, WorkerError> {
        let rows: Vec<(Uuid, Uuid, String, String, Option<NaiveDate>)> = sqlx::query_as(
            "SELECT d.tenant_id, d.campaign_id, d.platform, d.external_id, s.synced_through \
             FROM campaign_deployments d \
             JOIN campaigns c ON c.tenant_id = d.tenant_id AND c.campaign_id = d.campaign_id \
             LEFT JOIN report_sync_state s ON s.tenant_id = d.tenant_id AND s.campaign_id = d.campaign_id AND s.platform = d.platform \
             WHERE d.status = 'DEPLOYED' AND d.external_id IS NOT NULL \
               AND c.status IN ('DEPLOYED', 'ACTIVE', 'PAUSED', 'COMPLETED') \
             ORDER BY d.tenant_id, d.campaign_id, d.platform",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(
                |(tenant, campaign, platform, external_id, synced_through)| {
                    Some(LiveDeployment {
                        tenant,
                        campaign,
                        platform: Platform::parse(&platform)?,
                        external_id,
                        synced_through,
                    })
                },
            )
            .collect())
    }

    /// The days a scheduled pull takes: from a look-back before the last day with data (or the
    /// campaign's start) to a few days past it (or today), inside the schedule.
    pub fn window(
        &self,
        state: &CampaignState,
        synced_through: Option<NaiveDate>,
    ) -> Option<(NaiveDate, NaiveDate)> {
        let today = Utc::now().date_naive();
        let from = synced_through
            .map_or(state.start_date, |d| {
                d - Duration::days(self.options.lookback_days)
            })
            .max(state.start_date);
        let reach =
            synced_through.unwrap_or(state.start_date) + Duration::days(self.options.reach_days);
        let to = reach.max(today).min(state.end_date);
        (from <= to).then_some((from, to))
    }

    /// Pulls `from..=to` of one deployment and records it; moves its sync state.
    pub async fn sync(
        &self,
        deployment: &LiveDeployment,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Pulled, WorkerError> {
        let Some(state) = self
            .app
            .load::<Campaign>(TenantId(deployment.tenant), deployment.campaign)
            .await?
            .state
        else {
            return Ok(Pulled::default());
        };
        self.sync_campaign(deployment, &state, from, to).await
    }

    /// [`Self::sync`] for a campaign already loaded.
    async fn sync_campaign(
        &self,
        deployment: &LiveDeployment,
        state: &CampaignState,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Pulled, WorkerError> {
        let connections = crate::connections(&self.app, TenantId(deployment.tenant)).await?;
        let result = self
            .pull(
                deployment,
                state,
                connections.get(&deployment.platform),
                from,
                to,
            )
            .await;
        let (pulled, last_day, error) = match result {
            Ok((pulled, last_day)) => (pulled, last_day, None),
            Err(error) => (Pulled::default(), None, Some(error)),
        };
        sqlx::query(
            "INSERT INTO report_sync_state (tenant_id, campaign_id, platform, synced_through, last_pulled_at, last_error) \
             VALUES ($1, $2, $3, $4, now(), $5) \
             ON CONFLICT (tenant_id, campaign_id, platform) DO UPDATE SET \
               synced_through = GREATEST(report_sync_state.synced_through, EXCLUDED.synced_through), \
               last_pulled_at = now(), last_error = EXCLUDED.last_error",
        )
        .bind(deployment.tenant)
        .bind(deployment.campaign)
        .bind(deployment.platform.as_str())
        .bind(last_day)
        .bind(error.as_ref().map(crate::reason))
        .execute(&self.pool)
        .await?;
        match error {
            Some(error) => Err(error),
            None => Ok(pulled),
        }
    }

    async fn pull(
        &self,
        deployment: &LiveDeployment,
        state: &CampaignState,
        connection: Option<&adflow_domain::tenant::PlatformAccount>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<(Pulled, Option<NaiveDate>), WorkerError> {
        let platform = deployment.platform;
        let account = self
            .platforms
            .account(deployment.tenant, platform, connection)
            .await?;
        let gateway = self.platforms.gateway(platform);
        let rows = gateway
            .report(&account, &deployment.external_id, from, to)
            .await?;
        let last_day = rows
            .iter()
            .filter(|r| r.impressions > 0 || r.conversions > 0)
            .map(|r| r.day)
            .max();
        let granularity = match gateway.granularity() {
            adflow_platforms::Granularity::Hour => Granularity::Hour,
            adflow_platforms::Granularity::Day => Granularity::Day,
        };
        let mut pulled = Pulled {
            rows: rows.len(),
            ..Pulled::default()
        };
        let correlation = Uuid::now_v7();
        for report in reports(
            platform,
            &account_key(&account),
            &deployment.external_id,
            &rows,
            granularity,
        ) {
            if report.window_start.date_naive() < state.start_date
                || report.window_start.date_naive() > state.end_date
            {
                continue;
            }
            let cause = Cause {
                tenant: deployment.tenant,
                event_id: Uuid::nil(),
                correlation_id: correlation,
            };
            match self
                .record(cause, deployment.campaign, state, report)
                .await?
            {
                Recorded::New => pulled.recorded += 1,
                Recorded::Restated => pulled.restated += 1,
                Recorded::Unchanged => pulled.unchanged += 1,
            }
        }
        if let (Some(through), Platform::Google) = (last_day, platform) {
            self.review_search_terms(deployment, state, gateway, &account, through, correlation)
                .await;
        }
        if pulled.recorded + pulled.restated > 0 {
            // New figures: the campaign's monitor records the pull, and its anomaly check follows.
            let cause = Cause {
                tenant: deployment.tenant,
                event_id: Uuid::nil(),
                correlation_id: correlation,
            };
            let command = MonitorCommand::RecordSync {
                campaign_id: deployment.campaign,
                platform,
                from,
                to,
                recorded: u32::try_from(pulled.recorded).unwrap_or(u32::MAX),
                restated: u32::try_from(pulled.restated).unwrap_or(u32::MAX),
            };
            crate::submit::<CampaignMonitor>(
                &self.app,
                ACTOR,
                cause,
                monitor_stream_id(deployment.campaign),
                command,
                false,
            )
            .await?;
        }
        Ok((pulled, last_day))
    }

    /// The search terms review of `deployment` through `through`, once per new day: the report is
    /// a heavy query, and a day already reviewed has nothing new but late conversions (which the
    /// next day's review, over the same fortnight, takes in). A failure is logged and the day
    /// stays unreviewed; the reports are recorded whatever it meets.
    async fn review_search_terms(
        &self,
        deployment: &LiveDeployment,
        state: &CampaignState,
        gateway: &dyn adflow_platforms::AdPlatform,
        account: &adflow_platforms::Account,
        through: NaiveDate,
        correlation: Uuid,
    ) {
        let reviewed: Result<Option<NaiveDate>, sqlx::Error> = sqlx::query_scalar(
            "SELECT search_terms_reviewed_through FROM report_sync_state \
             WHERE tenant_id = $1 AND campaign_id = $2 AND platform = $3",
        )
        .bind(deployment.tenant)
        .bind(deployment.campaign)
        .bind(deployment.platform.as_str())
        .fetch_optional(&self.pool)
        .await
        .map(Option::flatten);
        if matches!(reviewed, Ok(Some(day)) if day >= through) {
            return;
        }
        let cause = Cause {
            tenant: deployment.tenant,
            event_id: Uuid::nil(),
            correlation_id: correlation,
        };
        match crate::search_terms::review(
            &self.app, cause, deployment, state, gateway, account, through,
        )
        .await
        {
            Ok(outcome) => {
                if outcome.proposed > 0 {
                    tracing::info!(campaign = %deployment.campaign, ?outcome, "search terms reviewed");
                }
                let marked = sqlx::query(
                    "INSERT INTO report_sync_state (tenant_id, campaign_id, platform, search_terms_reviewed_through) \
                     VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (tenant_id, campaign_id, platform) DO UPDATE SET \
                       search_terms_reviewed_through = GREATEST(report_sync_state.search_terms_reviewed_through, EXCLUDED.search_terms_reviewed_through)",
                )
                .bind(deployment.tenant)
                .bind(deployment.campaign)
                .bind(deployment.platform.as_str())
                .bind(through)
                .execute(&self.pool)
                .await;
                if let Err(error) = marked {
                    tracing::warn!(campaign = %deployment.campaign, %error, "search terms review not marked");
                }
            }
            Err(error) => {
                tracing::warn!(campaign = %deployment.campaign, %error, "search terms review failed");
            }
        }
    }

    async fn record(
        &self,
        cause: Cause,
        campaign: Uuid,
        state: &CampaignState,
        report: PerformanceReported,
    ) -> Result<Recorded, WorkerError> {
        let known = self
            .app
            .load::<CampaignPerformance>(TenantId(cause.tenant), report.day_stream_id(campaign))
            .await?;
        let seen = known
            .state
            .as_ref()
            .is_some_and(|day| day.reports.contains(&report.report_id));
        let day_stream = report.day_stream_id(campaign);
        let command = PerformanceCommand::Record {
            campaign_id: campaign,
            campaign: state.report_facts(report.report_id),
            report,
            restate: true,
        };
        let outcome = crate::submit::<CampaignPerformance>(
            &self.app, ACTOR, cause, day_stream, command, false,
        )
        .await;
        match outcome {
            Ok(Outcome::Appended { .. }) if seen => Ok(Recorded::Restated),
            Ok(Outcome::Appended { .. }) => Ok(Recorded::New),
            Ok(_) => Ok(Recorded::Unchanged),
            // The campaign moved out of reporting (archived) or the rows break a rule: skip it.
            Err(adflow_application::AppError::Rejected(rejection)) => {
                tracing::warn!(%campaign, rejection = %describe(&rejection), "report refused");
                Ok(Recorded::Unchanged)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// Pulls every live deployment whose platform is due, until `shutdown`.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        let mut last: HashMap<Platform, std::time::Instant> = HashMap::new();
        loop {
            let now = std::time::Instant::now();
            let due: Vec<Platform> = Platform::ALL
                .into_iter()
                .filter(|p| {
                    let every = match p {
                        Platform::Google => self.options.google_every,
                        Platform::Linkedin => self.options.linkedin_every,
                    };
                    last.get(p)
                        .is_none_or(|at| now.duration_since(*at) >= every)
                })
                .collect();
            if !due.is_empty() {
                match self.live().await {
                    Ok(live) => {
                        for deployment in live.iter().filter(|d| due.contains(&d.platform)) {
                            self.sync_due(deployment).await;
                        }
                    }
                    Err(error) => tracing::warn!(%error, "listing live deployments failed"),
                }
                for platform in due {
                    last.insert(platform, now);
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(std::time::Duration::from_millis(500)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    async fn sync_due(&self, deployment: &LiveDeployment) {
        let state = match self
            .app
            .load::<Campaign>(TenantId(deployment.tenant), deployment.campaign)
            .await
        {
            Ok(loaded) => loaded.state,
            Err(error) => {
                tracing::warn!(%error, "loading a campaign to sync failed");
                return;
            }
        };
        let Some(state) = state else { return };
        let Some((from, to)) = self.window(&state, deployment.synced_through) else {
            return;
        };
        match self.sync_campaign(deployment, &state, from, to).await {
            Ok(pulled) => {
                tracing::info!(campaign = %deployment.campaign, platform = deployment.platform.as_str(), %from, %to, rows = pulled.rows, recorded = pulled.recorded, restated = pulled.restated, "reports synced")
            }
            Err(error) => {
                tracing::warn!(campaign = %deployment.campaign, platform = deployment.platform.as_str(), %error, "report sync failed")
            }
        }
    }

    /// `adflow reports backfill`: every live deployment's days `from..=to` (clipped to each
    /// campaign's schedule), one pull per deployment and chunk of `chunk_days`; `progress` hears
    /// of each pull. A pull that fails is reported in the answer and the rest go on.
    pub async fn backfill(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        chunk_days: i64,
        mut progress: impl FnMut(usize, usize, &Pulled),
    ) -> Result<(Pulled, Vec<String>), WorkerError> {
        let live = self.live().await?;
        let mut plan = Vec::new();
        for deployment in &live {
            let Some(state) = self
                .app
                .load::<Campaign>(TenantId(deployment.tenant), deployment.campaign)
                .await?
                .state
            else {
                continue;
            };
            let (start, end) = (from.max(state.start_date), to.min(state.end_date));
            let mut day = start;
            while day <= end {
                let last = (day + Duration::days(chunk_days.max(1) - 1)).min(end);
                plan.push((deployment.clone(), day, last));
                day = last + Duration::days(1);
            }
        }
        let mut total = Pulled::default();
        let mut failures = Vec::new();
        for (done, (deployment, start, end)) in plan.iter().enumerate() {
            match self.sync(deployment, *start, *end).await {
                Ok(pulled) => total.add(pulled),
                Err(error) => failures.push(format!(
                    "campaign {} on {} ({start}..{end}): {error}",
                    deployment.campaign,
                    deployment.platform.as_str()
                )),
            }
            progress(done + 1, plan.len(), &total);
        }
        Ok((total, failures))
    }
}

enum Recorded {
    New,
    Restated,
    Unchanged,
}

fn describe(rejection: &Rejection) -> String {
    match rejection {
        Rejection::Invalid(violations) => format!("{rejection}: {violations:?}"),
        other => other.to_string(),
    }
}
