"""Named LoRA adapters on the frozen denoiser: a thin layer over PEFT.

What we add to PEFT: target presets for a model's module names (this project's denoiser's below; another model
brings its own, `AdapterSet.for_model`), one place that turns
"these adapters at these weights, this scale" into PEFT state, a mixed base/adapter batch for the
side-by-side view, and a hash of the base weights so we can prove training never touched them.

Scale semantics (Concept Sliders style): 0 = base, 1 = as trained, > 1 stronger, < 0 pushes the other way
(for an erasure adapter that amplifies the concept). The effective LoRA scaling of an adapter is
scale x weight x alpha / rank, so rank and alpha always come from the adapter's own config.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.tuners.lora import LoraLayer

from ..checks import check_number
from ..model.checkpoints import read_json, read_weights

BASE = "__base__"  # PEFT's name for "no adapter" rows in a mixed batch
COMBINED = "__combined__"  # scratch adapter holding a weighted sum of several adapters

_PROJ = r"(to_q|to_k|to_v|to_out)"
PRESETS = {
    "attn": rf"blocks\.\d+\.(self_attn|cross_attn)\.{_PROJ}",  # every attention projection (CLI default)
    "xattn": rf"blocks\.\d+\.cross_attn\.{_PROJ}",  # cross-attention only
    "xattn-kv": r"blocks\.\d+\.cross_attn\.(to_k|to_v)",  # keys and values of the text (UCE/TIME-style)
    "all-linear": rf"blocks\.\d+\.((self_attn|cross_attn)\.{_PROJ}|mlp\.(0|3)|ada)",
    # attention plus the two text inputs: the token projection and the pooled sentence vector's projection,
    # which conditions every block's modulation (a path attention-only adapters cannot close)
    "attn+text": rf"(blocks\.\d+\.(self_attn|cross_attn)\.{_PROJ}|text_proj|text_pool)",
}


@dataclass(frozen=True, kw_only=True)
class LoraSpec:
    rank: int = 16
    alpha: float = 16.0
    dropout: float = 0.0
    preset: str = "attn"

    def validated(self, presets: Mapping[str, str] | None = PRESETS) -> "LoraSpec":
        """Checked against the target presets of the model it is for (default: this project's denoiser; None: the
        preset is checked later, by the AdapterSet of the model)."""
        if isinstance(self.rank, bool) or not isinstance(self.rank, int) or not 1 <= self.rank <= 256:
            raise ValueError(f"LoRA rank must be a whole number between 1 and 256, got {self.rank!r}")
        check_number(self.alpha, "LoRA alpha", above=0)
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) or not 0 <= self.dropout < 1:
            raise ValueError(f"LoRA dropout must be in [0, 1), got {self.dropout!r}")
        if not isinstance(self.preset, str) or (presets is not None and self.preset not in presets):
            raise ValueError(f"unknown LoRA target preset {self.preset!r}; choose one of {', '.join(presets or ())}")
        return self

    def peft_config(self, presets: Mapping[str, str] = PRESETS) -> LoraConfig:
        return LoraConfig(r=self.rank, lora_alpha=float(self.alpha), lora_dropout=float(self.dropout), target_modules=presets[self.preset], bias="none")



def base_state_hash(model: torch.nn.Module) -> str:
    """SHA-256 over the base (non-LoRA) weights, in name order: equal hashes = bit-identical base."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        if "lora_" in name:
            continue
        name = name.replace("base_model.model.", "").replace(".base_layer", "")
        h.update(name.encode())
        h.update(tensor.detach().cpu().contiguous().view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


class AdapterSet:
    """A frozen denoiser carrying named LoRA adapters; `presets` name the module patterns LoRA may target
    (this project's denoiser's by default; `for_model` takes a TextToMotion's `lora_targets`).

    `model` is what to call: the PEFT-wrapped denoiser once an adapter exists, the plain denoiser before.
    Adapter selection and scale are module state: callers that share one AdapterSet across threads must
    serialise access (the app holds one lock around every use).
    """

    def __init__(self, base: torch.nn.Module, presets: Mapping[str, str] = PRESETS):
        base.requires_grad_(False)
        self.base = base
        self.presets = dict(presets)
        self.peft: PeftModel | None = None
        self.specs: dict[str, LoraSpec] = {}
        self._row_mask: torch.Tensor | None = None  # (B,) True = adapter row, during a mixed forward
        self._hooked: set[int] = set()  # ids of lora_A modules that carry the row-mask hook

    @classmethod
    def for_model(cls, model) -> "AdapterSet":
        """Adapters on a TextToMotion's denoiser, targeting its `lora_targets`."""
        return cls(model.denoiser, model.lora_targets)

    @property
    def model(self) -> torch.nn.Module:
        return self.peft if self.peft is not None else self.base

    @property
    def names(self) -> list[str]:
        return sorted(self.specs)

    def _check_new(self, name: str) -> None:
        if not name or name in (BASE, COMBINED) or name.startswith("__"):
            raise ValueError(f"invalid adapter name {name!r}")
        if name in self.specs:
            raise ValueError(f"an adapter named {name!r} is already loaded")

    def add(self, name: str, spec: LoraSpec) -> None:
        """A fresh adapter (B = 0, so it starts as the identity)."""
        self._check_new(name)
        spec = spec.validated(self.presets)
        if self.peft is None:
            self.peft = get_peft_model(self.base, spec.peft_config(self.presets), adapter_name=name)
            self.peft.eval()
        else:
            self.peft.add_adapter(name, spec.peft_config(self.presets))
        self.specs[name] = spec
        self._freeze_all()

    def load(self, name: str, directory: str | Path) -> LoraSpec:
        """Load PEFT adapter files (adapter_config.json + adapter_model.safetensors) under `name`."""
        self._check_new(name)
        directory = Path(directory)
        config_path = directory / "adapter_config.json"
        if not config_path.is_file() or not (directory / "adapter_model.safetensors").is_file():
            raise FileNotFoundError(f"{directory} is not a LoRA adapter folder (adapter_config.json + adapter_model.safetensors)")
        cfg = read_json(config_path)
        if not isinstance(cfg, dict) or "r" not in cfg or "lora_alpha" not in cfg:
            raise ValueError(f"{config_path} is not a LoRA adapter config (it needs r and lora_alpha)")
        spec = LoraSpec(rank=int(cfg["r"]), alpha=float(cfg["lora_alpha"]), dropout=float(cfg.get("lora_dropout", 0.0)), preset=_preset_of(cfg.get("target_modules"), self.presets))
        try:
            read_weights(directory / "adapter_model.safetensors")  # a truncated file is named as such (PEFT's error does not say which file)
            if self.peft is None:
                self.peft = PeftModel.from_pretrained(self.base, str(directory), adapter_name=name, is_trainable=False)
            else:
                self.peft.load_adapter(str(directory), adapter_name=name, is_trainable=False)
        except Exception as err:  # corrupt or mismatched files: report, keep the other adapters working
            if self.peft is not None and name in self.peft.peft_config:
                self.peft.delete_adapter(name)
            raise ValueError(f"could not load adapter {name!r} from {directory}: {err}") from err
        self.peft.eval()
        self.specs[name] = spec
        self._freeze_all()
        return spec

    def save(self, name: str, directory: str | Path) -> None:
        """Write the adapter's PEFT files into `directory` (adapter_config.json, adapter_model.safetensors)."""
        self._require(name)
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / ".saving"
        try:
            self.peft.save_pretrained(str(tmp), selected_adapters=[name])
            src = tmp / name if (tmp / name).is_dir() else tmp  # PEFT puts non-default adapters in a sub-folder
            for file in ("adapter_config.json", "adapter_model.safetensors"):
                os.replace(src / file, directory / file)
        finally:  # also after a failed write (full disk): no half-written copy stays behind
            if tmp.exists():
                _rmtree(tmp)

    def delete(self, name: str) -> None:
        self._require(name)
        self.peft.delete_adapter(name)
        del self.specs[name]
        self._drop_combined()

    def _require(self, name: str) -> None:
        if name not in self.specs:
            known = ", ".join(self.names) or "none loaded"
            raise ValueError(f"unknown adapter {name!r} (loaded: {known})")

    def _freeze_all(self) -> None:
        for p in self.model.parameters():
            p.requires_grad_(False)

    def lora_parameters(self, name: str) -> list[torch.nn.Parameter]:
        self._require(name)
        return [p for n, p in self.peft.named_parameters() if "lora_" in n and f".{name}." in n]

    def trainable(self, name: str) -> list[torch.nn.Parameter]:
        """Make exactly this adapter's LoRA matrices trainable (everything else frozen) and active."""
        self._freeze_all()
        self.peft.base_model.set_adapter(name)
        self._set_scales({name: 1.0})
        params = self.lora_parameters(name)
        for p in params:
            p.requires_grad_(True)
        return params

    # ------------------------------------------------------------------ activation

    def _set_scales(self, scales: dict[str, float]) -> None:
        for module in self.peft.modules():
            if isinstance(module, LoraLayer):
                for name, s in scales.items():
                    module.set_scale(name, s)

    def _drop_combined(self) -> None:
        if self.peft is not None and COMBINED in self.peft.peft_config:
            self.peft.delete_adapter(COMBINED)
        self._combined_key = None

    def _combined(self, weights: dict[str, float]) -> str:
        """One adapter equal to sum_i w_i * delta_i (PEFT's 'cat' combination), cached by the weights."""
        key = tuple(sorted(weights.items()))
        if getattr(self, "_combined_key", None) == key:
            return COMBINED
        self._drop_combined()
        self._set_scales({n: 1.0 for n in weights})  # 'cat' folds the current scaling into the new matrices
        names = list(weights)
        self.peft.add_weighted_adapter(names, [weights[n] for n in names], COMBINED, combination_type="cat")
        self._combined_key = key
        return COMBINED

    def resolve(self, weights: dict[str, float], scale: float = 1.0) -> str:
        """Make the adapter mix `weights` (name -> weight) at `scale` the one PEFT adapter to use; return its name.

        Returns BASE when nothing is selected or the scale is 0.
        """
        check_number(scale, "scale")
        for n, w in weights.items():
            self._require(n)
            check_number(w, f"weight of adapter {n!r}")
        weights = {n: float(w) for n, w in weights.items() if w != 0}
        if not weights or scale == 0:
            return BASE
        if len(weights) == 1:
            (name, w), = weights.items()
            self._set_scales({name: w * scale})
            return name
        name = self._combined(weights)
        self._set_scales({name: scale})
        return name

    @contextlib.contextmanager
    def using(self, weights: dict[str, float], scale: float = 1.0):
        """Run the model with this adapter mix active (or the base alone if it resolves to BASE)."""
        name = self.resolve(weights, scale)
        if name == BASE or self.peft is None:
            with self.disabled():
                yield self.model
            return
        self.peft.base_model.set_adapter(name)
        self._freeze_all()
        yield self.model

    @contextlib.contextmanager
    def mixed(self, weights: dict[str, float], scale: float = 1.0):
        """Yield (model, name) for a mixed batch: `model(..., adapter_names=rows)` runs the rows named BASE
        through the base network and the rows named `name` through the adapter mix, in one forward.

        PEFT's own mixed-batch path re-registers hooks on every module at every forward, a third of the
        side-by-side time on a CPU. Instead the adapter runs on every row and its input is zeroed on the
        base rows, where the LoRA delta B·A·0 is then exactly 0."""
        name = self.resolve(weights, scale)
        if name == BASE or self.peft is None:
            with self.disabled():
                yield self.model, BASE
            return
        self.peft.base_model.set_adapter(name)
        self._freeze_all()
        self._hook_rows(name)

        def model(*args, adapter_names: list[str], **kwargs):
            self._row_mask = torch.tensor([n != BASE for n in adapter_names])
            try:
                return self.peft(*args, **kwargs)
            finally:
                self._row_mask = None

        yield model, name

    @contextlib.contextmanager
    def row_scaled(self, weights: dict[str, float]):
        """Yield `model(..., row_scales=s)`: row i runs the adapter mix `weights` at strength s[i] (B,), in one
        forward. The same hook as `mixed`, with s[i] instead of 0/1 on lora_A's input: the LoRA delta is linear
        in it, so a row gets s[i]·B·A·x, and a row at strength 0 gets exactly the base network's output."""
        name = self.resolve(weights, 1.0)
        if name == BASE or self.peft is None:
            raise ValueError("a strength grid needs at least one loaded adapter with a non-zero weight")
        self.peft.base_model.set_adapter(name)
        self._freeze_all()
        self._hook_rows(name)

        def model(*args, row_scales: torch.Tensor, **kwargs):
            self._row_mask = torch.as_tensor(row_scales, dtype=torch.float32)
            try:
                return self.peft(*args, **kwargs)
            finally:
                self._row_mask = None

        yield model

    def _hook_rows(self, name: str) -> None:
        """Give every lora_A of adapter `name` the pre-hook that zeroes the base rows of a mixed batch."""
        for module in self.peft.modules():
            if isinstance(module, LoraLayer) and name in module.lora_A and id(module.lora_A[name]) not in self._hooked:
                module.lora_A[name].register_forward_pre_hook(self._mask_rows)
                self._hooked.add(id(module.lora_A[name]))

    def _mask_rows(self, module, args):
        mask = self._row_mask
        if mask is None:
            return None
        x = args[0]
        return (x * mask.to(x.device, x.dtype).view(-1, *[1] * (x.dim() - 1)), *args[1:])

    @contextlib.contextmanager
    def disabled(self):
        """The frozen base network: all adapters off."""
        if self.peft is None:
            yield self.base
            return
        with self.peft.disable_adapter():
            yield self.model


def _preset_of(target_modules, presets: Mapping[str, str]) -> str:
    for name, pattern in presets.items():
        if target_modules == pattern:
            return name
    raise ValueError(f"adapter targets {target_modules!r} match none of the model's presets ({', '.join(presets)})")


def _rmtree(path: Path) -> None:
    for child in sorted(path.rglob("*"), reverse=True):
        child.rmdir() if child.is_dir() else child.unlink()
    path.rmdir()
