//! The Campaign aggregate: creation and its first edits. The full lifecycle (structure generation,
//! approval, deployment, pausing) grows here in its own issue.

use crate::aggregate::{Aggregate, HistoryError, Rejection};
use crate::event::{decode, encode, unknown, DecodeError, DomainEvent, EventPayload};
use crate::ids::{CampaignId, TenantId};
use crate::text::required_line;
use crate::violation::Violations;
use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub const NAME_MAX_CHARS: usize = 255;
/// One billion in the account currency: far above any real campaign, low enough that sums of many
/// budgets stay far from `i64::MAX` micros.
pub const MAX_TOTAL_BUDGET_MICROS: i64 = 1_000_000_000 * 1_000_000;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Platform {
    Linkedin,
    Google,
}

impl Platform {
    pub const ALL: [Platform; 2] = [Platform::Linkedin, Platform::Google];

    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Linkedin => "LINKEDIN",
            Platform::Google => "GOOGLE",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Objective {
    BrandAwareness,
    WebsiteVisits,
    Engagement,
    VideoViews,
    LeadGeneration,
    WebsiteConversions,
}

impl Objective {
    pub const ALL: [Objective; 6] = [
        Objective::BrandAwareness,
        Objective::WebsiteVisits,
        Objective::Engagement,
        Objective::VideoViews,
        Objective::LeadGeneration,
        Objective::WebsiteConversions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Objective::BrandAwareness => "BRAND_AWARENESS",
            Objective::WebsiteVisits => "WEBSITE_VISITS",
            Objective::Engagement => "ENGAGEMENT",
            Objective::VideoViews => "VIDEO_VIEWS",
            Objective::LeadGeneration => "LEAD_GENERATION",
            Objective::WebsiteConversions => "WEBSITE_CONVERSIONS",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == value)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CampaignStatus {
    Draft,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "DRAFT",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        (value == "DRAFT").then_some(CampaignStatus::Draft)
    }
}

/// Commands carry what the caller typed (strings for enums and dates), so that `decide` can report
/// every violation at once instead of stopping at the first unparsable field.
#[derive(Debug, Clone, PartialEq)]
pub enum CampaignCommand {
    Create(CreateCampaign),
    Rename { name: String },
    ChangeBudget { total_budget_micros: i64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct CreateCampaign {
    pub campaign_id: CampaignId,
    pub tenant_id: TenantId,
    pub name: String,
    pub objective: String,
    pub platforms: Vec<String>,
    pub total_budget_micros: i64,
    pub start_date: String,
    pub end_date: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignCreated {
    pub campaign_id: CampaignId,
    pub tenant_id: TenantId,
    pub name: String,
    pub objective: Objective,
    pub platforms: Vec<Platform>,
    pub total_budget_micros: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignRenamed {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampaignBudgetChanged {
    pub total_budget_micros: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CampaignEvent {
    Created(CampaignCreated),
    Renamed(CampaignRenamed),
    BudgetChanged(CampaignBudgetChanged),
}

impl CampaignEvent {
    pub const CREATED: &'static str = "CampaignCreated";
    pub const RENAMED: &'static str = "CampaignRenamed";
    pub const BUDGET_CHANGED: &'static str = "CampaignBudgetChanged";
}

impl DomainEvent for CampaignEvent {
    fn to_payload(&self) -> EventPayload {
        match self {
            CampaignEvent::Created(e) => encode(Self::CREATED, 1, e),
            CampaignEvent::Renamed(e) => encode(Self::RENAMED, 1, e),
            CampaignEvent::BudgetChanged(e) => encode(Self::BUDGET_CHANGED, 1, e),
        }
    }

    fn from_payload(
        event_type: &str,
        schema_version: u32,
        data: &serde_json::Value,
    ) -> Result<Self, DecodeError> {
        match (event_type, schema_version) {
            (Self::CREATED, 1) => {
                decode(event_type, schema_version, data).map(CampaignEvent::Created)
            }
            (Self::RENAMED, 1) => {
                decode(event_type, schema_version, data).map(CampaignEvent::Renamed)
            }
            (Self::BUDGET_CHANGED, 1) => {
                decode(event_type, schema_version, data).map(CampaignEvent::BudgetChanged)
            }
            _ => Err(unknown(event_type, schema_version)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CampaignState {
    pub id: CampaignId,
    pub tenant_id: TenantId,
    pub name: String,
    pub objective: Objective,
    pub platforms: Vec<Platform>,
    pub total_budget_micros: i64,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub status: CampaignStatus,
}

pub struct Campaign;

impl Aggregate for Campaign {
    type State = CampaignState;
    type Command = CampaignCommand;
    type Event = CampaignEvent;
    const CATEGORY: &'static str = "campaign";

    fn decide(
        state: Option<&CampaignState>,
        command: &CampaignCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<CampaignEvent>, Rejection> {
        match (state, command) {
            (Some(_), CampaignCommand::Create(_)) => {
                Err(Rejection::AlreadyExists { kind: "campaign" })
            }
            (None, CampaignCommand::Create(create)) => validate_create(create, now.date_naive())
                .map(|created| vec![CampaignEvent::Created(created)]),
            (None, _) => Err(Rejection::NotFound { kind: "campaign" }),
            (Some(current), CampaignCommand::Rename { name }) => {
                let mut violations = Violations::new();
                let name = required_line(name, "name", NAME_MAX_CHARS, &mut violations);
                let events = if name == current.name {
                    vec![]
                } else {
                    vec![CampaignEvent::Renamed(CampaignRenamed { name })]
                };
                violations.into_result(events).map_err(Rejection::Invalid)
            }
            (
                Some(current),
                CampaignCommand::ChangeBudget {
                    total_budget_micros,
                },
            ) => {
                let mut violations = Violations::new();
                check_budget(*total_budget_micros, "totalBudgetMicros", &mut violations);
                let events = if *total_budget_micros == current.total_budget_micros {
                    vec![]
                } else {
                    vec![CampaignEvent::BudgetChanged(CampaignBudgetChanged {
                        total_budget_micros: *total_budget_micros,
                    })]
                };
                violations.into_result(events).map_err(Rejection::Invalid)
            }
        }
    }

    fn evolve(
        state: Option<CampaignState>,
        event: &CampaignEvent,
    ) -> Result<CampaignState, HistoryError> {
        match (state, event) {
            (None, CampaignEvent::Created(e)) => Ok(CampaignState {
                id: e.campaign_id,
                tenant_id: e.tenant_id,
                name: e.name.clone(),
                objective: e.objective,
                platforms: e.platforms.clone(),
                total_budget_micros: e.total_budget_micros,
                start_date: e.start_date,
                end_date: e.end_date,
                status: CampaignStatus::Draft,
            }),
            (Some(_), CampaignEvent::Created(_)) => Err(HistoryError {
                kind: "campaign",
                reason: "created twice",
            }),
            (None, _) => Err(HistoryError {
                kind: "campaign",
                reason: "changed before it was created",
            }),
            (Some(state), CampaignEvent::Renamed(e)) => Ok(CampaignState {
                name: e.name.clone(),
                ..state
            }),
            (Some(state), CampaignEvent::BudgetChanged(e)) => Ok(CampaignState {
                total_budget_micros: e.total_budget_micros,
                ..state
            }),
        }
    }
}

fn check_budget(micros: i64, path: &str, violations: &mut Violations) {
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

fn parse_date(value: &str, path: &str, violations: &mut Violations) -> Option<NaiveDate> {
    let parsed = NaiveDate::parse_from_str(value, "%Y-%m-%d").ok();
    if parsed.is_none() {
        violations.push(path, "invalid_date", "must be a date written YYYY-MM-DD");
    }
    parsed
}

fn validate_create(
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
                total_budget_micros: command.total_budget_micros,
                start_date,
                end_date,
            })
        }
        _ => Err(Rejection::Invalid(violations)),
    }
}
