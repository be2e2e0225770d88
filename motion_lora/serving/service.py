"""MotionLab: the one object behind the app, the CLIs' adapter handling and the tests.

It holds the base denoiser with every adapter found on disk, the text encoder and the proxy evaluator, and
offers what the UI shows: side-by-side generation (one mixed batch, identical noise), strength sweeps,
in-app unlearning and forget/retain evaluation. Adapter selection and scale are module state, so every
model access goes through `self.lock`.

Adapter library: the shipped adapters (checkpoints/t2m/<base>_LoRA_<concept>) are read-only. Adapters trained
here go to a separate user folder with an ownership record (`owner.json`: a hash of the owner's id and the
creation time); a training never replaces an adapter it did not create (a new one gets a free name such as
`kick-2`), only the owner may delete or retrain one, and a cap on the number and bytes of user adapters
evicts the oldest user adapters first.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import math
import os
import shutil
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from ..data.clip import CONCEPT_INDEX
from ..evaluation import kinematic_judge
from ..evaluation.protocol import EvalPrompt, Judge, present, prompt_sets, set_metrics
from ..model.checkpoints import (
    DATASET_NAME,
    DEFAULT_BASE,
    check_name,
    checkpoint_root,
    read_json,
    resolve_base,
    resolve_evaluator,
    user_adapter_root,
)
from ..model.denoiser import MotionDenoiser
from ..model.generator import MotionGenerator, SampleOptions, check_prompts
from ..model.sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS
from ..model.text_encoder import TextEncoder
from ..motion.skeleton import FPS
from ..unlearning.adapters import AdapterSet
from ..unlearning.train import adapter_folder_name, remove_stale_staging, unlearn_to_folder
from ..unlearning.unlearn import TrainEvent, UnlearnConfig
from . import memory
from .batching import Batcher, Job, Row, RowScaledLora, steering

MAX_ADAPTERS_COMBINED = 4
SWEEP_SCALES = (-0.5, 0.0, 0.5, 1.0, 1.5)
RETAIN_PROBES = ("a person walks forward", "someone jumps up in place")
OWNER_FILE = "owner.json"  # in a user adapter's folder: who made it and when
LOCAL_OWNER = "local"  # the owner id of library / CLI callers (not a web visitor)
DEFAULT_MAX_USER_ADAPTERS = 20
DEFAULT_MAX_USER_MB = 200.0
DEFAULT_MAX_BATCH_ROWS = 32  # motions denoised in one merged batch (a side-by-side is 2, 1 when its base is cached)
DEFAULT_TRAINING_NICE = 10  # how much an in-app training lowers its thread's CPU priority (MOTION_LORA_TRAINING_NICE; 0 = not)
DEFAULT_CACHE_MB = 64.0  # generated motions kept, by size (base ones for the live slider; 0.26 MB per full-length motion)
DEFAULT_TEXT_CACHE_MB = 16.0  # encoded prompts kept (~700 of visitors' prompts; a training's prompts fit many times)
SHIPPED, USER = "shipped", "user"
logger = logging.getLogger(__name__)


class NotAllowed(ValueError):
    """A request to change an adapter the caller may not change (a shipped one, or another visitor's)."""


def owner_key(owner: str) -> str:
    """What the ownership record stores: a hash, so the files never hold a visitor's session id or name."""
    return hashlib.sha256(f"motion-lora-owner:{owner}".encode()).hexdigest()[:32]


def meta_problem(meta) -> str | None:
    """What makes a parsed adapter.json unusable to the lab, or None. It must be an object naming its concept (the
    pickers, aliases and evaluation need it); evaluation and the training summary also read the retain prompts and
    the preservation weight, so those must have their types where present."""
    if not isinstance(meta, dict):
        return "is not a JSON object"
    retain, weight = meta.get("retain_prompts"), meta.get("preserve_weight")
    if not isinstance(meta.get("concept"), str) or not meta["concept"].strip():
        return "names no concept"
    if retain is not None and not (isinstance(retain, list) and all(isinstance(p, str) for p in retain)):
        return "has retain_prompts that are not a list of prompts"
    if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))):
        return "has a preserve_weight that is not a number"
    return None


def read_adapter_meta(path: Path) -> dict:
    """An adapter.json the lab can use; otherwise a ValueError naming the file and what is wrong with it."""
    meta = read_json(path)
    problem = meta_problem(meta)
    if problem:
        raise ValueError(f"{path} {problem}; restore it or retrain")
    return meta


def write_owner_record(folder: Path, owner: str) -> None:
    """The ownership record of a user adapter: who made it (hashed) and when."""
    (folder / OWNER_FILE).write_text(json.dumps({"owner": owner_key(owner), "created": time.time(), "via": "MotionLab.unlearn"}) + "\n")


def broken_reason(err: Exception, folder: Path) -> str:
    """Why an adapter folder did not load, as shown to visitors: the error's message with the folder's own path
    left out (its files named relative to it), so the server's directory layout is not shown."""
    return (str(err) or type(err).__name__).replace(f"{folder}{os.sep}", "").replace(str(folder), folder.name)


@dataclass(frozen=True)
class AdapterInfo:
    name: str  # folder name, e.g. motionbank_base_LoRA_kick or motionbank_base_LoRA_kick-2
    concept: str
    path: Path
    meta: dict = field(default_factory=dict, compare=False)
    origin: str = SHIPPED  # SHIPPED (read-only) or USER (trained in the app, has an owner)
    owner: str | None = None  # owner_key of its creator; None for shipped adapters and lost records
    created: float | None = None  # unix time the app published it
    evicted: tuple[str, ...] = field(default=(), compare=False)  # set on a fresh training's result: what the cap removed

    @property
    def short(self) -> str:
        """The name without the base prefix: 'kick', 'kick-2' (what pickers and the API use)."""
        return self.name.split("_LoRA_", 1)[-1]

    @property
    def label(self) -> str:
        return self.short

    def made_by(self, owner: str | None) -> str:
        """'shipped', 'this session' (the caller made it) or 'another visitor'."""
        if self.origin == SHIPPED:
            return "shipped"
        return "this session" if owner is not None and self.owner == owner_key(owner) else "another visitor"

    def describe(self) -> str:
        m = self.meta
        return f"{self.concept}: rank {m.get('rank')}, alpha {m.get('alpha')}, targets {m.get('targets')}, eta {m.get('negative_guidance')}, {m.get('iterations')} iterations"


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


@dataclass
class Motion:
    """One generated motion: normalised features (T, 263), joints (T, 22, 3), the evaluator's top concepts."""

    features: torch.Tensor
    joints: np.ndarray
    concepts: list[tuple[str, float]]
    epoch: int = 0  # MotionLab._adapter_epoch when it was generated (steered motions are stale after any adapter change)


@dataclass(frozen=True)
class Sweep:
    prompt: str
    adapter: str
    scales: list[float]
    joints: list[np.ndarray]  # one (T, 22, 3) per scale
    presence: list[float]  # evaluator probability of the adapter's concept, per scale
    retain_drift: list[float]  # mean joint distance (m) of retain probes from their base motion, per scale


def motion_bytes(motion: Motion) -> int:
    return motion.features.numel() * motion.features.element_size() + motion.joints.nbytes


def seconds_to_frames(seconds: float) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        raise ValueError(f"length must be a number of seconds, got {seconds!r}")
    return int(4 * round(seconds * FPS / 4))


def check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, float)) or not math.isfinite(seed) or int(seed) != seed or not 0 <= seed < 2**31:
        raise ValueError(f"seed must be a whole number between 0 and {2**31 - 1}, got {seed!r}")
    return int(seed)


class MotionLab:
    def __init__(self, base: str = DEFAULT_BASE, device: str = "cpu", user_dir: str | Path | None = None, evaluator: str | None = "evaluator",
                 max_user_adapters: int = DEFAULT_MAX_USER_ADAPTERS, max_user_mb: float = DEFAULT_MAX_USER_MB,
                 max_batch_rows: int = DEFAULT_MAX_BATCH_ROWS, cache_mb: float = DEFAULT_CACHE_MB, shipped_adapters: bool = True,
                 text_cache_mb: float = DEFAULT_TEXT_CACHE_MB, release_s: float = memory.DEFAULT_RELEASE_S):
        self.base_name = Path(base).name
        self.device = device
        # visitors' prompts are ever new: the encoder's cache is capped by bytes as well as by count
        self.generator = MotionGenerator(resolve_base(base), device=device, text_encoder=TextEncoder(device=device, cache_mb=text_cache_mb))
        self.releaser = memory.Releaser(release_s)  # hands malloc's free memory back after batches (memory.py: why)
        self.adapters = AdapterSet(self.generator.model)
        self.lock = threading.RLock()  # the model and its adapter state
        self.rows = RowScaledLora(self.adapters)  # per-row adapter factors for merged batches
        if isinstance(max_batch_rows, bool) or not isinstance(max_batch_rows, int) or max_batch_rows < 2:
            raise ValueError(f"a merged batch must hold at least 2 motions (one side-by-side), got {max_batch_rows!r}")
        self.batcher = Batcher(self._execute, self.lock, max_rows=max_batch_rows)
        if isinstance(cache_mb, bool) or not isinstance(cache_mb, (int, float)) or not math.isfinite(cache_mb) or cache_mb < 0:
            raise ValueError(f"the motion cache size must be a number of MB >= 0, got {cache_mb!r}")
        self._cache: OrderedDict[tuple, Motion] = OrderedDict()  # row key -> motion (LRU)
        self._cache_bytes, self._cache_limit = 0, int(cache_mb * 2**20)
        self._adapter_epoch = 0  # counts adapter loads and unloads: part of a steered motion's cache key
        self._cache_lock = threading.Lock()
        self.training_lock = threading.Lock()
        self.shipped_root = checkpoint_root() / DATASET_NAME
        self.shipped_adapters = shipped_adapters  # False: only the user root's adapters (evaluating results elsewhere)
        self.user_root = Path(user_dir or user_adapter_root()) / DATASET_NAME
        if max_user_adapters < 1 or not max_user_mb > 0:
            raise ValueError(f"the user adapter cap must allow at least one adapter, got {max_user_adapters} adapters / {max_user_mb} MB")
        self.max_user_adapters, self.max_user_bytes = int(max_user_adapters), float(max_user_mb) * 2**20
        self.infos: dict[str, AdapterInfo] = {}
        self.load_errors: dict[str, str] = {}
        self.judge = Judge(resolve_evaluator(evaluator), self.generator.text_encoder, device) if evaluator else None
        remove_stale_staging(self.user_root)  # left by a killed training
        self.refresh_adapters()

    # ------------------------------------------------------------------ adapter library

    @property
    def prefix(self) -> str:
        return f"{self.base_name}_LoRA_"

    def _folders(self, root: Path) -> list[Path]:
        if not root.is_dir():
            return []
        return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith(self.prefix))

    def _candidates(self) -> list[Path]:
        roots = [self.shipped_root, self.user_root] if self.shipped_adapters else [self.user_root]
        return [f for root in dict.fromkeys(roots) for f in self._folders(root)]

    def refresh_adapters(self) -> list[AdapterInfo]:
        """Load adapter folders that appeared on disk; forget ones that were removed; skip (and remember) broken ones."""
        with self.lock:
            present_names = set()
            for folder in self._candidates():
                present_names.add(folder.name)
                if folder.name not in self.infos and folder.name not in self.load_errors:
                    self._load_adapter(folder)
            for gone in [n for n in self.infos if n not in present_names]:
                self._unload(gone)
            for gone in [n for n in self.load_errors if n not in present_names]:
                del self.load_errors[gone]  # a broken folder that was removed is tried afresh if it comes back
            return self.list_adapters()

    def _ownership(self, folder: Path) -> tuple[str, str | None, float | None]:
        """(origin, owner key, created) of an adapter folder. A folder with an ownership record, or any folder in a
        separate user root, is a user adapter; everything else in the checkpoint root is shipped (read-only)."""
        record = folder / OWNER_FILE
        if record.is_file():
            try:
                data = read_json(record)
                return USER, str(data.get("owner")), float(data.get("created"))
            except (ValueError, TypeError, AttributeError):
                pass  # a damaged record (not JSON, not an object, no time): still a user adapter, with no owner who could claim it
        if folder.parent != self.shipped_root:
            return USER, None, folder.stat().st_mtime
        return SHIPPED, None, None

    def _load_adapter(self, folder: Path) -> None:
        """Load one adapter folder; a broken one is remembered in load_errors (with the reason, logged once) and
        skipped, never fatal."""
        try:
            meta = read_adapter_meta(folder / "adapter.json")
            origin, owner, created = self._ownership(folder)
            self._adapter_epoch += 1
            self.adapters.load(folder.name, folder / "model")
            self.infos[folder.name] = AdapterInfo(folder.name, meta["concept"], folder, meta, origin, owner, created)
        except Exception as err:  # corrupt json or weights, truncated files, wrong shapes: the rest keeps serving
            if folder.name in self.adapters.specs:
                self.adapters.delete(folder.name)
            self.load_errors[folder.name] = broken_reason(err, folder)
            logger.warning("skipped the broken adapter %s: %s", folder, self.load_errors[folder.name])

    def _unload(self, name: str) -> None:
        self._adapter_epoch += 1
        if name in self.adapters.specs:
            self.adapters.delete(name)
        self.infos.pop(name, None)
        self.load_errors.pop(name, None)

    def list_adapters(self) -> list[AdapterInfo]:
        """Shipped adapters first (by name), then user adapters, oldest first."""
        return sorted(self.infos.values(), key=lambda i: (i.origin != SHIPPED, i.created or 0.0, i.name))

    def broken_adapters(self) -> list[tuple[Path, str]]:
        """(folder, reason) of every adapter folder on disk that did not load (as of the last refresh), by name."""
        return [(f, self.load_errors[f.name]) for f in self._candidates() if f.name in self.load_errors]

    def adapter_name(self, name: str) -> str:
        """A folder name ('motionbank_base_LoRA_kick-2'), a short name ('kick-2') or a concept alias ('kick':
        the shipped adapter of that concept, else the oldest user one) -> the loaded adapter's folder name."""
        if not isinstance(name, str) or not name.strip():
            raise ValueError("choose an adapter")
        name = name.strip()
        if name in self.infos:
            return name
        check_name(name, "adapter")
        if self.prefix + name in self.infos:
            return self.prefix + name
        by_concept = [i.name for i in self.list_adapters() if i.concept == name]
        if by_concept:
            return by_concept[0]
        for folder, err in list(self.load_errors.items()):
            if name in (folder, folder.removeprefix(self.prefix)):
                raise ValueError(f"adapter {folder!r} is broken and was not loaded ({err})")
        known = ", ".join(i.short for i in self.list_adapters()) or "none"
        raise ValueError(f"unknown adapter {name!r}; available: {known}")

    def _free_name(self, concept: str) -> str:
        """The adapter folder name for a new training: <base>_LoRA_<concept>, or -2, -3, … when that is taken in
        either root (so a training never lands on an existing adapter)."""
        stem = adapter_folder_name(self.base_name, concept)
        taken = set(self.infos) | set(self.load_errors)
        for root in (self.shipped_root, self.user_root):
            if root.is_dir():
                taken |= {p.name for p in root.iterdir()}
        for k in itertools.chain([None], itertools.count(2)):
            name = stem if k is None else f"{stem}-{k}"
            if name not in taken and f".{name}.old" not in taken:
                return check_name(name, "adapter")
        raise AssertionError("unreachable")

    def owned(self, name: str, owner: str, action: str) -> AdapterInfo:
        """The user adapter `name` if `owner` made it, else NotAllowed naming why."""
        with self.lock:
            info = self.infos.get(self.adapter_name(name))
        if info is None:
            raise ValueError(f"unknown adapter {name!r}")
        if info.origin == SHIPPED:
            raise NotAllowed(f"cannot {action} {info.short!r}: shipped adapters are read-only; train a new one instead")
        if info.owner != owner_key(owner):
            raise NotAllowed(f"cannot {action} {info.short!r}: it belongs to another visitor; only its creator can {action} it")
        return info

    def delete_adapter(self, name: str, owner: str = LOCAL_OWNER) -> str:
        """Delete a user adapter its owner made; returns the folder name. Shipped and others' adapters are refused."""
        with self.lock:
            info = self.owned(name, owner, "delete")
            self._remove(info.name, info.path)
        return info.name

    def _remove(self, name: str, path: Path) -> None:
        """Unload and delete an adapter folder; it is first renamed to a staging name, so a crash mid-delete
        leaves something remove_stale_staging cleans up, never a half-deleted adapter that still lists."""
        self._unload(name)
        doomed = path.with_name(f".{path.name}.partial-{os.getpid()}-{threading.get_ident()}")
        os.replace(path, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    def user_usage(self) -> tuple[int, int]:
        """(number, bytes) of the user adapters on disk."""
        items = self._user_folders()
        return len(items), sum(size for _, _, size in items)

    def _user_folders(self) -> list[tuple[float, Path, int]]:
        """(created, folder, bytes) of every user adapter folder on disk, loaded or broken, oldest first."""
        out = []
        for folder in self._folders(self.user_root):
            origin, _, created = self._ownership(folder)
            if origin == USER:
                size = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
                out.append((created or 0.0, folder, size))
        return sorted(out, key=lambda t: (t[0], t[1].name))

    def _enforce_cap(self, keep: str) -> list[str]:
        """Evict the oldest user adapters (never shipped ones, never `keep`) until the count and byte caps hold."""
        items = self._user_folders()
        count, total = len(items), sum(size for _, _, size in items)
        evicted = []
        for _, folder, size in items:
            if count <= self.max_user_adapters and total <= self.max_user_bytes:
                break
            if folder.name == keep:
                continue
            self._remove(folder.name, folder)
            count, total = count - 1, total - size
            evicted.append(folder.name)
        return evicted

    def adapter_weights(self, names: list[str], weights: list[float] | None) -> dict[str, float]:
        if isinstance(names, str):
            names = [n for n in names.split(",") if n.strip()]
        if len(names) > MAX_ADAPTERS_COMBINED:
            raise ValueError(f"combine at most {MAX_ADAPTERS_COMBINED} adapters")
        if weights is not None and len(weights) != len(names):
            raise ValueError(f"got {len(weights)} weights for {len(names)} adapters")
        resolved = [self.adapter_name(n) for n in names]
        return {n: float(w) for n, w in zip(resolved, weights or [1.0] * len(resolved))}

    # ------------------------------------------------------------------ generation

    def _options(self, frames: int, steps: int, guidance: float, scheduler: str = DEFAULT_SCHEDULER, plant_feet: bool = True) -> SampleOptions:
        return SampleOptions(frames=frames, steps=steps, guidance=guidance, scheduler=scheduler, plant_feet=plant_feet).validated()

    # Generation runs on rows (motion_lora.serving.batching): each motion of a request is a Row with its own prompt,
    # seed, length and adapter factors; requests that share the sampling settings are merged into one batch by
    # self.batcher. Generated rows are cached by prompt, seed, length, sampling settings and base checkpoint
    # (steered rows also by their adapter factors, start step and the adapter epoch), so a new strength for the
    # same motion re-runs only the steered row, and a repeated request is answered with the very same motions.

    @staticmethod
    def _batch_key(opts: SampleOptions) -> SampleOptions:
        """What every row of a merged batch must share: the sampling settings except the length."""
        return replace(opts, frames=0)

    def _row_key(self, row: Row, opts: SampleOptions, epoch: int | None = None) -> tuple:
        """Cache key of a row: prompt, seed, length, sampling settings (steps, guidance, scheduler) and
        base checkpoint; a steered row adds its adapter factors, start step and the adapter epoch (a retrained
        adapter keeps its name but not its weights)."""
        key = (str(self.generator.checkpoint), row.prompt, row.seed, replace(opts, frames=row.frames))
        if row.steer:
            key += (row.steer, row.start_step, self._adapter_epoch if epoch is None else epoch)
        return key

    def _cache_get(self, key: tuple) -> Motion | None:
        with self._cache_lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
            return hit

    def _cache_put(self, key: tuple, motion: Motion) -> None:
        with self._cache_lock:
            old = self._cache.pop(key, None)
            self._cache_bytes += motion_bytes(motion) - (motion_bytes(old) if old is not None else 0)
            self._cache[key] = motion
            while self._cache and self._cache_bytes > self._cache_limit:  # least recently used first
                self._cache_bytes -= motion_bytes(self._cache.popitem(last=False)[1])

    def clear_cache(self) -> None:
        with self._cache_lock:
            self._cache.clear()
            self._cache_bytes = 0

    def cache_usage(self) -> tuple[int, int]:
        """(motions, bytes) held by the motion cache."""
        with self._cache_lock:
            return len(self._cache), self._cache_bytes

    def _sample_rows(self, rows: list[Row], opts: SampleOptions) -> torch.Tensor:
        """Normalised features (len(rows), max frames, 263) of rows that share `opts` (its frames are ignored);
        one forward per sampling step. The caller holds self.lock."""
        missing = sorted({n for r in rows for n, _ in r.steer if n not in self.adapters.specs})
        if missing:
            raise ValueError(f"adapter {missing[0]!r} is not loaded (deleted meanwhile?)")
        opts = replace(opts, frames=max(r.frames for r in rows))
        prompts, seeds, lengths = [r.prompt for r in rows], [r.seed for r in rows], [r.frames for r in rows]
        denoise = self.rows.denoise_fn(rows)
        if denoise is not None:
            return self.generator.sample(prompts, seeds, opts, denoise=denoise, lengths=lengths)
        with self.adapters.disabled() as model:  # base rows only
            return self.generator.sample(prompts, seeds, opts, lengths=lengths,
                                         denoise=lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L))

    def _execute(self, jobs: list[Job]) -> None:
        """The batcher's work (under self.lock): every job's rows in one batch, then their joints and the
        evaluator's concepts for the whole batch at once. A job naming an adapter that is gone fails alone."""
        live = []
        for job in jobs:
            gone = sorted({n for r in job.rows for n, _ in r.steer if n not in self.adapters.specs})
            if gone:
                job.finish(error=ValueError(f"adapter {gone[0].removeprefix(self.prefix)!r} was removed before this request ran"))
            else:
                live.append(job)
        if not live:
            return
        rows = [r for job in live for r in job.rows]
        feats = self._sample_rows(rows, live[0].key)
        joints = self.generator.to_joints(feats)  # padded frames come after a row's own: its joints do not see them
        lengths = [r.frames for r in rows]
        concepts = self._concepts(feats, lengths)
        k = 0
        for job in live:
            job.finish([Motion(feats[k + i, :n].clone(), joints[k + i, :n].copy(), concepts[k + i], self._adapter_epoch)
                        for i, n in enumerate(lengths[k : k + len(job.rows)])])
            k += len(job.rows)
        del feats, joints  # the batch's tensors are freed before the release below can return their pages
        self.releaser.tick()

    def generate_rows(self, rows: list[Row], opts: SampleOptions) -> list[Motion]:
        """Each row's motion, from one merged batch (with whatever else is queued). Rows come from the cache when
        they can, and go into it when they are computed; equal rows are computed once."""
        opts = opts.validated()
        canon = [Row(r.prompt, r.seed, r.frames) if r.is_base(opts.steps) else r for r in rows]
        out: list[Motion | None] = [None] * len(rows)
        todo: dict[Row, list[int]] = {}
        for i, r in enumerate(canon):
            hit = self._cache_get(self._row_key(r, opts))
            if hit is not None:
                out[i] = hit
            else:
                todo.setdefault(r, []).append(i)
        if todo:
            unique = list(todo)
            for r, motion in zip(unique, self.batcher.run(self._batch_key(opts), unique)):
                for i in todo[r]:
                    out[i] = motion
                self._cache_put(self._row_key(r, opts, motion.epoch), motion)
        return out

    def _concepts(self, normalised: torch.Tensor, lengths: list[int], k: int = 3) -> list[list[tuple[str, float]]]:
        """The evaluator's top concepts of a padded batch (N, T, 263) with each row's own length."""
        if self.judge is None:
            return [[] for _ in range(len(normalised))]
        _, probs = self.judge.score(self._unnormalise(normalised), np.asarray(lengths))
        return self.judge.top_concepts(probs, k)

    def sample_pair(self, prompt: str, seed: int, opts: SampleOptions, weights: dict[str, float], scale: float, start_step: int) -> torch.Tensor:
        """Normalised features (2, T, 263): row 0 base, row 1 steered; one forward per step, same noise.
        (A direct library call: no cache, no merging with other requests.)"""
        opts = opts.validated()
        rows = [Row(prompt, seed, opts.frames), Row(prompt, seed, opts.frames, steering(weights, scale), int(start_step))]
        with self.lock:
            return self._sample_rows(rows, opts)

    def compare(self, prompt: str, adapters: list[str] | str, *, scale: float = 1.0, weights: list[float] | None = None, seed: int = 0, frames: int = 120, steps: int = DEFAULT_STEPS, guidance: float = 2.5, start_step: int = 0,
                scheduler: str = DEFAULT_SCHEDULER, plant_feet: bool = True) -> Comparison:
        """Base and steered motion from the same noise. Concurrent calls are merged into one batch; the base motion
        is reused from the cache when this prompt, seed, length and sampling settings were generated before, so a
        new strength costs only the steered motion."""
        prompt = check_prompts([prompt])[0]
        seed = check_seed(seed)
        opts = self._options(frames, steps, guidance, scheduler, plant_feet)
        if isinstance(start_step, bool) or not isinstance(start_step, (int, float)) or not 0 <= start_step <= opts.steps or int(start_step) != start_step:
            raise ValueError(f"start step must be a whole number between 0 and {opts.steps}, got {start_step!r}")
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not math.isfinite(scale) or not -5 <= scale <= 5:
            raise ValueError(f"strength must be a number between -5 and 5, got {scale!r}")
        started = time.perf_counter()
        # Names are resolved without the model lock, so requests queue for the next merged batch while one runs
        # (the adapter library changes only by whole-dict updates under the lock; a request whose adapter goes
        # away before its batch runs fails alone, in _execute).
        w = self.adapter_weights(adapters, weights)
        for n, v in w.items():
            if not math.isfinite(v):
                raise ValueError(f"weight of adapter {n.removeprefix(self.prefix)!r} must be a finite number, got {v!r}")
        base = Row(prompt, seed, opts.frames)
        steered = Row(prompt, seed, opts.frames, steering(w, float(scale)), int(start_step))
        cached = self._cache_get(self._row_key(base, opts)) is not None
        b, st = self.generate_rows([base, steered], opts)
        return Comparison(prompt, seed, opts.frames, w, float(scale), b.joints, st.joints, b.concepts, st.concepts,
                          time.perf_counter() - started, cached, opts)

    def warm_up(self, frames: int = 100, steps: int = DEFAULT_STEPS) -> float:
        """Generate once at the app's default size so the first user request does not pay for lazy
        initialisation (thread pools, allocator, kernel selection). Returns the seconds it took."""
        started = time.perf_counter()
        first = self.list_adapters()[:1]
        feats = self.sample_pair("a person walks forward", 0, self._options(frames, steps, 2.5), {first[0].name: 1.0} if first else {}, 1.0, 0)
        self.concepts(feats)
        return time.perf_counter() - started

    def concepts(self, normalised: torch.Tensor, k: int = 3) -> list[list[tuple[str, float]]]:
        if self.judge is None:
            return [[] for _ in range(len(normalised))]
        feats = self._unnormalise(normalised)
        _, probs = self.judge.score(feats, np.full(len(feats), feats.shape[1]))
        return self.judge.top_concepts(probs, k)

    def _unnormalise(self, normalised: torch.Tensor) -> np.ndarray:
        return normalised.cpu().numpy() * self.generator.std + self.generator.mean

    def sweep(self, prompt: str, adapter: str, scales=SWEEP_SCALES, *, seed: int = 0, frames: int = 100, steps: int = DEFAULT_STEPS, guidance: float = 2.5,
              scheduler: str = DEFAULT_SCHEDULER) -> Sweep:
        """The prompt at every strength, and the retain probes' base and steered motions at every strength: all in
        one batched run (base motions from the cache where they are there)."""
        prompt = check_prompts([prompt])[0]
        seed = check_seed(seed)
        opts = self._options(frames, steps, guidance, scheduler)
        if isinstance(scales, (str, bytes)) or not hasattr(scales, "__len__"):
            raise ValueError("give 1 to 9 finite scales between -5 and 5")
        try:
            scales = [float(s) for s in scales]
        except (TypeError, ValueError):
            raise ValueError("give 1 to 9 finite scales between -5 and 5") from None
        if not 1 <= len(scales) <= 9 or not all(math.isfinite(s) and -5 <= s <= 5 for s in scales):
            raise ValueError("give 1 to 9 finite scales between -5 and 5")
        name = self.adapter_name(adapter)
        info = self.infos.get(name)
        if info is None:
            raise ValueError(f"adapter {adapter!r} was removed meanwhile")
        concept = info.concept
        T = opts.frames
        shown = [Row(prompt, seed, T, steering({name: 1.0}, s)) for s in scales]
        probe_base = [Row(p, seed, T) for p in RETAIN_PROBES]
        probe_steered = [[Row(p, seed, T, steering({name: 1.0}, s)) for p in RETAIN_PROBES] for s in scales]
        out = self.generate_rows(shown + probe_base + [r for rows in probe_steered for r in rows], opts)
        n, m = len(scales), len(RETAIN_PROBES)
        feats = torch.stack([o.features for o in out[:n]])
        base_j = [o.joints for o in out[n : n + m]]
        drift = []
        for k in range(n):
            steered_j = [o.joints for o in out[n + m + k * m : n + m + (k + 1) * m]]
            drift.append(float(np.mean([np.linalg.norm(s - b, axis=-1).mean() for s, b in zip(steered_j, base_j)])))  # steered vs base
        joints = [o.joints for o in out[:n]]
        presence = [0.0] * len(scales)
        if self.judge is not None and concept in CONCEPT_INDEX:
            u = self._unnormalise(feats)
            _, probs = self.judge.score(u, np.full(len(u), u.shape[1]))
            presence = [float(p[CONCEPT_INDEX[concept]]) for p in probs]
        return Sweep(prompt, name, scales, joints, presence, drift)

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
            name = self.owned(replace_adapter, owner, "retrain").name if replace_adapter else self._free_name(config.concept)
            trainee = AdapterSet(MotionDenoiser.load(self.generator.checkpoint, self.device))
            out = unlearn_to_folder(
                base_name=str(self.generator.checkpoint), config=config, out_root=self.user_root.parent, device=self.device,
                stop=stop, on_event=on_event, adapters=trainee, text_encoder=self.generator.text_encoder, folder_name=name,
                before_publish=lambda staging: write_owner_record(staging, owner),
            )  # the ownership record is published with the adapter: a full disk cannot leave one without the other
            if out is None:
                return None
            with self.lock:
                self._unload(name)  # retraining replaces the loaded copy
                self._load_adapter(out)
                if name not in self.infos:
                    raise RuntimeError(f"the new adapter {name} was written but does not load: {self.load_errors.get(name)}")
                evicted = self._enforce_cap(keep=name)
                return replace(self.infos[name], evicted=tuple(evicted))

    # ------------------------------------------------------------------ evaluation

    def evaluate(self, adapter: str, *, per_kind: int = 16, per_concept: int = 4, natural_forget: int | None = None, natural_per_concept: int | None = 4, repeats: int = 3, steps: int = DEFAULT_STEPS, frames: int = 120, progress: Callable[[float, str], None] | None = None, scheduler: str = DEFAULT_SCHEDULER) -> dict:
        """Base vs adapter on the forget and retain sets: metrics with 95% intervals. The retain set never
        holds the adapter's own preservation prompts; natural_* cap the natural prompts (None = all)."""
        if self.judge is None:
            raise ValueError("evaluation needs the evaluator checkpoint")
        with self.lock:
            name = self.adapter_name(adapter)
            concept = self.infos[name].concept
            preserved = tuple(self.infos[name].meta.get("retain_prompts") or ())
        if concept not in CONCEPT_INDEX:
            raise ValueError(f"the evaluator cannot score {concept!r}: it knows only the MotionBank concepts")
        sets = prompt_sets(concept, per_kind=per_kind, per_concept=per_concept, natural_forget=natural_forget, natural_per_concept=natural_per_concept, preserved=preserved)
        opts = self._options(frames, steps, 2.5, scheduler)
        result = {"adapter": name, "concept": concept, "steps": steps, "scheduler": opts.scheduler, "frames": opts.frames}
        total, done = 2 * len(sets) * repeats, 0
        for set_name, prompts in sets.items():
            for model_name, weights in (("base", {}), ("unlearned", {name: 1.0})):
                runs = []
                for r in range(repeats):
                    runs.append((self.generate_set(prompts, weights, 1.0, opts, seed=1000 * r), np.full(len(prompts), opts.frames)))
                    done += 1
                    if progress:
                        progress(done / total, f"{set_name} set, {model_name}, repeat {r + 1}/{repeats}")
                result.setdefault(set_name, {})[model_name] = set_metrics(self.judge, prompts, runs)
                result[set_name][model_name]["kinematic"] = kinematic_judge.judge_eval_runs(self.judge, prompts, runs)
        return result

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
        feats = self.generate_set(prompts, weights, scale, self._options(frames, steps, 2.5), seed)
        _, probs = self.judge.score(feats, np.full(len(feats), feats.shape[1]))
        return present(probs, prompts)


def env_number(name: str, default: float, whole: bool = False, allow_zero: bool = False) -> float:
    """A positive (or, with allow_zero, non-negative) number from the environment, else `default`; a malformed
    value is an error naming it."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a {'whole ' if whole else ''}number") from None
    if not (value >= 0 if allow_zero else value > 0):
        raise ValueError(f"{name} must be {'non-negative' if allow_zero else 'positive'}, got {raw}")
    return value


def lower_priority(nice: int) -> bool:
    """Lower the CPU priority of the calling thread by `nice` (Linux: threads have their own nice value, and the
    threads it starts later, such as its torch worker threads, inherit it). The app's training thread does this
    so that visitors' generations are served first while a training runs; it still uses every idle cycle.
    Returns whether it applied."""
    if nice <= 0 or not hasattr(os, "setpriority"):
        return False
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + int(nice)))
        return True
    except OSError:
        return False


def apply_thread_setting() -> int | None:
    """MOTION_LORA_THREADS=n: torch uses n CPU threads (the app calls this first). Unset leaves torch's own
    choice (one per core, or OMP_NUM_THREADS); returns the number applied."""
    threads = env_number("MOTION_LORA_THREADS", 0, whole=True)
    if not threads:
        return None
    torch.set_num_threads(int(threads))
    return int(threads)


def default_lab(**kwargs) -> MotionLab:
    """The lab the app uses (after apply_thread_setting): base MOTION_LORA_BASE (default motionbank_base); user adapters in
    checkpoints.user_adapter_root() (MOTION_LORA_USER_DIR, else /data on Spaces, else the user's cache), capped by
    MOTION_LORA_MAX_USER_ADAPTERS and MOTION_LORA_MAX_USER_MB; the motion cache holds MOTION_LORA_CACHE_MB. A serving
    process: malloc keeps at most memory.DEFAULT_ARENAS heaps (set before the server's threads start) and gets its
    free memory handed back at most every MOTION_LORA_RELEASE_S seconds (0 = never; memory.py: why)."""
    apply_thread_setting()
    memory.limit_arenas()
    return MotionLab(base=os.environ.get("MOTION_LORA_BASE", DEFAULT_BASE), user_dir=user_adapter_root(),
                     max_user_adapters=env_number("MOTION_LORA_MAX_USER_ADAPTERS", DEFAULT_MAX_USER_ADAPTERS, whole=True),
                     max_user_mb=env_number("MOTION_LORA_MAX_USER_MB", DEFAULT_MAX_USER_MB),
                     max_batch_rows=int(env_number("MOTION_LORA_MAX_BATCH_ROWS", DEFAULT_MAX_BATCH_ROWS, whole=True)),
                     cache_mb=env_number("MOTION_LORA_CACHE_MB", DEFAULT_CACHE_MB, allow_zero=True),
                     release_s=env_number("MOTION_LORA_RELEASE_S", memory.DEFAULT_RELEASE_S, allow_zero=True), **kwargs)


def iterate_training(lab: MotionLab, config: UnlearnConfig, stop: threading.Event, **unlearn_kwargs) -> Iterator[TrainEvent | AdapterInfo | None]:
    """Run `lab.unlearn` in a thread and yield its events as they come, then the result (or None)."""
    import queue

    q: queue.Queue = queue.Queue()
    done = object()

    def work():
        lower_priority(env_number("MOTION_LORA_TRAINING_NICE", DEFAULT_TRAINING_NICE, whole=True, allow_zero=True))
        try:
            q.put(lab.unlearn(config, stop, on_event=q.put, **unlearn_kwargs))
        except BaseException as err:  # surfaced to the consumer
            q.put(err)
        finally:
            lab.releaser.tick(force=True)  # the training's model copy, optimiser state and rollouts were just freed
            q.put(done)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while True:
        item = q.get()
        if item is done:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    thread.join()
