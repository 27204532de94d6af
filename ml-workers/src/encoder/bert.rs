//! The BERT encoder of all-MiniLM-L6-v2 written out in tch: embeddings, six post-norm transformer
//! layers, then mean pooling over the real (unpadded) tokens, which is how sentence-transformers
//! turns the token states into one sentence vector.

use crate::MlError;
use std::collections::HashMap;
use tch::{Device, Kind, Tensor};

/// The architecture numbers of the checkpoint (its `config.json`).
#[derive(Debug, Clone, Copy)]
pub struct BertConfig {
    pub hidden: i64,
    pub heads: i64,
    pub layers: usize,
    pub layer_norm_eps: f64,
}

impl BertConfig {
    pub const MINILM_L6: BertConfig = BertConfig {
        hidden: 384,
        heads: 12,
        layers: 6,
        layer_norm_eps: 1e-12,
    };
}

struct Linear {
    weight: Tensor,
    bias: Tensor,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.linear(&self.weight, Some(&self.bias))
    }
}

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
}

struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: LayerNorm,
    intermediate: Linear,
    output: Linear,
    output_norm: LayerNorm,
}

pub struct Bert {
    config: BertConfig,
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
}

/// The checkpoint's tensors by name; `bert.` prefixes (a full BertModel export) are dropped.
struct Weights(HashMap<String, Tensor>);

impl Weights {
    fn take(&mut self, name: &str) -> Result<Tensor, MlError> {
        self.0
            .remove(name)
            .ok_or_else(|| MlError::Model(format!("the checkpoint has no tensor {name}")))
    }

    fn linear(&mut self, prefix: &str) -> Result<Linear, MlError> {
        Ok(Linear {
            weight: self.take(&format!("{prefix}.weight"))?,
            bias: self.take(&format!("{prefix}.bias"))?,
        })
    }

    fn norm(&mut self, prefix: &str) -> Result<LayerNorm, MlError> {
        Ok(LayerNorm {
            weight: self.take(&format!("{prefix}.weight"))?,
            bias: self.take(&format!("{prefix}.bias"))?,
        })
    }
}

impl Bert {
    pub fn load(
        path: &std::path::Path,
        config: BertConfig,
        device: Device,
    ) -> Result<Bert, MlError> {
        let tensors = Tensor::read_safetensors(path)
            .map_err(|e| MlError::Model(format!("{}: {e}", path.display())))?;
        let mut weights = Weights(
            tensors
                .into_iter()
                .map(|(name, tensor)| {
                    let name = name.strip_prefix("bert.").unwrap_or(&name).to_owned();
                    (name, tensor.to_kind(Kind::Float).to_device(device))
                })
                .collect(),
        );
        let mut layers = Vec::with_capacity(config.layers);
        for i in 0..config.layers {
            let p = format!("encoder.layer.{i}");
            layers.push(Layer {
                query: weights.linear(&format!("{p}.attention.self.query"))?,
                key: weights.linear(&format!("{p}.attention.self.key"))?,
                value: weights.linear(&format!("{p}.attention.self.value"))?,
                attention_out: weights.linear(&format!("{p}.attention.output.dense"))?,
                attention_norm: weights.norm(&format!("{p}.attention.output.LayerNorm"))?,
                intermediate: weights.linear(&format!("{p}.intermediate.dense"))?,
                output: weights.linear(&format!("{p}.output.dense"))?,
                output_norm: weights.norm(&format!("{p}.output.LayerNorm"))?,
            });
        }
        Ok(Bert {
            config,
            word: weights.take("embeddings.word_embeddings.weight")?,
            position: weights.take("embeddings.position_embeddings.weight")?,
            token_type: weights.take("embeddings.token_type_embeddings.weight")?,
            embedding_norm: weights.norm("embeddings.LayerNorm")?,
            layers,
        })
    }

    pub fn max_positions(&self) -> i64 {
        self.position.size()[0]
    }

    fn norm(&self, x: &Tensor, norm: &LayerNorm) -> Tensor {
        x.layer_norm(
            [self.config.hidden],
            Some(&norm.weight),
            Some(&norm.bias),
            self.config.layer_norm_eps,
            false,
        )
    }

    /// Token ids and attention mask `[batch, length]` (int64) → mean-pooled `[batch, hidden]`.
    pub fn embed(&self, ids: &Tensor, mask: &Tensor) -> Tensor {
        let (batch, length) = ids.size2().unwrap_or((0, 0));
        let positions = Tensor::arange(length, (Kind::Int64, ids.device()));
        let types = ids.zeros_like();
        let embedded = Tensor::embedding(&self.word, ids, -1, false, false)
            + Tensor::embedding(&self.position, &positions, -1, false, false).unsqueeze(0)
            + Tensor::embedding(&self.token_type, &types, -1, false, false);
        let mut x = self.norm(&embedded, &self.embedding_norm);

        let heads = self.config.heads;
        let head_dim = self.config.hidden / heads;
        let scale = 1.0 / (head_dim as f64).sqrt();
        // Padding gets the most negative float, as transformers does, so it weighs nothing.
        let mask_f = mask.to_kind(Kind::Float);
        let attention_bias = ((&mask_f * -1.0 + 1.0) * f64::from(f32::MIN))
            .view([batch, 1, 1, length])
            .to_kind(Kind::Float);
        let split =
            |t: Tensor| -> Tensor { t.view([batch, length, heads, head_dim]).transpose(1, 2) };
        for layer in &self.layers {
            let q = split(layer.query.forward(&x));
            let k = split(layer.key.forward(&x));
            let v = split(layer.value.forward(&x));
            let scores = q.matmul(&k.transpose(-1, -2)) * scale + &attention_bias;
            let context = scores
                .softmax(-1, Kind::Float)
                .matmul(&v)
                .transpose(1, 2)
                .contiguous()
                .view([batch, length, self.config.hidden]);
            let attended = self.norm(
                &(layer.attention_out.forward(&context) + &x),
                &layer.attention_norm,
            );
            let inner = layer.intermediate.forward(&attended).gelu("none");
            x = self.norm(
                &(layer.output.forward(&inner) + &attended),
                &layer.output_norm,
            );
        }
        let weights = mask_f.unsqueeze(-1);
        let summed = (x * &weights).sum_dim_intlist(1, false, Kind::Float);
        let counts = weights
            .sum_dim_intlist(1, false, Kind::Float)
            .clamp_min(1e-9);
        summed / counts
    }
}
