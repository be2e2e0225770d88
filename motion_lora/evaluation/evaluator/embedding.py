"""Running the evaluator over a dataset (embeddings, concept logits) and the metrics it reports on them."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from .. import metrics
from .model import Evaluator


def collate(items: list[dict]) -> dict:
    """Only the fields the evaluator needs, so any dataset returning at least these keys works."""
    return {
        "motion": torch.stack([torch.as_tensor(it["motion"], dtype=torch.float32) for it in items]),
        "length": torch.tensor([int(it["length"]) for it in items], dtype=torch.long),
        "caption": [it["caption"] for it in items],
        "concept": torch.tensor([int(it.get("concept", -1)) for it in items], dtype=torch.long),
    }


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def embed_dataset(evaluator: Evaluator, dataset, text_encoder, *, batch_size: int = 64, limit: int | None = None):
    """Run the evaluator over dataset items in order. Returns a dict of numpy arrays: text_emb (N, D),
    motion_emb (N, D), logits (N, C), concept (N,), plus the list of captions."""
    was_training = evaluator.training
    evaluator.eval()
    device = device_of(evaluator)
    n = len(dataset) if limit is None else min(limit, len(dataset))
    out = {"text_emb": [], "motion_emb": [], "logits": [], "concept": [], "caption": []}
    for start in range(0, n, batch_size):
        batch = collate([dataset[i] for i in range(start, min(n, start + batch_size))])
        pooled = text_encoder.encode(batch["caption"]).pooled.to(device)
        emb, logits = evaluator.motion_features(batch["motion"].to(device), batch["length"].to(device))
        out["text_emb"].append(evaluator.encode_text(pooled).cpu())
        out["motion_emb"].append(emb.cpu())
        out["logits"].append(logits.cpu())
        out["concept"].append(batch["concept"])
        out["caption"].extend(batch["caption"])
    evaluator.train(was_training)
    result = {k: torch.cat(v).numpy() for k, v in out.items() if k != "caption"}
    result["caption"] = out["caption"]
    return result


def evaluation_metrics(emb: dict, *, seed: int = 0, shuffles: int = 10, batch: int = 32) -> dict:
    """Concept top-1 accuracy (items with a known concept) and text->motion R@1/2/3 in batches of `batch`
    matched pairs, averaged over `shuffles` random orders of the items (the field shuffles once; averaging
    removes most of the dependence on which items share a batch)."""
    result = {"num_items": int(len(emb["concept"]))}
    known = emb["concept"] >= 0
    if known.any():
        result["concept_top1"] = float((emb["logits"][known].argmax(1) == emb["concept"][known]).mean())
    n = len(emb["text_emb"])
    if n >= batch:
        rng = np.random.default_rng(seed)
        orders = [rng.permutation(n) for _ in range(shuffles)]
        t, m = emb["text_emb"], emb["motion_emb"]
        r = np.mean([metrics.r_precision(t[o], m[o], batch=batch) for o in orders], axis=0)
        result.update({f"r_precision_top{k + 1}": float(v) for k, v in enumerate(r)})
        result["mm_dist"] = metrics.mm_dist(emb["text_emb"], emb["motion_emb"])
    return result
