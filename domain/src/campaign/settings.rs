//! The campaign's own settings: name, budget, schedule and the segments it targets.

use super::rules::{change_schedule as checked_schedule, check_new_budget};
use super::*;
use chrono::NaiveDate;
use uuid::Uuid;
use CampaignEvent as E;
use CampaignStatus as S;

pub(super) fn rename(state: &CampaignState, command: &CampaignCommand, name: &str) -> Decision {
    if state.status == S::Archived {
        return Err(illegal(state, command));
    }
    let mut violations = Violations::new();
    let name = required_line(name, "name", NAME_MAX_CHARS, &mut violations);
    let events = if name == state.name {
        vec![]
    } else {
        vec![E::Renamed(CampaignRenamed { name })]
    };
    violations.into_result(events).map_err(Rejection::Invalid)
}

pub(super) fn change_budget(
    state: &CampaignState,
    command: &CampaignCommand,
    total_budget_micros: &i64,
) -> Decision {
    allowed(state, command, &EDITABLE)?;
    let mut violations = Violations::new();
    check_new_budget(
        state,
        *total_budget_micros,
        "totalBudgetMicros",
        &mut violations,
    );
    let events = if *total_budget_micros == state.total_budget_micros {
        vec![]
    } else {
        vec![E::BudgetChanged(CampaignBudgetChanged {
            total_budget_micros: *total_budget_micros,
        })]
    };
    violations.into_result(events).map_err(Rejection::Invalid)
}

pub(super) fn change_schedule(
    state: &CampaignState,
    command: &CampaignCommand,
    start_date: &str,
    end_date: &str,
    today: NaiveDate,
) -> Decision {
    allowed(state, command, &EDITABLE)?;
    checked_schedule(state, start_date, end_date, today)
}

pub(super) fn attach_segment(
    state: &CampaignState,
    command: &CampaignCommand,
    audience_id: &Uuid,
    segment_id: &Uuid,
    segment_size: &Option<u64>,
) -> Decision {
    allowed(
        state,
        command,
        &[
            S::Draft,
            S::StructureRequested,
            S::StructurePreview,
            S::Rejected,
            S::Approved,
        ],
    )?;
    if state.segments.contains(&(*audience_id, *segment_id)) {
        return Ok(vec![]);
    }
    let mut violations = Violations::new();
    let needed = state
        .platforms
        .iter()
        .map(|p| crate::platform_rules::min_audience_size(*p))
        .max()
        .unwrap_or(0);
    match segment_size {
        None => violations.push(
            "segmentId",
            "size_unknown",
            "estimate the segment's size before targeting it",
        ),
        Some(size) if *size < needed => violations.push(
            "segmentId",
            "audience_too_small",
            format!("{size} members; the campaign's platforms need at least {needed}"),
        ),
        Some(_) => {}
    }
    violations
        .into_result(vec![E::SegmentAttached(SegmentAttached {
            audience_id: *audience_id,
            segment_id: *segment_id,
            estimated_size: segment_size.unwrap_or(0),
        })])
        .map_err(Rejection::Invalid)
}
