//! The words of a unit as the predictor reads them: all-MiniLM-L6-v2 sentence embeddings of a
//! keyword's text and of its ad copy. A hashed field only knows a text it has seen; an embedding
//! places an unseen keyword ("cloud cost price quote") next to the ones it resembles ("cloud cost
//! pricing"), so what searchers of that wording did reaches a keyword on its first day.
//!
//! A text is read as what it adds to its ad group's theme: `embed(text) − embed(theme)`. The theme
//! is a hashed field already (and what it is about is most of an embedding); what is left is the
//! wording — "pricing", "tutorial", "for beginners" — which the same wording shares across every
//! theme, so what one theme's keywords showed teaches the others'. (Whole embeddings let the
//! words stand in for each unit's identity and fit its noise: on the evaluation's conversions they
//! did worse than no words at all.)
//!
//! Each distinct text is embedded once per process (a keyword's words do not change) and rows refer
//! to their (text, theme) pair by index: a month of hourly rows repeats a few thousand pairs.

use crate::encoder::TextEncoder;
use crate::MlError;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tch::{Device, Kind, Tensor};

/// Texts kept at most; past it the cache starts again (a long-running worker serves many
/// tenants, and a text's vector is cheap to compute again).
const CACHE_TEXTS: usize = 200_000;

/// The embeddings the predictor reads, with the encoder that made them.
pub struct TextVectors {
    encoder: Arc<dyn TextEncoder>,
    cache: Mutex<HashMap<String, Vec<f32>>>,
}

/// The distinct (text, theme) pairs of some rows as one matrix, and each row's index into it per
/// text field.
pub struct TextTable {
    /// `[pairs, dim]`: what each text adds to its theme; an empty text is a row of zeros (it says
    /// nothing).
    pub vectors: Tensor,
    /// Per field (keyword, copy), each row's index into `vectors`.
    pub keyword: Vec<i64>,
    pub copy: Vec<i64>,
}

impl TextVectors {
    pub fn new(encoder: Arc<dyn TextEncoder>) -> TextVectors {
        TextVectors {
            encoder,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The encoder's version: a model trained on one encoder's vectors reads only its vectors.
    pub fn version(&self) -> &str {
        self.encoder.version()
    }

    /// The table of `rows` (keyword text, copy, theme), on `device`.
    pub fn table<'a>(
        &self,
        rows: impl Iterator<Item = (&'a str, &'a str, &'a str)>,
        device: Device,
    ) -> Result<TextTable, MlError> {
        let mut index: HashMap<(&str, &str), i64> = HashMap::new();
        let mut pairs: Vec<(&str, &str)> = Vec::new();
        let mut position = |text: &'a str, theme: &'a str| -> i64 {
            *index.entry((text, theme)).or_insert_with(|| {
                pairs.push((text, theme));
                pairs.len() as i64 - 1
            })
        };
        let (mut keyword, mut copy) = (Vec::new(), Vec::new());
        for (k, c, theme) in rows {
            keyword.push(position(k, theme));
            copy.push(position(c, theme));
        }
        let texts: Vec<&str> = pairs.iter().map(|p| p.0).collect();
        let themes: Vec<&str> = pairs.iter().map(|p| p.1).collect();
        // Texts and themes in one lookup: one encoder pass for whatever neither has cached.
        let both = self.vectors(&[texts.as_slice(), themes.as_slice()].concat())?;
        let said = both.narrow(0, 0, texts.len() as i64);
        let theme = both.narrow(0, texts.len() as i64, themes.len() as i64);
        let spoken = Tensor::from_slice(
            &texts
                .iter()
                .map(|t| if t.trim().is_empty() { 0.0f32 } else { 1.0 })
                .collect::<Vec<_>>(),
        )
        .unsqueeze(1);
        // An empty text adds nothing, whatever its theme.
        let vectors = (said - theme) * spoken;
        Ok(TextTable {
            vectors: vectors.to_device(device),
            keyword,
            copy,
        })
    }

    /// `[texts.len(), dim]` on the CPU: cached vectors, the rest embedded in one pass.
    fn vectors(&self, texts: &[&str]) -> Result<Tensor, MlError> {
        let mut cache = self
            .cache
            .lock()
            .map_err(|_| MlError::Model("the text cache was poisoned".into()))?;
        let missing: Vec<&str> = texts
            .iter()
            .copied()
            .filter(|t| !t.trim().is_empty() && !cache.contains_key(*t))
            .collect();
        let wanted = if cache.len() + missing.len() > CACHE_TEXTS {
            cache.clear();
            texts
                .iter()
                .copied()
                .filter(|t| !t.trim().is_empty())
                .collect()
        } else {
            missing
        };
        if !wanted.is_empty() {
            let embedded = self.encoder.embed(&wanted)?.to_kind(Kind::Float);
            let dim = embedded.size().get(1).copied().unwrap_or(0);
            let flat = Vec::<f32>::try_from(&embedded.reshape([-1]))?;
            for (text, chunk) in wanted.iter().zip(flat.chunks(dim.max(1) as usize)) {
                cache.insert((*text).to_owned(), chunk.to_vec());
            }
        }
        self.cached(&cache, texts)
    }

    fn cached(&self, cache: &HashMap<String, Vec<f32>>, texts: &[&str]) -> Result<Tensor, MlError> {
        let dim = match cache.values().next() {
            Some(v) => v.len(),
            None => self.encoder.embed(&["dimension"])?.size()[1] as usize,
        };
        let mut flat = Vec::with_capacity(texts.len() * dim);
        for text in texts {
            match cache.get(*text) {
                Some(v) => flat.extend_from_slice(v),
                None => flat.extend(std::iter::repeat_n(0.0f32, dim)),
            }
        }
        Ok(Tensor::from_slice(&flat).view([texts.len() as i64, dim as i64]))
    }
}
