"""Text -> motion with a trained denoiser: load once, then sample batches of (prompt, seed) pairs.

Classifier-free guidance runs the conditional and unconditional rows in one forward pass. Noise depends
only on the seed, so two calls with the same seed (e.g. base and LoRA-steered) start from the same noise.
"""

from __future__ import annotations

import dataclasses
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..checks import check_number
from ..motion.features import denormalize, recover_joints
from .autoencoder import AE_DIR, MotionAutoencoder, latent_lengths
from .checkpoints import resolve_base
from .denoiser import MotionDenoiser
from .diffusion import Schedule
from .foot_contact import plant_feet
from .sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS, Sampler, check_scheduler, check_steps, seeded_noise
from .student import read_student
from .text_encoder import TextEncoder

MIN_FRAMES, MAX_FRAMES = 20, 196
MAX_PROMPT_CHARS = 300
DEFAULT_GUIDANCE = 2.5
MAX_GUIDANCE = 20.0

# (x_t, t, tokens, mask, pooled, lengths, step_index) -> v; lets callers swap adapters per step
DenoiseFn = Callable[..., torch.Tensor]


@dataclasses.dataclass(frozen=True, kw_only=True)
class SampleOptions:
    frames: int = 120
    steps: int = DEFAULT_STEPS
    guidance: float = DEFAULT_GUIDANCE
    scheduler: str = DEFAULT_SCHEDULER  # one of sampler.SCHEDULERS
    plant_feet: bool = True  # foot_contact.plant_feet on the result; False gives the raw model output
    fast: bool = True  # let a few-step student serve the setting it stands for (False: always the full sampler)

    def validated(self) -> "SampleOptions":
        """Check ranges; frames are rounded to the nearest multiple of the 4-frame patch."""
        frames = check_number(self.frames, "frames", low=MIN_FRAMES, high=MAX_FRAMES)  # 1 to 9.8 s at 20 fps
        steps = check_steps(self.steps)
        guidance = check_number(self.guidance, "guidance", low=0.0, high=MAX_GUIDANCE)
        for flag in ("plant_feet", "fast"):
            if not isinstance(getattr(self, flag), bool):
                raise ValueError(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        return SampleOptions(frames=int(4 * round(frames / 4)), steps=steps, guidance=float(guidance),
                             scheduler=check_scheduler(self.scheduler), plant_feet=self.plant_feet, fast=self.fast)

    def with_start_step(self, start_step: int) -> "SampleOptions":
        """A start step counts the full sampler's steps, so a request with one is never the few-step student's."""
        return dataclasses.replace(self, fast=self.fast and int(start_step) == 0)


def check_prompts(prompts) -> list[str]:
    if isinstance(prompts, str) or not isinstance(prompts, (list, tuple)):
        raise ValueError("prompts must be a list of strings")
    if not prompts:
        raise ValueError("give at least one prompt")
    out = []
    for p in prompts:
        if not isinstance(p, str):
            raise ValueError(f"a prompt must be text, got {type(p).__name__}")
        p = " ".join("".join(ch for ch in p if ch.isprintable() or ch.isspace()).split())  # no control characters
        if not p:
            raise ValueError("the prompt is empty: describe a motion, e.g. 'a person kicks with the right leg'")
        if len(p) > MAX_PROMPT_CHARS:
            raise ValueError(f"the prompt is too long ({len(p)} characters; at most {MAX_PROMPT_CHARS})")
        out.append(p)
    return out


class MotionGenerator:
    """A denoiser checkpoint + text encoder + normaliser, ready to sample.

    With a few-step student (`student=` its folder, or a student folder as the checkpoint) the generator holds two
    weight sets for one module: the student's serves the setting it was distilled for, the teacher's every other
    one. Adapters wrap that one module, so the same adapter steers both (they are trained on the teacher; a student
    initialised from it keeps the parametrisation they act on). Swapping weights mutates the module: callers that
    share a generator across threads hold one lock around `sample` (MotionLab does).
    """

    def __init__(self, checkpoint: str | Path, device: str = "cpu", text_encoder: TextEncoder | None = None,
                 student: str | Path | None = None):
        checkpoint = Path(checkpoint)
        self.checkpoint = checkpoint
        self.device = torch.device(device)
        self.model = MotionDenoiser.load(checkpoint, self.device)
        self.model.requires_grad_(False)
        self.mean = np.load(checkpoint / "Mean.npy", allow_pickle=False)
        self.std = np.load(checkpoint / "Std.npy", allow_pickle=False)
        self.text_encoder = text_encoder or TextEncoder(device=self.device)
        self.schedule = Schedule()
        # The module's own parameters, by name, captured before adapters wrap it (PEFT keeps these objects)
        self._params = dict(self.model.named_parameters())
        self.student = read_student(checkpoint)  # the spec of the student, whichever weight set is loaded
        self.loaded_is_student = self.student is not None
        self._other: dict[str, torch.Tensor] | None = None  # the other weight set, swapped in when it serves
        self._other_folder = None if self.student is None else resolve_base(self.student.teacher)
        if student is not None:
            if self.student is not None:
                raise ValueError(f"{checkpoint} is a student already: give its teacher as the checkpoint")
            spec = read_student(student)
            if spec is None:
                raise ValueError(f"{student} is not a few-step student (no student.json)")
            if Path(spec.teacher).name != checkpoint.name:
                raise ValueError(f"{Path(student).name} was distilled from {spec.teacher!r}, not from {checkpoint.name!r}")
            self.student, self._other_folder = spec, Path(student)
            self._other = self._weights_of(self._other_folder)  # the default setting's path: load it now
        # a latent checkpoint (pretrain --latent) carries its autoencoder: sample latents, then decode
        ae_dir = checkpoint / AE_DIR
        self.autoencoder = MotionAutoencoder.load(ae_dir, self.device) if ae_dir.is_dir() else None

    @property
    def stride(self) -> int:
        """Motion frames per frame the denoiser samples (4 on a latent checkpoint, else 1)."""
        return self.autoencoder.cfg.stride if self.autoencoder is not None else 1

    def noise(self, seeds: list[int], frames: int) -> torch.Tensor:
        """The starting noise (B, frames / stride, D) of a `frames`-long sample, in the space the denoiser samples;
        a seed's noise is the same at any length."""
        s = self.stride
        return seeded_noise(seeds, frames // s, self.model.cfg.feature_dim, MAX_FRAMES // s).to(self.device)

    def encode(self, prompts: list[str]):
        """Conditional rows for the prompts followed by as many unconditional rows."""
        text = self.text_encoder.encode(prompts)
        tokens = text.tokens.repeat(2, 1, 1)
        mask = torch.cat([text.mask, torch.zeros_like(text.mask)])
        pooled = torch.cat([text.pooled, torch.zeros_like(text.pooled)])
        return tokens, mask, pooled

    def default_denoise(self, x, t, tokens, mask, pooled, lengths, step_index):
        return self.model(x, t, tokens, mask, pooled, lengths)

    @torch.no_grad()
    def sample(self, prompts: list[str], seeds: list[int], options: SampleOptions = SampleOptions(), denoise: DenoiseFn | None = None,
               lengths: list[int] | None = None, decode: bool = True) -> torch.Tensor:
        """Normalised features (B, frames, 263) for prompts[i] with seeds[i].

        `lengths` (each <= frames) gives rows their own valid length; frames past it are padding. decode=False
        returns what the denoiser sampled (B, frames / stride, D), before decoding and planting (distillation).
        """
        prompts = check_prompts(prompts)
        opts = options.validated()
        if len(seeds) != len(prompts):
            raise ValueError(f"need one seed per prompt, got {len(seeds)} seeds for {len(prompts)} prompts")
        denoise = denoise or self.default_denoise
        B = len(prompts)
        tokens, mask, pooled = self.encode(prompts)
        if lengths is None:
            lengths = [opts.frames] * B
        if len(lengths) != B or not all(MIN_FRAMES <= n <= opts.frames for n in lengths):
            raise ValueError(f"need one length per prompt, each between {MIN_FRAMES} and {opts.frames}")
        lengths = torch.tensor(list(lengths) * 2, device=self.device)
        frame_lengths = lengths[:B]
        noise = self.noise(seeds, opts.frames)
        lengths = latent_lengths(lengths, self.stride)  # the denoiser's frames
        g, sampler = opts.guidance, Sampler(opts.scheduler, opts.steps)  # a fresh scheduler per call: thread-safe
        by_student = self.serves_with_student(opts)
        if by_student:
            g, sampler = 1.0, Sampler(self.student.scheduler, self.student.steps)  # guidance baked in: one branch

        def predict_v(x, t, i):
            if g == 1.0:  # the conditional path alone
                return denoise(x, t, tokens[:B], mask[:B], pooled[:B], lengths[:B], i)
            v = denoise(torch.cat([x, x]), torch.cat([t, t]), tokens, mask, pooled, lengths, i)
            v_c, v_u = v[:B], v[B:]
            return v_u + g * (v_c - v_u)

        with self._weights(student=by_student):
            out = sampler.sample(predict_v, noise)
        if not decode:
            return out
        if self.autoencoder is not None:
            out = self.autoencoder.decode(out)  # (B, frames, 263)
        return self.plant(out, frame_lengths) if opts.plant_feet else out

    def serves_with_student(self, options: SampleOptions) -> bool:
        """Will the few-step student sample these (validated) settings? Only the one it stands for, when asked fast."""
        return (self.student is not None and options.fast
                and self.student.stands_for(options.scheduler, options.steps, options.guidance))

    def describe(self, options: SampleOptions) -> str:
        """What samples these (validated) settings, in words for a summary."""
        full = f"{options.scheduler} {options.steps} steps, guidance {options.guidance:g}"
        if not self.serves_with_student(options):
            return full
        return f"few-step student: {self.student.scheduler} {self.student.steps} steps (stands for {full})"

    def _weights_of(self, folder: Path) -> dict[str, torch.Tensor]:
        """A checkpoint's parameters keyed like this generator's module; it must be the same architecture."""
        other = MotionDenoiser.load(folder, self.device)
        if dataclasses.replace(other.cfg, dropout=self.model.cfg.dropout) != self.model.cfg:  # dropout: training only
            raise ValueError(f"{folder.name} and {self.checkpoint.name} are different architectures: one cannot stand for the other")
        return {name: p.detach() for name, p in other.named_parameters()}

    @contextmanager
    def _weights(self, *, student: bool):
        """The module with the student's (student=True) or the teacher's weights for the duration."""
        if student == self.loaded_is_student:
            yield
            return
        if self._other is None:  # a student checkpoint's teacher, loaded the first time another setting is asked
            self._other = self._weights_of(self._other_folder)
        self._swap()
        try:
            yield
        finally:
            self._swap()

    def _swap(self) -> None:
        with torch.no_grad():
            for name, other in self._other.items():
                param = self._params[name]
                param.data, self._other[name] = other, param.data

    def plant(self, normalised: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """foot_contact.plant_feet on normalised features (B, T, 263) whose rows are `lengths` long; in float64."""
        mean, std = (torch.as_tensor(a, dtype=torch.float64, device=normalised.device) for a in (self.mean, self.std))
        valid = None if lengths is None else torch.arange(normalised.shape[1], device=normalised.device) < lengths[:, None]
        planted = plant_feet(normalised.double() * std + mean, valid)
        return ((planted - mean) / std).to(normalised.dtype)

    def to_joints(self, normalised: torch.Tensor) -> np.ndarray:
        """(..., T, 263) normalised features -> (..., T, 22, 3) joints in metres."""
        return recover_joints(denormalize(normalised.cpu().numpy().astype(np.float64), self.mean, self.std)).astype(np.float32)

    def generate(self, prompts: list[str], seeds: list[int], options: SampleOptions = SampleOptions(), denoise: DenoiseFn | None = None) -> np.ndarray:
        """Joints (B, frames, 22, 3) for prompts[i] with seeds[i]."""
        return self.to_joints(self.sample(prompts, seeds, options, denoise))
