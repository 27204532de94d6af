//! The event contracts under `schemas/events/` match the code, and every fixture of every version
//! ever written still decodes. Regenerate schemas (and add fixtures for new versions; existing
//! fixtures are never overwritten) with:
//! `ADFLOW_UPDATE_CONTRACTS=1 cargo test -p adflow-domain --test event_contracts`.

mod common;

use adflow_domain::audience::*;
use adflow_domain::campaign::*;
use adflow_domain::contracts::{decode_any, event_contracts};
use adflow_domain::inbound::{InboundEvent, LeadCaptured, LeadSource, OfflineConversionRecorded};
use adflow_domain::notifications::{
    Channels, InboxEvent, NoticeKind, NotificationPreferencesSet, NotificationsRead,
};
use adflow_domain::personal::{
    subject_of_identifier, DataSubjectErased, DataSubjectEvent, PersonalValue, SealedValue,
};
use adflow_domain::retention::{RetentionApplied, RetentionCategory, RetentionEvent};
use adflow_domain::structure::CampaignStructure;
use adflow_domain::tenant::{ApiKeyCreated, ApiKeyRevoked, TenantEvent};
use adflow_domain::{AudienceId, CampaignId, DomainEvent, EventPayload, TenantId};
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use uuid::Uuid;

fn dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/events"))
}

fn updating() -> bool {
    std::env::var_os("ADFLOW_UPDATE_CONTRACTS").is_some()
}

/// One sample of every event the domain writes today.
fn samples() -> Vec<EventPayload> {
    let tenant = TenantId(Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001));
    vec![
        CampaignEvent::Created(CampaignCreated {
            campaign_id: CampaignId(Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0002)),
            tenant_id: tenant,
            name: "Q1 pipeline".into(),
            objective: Objective::LeadGeneration,
            platforms: vec![Platform::Linkedin, Platform::Google],
            currency: "EUR".into(),
            total_budget_micros: 50_000_000_000,
            start_date: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            end_date: NaiveDate::from_ymd_opt(2027, 3, 31).unwrap(),
        })
        .to_payload(),
        CampaignEvent::Renamed(CampaignRenamed {
            name: "Q1 pipeline (DACH)".into(),
        })
        .to_payload(),
        CampaignEvent::BudgetChanged(CampaignBudgetChanged {
            total_budget_micros: 60_000_000_000,
        })
        .to_payload(),
        CampaignEvent::ScheduleChanged(CampaignScheduleChanged {
            start_date: NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(),
            end_date: NaiveDate::from_ymd_opt(2027, 4, 30).unwrap(),
        })
        .to_payload(),
        CampaignEvent::SegmentAttached(SegmentAttached {
            audience_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0007),
            segment_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0005),
            estimated_size: 12_000,
        })
        .to_payload(),
        CampaignEvent::StructureRequested(StructureGenerationRequested {
            request_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0004),
            instructions: Some("Focus on mid-market SaaS".into()),
            template: Some("b2b-lead-generation".into()),
            template_brief: Some("Lead gen forms on LinkedIn for decision makers.".into()),
            brief: Some(adflow_domain::campaign::brief::GenerationBrief {
                offer: "Cloud cost management for mid-market SaaS".into(),
                landing_page_url: "https://acme.example/cloud-costs".into(),
                landing_page_text: Some("Cut your AWS bill by 30%.".into()),
                seed_keywords: vec!["cloud cost management".into()],
                business_name: "Acme".into(),
                markets: vec!["DE".into()],
                brand_voice: Default::default(),
                images: Default::default(),
            }),
        })
        .to_payload(),
        CampaignEvent::StructureGenerated(StructureGenerated {
            request_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0004),
            model_version: "structure-gen 0.1.0".into(),
            structure: CampaignStructure {
                google: Some(common::google()),
                linkedin: Some(common::linkedin()),
            },
            warnings: vec![],
        })
        .to_payload(),
        CampaignEvent::StructureGenerationFailed(StructureGenerationFailed {
            request_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0004),
            reason: "the generator timed out three times".into(),
        })
        .to_payload(),
        CampaignEvent::StructureEdited(StructureEdited {
            structure: CampaignStructure {
                google: Some(common::google()),
                linkedin: None,
            },
            warnings: vec![],
        })
        .to_payload(),
        CampaignEvent::StructureApproved(StructureApproved {}).to_payload(),
        CampaignEvent::StructureRejected(StructureRejected {
            reasons: vec!["Too broad".into()],
        })
        .to_payload(),
        CampaignEvent::DeploymentRequested(DeploymentRequested {
            platforms: vec![Platform::Google, Platform::Linkedin],
        })
        .to_payload(),
        CampaignEvent::DeployedToPlatform(DeployedToPlatform {
            platform: Platform::Google,
            external_id: "customers/1234567890/campaigns/987".into(),
            resources: vec![ExternalResource {
                kind: "AD_GROUP".into(),
                path: "/google/adGroups/0".into(),
                external_id: "customers/1234567890/adGroups/55".into(),
            }],
        })
        .to_payload(),
        CampaignEvent::Deployed(Transitioned {}).to_payload(),
        CampaignEvent::DeploymentFailed(DeploymentFailed {
            platform: Platform::Linkedin,
            reason: "rate limited".into(),
            retryable: true,
        })
        .to_payload(),
        CampaignEvent::Activated(Transitioned {}).to_payload(),
        CampaignEvent::Paused(Transitioned {}).to_payload(),
        CampaignEvent::Resumed(Transitioned {}).to_payload(),
        CampaignEvent::Completed(Transitioned {}).to_payload(),
        CampaignEvent::Archived(Transitioned {}).to_payload(),
        CampaignEvent::OptimisationProposed(OptimisationProposed {
            proposal_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0008),
            action: ProposedAction::ChangeBudget {
                total_budget_micros: 55_000_000_000,
            },
            reason: "CPA 40 % under target for 7 days".into(),
            confidence_basis_points: 9_100,
            model_version: "budget-optimiser 0.1.0".into(),
        })
        .to_payload(),
        CampaignEvent::ProposalApplied(ProposalApplied {
            proposal_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0008),
            automatic: true,
            applied_on: NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
        })
        .to_payload(),
        CampaignEvent::ProposalDeclined(ProposalDeclined {
            proposal_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0009),
            reason: "Q1 budget is fixed".into(),
        })
        .to_payload(),
        CampaignEvent::StructureTuned(StructureTuned {
            structure: CampaignStructure {
                google: Some(common::google()),
                linkedin: Some(common::linkedin()),
            },
            warnings: vec![],
        })
        .to_payload(),
        CampaignEvent::PerformanceReported(PerformanceReported {
            report_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_000a),
            granularity: Default::default(),
            platform: Platform::Google,
            window_start: "2027-01-15T00:00:00Z".parse().unwrap(),
            window_end: "2027-01-16T00:00:00Z".parse().unwrap(),
            rows: vec![PerformanceRow {
                hour: "2027-01-15T09:00:00Z".parse().unwrap(),
                ad_group: Some("customers/1234567890/adGroups/55".into()),
                ad: Some("customers/1234567890/adGroupAds/55~77".into()),
                keyword: Some("b2b campaign software".into()),
                segment_id: None,
                impressions: 1_200,
                clicks: 36,
                conversions: 2,
                cost_micros: 54_000_000,
                revenue_micros: 400_000_000,
            }],
        })
        .to_payload(),
        adflow_domain::performance::PerformanceEvent::Recorded(
            adflow_domain::performance::PerformanceRecorded {
                campaign_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0002),
                report: PerformanceReported {
                    report_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_000b),
                    granularity: Default::default(),
                    platform: Platform::Linkedin,
                    window_start: "2027-01-16T00:00:00Z".parse().unwrap(),
                    window_end: "2027-01-17T00:00:00Z".parse().unwrap(),
                    rows: vec![PerformanceRow {
                        hour: "2027-01-16T10:00:00Z".parse().unwrap(),
                        ad_group: Some("urn:li:sponsoredCampaign:9001".into()),
                        ad: Some("urn:li:sponsoredCreative:9002".into()),
                        keyword: None,
                        segment_id: Some(Uuid::from_u128(
                            0x0192_0000_0000_7000_8000_0000_0000_0005,
                        )),
                        impressions: 3_400,
                        clicks: 17,
                        conversions: 1,
                        cost_micros: 61_000_000,
                        revenue_micros: 0,
                    }],
                },
            },
        )
        .to_payload(),
        CampaignEvent::PlatformChangesPushed(PlatformChangesPushed {
            cause: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_000c),
            changes: vec![
                PushedChange {
                    platform: Platform::Google,
                    change: PlatformChange::Pause,
                    applied: true,
                    error: None,
                },
                PushedChange {
                    platform: Platform::Linkedin,
                    change: PlatformChange::DailyBudget {
                        daily_budget_micros: 80_000_000,
                        campaign: Some(0),
                    },
                    applied: false,
                    error: Some("rate limited: try later".into()),
                },
            ],
        })
        .to_payload(),
        adflow_domain::performance::PerformanceEvent::Restated(
            adflow_domain::performance::PerformanceRestated {
                campaign_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0002),
                report: PerformanceReported {
                    report_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_000b),
                    granularity: Granularity::Day,
                    platform: Platform::Linkedin,
                    window_start: "2027-01-16T00:00:00Z".parse().unwrap(),
                    window_end: "2027-01-17T00:00:00Z".parse().unwrap(),
                    rows: vec![PerformanceRow {
                        hour: "2027-01-16T00:00:00Z".parse().unwrap(),
                        ad_group: Some("CFOs DACH".into()),
                        ad: None,
                        keyword: None,
                        segment_id: None,
                        impressions: 3_400,
                        clicks: 17,
                        conversions: 3,
                        cost_micros: 61_000_000,
                        revenue_micros: 540_000_000,
                    }],
                },
                changes: vec![PerformanceRow {
                    hour: "2027-01-16T00:00:00Z".parse().unwrap(),
                    ad_group: Some("CFOs DACH".into()),
                    ad: None,
                    keyword: None,
                    segment_id: None,
                    impressions: 0,
                    clicks: 0,
                    conversions: 2,
                    cost_micros: 0,
                    revenue_micros: 360_000_000,
                }],
            },
        )
        .to_payload(),
        adflow_domain::monitoring::MonitorEvent::AnomalyDetected(
            adflow_domain::monitoring::AnomalyDetected {
                campaign_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0002),
                finding: adflow_domain::monitoring::Finding {
                    metric: adflow_domain::monitoring::AnomalyMetric::Spend,
                    hour: "2027-01-16T10:00:00Z".parse().unwrap(),
                    window_hours: 6,
                    observed: Some(412.5),
                    expected: 140.0,
                    low: 70.0,
                    high: Some(210.0),
                },
                detector: "seasonal-robust@1".into(),
            },
        )
        .to_payload(),
        CampaignEvent::CreativePaused(CreativePaused {
            platform: Platform::Linkedin,
            path: "/linkedin/campaigns/0/creatives/1".into(),
        })
        .to_payload(),
        adflow_domain::monitoring::MonitorEvent::OptimisationRunRequested(
            adflow_domain::optimisation::runs::OptimisationRunRequested {
                campaign_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0002),
                run_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0031),
                trigger: adflow_domain::optimisation::runs::RunTrigger::OnDemand,
                requested_at: "2027-01-16T11:00:00Z".parse().unwrap(),
            },
        )
        .to_payload(),
        adflow_domain::monitoring::MonitorEvent::OptimisationRunCompleted(
            adflow_domain::optimisation::runs::OptimisationRunCompleted {
                campaign_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0002),
                run_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0031),
                proposals: vec![adflow_domain::optimisation::runs::RunProposal {
                    proposal_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0032),
                    action: ProposedAction::Pause,
                    reason: "performance score 0.12 below 0.30".into(),
                    confidence_basis_points: 8_800,
                    impact: adflow_domain::optimisation::ExpectedImpact {
                        conversions_per_day: -1.5,
                        conversions_per_day_low: -2.1,
                        conversions_per_day_high: -1.0,
                        cost_per_day_micros: -150_000_000,
                    },
                    outcome: adflow_domain::optimisation::runs::ProposalOutcome::Applied,
                    refusal: None,
                    before: adflow_domain::optimisation::runs::SettingsSnapshot {
                        status: adflow_domain::campaign::CampaignStatus::Active,
                        total_budget_micros: 9_000_000_000,
                        daily_budgets_micros: [("GOOGLE".to_owned(), 150_000_000)].into(),
                        max_cpc_micros: Some(2_500_000),
                        negative_keywords: 3,
                    },
                    after: Some(adflow_domain::optimisation::runs::SettingsSnapshot {
                        status: adflow_domain::campaign::CampaignStatus::Paused,
                        total_budget_micros: 9_000_000_000,
                        daily_budgets_micros: [("GOOGLE".to_owned(), 150_000_000)].into(),
                        max_cpc_micros: Some(2_500_000),
                        negative_keywords: 3,
                    }),
                }],
                predictions: vec![adflow_domain::optimisation::runs::Prediction {
                    level: adflow_domain::optimisation::runs::PredictionLevel::Keyword,
                    platform: Platform::Google,
                    entity: "Cloud costs/kubernetes cost monitoring".into(),
                    click_through_rate: adflow_domain::optimisation::runs::RateInterval {
                        expected: 0.052,
                        low: 0.047,
                        high: 0.058,
                    },
                    conversion_rate: adflow_domain::optimisation::runs::RateInterval {
                        expected: 0.031,
                        low: 0.022,
                        high: 0.043,
                    },
                    cost_per_conversion_micros: Some(
                        adflow_domain::optimisation::runs::RateInterval {
                            expected: 80_000_000.0,
                            low: 58_000_000.0,
                            high: 113_000_000.0,
                        },
                    ),
                }],
                model_versions: vec!["ctr-fm@1".into(), "decision-rules@1".into()],
                allocation: vec![adflow_domain::optimisation::allocation::AllocationLine {
                    budget: adflow_domain::campaign::BudgetTarget {
                        platform: Platform::Google,
                        linkedin_campaign: 0,
                    },
                    current_micros: 150_000_000,
                    proposed_micros: 127_500_000,
                    demand_micros: 180_000_000,
                    conversions_per_million: 0.012,
                    conversions_per_million_low: 0.009,
                    conversions_per_million_high: 0.016,
                    expected_conversions_current: 0.82,
                    expected_conversions_proposed: 0.75,
                }],
            },
        )
        .to_payload(),
        adflow_domain::monitoring::MonitorEvent::SearchTermsReviewed(
            adflow_domain::monitoring::SearchTermsReviewed {
                campaign_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0002),
                platform: Platform::Google,
                from: "2027-01-03".parse().unwrap(),
                to: "2027-01-16".parse().unwrap(),
                rule: "search-terms@1".into(),
                searches_total: 2,
                searches: vec![
                    adflow_domain::optimisation::search_terms::SearchTermFigures {
                        search_term: "kubernetes cost monitoring salary".into(),
                        keyword: "kubernetes cost monitoring".into(),
                        clicks: 41,
                        conversions: 0,
                        cost_micros: 98_400_000,
                    },
                    adflow_domain::optimisation::search_terms::SearchTermFigures {
                        search_term: "kubernetes cost monitoring pricing".into(),
                        keyword: "kubernetes cost monitoring".into(),
                        clicks: 30,
                        conversions: 3,
                        cost_micros: 72_000_000,
                    },
                ],
                proposed_negatives: vec!["salary".into()],
            },
        )
        .to_payload(),
        adflow_domain::tenant::TenantEvent::DecisionRulesSet(
            adflow_domain::tenant::DecisionRulesSet {
                rules: adflow_domain::optimisation::DecisionRules::default(),
            },
        )
        .to_payload(),
        adflow_domain::tenant::TenantEvent::PlatformConnected(
            adflow_domain::tenant::PlatformConnected {
                platform: Platform::Google,
                account: adflow_domain::tenant::PlatformAccount {
                    account_id: "1234567890".into(),
                    login_customer_id: Some("9876543210".into()),
                },
            },
        )
        .to_payload(),
        adflow_domain::tenant::TenantEvent::PlatformDisconnected(
            adflow_domain::tenant::PlatformDisconnected {
                platform: Platform::Linkedin,
            },
        )
        .to_payload(),
        adflow_domain::tenant::TenantEvent::GuardrailsSet(adflow_domain::tenant::GuardrailsSet {
            guardrails: Guardrails {
                auto_apply: true,
                min_confidence_basis_points: 8_000,
                max_daily_budget_change_basis_points: 2_000,
                max_daily_spend_micros: Some(500_000_000),
            },
        })
        .to_payload(),
        AudienceEvent::Defined(AudienceDefined {
            audience_id: AudienceId(Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0003)),
            tenant_id: tenant,
            name: "CFOs in DACH".into(),
            criteria: TargetingCriteria {
                include: BTreeMap::from([
                    (
                        Facet::Locations,
                        vec!["DE".into(), "AT".into(), "CH".into()],
                    ),
                    (Facet::Titles, vec!["CFO".into()]),
                ]),
                exclude: BTreeMap::from([(Facet::Industries, vec!["Banking".into()])]),
            },
        })
        .to_payload(),
        AudienceEvent::SegmentAdded(SegmentAdded {
            segment_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0005),
            name: "Mid-market finance".into(),
            criteria: TargetingCriteria {
                include: BTreeMap::from([
                    (Facet::Locations, vec!["DE".into()]),
                    (Facet::CompanySizes, vec!["201-500".into()]),
                ]),
                exclude: BTreeMap::new(),
            },
            estimated_size: Some(12_000),
        })
        .to_payload(),
        AudienceEvent::SegmentSizeEstimated(SegmentSizeEstimated {
            segment_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0005),
            estimated_size: 9_500,
        })
        .to_payload(),
        AudienceEvent::PersonaAdded(PersonaAdded {
            segment_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0005),
            persona: Persona {
                name: "Finance leader".into(),
                titles: vec!["CFO".into()],
                seniority: Some("CXO".into()),
                industry: Some("Software".into()),
                pains: vec!["Month-end close takes two weeks".into()],
                messaging_angles: vec!["Close in three days".into()],
            },
        })
        .to_payload(),
        AudienceEvent::AccountListImported(AccountListImported {
            list_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0006),
            name: "Target accounts".into(),
            lawful_basis: LawfulBasis::LegitimateInterest,
            // As stored: sealed under the subject's key by the event store's sealing adapter.
            identifiers: vec![PersonalValue {
                data_subject: subject_of_identifier(
                    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                ),
                plain: None,
                sealed: Some(SealedValue {
                    key_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00a1),
                    ciphertext: "6e6f6e63656e6f6e63656e6f63697068657274657874746167".into(),
                }),
                erased: false,
            }],
        })
        .to_payload(),
        TenantEvent::ApiKeyCreated(ApiKeyCreated {
            key_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00b1),
            name: "HubSpot sync".into(),
            role: "analyst".into(),
        })
        .to_payload(),
        TenantEvent::ApiKeyRevoked(ApiKeyRevoked {
            key_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00b1),
        })
        .to_payload(),
        RetentionEvent::Applied(RetentionApplied {
            category: RetentionCategory::CrmIdentifiers,
            cutoff: NaiveDate::from_ymd_opt(2025, 12, 1).unwrap(),
            removed: 12,
        })
        .to_payload(),
        InboxEvent::PreferencesSet(NotificationPreferencesSet {
            subject: "user-0192".into(),
            // As stored: sealed under the user's own key.
            email: Some(PersonalValue {
                data_subject: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00c1),
                plain: None,
                sealed: Some(SealedValue {
                    key_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00c2),
                    ciphertext: "6e6f6e63656e6f6e63656e6f63697068657274657874746167".into(),
                }),
                erased: false,
            }),
            slack_webhook_url: None,
            channels: [(
                NoticeKind::ApprovalWaiting,
                Channels {
                    in_app: true,
                    email: true,
                    slack: false,
                },
            )]
            .into_iter()
            .collect(),
        })
        .to_payload(),
        InboundEvent::LeadCaptured(LeadCaptured {
            campaign_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001),
            source: LeadSource::LinkedinLeadGen,
            lead_id: "urn:li:leadGenFormResponse:4711".into(),
            form_id: "urn:li:leadGenForm:42".into(),
            submitted_at: chrono::DateTime::parse_from_rfc3339("2026-12-01T09:30:00Z")
                .unwrap()
                .into(),
            // As stored: sealed under the lead's key.
            email: Some(PersonalValue {
                data_subject: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00d1),
                plain: None,
                sealed: Some(SealedValue {
                    key_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00d2),
                    ciphertext: "6e6f6e63656e6f6e63656e6f63697068657274657874746167".into(),
                }),
                erased: false,
            }),
            name: None,
        })
        .to_payload(),
        InboundEvent::OfflineConversionRecorded(OfflineConversionRecorded {
            campaign_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0001),
            conversion_id: "deal-981".into(),
            occurred_at: chrono::DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z")
                .unwrap()
                .into(),
            value_micros: 12_500_000_000,
            currency: "EUR".into(),
        })
        .to_payload(),
        InboxEvent::Read(NotificationsRead {
            notification_ids: vec![Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00c3)],
        })
        .to_payload(),
        DataSubjectEvent::Erased(DataSubjectErased {
            data_subject: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00a2),
            tenant_id: TenantId(Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_00a3)),
            keys_destroyed: 1,
        })
        .to_payload(),
        AudienceEvent::SegmentationRequested(SegmentationRequested {
            request_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0007),
            max_segments: 4,
            accounts: vec![CrmAccount {
                industry: "Software".into(),
                country: "DE".into(),
                employees: 420,
                seniority_basis_points: vec![2_000, 4_000, 3_000, 1_000],
                function_basis_points: vec![7_000, 500, 1_000, 1_000, 500],
                engagement_basis_points: 7_000,
            }],
        })
        .to_payload(),
        AudienceEvent::SegmentationCompleted(SegmentationCompleted {
            request_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0007),
            model_version: "crm-segmenter@1".into(),
            segment_ids: vec![Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0008)],
        })
        .to_payload(),
        AudienceEvent::SegmentationFailed(SegmentationFailed {
            request_id: Uuid::from_u128(0x0192_0000_0000_7000_8000_0000_0000_0007),
            reason: "the accounts reach about 120 members; the platform needs 300".into(),
        })
        .to_payload(),
    ]
}

fn pretty(value: &serde_json::Value) -> String {
    format!("{}\n", serde_json::to_string_pretty(value).unwrap())
}

#[test]
fn every_checked_in_schema_matches_the_code() {
    let mut expected = BTreeSet::new();
    for contract in event_contracts() {
        let path = dir().join(format!("{}.schema.json", contract.file_stem()));
        let generated = contract.schema();
        if updating() {
            std::fs::write(&path, pretty(&generated)).unwrap();
        }
        // Compared as JSON values, so key order (a serde_json feature) cannot cause drift.
        let checked_in: serde_json::Value = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        assert!(
            checked_in == generated,
            "{} drifted from the code: a changed event needs a new version (see domain/src/contracts.rs); \
             regenerate with ADFLOW_UPDATE_CONTRACTS=1",
            path.display()
        );
        expected.insert(path.file_name().unwrap().to_string_lossy().into_owned());
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".schema.json"))
        .collect();
    assert_eq!(
        on_disk, expected,
        "every schema file belongs to a contract and the reverse"
    );
}

#[test]
fn every_event_the_domain_writes_has_a_contract() {
    let contracts: BTreeSet<(String, u32)> = event_contracts()
        .iter()
        .map(|c| (c.event_type.to_owned(), c.schema_version))
        .collect();
    for sample in samples() {
        assert!(
            contracts.contains(&(sample.event_type.to_owned(), sample.schema_version)),
            "{} v{} has no contract",
            sample.event_type,
            sample.schema_version
        );
    }
}

#[test]
fn every_fixture_of_every_version_still_decodes() {
    let fixtures = dir().join("fixtures");
    if updating() {
        for sample in samples() {
            let path = fixtures.join(format!(
                "{}.v{}.json",
                sample.event_type, sample.schema_version
            ));
            if !path.exists() {
                std::fs::write(&path, pretty(&sample.data)).unwrap();
            }
        }
    }
    for contract in event_contracts() {
        let path = fixtures.join(format!("{}.json", contract.file_stem()));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "{} has no fixture at {}",
                contract.file_stem(),
                path.display()
            )
        });
        let data: serde_json::Value = serde_json::from_str(&text).unwrap();
        let event = decode_any(contract.event_type, contract.schema_version, &data);
        assert!(event.is_ok(), "{}: {:?}", path.display(), event.err());
        let schema = contract.schema();
        for required in schema["required"].as_array().into_iter().flatten() {
            let field = required.as_str().unwrap();
            assert!(
                data.get(field).is_some(),
                "{} lacks required field {field}",
                path.display()
            );
        }
    }
    assert!(decode_any("NoSuchEvent", 1, &serde_json::json!({})).is_err());
}
