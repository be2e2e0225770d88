"""This project's denoiser (`model.denoiser.MotionDenoiser`) as a `TextToMotion`: the protocol object every CLI and
the app hand to the unlearning.

Its forward already takes (x_t, t, tokens, mask, pooled, lengths), it predicts v on the cosine schedule, and its
samplers are the diffusers schedulers of `model.sampler`; LoRA targets the attention projections by name
(`adapters.PRESETS`). A generator adds foot planting as the `finish` of judged samples. A latent checkpoint
(`pretrain --latent`) carries its motion autoencoder: the denoiser samples T/4 latent frames and the autoencoder's
decoder is the protocol's `decode`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import torch

from ..model.autoencoder import AE_DIR, MotionAutoencoder
from ..model.diffusion import NUM_TRAIN_STEPS, cosine_alpha_bar
from ..model.generator import MAX_FRAMES, MotionGenerator
from ..model.sampler import SCHEDULERS, Sampler
from ..model.text_batch import TextBatch
from ..motion.features import FEATURE_DIM
from .adapters import PRESETS
from .target import NoiseSchedule, TextToMotion

COSINE_V = NoiseSchedule(cosine_alpha_bar(NUM_TRAIN_STEPS), "v")


def denoiser_target(denoiser: torch.nn.Module, encode: Callable[[Sequence[str]], TextBatch] | object, *, finish=None, label: str = "base",
                    autoencoder: MotionAutoencoder | None = None) -> TextToMotion:
    """A MotionDenoiser (or a module with its forward) and a text encoder (its `encode`, or the encoder itself);
    with the `autoencoder` of a latent checkpoint, samples are latents that its decoder turns into features."""
    encode = getattr(encode, "encode", encode)
    cfg = getattr(denoiser, "cfg", None)
    stride = autoencoder.cfg.stride if autoencoder is not None else 1
    latent = {} if autoencoder is None else {"frame_stride": stride, "decode": autoencoder.decode}
    return TextToMotion(denoiser=denoiser, encode=encode, schedule=COSINE_V, lora_targets=PRESETS, feature_dim=cfg.feature_dim if cfg else FEATURE_DIM,
                        max_frames=cfg.max_frames * stride if cfg else MAX_FRAMES, sampler=Sampler, schedulers=SCHEDULERS, finish=finish, label=label, **latent)


def folder_autoencoder(base_dir: str | Path | None, device: str | torch.device = "cpu") -> MotionAutoencoder | None:
    """The motion autoencoder a base checkpoint folder carries (a latent base), else None."""
    ae_dir = Path(base_dir) / AE_DIR if base_dir is not None else None
    return MotionAutoencoder.load(ae_dir, device).requires_grad_(False) if ae_dir is not None and ae_dir.is_dir() else None


def generator_target(generator: MotionGenerator) -> TextToMotion:
    """A loaded generator's model: its denoiser, text encoder and autoencoder; judged samples get its foot planting."""
    return denoiser_target(generator.model, generator.text_encoder, finish=generator.plant, label=generator.checkpoint.name, autoencoder=generator.autoencoder)
