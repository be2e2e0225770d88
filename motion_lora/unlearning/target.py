"""What the unlearning needs from a text-to-motion diffusion model: the one protocol that ESD (anchors and adversarial
tokens included), the adapters, the attack and the evaluation are written against.

A model is a `TextToMotion`, a frozen set of parts (docs/unlearning.md, "Bring your own denoiser", wraps one):

* `denoiser`: the torch module LoRA adapts. It stays frozen; adapters wrap it with PEFT.
* `lora_targets`: preset name -> regular expression over the denoiser's module names (PEFT's `target_modules`).
  `LoraSpec.preset` picks one; "attn" is the configs' default.
* `encode`: prompts -> one `TextBatch` (token states, mask, pooled vector). The null condition of classifier-free
  guidance is `TextBatch.unconditional()`: no token attended, zero pooled vector; the model must read it as "no text".
* `forward(module, x_t, t, text, lengths)`: the prediction (B, T, D) of `module` (the denoiser or its LoRA-wrapped
  copy, which takes the same arguments) for x_t (B, T, D) at integer timesteps t (B,), with `lengths` (B,) valid frames.
* `schedule`: a `NoiseSchedule`, the training alpha_bar and what the network predicts (v, epsilon or the clean x0).
  ESD's target v_a - eta (v_c - v_a) is a combination whose weights sum to 1, and at a fixed x_t every prediction
  type is an affine function of the others, so the same target is ESD's in any of the three spaces.
* `sampler(name, steps)`: a fresh reverse process (`ReverseProcess`) for the teacher rollouts and the judged
  samples; None gives DDIM over `schedule` (`DDIM`), which is then the only scheduler the model offers.
* `frame_stride`, `decode(x0)`: a latent model (MLD, SALAD, ours with `pretrain --latent`) samples T / stride
  latent frames of D dims, and `decode` turns them into motion features (B, T, F) for the judges; a model that
  samples the features themselves keeps stride 1 and no decoder. `noise` and `motion` do the bookkeeping.
* `finish(x0, lengths)`: what becomes of a decoded motion before it is judged (foot planting for ours); None = as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol, Sequence

import torch
from torch import nn

from ..checks import check_number
from ..model.sampler import seeded_noise
from ..model.text_batch import TextBatch

PREDICTIONS = ("v", "epsilon", "sample")  # the network's output: v = alpha eps - sigma x0, the noise, or x0 itself


@dataclass(frozen=True)
class NoiseSchedule:
    """The variance-preserving forward process x_t = alpha_t x0 + sigma_t eps of a model (alpha_t^2 = alpha_bar[t],
    sigma_t^2 = 1 - alpha_bar[t]) and its network's prediction type; converts predictions to x0 and eps."""

    alpha_bar: torch.Tensor  # (N,) cumulative signal fraction per training timestep, decreasing, in (0, 1]
    prediction: str = "v"

    def __post_init__(self):
        a = self.alpha_bar
        if not isinstance(a, torch.Tensor) or a.dim() != 1 or len(a) < 2 or not bool(((a > 0) & (a <= 1)).all()):
            raise ValueError("alpha_bar must be a 1-D tensor of at least 2 values in (0, 1], one per training timestep")
        if self.prediction not in PREDICTIONS:
            raise ValueError(f"prediction must be one of {', '.join(PREDICTIONS)}, got {self.prediction!r}")

    @property
    def num_steps(self) -> int:
        return len(self.alpha_bar)

    def scales(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B,) integer timesteps -> alpha, sigma shaped (B, 1, 1) in like's dtype and device."""
        abar = self.alpha_bar.to(like.device)[t.long()].to(like.dtype)
        return abar.sqrt().view(-1, 1, 1), (1 - abar).sqrt().view(-1, 1, 1)

    def to_x0(self, x_t: torch.Tensor, pred: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        alpha, sigma = self.scales(t, x_t)
        if self.prediction == "v":
            return alpha * x_t - sigma * pred
        if self.prediction == "epsilon":
            return (x_t - sigma * pred) / alpha
        return pred

    def to_eps(self, x_t: torch.Tensor, pred: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        alpha, sigma = self.scales(t, x_t)
        if self.prediction == "v":
            return sigma * x_t + alpha * pred
        if self.prediction == "epsilon":
            return pred
        return (x_t - alpha * pred) / sigma

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        alpha, sigma = self.scales(t, x0)
        return alpha * x0 + sigma * noise

    def training_target(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """What the network is trained to output for x_t = add_noise(x0, noise, t)."""
        alpha, sigma = self.scales(t, x0)
        return {"v": lambda: alpha * noise - sigma * x0, "epsilon": lambda: noise, "sample": lambda: x0}[self.prediction]()


class ReverseProcess(Protocol):
    """One reverse diffusion process (make a fresh one per sample: schedulers keep state). Samples live in the
    process's own space; `model_input` gives the x_t the network sees, `step` takes its prediction."""

    timesteps: list[int]  # the training timesteps of the model calls, noisiest first

    def init(self, noise: torch.Tensor) -> torch.Tensor: ...

    def model_input(self, sample: torch.Tensor, index: int) -> torch.Tensor: ...

    def step(self, pred: torch.Tensor, index: int, sample: torch.Tensor) -> torch.Tensor: ...


class DDIM:
    """Deterministic DDIM (eta = 0) over any NoiseSchedule, on trailing timesteps (the first call sees pure noise at
    the last training step); the last step lands on the clean x0 estimate."""

    def __init__(self, schedule: NoiseSchedule, steps: int):
        steps = check_number(steps, "steps", low=1, high=schedule.num_steps, whole=True)
        n = schedule.num_steps
        self.schedule = schedule
        self.timesteps = [round(n - i * n / steps) - 1 for i in range(steps)]

    def init(self, noise: torch.Tensor) -> torch.Tensor:
        return noise

    def model_input(self, sample: torch.Tensor, index: int) -> torch.Tensor:
        return sample

    def step(self, pred: torch.Tensor, index: int, sample: torch.Tensor) -> torch.Tensor:
        t = torch.full((sample.shape[0],), self.timesteps[index], device=sample.device, dtype=torch.long)
        x0, eps = self.schedule.to_x0(sample, pred, t), self.schedule.to_eps(sample, pred, t)
        if index + 1 == len(self.timesteps):
            return x0
        abar = self.schedule.alpha_bar[self.timesteps[index + 1]].to(sample.dtype)
        return abar.sqrt() * x0 + (1 - abar).sqrt() * eps


Forward = Callable[[nn.Module, torch.Tensor, torch.Tensor, TextBatch, torch.Tensor], torch.Tensor]


def call_with_text(module: nn.Module, x_t: torch.Tensor, t: torch.Tensor, text: TextBatch, lengths: torch.Tensor) -> torch.Tensor:
    """The default `forward`: module(x_t, t, tokens, mask, pooled, lengths), this project's denoiser signature."""
    return module(x_t, t, text.tokens, text.mask, text.pooled, lengths)


@dataclass(frozen=True, kw_only=True)
class TextToMotion:
    denoiser: nn.Module
    encode: Callable[[Sequence[str]], TextBatch]
    schedule: NoiseSchedule
    lora_targets: Mapping[str, str]
    feature_dim: int  # D of what the denoiser samples (B, T / frame_stride, D)
    max_frames: int = 196  # motion frames
    frame_stride: int = 1
    decode: Callable[[torch.Tensor], torch.Tensor] | None = None
    forward: Forward = call_with_text
    sampler: Callable[[str, int], ReverseProcess] | None = None
    finish: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    label: str = "model"
    schedulers: tuple[str, ...] = field(default=("ddim",))  # the names `sampler` accepts

    def __post_init__(self):
        if not isinstance(self.denoiser, nn.Module):
            raise TypeError(f"denoiser must be a torch module (LoRA wraps its layers), got {type(self.denoiser).__name__}")
        if not self.lora_targets or not all(isinstance(k, str) and isinstance(v, str) for k, v in self.lora_targets.items()):
            raise ValueError("lora_targets must map at least one preset name to a regular expression of module names")
        check_number(self.feature_dim, "feature_dim", low=1, whole=True)
        check_number(self.max_frames, "max_frames", low=1, whole=True)
        check_number(self.frame_stride, "frame_stride", low=1, whole=True)
        if self.max_frames % self.frame_stride:
            raise ValueError(f"max_frames ({self.max_frames}) must be a multiple of frame_stride ({self.frame_stride})")

    @property
    def device(self) -> torch.device:
        params = list(self.denoiser.parameters())
        return params[0].device if params else torch.device("cpu")

    def model_frames(self, frames: int) -> int:
        """How many frames the denoiser samples for a motion of `frames` frames."""
        if frames % self.frame_stride:
            raise ValueError(f"{self.label} samples {self.frame_stride} motion frames per step of its latent: frames must be a multiple of it, got {frames}")
        return frames // self.frame_stride

    def noise(self, seeds: Sequence[int], frames: int) -> torch.Tensor:
        """Seeded starting noise (B, frames / stride, D) on the denoiser's device; a seed's noise is the same at any length."""
        return seeded_noise(list(seeds), self.model_frames(frames), self.feature_dim, self.max_frames // self.frame_stride).to(self.device)

    def motion(self, x0: torch.Tensor, lengths: torch.Tensor | None = None, *, finish: bool = True) -> torch.Tensor:
        """Sampled x0 (B, T / stride, D) -> motion features (B, T, F): decoded, then `finish`ed (with `finish`);
        lengths (B,) are the samples' valid model frames (default: all)."""
        x = self.decode(x0) if self.decode is not None else x0
        if not finish or self.finish is None:
            return x
        frames = torch.full((x.shape[0],), x.shape[1], device=x.device) if lengths is None else lengths * self.frame_stride
        return self.finish(x, frames)

    def text(self, prompts: Sequence[str]) -> TextBatch:
        """The prompts encoded, on the denoiser's device."""
        return self.encode(list(prompts)).to(self.device)

    def predict(self, module: nn.Module, x_t: torch.Tensor, t: torch.Tensor, text: TextBatch, lengths: torch.Tensor) -> torch.Tensor:
        return self.forward(module, x_t, t, text, lengths)

    def guided(self, module: nn.Module, x_t: torch.Tensor, t: torch.Tensor, text: TextBatch, lengths: torch.Tensor, guidance: float) -> torch.Tensor:
        """Classifier-free guidance in one batched forward: conditional rows, then the same rows unconditioned."""
        B = x_t.shape[0]
        if guidance == 1.0:
            return self.predict(module, x_t, t, text, lengths).float()
        both = TextBatch.cat(text, text.unconditional())
        out = self.predict(module, torch.cat([x_t, x_t]), torch.cat([t, t]), both, torch.cat([lengths, lengths])).float()
        cond, uncond = out[:B], out[B:]
        return uncond + guidance * (cond - uncond)

    def reverse_process(self, scheduler: str, steps: int) -> ReverseProcess:
        """A fresh reverse process of `steps` model calls."""
        if scheduler not in self.schedulers:
            raise ValueError(f"{self.label} offers the samplers {', '.join(self.schedulers)}, not {scheduler!r}")
        return self.sampler(scheduler, steps) if self.sampler is not None else DDIM(self.schedule, steps)

    def sample(self, module: nn.Module, text: TextBatch, noise: torch.Tensor, *, guidance: float, steps: int, scheduler: str = "ddim",
               lengths: torch.Tensor | None = None) -> torch.Tensor:
        """x0 (B, T, D) from noise (B, T, D) under `text`, with guidance, in the denoiser's space (`motion` decodes)."""
        B, T = noise.shape[:2]
        lengths = torch.full((B,), T, device=noise.device) if lengths is None else lengths
        process = self.reverse_process(scheduler, steps)
        x = process.init(noise)
        for i, t in enumerate(process.timesteps):
            tt = torch.full((B,), t, device=noise.device, dtype=torch.long)
            x = process.step(self.guided(module, process.model_input(x, i), tt, text, lengths, guidance), i, x)
        return x
