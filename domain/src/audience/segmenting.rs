//! Segmentation by the model: the request, its answer (segments with personas) or its failure.

use super::*;
use AudienceEvent as E;

pub(super) fn request(
    state: &AudienceState,
    violations: &mut Violations,
    request_id: &Uuid,
    accounts: &[CrmAccount],
    max_segments: &u32,
) -> Decision {
    if state.pending_segmentation.is_some() {
        return Err(Rejection::IllegalTransition {
            kind: "audience",
            command: "request a segmentation of",
            status: "SEGMENTING",
        });
    }
    let accounts = segmentation::check_request(accounts, *max_segments, violations);
    Ok(vec![E::SegmentationRequested(SegmentationRequested {
        request_id: *request_id,
        max_segments: *max_segments,
        accounts,
    })])
}

pub(super) fn attach_generated(
    state: &AudienceState,
    violations: &mut Violations,
    request_id: &Uuid,
    model_version: &str,
    segments: &[GeneratedSegment],
) -> Decision {
    if state.pending_segmentation != Some(*request_id) {
        return Err(stale_segmentation());
    }
    let model_version = required_line(model_version, "modelVersion", NAME_MAX_CHARS, violations);
    if state.segments.len() + segments.len() > MAX_SEGMENTS {
        violations.push(
            "segments",
            "too_many",
            format!("an audience holds at most {MAX_SEGMENTS} segments"),
        );
    }
    let mut events = Vec::new();
    for (i, generated) in segments.iter().enumerate() {
        if state.segments.contains_key(&generated.segment_id) {
            return Err(Rejection::AlreadyExists { kind: "segment" });
        }
        let mut own = Violations::new();
        let name = required_line(&generated.name, "name", NAME_MAX_CHARS, &mut own);
        let criteria = segmentation::check_criteria(&generated.criteria, "criteria", &mut own);
        let persona = check_persona(&generated.persona, &mut own);
        for violation in own.into_vec() {
            violations.push(
                format!("segments/{i}/{}", violation.path),
                &violation.code,
                violation.message,
            );
        }
        events.push(E::SegmentAdded(SegmentAdded {
            segment_id: generated.segment_id,
            name,
            criteria,
            estimated_size: Some(generated.estimated_size),
        }));
        events.push(E::PersonaAdded(PersonaAdded {
            segment_id: generated.segment_id,
            persona,
        }));
    }
    events.push(E::SegmentationCompleted(SegmentationCompleted {
        request_id: *request_id,
        model_version,
        segment_ids: segments.iter().map(|s| s.segment_id).collect(),
    }));
    Ok(events)
}

pub(super) fn fail(
    state: &AudienceState,
    violations: &mut Violations,
    request_id: &Uuid,
    reason: &str,
) -> Decision {
    if state.pending_segmentation != Some(*request_id) {
        return Err(stale_segmentation());
    }
    let reason = required_line(reason, "reason", 1_000, violations);
    Ok(vec![E::SegmentationFailed(SegmentationFailed {
        request_id: *request_id,
        reason,
    })])
}
