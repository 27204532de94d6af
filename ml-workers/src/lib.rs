//! The ML workers: JetStream consumers that answer AI work requests with commands, and the LibTorch
//! (tch) models behind them. Models run on CUDA where a GPU exists (`tch::Device::cuda_if_available`)
//! and on the CPU elsewhere; the same build does both.

pub mod allocation_eval;
pub mod anomaly;
pub mod artifact;
pub mod backend;
pub mod brief;
pub mod closed_loop;
pub mod copy;
pub mod copy_eval;
pub mod copy_outcomes;
pub mod dayparting;
pub mod encoder;
pub mod evaluation;
pub mod experiments_eval;
pub mod handlers;
pub mod keywords;
pub mod kmeans;
pub mod optimiser;
pub mod prediction;
pub mod schedule;
pub mod search_terms_eval;
pub mod segments;
pub mod structure;
pub mod worker;

use std::path::Path;
use std::sync::Arc;

/// Everything that can go wrong in a worker or a model.
#[derive(Debug, thiserror::Error)]
pub enum MlError {
    /// The model cannot produce an answer for this input; retrying will not change that.
    #[error("model: {0}")]
    Model(String),
    #[error("torch: {0}")]
    Torch(#[from] tch::TchError),
    #[error("NATS: {0}")]
    Nats(String),
    #[error("artifact {path}: {reason}")]
    Artifact { path: String, reason: String },
    #[error("bad input: {0}")]
    BadRequest(String),
    /// The event store or database failed; a retry may succeed.
    #[error("backend: {0}")]
    Backend(String),
}

/// The structure generator's version; bumped when its logic changes what it produces.
pub const STRUCTURE_GENERATOR_VERSION: &str = "structure-generator@1";
/// The segmentation model's version (k-means over CRM account features).
pub const SEGMENTER_VERSION: &str = "crm-segmenter@1";

/// The loaded models, shared by every worker of the process.
pub struct Models {
    pub encoder: Arc<dyn encoder::TextEncoder>,
    pub scorer: Arc<copy::scorer::CopyScorer>,
    pub keywords: Arc<keywords::SemanticKeywords>,
    pub copy: Arc<copy::PatternCopy>,
    pub structure: Arc<structure::ModelStructureGenerator>,
    pub device: tch::Device,
}

impl Models {
    /// Loads MiniLM from `minilm_dir` onto the GPU if there is one, and the shipped copy scorer.
    pub fn load(minilm_dir: &Path) -> Result<Models, MlError> {
        let device = tch::Device::cuda_if_available();
        Self::with_encoder(encoder::MiniLm::load(minilm_dir, device)?, device)
    }

    /// From `ADFLOW_MINILM_DIR` or the project's torch venv.
    pub fn load_default() -> Result<Models, MlError> {
        let device = tch::Device::cuda_if_available();
        Self::with_encoder(encoder::MiniLm::load_default(device)?, device)
    }

    fn with_encoder(encoder: encoder::MiniLm, device: tch::Device) -> Result<Models, MlError> {
        let encoder: Arc<dyn encoder::TextEncoder> = Arc::new(encoder);
        let scorer = Arc::new(copy::scorer::CopyScorer::shipped()?);
        let keywords = Arc::new(keywords::SemanticKeywords::new(encoder.clone()));
        let copy = Arc::new(copy::PatternCopy::new(scorer.clone()));
        let model_version = format!(
            "{STRUCTURE_GENERATOR_VERSION} {} {}",
            encoder.version(),
            scorer.artifact.label()
        );
        let structure = Arc::new(structure::ModelStructureGenerator {
            keywords: keywords.clone(),
            copy: copy.clone(),
            model_version,
        });
        Ok(Models {
            encoder,
            scorer,
            keywords,
            copy,
            structure,
            device,
        })
    }
}
