"""Gaussian diffusion with v-prediction: the noise schedule, the forward process and the training loss.

With alpha_t = sqrt(abar_t) and sigma_t = sqrt(1 - abar_t):
    x_t = alpha_t x0 + sigma_t eps,    v = alpha_t eps - sigma_t x0,
    x0  = alpha_t x_t - sigma_t v,     eps = sigma_t x_t + alpha_t v.
(Salimans & Ho 2022.) At a fixed x_t, eps is affine in v, which is why ESD's negative-guidance target
carries over to v-space unchanged (docs/unlearning.md).
"""

from __future__ import annotations

import math

import torch

NUM_TRAIN_STEPS = 1000


def cosine_alpha_bar(num_steps: int = NUM_TRAIN_STEPS, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """(num_steps,) cumulative signal fractions of the cosine schedule (Nichol & Dhariwal 2021), float64."""
    f = lambda t: math.cos((t / num_steps + s) / (1 + s) * math.pi / 2) ** 2  # noqa: E731
    betas = [min(1 - f(i + 1) / f(i), max_beta) for i in range(num_steps)]
    return torch.cumprod(1 - torch.tensor(betas, dtype=torch.float64), dim=0)


class Schedule:
    """Signal/noise scales per discrete timestep, looked up for a batch of timesteps."""

    def __init__(self, num_steps: int = NUM_TRAIN_STEPS):
        self.num_steps = num_steps
        self.alpha_bar = cosine_alpha_bar(num_steps)

    def scales(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B,) integer timesteps -> alpha, sigma shaped (B, 1, 1) in like's dtype/device."""
        abar = self.alpha_bar.to(like.device)[t.long()].to(like.dtype)
        return abar.sqrt().view(-1, 1, 1), (1 - abar).sqrt().view(-1, 1, 1)

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        alpha, sigma = self.scales(t, x0)
        return alpha * x0 + sigma * noise

    def v_target(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        alpha, sigma = self.scales(t, x0)
        return alpha * noise - sigma * x0

    def predict_x0(self, x_t: torch.Tensor, v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        alpha, sigma = self.scales(t, x_t)
        return alpha * x_t - sigma * v

    def predict_eps(self, x_t: torch.Tensor, v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        alpha, sigma = self.scales(t, x_t)
        return sigma * x_t + alpha * v


def masked_mse(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the valid frames only. pred/target (B, T, D), mask (B, T) bool."""
    se = ((pred - target) ** 2).mean(-1) * mask
    return se.sum() / mask.sum().clamp(min=1)
