"""Sampler quality against steps: proxy concept accuracy and physical sanity for every scheduler.

    python -m benchmarks.experiments.schedulers [--quick] [--steps 5 8 10 15 20] [--json out.json]

Every (scheduler, steps) setting samples the same fixed prompts with the same seeds (one seed per prompt,
120 frames, guidance 2.5) from the shipped base (checkpoints/t2m/motionbank_base) and is judged by the shipped
evaluator (checkpoints/evaluator):
* natural: the hand-written single-concept prompts (motion_lora/evaluation/prompts/natural.tsv), `--natural` per concept;
* train: caption-grammar phrasings, `--train` per concept;
presence = the prompt's concept is the evaluator's top-1 (motion_lora.evaluation.protocol.present). --quick (130 prompts,
paired SE ~3.5 points) is a smoke run; choosing the default needs every natural prompt (paired SE ~1.5 points;
about 40 min of one CPU core for the whole grid). Physical sanity
(motion_lora.evaluation.physics) is averaged over all the setting's motions. Because every setting starts from the same
noise, the difference to 20-step DDIM is a paired one: its standard error (over prompts) is much smaller
than that of either accuracy. The cost of a setting is its number of denoiser calls (steps): the schedulers'
own arithmetic is negligible beside one forward (benchmarks/performance/generate.py measures the seconds).

The default (sampler.DEFAULT_SCHEDULER / DEFAULT_STEPS) is the fewest-steps setting whose natural-prompt
accuracy is within 2 points of 20-step DDIM; the script prints that choice.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from motion_lora.data.clip import CONCEPT_INDEX
from motion_lora.evaluation import physics
from motion_lora.evaluation.protocol import EvalPrompt, Judge, natural_retain, present, retain_set
from motion_lora.model.checkpoints import resolve_base, resolve_evaluator
from motion_lora.model.generator import MotionGenerator, SampleOptions
from motion_lora.model.sampler import SCHEDULERS
from motion_lora.motion.features import denormalize, recover_joints

REFERENCE = ("ddim", 20)  # today's setting: every other one is compared with it
FRAMES, GUIDANCE, BATCH = 120, 2.5, 16
TOLERANCE = 0.02  # "within 2 points" of the reference on natural prompts


def prompt_subset(natural_per_concept: int, train_per_concept: int, known_concepts: int) -> list[EvalPrompt]:
    """A fixed subset: natural single-concept prompts and training phrasings of every concept the evaluator knows.
    `concept=""` excludes no concept from the retain-set builders, so they give every concept's prompts."""
    prompts = natural_retain("", natural_per_concept, seed=7) + retain_set("", per_concept=train_per_concept, seed=7, natural_per_concept=0)
    return [p for p in prompts if CONCEPT_INDEX[p.concept] < known_concepts]


def run_setting(gen: MotionGenerator, judge: Judge, prompts: list[EvalPrompt], scheduler: str, steps: int) -> dict:
    """Presence (N,) bool per prompt, physics averages and the sampling seconds of one setting."""
    opts = SampleOptions(frames=FRAMES, steps=steps, guidance=GUIDANCE, scheduler=scheduler).validated()
    feats, seconds = [], 0.0
    for start in range(0, len(prompts), BATCH):
        chunk = prompts[start : start + BATCH]
        t0 = time.perf_counter()
        x = gen.sample([p.text for p in chunk], list(range(start, start + len(chunk))), opts)  # (B, T, 263) normalised
        seconds += time.perf_counter() - t0
        feats.append(denormalize(x.numpy().astype(np.float64), gen.mean, gen.std))
    feats = np.concatenate(feats)  # (N, T, 263) unnormalised
    _, probs = judge.score(feats, np.full(len(feats), FRAMES))
    joints = recover_joints(feats)  # (N, T, 22, 3)
    return {"hits": present(probs, prompts), "physics": physics.sanity(list(joints)), "seconds": seconds}


def mean_se(x: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, dtype=np.float64)
    return float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else 0.0


def summarise(results: dict, kinds: np.ndarray) -> list[dict]:
    """One row per setting: accuracy per prompt kind with its SE, the paired difference to the reference, physics."""
    ref = results[REFERENCE]["hits"]
    rows = []
    for (name, steps), r in results.items():
        row = {"scheduler": name, "steps": steps, "seconds": r["seconds"], **r["physics"]}
        for kind in ("natural", "train"):
            keep = kinds == kind
            row[f"{kind}_n"] = int(keep.sum())
            row[f"{kind}_acc"], row[f"{kind}_se"] = mean_se(r["hits"][keep])
            row[f"{kind}_delta"], row[f"{kind}_delta_se"] = mean_se(r["hits"][keep].astype(float) - ref[keep].astype(float))
        rows.append(row)
    return rows


def choose_default(rows: list[dict]) -> dict:
    """The fewest steps within TOLERANCE of the reference on natural prompts; ties go to the higher accuracy."""
    ok = [r for r in rows if r["natural_delta"] >= -TOLERANCE - 1e-12]
    return min(ok, key=lambda r: (r["steps"], -r["natural_acc"], -r["train_acc"]))


def print_table(rows: list[dict]) -> None:
    print("| scheduler | steps | natural acc (± SE) | Δ vs DDIM-20 (± paired SE) | train-phrasing acc (± SE) | Δ vs DDIM-20 | skating | penetration (cm) | jitter (m/s²) | sampling s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['scheduler']} | {r['steps']} | {r['natural_acc']:.3f} ± {r['natural_se']:.3f} | {100 * r['natural_delta']:+.1f} ± {100 * r['natural_delta_se']:.1f} pt | "
            f"{r['train_acc']:.3f} ± {r['train_se']:.3f} | {100 * r['train_delta']:+.1f} ± {100 * r['train_delta_se']:.1f} pt | "
            f"{r['foot_skating_ratio']:.3f} | {r['floor_penetration_cm']:.2f} | {r['jitter_m_s2']:.2f} | {r['seconds']:.1f} |"
        )


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 natural + 2 training prompts per concept at steps 5 8 10 20 (about 10 min on one busy core)")
    p.add_argument("--natural", type=int, default=100, help="natural prompts per concept (default: all 415; the choice needs them: paired SE 1.5 points)")
    p.add_argument("--train", type=int, default=2, help="training phrasings per concept")
    p.add_argument("--steps", type=int, nargs="+", default=None, help="default: 5 6 8 10 15 20 (--quick: 5 8 10 20)")
    p.add_argument("--schedulers", nargs="+", default=list(SCHEDULERS), choices=list(SCHEDULERS))
    p.add_argument("--ckpt", default="motionbank_base")
    p.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = p.parse_args()
    natural_n, train_n = (3, 2) if args.quick else (args.natural, args.train)
    args.steps = args.steps or ([5, 8, 10, 20] if args.quick else [5, 6, 8, 10, 15, 20])
    torch.manual_seed(0)
    gen = MotionGenerator(resolve_base(args.ckpt))
    judge = Judge(resolve_evaluator("evaluator"), gen.text_encoder)
    prompts = prompt_subset(natural_n, train_n, judge.model.config.num_concepts)
    kinds = np.array(["natural" if p.kind == "natural_retain" else "train" for p in prompts])
    settings = [REFERENCE] + [(s, n) for s in args.schedulers for n in sorted(args.steps) if (s, n) != REFERENCE]
    started = time.perf_counter()
    results = {}
    for name, steps in settings:
        results[(name, steps)] = run_setting(gen, judge, prompts, name, steps)
        print(f"  {name:12s} {steps:3d} steps: natural {results[(name, steps)]['hits'][kinds == 'natural'].mean():.3f} ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    rows = summarise(results, kinds)
    print(f"base {args.ckpt}, evaluator checkpoints/evaluator; {len(prompts)} prompts ({(kinds == 'natural').sum()} natural, {(kinds == 'train').sum()} training phrasings), "
          f"one seed each, {FRAMES} frames, guidance {GUIDANCE}; {os.cpu_count()} CPU cores, torch {torch.__version__}, {torch.get_num_threads()} threads; {time.perf_counter() - started:.0f} s")
    print_table(rows)
    best = choose_default(rows)
    print(f"\nfewest steps within {100 * TOLERANCE:.0f} points of 20-step DDIM on natural prompts: {best['scheduler']} with {best['steps']} steps "
          f"(natural {best['natural_acc']:.3f} vs {rows[0]['natural_acc']:.3f}, {100 * best['natural_delta']:+.1f} ± {100 * best['natural_delta_se']:.1f} pt; "
          f"training phrasings {100 * best['train_delta']:+.1f} ± {100 * best['train_delta_se']:.1f} pt): {20 / best['steps']:.1f}x fewer denoiser calls")
    if args.json:
        args.json.write_text(json.dumps({"prompts": len(prompts), "rows": rows, "default": best}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
