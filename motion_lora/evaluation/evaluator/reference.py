"""The real-motion embeddings for FID, stored beside the evaluator (written here, read by protocol.Judge)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from .embedding import embed_dataset
from .model import Evaluator

REFERENCE_FILE = "reference.safetensors"

# Per-clip embeddings are data derived from their clips, not weights: the Bandai Namco licence (CC BY-NC 4.0) lets
# us ship weights trained on it but nothing else derived from it, so its clips stay out of the shipped reference.
UNSHIPPABLE_SOURCES = ("bandai",)


def write_reference(evaluator_dir: str | Path, dataset, text_encoder) -> Path:
    """Embed every clip of a split once (first caption, no crop) and store embeddings + concepts for FID.

    Clips whose label names an unshippable source (the Bandai Namco takes) are left out."""
    from ...data.dataset import read_label

    evaluator_dir = Path(evaluator_dir)
    model = Evaluator.load(evaluator_dir)
    emb = embed_dataset(model, dataset, text_encoder)
    sources = [(read_label(dataset.root, dataset.entries[e].id) or {}).get("source", "") for e, _ in dataset.items]
    keep = np.array([not s.startswith(UNSHIPPABLE_SOURCES) for s in sources], dtype=bool)
    path = evaluator_dir / REFERENCE_FILE
    save_file({"motion_emb": torch.from_numpy(emb["motion_emb"][keep]).float(),
               "concept": torch.from_numpy(emb["concept"][keep]).long()}, str(path))
    return path
