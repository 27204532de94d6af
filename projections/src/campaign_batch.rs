//! The `campaigns` projection's batch path: campaigns created within a batch are folded in memory
//! with the aggregate's own `evolve` and written with one multi-row insert; events of campaigns
//! that already have a row go through the event-by-event path. A rebuild is almost all the first
//! kind. The result is the same as applying every event alone (tested in tests/batching.rs).

use crate::campaigns::{side_tables, CampaignsProjection};
use crate::json;
use crate::runtime::{Projection, ProjectionError};
use adflow_domain::aggregate::{parse_stream_name, Aggregate};
use adflow_domain::campaign::{Campaign, CampaignEvent, CampaignState};
use adflow_domain::DomainEvent;
use adflow_event_store::RecordedEvent;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

struct Fresh {
    state: CampaignState,
    version: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    warnings: serde_json::Value,
}

fn undecodable(event: &RecordedEvent, reason: String) -> ProjectionError {
    ProjectionError::Undecodable {
        event_id: event.event_id,
        event_type: event.event_type.clone(),
        reason,
    }
}

pub(crate) async fn apply_batch(
    projection: &CampaignsProjection,
    tx: &mut PgConnection,
    events: &[RecordedEvent],
) -> Result<(), ProjectionError> {
    let mut order: Vec<(Uuid, Uuid)> = Vec::new();
    let mut fresh: HashMap<(Uuid, Uuid), Fresh> = HashMap::new();
    for recorded in events {
        let Some((category, tenant, id)) = parse_stream_name(&recorded.stream_name) else {
            continue;
        };
        if category != Campaign::CATEGORY {
            continue;
        }
        let key = (tenant.0, id);
        let event = CampaignEvent::from_payload(
            &recorded.event_type,
            recorded.schema_version,
            &recorded.data,
        )
        .map_err(|e| undecodable(recorded, e.to_string()))?;
        let version = i64::try_from(recorded.stream_version).unwrap_or(i64::MAX);
        if let Some(campaign) = fresh.remove(&key) {
            side_tables(tx, key.0, key.1, &event, recorded).await?;
            let warnings = match &event {
                CampaignEvent::StructureGenerated(e) => json(&e.warnings),
                CampaignEvent::StructureEdited(e) => json(&e.warnings),
                CampaignEvent::StructureTuned(e) => json(&e.warnings),
                _ => campaign.warnings,
            };
            let state = Campaign::evolve(Some(campaign.state), &event)
                .map_err(|e| undecodable(recorded, e.to_string()))?;
            fresh.insert(
                key,
                Fresh {
                    state,
                    version,
                    created_at: campaign.created_at,
                    updated_at: recorded.recorded_at,
                    warnings,
                },
            );
        } else if matches!(event, CampaignEvent::Created(_)) {
            let state =
                Campaign::evolve(None, &event).map_err(|e| undecodable(recorded, e.to_string()))?;
            order.push(key);
            fresh.insert(
                key,
                Fresh {
                    state,
                    version,
                    created_at: recorded.recorded_at,
                    updated_at: recorded.recorded_at,
                    warnings: serde_json::json!([]),
                },
            );
        } else {
            projection.apply(tx, recorded).await?;
        }
    }
    insert(tx, &order, &fresh).await
}

async fn insert(
    tx: &mut PgConnection,
    order: &[(Uuid, Uuid)],
    fresh: &HashMap<(Uuid, Uuid), Fresh>,
) -> Result<(), ProjectionError> {
    let rows: Vec<(&(Uuid, Uuid), &Fresh)> = order
        .iter()
        .filter_map(|k| fresh.get(k).map(|f| (k, f)))
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    let column = |f: fn(&(Uuid, Uuid), &Fresh) -> serde_json::Value| {
        rows.iter().map(|(k, c)| f(k, c)).collect::<Vec<_>>()
    };
    // Platforms, structure and warnings travel as JSON: PostgreSQL arrays of arrays must be
    // rectangular, and a campaign's platform list is not.
    let tenants: Vec<Uuid> = rows.iter().map(|(k, _)| k.0).collect();
    let ids: Vec<Uuid> = rows.iter().map(|(k, _)| k.1).collect();
    let names: Vec<String> = rows.iter().map(|(_, c)| c.state.name.clone()).collect();
    let statuses: Vec<&str> = rows.iter().map(|(_, c)| c.state.status.as_str()).collect();
    let objectives: Vec<&str> = rows
        .iter()
        .map(|(_, c)| c.state.objective.as_str())
        .collect();
    let platforms = column(|_, c| {
        json(
            &c.state
                .platforms
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>(),
        )
    });
    let currencies: Vec<String> = rows.iter().map(|(_, c)| c.state.currency.clone()).collect();
    let budgets: Vec<i64> = rows
        .iter()
        .map(|(_, c)| c.state.total_budget_micros)
        .collect();
    let starts: Vec<chrono::NaiveDate> = rows.iter().map(|(_, c)| c.state.start_date).collect();
    let ends: Vec<chrono::NaiveDate> = rows.iter().map(|(_, c)| c.state.end_date).collect();
    let versions: Vec<i64> = rows.iter().map(|(_, c)| c.version).collect();
    let created: Vec<DateTime<Utc>> = rows.iter().map(|(_, c)| c.created_at).collect();
    let updated: Vec<DateTime<Utc>> = rows.iter().map(|(_, c)| c.updated_at).collect();
    let structures = column(|_, c| {
        c.state
            .structure
            .as_ref()
            .map(json)
            .unwrap_or(serde_json::Value::Null)
    });
    let warnings = column(|_, c| c.warnings.clone());
    sqlx::query(
        "INSERT INTO campaigns (tenant_id, campaign_id, name, status, objective, platforms, currency, \
           total_budget_micros, start_date, end_date, version, created_at, updated_at, structure, structure_warnings) \
         SELECT t, i, n, s, o, ARRAY(SELECT jsonb_array_elements_text(p)), cu, b, sd, ed, v, ca, ua, \
                CASE WHEN st = 'null'::jsonb THEN NULL ELSE st END, w \
         FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::text[], \
                     $8::bigint[], $9::date[], $10::date[], $11::bigint[], $12::timestamptz[], $13::timestamptz[], \
                     $14::jsonb[], $15::jsonb[]) AS r(t, i, n, s, o, p, cu, b, sd, ed, v, ca, ua, st, w) \
         ON CONFLICT (tenant_id, campaign_id) DO NOTHING",
    )
    .bind(&tenants)
    .bind(&ids)
    .bind(&names)
    .bind(&statuses)
    .bind(&objectives)
    .bind(&platforms)
    .bind(&currencies)
    .bind(&budgets)
    .bind(&starts)
    .bind(&ends)
    .bind(&versions)
    .bind(&created)
    .bind(&updated)
    .bind(&structures)
    .bind(&warnings)
    .execute(tx)
    .await?;
    Ok(())
}
