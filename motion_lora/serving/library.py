"""The adapter library: which adapters are on disk, loaded into the model, who owns them, and the cap on visitors'.

The shipped adapters (checkpoints/t2m/<base>_LoRA_<concept>) are read-only. Adapters trained in the app go to a
separate user folder with an ownership record (`owner.json`: a hash of the owner's id and the creation time); a
training never replaces an adapter it did not create (a new one gets a free name such as `kick-2`), only the owner
may delete or retrain one, and a cap on the number and bytes of user adapters evicts the oldest first. A folder that
does not load is skipped and remembered with its reason (shown to visitors without the server's paths).

Adapter state lives in the model (PEFT modules), so every change goes through the lab's model `lock`; each load or
unload bumps `epoch`, which the motion cache keys steered motions on (a retrained adapter keeps its name).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..checks import check_number
from ..model.checkpoints import check_name, read_json
from ..unlearning.adapters import AdapterSet
from ..unlearning.train import adapter_folder_name

OWNER_FILE = "owner.json"  # in a user adapter's folder: who made it and when
LOCAL_OWNER = "local"  # the owner id of library / CLI callers (not a web visitor)
MAX_ADAPTERS_COMBINED = 4
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
    if weight is not None:
        try:
            check_number(weight, "preserve_weight")
        except ValueError:
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


class AdapterLibrary:
    """The adapters of one base model: shipped ones from `shipped_root` (unless `shipped` is False), visitors' ones
    from `user_root`, loaded into `adapters` under `lock`."""

    def __init__(self, adapters: AdapterSet, lock: threading.RLock, *, base_name: str, shipped_root: Path, user_root: Path,
                 shipped: bool = True, max_user_adapters: int, max_user_mb: float):
        self.adapters, self.lock = adapters, lock
        self.base_name, self.shipped_root, self.user_root, self.shipped = base_name, shipped_root, user_root, shipped
        self.max_user_adapters = check_number(max_user_adapters, "the user adapter cap (adapters)", low=1, whole=True)
        self.max_user_bytes = float(check_number(max_user_mb, "the user adapter cap (MB)", above=0)) * 2**20
        self.infos: dict[str, AdapterInfo] = {}
        self.load_errors: dict[str, str] = {}
        self.epoch = 0  # counts adapter loads and unloads: part of a steered motion's cache key

    @property
    def prefix(self) -> str:
        return f"{self.base_name}_LoRA_"

    def _folders(self, root: Path) -> list[Path]:
        if not root.is_dir():
            return []
        return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith(self.prefix))

    def _candidates(self) -> list[Path]:
        roots = [self.shipped_root, self.user_root] if self.shipped else [self.user_root]
        return [f for root in dict.fromkeys(roots) for f in self._folders(root)]

    def refresh(self) -> list[AdapterInfo]:
        """Load adapter folders that appeared on disk; forget ones that were removed; skip (and remember) broken ones."""
        with self.lock:
            present_names = set()
            for folder in self._candidates():
                present_names.add(folder.name)
                if folder.name not in self.infos and folder.name not in self.load_errors:
                    self.load(folder)
            for gone in [n for n in self.infos if n not in present_names]:
                self.unload(gone)
            for gone in [n for n in self.load_errors if n not in present_names]:
                del self.load_errors[gone]  # a broken folder that was removed is tried afresh if it comes back
            return self.list()

    def ownership(self, folder: Path) -> tuple[str, str | None, float | None]:
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

    def load(self, folder: Path) -> None:
        """Load one adapter folder (the caller holds the lock); a broken one is remembered in load_errors (with the
        reason, logged once) and skipped, never fatal."""
        try:
            meta = read_adapter_meta(folder / "adapter.json")
            origin, owner, created = self.ownership(folder)
            self.epoch += 1
            self.adapters.load(folder.name, folder / "model")
            self.infos[folder.name] = AdapterInfo(folder.name, meta["concept"], folder, meta, origin, owner, created)
        except Exception as err:  # corrupt json or weights, truncated files, wrong shapes: the rest keeps serving
            if folder.name in self.adapters.specs:
                self.adapters.delete(folder.name)
            self.load_errors[folder.name] = broken_reason(err, folder)
            logger.warning("skipped the broken adapter %s: %s", folder, self.load_errors[folder.name])

    def unload(self, name: str) -> None:
        """Forget an adapter (the caller holds the lock); its folder stays."""
        self.epoch += 1
        if name in self.adapters.specs:
            self.adapters.delete(name)
        self.infos.pop(name, None)
        self.load_errors.pop(name, None)

    def list(self) -> list[AdapterInfo]:
        """Shipped adapters first (by name), then user adapters, oldest first."""
        return sorted(self.infos.values(), key=lambda i: (i.origin != SHIPPED, i.created or 0.0, i.name))

    def broken(self) -> list[tuple[Path, str]]:
        """(folder, reason) of every adapter folder on disk that did not load (as of the last refresh), by name."""
        return [(f, self.load_errors[f.name]) for f in self._candidates() if f.name in self.load_errors]

    def resolve(self, name: str) -> str:
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
        by_concept = [i.name for i in self.list() if i.concept == name]
        if by_concept:
            return by_concept[0]
        for folder, err in list(self.load_errors.items()):
            if name in (folder, folder.removeprefix(self.prefix)):
                raise ValueError(f"adapter {folder!r} is broken and was not loaded ({err})")
        known = ", ".join(i.short for i in self.list()) or "none"
        raise ValueError(f"unknown adapter {name!r}; available: {known}")

    def weights(self, names: list[str] | str, weights: list[float] | None) -> dict[str, float]:
        """{folder name: weight} of a combination of at most MAX_ADAPTERS_COMBINED adapters (default weight 1)."""
        if isinstance(names, str):
            names = [n for n in names.split(",") if n.strip()]
        if len(names) > MAX_ADAPTERS_COMBINED:
            raise ValueError(f"combine at most {MAX_ADAPTERS_COMBINED} adapters")
        if weights is not None and len(weights) != len(names):
            raise ValueError(f"got {len(weights)} weights for {len(names)} adapters")
        resolved = [self.resolve(n) for n in names]
        return {n: float(w) for n, w in zip(resolved, weights or [1.0] * len(resolved))}

    def free_name(self, concept: str) -> str:
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
            info = self.infos.get(self.resolve(name))
        if info is None:
            raise ValueError(f"unknown adapter {name!r}")
        if info.origin == SHIPPED:
            raise NotAllowed(f"cannot {action} {info.short!r}: shipped adapters are read-only; train a new one instead")
        if info.owner != owner_key(owner):
            raise NotAllowed(f"cannot {action} {info.short!r}: it belongs to another visitor; only its creator can {action} it")
        return info

    def delete(self, name: str, owner: str = LOCAL_OWNER) -> str:
        """Delete a user adapter its owner made; returns the folder name. Shipped and others' adapters are refused."""
        with self.lock:
            info = self.owned(name, owner, "delete")
            self._remove(info.name, info.path)
        return info.name

    def _remove(self, name: str, path: Path) -> None:
        """Unload and delete an adapter folder; it is first renamed to a staging name, so a crash mid-delete
        leaves something remove_stale_staging cleans up, never a half-deleted adapter that still lists."""
        self.unload(name)
        doomed = path.with_name(f".{path.name}.partial-{os.getpid()}-{threading.get_ident()}")
        os.replace(path, doomed)
        shutil.rmtree(doomed, ignore_errors=True)

    def publish(self, name: str, folder: Path) -> AdapterInfo:
        """Load a freshly trained adapter `folder` under `name` (replacing a loaded one of that name), then apply
        the cap; the result's `.evicted` names what the cap removed."""
        with self.lock:
            self.unload(name)  # retraining replaces the loaded copy
            self.load(folder)
            if name not in self.infos:
                raise RuntimeError(f"the new adapter {name} was written but does not load: {self.load_errors.get(name)}")
            evicted = self._enforce_cap(keep=name)
            return replace(self.infos[name], evicted=tuple(evicted))

    def usage(self) -> tuple[int, int]:
        """(number, bytes) of the user adapters on disk."""
        items = self._user_folders()
        return len(items), sum(size for _, _, size in items)

    def _user_folders(self) -> list[tuple[float, Path, int]]:
        """(created, folder, bytes) of every user adapter folder on disk, loaded or broken, oldest first."""
        out = []
        for folder in self._folders(self.user_root):
            origin, _, created = self.ownership(folder)
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
