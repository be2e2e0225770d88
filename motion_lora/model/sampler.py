"""Sampling a v-prediction model through `diffusers` schedulers (DDIM, DPM-Solver++, UniPC, Euler).

The sampler only needs a `predict_v(x_t, t, step_index) -> v` function, so guidance, LoRA adapters
and "adapter off for the first steps" are all composed outside it. Every scheduler is configured for our
training schedule: cosine (`squaredcos_cap_v2`, the same alpha_bar as `diffusion.cosine_alpha_bar`),
v-prediction and trailing timesteps, so sampling starts from pure noise at t = 999.

diffusers schedulers are stateful (step counters, multistep history): a `Sampler` owns a fresh one, so
make one per reverse process and never share it between threads.

The denoiser always sees x_t in the variance-preserving parameterisation (x_t = alpha x0 + sigma eps).
Euler works on the variance-exploding sample x_t / alpha; `scale_model_input` maps it back before every
model call, and `model_input` below is what any caller that stores x_t (the ESD rollouts) must keep.
"""

from __future__ import annotations

import copy
import functools
import warnings
from typing import Callable

import torch
from diffusers import DDIMScheduler, DPMSolverMultistepScheduler, EulerDiscreteScheduler, UniPCMultistepScheduler
from diffusers.schedulers.scheduling_utils import SchedulerMixin

from ..checks import check_number
from .diffusion import NUM_TRAIN_STEPS

SCHEDULERS = ("ddim", "dpmsolver++", "unipc", "euler")
# The fewest-steps setting within 2 points of 20-step DDIM on the natural prompts (benchmarks/experiments/schedulers.py, shipped
# motionbank_base, all 415 natural prompts, one seed each, 120 frames, guidance 2.5; same noise for every setting):
# DDIM-20 0.525 (SE 0.025); UniPC 12 steps 0.516 (-1.0 points, paired SE 0.8; 15 steps also -1.0); UniPC 10 -2.4;
# DPM-Solver++ 12 -2.2, 15 -1.9;
# DDIM or DPM-Solver++ at 5-10 steps -3.9 to -4.8. 20-step DDIM (today's samples) stays one option away.
DEFAULT_SCHEDULER = "unipc"
DEFAULT_STEPS = 12
MAX_STEPS = 200

# diffusers 0.42's set_timesteps calls np.array(tensor, copy=False) under numpy 2: harmless, but it warns on every call
warnings.filterwarnings("ignore", message="__array__ implementation doesn't accept a copy keyword", category=DeprecationWarning, module="diffusers")

PredictV = Callable[[torch.Tensor, torch.Tensor, int], torch.Tensor]

# Our training schedule in diffusers' terms (shared by every scheduler).
_SCHEDULE = dict(num_train_timesteps=NUM_TRAIN_STEPS, beta_schedule="squaredcos_cap_v2", prediction_type="v_prediction", timestep_spacing="trailing")


def _ddim() -> SchedulerMixin:
    # set_alpha_to_one: the last step lands on the clean sample (alpha_bar = 1), as the hand-written DDIM did;
    # no clipping/thresholding: features are normalised, not bounded in [-1, 1].
    return DDIMScheduler(**_SCHEDULE, set_alpha_to_one=True, clip_sample=False, thresholding=False)


def _dpmsolver() -> SchedulerMixin:
    # 2nd-order multistep in x0 space; the final step goes to sigma = 0 (a clean sample)
    return DPMSolverMultistepScheduler(**_SCHEDULE, algorithm_type="dpmsolver++", solver_order=2, final_sigmas_type="zero")


def _unipc() -> SchedulerMixin:
    return UniPCMultistepScheduler(**_SCHEDULE, solver_order=2, final_sigmas_type="zero")


def _euler() -> SchedulerMixin:
    return EulerDiscreteScheduler(**_SCHEDULE, final_sigmas_type="zero")


_FACTORIES = {"ddim": _ddim, "dpmsolver++": _dpmsolver, "unipc": _unipc, "euler": _euler}
assert tuple(_FACTORIES) == SCHEDULERS


def check_scheduler(name: object) -> str:
    if not isinstance(name, str) or name.strip().lower() not in SCHEDULERS:
        raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}; got {name!r}")
    return name.strip().lower()


def check_steps(steps: object) -> int:
    return check_number(steps, "steps", low=1, high=MAX_STEPS, whole=True)


@functools.lru_cache(maxsize=None)
def _prototype(name: str) -> SchedulerMixin:
    """One never-stepped scheduler per name; copies of it are 3-4x cheaper than building one (diffusers computes
    the 1000 cosine betas in a Python loop). Only ever read (deep-copied), so sharing it between threads is safe."""
    return _FACTORIES[name]()


def make_scheduler(name: str, steps: int) -> SchedulerMixin:
    """A fresh diffusers scheduler (its own state) for our schedule with `steps` inference timesteps set."""
    name, steps = check_scheduler(name), check_steps(steps)
    scheduler = copy.deepcopy(_prototype(name))
    scheduler.set_timesteps(steps)
    return scheduler


class Sampler:
    """One reverse process with a fresh scheduler. Samples live in the scheduler's space (`init`, `step`);
    `model_input` gives the VP x_t the denoiser sees."""

    def __init__(self, scheduler: str = DEFAULT_SCHEDULER, steps: int = DEFAULT_STEPS):
        self.name = check_scheduler(scheduler)
        self.scheduler = make_scheduler(self.name, steps)
        # (steps,) the discrete training timesteps of the model calls (Euler stores them as floats)
        self.timesteps = [int(round(float(t))) for t in self.scheduler.timesteps]

    def init(self, noise: torch.Tensor) -> torch.Tensor:
        """Standard normal noise -> the scheduler's starting sample (Euler: scaled to sigma_max)."""
        return noise * self.scheduler.init_noise_sigma

    def model_input(self, sample: torch.Tensor, index: int) -> torch.Tensor:
        """The scheduler's sample at step `index` -> x_t in the VP parameterisation (identity except Euler)."""
        return self.scheduler.scale_model_input(sample, self.scheduler.timesteps[index])

    def step(self, v: torch.Tensor, index: int, sample: torch.Tensor) -> torch.Tensor:
        """v predicted at step `index` -> the sample at the next step (after the last: the clean x0)."""
        return self.scheduler.step(v, self.scheduler.timesteps[index], sample).prev_sample

    def sample(self, predict_v: PredictV, noise: torch.Tensor) -> torch.Tensor:
        """Run the whole reverse process from `noise` (B, T, D) and return x0 (B, T, D)."""
        x = self.init(noise)
        for i, t in enumerate(self.timesteps):
            tt = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
            x = self.step(predict_v(self.model_input(x, i), tt, i).float(), i, x)
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
