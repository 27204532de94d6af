//! Model artifacts: weights as safetensors whose header metadata names the model, its version, the
//! SHA-256 of the data it was trained on and its evaluation metrics. The version goes on every
//! event the model causes.

use crate::MlError;
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct Artifact {
    /// Where it was read from, for error messages.
    pub origin: String,
    pub name: String,
    pub version: String,
    pub training_data_sha256: String,
    /// Metric name → value, as the training command measured them.
    pub metrics: HashMap<String, f64>,
    tensors: HashMap<String, Vec<f32>>,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Artifact {
    pub fn parse(bytes: &[u8], origin: &str) -> Result<Artifact, MlError> {
        let bad = |reason: String| MlError::Artifact {
            path: origin.to_owned(),
            reason,
        };
        let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| bad(e.to_string()))?;
        let meta = header.metadata().clone().unwrap_or_default();
        let field = |key: &str| {
            meta.get(key)
                .cloned()
                .ok_or_else(|| bad(format!("metadata has no {key}")))
        };
        let metrics: HashMap<String, f64> =
            serde_json::from_str(&field("metrics")?).map_err(|e| bad(format!("metrics: {e}")))?;
        let parsed = SafeTensors::deserialize(bytes).map_err(|e| bad(e.to_string()))?;
        let mut tensors = HashMap::new();
        for (name, view) in parsed.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(bad(format!("{name} is not f32")));
            }
            let floats = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            tensors.insert(name, floats);
        }
        Ok(Artifact {
            origin: origin.to_owned(),
            name: field("name")?,
            version: field("version")?,
            training_data_sha256: field("training_data_sha256")?,
            metrics,
            tensors,
        })
    }

    pub fn floats(&self, name: &str) -> Result<Vec<f32>, MlError> {
        self.tensors
            .get(name)
            .cloned()
            .ok_or_else(|| MlError::Artifact {
                path: self.origin.clone(),
                reason: format!("no tensor {name}"),
            })
    }

    pub fn has(&self, name: &str) -> bool {
        self.tensors.contains_key(name)
    }

    /// `name@version`, what events record.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Serialises one-dimensional f32 tensors with the metadata.
    pub fn write(
        name: &str,
        version: &str,
        training_data_sha256: &str,
        metrics: &HashMap<String, f64>,
        tensors: &[(&str, &[f32])],
    ) -> Result<Vec<u8>, MlError> {
        let bytes: Vec<(String, Vec<u8>, usize)> = tensors
            .iter()
            .map(|(n, v)| {
                (
                    (*n).to_owned(),
                    v.iter().flat_map(|f| f.to_le_bytes()).collect(),
                    v.len(),
                )
            })
            .collect();
        let views = bytes
            .iter()
            .map(|(n, b, len)| {
                TensorView::new(Dtype::F32, vec![*len], b)
                    .map(|view| (n.clone(), view))
                    .map_err(|e| MlError::Model(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let metadata = HashMap::from([
            ("name".to_owned(), name.to_owned()),
            ("version".to_owned(), version.to_owned()),
            (
                "training_data_sha256".to_owned(),
                training_data_sha256.to_owned(),
            ),
            (
                "metrics".to_owned(),
                serde_json::to_string(metrics).map_err(|e| MlError::Model(e.to_string()))?,
            ),
        ]);
        safetensors::serialize(views, &Some(metadata)).map_err(|e| MlError::Model(e.to_string()))
    }
}
