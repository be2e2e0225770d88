"""DDIM sampling (Song et al. 2021, eta = 0) for a v-prediction model, with classifier-free guidance.

The sampler only needs a `predict_v(x_t, t, step_index) -> v` function, so guidance, LoRA adapters
and "adapter off for the first steps" are all composed outside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .diffusion import Schedule

DEFAULT_STEPS = 20  # measured: proxy concept accuracy 0.633 at 20 vs 0.648 at 30 steps (128 prompts), 1.5x faster
MAX_STEPS = 200

PredictV = Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]


@dataclass(frozen=True)
class StepOutput:
    prev_sample: torch.Tensor  # x at the next (less noisy) timestep
    pred_x0: torch.Tensor  # the model's current estimate of the clean motion


def ddim_timesteps(steps: int, num_train_steps: int) -> list[int]:
    """Evenly spaced, trailing timesteps: [T-1, ..., T/steps - 1], so sampling starts from pure noise."""
    if not 1 <= steps <= min(MAX_STEPS, num_train_steps):
        raise ValueError(f"steps must be between 1 and {min(MAX_STEPS, num_train_steps)}, got {steps}")
    return [int(round(num_train_steps * (steps - i) / steps)) - 1 for i in range(steps)]


class DDIMSampler:
    def __init__(self, schedule: Schedule, steps: int = DEFAULT_STEPS):
        self.schedule = schedule
        self.timesteps = ddim_timesteps(steps, schedule.num_steps)

    def step(self, v: torch.Tensor, index: int, x_t: torch.Tensor) -> StepOutput:
        t = self.timesteps[index]
        t_prev = self.timesteps[index + 1] if index + 1 < len(self.timesteps) else -1
        tt = torch.full((x_t.shape[0],), t, device=x_t.device)
        x0 = self.schedule.predict_x0(x_t, v, tt)
        eps = self.schedule.predict_eps(x_t, v, tt)
        if t_prev < 0:
            return StepOutput(x0, x0)
        abar_prev = self.schedule.alpha_bar[t_prev].item()
        return StepOutput(abar_prev**0.5 * x0 + (1 - abar_prev) ** 0.5 * eps, x0)

    def sample(self, predict_v: PredictV, noise: torch.Tensor) -> torch.Tensor:
        """Run the whole reverse process from `noise` (B, T, D) and return x0."""
        x = noise
        for i, t in enumerate(self.timesteps):
            tt = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
            x = self.step(predict_v(x, tt, i).float(), i, x).prev_sample
        return x


def seeded_noise(seeds: list[int], frames: int, dim: int, max_frames: int = 196) -> torch.Tensor:
    """(len(seeds), frames, dim) standard normal noise, one generator per seed.

    Noise is always drawn for `max_frames` and cut, so a seed gives the same noise prefix at any length.
    """
    out = []
    for seed in seeds:
        g = torch.Generator().manual_seed(int(seed))
        out.append(torch.randn(max_frames, dim, generator=g)[:frames])
    return torch.stack(out)
