"""Forget/retain evaluation of generated motion in our proxy evaluator's space (docs/models.md).

Prompt sets are drawn from the caption grammar, so evaluation needs no dataset at run time:
* forget set: the target concept in training phrasings, held-out phrasings, composites that contain it, and
  the hand-written natural prompts that name it (`motion_lora.evaluation.prompts`, kind "natural");
* retain set: every other concept, in training phrasings and in natural prompts (kind "natural_retain"),
  leaving out any prompt the adapter was trained to preserve (`exclude`): a preserved prompt would measure
  memorisation, not retention.
Real-motion statistics for FID come from `reference.safetensors` shipped beside the evaluator (test-split
clip embeddings with their concepts).

Presence of a concept in a generated motion = the evaluator's top-1 concept for single-concept prompts,
and "among the top 2" for composites and two-concept natural prompts (sequences such as "walks, then kicks").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..data.captions import caption_segments
from ..data.clip import CONCEPT_INDEX, CONCEPTS, Segment
from ..model.checkpoints import read_weights
from ..model.text_encoder import TextEncoder
from ..motion.features import normalize
from . import metrics
from .evaluator import REFERENCE_FILE, Evaluator
from .prompts import natural_prompts, normalise_text

COMPOSITE_TOP_K = 2
# Concepts with procedural generators make the composites (the mocap-only ones have a single clip each).
COMPOSABLE = ("walk", "run", "jump", "kick", "punch", "wave", "clap", "raise_arms", "squat", "bow", "jumping_jacks", "side_step", "turn_around", "march", "throw", "stretch")
SIDES = {"kick": ("left", "right"), "punch": ("left", "right"), "wave": ("left", "right", "both"), "throw": ("left", "right")}
RETAIN_DRAWS = 20  # grammar draws allowed per retain prompt before giving up on a concept


@dataclass(frozen=True)
class EvalPrompt:
    text: str
    concept: str  # the concept whose presence is measured (the target on the forget set)
    kind: str  # "train" | "heldout" | "composite" | "natural" | "retain" | "natural_retain"
    concepts: tuple[str, ...] = ()  # every concept the prompt asks for, when it asks for more than `concept`

    @property
    def top_k(self) -> int:
        """How high `concept` must rank to count as present: composites and sequences hold two concepts."""
        return COMPOSITE_TOP_K if self.kind == "composite" or len(self.concepts) > 1 else 1


def _segment(concept: str, rng: np.random.Generator, start: int = 0) -> Segment:
    side = str(rng.choice(SIDES[concept])) if concept in SIDES else None
    attrs = {"side": side} if side else {}
    fine = f"{concept}_{side}" if side else concept
    return Segment(concept=concept, fine=fine, start=start, end=start + 40, attrs=attrs)


def _take(items: list, limit: int | None, seed: int) -> list:
    """`limit` items drawn without replacement, kept in their original order; None = all of them."""
    if limit is None or limit >= len(items):
        return list(items)
    keep = np.random.default_rng(seed).choice(len(items), size=max(limit, 0), replace=False)
    return [items[i] for i in sorted(keep.tolist())]


def natural_forget(concept: str, limit: int | None = None, seed: int = 0) -> list[EvalPrompt]:
    """The natural prompts that name `concept` (sequences too; `limit` of them, None = all)."""
    return [EvalPrompt(p.text, concept, "natural", p.concepts) for p in _take(natural_prompts(concept), limit, seed)]


def natural_retain(concept: str, per_concept: int | None = 4, seed: int = 1, exclude: frozenset[str] = frozenset()) -> list[EvalPrompt]:
    """Single-concept natural prompts of every other concept, `per_concept` each (None = all), minus `exclude`
    (normalised texts)."""
    out = []
    for c in CONCEPTS:
        if c == concept:
            continue
        pool = [p for p in natural_prompts(c) if p.concepts == (c,) and normalise_text(p.text) not in exclude]
        out += [EvalPrompt(p.text, c, "natural_retain") for p in _take(pool, per_concept, seed + CONCEPT_INDEX[c])]
    return out


def forget_set(concept: str, per_kind: int = 16, seed: int = 0, natural: int | None = None) -> list[EvalPrompt]:
    """Prompts that ask for `concept`: training phrasings, held-out phrasings, composites, and natural prompts
    (`natural` of them; None = every one that names the concept, 0 = none)."""
    if concept not in CONCEPT_INDEX:
        raise ValueError(f"no evaluation prompts for {concept!r}: the evaluator knows {', '.join(CONCEPTS)}")
    rng = np.random.default_rng(seed)
    out = []
    for kind, heldout in (("train", False), ("heldout", True)):
        for _ in range(per_kind):
            out.append(EvalPrompt(caption_segments([_segment(concept, rng)], rng, n=1, heldout=heldout)[0], concept, kind))
    others = [c for c in COMPOSABLE if c != concept]
    for i in range(per_kind):
        other = str(rng.choice(others))
        order = [concept, other] if i % 2 else [other, concept]
        segments = [_segment(c, rng, start=40 * j) for j, c in enumerate(order)]
        out.append(EvalPrompt(caption_segments(segments, rng, n=1)[0], concept, "composite"))
    return out + natural_forget(concept, natural, seed)


def retain_set(concept: str, per_concept: int = 4, seed: int = 1, natural_per_concept: int | None = 4, exclude=()) -> list[EvalPrompt]:
    """Prompts of every other concept: `per_concept` training phrasings and `natural_per_concept` natural
    prompts each (None = all, 0 = none). Prompts in `exclude` (an adapter's preservation prompts; compared
    normalised) are never used: a grammar draw that hits one is drawn again."""
    excluded = frozenset(normalise_text(t) for t in exclude)
    rng = np.random.default_rng(seed)
    out = []
    for c in CONCEPTS:
        if c == concept:
            continue
        kept = 0
        for _ in range(RETAIN_DRAWS * per_concept):  # bounded: exclusions could cover a small grammar
            if kept == per_concept:
                break
            text = caption_segments([_segment(c, rng)], rng, n=1)[0]
            if normalise_text(text) not in excluded:
                out.append(EvalPrompt(text, c, "retain"))
                kept += 1
    return out + natural_retain(concept, natural_per_concept, seed, excluded)


def prompt_sets(concept: str, *, per_kind: int = 16, per_concept: int = 4, natural_forget: int | None = None, natural_per_concept: int | None = 4, preserved=()) -> dict[str, list[EvalPrompt]]:
    """The forget and retain sets of an adapter that erases `concept` and was trained to preserve `preserved`."""
    return {
        "forget": forget_set(concept, per_kind, natural=natural_forget),
        "retain": retain_set(concept, per_concept, natural_per_concept=natural_per_concept, exclude=preserved),
    }


class Judge:
    """The proxy evaluator with what it needs: text encoder, normaliser, reference embeddings."""

    def __init__(self, directory: str | Path, text_encoder: TextEncoder, device: str = "cpu"):
        directory = Path(directory)
        self.model = Evaluator.load(directory, device)
        self.text_encoder = text_encoder
        self.mean = np.load(directory / "Mean.npy", allow_pickle=False)
        self.std = np.load(directory / "Std.npy", allow_pickle=False)
        ref = read_weights(directory / REFERENCE_FILE) if (directory / REFERENCE_FILE).is_file() else None
        self.ref_emb = ref["motion_emb"].numpy() if ref else None
        self.ref_concept = ref["concept"].numpy() if ref else None

    @torch.no_grad()
    def score(self, features: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Unnormalised features (B, T, 263) -> unit embeddings (B, 512), concept probabilities (B, 23)."""
        x = torch.from_numpy(normalize(features, self.mean, self.std).astype(np.float32))
        emb, logits = self.model.motion_features(x, torch.as_tensor(lengths))
        return emb.numpy(), torch.softmax(logits, -1).numpy()

    @torch.no_grad()
    def text(self, prompts: list[str]) -> np.ndarray:
        return self.model.encode_text(self.text_encoder.encode(prompts).pooled).numpy()

    def top_concepts(self, probs: np.ndarray, k: int = 3) -> list[list[tuple[str, float]]]:
        return [[(CONCEPTS[i], float(p[i])) for i in np.argsort(-p)[:k]] for p in probs]

    def reference(self, concepts: set[str]) -> np.ndarray | None:
        if self.ref_emb is None:
            return None
        keep = np.isin(self.ref_concept, [CONCEPT_INDEX[c] for c in concepts])
        return self.ref_emb[keep] if keep.sum() >= 8 else None


def present(probs: np.ndarray, prompts: list[EvalPrompt]) -> np.ndarray:
    """(N, C) probabilities -> (N,) bool: is each prompt's concept present in its motion."""
    ranks = np.argsort(-probs, axis=1)
    out = []
    for row, p in zip(ranks, prompts):
        out.append(CONCEPT_INDEX[p.concept] in row[: p.top_k])
    return np.array(out)


def set_metrics(judge: Judge, prompts: list[EvalPrompt], runs: list[tuple[np.ndarray, np.ndarray]], seed: int = 0) -> dict:
    """Metrics of one prompt set over repeated generations. runs: [(features (N, T, 263), lengths (N,))].

    Per-prompt metrics (presence, overall and by concept / kind, and mm_dist) get a 95% bootstrap interval over
    prompts and repeats (`lo`, `hi`, `n_prompts`, `n_repeats`); set-level ones (R-precision, FID, diversity) the
    standard error over repeats with its n (`se`, `n`). `ci95` is the bootstrap half-width, nan for set-level ones."""
    text = judge.text([p.text for p in prompts])
    per_run: dict[str, list[float]] = {}
    hits, dists = [], []  # (R, N) each
    ref = judge.reference({p.concept for p in prompts})
    for r, (features, lengths) in enumerate(runs):
        emb, probs = judge.score(features, lengths)
        hits.append(present(probs, prompts).astype(np.float64))
        dists.append(np.linalg.norm(text - emb, axis=1))
        values = {}
        if len(prompts) >= metrics.R_PRECISION_BATCH:
            order = np.random.default_rng(seed + r).permutation(len(prompts))
            for k, v in enumerate(metrics.r_precision(text[order], emb[order])):
                values[f"r_precision_top{k + 1}"] = float(v)
        if len(prompts) >= 20:
            values["diversity"] = metrics.diversity(emb, pairs=min(300, len(prompts) - 1), rng=seed + r)
        if ref is not None:
            values["fid"] = metrics.fid(ref, emb)
        for k, v in values.items():
            per_run.setdefault(k, []).append(float(v))
    hits_t, dists_t = np.array(hits).T, np.array(dists).T  # (N, R)

    def boot(table: np.ndarray) -> dict:
        out = metrics.bootstrap_interval(table, rng=seed)
        return {**out, "ci95": (out["hi"] - out["lo"]) / 2}

    def groups(key) -> dict:
        names = sorted({key(p) for p in prompts})
        return {g: boot(hits_t[[i for i, p in enumerate(prompts) if key(p) == g]]) for g in names}

    summary = {"presence": boot(hits_t), "mm_dist": boot(dists_t)}
    summary.update({k: {**metrics.mean_se(v), "ci95": float("nan")} for k, v in per_run.items()})
    def kind_groups(kind: str) -> dict:  # presence by concept within one prompt kind
        idx = [i for i, p in enumerate(prompts) if p.kind == kind]
        return {c: boot(hits_t[[i for i in idx if prompts[i].concept == c]]) for c in sorted({prompts[i].concept for i in idx})}

    return {"n_prompts": len(prompts), "repeats": len(runs), "metrics": summary,
            "presence_by_concept": groups(lambda p: p.concept), "presence_by_kind": groups(lambda p: p.kind),
            "presence_by_kind_and_concept": {kind: kind_groups(kind) for kind in sorted({p.kind for p in prompts})}}
