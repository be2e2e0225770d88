"""What a few-step student learns from: its teacher's own samples of MotionBank training captions, drawn fresh
for every step (`draw_items`, `teacher_samples`), and a fixed validation set of val-split captions.

Never the natural test prompts: the captions come from the data folder's splits only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..data.dataset import MotionDataset
from .autoencoder import latent_lengths
from .denoiser import frame_mask
from .generator import MIN_FRAMES, MotionGenerator, SampleOptions
from .pretrain import save_atomic

if TYPE_CHECKING:  # distill imports this module
    from .distill import DistillConfig

VAL_FILE = "val.pt"
SEED_BASE = 1_000_000  # noise seeds of the training samples start here, apart from the seeds evaluations use
VAL_SEED_BASE = 900_000


@dataclass(frozen=True)
class Prompts:
    """A split's training phrasings, one group per clip, with the clip's length (a multiple of 4, <= 196 frames),
    the clips sorted by length."""

    captions: list[tuple[str, ...]]
    lengths: np.ndarray  # (clips,)


def split_prompts(data: Path, split: str) -> Prompts:
    groups = []
    for entry in MotionDataset(data, split).entries:
        captions = tuple(c for c, held in zip(entry.captions, entry.heldout) if not held)
        if captions:
            groups.append((max(MIN_FRAMES, (min(len(entry.features), 196) // 4) * 4), captions))
    groups.sort(key=lambda g: g[0])
    return Prompts([c for _, c in groups], np.array([n for n, _ in groups]))


def draw_items(prompts: Prompts, count: int, rng: np.random.Generator, first_seed: int) -> list[tuple[str, int, int]]:
    """(caption, noise seed, length) for `count` clips of a random window of the length-sorted clips (similar
    lengths share a batch: little padding), one random phrasing each; seeds first_seed, first_seed + 1, ..."""
    start = int(rng.integers(0, max(1, len(prompts.captions) - count + 1)))
    out = []
    for row, k in enumerate(range(start, min(start + count, len(prompts.captions)))):
        captions = prompts.captions[k]
        out.append((captions[int(rng.integers(len(captions)))], first_seed + row, int(prompts.lengths[k])))
    return out


def teacher_samples(
    teacher: MotionGenerator, items: list[tuple[str, int, int]], cfg: DistillConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """The teacher's raw samples in the space its denoiser samples (B, T, D): normalised features, not planted, or
    a latent checkpoint's latents (T = frames / 4) before decoding; zero past each row's length; and those lengths
    (B,) in the same frames, at the setting the student stands for."""
    lengths = [n for _, _, n in items]
    opts = SampleOptions(
        frames=max(lengths),
        steps=cfg.teacher_steps,
        scheduler=cfg.teacher_scheduler,
        guidance=cfg.guidance,
        plant_feet=False,
    )
    x0 = teacher.sample([c for c, _, _ in items], [s for _, s, _ in items], opts, lengths=lengths, decode=False)
    lengths = latent_lengths(torch.tensor(lengths), teacher.stride)
    return x0 * frame_mask(lengths, x0.shape[1])[..., None], lengths


def validation_set(teacher: MotionGenerator, data: Path, out: Path, cfg: DistillConfig) -> dict:
    """The teacher's samples of `val_items` val-split captions (made once, kept in out/val.pt)."""
    path = out / VAL_FILE
    if path.is_file():
        val = torch.load(path, weights_only=True)
        if len(val["captions"]) == cfg.val_items:
            return val
    prompts = split_prompts(data, "val")
    items = [
        draw_items(prompts, 1, np.random.default_rng((cfg.seed, i)), VAL_SEED_BASE + i)[0] for i in range(cfg.val_items)
    ]
    items.sort(key=lambda item: item[2])  # similar lengths share a batch
    started = time.perf_counter()
    x0 = []
    for start in range(0, len(items), cfg.batch_size):
        chunk = items[start : start + cfg.batch_size]
        samples, sample_lengths = teacher_samples(teacher, chunk, cfg)
        x0 += [row[:n].half().clone() for row, n in zip(samples, sample_lengths.tolist())]
    val = {
        "captions": [c for c, _, _ in items],
        "seeds": [s for _, s, _ in items],
        "lengths": [int(x.shape[0]) for x in x0],  # in the denoiser's frames (a quarter of the motion's when latent)
        "x0": x0,
        "seconds": time.perf_counter() - started,
    }
    save_atomic(val, path)
    return val
