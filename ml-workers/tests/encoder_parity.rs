//! The tch MiniLM encoder against vectors computed once by the package's own Python code
//! (`ml-workers/scripts/reference_embeddings.py`): same tokens, same forward pass, same pooling.

use adflow_ml_workers::encoder::{MiniLm, TextEncoder};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    text: String,
    embedding: Vec<f32>,
}

fn encoder() -> MiniLm {
    let dir =
        MiniLm::default_dir().expect("the MiniLM files: run ops/setup.sh (ADFLOW_MINILM_DIR)");
    MiniLm::load(&dir, tch::Device::Cpu).expect("the model loads")
}

fn reference() -> Reference {
    serde_json::from_str(include_str!("fixtures/minilm_reference.json")).expect("fixture parses")
}

#[test]
fn embeddings_match_the_reference_within_tolerance() {
    let encoder = encoder();
    let reference = reference();
    let texts: Vec<&str> = reference.cases.iter().map(|c| c.text.as_str()).collect();
    // One padded batch: padding must not change any sentence's vector.
    let batch = encoder.embed(&texts).expect("embeds");
    assert_eq!(batch.size(), [texts.len() as i64, 384]);
    let mut worst = 0.0f32;
    for (i, case) in reference.cases.iter().enumerate() {
        let ours: Vec<f32> = Vec::<f32>::try_from(batch.get(i as i64)).expect("floats");
        let max_abs = ours
            .iter()
            .zip(&case.embedding)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        let dot: f32 = ours.iter().zip(&case.embedding).map(|(a, b)| a * b).sum();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let cosine = dot / (norm(&ours) * norm(&case.embedding));
        assert!(
            max_abs < 1e-5 && cosine > 0.99999,
            "{:?}: max |Δ| {max_abs}, cosine {cosine}",
            case.text
        );
        worst = worst.max(max_abs);
    }
    eprintln!("largest difference to the reference: {worst:e}");
}

#[test]
fn a_sentence_alone_and_in_a_padded_batch_embed_the_same() {
    let encoder = encoder();
    let alone = encoder.embed(&["cloud cost management"]).expect("embeds");
    let batched = encoder
        .embed(&[
            "cloud cost management",
            "a much longer sentence that forces padding of the first one",
        ])
        .expect("embeds");
    let difference = (alone.get(0) - batched.get(0))
        .abs()
        .max()
        .double_value(&[]);
    assert!(
        difference < 1e-5,
        "padding changed the vector by {difference}"
    );
}

#[test]
fn related_texts_are_closer_than_unrelated_ones() {
    let encoder = encoder();
    let v = encoder
        .embed_unit(&[
            "cloud cost optimisation",
            "reduce AWS spend",
            "organic dog food",
        ])
        .expect("embeds");
    let sim = |a: i64, b: i64| {
        (v.get(a) * v.get(b))
            .sum(tch::Kind::Float)
            .double_value(&[])
    };
    assert!(
        sim(0, 1) > sim(0, 2) + 0.2,
        "{} vs {}",
        sim(0, 1),
        sim(0, 2)
    );
}
