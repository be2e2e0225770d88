"""One motion steered at a whole grid of strengths, in one batch: what a live strength slider scrubs through.

Every row of the batch is the same prompt with the same seeded noise; row i runs the adapter mix at strength s_i
(`AdapterSet.row_scaled`: the LoRA delta is linear in its input, so scaling the input of lora_A by s_i scales the
delta by s_i). One sampling step is then one forward of S rows (2S under classifier-free guidance) instead of S
separate generations, and the row at strength 0 is exactly the base motion.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from ..checks import check_number
from ..model.generator import MotionGenerator, SampleOptions
from .adapters import AdapterSet

# -1 to 2 in steps of 0.25: negative strengths amplify what an erasure adapter erases, 1 is as trained
GRID_STRENGTHS = tuple(-1.0 + 0.25 * i for i in range(13))
MAX_GRID = 32  # rows of one grid batch (a grid is one request; its cost grows with its size)
MAX_STRENGTH = 10.0


def check_strengths(strengths: Sequence[float]) -> list[float]:
    if (
        isinstance(strengths, (str, bytes))
        or not isinstance(strengths, Sequence)
        or not 1 <= len(strengths) <= MAX_GRID
    ):
        raise ValueError(f"strengths must be a list of 1 to {MAX_GRID} numbers, got {strengths!r}")
    return [float(check_number(s, "strength", low=-MAX_STRENGTH, high=MAX_STRENGTH)) for s in strengths]


@torch.no_grad()
def strength_grid(
    generator: MotionGenerator,
    adapters: AdapterSet,
    prompt: str,
    seed: int,
    weights: dict[str, float],
    strengths: Sequence[float] = GRID_STRENGTHS,
    options: SampleOptions = SampleOptions(),
    start_step: int = 0,
) -> torch.Tensor:
    """Normalised features (S, frames, 263): `prompt` with `seed`, steered by the adapter mix `weights`
    (name -> weight) at each of the S `strengths`, all from the same noise in one batch per sampling step.

    `start_step` keeps the steering off for the sampling steps before it (as the side-by-side's start step does);
    it counts the full sampler's steps, so a grid with one never runs on a few-step student.
    `adapters` must be the AdapterSet on `generator.model`; the caller holds whatever lock guards that model."""
    scales = torch.tensor(check_strengths(strengths))  # (S,)
    start_step = check_number(start_step, "start step", low=0, whole=True)
    options = options.with_start_step(start_step)
    rows = len(scales)
    with adapters.row_scaled(weights) as model:

        def denoise(x, t, tokens, mask, pooled, lengths, step_index):
            live = scales if step_index >= start_step else torch.zeros_like(scales)
            # (cond rows, then as many uncond rows under guidance): each row keeps its strength in both branches
            return model(x, t, tokens, mask, pooled, lengths, row_scales=live.repeat(x.shape[0] // rows))

        return generator.sample([prompt] * rows, [seed] * rows, options, denoise=denoise)
