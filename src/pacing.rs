//! Pacing alerts: every active campaign's spend so far today (the analytics store) against its
//! daily budgets (the structure it runs), judged by the domain's rule
//! (`adflow_domain::notifications::pacing_notice`). A campaign is alerted at most once a day per
//! kind of alert (over- or under-spend): the notice's id is derived from the campaign, the day and
//! the title. The projections process checks every `ADFLOW_PACING_CHECK_SECONDS`.

use crate::config::Config;
use adflow_domain::campaign::planned_spend_micros;
use adflow_domain::notifications::{pacing_notice, Pacing};
use adflow_domain::structure::CampaignStructure;
use adflow_projections::analytics::queries::{self, Dimension, Filter};
use adflow_projections::analytics::Analytics;
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Row};
use std::collections::HashMap;
use std::time::Duration;
use uuid::Uuid;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const PACING_NAMESPACE: Uuid = Uuid::from_u128(0x0193_c3d4_9e5f_7a6b_8c2d_3e4f_5a6b_7c8d);

/// Checks every active campaign at `now`; returns how many alerts it raised.
pub async fn check(
    pool: &PgPool,
    analytics: &Analytics,
    now: DateTime<Utc>,
) -> Result<usize, BoxError> {
    let today = now.date_naive();
    let rows = sqlx::query(
        "SELECT tenant_id, campaign_id, structure FROM campaigns
          WHERE status = 'ACTIVE' AND structure IS NOT NULL
            AND start_date <= $1 AND end_date >= $1",
    )
    .bind(today)
    .fetch_all(pool)
    .await?;
    let mut by_tenant: HashMap<Uuid, Vec<(Uuid, i64)>> = HashMap::new();
    for row in rows {
        let Ok(structure) = serde_json::from_value::<CampaignStructure>(row.try_get("structure")?)
        else {
            continue;
        };
        let daily = i64::try_from(planned_spend_micros(&structure, today, today)).unwrap_or(0);
        by_tenant
            .entry(row.try_get("tenant_id")?)
            .or_default()
            .push((row.try_get("campaign_id")?, daily));
    }
    let midnight = today.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc();
    let day_elapsed = (now - midnight).num_seconds() as f64 / 86_400.0;
    let mut raised = 0;
    for (tenant, campaigns) in by_tenant {
        let filter = Filter {
            tenant_id: tenant,
            campaign_ids: campaigns.iter().map(|(id, _)| *id).collect(),
            from: today,
            to: today,
            ..Filter::default()
        };
        let spent: HashMap<String, u64> =
            queries::grouped(analytics, &filter, None, Some(Dimension::Campaign))
                .await?
                .into_iter()
                .map(|g| (g.key, g.totals.cost_micros))
                .collect();
        for (campaign, daily_budget_micros) in campaigns {
            let spent_today = spent.get(&campaign.to_string()).copied().unwrap_or(0);
            let Some(notice) = pacing_notice(
                campaign,
                Pacing {
                    spent_today_micros: i64::try_from(spent_today).unwrap_or(i64::MAX),
                    daily_budget_micros,
                    day_elapsed,
                },
            ) else {
                continue;
            };
            let id = Uuid::new_v5(
                &PACING_NAMESPACE,
                format!("{campaign}/{today}/{}", notice.title).as_bytes(),
            );
            if crate::notifications::raise_once(pool, tenant, id, &notice).await? {
                raised += 1;
            }
        }
    }
    Ok(raised)
}

/// Checks until shutdown.
pub async fn check_periodically(
    pool: PgPool,
    analytics: Analytics,
    config: Config,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if let Err(error) = check(&pool, &analytics, Utc::now()).await {
            tracing::warn!(%error, "pacing check failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(config.pacing_check_seconds.max(1))) => {}
            _ = shutdown.changed() => return,
        }
    }
}
