use super::*;
use proptest::prelude::*;

fn platform(platform: Platform, cvr: f64, spread: f64, recent: Window) -> PlatformOutlook {
    PlatformOutlook {
        platform,
        budget: BudgetTarget {
            platform,
            linkedin_campaign: 0,
        },
        daily_budget_micros: 100_000_000,
        max_cpc_micros: (platform == Platform::Google).then_some(3_000_000),
        recent,
        previous: recent,
        conversion_rate: RateEstimate {
            probability: cvr,
            low: cvr / spread,
            high: (cvr * spread).min(0.99),
        },
    }
}

/// A week: 7 days, `clicks` clicks at 2.00 each, conversions at `cvr`.
fn week(clicks: f64, cvr: f64, spend_per_day: f64) -> Window {
    Window {
        days: 7.0,
        clicks,
        conversions: clicks * cvr,
        cost_micros: spend_per_day * 7.0,
    }
}

fn rules(target: Option<i64>) -> DecisionRules {
    DecisionRules {
        target_cost_per_conversion_micros: target,
        ..DecisionRules::default()
    }
}

fn outlook(status: CampaignStatus, platforms: Vec<PlatformOutlook>) -> CampaignOutlook {
    CampaignOutlook {
        status,
        platforms,
        open_anomalies: 0,
    }
}

#[test]
fn a_campaign_far_from_its_target_is_paused_with_the_conversions_it_gives_up() {
    // 350 clicks at 2.00, 2 % conversion: 100.00 per conversion against a 40.00 target.
    let google = platform(Platform::Google, 0.02, 1.3, week(350.0, 0.02, 100e6));
    let found = recommend(
        &outlook(CampaignStatus::Active, vec![google]),
        &rules(Some(40_000_000)),
    );
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].action, ProposedAction::Pause);
    assert!(found[0].confidence_basis_points > 9_000);
    let impact = found[0].impact;
    assert!(impact.conversions_per_day < 0.0);
    assert!(impact.conversions_per_day_low <= impact.conversions_per_day);
    assert!(impact.conversions_per_day <= impact.conversions_per_day_high);
    assert_eq!(impact.cost_per_day_micros, -100_000_000);
}

#[test]
fn a_budget_limited_campaign_beating_its_target_gets_a_bigger_budget() {
    // 6 % conversion at 2.00 a click: 33.33 per conversion against 60.00; spends its 100.00.
    let google = platform(Platform::Google, 0.06, 1.2, week(350.0, 0.06, 100e6));
    let found = recommend(
        &outlook(CampaignStatus::Active, vec![google.clone()]),
        &rules(Some(60_000_000)),
    );
    assert_eq!(
        found[0].action,
        ProposedAction::ChangeDailyBudget {
            target: google.budget,
            daily_budget_micros: 120_000_000
        }
    );
    assert!(found[0].impact.conversions_per_day > 0.0);
    // Not while an anomaly is open: the figures may be wrong.
    let mut anomalous = outlook(CampaignStatus::Active, vec![google]);
    anomalous.open_anomalies = 1;
    assert!(recommend(&anomalous, &rules(Some(60_000_000))).is_empty());
}

#[test]
fn too_few_clicks_or_a_campaign_not_running_gives_nothing_to_change() {
    let thin = platform(Platform::Google, 0.001, 2.0, week(20.0, 0.001, 100e6));
    assert!(recommend(
        &outlook(CampaignStatus::Active, vec![thin]),
        &rules(Some(1))
    )
    .is_empty());
    let bad = platform(Platform::Google, 0.001, 1.2, week(500.0, 0.001, 100e6));
    assert!(recommend(
        &outlook(CampaignStatus::Deployed, vec![bad]),
        &rules(Some(1))
    )
    .is_empty());
}

#[test]
fn a_declining_platform_gives_budget_to_the_better_one() {
    let mut linkedin = platform(Platform::Linkedin, 0.01, 1.2, week(300.0, 0.01, 100e6));
    linkedin.previous = week(300.0, 0.03, 100e6);
    let google = platform(Platform::Google, 0.05, 1.2, week(300.0, 0.05, 60e6));
    let found = recommend(
        &outlook(
            CampaignStatus::Active,
            vec![linkedin.clone(), google.clone()],
        ),
        &rules(None),
    );
    let shift = found
        .iter()
        .find(|r| matches!(r.action, ProposedAction::ShiftDailyBudget { .. }))
        .expect("a reallocation");
    assert_eq!(
        shift.action,
        ProposedAction::ShiftDailyBudget {
            from: linkedin.budget,
            to: google.budget,
            micros: 15_000_000
        }
    );
    assert!(shift.impact.conversions_per_day > 0.0);
    assert_eq!(shift.impact.cost_per_day_micros, 0);
}

#[test]
fn the_score_is_the_probability_of_beating_the_target() {
    let sure = RateEstimate {
        probability: 0.05,
        low: 0.049,
        high: 0.051,
    };
    assert!(probability_above(&sure, 0.04) > 0.999);
    assert!(probability_above(&sure, 0.06) < 0.001);
    let vague = RateEstimate {
        probability: 0.05,
        low: 0.01,
        high: 0.2,
    };
    let at_mean = probability_above(&vague, 0.05);
    assert!((at_mean - 0.5).abs() < 1e-6);
    assert!((normal_cdf(1.644_853_6) - 0.95).abs() < 1e-6);
}

proptest! {
    /// Whatever the figures, every recommendation is well formed: confidence a probability, the
    /// expected impact inside its interval, money finite, and a budget never set to zero or less.
    #[test]
    fn recommendations_are_always_well_formed(
        clicks in 0.0f64..5_000.0,
        cvr in 0.0001f64..0.5,
        spread in 1.01f64..5.0,
        spend in 1.0f64..1e9,
        target in proptest::option::of(1i64..1_000_000_000),
        paused in any::<bool>(),
        previous_cvr in 0.0f64..0.5,
    ) {
        let mut google = platform(Platform::Google, cvr, spread, week(clicks, cvr, spend));
        google.previous = week(clicks, previous_cvr, spend);
        let linkedin = platform(Platform::Linkedin, cvr / 2.0, spread, week(clicks, cvr / 2.0, spend));
        let status = if paused { CampaignStatus::Paused } else { CampaignStatus::Active };
        for r in recommend(&outlook(status, vec![google, linkedin]), &rules(target)) {
            prop_assert!(r.confidence_basis_points <= 10_000);
            prop_assert!(r.impact.conversions_per_day_low <= r.impact.conversions_per_day + 1e-9);
            prop_assert!(r.impact.conversions_per_day <= r.impact.conversions_per_day_high + 1e-9);
            prop_assert!(r.impact.conversions_per_day.is_finite());
            if let ProposedAction::ChangeDailyBudget { daily_budget_micros, .. } = r.action {
                prop_assert!(daily_budget_micros > 0);
            }
            if let ProposedAction::ChangeMaxCpc { max_cpc_micros } = r.action {
                prop_assert!(max_cpc_micros > 0);
            }
            prop_assert!(!r.reason.is_empty());
        }
    }
}
