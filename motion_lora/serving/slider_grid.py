"""The strength grid a comparison sends along for the live strength slider: which strengths, as which rows, and in
which order a busy batch fills them.

After a Generate the steered motion is also computed at a grid of strengths (GRID_STRENGTHS: -1 to 2 in steps of
0.25, the Compare slider's own steps), same prompt, seed and noise. The grid is rows of the lab's merged batch
(serving/batching.py): one forward per sampling step for all of it, each row steered by the adapter mix at its
strength through the same per-row linear LoRA scaling as unlearning.strength_grid, and the row at strength 0 is the
base row itself. Grid rows are optional rows (Batcher.fill_rows): they fill only the room a batch has left, in
`fill_order`, so under load a visitor gets a coarser grid, or none, rather than making anyone wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..checks import check_number
from ..unlearning.strength_grid import GRID_STRENGTHS, MAX_GRID
from .batching import Row, steering

__all__ = ["GRID_STRENGTHS", "Variant", "check_grid", "fill_order", "steered_rows"]


@dataclass(frozen=True)
class Variant:
    """The steered motion of a comparison at one strength of its grid."""

    strength: float
    joints: np.ndarray  # (T, 22, 3)
    concepts: list[tuple[str, float]]  # the evaluator's top concepts


def check_grid(strengths: Sequence[float], limit: float) -> list[float]:
    """1 to MAX_GRID finite strengths in [-limit, limit], as floats, each once (in the order given)."""
    listed = isinstance(strengths, Sequence) and not isinstance(strengths, (str, bytes))
    if not listed or not 1 <= len(strengths) <= MAX_GRID:
        raise ValueError(f"a strength grid is a list of 1 to {MAX_GRID} numbers, got {strengths!r}")
    checked = [float(check_number(s, "grid strength", low=-limit, high=limit)) for s in strengths]
    return list(dict.fromkeys(checked))


def fill_order(strengths: Sequence[float], shown: float) -> list[float]:
    """Coarse to fine: whole strengths first, then halves, then quarters, ...; within each, the nearest to the
    strength on screen first. A batch with room for only k of them then gives k spread over the whole range."""
    return sorted(strengths, key=lambda s: (Fraction(s).limit_denominator(1024).denominator, abs(s - shown), s))


def steered_rows(prompt: str, seed: int, frames: int, weights: dict[str, float], strengths: Sequence[float],
                 start_step: int = 0) -> list[Row]:
    """One row per strength: `prompt` from `seed`'s noise, steered by the adapter mix `weights` at that strength
    from sampling step `start_step` on (strength 0 is the base row)."""
    return [Row(prompt, seed, frames, steering(weights, s), start_step) for s in strengths]
