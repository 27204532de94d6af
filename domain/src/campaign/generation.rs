//! Structure generation and review: the request to the generator, its answer or failure, edits,
//! approval and rejection.

use super::brief::GenerationBrief;
use super::rules::check_structure;
use super::*;
use crate::structure::CampaignStructure;
use uuid::Uuid;
use CampaignEvent as E;
use CampaignStatus as S;

pub(super) fn request_structure(
    state: &CampaignState,
    command: &CampaignCommand,
    request_id: &Uuid,
    instructions: &Option<String>,
    template: &Option<String>,
    brief: &Option<GenerationBrief>,
) -> Decision {
    allowed(state, command, &[S::Draft, S::Rejected])?;
    let mut violations = Violations::new();
    let seed = template.as_deref().map(|key| {
        let found = crate::templates::template(key);
        if found.is_none() {
            let known: Vec<_> = crate::templates::TEMPLATES.iter().map(|t| t.key).collect();
            violations.push(
                "template",
                "unknown_value",
                format!("must be one of {}", known.join(", ")),
            );
        }
        (key.to_owned(), found.map(|t| t.brief.to_owned()))
    });
    let instructions = instructions.as_deref().map(|text| {
        required_line(
            text,
            "instructions",
            INSTRUCTIONS_MAX_CHARS,
            &mut violations,
        )
    });
    let brief = brief
        .as_ref()
        .map(|brief| brief.validated("brief", &mut violations));
    violations
        .into_result(vec![E::StructureRequested(StructureGenerationRequested {
            request_id: *request_id,
            instructions,
            template: seed.as_ref().map(|(key, _)| key.clone()),
            template_brief: seed.and_then(|(_, brief)| brief),
            brief,
        })])
        .map_err(Rejection::Invalid)
}

pub(super) fn attach_generated_structure(
    state: &CampaignState,
    command: &CampaignCommand,
    request_id: &Uuid,
    model_version: &str,
    structure: &CampaignStructure,
    guardrails: &Guardrails,
) -> Decision {
    allowed(state, command, &[S::StructureRequested])?;
    if state.pending_request != Some(*request_id) {
        return Err(stale_request());
    }
    let mut violations = Violations::new();
    let model_version = required_line(
        model_version,
        "modelVersion",
        NAME_MAX_CHARS,
        &mut violations,
    );
    if !violations.is_empty() {
        return Err(Rejection::Invalid(violations));
    }
    let warnings = check_structure(state, structure, guardrails)?;
    one(E::StructureGenerated(StructureGenerated {
        request_id: *request_id,
        model_version,
        structure: structure.clone(),
        warnings,
    }))
}

pub(super) fn fail_structure_generation(
    state: &CampaignState,
    command: &CampaignCommand,
    request_id: &Uuid,
    reason: &str,
) -> Decision {
    allowed(state, command, &[S::StructureRequested])?;
    if state.pending_request != Some(*request_id) {
        return Err(stale_request());
    }
    let mut violations = Violations::new();
    let reason = required_line(reason, "reason", REASON_MAX_CHARS, &mut violations);
    violations
        .into_result(vec![E::StructureGenerationFailed(
            StructureGenerationFailed {
                request_id: *request_id,
                reason,
            },
        )])
        .map_err(Rejection::Invalid)
}

pub(super) fn edit_structure(
    state: &CampaignState,
    command: &CampaignCommand,
    structure: &CampaignStructure,
    guardrails: &Guardrails,
) -> Decision {
    allowed(state, command, &[S::StructurePreview, S::Rejected])?;
    let warnings = check_structure(state, structure, guardrails)?;
    one(E::StructureEdited(StructureEdited {
        structure: structure.clone(),
        warnings,
    }))
}

pub(super) fn approve_structure(state: &CampaignState, command: &CampaignCommand) -> Decision {
    allowed(state, command, &[S::StructurePreview])?;
    one(E::StructureApproved(StructureApproved {}))
}

pub(super) fn reject_structure(
    state: &CampaignState,
    command: &CampaignCommand,
    reasons: &[String],
) -> Decision {
    allowed(state, command, &[S::StructurePreview])?;
    let mut violations = Violations::new();
    if reasons.is_empty() {
        violations.push(
            "reasons",
            "required",
            "say why, so the next structure can be better",
        );
    }
    let reasons: Vec<String> = reasons
        .iter()
        .enumerate()
        .map(|(i, r)| {
            required_line(
                r,
                &format!("reasons/{i}"),
                REASON_MAX_CHARS,
                &mut violations,
            )
        })
        .collect();
    violations
        .into_result(vec![E::StructureRejected(StructureRejected { reasons })])
        .map_err(Rejection::Invalid)
}
