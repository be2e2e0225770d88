"""Train-CLI results of one base, loaded to be evaluated or attacked: LoRA adapters and weight edits (full
fine-tuning), over the TextToMotion protocol (no server object involved).

* `load_results(base)`: this project's base checkpoint, its adapters and the proxy evaluator, ready.
* `ResultEvaluation.add_adapter` / `add_edit`: a result folder under its folder name.
* `generate_set`: evaluation generations with an adapter mix on, or a weight edit swapped into the base (restored
  after); base generations are cached (deterministic: same prompts, seeds and options), and every generation is
  kept in `recorded` when `record` is set, for benchmarks that need the features.
* `find_result(name)`: a folder path, folder name, short name or concept alias -> the result folder.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import numpy as np
import torch

from ..evaluation.protocol import EvalPrompt, Judge
from ..model.checkpoints import DATASET_NAME, DEFAULT_BASE, check_name, checkpoint_root, read_json, resolve_base, resolve_evaluator, user_adapter_root
from ..model.generator import MotionGenerator, SampleOptions
from ..model.sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS
from .adapters import AdapterSet
from .attack.target import AttackTarget, file_sha256
from .evaluate import EVAL_GUIDANCE, evaluate_sets
from .our_denoiser import generator_target
from .target import TextToMotion
from .weight_edit import applied, load_edited


def load_checkpoint(folder: Path, ckpt: str) -> dict:
    """Read model/<ckpt> (weights_only: tensors and plain values only) and return its payload."""
    path = folder / "model" / check_name(ckpt, "checkpoint file")
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint {path}")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or "weights" not in payload or "config" not in payload:
        raise ValueError(f"{path} is not an adapter checkpoint written by motion_lora.unlearning.train")
    return payload


def apply_weights(adapters: AdapterSet, name: str, weights: dict) -> None:
    """Load a checkpoint's LoRA matrices into the loaded adapter `name` (they may come from another .tar)."""
    state = {k.replace(".lora_A.", f".lora_A.{name}.").replace(".lora_B.", f".lora_B.{name}."): v for k, v in weights.items()}
    missing = [k for k in state if k not in dict(adapters.peft.named_parameters())]
    if missing:
        raise ValueError(f"checkpoint weights do not fit adapter {name}: e.g. {missing[0]}")
    adapters.peft.load_state_dict(state, strict=False)


def result_kind(folder: Path) -> str:
    """'edit' for a weight-edit result (model/edited.safetensors, no adapter files), else 'adapter'."""
    model = folder / "model"
    if (model / "edited.safetensors").is_file() and not (model / "adapter_config.json").is_file():
        return "edit"
    return "adapter"


def find_result(name: str, base: str = DEFAULT_BASE) -> Path:
    """A result folder from a path, a folder name ('motionbank_base_LoRA_kick'), a short name ('kick-2') or a concept
    alias ('kick': the shipped adapter of that concept, else the first user one), in the checkpoint root and then
    the app's user root."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name a result (adapter folder, short name or concept)")
    folder = Path(name).expanduser()
    if "/" in name or folder.is_dir():
        if not (folder / "adapter.json").is_file():
            raise FileNotFoundError(f"no result folder {folder} (it holds no adapter.json; train one with python -m motion_lora.train)")
        return folder
    prefix = f"{Path(base).name}_LoRA_"
    roots = [r / DATASET_NAME for r in (checkpoint_root(), user_adapter_root())]
    folders = [f for r in roots if r.is_dir() for f in sorted(r.iterdir()) if (f / "adapter.json").is_file()]
    for candidate in (check_name(name, "adapter"), prefix + name):
        hits = [f for f in folders if f.name == candidate]
        if hits:
            return hits[0]
    for f in folders:
        if f.name.startswith(prefix) and read_json(f / "adapter.json").get("concept") == name:
            return f
    known = ", ".join(f.name.removeprefix(prefix) for f in folders if f.name.startswith(prefix)) or "none"
    raise ValueError(f"unknown adapter {name!r}; available: {known}")


class ResultEvaluation:
    """Results of one base model (`model`, with `adapters` on its denoiser), evaluated or attacked one at a time."""

    def __init__(self, model: TextToMotion, adapters: AdapterSet, judge: Judge | None, *, mean: np.ndarray, std: np.ndarray, base_folder: Path | None = None,
                 record: bool = False):
        self.model, self.adapters, self.judge, self.mean, self.std = model, adapters, judge, mean, std
        self.base_folder = base_folder  # the base checkpoint (attack reports of the base go there)
        self.lock = threading.RLock()  # adapter state is module state
        self.metas: dict[str, dict] = {}
        self.folders: dict[str, Path] = {}
        self.edits: dict[str, dict] = {}
        self.record = record
        self.recorded: dict[tuple, np.ndarray] = {}
        self._base_cache: dict[tuple, np.ndarray] = {}

    def add_adapter(self, folder: Path, meta: dict, weights: dict | None = None) -> str:
        """Load the adapter files of `folder` under the folder's name (replacing a loaded one of that name), then
        the LoRA matrices `weights` of a checkpoint when given."""
        name = folder.name
        with self.lock:
            if name in self.adapters.specs:
                self.adapters.delete(name)
            self.adapters.load(name, folder / "model")
            if weights is not None:
                apply_weights(self.adapters, name, weights)
        self.metas[name], self.folders[name] = meta, folder
        return name

    def add_edit(self, folder: Path, meta: dict) -> str:
        """Register the weight-edit result in `folder` (model/edited.safetensors) under the folder's name."""
        self.edits[folder.name] = load_edited(folder / "model", self.adapters.base)
        self.metas[folder.name], self.folders[folder.name] = meta, folder
        return folder.name

    @contextlib.contextmanager
    def running(self, weights: dict[str, float], scale: float = 1.0):
        """The module to run with the mix `weights` at `scale` on, a weight edit swapped in (alone, at 1), or the base."""
        edits = [n for n in weights if n in self.edits]
        if edits and (len(weights) != 1 or scale != 1.0 or weights[edits[0]] != 1.0):
            raise ValueError(f"{edits[0]} is a weight edit: it runs alone at strength 1")
        with self.lock, contextlib.ExitStack() as stack:
            if edits:
                stack.enter_context(applied(self.adapters.base, self.edits[edits[0]]))
            yield stack.enter_context(self.adapters.using({} if edits else weights, scale))

    @torch.no_grad()
    def _generate(self, prompts: list[EvalPrompt], weights: dict[str, float], scale: float, opts: SampleOptions, seed: int, batch: int) -> np.ndarray:
        out = []
        for i in range(0, len(prompts), batch):
            chunk = prompts[i : i + batch]
            noise = self.model.noise([seed + i + j for j in range(len(chunk))], opts.frames)
            with self.running(weights, scale) as module:
                x0 = self.model.sample(module, self.model.text([p.text for p in chunk]), noise, guidance=opts.guidance, steps=opts.steps, scheduler=opts.scheduler)
            out.append(self.model.motion(x0, finish=opts.plant_feet))
        return torch.cat(out).cpu().numpy() * self.std + self.mean

    def generate_set(self, prompts: list[EvalPrompt], weights: dict[str, float], scale: float, opts: SampleOptions, seed: int = 0, batch: int = 16) -> np.ndarray:
        """Unnormalised features (N, T, D) of evaluation prompts under a result; prompt i uses seed + i."""
        texts = tuple(p.text for p in prompts)
        if not weights or scale == 0:
            key = (texts, seed, opts, batch)
            if key not in self._base_cache:
                self._base_cache[key] = self._generate(prompts, {}, 1.0, opts, seed, batch)
            out, label = self._base_cache[key].copy(), "base"
        else:
            out = self._generate(prompts, weights, scale, opts, seed, batch)
            label = ",".join(sorted(weights)) if scale == 1.0 else f"{','.join(sorted(weights))}@{scale}"
        if self.record:
            self.recorded[(label, texts, seed)] = out
        return out

    def evaluate(self, name: str, *, steps: int = DEFAULT_STEPS, frames: int = 120, scheduler: str = DEFAULT_SCHEDULER, progress=None, **sets) -> dict:
        """`evaluate.evaluate_sets` of result `name` (its concept and preservation prompts from its adapter.json)."""
        meta = self.metas[name]
        opts = SampleOptions(frames=frames, steps=steps, guidance=EVAL_GUIDANCE, scheduler=scheduler).validated()
        return evaluate_sets(self.generate_set, self.judge, name, meta["concept"], opts, preserved=tuple(meta.get("retain_prompts") or ()), progress=progress, **sets)

    def attack_target(self, name: str | None = None, scale: float = 1.0) -> AttackTarget:
        """The base (None) or result `name` at `scale` as an AttackTarget, held under this object's lock."""
        if name is None:
            folder, weights, label, concept, weights_file = self.base_folder, {}, "base", None, "model.safetensors"
        else:
            folder, weights, concept = self.folders[name], {name: 1.0}, self.metas[name]["concept"]
            label, weights_file = name if scale == 1 else f"{name} x{scale:g}", "model/adapter_model.safetensors"
        return AttackTarget.from_adapters(self.model, self.adapters, weights, scale, judge=self.judge, mean=self.mean, std=self.std, label=label,
                                          concept=concept, folder=folder, fingerprint=file_sha256(folder / weights_file) if folder else None, lock=lambda: self.lock)


def load_results(base: str = DEFAULT_BASE, *, device: str = "cpu", evaluator: str | None = "evaluator", record: bool = False) -> ResultEvaluation:
    """This project's base checkpoint `base` (name or folder) as a TextToMotion, its adapters and the judge."""
    generator = MotionGenerator(resolve_base(base), device=device)
    model = generator_target(generator)
    judge = Judge(resolve_evaluator(evaluator), generator.text_encoder, device) if evaluator else None
    return ResultEvaluation(model, AdapterSet.for_model(model), judge, mean=generator.mean, std=generator.std, base_folder=generator.checkpoint, record=record)
