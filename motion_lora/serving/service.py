"""MotionLab: the one object behind the app, the CLIs' adapter handling and the tests.

A thin front over three pieces, each its own module: the adapter library (library.py: loading, ownership, the cap
on visitors' adapters, broken files), the batching sampler (sampling.py, over batching.py's merged batches and
motion_cache.py's LRU) and the base denoiser with its text encoder and the proxy evaluator. What it adds is what
the UI shows: side-by-side generation (one mixed batch, identical noise), strength sweeps, in-app unlearning and
forget/retain evaluation. Adapter selection and scale are module state, so every model access goes through
`self.lock`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..checks import check_number
from ..data.clip import CONCEPT_INDEX
from ..evaluation.protocol import EvalPrompt, Judge, present
from ..model.checkpoints import (AUTO_STUDENT, DATASET_NAME, DEFAULT_BASE, checkpoint_root, resolve_base, resolve_evaluator, resolve_student,
                                 user_adapter_root)
from ..model.denoiser import MotionDenoiser
from ..model.generator import MotionGenerator, SampleOptions, check_prompts
from ..model.sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS
from ..model.text_encoder import TextEncoder
from ..motion.skeleton import FPS
from ..unlearning.adapters import AdapterSet
from ..unlearning.evaluate import EVAL_GUIDANCE, evaluate_sets
from ..unlearning.train import remove_stale_staging, unlearn_to_folder
from ..unlearning.unlearn import TrainEvent, UnlearnConfig
from . import memory, settings
from .batching import Row, steering
from .library import LOCAL_OWNER, SHIPPED, USER, AdapterInfo, AdapterLibrary, NotAllowed, write_owner_record
from .motion_cache import Motion
from .sampling import RowSampler
from .slider_grid import GRID_STRENGTHS, Variant, check_grid, fill_order, steered_rows
from .training import iterate_training

# What callers of the lab import from here: the lab's results, its errors, and the in-app training runner.
__all__ = ["FPS", "GRID_STRENGTHS", "LOCAL_OWNER", "SHIPPED", "USER", "AdapterInfo", "Comparison", "MotionLab",
           "NotAllowed", "Sweep", "Variant", "default_lab", "iterate_training", "seconds_to_frames"]

SWEEP_SCALES = (-0.5, 0.0, 0.5, 1.0, 1.5)
RETAIN_PROBES = ("a person walks forward", "someone jumps up in place")
STRENGTH_LIMIT = 5.0  # |strength| and |weight| the lab accepts (the UI's slider shows less)
DEFAULT_TEXT_CACHE_MB = 16.0  # encoded prompts kept (~700 of visitors' prompts; a training's prompts fit many times)


@dataclass(frozen=True)
class Comparison:
    prompt: str
    seed: int
    frames: int
    adapters: dict[str, float]
    scale: float
    base_joints: np.ndarray  # (T, 22, 3)
    steered_joints: np.ndarray  # (T, 22, 3)
    base_concepts: list[tuple[str, float]]
    steered_concepts: list[tuple[str, float]]
    seconds: float
    base_cached: bool = False  # the base motion came from the cache (same prompt, seed, length and sampling settings)
    options: SampleOptions | None = None  # the sampling settings (steps, guidance, scheduler, ...)
    grid: tuple[Variant, ...] = ()  # steered at the grid strengths a batch had room for and at `scale`, by strength
    sampler: str = ""  # what sampled it (MotionGenerator.describe): the student's few steps or the full sampler

    def at(self, strength: float) -> Comparison | None:
        """This comparison with the steered motion of its grid at `strength`; None when the grid lacks it."""
        for v in self.grid:
            if abs(v.strength - float(strength)) < 1e-9:
                return replace(self, scale=v.strength, steered_joints=v.joints, steered_concepts=v.concepts)
        return None


@dataclass(frozen=True)
class Sweep:
    prompt: str
    adapter: str
    scales: list[float]
    joints: list[np.ndarray]  # one (T, 22, 3) per scale
    presence: list[float]  # evaluator probability of the adapter's concept, per scale
    retain_drift: list[float]  # mean joint distance (m) of retain probes from their base motion, per scale


def seconds_to_frames(seconds: float) -> int:
    return int(4 * round(check_number(seconds, "length (s)") * FPS / 4))


def check_seed(seed) -> int:
    return check_number(seed, "seed", low=0, high=2**31 - 1, whole=True)


def check_scales(scales) -> list[float]:
    """1 to 9 strengths in [-5, 5], as floats."""
    message = f"give 1 to 9 finite scales between {-STRENGTH_LIMIT:g} and {STRENGTH_LIMIT:g}"
    if isinstance(scales, (str, bytes)) or not hasattr(scales, "__len__") or not 1 <= len(scales) <= 9:
        raise ValueError(message)
    try:
        return [float(check_number(s, "scale", low=-STRENGTH_LIMIT, high=STRENGTH_LIMIT)) for s in scales]
    except ValueError:
        raise ValueError(message) from None


def options(frames: int, steps: int, guidance: float, scheduler: str = DEFAULT_SCHEDULER, plant_feet: bool = True, fast: bool = True) -> SampleOptions:
    return SampleOptions(frames=frames, steps=steps, guidance=guidance, scheduler=scheduler, plant_feet=plant_feet, fast=fast).validated()


class MotionLab:
    def __init__(self, base: str = DEFAULT_BASE, device: str = "cpu", user_dir: str | Path | None = None, evaluator: str | None = "evaluator",
                 max_user_adapters: int = settings.DEFAULT_MAX_USER_ADAPTERS, max_user_mb: float = settings.DEFAULT_MAX_USER_MB,
                 max_batch_rows: int = settings.DEFAULT_MAX_BATCH_ROWS, cache_mb: float = settings.DEFAULT_CACHE_MB, shipped_adapters: bool = True,
                 text_cache_mb: float = DEFAULT_TEXT_CACHE_MB, release_s: float = memory.DEFAULT_RELEASE_S,
                 grid_rows: int = settings.DEFAULT_GRID_ROWS, student: str | None = AUTO_STUDENT):
        self.base_name = Path(base).name
        self.device = device
        # visitors' prompts are ever new: the encoder's cache is capped by bytes as well as by count
        # ... and the base's few-step student (checkpoints.resolve_student) serves the default setting
        self.generator = MotionGenerator(resolve_base(base), device=device, text_encoder=TextEncoder(device=device, cache_mb=text_cache_mb),
                                         student=resolve_student(base, student))
        self.adapters = AdapterSet(self.generator.model)
        self.lock = threading.RLock()  # the model and its adapter state
        self.training_lock = threading.Lock()
        self.library = AdapterLibrary(self.adapters, self.lock, base_name=self.base_name, shipped_root=checkpoint_root() / DATASET_NAME,
                                      user_root=Path(user_dir or user_adapter_root()) / DATASET_NAME, shipped=shipped_adapters,
                                      max_user_adapters=max_user_adapters, max_user_mb=max_user_mb)
        self.judge = Judge(resolve_evaluator(evaluator), self.generator.text_encoder, device) if evaluator else None
        # the sampler hands malloc's free memory back after batches (memory.py: why)
        # ... and lets strength grids fill merged batches up to grid_rows rows (slider_grid.py: why)
        self.sampler = RowSampler(self.generator, self.library, self.judge, self.lock, max_rows=max_batch_rows, cache_mb=cache_mb,
                                  releaser=memory.Releaser(release_s), fill_rows=grid_rows)
        remove_stale_staging(self.library.user_root)  # left by a killed training
        self.refresh_adapters()

    # ------------------------------------------------------------------ the pieces' state, as callers read it

    batcher = property(lambda self: self.sampler.batcher)
    releaser = property(lambda self: self.sampler.releaser)
    infos = property(lambda self: self.library.infos)
    load_errors = property(lambda self: self.library.load_errors)
    prefix = property(lambda self: self.library.prefix)
    user_root = property(lambda self: self.library.user_root)
    shipped_root = property(lambda self: self.library.shipped_root)
    max_user_adapters = property(lambda self: self.library.max_user_adapters)
    max_user_bytes = property(lambda self: self.library.max_user_bytes)

    # ------------------------------------------------------------------ adapter library (library.py)

    def refresh_adapters(self) -> list[AdapterInfo]:
        return self.library.refresh()

    def list_adapters(self) -> list[AdapterInfo]:
        return self.library.list()

    def broken_adapters(self) -> list[tuple[Path, str]]:
        return self.library.broken()

    def adapter_name(self, name: str) -> str:
        return self.library.resolve(name)

    def adapter_weights(self, names: list[str] | str, weights: list[float] | None) -> dict[str, float]:
        return self.library.weights(names, weights)

    def owned(self, name: str, owner: str, action: str) -> AdapterInfo:
        return self.library.owned(name, owner, action)

    def delete_adapter(self, name: str, owner: str = LOCAL_OWNER) -> str:
        return self.library.delete(name, owner)

    def user_usage(self) -> tuple[int, int]:
        return self.library.usage()

    # ------------------------------------------------------------------ generation (sampling.py)

    def clear_cache(self) -> None:
        self.sampler.cache.clear()

    def cache_usage(self) -> tuple[int, int]:
        """(motions, bytes) held by the motion cache."""
        return self.sampler.cache.usage()

    def generate_rows(self, rows: list[Row], opts: SampleOptions) -> list[Motion]:
        return self.sampler.generate(rows, opts)

    def concepts(self, normalised: torch.Tensor, k: int = 3) -> list[list[tuple[str, float]]]:
        return self.sampler.concepts(normalised, k=k)

    def _unnormalise(self, normalised: torch.Tensor) -> np.ndarray:
        return self.sampler.unnormalise(normalised)

    def sample_pair(self, prompt: str, seed: int, opts: SampleOptions, weights: dict[str, float], scale: float, start_step: int) -> torch.Tensor:
        """Normalised features (2, T, 263): row 0 base, row 1 steered; one forward per step, same noise.
        (A direct library call: no cache, no merging with other requests.)"""
        opts = opts.validated().with_start_step(start_step)
        rows = [Row(prompt, seed, opts.frames), Row(prompt, seed, opts.frames, steering(weights, scale), int(start_step))]
        with self.lock:
            return self.sampler.sample(rows, opts)

    def steering_weights(self, adapters: list[str] | str, weights: list[float] | None) -> dict[str, float]:
        """{adapter folder name: weight} of a request, each weight a finite number."""
        w = self.adapter_weights(adapters, weights)
        for n, v in w.items():
            check_number(v, f"weight of adapter {n.removeprefix(self.prefix)!r}")
        return w

    def compare(self, prompt: str, adapters: list[str] | str, *, scale: float = 1.0, weights: list[float] | None = None, seed: int = 0, frames: int = 120, steps: int = DEFAULT_STEPS, guidance: float = 2.5, start_step: int = 0,
                scheduler: str = DEFAULT_SCHEDULER, plant_feet: bool = True, fast: bool = True,
                grid: list[float] | tuple[float, ...] = ()) -> Comparison:
        """Base and steered motion from the same noise. Concurrent calls are merged into one batch; the base motion
        is reused from the cache when this prompt, seed, length and sampling settings were generated before, so a
        new strength costs only the steered motion.

        `grid` (e.g. GRID_STRENGTHS): the steered motion also at these strengths, same noise, in the same batch as
        far as it has room (slider_grid.py); `Comparison.grid` holds those computed or cached, and `scale`'s.

        `fast`: the base's few-step student serves the setting it stands for (the defaults); False, or a start
        step (counted in the full sampler's steps), runs the full sampler."""
        prompt = check_prompts([prompt])[0]
        seed = check_seed(seed)
        opts = options(frames, steps, guidance, scheduler, plant_feet, fast)
        start_step = check_number(start_step, "start step", low=0, high=opts.steps, whole=True)
        opts = self.sampler.settled(opts.with_start_step(start_step))  # fast: whether the student serves
        scale = float(check_number(scale, "strength", low=-STRENGTH_LIMIT, high=STRENGTH_LIMIT))
        started = time.perf_counter()
        # Names are resolved without the model lock, so requests queue for the next merged batch while one runs
        # (the adapter library changes only by whole-dict updates under the lock; a request whose adapter goes
        # away before its batch runs fails alone, in RowSampler.execute).
        strengths = [s for s in fill_order(check_grid(grid, STRENGTH_LIMIT), scale) if s != scale] if len(grid) else []
        # (the grid's other strengths, coarse to fine: a busy batch takes a prefix)
        w = self.steering_weights(adapters, weights)
        base = Row(prompt, seed, opts.frames)
        steered = Row(prompt, seed, opts.frames, steering(w, scale), start_step)
        cached = self.sampler.cached(base, opts)
        grid_rows = steered_rows(prompt, seed, opts.frames, w, strengths, start_step)
        b, st, *more = self.sampler.generate([base, steered], opts, grid_rows)
        variants = [Variant(s, m.joints, m.concepts) for s, m in zip(strengths, more) if m is not None]
        if len(grid):
            variants.append(Variant(scale, st.joints, st.concepts))
        variants = tuple(sorted(variants, key=lambda v: v.strength))
        return Comparison(prompt, seed, opts.frames, w, scale, b.joints, st.joints, b.concepts, st.concepts,
                          time.perf_counter() - started, cached, opts, variants, self.generator.describe(opts))

    def warm_up(self, frames: int = 100, steps: int = DEFAULT_STEPS) -> float:
        """Generate once at the app's default size so the first user request does not pay for lazy
        initialisation (thread pools, allocator, kernel selection). Returns the seconds it took."""
        started = time.perf_counter()
        first = self.list_adapters()[:1]
        feats = self.sample_pair("a person walks forward", 0, options(frames, steps, 2.5), {first[0].name: 1.0} if first else {}, 1.0, 0)
        self.concepts(feats)
        return time.perf_counter() - started

    def sweep(self, prompt: str, adapter: str, scales=SWEEP_SCALES, *, seed: int = 0, frames: int = 100, steps: int = DEFAULT_STEPS, guidance: float = 2.5,
              scheduler: str = DEFAULT_SCHEDULER) -> Sweep:
        """The prompt at every strength, and the retain probes' base and steered motions at every strength: all in
        one batched run (base motions from the cache where they are there)."""
        prompt = check_prompts([prompt])[0]
        seed = check_seed(seed)
        opts = options(frames, steps, guidance, scheduler)
        scales = check_scales(scales)
        name = self.adapter_name(adapter)
        info = self.infos.get(name)
        if info is None:
            raise ValueError(f"adapter {adapter!r} was removed meanwhile")
        T, n, m = opts.frames, len(scales), len(RETAIN_PROBES)
        shown = steered_rows(prompt, seed, T, {name: 1.0}, scales)  # the Compare tab's strength grid, as rows
        probe_base = [Row(p, seed, T) for p in RETAIN_PROBES]
        probe_steered = [r for s in scales for p in RETAIN_PROBES for r in steered_rows(p, seed, T, {name: 1.0}, [s])]
        # (the same rows as a grid per probe; listed strength-major, as the drift below reads them)
        out = self.generate_rows(shown + probe_base + probe_steered, opts)
        base_j = [o.joints for o in out[n : n + m]]
        drift = []
        for k in range(n):
            steered_j = [o.joints for o in out[n + m + k * m : n + m + (k + 1) * m]]
            drift.append(float(np.mean([np.linalg.norm(s - b, axis=-1).mean() for s, b in zip(steered_j, base_j)])))  # steered vs base
        presence = [0.0] * n
        if self.judge is not None and info.concept in CONCEPT_INDEX:
            u = self._unnormalise(torch.stack([o.features for o in out[:n]]))
            _, probs = self.judge.score(u, np.full(len(u), u.shape[1]))
            presence = [float(p[CONCEPT_INDEX[info.concept]]) for p in probs]
        return Sweep(prompt, name, scales, [o.joints for o in out[:n]], presence, drift)

    # ------------------------------------------------------------------ unlearning

    def unlearn(self, config: UnlearnConfig, stop: threading.Event, on_event: Callable[[TrainEvent], None] | None = None, *,
                owner: str = LOCAL_OWNER, replace_adapter: str | None = None) -> AdapterInfo | None:
        """Train a new adapter, publish it to the user folder and load it; None when stopped.

        The new adapter gets a free name (`kick`, else `kick-2`, …), so no existing adapter is touched, unless
        `replace_adapter` names one that `owner` made (retraining it; shipped and others' adapters are refused
        before any work). Afterwards the cap evicts the oldest user adapters; their names are in `.evicted`.
        Training runs on a private copy of the base model, so generation keeps serving meanwhile; only
        loading the finished adapter takes the model lock. One training at a time per lab.
        """
        config = config.validated()
        if replace_adapter:
            self.owned(replace_adapter, owner, "retrain")  # refuse before the lock: no waiting for a no
        with self.training_lock:
            name = self.owned(replace_adapter, owner, "retrain").name if replace_adapter else self.library.free_name(config.concept)
            trainee = AdapterSet(MotionDenoiser.load(self.generator.checkpoint, self.device))
            out = unlearn_to_folder(
                base_name=str(self.generator.checkpoint), config=config, out_root=self.user_root.parent, device=self.device,
                stop=stop, on_event=on_event, adapters=trainee, text_encoder=self.generator.text_encoder, folder_name=name,
                before_publish=lambda staging: write_owner_record(staging, owner),
            )  # the ownership record is published with the adapter: a full disk cannot leave one without the other
            return None if out is None else self.library.publish(name, out)

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, adapter: str, *, per_kind: int = 16, per_concept: int = 4, natural_forget: int | None = None, natural_per_concept: int | None = 4, repeats: int = 3, steps: int = DEFAULT_STEPS, frames: int = 120, progress: Callable[[float, str], None] | None = None, scheduler: str = DEFAULT_SCHEDULER) -> dict:
        """Base vs adapter on the forget and retain sets (`unlearning.evaluate.evaluate_sets`, the CLIs' protocol)
        with this lab's generation: metrics with 95% intervals."""
        if self.judge is None:
            raise ValueError("evaluation needs the evaluator checkpoint")
        with self.lock:
            name = self.adapter_name(adapter)
            concept = self.infos[name].concept
            preserved = tuple(self.infos[name].meta.get("retain_prompts") or ())
        return evaluate_sets(self.generate_set, self.judge, name, concept, options(frames, steps, EVAL_GUIDANCE, scheduler), preserved=preserved,
                             per_kind=per_kind, per_concept=per_concept, natural_forget=natural_forget, natural_per_concept=natural_per_concept,
                             repeats=repeats, progress=progress)

    def generate_set(self, prompts: list[EvalPrompt], weights: dict[str, float], scale: float, opts: SampleOptions, seed: int = 0, batch: int = 16) -> np.ndarray:
        """Unnormalised features (N, T, 263) for evaluation prompts under an adapter mix; prompt i uses seed + i."""
        out = []
        for i in range(0, len(prompts), batch):
            chunk = prompts[i : i + batch]
            with self.lock, self.adapters.using(weights, scale) as model:
                denoise = lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L)  # noqa: E731
                out.append(self.generator.sample([p.text for p in chunk], [seed + i + j for j in range(len(chunk))], opts, denoise=denoise))
        return self._unnormalise(torch.cat(out))

    def presence(self, prompts: list[EvalPrompt], weights: dict[str, float], scale: float = 1.0, *, steps: int = DEFAULT_STEPS, frames: int = 120, seed: int = 0) -> np.ndarray:
        """(N,) bool: is each prompt's concept present in its motion under this adapter mix (evaluator)."""
        if self.judge is None:
            raise ValueError("presence needs the evaluator checkpoint")
        feats = self.generate_set(prompts, weights, scale, options(frames, steps, EVAL_GUIDANCE), seed)
        _, probs = self.judge.score(feats, np.full(len(feats), feats.shape[1]))
        return present(probs, prompts)


def default_lab(**kwargs) -> MotionLab:
    """The lab the app uses, configured by the MOTION_LORA_* switches (settings.py: a bad value is a ValueError
    naming it). A serving process: torch's threads are set first (MOTION_LORA_THREADS), and malloc keeps at most
    memory.DEFAULT_ARENAS heaps (set before the server's threads start)."""
    s = settings.read_all()
    settings.apply_thread_setting()
    memory.limit_arenas()
    return MotionLab(base=s["MOTION_LORA_BASE"], user_dir=user_adapter_root(), max_user_adapters=s["MOTION_LORA_MAX_USER_ADAPTERS"],
                     max_user_mb=s["MOTION_LORA_MAX_USER_MB"], max_batch_rows=s["MOTION_LORA_MAX_BATCH_ROWS"],
                     cache_mb=s["MOTION_LORA_CACHE_MB"], release_s=s["MOTION_LORA_RELEASE_S"],
                     grid_rows=s["MOTION_LORA_GRID_ROWS"], student=s["MOTION_LORA_STUDENT"], **kwargs)

