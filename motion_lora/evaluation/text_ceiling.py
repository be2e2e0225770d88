"""The text ceiling: how much of a prompt the text encoder alone already understands.

For each prompt, the concept of the training caption nearest to it (cosine of the encoder's sentence vectors).
A generator conditioned on that encoder can hardly show the right concept more often than this retrieval names
it, so the gap between the ceiling and the generator's accuracy is what the generator loses, and the gap
between 1 and the ceiling what the text side loses. `eval_base` prints both per concept and per prompt style.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..data.dataset import load_entries, read_label

CHUNK = 256  # sentences per encoder call


def nearest_concepts(prompts: np.ndarray, captions: np.ndarray, caption_concepts: np.ndarray) -> np.ndarray:
    """(P, D) prompt vectors, (C, D) caption vectors, (C,) their concepts -> (P,) the nearest caption's concept.
    Vectors need not be normalised (cosine similarity)."""
    p = prompts / np.linalg.norm(prompts, axis=1, keepdims=True).clip(1e-12)
    c = captions / np.linalg.norm(captions, axis=1, keepdims=True).clip(1e-12)
    return np.asarray(caption_concepts)[np.argmax(p @ c.T, axis=1)]


def embed(encode: Callable[[list[str]], np.ndarray], texts: Sequence[str]) -> np.ndarray:
    """(N, D) sentence vectors of `texts`, encoded in chunks."""
    return np.concatenate([encode(list(texts[i : i + CHUNK])) for i in range(0, len(texts), CHUNK)])


def training_captions(data: Path) -> tuple[list[str], np.ndarray]:
    """Distinct captions of the single-concept training clips of a MotionBank folder, and their concepts."""
    seen: dict[str, int] = {}
    for entry in load_entries(data, "train"):
        if entry.concept < 0 or (read_label(data, entry.id) or {}).get("composite"):
            continue
        for caption in entry.captions:
            seen.setdefault(caption, entry.concept)
    return list(seen), np.array(list(seen.values()), dtype=int)


def ceiling_hits(encode: Callable[[list[str]], np.ndarray], prompts: Sequence[str], concepts: Sequence[int],
                 captions: Sequence[str], caption_concepts: np.ndarray) -> np.ndarray:
    """(P,) bool: does the nearest training caption of each prompt name that prompt's concept."""
    found = nearest_concepts(embed(encode, prompts), embed(encode, captions), caption_concepts)
    return found == np.asarray(concepts)
