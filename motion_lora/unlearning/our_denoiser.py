"""This project's denoiser (`model.denoiser.MotionDenoiser`) as a `TextToMotion`: the protocol object every CLI and
the app hand to the unlearning.

Its forward already takes (x_t, t, tokens, mask, pooled, lengths), it predicts v on the cosine schedule, and its
samplers are the diffusers schedulers of `model.sampler`; LoRA targets the attention projections by name
(`adapters.PRESETS`). A generator adds foot planting as the `finish` of judged samples.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from ..model.diffusion import NUM_TRAIN_STEPS, cosine_alpha_bar
from ..model.generator import MotionGenerator
from ..model.sampler import SCHEDULERS, Sampler
from ..model.text_batch import TextBatch
from ..motion.features import FEATURE_DIM
from .adapters import PRESETS
from .target import NoiseSchedule, TextToMotion

COSINE_V = NoiseSchedule(cosine_alpha_bar(NUM_TRAIN_STEPS), "v")


def denoiser_target(denoiser: torch.nn.Module, encode: Callable[[Sequence[str]], TextBatch] | object, *, finish=None, label: str = "base") -> TextToMotion:
    """A MotionDenoiser (or a module with its forward) and a text encoder (its `encode`, or the encoder itself)."""
    encode = getattr(encode, "encode", encode)
    cfg = getattr(denoiser, "cfg", None)
    return TextToMotion(denoiser=denoiser, encode=encode, schedule=COSINE_V, lora_targets=PRESETS, feature_dim=cfg.feature_dim if cfg else FEATURE_DIM,
                        max_frames=cfg.max_frames if cfg else 196, sampler=Sampler, schedulers=SCHEDULERS, finish=finish, label=label)


def generator_target(generator: MotionGenerator) -> TextToMotion:
    """A loaded generator's model: its denoiser and text encoder; judged samples get its foot planting."""
    return denoiser_target(generator.model, generator.text_encoder, finish=generator.plant, label=generator.checkpoint.name)
