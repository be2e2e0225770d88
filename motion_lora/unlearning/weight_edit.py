"""Results that change base weights (UCE, full fine-tuning): store only the changed tensors, load them, apply them
for a while, or turn a linear layer's weight delta into an exact LoRA adapter.

* `changed_tensors(base, new)`: the entries of a state dict that differ from the base's, bit for bit.
* `save_edited` / `load_edited`: those tensors as `model/edited.safetensors`, checked against the base's names and
  shapes when loaded.
* `applied(model, edited)`: a context in which `model` carries the edited tensors; the originals come back after,
  bit-identical (how evaluation runs a full fine-tune, which no adapter can express: it changes biases, norms and
  embeddings too).
* `lora_from_deltas(adapters, name, deltas, preset)`: for deltas of linear weights only (UCE), the SVD
  ΔW = U S V^T written as a LoRA with B = U sqrt(S), A = sqrt(S) V^T, rank = the largest numerical rank, alpha = rank
  (scaling 1): loadable by the app, scale 1 = the edited weights (up to float rounding).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch
from peft.tuners.lora import LoraLayer
from safetensors.torch import save_file

from ..model.checkpoints import read_weights
from .adapters import PRESETS, AdapterSet, LoraSpec

EDITED_FILE = "edited.safetensors"
RANK_TOL = 1e-6  # singular values below this fraction of the largest are zero


def changed_tensors(base: dict[str, torch.Tensor], new: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The tensors of `new` that are not bit-identical to `base`'s (same names required)."""
    missing = sorted(set(base) ^ set(new))
    if missing:
        raise ValueError(f"state dicts differ in names, e.g. {missing[0]!r}")
    return {k: v.detach().cpu().clone().contiguous() for k, v in new.items() if not torch.equal(v.detach().cpu(), base[k].detach().cpu())}


def save_edited(edited: dict[str, torch.Tensor], model_dir: str | Path) -> Path:
    path = Path(model_dir) / EDITED_FILE
    save_file({k: v.float().contiguous() for k, v in edited.items()}, str(path))
    return path


def state_key(state: dict, key: str) -> str:
    """`key` of a plain denoiser in `state`, which may be the same module with PEFT LoRA wrappers
    ("blocks.0.cross_attn.to_k.weight" -> "blocks.0.cross_attn.to_k.base_layer.weight")."""
    if key in state:
        return key
    head, _, leaf = key.rpartition(".")
    wrapped = f"{head}.base_layer.{leaf}"
    if wrapped in state:
        return wrapped
    raise ValueError(f"the edit names {key!r}, which the base model does not have")


def load_edited(model_dir: str | Path, model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The edited tensors of a result folder's model/, checked against `model`'s state (names and shapes)."""
    path = Path(model_dir) / EDITED_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {EDITED_FILE} in {model_dir}: not a weight-edit result")
    edited = read_weights(path)
    state = model.state_dict()
    for k, v in edited.items():
        target = state[state_key(state, k)]
        if target.shape != v.shape:
            raise ValueError(f"{path}: {k!r} has shape {tuple(v.shape)}, the base model's is {tuple(target.shape)}")
    return edited


@contextlib.contextmanager
def applied(model: torch.nn.Module, edited: dict[str, torch.Tensor]):
    """`model` with the edited tensors copied in; the originals are restored on exit."""
    state = model.state_dict(keep_vars=True)
    keys = {k: state_key(state, k) for k in edited}
    saved = {keys[k]: state[keys[k]].detach().clone() for k in edited}
    try:
        with torch.no_grad():
            for k, v in edited.items():
                state[keys[k]].copy_(v.to(state[keys[k]].device, state[keys[k]].dtype))
        yield model
    finally:
        with torch.no_grad():
            for k, v in saved.items():
                state[k].copy_(v)


def numerical_rank(delta: torch.Tensor) -> int:
    s = torch.linalg.svdvals(delta.double())
    return int((s > RANK_TOL * s.max()).sum()) if s.numel() and s.max() > 0 else 0


def lora_from_deltas(adapters: AdapterSet, name: str, deltas: dict[str, torch.Tensor], preset: str) -> int:
    """Add adapter `name` whose delta on each `preset` layer equals `deltas[module name]` (zero where absent).
    Returns the rank used."""
    rank = max([1] + [numerical_rank(d) for d in deltas.values()])
    adapters.add(name, LoraSpec(rank=rank, alpha=float(rank), preset=preset))
    layers = {n.removeprefix("base_model.model."): m for n, m in adapters.peft.named_modules() if isinstance(m, LoraLayer) and name in m.lora_A}
    unknown = sorted(set(deltas) - set(layers))
    if unknown:
        adapters.delete(name)
        raise ValueError(f"no {preset!r} LoRA layer for {unknown[0]!r} (preset targets {PRESETS[preset]})")
    with torch.no_grad():
        for module_name, layer in layers.items():
            A, B = layer.lora_A[name].weight, layer.lora_B[name].weight  # (r, in), (out, r)
            delta = deltas.get(module_name)
            if delta is None:
                A.zero_()
                B.zero_()
                continue
            U, S, Vh = torch.linalg.svd(delta.double(), full_matrices=False)
            k = min(rank, len(S))
            root = S[:k].sqrt()
            A.zero_()
            B.zero_()
            A[:k] = (root[:, None] * Vh[:k]).to(A.dtype)
            B[:, :k] = (U[:, :k] * root[None]).to(B.dtype)
    return rank
