"""Collateral damage of unlearning under different training options, on the shipped base model.

    python benchmarks/collateral.py [--concept kick] [--watch walk] [--seeds 2]

Each variant trains an adapter for the concept with `MotionLab.unlearn` (into a temporary folder), then measures
concept presence on its forget prompts (training phrasings, held-out phrasings, composites), presence on the
retain prompts (4 of every other concept) and on the watched neighbour concept, over `--seeds` sampling seeds.
Prints one table; the training column is the wall time of `MotionLab.unlearn` (training and saving).
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motion_lora.data.captions import concept_paraphrases  # noqa: E402
from motion_lora.data.clip import CONCEPTS  # noqa: E402
from motion_lora.evaluation import forget_set, retain_set  # noqa: E402
from motion_lora.service import MotionLab  # noqa: E402
from motion_lora.unlearn import UnlearnConfig  # noqa: E402


def variants(concept: str) -> dict[str, dict]:
    """Option label -> UnlearnConfig overrides (everything else is the default)."""
    one_each = tuple(concept_paraphrases(c, np.random.default_rng(1), n=1)[0] for c in CONCEPTS if c != concept)
    return {
        "plain ESD (λ 0), 200 iterations, rollouts every 10": dict(preserve_weight=0.0, iterations=200, pool_refresh=10),
        "plain ESD (λ 0), 300 iterations": dict(preserve_weight=0.0),
        "λ 1, one caption of every other concept as retain prompts": dict(retain_prompts=one_each),
        "λ 0.5, nearest retain prompts": dict(preserve_weight=0.5),
        "λ 1, nearest retain prompts, rollouts every 10": dict(pool_refresh=10),
        "λ 1, nearest retain prompts (default)": dict(),
    }


def measure(lab: MotionLab, concept: str, watch: str, weights: dict[str, float], seeds: list[int]) -> dict:
    """Mean presence on the forget set, the retain set, and the retain prompts of the watched concept."""
    forget, retain = forget_set(concept, per_kind=8), retain_set(concept, per_concept=4)
    f = np.mean([lab.presence(forget, weights, seed=s) for s in seeds], axis=0)
    r = np.mean([lab.presence(retain, weights, seed=s) for s in seeds], axis=0)
    watched = [i for i, p in enumerate(retain) if p.concept == watch]
    return {"forget": float(f.mean()), "retain": float(r.mean()), "watch": float(r[watched].mean())}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concept", default="kick")
    p.add_argument("--watch", default="walk", help="the neighbour concept to report on its own")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args()
    seeds = [1000 * i for i in range(args.seeds)]
    lab = MotionLab(user_dir=tempfile.mkdtemp(prefix="collateral_"))
    base = measure(lab, args.concept, args.watch, {}, seeds)
    print(f"Collateral damage of '{args.concept}' adapters; base: forget {base['forget']:.3f}, retain {base['retain']:.3f}, {args.watch} {base['watch']:.2f} ({args.seeds} seeds)")
    print(f"| training options | forget presence | retain drop (points) | {args.watch} | training |")
    print("|---|---|---|---|---|")
    rows = []
    for label, overrides in variants(args.concept).items():
        start = time.perf_counter()
        info = lab.unlearn(UnlearnConfig(concept=args.concept, **overrides), threading.Event())
        seconds = time.perf_counter() - start
        m = measure(lab, args.concept, args.watch, {info.name: 1.0}, seeds)
        rows.append({"options": label, "seconds": seconds, **m})
        print(f"| {label} | {m['forget']:.3f} | {100 * (base['retain'] - m['retain']):.1f} | {m['watch']:.2f} | {seconds:.0f} s |", flush=True)
    if args.json:
        args.json.write_text(json.dumps({"concept": args.concept, "watch": args.watch, "base": base, "variants": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
