//! An audience's segments: added by hand, their size estimates and personas.

use super::*;
use AudienceEvent as E;

pub(super) fn add_segment(
    state: &AudienceState,
    violations: &mut Violations,
    segment_id: &Uuid,
    name: &str,
    include: &RawFacets,
    exclude: &RawFacets,
    estimated_size: &Option<u64>,
) -> Decision {
    if state.segments.contains_key(segment_id) {
        return Err(Rejection::AlreadyExists { kind: "segment" });
    }
    if state.segments.len() >= MAX_SEGMENTS {
        violations.push(
            "segments",
            "too_many",
            format!("an audience holds at most {MAX_SEGMENTS} segments"),
        );
    }
    let name = required_line(name, "name", NAME_MAX_CHARS, violations);
    let criteria = parse_criteria(include, exclude, "criteria", violations);
    Ok(vec![E::SegmentAdded(SegmentAdded {
        segment_id: *segment_id,
        name,
        criteria,
        estimated_size: *estimated_size,
    })])
}

pub(super) fn estimate_segment_size(
    state: &AudienceState,
    segment_id: &Uuid,
    estimated_size: &u64,
) -> Decision {
    let current = segment(state, segment_id)?;
    Ok(if current.estimated_size == Some(*estimated_size) {
        vec![]
    } else {
        vec![E::SegmentSizeEstimated(SegmentSizeEstimated {
            segment_id: *segment_id,
            estimated_size: *estimated_size,
        })]
    })
}

pub(super) fn add_persona(
    state: &AudienceState,
    violations: &mut Violations,
    segment_id: &Uuid,
    persona: &Persona,
) -> Decision {
    let current = segment(state, segment_id)?;
    if current.personas.len() >= MAX_PERSONAS_PER_SEGMENT {
        violations.push(
            "persona",
            "too_many",
            format!("a segment holds at most {MAX_PERSONAS_PER_SEGMENT} personas"),
        );
    }
    let persona = check_persona(persona, violations);
    Ok(vec![E::PersonaAdded(PersonaAdded {
        segment_id: *segment_id,
        persona,
    })])
}
