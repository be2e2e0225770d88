"""Evaluate the base model and the evaluator on MotionBank's test split (proxy metrics, DESIGN.md §5).

    python -m motion_lora.eval_base --data data/motionbank --ckpt motionbank_base --repeats 2

For every test clip, one training-grammar caption and one held-out phrasing (when the clip has one) are
used as prompts, at the clip's own length. Writes <ckpt>/eval/metrics.json and report.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from . import metrics, physics
from .checkpoints import resolve_base, resolve_evaluator
from .data.clip import CONCEPTS
from .data.dataset import MotionDataset, read_label
from .evaluation import Judge
from .evaluator import embed_dataset, evaluation_metrics
from .generator import MotionGenerator, SampleOptions
from .sampler import DEFAULT_STEPS

BATCH = 16


def test_prompts(data: Path) -> list[dict]:
    """(caption, concept, length, kind) per prompt: a training phrasing and a held-out one per test clip."""
    ds = MotionDataset(data, "test", captions="all", random_crop=False)
    by_clip: dict[str, dict] = {}
    for entry in ds.entries:
        label = read_label(data, entry.id) or {}
        composite = bool(label.get("composite"))
        length = (min(len(entry.features), 196) // 4) * 4
        for caption, heldout in zip(entry.captions, entry.heldout):
            kind = "composite" if composite else ("heldout" if heldout else "train")
            key = (entry.id, "heldout" if heldout else "train")
            if key not in by_clip:
                by_clip[key] = {"caption": caption, "concept": entry.concept, "length": length, "kind": kind, "id": entry.id}
    return list(by_clip.values())


def generate(gen: MotionGenerator, items: list[dict], seed: int, steps: int) -> list[np.ndarray]:
    """Unnormalised features of each prompt at its length, sampled in length-sorted batches."""
    order = sorted(range(len(items)), key=lambda i: items[i]["length"])
    out: list[np.ndarray | None] = [None] * len(items)
    for start in range(0, len(order), BATCH):
        idx = order[start : start + BATCH]
        lengths = [items[i]["length"] for i in idx]
        opts = SampleOptions(frames=max(lengths), steps=steps)
        feats = gen.sample([items[i]["caption"] for i in idx], [seed + i for i in idx], opts, lengths=lengths).cpu().numpy()
        for row, i in enumerate(idx):
            out[i] = feats[row, : lengths[row]] * gen.std + gen.mean
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motion_lora.eval_base", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/motionbank"))
    p.add_argument("--ckpt", default="motionbank_base")
    p.add_argument("--evaluator", default="evaluator")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    started = time.perf_counter()
    gen = MotionGenerator(resolve_base(args.ckpt))
    judge = Judge(resolve_evaluator(args.evaluator), gen.text_encoder)
    result: dict = {}

    # the evaluator itself, on real test clips
    test_all = MotionDataset(args.data, "test", captions="all", random_crop=False)
    real = embed_dataset(judge.model, test_all, gen.text_encoder)
    result["evaluator_on_real_test"] = evaluation_metrics(real)
    single = np.array([not (read_label(args.data, test_all.entries[e].id) or {}).get("composite", False) for e, _ in test_all.items])
    known = single & (real["concept"] >= 0)
    result["evaluator_on_real_test"]["concept_top1_single_concept_clips"] = float((real["logits"][known].argmax(1) == real["concept"][known]).mean())
    val_first = embed_dataset(judge.model, MotionDataset(args.data, "val", captions="first", random_crop=False), gen.text_encoder)
    test_first = embed_dataset(judge.model, MotionDataset(args.data, "test", captions="first", random_crop=False), gen.text_encoder)
    result["fid_real_test_vs_real_val"] = metrics.fid(test_first["motion_emb"], val_first["motion_emb"])

    items = test_prompts(args.data)
    text = judge.text([it["caption"] for it in items])
    concepts = np.array([it["concept"] for it in items])
    kinds = np.array([it["kind"] for it in items])
    runs = defaultdict(list)
    per_concept = defaultdict(list)
    gen_joints_first = []
    for r in range(args.repeats):
        feats = generate(gen, items, seed=10000 * r, steps=args.steps)
        embs, hits = [], []
        for start in range(0, len(items), 64):
            chunk = feats[start : start + 64]
            T = max(len(f) for f in chunk)
            padded = np.zeros((len(chunk), T, 263))
            for i, f in enumerate(chunk):
                padded[i, : len(f)] = f
            emb, probs = judge.score(padded, np.array([len(f) for f in chunk]))
            embs.append(emb)
            for i, pr in enumerate(probs):
                item = items[start + i]
                k = 2 if item["kind"] == "composite" else 1
                hits.append(item["concept"] in np.argsort(-pr)[:k])
        emb, hits = np.concatenate(embs), np.array(hits)
        single = kinds != "composite"
        runs["concept_accuracy"].append(hits[single].mean())
        runs["concept_accuracy_train_phrasing"].append(hits[kinds == "train"].mean())
        runs["concept_accuracy_heldout_phrasing"].append(hits[kinds == "heldout"].mean())
        runs["concept_presence_composites"].append(hits[kinds == "composite"].mean())
        order = np.random.default_rng(r).permutation(len(items))
        for k, v in enumerate(metrics.r_precision(text[order], emb[order])):
            runs[f"r_precision_top{k + 1}"].append(v)
        runs["fid"].append(metrics.fid(test_first["motion_emb"], emb))
        runs["mm_dist"].append(metrics.mm_dist(text, emb))
        runs["diversity"].append(metrics.diversity(emb, pairs=min(300, len(emb) // 2), rng=r))
        for c in sorted(set(concepts[single].tolist())):
            per_concept[CONCEPTS[c]].append(hits[single & (concepts == c)].mean())
        if r == 0:
            from .features import recover_joints

            gen_joints_first = [recover_joints(f) for f in feats]
    summarise = lambda d: {k: dict(zip(("mean", "ci95"), metrics.mean_ci(v))) for k, v in d.items()}  # noqa: E731
    result["generated"] = summarise(runs)
    result["generated_per_concept_accuracy"] = summarise(per_concept)
    real_joints = [np.load(args.data / "new_joints" / f"{i}.npy") for i in sorted({it["id"] for it in items})]
    result["physics"] = {"generated": physics.sanity(gen_joints_first), "real_test": physics.sanity(real_joints)}
    result["prompts"] = {"total": len(items), **{k: int((kinds == k).sum()) for k in ("train", "heldout", "composite")}}
    result["repeats"], result["steps"], result["seconds"] = args.repeats, args.steps, round(time.perf_counter() - started, 1)
    out = args.out or resolve_base(args.ckpt) / "eval"
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, indent=1, default=float) + "\n")
    (out / "report.md").write_text(report(result) + "\n")
    print(report(result))
    return 0


def report(r: dict) -> str:
    f = lambda m: f"{m['mean']:.3f} ± {m['ci95']:.3f}"  # noqa: E731
    ev = r["evaluator_on_real_test"]
    lines = [
        "## Evaluator on real MotionBank test clips",
        "",
        f"concept top-1 {ev.get('concept_top1', float('nan')):.3f} on all test captions' clips ({ev.get('concept_top1_single_concept_clips', float('nan')):.3f} on single-concept clips; a composite's label is its longest segment); text->motion R@1/2/3 {ev.get('r_precision_top1', float('nan')):.3f} / {ev.get('r_precision_top2', float('nan')):.3f} / {ev.get('r_precision_top3', float('nan')):.3f} (batches of 32, test captions incl. held-out phrasings)",
        "",
        f"## Base model on test prompts ({r['prompts']['total']} prompts: {r['prompts']['train']} training phrasings, {r['prompts']['heldout']} held-out phrasings, {r['prompts']['composite']} composites; {r['repeats']} repeats, {r['steps']} DDIM steps)",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {f(v)} |" for k, v in r["generated"].items()]
    lines += [f"| FID real test vs real val | {r['fid_real_test_vs_real_val']:.3f} |", "", "| concept | accuracy |", "|---|---|"]
    lines += [f"| {k} | {f(v)} |" for k, v in r["generated_per_concept_accuracy"].items()]
    ph = r["physics"]
    lines += ["", "| physical sanity | generated | real test |", "|---|---|---|"]
    lines += [f"| {k} | {ph['generated'][k]:.3f} | {ph['real_test'][k]:.3f} |" for k in ph["generated"]]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
