"""Training the evaluator: multi-positive InfoNCE between text and motion plus concept cross-entropy, resumable."""

from __future__ import annotations

import math
import random
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from ...model.pretrain import save_atomic
from .embedding import collate, embed_dataset, evaluation_metrics
from .model import Evaluator, EvaluatorConfig

MAX_LOGIT_SCALE = 100.0  # CLIP's cap on the learnable inverse temperature


def contrastive_loss(
    text_emb: torch.Tensor, motion_emb: torch.Tensor, captions: list[str], logit_scale: torch.Tensor
) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matched unit embeddings (B, D).

    A caption can occur twice in a batch (several clips share a phrasing); treating the other copy as a
    negative would push apart pairs that are equally correct. So every pair with the same caption is a
    positive and the target is spread uniformly over them (multi-positive cross-entropy).
    """
    ids = {c: i for i, c in enumerate(dict.fromkeys(captions))}
    key = torch.tensor([ids[c] for c in captions], device=text_emb.device)
    positives = (key[:, None] == key[None, :]).float()
    target = positives / positives.sum(1, keepdim=True)  # symmetric, so it serves both directions
    logits = logit_scale.exp().clamp(max=MAX_LOGIT_SCALE) * text_emb @ motion_emb.T  # (B texts, B motions)
    t2m = torch.sum(-target * F.log_softmax(logits, dim=1), dim=1).mean()
    m2t = torch.sum(-target * F.log_softmax(logits.T, dim=1), dim=1).mean()
    return (t2m + m2t) / 2


def random_batches(n: int, batch_size: int, generator: torch.Generator):
    """Endless batches of indices: a fresh permutation per epoch, the last short batch of an epoch dropped
    (unless the whole set is smaller than one batch)."""
    batch_size = min(batch_size, n)
    while True:
        perm = torch.randperm(n, generator=generator).tolist()
        for i in range(0, n - batch_size + 1, batch_size):
            yield perm[i : i + batch_size]


def lr_at(step: int, steps: int, lr: float, warmup_frac: float) -> float:
    """Linear warm-up then cosine decay to 10% of lr."""
    warmup = max(1, int(steps * warmup_frac))
    if step < warmup:
        return lr * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def seed_everything(seed: int) -> None:
    # Datasets may draw captions/crops from python, numpy or torch global state; seed all three.
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train_evaluator(
    dataset_train,
    dataset_val=None,
    *,
    config: EvaluatorConfig | None = None,
    steps: int = 5000,
    batch_size: int = 64,
    lr: float = 3e-4,
    seed: int = 0,
    device: str | torch.device = "cpu",
    text_encoder=None,
    log_every: int = 500,
    val_limit: int = 1024,
    log=print,
    state_path: Path | None = None,
    ckpt_every: int = 500,
) -> Evaluator:
    """Train on any Dataset whose items are dicts with motion (T, 263), length, caption and concept.
    Deterministic for a seed on CPU. Returns the model in eval mode with gradients off.

    With `state_path`, the model, optimiser and step are saved there every `ckpt_every` steps and a run
    finds and resumes them (the batch order is replayed, so a resumed run sees the same batches)."""
    if len(dataset_train) == 0:
        raise ValueError("the training set is empty")
    if text_encoder is None:
        from ...model.text_encoder import TextEncoder

        text_encoder = TextEncoder(device=device)
    config = config or EvaluatorConfig()
    seed_everything(seed)
    device = torch.device(device)
    model = Evaluator(config).to(device).train()
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and n != "motion_encoder.pos"]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2 or n == "motion_encoder.pos"]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr
    )
    batches = random_batches(len(dataset_train), batch_size, torch.Generator().manual_seed(seed))
    first = 0
    if state_path is not None and Path(state_path).is_file():
        state = torch.load(state_path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        first = int(state["step"])
        for _ in range(first):
            next(batches)
        log(f"resumed from {state_path} at step {first}")
    running: dict[str, float] = {}
    bar = tqdm(range(first, steps), desc="evaluator", dynamic_ncols=True, mininterval=1.0, initial=first, total=steps)
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, steps, lr, config.warmup_frac)
        batch = collate([dataset_train[i] for i in next(batches)])
        with torch.no_grad():
            pooled = text_encoder.encode(batch["caption"]).pooled.to(device)
        emb, logits = model.motion_features(batch["motion"].to(device), batch["length"].to(device))
        text_emb = model.encode_text(pooled)
        loss_c = contrastive_loss(text_emb, emb, batch["caption"], model.logit_scale)
        concept = batch["concept"].to(device)
        has_concept = bool((concept >= 0).any())
        loss_k = F.cross_entropy(logits, concept, ignore_index=-1) if has_concept else logits.sum() * 0.0
        loss = loss_c + config.concept_weight * loss_k
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

        for k, v in (("loss", loss.item()), ("nce", loss_c.item()), ("ce", loss_k.item())):
            running[k] = v if k not in running else 0.98 * running[k] + 0.02 * v  # smoothed for the bar
        postfix = {k: f"{v:.3f}" for k, v in running.items()}
        bar.set_postfix(postfix | {"T": f"{1 / model.logit_scale.exp().item():.3f}"}, refresh=False)
        due = log_every and ((step + 1) % log_every == 0 or step + 1 == steps)
        if due and dataset_val is not None and len(dataset_val):
            val_emb = embed_dataset(model, dataset_val, text_encoder, limit=val_limit)
            m = evaluation_metrics(val_emb, seed=seed, shuffles=3)
            shown = " ".join(f"{k} {v:.4f}" for k, v in m.items() if k != "num_items")
            log(f"step {step + 1}: train loss {running['loss']:.4f} | val {shown}")
        if state_path is not None and ckpt_every and (step + 1) % ckpt_every == 0 and step + 1 < steps:
            state = {"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step + 1}
            save_atomic(state, Path(state_path))
    return model.eval().requires_grad_(False)
