use super::*;
use chrono::{Duration, TimeZone};

fn monday() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 0, 0, 0).unwrap()
}

fn market(seed: u64, budget: i64) -> Market {
    let mut market = Market::new(seed);
    market.add_campaign("c", monday(), budget, true);
    for (i, match_type) in [0u8, 1, 2].into_iter().enumerate() {
        market.add_unit(
            &format!("k{i}"),
            "c",
            UnitKind::Keyword { match_type },
            "Fast payroll for teams",
            1.0,
            monday(),
        );
    }
    market
}

fn totals(rows: &[UnitHour]) -> Figures {
    let mut sum = Figures::default();
    for row in rows {
        sum.add(&row.figures);
    }
    sum
}

fn hour(at: DateTime<Utc>) -> i64 {
    at.timestamp() / 3600
}

#[test]
fn the_same_seed_gives_the_same_market_and_another_seed_another() {
    let as_of = monday() + Duration::days(8);
    let week = (hour(monday()), hour(monday()) + 168);
    let a = market(1, 500_000_000).campaign_hours("c", week.0, week.1, as_of);
    let b = market(1, 500_000_000).campaign_hours("c", week.0, week.1, as_of);
    let c = market(2, 500_000_000).campaign_hours("c", week.0, week.1, as_of);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(totals(&a).clicks > 0);
}

#[test]
fn spend_saturates_with_budget() {
    let as_of = monday() + Duration::days(8);
    let week = (hour(monday()), hour(monday()) + 168);
    let cost = |budget| {
        totals(&market(3, budget).campaign_hours("c", week.0, week.1, as_of)).cost_micros as f64
    };
    let (low, mid, high, huge) = (
        cost(5_000_000),
        cost(50_000_000),
        cost(500_000_000),
        cost(5_000_000_000),
    );
    assert!(low < mid && mid < high, "{low} {mid} {high}");
    // Ten times the budget buys far less than ten times the spend once demand is met.
    assert!(huge < high * 1.5, "{high} {huge}");
    assert!(low <= 5_000_000.0 * 7.0 * 1.3, "{low}");
}

#[test]
fn office_hours_outsell_nights_and_weekends() {
    let as_of = monday() + Duration::days(15);
    let rows =
        market(4, 500_000_000).campaign_hours("c", hour(monday()), hour(monday()) + 336, as_of);
    let mut office = 0;
    let mut night = 0;
    for row in &rows {
        let h = row.hour.rem_euclid(24);
        let weekday = (row.hour.div_euclid(24) + 3).rem_euclid(7) < 5;
        if weekday && (8..=17).contains(&h) {
            office += row.figures.impressions;
        } else if h < 6 {
            night += row.figures.impressions;
        }
    }
    assert!(office > night * 5, "{office} {night}");
}

#[test]
fn a_day_reported_again_later_holds_more_conversions() {
    let day = (hour(monday()) + 24, hour(monday()) + 48);
    let market = market(5, 500_000_000);
    let early = totals(&market.campaign_hours("c", day.0, day.1, monday() + Duration::hours(49)));
    let late = totals(&market.campaign_hours("c", day.0, day.1, monday() + Duration::days(6)));
    assert_eq!(early.clicks, late.clicks);
    assert!(late.conversions > early.conversions, "{early:?} {late:?}");
}

#[test]
fn a_paused_campaign_and_hours_not_yet_over_deliver_nothing() {
    let mut market = market(6, 500_000_000);
    let pause = monday() + Duration::days(2);
    market.campaign_mut("c").unwrap().active.set(pause, false);
    let rows = market.campaign_hours(
        "c",
        hour(monday()),
        hour(monday()) + 168,
        monday() + Duration::days(9),
    );
    assert!(rows
        .iter()
        .all(|r| r.hour < hour(pause) || r.figures.impressions == 0));
    let unfinished = market.campaign_hours(
        "c",
        hour(monday()),
        hour(monday()) + 168,
        monday() + Duration::minutes(90),
    );
    assert!(unfinished.iter().all(|r| r.hour < hour(monday()) + 1));
}

#[test]
fn a_tracking_outage_hides_conversions_but_not_clicks() {
    let mut market = market(7, 500_000_000);
    let day = (hour(monday()) + 24, hour(monday()) + 48);
    market.inject(Anomaly {
        campaign: "c".into(),
        kind: AnomalyKind::TrackingOutage,
        from: monday() + Duration::hours(24),
        to: monday() + Duration::hours(48),
    });
    let figures = totals(&market.campaign_hours("c", day.0, day.1, monday() + Duration::days(7)));
    assert!(figures.clicks > 0);
    assert_eq!(figures.conversions, 0);
    assert!(market
        .ground_truth()
        .anomalies
        .iter()
        .any(|a| a.kind == AnomalyKind::TrackingOutage));
}

#[test]
fn each_audience_has_its_own_planted_rhythm_and_reports_show_it() {
    let a = engagement_profile(7, "it-directors");
    let b = engagement_profile(7, "developers");
    assert_eq!(a, engagement_profile(7, "it-directors"));
    assert_ne!(a, b);
    // Normalised over impressions: the unit's base rates keep their meaning.
    let weights: Vec<f64> = (0..168).map(|h| hour_of_week_factor(96 + h)).collect();
    let mean =
        a.iter().zip(&weights).map(|(e, w)| e * w).sum::<f64>() / weights.iter().sum::<f64>();
    assert!((mean - 1.0).abs() < 1e-9, "{mean}");
    // Click-through in the audience's best weekday hour beats its worst, as reported.
    let mut m = market(5, 5_000_000_000);
    m.set_audience("c", "it-directors");
    let as_of = monday() + Duration::days(29);
    let rows = m.campaign_hours("c", hour(monday()), hour(monday()) + 28 * 24, as_of);
    let office = |slot: usize| slot < 120 && (8..18).contains(&(slot % 24));
    let best = (0..168)
        .filter(|s| office(*s))
        .max_by(|x, y| a[*x].total_cmp(&a[*y]))
        .unwrap();
    let worst = (0..168)
        .filter(|s| office(*s))
        .min_by(|x, y| a[*x].total_cmp(&a[*y]))
        .unwrap();
    let ctr_at = |slot: usize| {
        let (mut impressions, mut clicks) = (0u64, 0u64);
        for row in rows
            .iter()
            .filter(|r| hour_of_week(r.hour) % 24 == slot % 24 && hour_of_week(r.hour) < 120)
        {
            impressions += row.figures.impressions;
            clicks += row.figures.clicks;
        }
        clicks as f64 / impressions.max(1) as f64
    };
    assert!(a[best] / a[worst] > 1.1, "{} {}", a[best], a[worst]);
    assert!(
        ctr_at(best) > ctr_at(worst),
        "{} {}",
        ctr_at(best),
        ctr_at(worst)
    );
}

#[test]
fn an_ad_schedule_moves_spend_to_its_boosted_hours_and_stops_outside_them() {
    let as_of = monday() + Duration::days(8);
    let week = (hour(monday()), hour(monday()) + 168);
    let morning_spend = |rows: &[UnitHour]| -> u64 {
        rows.iter()
            .filter(|r| (8..12).contains(&r.hour.rem_euclid(24)))
            .map(|r| r.figures.cost_micros)
            .sum()
    };
    let plain = market(6, 100_000_000);
    let mut boosted = market(6, 100_000_000);
    let modifiers: Vec<f64> = (0..168)
        .map(|slot| match slot % 24 {
            8..=11 => 1.5,
            0..=5 => 0.0,
            _ => 1.0,
        })
        .collect();
    boosted
        .campaign_mut("c")
        .unwrap()
        .bid_modifiers
        .set(monday(), modifiers);
    let a = plain.campaign_hours("c", week.0, week.1, as_of);
    let b = boosted.campaign_hours("c", week.0, week.1, as_of);
    assert!(
        morning_spend(&b) > morning_spend(&a),
        "{} {}",
        morning_spend(&b),
        morning_spend(&a)
    );
    let night: u64 = b
        .iter()
        .filter(|r| r.hour.rem_euclid(24) < 6)
        .map(|r| r.figures.impressions)
        .sum();
    assert_eq!(night, 0, "no serving outside the schedule");
    // The week's budget is the same: spend stays within it either way.
    assert!(totals(&b).cost_micros as f64 <= 7.0 * 100_000_000.0 * 1.3);
}
