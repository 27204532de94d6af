//! The work types: structure generation for campaigns, segmentation for audiences.

use crate::backend::{Backend, Submission};
use crate::brief::Brief;
use crate::segments::{Account, Segmenter, FUNCTIONS, SENIORITIES};
use crate::structure::{Generated, StructureGenerator};
use crate::worker::{trigger, Step, WorkHandler, WorkRequest, WorkType};
use crate::MlError;
use adflow_domain::audience::{AudienceCommand, AudienceEvent, CrmAccount, GeneratedSegment};
use adflow_domain::campaign::{CampaignCommand, CampaignEvent, CampaignStatus};
use adflow_domain::platform_rules::linkedin::MIN_AUDIENCE_SIZE;
use adflow_domain::DomainEvent;
use async_trait::async_trait;
use std::sync::Arc;
use uuid::Uuid;

/// `StructureGenerationRequested` → `AttachGeneratedStructure` or `FailStructureGeneration`.
pub struct StructureHandler {
    pub backend: Arc<dyn Backend>,
    pub generator: Arc<dyn StructureGenerator>,
}

#[async_trait]
impl WorkHandler for StructureHandler {
    type Input = Brief;
    type Output = Generated;

    const REFUSED: &'static str = "the structure was refused";

    const WORK: WorkType = WorkType::Structure;

    async fn prepare(&self, request: &WorkRequest) -> Step<Brief> {
        let event = match CampaignEvent::from_payload(
            &request.event_type,
            request.schema_version,
            &request.data,
        ) {
            Ok(CampaignEvent::StructureRequested(event)) => event,
            Ok(_) | Err(_) => {
                tracing::error!(event_type = %request.event_type, "not a structure request, dropped");
                return Step::Done;
            }
        };
        let campaign = match self
            .backend
            .campaign(request.tenant_id, request.aggregate_id)
            .await
        {
            Ok(Some(campaign)) => campaign,
            Ok(None) => return Step::Done,
            Err(error) => return Step::Retry(error),
        };
        // Answered, superseded or withdrawn meanwhile: nothing left to do.
        if campaign.status != CampaignStatus::StructureRequested
            || campaign.pending_request != Some(event.request_id)
        {
            return Step::Done;
        }
        let mut segments = Vec::new();
        for (audience, segment) in &campaign.segments {
            match self
                .backend
                .segment(request.tenant_id, *audience, *segment)
                .await
            {
                Ok(Some(found)) => segments.push(found),
                Ok(None) => {}
                Err(error) => return Step::Retry(error),
            }
        }
        match Brief::from_request(&campaign, &event, segments) {
            Some(brief) => Step::Generate(Box::new(brief)),
            None => Step::Fail(
                "the request carries no brief: the generator needs an offer, a landing page URL and a business name"
                    .into(),
            ),
        }
    }

    fn generate(&self, inputs: Vec<Brief>) -> Vec<Result<Generated, MlError>> {
        self.generator.generate(&inputs)
    }

    async fn answer(
        &self,
        request: &WorkRequest,
        generated: Generated,
    ) -> Result<Submission, MlError> {
        let guardrails = self.backend.guardrails(request.tenant_id).await?;
        let command = CampaignCommand::AttachGeneratedStructure {
            request_id: request.request_id(),
            model_version: generated.model_version.clone(),
            structure: generated.structure,
            guardrails,
        };
        self.backend
            .submit_campaign(trigger(request), command, Some(&generated.model_version))
            .await
    }

    async fn fail(&self, request: &WorkRequest, reason: &str) -> Result<Submission, MlError> {
        let command = CampaignCommand::FailStructureGeneration {
            request_id: request.request_id(),
            reason: reason.to_owned(),
        };
        let model = self.generator.model_version().to_owned();
        self.backend
            .submit_campaign(trigger(request), command, Some(&model))
            .await
    }
}

/// `SegmentationRequested` → `AttachGeneratedSegments` or `FailSegmentation`.
pub struct SegmentHandler {
    pub backend: Arc<dyn Backend>,
    pub segmenter: Arc<dyn Segmenter>,
    pub model_version: String,
}

/// A request's accounts and the most segments wanted.
pub struct SegmentationInput {
    accounts: Vec<Account>,
    max_segments: usize,
    seed: u64,
}

fn shares<const N: usize>(basis_points: &[u32]) -> [f32; N] {
    let mut out = [0.0; N];
    for (slot, value) in out.iter_mut().zip(basis_points) {
        *slot = *value as f32 / 10_000.0;
    }
    out
}

fn account(crm: &CrmAccount) -> Account {
    Account {
        industry: crm.industry.clone(),
        country: crm.country.clone(),
        employees: crm.employees,
        seniority_mix: shares::<{ SENIORITIES.len() }>(&crm.seniority_basis_points),
        function_mix: shares::<{ FUNCTIONS.len() }>(&crm.function_basis_points),
        engagement: crm.engagement_basis_points as f32 / 10_000.0,
    }
}

#[async_trait]
impl WorkHandler for SegmentHandler {
    type Input = SegmentationInput;
    type Output = Vec<GeneratedSegment>;

    const REFUSED: &'static str = "the segments were refused";

    const WORK: WorkType = WorkType::Segments;

    async fn prepare(&self, request: &WorkRequest) -> Step<SegmentationInput> {
        let event = match AudienceEvent::from_payload(
            &request.event_type,
            request.schema_version,
            &request.data,
        ) {
            Ok(AudienceEvent::SegmentationRequested(event)) => event,
            Ok(_) | Err(_) => {
                tracing::error!(event_type = %request.event_type, "not a segmentation request, dropped");
                return Step::Done;
            }
        };
        match self
            .backend
            .audience(request.tenant_id, request.aggregate_id)
            .await
        {
            Ok(Some(audience)) if audience.pending_segmentation == Some(event.request_id) => {}
            Ok(_) => return Step::Done,
            Err(error) => return Step::Retry(error),
        }
        Step::Generate(Box::new(SegmentationInput {
            accounts: event.accounts.iter().map(account).collect(),
            max_segments: event.max_segments as usize,
            seed: event.request_id.as_u128() as u64,
        }))
    }

    fn generate(
        &self,
        inputs: Vec<SegmentationInput>,
    ) -> Vec<Result<Vec<GeneratedSegment>, MlError>> {
        inputs
            .into_iter()
            .map(|input| {
                let segments = self.segmenter.segment(
                    &input.accounts,
                    input.max_segments,
                    MIN_AUDIENCE_SIZE,
                    input.seed,
                )?;
                Ok(segments
                    .into_iter()
                    .map(|s| GeneratedSegment {
                        segment_id: Uuid::now_v7(),
                        name: s.name,
                        criteria: s.criteria,
                        estimated_size: s.estimated_size,
                        persona: s.persona,
                    })
                    .collect())
            })
            .collect()
    }

    async fn answer(
        &self,
        request: &WorkRequest,
        segments: Vec<GeneratedSegment>,
    ) -> Result<Submission, MlError> {
        let command = AudienceCommand::AttachGeneratedSegments {
            request_id: request.request_id(),
            model_version: self.model_version.clone(),
            segments,
        };
        self.backend
            .submit_audience(trigger(request), command, Some(&self.model_version))
            .await
    }

    async fn fail(&self, request: &WorkRequest, reason: &str) -> Result<Submission, MlError> {
        let command = AudienceCommand::FailSegmentation {
            request_id: request.request_id(),
            reason: reason.to_owned(),
        };
        self.backend
            .submit_audience(trigger(request), command, Some(&self.model_version))
            .await
    }
}
