//! The campaign's rules on money, dates and structures, used by `decide`.

use super::{
    CampaignCreated, CampaignEvent, CampaignScheduleChanged, CampaignState, CampaignStatus as S,
    CreateCampaign, Guardrails, Objective, Platform, MAX_TOTAL_BUDGET_MICROS, NAME_MAX_CHARS,
};
use crate::aggregate::Rejection;
use crate::structure::{self, CampaignStructure};
use crate::text::required_line;
use crate::violation::{Violation, Violations};
use chrono::NaiveDate;

/// Account currencies both LinkedIn and Google Ads bill in (ISO 4217).
pub const SUPPORTED_CURRENCIES: [&str; 14] = [
    "AUD", "BRL", "CAD", "CHF", "DKK", "EUR", "GBP", "INR", "JPY", "NOK", "PLN", "SEK", "SGD",
    "USD",
];

/// A new total budget for `state`: valid in itself, and enough for the planned structure.
pub(super) fn check_new_budget(
    state: &CampaignState,
    micros: i64,
    path: &str,
    violations: &mut Violations,
) {
    check_budget(micros, path, violations);
    if let Some(structure) = &state.structure {
        check_fits_budget(
            structure,
            micros,
            state.start_date,
            state.end_date,
            path,
            violations,
        );
    }
}

pub(super) fn check_budget(micros: i64, path: &str, violations: &mut Violations) {
    if micros <= 0 {
        violations.push(path, "not_positive", "must be greater than zero");
    } else if micros > MAX_TOTAL_BUDGET_MICROS {
        violations.push(
            path,
            "too_large",
            format!("must be at most {MAX_TOTAL_BUDGET_MICROS} micros"),
        );
    }
}

pub(super) fn parse_date(
    value: &str,
    path: &str,
    violations: &mut Violations,
) -> Option<NaiveDate> {
    // chrono also reads `2027-1-1` and `+10000-01-01`; the contract is exactly YYYY-MM-DD.
    let shaped = value.len() == 10
        && value.bytes().enumerate().all(|(i, b)| match i {
            4 | 7 => b == b'-',
            _ => b.is_ascii_digit(),
        });
    let parsed = shaped
        .then(|| NaiveDate::parse_from_str(value, "%Y-%m-%d").ok())
        .flatten();
    if parsed.is_none() {
        violations.push(path, "invalid_date", "must be a date written YYYY-MM-DD");
    }
    parsed
}

/// What a structure would spend over the whole schedule at its daily budgets, in micros.
pub fn planned_spend_micros(
    structure: &CampaignStructure,
    start: NaiveDate,
    end: NaiveDate,
) -> i128 {
    let days = i128::from((end - start).num_days() + 1).max(0);
    let google = structure
        .google
        .iter()
        .flat_map(|g| g.daily_budgets_micros().map(i128::from));
    let linkedin = structure.linkedin.iter().flat_map(|l| {
        l.campaigns
            .iter()
            .map(|c| i128::from(c.daily_budget_micros))
    });
    google.chain(linkedin).sum::<i128>() * days
}

pub(super) fn check_fits_budget(
    structure: &CampaignStructure,
    total_budget_micros: i64,
    start: NaiveDate,
    end: NaiveDate,
    path: &str,
    violations: &mut Violations,
) {
    let planned = planned_spend_micros(structure, start, end);
    if planned > i128::from(total_budget_micros) {
        violations.push(
            path,
            "over_budget",
            format!("the daily budgets over the schedule add up to {planned} micros, above the total of {total_budget_micros}"),
        );
    }
}

/// A structure a campaign may hold: one part per campaign platform and none other, no platform
/// error, within the total budget over the schedule. Returns the warnings it still carries.
pub(super) fn check_structure(
    state: &CampaignState,
    structure: &CampaignStructure,
    guardrails: &Guardrails,
) -> Result<Vec<Violation>, Rejection> {
    let report = structure::validate(structure);
    let mut violations = Violations::new();
    for violation in report.errors.iter() {
        let path = if violation.path.is_empty() {
            "structure".to_owned()
        } else {
            format!("structure/{}", violation.path)
        };
        violations.push(path, &violation.code, violation.message.clone());
    }
    for (platform, present, key) in [
        (
            Platform::Google,
            structure.google.is_some(),
            "structure/google",
        ),
        (
            Platform::Linkedin,
            structure.linkedin.is_some(),
            "structure/linkedin",
        ),
    ] {
        let wanted = state.platforms.contains(&platform);
        if wanted && !present {
            violations.push(
                key,
                "required",
                format!("the campaign runs on {}", platform.as_str()),
            );
        } else if present && !wanted {
            violations.push(
                key,
                "unexpected_platform",
                format!("the campaign does not run on {}", platform.as_str()),
            );
        }
    }
    check_fits_budget(
        structure,
        state.total_budget_micros,
        state.start_date,
        state.end_date,
        "structure",
        &mut violations,
    );
    let daily = planned_spend_micros(structure, state.start_date, state.start_date);
    if let Some(cap) = guardrails
        .max_daily_spend_micros
        .filter(|cap| daily > i128::from(*cap))
    {
        violations.push(
            "structure",
            "over_spend_rate",
            format!("plans {daily} micros a day; the tenant allows at most {cap}"),
        );
    }
    violations
        .into_result(report.warnings.into_vec())
        .map_err(Rejection::Invalid)
}

pub(super) fn validate_create(
    command: &CreateCampaign,
    today: NaiveDate,
) -> Result<CampaignCreated, Rejection> {
    let mut violations = Violations::new();
    let name = required_line(&command.name, "name", NAME_MAX_CHARS, &mut violations);

    let objective = Objective::parse(&command.objective);
    if objective.is_none() {
        let allowed: Vec<_> = Objective::ALL.iter().map(|o| o.as_str()).collect();
        violations.push(
            "objective",
            "unknown_value",
            format!("must be one of {}", allowed.join(", ")),
        );
    }

    let mut platforms = Vec::new();
    if command.platforms.is_empty() {
        violations.push("platforms", "required", "must name at least one platform");
    }
    for (index, raw) in command.platforms.iter().enumerate() {
        let path = format!("platforms/{index}");
        match Platform::parse(raw) {
            None => violations.push(path, "unknown_value", "must be LINKEDIN or GOOGLE"),
            Some(p) if platforms.contains(&p) => {
                violations.push(path, "duplicate", "is listed twice")
            }
            Some(p) => platforms.push(p),
        }
    }

    if !SUPPORTED_CURRENCIES.contains(&command.currency.as_str()) {
        violations.push(
            "currency",
            "unknown_value",
            format!("must be one of {}", SUPPORTED_CURRENCIES.join(", ")),
        );
    }
    check_budget(
        command.total_budget_micros,
        "totalBudgetMicros",
        &mut violations,
    );

    let start = parse_date(&command.start_date, "startDate", &mut violations);
    let end = parse_date(&command.end_date, "endDate", &mut violations);
    if let Some(start) = start {
        if start < today {
            violations.push(
                "startDate",
                "in_the_past",
                format!("must not be before today ({today})"),
            );
        }
    }
    if let (Some(start), Some(end)) = (start, end) {
        if end < start {
            violations.push("endDate", "before_start", "must not be before startDate");
        }
    }

    match (objective, start, end) {
        (Some(objective), Some(start_date), Some(end_date)) if violations.is_empty() => {
            Ok(CampaignCreated {
                campaign_id: command.campaign_id,
                tenant_id: command.tenant_id,
                name,
                objective,
                platforms,
                currency: command.currency.clone(),
                total_budget_micros: command.total_budget_micros,
                start_date,
                end_date,
            })
        }
        _ => Err(Rejection::Invalid(violations)),
    }
}

pub(super) fn change_schedule(
    state: &CampaignState,
    start: &str,
    end: &str,
    today: NaiveDate,
) -> Result<Vec<CampaignEvent>, Rejection> {
    let mut violations = Violations::new();
    let start = parse_date(start, "startDate", &mut violations);
    let end = parse_date(end, "endDate", &mut violations);
    let running = matches!(state.status, S::Active | S::Paused);
    if let Some(start) = start.filter(|s| *s != state.start_date) {
        if running {
            violations.push(
                "startDate",
                "already_started",
                "a running campaign keeps its start date",
            );
        } else if start < today {
            violations.push(
                "startDate",
                "in_the_past",
                format!("must not be before today ({today})"),
            );
        }
    }
    if let Some(end) = end.filter(|e| *e != state.end_date && *e < today) {
        violations.push(
            "endDate",
            "in_the_past",
            format!("must not be before today ({end} < {today})"),
        );
    }
    if let (Some(start), Some(end)) = (start, end) {
        if end < start {
            violations.push("endDate", "before_start", "must not be before startDate");
        }
        if let Some(structure) = &state.structure {
            check_fits_budget(
                structure,
                state.total_budget_micros,
                start,
                end,
                "endDate",
                &mut violations,
            );
        }
    }
    match (start, end) {
        (Some(start_date), Some(end_date)) if violations.is_empty() => {
            if (start_date, end_date) == (state.start_date, state.end_date) {
                Ok(vec![])
            } else {
                Ok(vec![CampaignEvent::ScheduleChanged(
                    CampaignScheduleChanged {
                        start_date,
                        end_date,
                    },
                )])
            }
        }
        _ => Err(Rejection::Invalid(violations)),
    }
}
