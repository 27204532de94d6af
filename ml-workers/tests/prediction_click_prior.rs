//! A conversion machine reads the click machine: how an audience meets a theme, learned from
//! plentiful clicks, reaches the conversion rate of an audience that has shown too few
//! conversions to learn it from, and the click model travels inside the conversion model's
//! artifact.

use adflow_ml_workers::prediction::features::Observation;
use adflow_ml_workers::prediction::model::{Architecture, Inputs, RateModel, TrainOptions};
use std::collections::HashMap;
use tch::Device;

const SEGMENTS: [&str; 4] = [
    "it directors",
    "finance leaders",
    "data engineers",
    "sales vps",
];
const THEMES: [&str; 6] = ["t0", "t1", "t2", "t3", "t4", "t5"];

/// Whether segment `s` answers theme `t`: a checkerboard, an interaction with no main effect.
fn fits(s: usize, t: usize) -> bool {
    (s + t).is_multiple_of(2)
}

fn row(s: usize, t: usize, day: i64, hour: Option<u8>, trials: f64, rate: f64) -> Observation {
    let (segment, theme) = (SEGMENTS[s], THEMES[t]);
    Observation {
        unit: format!("{segment}/{theme}/kw"),
        ad_group: format!("{segment}/{theme}"),
        campaign: format!("{segment}/{theme}"),
        theme: theme.to_owned(),
        copy: format!("{theme} copy"),
        keyword: String::new(),
        segment: segment.to_owned(),
        kind: "google/phrase".into(),
        day,
        hour_of_day: hour,
        max_cpc_micros: None,
        negatives: 0,
        trials,
        successes: trials * rate,
    }
}

#[test]
fn the_click_models_interactions_carry_an_audience_to_conversions_it_has_not_shown() {
    // Clicks from every segment and theme: a fitting pair clicks at 4 %, the others at 1.5 %.
    let mut clicks = Vec::new();
    for s in 0..SEGMENTS.len() {
        for t in 0..THEMES.len() {
            let ctr = if fits(s, t) { 0.04 } else { 0.015 };
            for day in 0..10 {
                for hour in [9, 13, 17] {
                    clicks.push(row(s, t, day, Some(hour), 3_000.0, ctr));
                }
            }
        }
    }
    // Conversions only from the first two segments so far: a fitting pair converts at 8 %, the
    // others at 2 %.
    let mut conversions = Vec::new();
    for s in 0..2 {
        for t in 0..THEMES.len() {
            let cvr = if fits(s, t) { 0.08 } else { 0.02 };
            for day in 0..10 {
                conversions.push(row(s, t, day, None, 200.0, cvr));
            }
        }
    }
    let options = TrainOptions::default();
    let click = RateModel::train(
        Architecture::FactorisationMachine,
        &clicks,
        &[],
        &options,
        Inputs::default(),
        Device::Cpu,
    )
    .unwrap();
    let train = |inputs: Inputs| {
        RateModel::train(
            Architecture::FactorisationMachine,
            &conversions,
            &[],
            &options,
            inputs,
            Device::Cpu,
        )
        .unwrap()
    };
    let with_clicks = train(Inputs {
        text: None,
        click: Some(&click),
    });
    let alone = train(Inputs::default());
    assert!(with_clicks.click_weight().unwrap() > 0.0);
    assert_eq!(alone.click_weight(), None);

    // A segment with clicks but no conversions yet, on a theme it answers and on one it does not.
    let unseen = [row(2, 0, 10, None, 0.0, 0.0), row(2, 1, 10, None, 0.0, 0.0)];
    let p = with_clicks.predict(&unseen).unwrap();
    assert!(
        p[0] > 1.5 * p[1],
        "with the click model: fitting {:.4}, not fitting {:.4}",
        p[0],
        p[1]
    );
    // Alone, the conversion machine has never met the segment: it cannot tell the two apart.
    let q = alone.predict(&unseen).unwrap();
    assert!(
        q[0] < 1.5 * q[1],
        "alone: fitting {:.4}, not fitting {:.4}",
        q[0],
        q[1]
    );

    // Logistic regression, the baseline, reads no click model even when offered one.
    let logistic = RateModel::train(
        Architecture::Logistic,
        &conversions,
        &[],
        &options,
        Inputs {
            text: None,
            click: Some(&click),
        },
        Device::Cpu,
    )
    .unwrap();
    assert_eq!(logistic.click_weight(), None);

    // The click model travels in the conversion model's artifact: the same predictions after a
    // round trip, and an artifact that lost its click model's weights does not load.
    let tensors: HashMap<String, Vec<f32>> = with_clicks.tensors().unwrap().into_iter().collect();
    assert!(tensors.contains_key("click.factors"));
    let loaded = RateModel::from_tensors(
        Architecture::FactorisationMachine,
        &|name| Ok(tensors[name].clone()),
        &|name| tensors.contains_key(name),
        None,
        Device::Cpu,
    )
    .unwrap();
    let again = loaded.predict(&unseen).unwrap();
    for (a, b) in p.iter().zip(&again) {
        assert!((a - b).abs() < 1e-6, "{a} != {b}");
    }
    let mut damaged = tensors.clone();
    damaged.remove("click.linear");
    assert!(RateModel::from_tensors(
        Architecture::FactorisationMachine,
        &|name| damaged
            .get(name)
            .cloned()
            .ok_or_else(|| adflow_ml_workers::MlError::Model(format!("no {name}"))),
        &|name| damaged.contains_key(name),
        None,
        Device::Cpu,
    )
    .is_err());
}
