//! The audience read models: audiences, their segments with personas, and CRM list summaries.

use crate::json;
use crate::runtime::{Projection, ProjectionError};
use adflow_domain::aggregate::{parse_stream_name, Aggregate};
use adflow_domain::audience::{Audience, AudienceEvent, LawfulBasis};
use adflow_domain::DomainEvent;
use adflow_event_store::RecordedEvent;
use async_trait::async_trait;
use sqlx::PgConnection;

pub struct AudiencesProjection;

fn lawful_basis(basis: LawfulBasis) -> &'static str {
    match basis {
        LawfulBasis::Consent => "CONSENT",
        LawfulBasis::LegitimateInterest => "LEGITIMATE_INTEREST",
        LawfulBasis::Contract => "CONTRACT",
    }
}

#[async_trait]
impl Projection for AudiencesProjection {
    fn name(&self) -> &'static str {
        "audiences"
    }

    fn tables(&self) -> &'static [&'static str] {
        &["audiences", "audience_segments", "account_lists"]
    }

    async fn apply(
        &self,
        tx: &mut PgConnection,
        recorded: &RecordedEvent,
    ) -> Result<(), ProjectionError> {
        let Some((category, tenant, id)) = parse_stream_name(&recorded.stream_name) else {
            return Ok(());
        };
        if category != Audience::CATEGORY {
            return Ok(());
        }
        let event = AudienceEvent::from_payload(
            &recorded.event_type,
            recorded.schema_version,
            &recorded.data,
        )
        .map_err(|e| ProjectionError::Undecodable {
            event_id: recorded.event_id,
            event_type: recorded.event_type.clone(),
            reason: e.to_string(),
        })?;
        let version = i64::try_from(recorded.stream_version).unwrap_or(i64::MAX);
        match &event {
            AudienceEvent::Defined(e) => {
                sqlx::query(
                    "INSERT INTO audiences (tenant_id, audience_id, name, criteria, version, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (tenant_id, audience_id) DO NOTHING",
                )
                .bind(tenant.0)
                .bind(id)
                .bind(&e.name)
                .bind(json(&e.criteria))
                .bind(version)
                .bind(recorded.recorded_at)
                .execute(&mut *tx)
                .await?;
            }
            AudienceEvent::SegmentAdded(e) => {
                sqlx::query(
                    "INSERT INTO audience_segments (tenant_id, segment_id, audience_id, name, criteria, estimated_size) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, segment_id) DO NOTHING",
                )
                .bind(tenant.0)
                .bind(e.segment_id)
                .bind(id)
                .bind(&e.name)
                .bind(json(&e.criteria))
                .bind(e.estimated_size.map(|s| i64::try_from(s).unwrap_or(i64::MAX)))
                .execute(&mut *tx)
                .await?;
            }
            AudienceEvent::SegmentSizeEstimated(e) => {
                sqlx::query("UPDATE audience_segments SET estimated_size = $3 WHERE tenant_id = $1 AND segment_id = $2")
                    .bind(tenant.0)
                    .bind(e.segment_id)
                    .bind(i64::try_from(e.estimated_size).unwrap_or(i64::MAX))
                    .execute(&mut *tx)
                    .await?;
            }
            AudienceEvent::PersonaAdded(e) => {
                sqlx::query(
                    "UPDATE audience_segments SET personas = personas || jsonb_build_array($3::jsonb) \
                     WHERE tenant_id = $1 AND segment_id = $2",
                )
                .bind(tenant.0)
                .bind(e.segment_id)
                .bind(json(&e.persona))
                .execute(&mut *tx)
                .await?;
            }
            AudienceEvent::AccountListImported(e) => {
                sqlx::query(
                    "INSERT INTO account_lists (tenant_id, list_id, audience_id, name, lawful_basis, identifiers) \
                     VALUES ($1, $2, $3, $4, $5, $6) \
                     ON CONFLICT (tenant_id, list_id) DO UPDATE SET identifiers = account_lists.identifiers + EXCLUDED.identifiers",
                )
                .bind(tenant.0)
                .bind(e.list_id)
                .bind(id)
                .bind(&e.name)
                .bind(lawful_basis(e.lawful_basis))
                .bind(i64::try_from(e.identifiers.len()).unwrap_or(i64::MAX))
                .execute(&mut *tx)
                .await?;
            }
            // The request and its outcome change no row: the segments and personas a completed
            // request adds arrive as their own events above; history shows all three.
            AudienceEvent::SegmentationRequested(_)
            | AudienceEvent::SegmentationCompleted(_)
            | AudienceEvent::SegmentationFailed(_) => {}
        }
        sqlx::query("UPDATE audiences SET version = $3, updated_at = $4 WHERE tenant_id = $1 AND audience_id = $2")
            .bind(tenant.0)
            .bind(id)
            .bind(version)
            .bind(recorded.recorded_at)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}
