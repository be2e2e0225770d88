"""Gradient ascent on data: the unlearning recipe of the public motion-unlearning code this project descends from.

    loss = v-loss(retain clips) - lambda * v-loss(forget clips)

on MotionBank clips: the forget clips show or name the concept, the retain clips are every other clip
(`motion_lora.unlearning.concept_data`). Only LoRA matrices are trained (the fork also left base weights trainable, a defect
we do not repeat: docs/unlearning.md), the teacher-free loss needs no rollouts, and the gradient norm is clipped at 1.
The ascent term has no floor: pushed long enough, the forget loss grows without bound and takes the rest of the
model with it, which is why the retain term and a short schedule matter (`--forget_weight`, `--iterations`).
"""

from __future__ import annotations

import torch

from .data_trainer import DataLoraTrainer


class GradientAscent(DataLoraTrainer):
    """`forget_weight` is lambda of the loss above."""

    uses_retain = True

    def __init__(self, *args, forget_weight: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.forget_weight = float(forget_weight)

    def combine(self, forget: torch.Tensor, retain: torch.Tensor) -> torch.Tensor:
        return retain - self.forget_weight * forget
