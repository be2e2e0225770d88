"""Anchored erasure: do erased prompts turn into the anchor's motion, and does that motion stay physical?

    python -m benchmarks.experiments.anchor [--concept kick] [--anchor "a person stands still"] [--adapter NAME] [--seeds 2]

Trains an adapter with `--anchor` through `MotionLab.unlearn` (or evaluates an existing `--adapter`), then
generates the concept's forget prompts (natural prompts, training and held-out phrasings, composites) with the
base and with the adapter from the same noise, and reports per prompt kind the share whose evaluator top-1 is
the anchor's concept, the share still showing the erased concept, and physical sanity (foot skating, floor
penetration, jitter) of both beside the base's own motions for the anchor prompt. The anchor's concept is what
the evaluator calls the base's motions for the anchor prompt (majority over seeds) unless `--anchor_concept`
names it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

from motion_lora.data.clip import CONCEPT_INDEX, CONCEPTS
from motion_lora.evaluation import physics
from motion_lora.evaluation.protocol import EvalPrompt, forget_set
from motion_lora.model.generator import SampleOptions
from motion_lora.motion.features import recover_joints
from motion_lora.serving.service import MotionLab
from motion_lora.unlearning.unlearn import UnlearnConfig

FRAMES = 120


def top1(lab: MotionLab, feats: np.ndarray) -> np.ndarray:
    """(N, T, 263) unnormalised features -> (N,) evaluator concept indices."""
    _, probs = lab.judge.score(feats, np.full(len(feats), feats.shape[1]))
    return probs.argmax(-1)


def generate(lab: MotionLab, prompts: list[EvalPrompt], weights: dict[str, float], seeds: list[int]) -> list[np.ndarray]:
    return [lab.generate_set(prompts, weights, 1.0, SampleOptions(frames=FRAMES), seed=s) for s in seeds]


def anchor_concept(lab: MotionLab, anchor: str, seeds: int = 8) -> str:
    """The evaluator's majority concept of the base's motions for the anchor prompt."""
    feats = generate(lab, [EvalPrompt(anchor, "stand", "anchor")], {}, list(range(seeds)))
    votes = Counter(CONCEPTS[i] for f in feats for i in top1(lab, f))
    return votes.most_common(1)[0][0]


def summary(lab: MotionLab, prompts: list[EvalPrompt], runs: list[np.ndarray], concept: str, anchor: str) -> dict:
    """Per prompt kind: share showing the anchor, share still showing the concept; physics over all motions."""
    labels = np.concatenate([top1(lab, f) for f in runs])  # (seeds * N,)
    kinds = np.array([p.kind for p in prompts] * len(runs))
    out = {"physics": physics.sanity([j for f in runs for j in recover_joints(f)]), "by_kind": {}}
    for kind in ["all", *dict.fromkeys(p.kind for p in prompts)]:
        keep = np.ones(len(kinds), bool) if kind == "all" else kinds == kind
        out["by_kind"][kind] = {
            "n": int(keep.sum()),
            "anchor": float((labels[keep] == CONCEPT_INDEX[anchor]).mean()),
            "concept": float((labels[keep] == CONCEPT_INDEX[concept]).mean()),
        }
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concept", default="kick")
    p.add_argument("--anchor", default="a person stands still")
    p.add_argument("--anchor_concept", default=None, choices=CONCEPTS, help="default: the evaluator's call on the base's anchor motions")
    p.add_argument("--adapter", default=None, help="evaluate this adapter instead of training one")
    p.add_argument("--negative_guidance", type=float, default=1.0)
    p.add_argument("--per_kind", type=int, default=8, help="grammar prompts per kind (all natural prompts are used)")
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    lab = MotionLab(user_dir=tempfile.mkdtemp(prefix="anchor_"))
    seeds = [1000 * i for i in range(args.seeds)]
    target = args.anchor_concept or anchor_concept(lab, args.anchor)
    seconds = None
    if args.adapter:
        name = lab.adapter_name(args.adapter)
    else:
        start = time.perf_counter()
        name = lab.unlearn(UnlearnConfig(concept=args.concept, anchor=args.anchor, negative_guidance=args.negative_guidance), threading.Event()).name
        seconds = time.perf_counter() - start
    prompts = forget_set(args.concept, per_kind=args.per_kind)
    result = {
        "concept": args.concept, "anchor": args.anchor, "anchor_concept": target, "adapter": name, "training_seconds": seconds, "seeds": seeds,
        "anchor_prompt_physics": physics.sanity([j for f in generate(lab, [EvalPrompt(args.anchor, target, "anchor")], {}, list(range(8))) for j in recover_joints(f)]),
        "base": summary(lab, prompts, generate(lab, prompts, {}, seeds), args.concept, target),
        "adapter_result": summary(lab, prompts, generate(lab, prompts, {name: 1.0}, seeds), args.concept, target),
    }
    print(f"Anchor {args.anchor!r} (evaluator concept: {target}) for '{args.concept}', adapter {name}" + (f", trained in {seconds:.0f} s" if seconds else ""))
    print("| prompt kind | n | base: anchor | adapter: anchor | base: " + args.concept + " | adapter: " + args.concept + " |")
    print("|---|---|---|---|---|---|")
    for kind, b in result["base"]["by_kind"].items():
        a = result["adapter_result"]["by_kind"][kind]
        print(f"| {kind} | {b['n']} | {b['anchor']:.3f} | {a['anchor']:.3f} | {b['concept']:.3f} | {a['concept']:.3f} |")
    print("\n| physics | base on the forget prompts | adapter on the forget prompts | base on the anchor prompt |")
    print("|---|---|---|---|")
    for key in result["base"]["physics"]:
        print(f"| {key} | {result['base']['physics'][key]:.3f} | {result['adapter_result']['physics'][key]:.3f} | {result['anchor_prompt_physics'][key]:.3f} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
