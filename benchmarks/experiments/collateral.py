"""Collateral damage of unlearning under different training options, on the shipped base model.

    python -m benchmarks.experiments.collateral [--concept kick] [--watch punch] [--seeds 2] [--kind natural|grammar]

Each variant trains an adapter for the concept with `MotionLab.unlearn` (into a temporary folder), then measures
concept presence on its forget prompts, presence on the retain prompts and on the watched neighbour concept,
over `--seeds` sampling seeds. `--kind natural` (default) uses the hand-written natural prompts
(motion_lora/evaluation/prompts/natural.tsv): every one naming the concept to forget, every single-concept prompt of the
other concepts to retain. `--kind grammar` uses our caption grammar's phrasings and composites (8 per kind,
4 per other concept). Prints one table; the training column is the wall time of `MotionLab.unlearn`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from motion_lora.data.captions import concept_paraphrases
from motion_lora.data.clip import CONCEPTS
from motion_lora.evaluation.protocol import forget_set, natural_forget, natural_retain, retain_set
from motion_lora.serving.service import MotionLab
from motion_lora.unlearning.adapters import LoraSpec
from motion_lora.unlearning.unlearn import UnlearnConfig, concept_prompts, nearest_retain_prompts


def variants(concept: str, lab: MotionLab) -> dict[str, dict]:
    """Option label -> UnlearnConfig overrides (everything else is the default)."""
    one_each = tuple(concept_paraphrases(c, np.random.default_rng(1), n=1)[0] for c in CONCEPTS if c != concept)
    prompts = concept_prompts(concept)
    old = dict(lr=2e-4, preserve_weight=1.0)  # the feature-space base's default
    return {
        "default: lr 1e-4, λ 2, 24 nearest retain prompts, 4 per concept": dict(),
        "plain ESD (λ 0)": dict(preserve_weight=0.0),
        "λ 2, one caption of every other concept as retain prompts": dict(retain_prompts=one_each),
        "λ 2, 12 nearest retain prompts": dict(retain_prompts=tuple(nearest_retain_prompts(concept, prompts, lab.generator.text_encoder, n=12, per_concept=12))),
        "default, 32 paraphrases": dict(paraphrases=32),
        "default, anchor 'a person stands still'": dict(anchor="a person stands still"),
        # The teacher rollouts that provide x_t (the default: 10 UniPC steps)
        "default, rollouts 20 DDIM steps": dict(scheduler="ddim", rollout_steps=20),
        "default, rollouts 12 UniPC steps (the sampling default)": dict(scheduler="unipc", rollout_steps=12),
        "default, rollouts 10 DPM-Solver++ steps": dict(scheduler="dpmsolver++", rollout_steps=10),
        # Step size and preservation (the feature-space base needed lr 2e-4; the latent base pays for it in collateral)
        "lr 2e-4, λ 1 (the feature-space base's default)": old,
        "lr 2e-4, λ 2": dict(lr=2e-4, preserve_weight=2.0),
        "lr 1e-4, λ 1": dict(preserve_weight=1.0),
        "default, lr 3e-4": dict(lr=3e-4),
        "default, η 2": dict(negative_guidance=2.0),
        "default, 150 iterations": dict(iterations=150),
        # Which layers LoRA adapts: ESD-x (Gandikota et al. 2023) edits only the cross-attention for specific concepts
        "ESD-x: cross-attention only, lr 2e-4, λ 1 (--targets xattn)": dict(lora=LoraSpec(preset="xattn"), **old),
        "ESD-x, default otherwise": dict(lora=LoraSpec(preset="xattn")),
    }


def evaluation_prompts(concept: str, kind: str) -> tuple[list, list]:
    """(forget prompts, retain prompts) of one prompt kind."""
    if kind == "natural":
        return natural_forget(concept), natural_retain(concept, per_concept=None)
    return forget_set(concept, per_kind=8, natural=0), retain_set(concept, per_concept=4, natural_per_concept=0)


def measure(lab: MotionLab, concept: str, watch: str, weights: dict[str, float], seeds: list[int], kind: str) -> dict:
    """Mean presence on the forget set, the retain set (averaged per concept, so every concept counts once),
    and the retain prompts of the watched concept; `per_concept` holds each retained concept's presence."""
    forget, retain = evaluation_prompts(concept, kind)
    f = np.mean([lab.presence(forget, weights, seed=s) for s in seeds], axis=0)
    r = np.mean([lab.presence(retain, weights, seed=s) for s in seeds], axis=0)
    per_concept = {c: float(np.mean([r[i] for i, p in enumerate(retain) if p.concept == c])) for c in dict.fromkeys(p.concept for p in retain)}
    return {"forget": float(f.mean()), "retain": float(np.mean(list(per_concept.values()))), "watch": per_concept[watch], "per_concept": per_concept, "n_forget": len(forget), "n_retain": len(retain)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concept", default="kick")
    p.add_argument("--watch", default="punch", help="the neighbour concept to report on its own")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--kind", default="natural", choices=["natural", "grammar"], help="which evaluation prompts")
    p.add_argument("--only", nargs="*", default=None, help="run only the variants whose label contains one of these words")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args()
    seeds = [1000 * i for i in range(args.seeds)]
    lab = MotionLab(user_dir=tempfile.mkdtemp(prefix="collateral_"))
    base = measure(lab, args.concept, args.watch, {}, seeds, args.kind)
    print(f"Collateral damage of '{args.concept}' adapters on {args.kind} prompts ({base['n_forget']} forget, {base['n_retain']} retain, {args.seeds} seeds); "
          f"base: forget {base['forget']:.3f}, retain {base['retain']:.3f} (mean over concepts), {args.watch} {base['watch']:.2f}")
    print(f"| training options | forget presence | retain drop (points) | largest drop | {args.watch} drop (points) | training |")
    print("|---|---|---|---|---|---|")
    rows = []
    for label, overrides in variants(args.concept, lab).items():
        if args.only and not any(word in label for word in args.only):
            continue
        start = time.perf_counter()
        info = lab.unlearn(UnlearnConfig(concept=args.concept, **overrides), threading.Event())
        seconds = time.perf_counter() - start
        m = measure(lab, args.concept, args.watch, {info.name: 1.0}, seeds, args.kind)
        worst = max(m["per_concept"], key=lambda c: base["per_concept"][c] - m["per_concept"][c])
        rows.append({"options": label, "seconds": seconds, **m})
        print(f"| {label} | {m['forget']:.3f} | {100 * (base['retain'] - m['retain']):.1f} | {worst} {100 * (base['per_concept'][worst] - m['per_concept'][worst]):.0f} "
              f"| {100 * (base['watch'] - m['watch']):.0f} | {seconds:.0f} s |", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"concept": args.concept, "watch": args.watch, "base": base, "variants": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
