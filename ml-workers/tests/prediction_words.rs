//! The predictor reads a keyword's words: a wording it has never seen takes the rate of the
//! wordings it resembles, and the words survive the artifact round trip.

use adflow_ml_workers::encoder::MiniLm;
use adflow_ml_workers::prediction::features::Observation;
use adflow_ml_workers::prediction::model::{Architecture, Inputs, RateModel, TrainOptions};
use adflow_ml_workers::prediction::text::TextVectors;
use std::collections::HashMap;
use std::sync::Arc;
use tch::Device;

fn vectors() -> Arc<TextVectors> {
    let encoder = MiniLm::load_default(Device::Cpu).expect("MiniLM: run ops/setup.sh");
    Arc::new(TextVectors::new(Arc::new(encoder)))
}

fn row(theme: &str, keyword: &str, day: i64, trials: f64, successes: f64) -> Observation {
    Observation {
        unit: format!("{theme}/{keyword}"),
        ad_group: theme.to_owned(),
        campaign: "c".into(),
        theme: theme.to_owned(),
        copy: String::new(),
        keyword: keyword.to_owned(),
        segment: "s".into(),
        kind: "google/phrase".into(),
        day,
        hour_of_day: None,
        max_cpc_micros: None,
        negatives: 0,
        trials,
        successes,
    }
}

#[test]
fn an_unseen_wording_takes_the_rate_of_the_wordings_it_resembles() {
    let themes = [
        "cloud cost management",
        "sales pipeline forecasting",
        "data pipeline monitoring",
        "contract lifecycle management",
    ];
    // Buyers' wordings convert at 10 %, learners' at 2 %: the same in every theme.
    let wordings = [
        ("{} pricing", 0.10),
        ("{} software vendors", 0.10),
        ("{} cost comparison", 0.10),
        ("{} tutorial", 0.02),
        ("learn {}", 0.02),
        ("{} examples", 0.02),
    ];
    let mut train = Vec::new();
    for theme in themes {
        for (wording, rate) in wordings {
            for day in 0..8 {
                train.push(row(
                    theme,
                    &wording.replace("{}", theme),
                    day,
                    500.0,
                    500.0 * rate,
                ));
            }
        }
    }
    let text = vectors();
    let model = RateModel::train(
        Architecture::Logistic,
        &train,
        &[],
        &TrainOptions::default(),
        Inputs::text(Some(&text)),
        Device::Cpu,
    )
    .unwrap();
    // A theme and wordings the model never saw.
    let theme = "marketing attribution";
    let unseen = [
        row(theme, "marketing attribution price quote", 9, 0.0, 0.0),
        row(theme, "marketing attribution for beginners", 9, 0.0, 0.0),
    ];
    let p = model.predict(&unseen).unwrap();
    assert!(
        p[0] > 2.0 * p[1],
        "a price quote reads as buying ({:.4}), a beginners' search as learning ({:.4})",
        p[0],
        p[1]
    );

    // The artifact keeps the words: the same predictions after a round trip.
    let tensors: HashMap<String, Vec<f32>> = model.tensors().unwrap().into_iter().collect();
    let loaded = RateModel::from_tensors(
        Architecture::Logistic,
        &|name| Ok(tensors[name].clone()),
        &|name| tensors.contains_key(name),
        Some(text.clone()),
        Device::Cpu,
    )
    .unwrap();
    let again = loaded.predict(&unseen).unwrap();
    for (a, b) in p.iter().zip(&again) {
        assert!((a - b).abs() < 1e-6, "{a} != {b}");
    }
    // Without the encoder, a model that reads words refuses to load rather than guess.
    assert!(RateModel::from_tensors(
        Architecture::Logistic,
        &|name| Ok(tensors[name].clone()),
        &|name| tensors.contains_key(name),
        None,
        Device::Cpu,
    )
    .is_err());
}
