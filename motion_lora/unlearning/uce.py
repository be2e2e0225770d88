"""Unified Concept Editing (Gandikota et al. 2024, "Unified Concept Editing in Diffusion Models", WACV): erase a
concept by a closed-form edit of the cross-attention key and value projections. No training, no rollouts.

Every cross-attention layer reads the text through `to_k` / `to_v` (W: d -> d) applied to the context tokens
c = text_proj(MiniLM token states) and the learned null token. UCE solves, per projection, the regularised least
squares

    min_W  sum_i e ||W c_i - W0 c*_i||^2  +  sum_j p_j ||W c_j - W0 c_j||^2  +  lam ||W - W0||_F^2
    W = (e sum_i W0 c*_i c_i^T + sum_j p_j W0 c_j c_j^T + lam W0) (e sum_i c_i c_i^T + sum_j p_j c_j c_j^T + lam I)^-1

with c_i the context tokens of the concept's prompts (every real token: MiniLM's states are contextual, so "a
person" in "a person kicks" carries the kick too), c*_i their targets, and c_j the tokens of other concepts'
captions to preserve. Target: the null token (what the unconditional branch attends to) — with keys and values
equal to the null token's, attention to a concept prompt returns the unconditional context — or, with an anchor
prompt, the anchor's tokens at the same relative position (UCE's "erase to a guided concept"). The null token is
preserved too, weighing as much as the whole edit set, so classifier-free guidance keeps its unconditional branch.
The bias is not edited (targets compare W c without it, so the bias cancels).

What UCE cannot reach in this model: the pooled sentence vector also conditions every block through adaptive
LayerNorm (`text_pool`), and UCE edits only the cross-attention projections, as published.

The result is stored two ways: `edited.safetensors` (the edited weight tensors, nothing else) and an exact LoRA
factorisation of W - W0 on the "xattn-kv" preset (`weight_edit.lora_from_deltas`), so the app and the CLIs load it
like any adapter and its scale interpolates the edit (0 = base, 1 = the edited weights).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import torch

from ..data.captions import concept_paraphrases
from ..data.clip import CONCEPTS
from .adapters import AdapterSet
from .target import TextToMotion
from .unlearn import TrainEvent, UnlearnConfig, concept_key, concept_prompts
from .weight_edit import lora_from_deltas

PRESET = "xattn-kv"
LAMBDA = 0.1  # the regulariser towards W0 (UCE's default)
RETAIN_PER_CONCEPT = 16  # captions of every other concept in the preservation set


def edited_layers(model: torch.nn.Module) -> dict[str, torch.nn.Linear]:
    """Module name -> the cross-attention key / value projections UCE edits."""
    out = {}
    for i, block in enumerate(model.blocks):
        out[f"blocks.{i}.cross_attn.to_k"] = block.cross_attn.to_k
        out[f"blocks.{i}.cross_attn.to_v"] = block.cross_attn.to_v
    return out


@torch.no_grad()
def context_tokens(model: torch.nn.Module, encode, prompts: list[str]) -> list[torch.Tensor]:
    """Per prompt, the (L_p, d) context vectors the cross-attention projections read (real tokens only).
    `encode`: prompts -> TextBatch (a text encoder's `encode`, or the encoder)."""
    batch = getattr(encode, "encode", encode)(prompts)
    device = model.null_token.device
    projected = model.text_proj(batch.tokens.to(device))
    return [projected[i][batch.mask[i].to(device)].double() for i in range(len(prompts))]


def aligned(target: torch.Tensor, n: int) -> torch.Tensor:
    """(n, d): rows of `target` (L, d) at the same relative positions as n tokens (first to first, last to last)."""
    idx = np.rint(np.linspace(0, len(target) - 1, n)).astype(int) if n > 1 else np.zeros(1, dtype=int)
    return target[torch.as_tensor(idx)]


def closed_form(W0: torch.Tensor, edit: torch.Tensor, target: torch.Tensor, preserve: torch.Tensor, preserve_w: torch.Tensor, erase_scale: float = 1.0, lam: float = LAMBDA) -> torch.Tensor:
    """The UCE solution for one projection. W0 (out, in); edit, target (N, in); preserve (M, in), preserve_w (M,)."""
    W0 = W0.double()
    eye = torch.eye(W0.shape[1], dtype=torch.float64, device=W0.device)
    mat1 = lam * W0 + erase_scale * (W0 @ target.T) @ edit + (W0 @ (preserve.T * preserve_w)) @ preserve
    mat2 = lam * eye + erase_scale * edit.T @ edit + (preserve.T * preserve_w) @ preserve
    # mat1 @ mat2^-1 by Cholesky: mat2 is symmetric positive definite (lam > 0), and torch's LU solve is the
    # path that MKL builds break after torch.set_num_threads(n >= 2) (batched there; kept off it everywhere)
    return torch.cholesky_solve(mat1.T, torch.linalg.cholesky(mat2)).T


def preservation_prompts(concept: str, given: tuple[str, ...] = ()) -> list[str]:
    """Captions of every other concept (our grammar, never the natural test prompts), or the user's own."""
    if given:
        return list(given)
    key = concept_key(concept)
    return [p for c in CONCEPTS if c != key for p in concept_paraphrases(c, np.random.default_rng(1), n=RETAIN_PER_CONCEPT)]


class UCE:
    """The trainer interface of `unlearn.Unlearner` for a closed-form edit: iterating computes the edit, installs it
    as LoRA adapter `name` (the base stays untouched) and yields one event. `edited` holds the edited tensors."""

    def __init__(self, model: TextToMotion, adapters: AdapterSet, config: UnlearnConfig, name: str, stop: threading.Event | None = None, erase_scale: float = 1.0, lam: float = LAMBDA):
        self.cfg = config.validated()
        self.adapters, self.encode, self.name = adapters, model.encode, name
        self.stop = stop or threading.Event()
        self.erase_scale, self.lam = float(erase_scale), float(lam)
        if not self.erase_scale > 0 or not self.lam > 0:
            raise ValueError(f"UCE needs a positive erase scale and lambda, got {erase_scale} and {lam}")
        self.prompts = concept_prompts(config.concept, config.extra_prompts, config.paraphrases)
        self.retain = preservation_prompts(config.concept, config.retain_prompts)
        self.anchor = getattr(config, "anchor", "").strip()
        self.edited: dict[str, torch.Tensor] = {}
        self.deltas: dict[str, torch.Tensor] = {}
        self.params: list = []
        self.step = 0
        self.summary: dict = {}

    def solve(self) -> tuple[dict[str, torch.Tensor], float, float]:
        """(new weights by module name, mean squared residual to the targets before and after the edit)."""
        model = self.adapters.base
        concept = context_tokens(model, self.encode, self.prompts)
        null = model.null_token.detach().reshape(1, -1).double()
        if self.anchor:
            anchor = context_tokens(model, self.encode, [self.anchor])[0]
            target = torch.cat([aligned(anchor, len(c)) for c in concept])
        else:
            target = null.expand(sum(len(c) for c in concept), -1)
        edit = torch.cat(concept)
        kept = context_tokens(model, self.encode, self.retain)
        preserve = torch.cat(kept + [null])
        weights = torch.full((len(preserve),), float(self.cfg.preserve_weight), dtype=torch.float64)
        # the null token weighs as much as the whole edit set (in squared norm: it is far shorter than text tokens)
        weights[-1] = self.erase_scale * (edit**2).sum() / (null**2).sum()
        out, before, after = {}, [], []
        for module_name, layer in edited_layers(model).items():
            W0 = layer.weight.detach().double()
            W = closed_form(W0, edit, target, preserve, weights, self.erase_scale, self.lam)
            goal = target @ W0.T
            before.append(((edit @ W0.T - goal) ** 2).sum(-1).mean().item())
            after.append(((edit @ W.T - goal) ** 2).sum(-1).mean().item())
            out[module_name] = W
        self.summary = {"edit_tokens": len(edit), "preserve_tokens": len(preserve) - 1, "anchor": self.anchor, "erase_scale": self.erase_scale, "lambda": self.lam, "residual_before": float(np.mean(before)), "residual_after": float(np.mean(after))}
        return out, float(np.mean(before)), float(np.mean(after))

    def __iter__(self) -> Iterator[TrainEvent]:
        if self.stop.is_set():
            return
        started = time.perf_counter()
        new, _before, after = self.solve()
        layers = edited_layers(self.adapters.base)
        self.deltas = {n: (W - layers[n].weight.detach().double()).float() for n, W in new.items()}
        self.edited = {f"{n}.weight": W.float().contiguous() for n, W in new.items()}
        rank = lora_from_deltas(self.adapters, self.name, self.deltas, PRESET)
        self.summary["lora_rank"] = rank
        self.params = self.adapters.lora_parameters(self.name)
        self.step = 1
        yield TrainEvent(1, 1, after, after, 0.0, 0.0, time.perf_counter() - started)

    def run(self) -> list[TrainEvent]:
        return list(self)

    @property
    def finished(self) -> bool:
        return self.step >= 1 and not self.stop.is_set()
