"""Evaluate the base model and the evaluator on MotionBank's test split (proxy metrics, docs/models.md).

    python -m motion_lora.eval_base --data data/motionbank --ckpt motionbank_base --repeats 2

For every test clip, one training-grammar caption and one held-out phrasing (when the clip has one) are
used as prompts, at the clip's own length. A fourth kind, "natural", is the hand-written prompt set
(`motion_lora/evaluation/prompts/natural.tsv`), each prompt at its concept's median test-clip length (the sum of the
two for a sequence; --natural_frames fixes one length; --no-natural leaves the kind out). Natural prompts of
concepts the evaluator was not trained on are left out and named in the report. Writes
<ckpt>/eval/metrics.json and report.md.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from ..data.clip import CONCEPT_INDEX, CONCEPTS
from ..data.dataset import MotionDataset, read_label
from ..model.checkpoints import resolve_base, resolve_evaluator
from ..model.foot_contact import plant_clip
from ..model.generator import DEFAULT_GUIDANCE, MotionGenerator, SampleOptions
from ..model.sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS, SCHEDULERS
from . import kinematic_judge, metrics, physics
from .evaluator import embed_dataset, evaluation_metrics
from .prompts import natural_prompts
from .protocol import Judge
from .text_ceiling import ceiling_hits, training_captions

BATCH = 16
NATURAL_DEFAULT_FRAMES = 120  # 6 s, for a concept without test clips
MAX_FRAMES = 196
NATURAL_SEED_OFFSET = 5000  # natural prompts draw their own noise, apart from the test prompts' seeds


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


def concept_lengths(items: list[dict]) -> dict[int, int]:
    """Median length (frames, a multiple of 4) of each concept's single-concept test prompts."""
    by_concept = defaultdict(list)
    for it in items:
        if it["kind"] != "composite":
            by_concept[it["concept"]].append(it["length"])
    return {c: int(np.median(v)) // 4 * 4 for c, v in by_concept.items()}


def natural_items(test_items: list[dict], known_concepts: int, frames: int | None = None) -> tuple[list[dict], list[str]]:
    """(items, left-out concepts): the natural prompts as eval items, each at its concepts' median test-clip
    length (summed over a sequence's two concepts, at most 196 frames) or at `frames`. Prompts naming a
    concept the evaluator cannot score (index >= known_concepts) are left out."""
    medians = concept_lengths(test_items)
    items, left_out = [], set()
    for p in natural_prompts():
        idx = tuple(CONCEPT_INDEX[c] for c in p.concepts)
        if max(idx) >= known_concepts:
            left_out.update(c for c in p.concepts if CONCEPT_INDEX[c] >= known_concepts)
            continue
        length = frames or min(sum(medians.get(i, NATURAL_DEFAULT_FRAMES) for i in idx), MAX_FRAMES)
        items.append({"caption": p.text, "concept": idx[0], "concepts": idx, "length": length, "kind": "natural", "style": p.style})
    return items, sorted(left_out, key=CONCEPT_INDEX.get)


def concept_probs(judge: Judge, feats: list[np.ndarray], chunk: int = 64) -> np.ndarray:
    """Evaluator concept probabilities (N, C) of unnormalised features of any lengths."""
    out = []
    for start in range(0, len(feats), chunk):
        part = feats[start : start + chunk]
        padded = np.zeros((len(part), max(len(f) for f in part), 263))
        for i, f in enumerate(part):
            padded[i, : len(f)] = f
        out.append(judge.score(padded, np.array([len(f) for f in part]))[1])
    return np.concatenate(out)


def natural_hits(items: list[dict], probs: np.ndarray) -> list[list[tuple[int, bool]]]:
    """Per natural prompt, (concept, present) for each concept it names: top-1 for a single concept, among
    the top 2 for a two-concept sequence (as for composites)."""
    out = []
    for item, p in zip(items, probs):
        top = np.argsort(-p)[: 2 if len(item["concepts"]) > 1 else 1]
        out.append([(c, bool(c in top)) for c in item["concepts"]])
    return out


def generate(gen: MotionGenerator, items: list[dict], seed: int, steps: int, scheduler: str = DEFAULT_SCHEDULER, plant_feet: bool = True,
             guidance: float = DEFAULT_GUIDANCE) -> list[np.ndarray]:
    """Unnormalised features of each prompt at its length, sampled in length-sorted batches."""
    order = sorted(range(len(items)), key=lambda i: items[i]["length"])
    out: list[np.ndarray | None] = [None] * len(items)
    for start in range(0, len(order), BATCH):
        idx = order[start : start + BATCH]
        lengths = [items[i]["length"] for i in idx]
        opts = SampleOptions(frames=max(lengths), steps=steps, scheduler=scheduler, plant_feet=plant_feet, guidance=guidance)
        feats = gen.sample([items[i]["caption"] for i in idx], [seed + i for i in idx], opts, lengths=lengths).cpu().numpy()
        for row, i in enumerate(idx):
            out[i] = feats[row, : lengths[row]] * gen.std + gen.mean
    return out


def text_ceiling(gen: MotionGenerator, data: Path, natural: list[dict]) -> list[tuple[dict, bool]]:
    """(item, hit) per single-concept natural prompt: is the nearest training caption, by the model's own text
    encoder, of the prompt's concept (text_ceiling.py)."""
    singles = [it for it in natural if len(it["concepts"]) == 1]
    captions, caption_concepts = training_captions(data)
    hits = ceiling_hits(lambda texts: gen.text_encoder.encode(texts).pooled.cpu().numpy(), [it["caption"] for it in singles],
                        [it["concept"] for it in singles], captions, caption_concepts)
    return list(zip(singles, hits.tolist()))


def loss_map(natural: list[dict], ceiling: list[tuple[dict, bool]], result: dict) -> dict:
    """Where natural prompts are lost, per concept and per style: the text ceiling, the evaluator's accuracy and
    the kinematic judge's (concepts it has rules for), with the prompt counts."""
    judged = result.get("kinematic_judge", {}).get("natural", {}).get("per_concept", {})
    by_concept, by_style = defaultdict(list), defaultdict(list)
    for item, hit in ceiling:
        by_concept[CONCEPTS[item["concept"]]].append(hit)
        by_style[item["style"]].append(hit)
    accuracy = {k: v["mean"] for k, v in result["generated_per_concept_accuracy_natural"].items()}
    presence = {k: v["mean"] for k, v in result["generated_natural_presence_by_style"].items()}
    concepts = {c: {"n": len(h), "ceiling": float(np.mean(h)), "evaluator": accuracy.get(c), "judge": judged.get(c, {}).get("judge")}
                for c, h in by_concept.items()}
    styles = {s: {"n": sum(it["style"] == s for it in natural), "ceiling": float(np.mean(by_style[s])) if by_style.get(s) else None, "evaluator": presence.get(s)}
              for s in sorted({it["style"] for it in natural})}
    overall = {"ceiling": float(np.mean([h for _, h in ceiling])), "evaluator": result["generated"]["concept_accuracy_natural"]["mean"],
               "judge": result.get("kinematic_judge", {}).get("natural", {}).get("judged_average")}
    return {"overall": overall, "per_concept": concepts, "per_style": styles}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motion_lora.eval_base", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/motionbank"))
    p.add_argument("--ckpt", default="motionbank_base")
    p.add_argument("--evaluator", default="evaluator")
    p.add_argument("--repeats", type=int, default=2)
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--scheduler", default=DEFAULT_SCHEDULER, choices=list(SCHEDULERS), help="the sampler (motion_lora.model.sampler)")
    p.add_argument("--guidance", type=float, default=DEFAULT_GUIDANCE, help="classifier-free guidance scale of the sampling")
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--natural", action=argparse.BooleanOptionalAction, default=True, help="evaluate the hand-written natural prompts too (default: yes)")
    p.add_argument("--natural_frames", type=int, default=None, help="one length for every natural prompt (default: its concept's median test-clip length)")
    args = p.parse_args(argv)
    if args.natural_frames is not None and not (40 <= args.natural_frames <= MAX_FRAMES and args.natural_frames % 4 == 0):
        p.error(f"--natural_frames must be a multiple of 4 between 40 and {MAX_FRAMES}, got {args.natural_frames}")
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
    natural, natural_left_out = natural_items(items, judge.model.config.num_concepts, args.natural_frames) if args.natural else ([], [])
    ceiling = text_ceiling(gen, args.data, natural) if natural else []
    runs = defaultdict(list)
    per_concept = defaultdict(list)
    per_concept_natural, per_style_natural = defaultdict(list), defaultdict(list)
    gen_joints_first, raw_joints_first = [], []
    judge_runs = defaultdict(list)  # kind -> kinematic_judge.compare_run per repeat
    for r in range(args.repeats):
        raw = generate(gen, items, seed=10000 * r, steps=args.steps, scheduler=args.scheduler, plant_feet=False, guidance=args.guidance)
        feats = [plant_clip(f) for f in raw]  # what the generator gives by default; the raw output is kept for physics
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
        if natural:
            feats_n = generate(gen, natural, seed=10000 * r + NATURAL_SEED_OFFSET, steps=args.steps, scheduler=args.scheduler, guidance=args.guidance)
            hits_n = natural_hits(natural, concept_probs(judge, feats_n))
            one = [i for i, h in enumerate(hits_n) if len(h) == 1]
            judge_runs["natural"].append(kinematic_judge.judge_features([feats_n[i] for i in one], [CONCEPTS[natural[i]["concept"]] for i in one], np.array([hits_n[i][0][1] for i in one])))
            singles = [(it, h[0][1]) for it, h in zip(natural, hits_n) if len(h) == 1]
            in_sequences = [hit for h in hits_n if len(h) > 1 for _, hit in h]
            if singles:
                runs["concept_accuracy_natural"].append(np.mean([hit for _, hit in singles]))
            if in_sequences:
                runs["concept_presence_natural_sequences"].append(np.mean(in_sequences))
            for c in sorted({it["concept"] for it, _ in singles}):
                per_concept_natural[CONCEPTS[c]].append(np.mean([hit for it, hit in singles if it["concept"] == c]))
            for style in sorted({it["style"] for it in natural}):
                per_style_natural[style].append(np.mean([hit for it, h in zip(natural, hits_n) if it["style"] == style for _, hit in h]))
        for kind in ("train", "heldout"):
            idx = np.flatnonzero(kinds == kind)
            judge_runs[kind].append(kinematic_judge.judge_features([feats[i] for i in idx], [CONCEPTS[concepts[i]] for i in idx], hits[idx]))
        if r == 0:
            from ..motion.features import recover_joints

            gen_joints_first = [recover_joints(f) for f in feats]
            raw_joints_first = [recover_joints(f) for f in raw]
    summarise = lambda d: {k: metrics.mean_se(v) for k, v in d.items()}  # noqa: E731  (over repeats, with n)
    result["generated"] = summarise(runs)
    result["generated_per_concept_accuracy"] = summarise(per_concept)
    if natural:
        result["generated_per_concept_accuracy_natural"] = summarise(per_concept_natural)
        result["generated_natural_presence_by_style"] = summarise(per_style_natural)
    real_joints = [np.load(args.data / "new_joints" / f"{i}.npy") for i in sorted({it["id"] for it in items})]
    mocap_ids = {i for i in (args.data / "test.txt").read_text().split() if (read_label(args.data, i) or {}).get("real")}
    result["kinematic_judge"] = {kind: kinematic_judge.summarise_runs(v) for kind, v in judge_runs.items()}
    if natural:
        result["loss_map"] = loss_map(natural, ceiling, result)
    result["physics"] = {"generated": physics.sanity(gen_joints_first), "real_test": physics.sanity(real_joints)}
    # The bar that matters: generated motion against real motion capture, like for like. Jitter and skating
    # depend on what is done (a backflip accelerates more than a wave), so the generated side is the motions
    # for the mocap test clips' own captions and lengths, and the real side those clips.
    # Both with the generator's foot planting (the default output) and without it (the model's own motion).
    like_for_like = [i for i, it in enumerate(items) if it["id"] in mocap_ids and it["kind"] != "composite"]
    on_mocap = [gen_joints_first[i] for i in like_for_like]
    if on_mocap:
        result["physics"]["generated_mocap_prompts"] = physics.sanity(on_mocap)
        result["physics"]["generated_mocap_prompts_raw"] = physics.sanity([raw_joints_first[i] for i in like_for_like])
        result["physics"]["mocap_test"] = physics.sanity([np.load(args.data / "new_joints" / f"{i}.npy") for i in sorted(mocap_ids)])
        result["physics"]["mocap_prompts"] = len(on_mocap)
    result["prompts"] = {"total": len(items), **{k: int((kinds == k).sum()) for k in ("train", "heldout", "composite")}}
    result["prompts"]["natural"] = len(natural)
    result["prompts"]["natural_sequences"] = sum(len(it["concepts"]) > 1 for it in natural)
    result["prompts"]["natural_left_out_concepts"] = natural_left_out
    result["prompts"]["natural_frames"] = args.natural_frames or "median test-clip length per concept"
    result["repeats"], result["steps"], result["seconds"] = args.repeats, args.steps, round(time.perf_counter() - started, 1)
    result["scheduler"], result["guidance"] = args.scheduler, args.guidance
    out = args.out or resolve_base(args.ckpt) / "eval"
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(result, indent=1, default=float) + "\n")
    (out / "report.md").write_text(report(result) + "\n")
    print(report(result))
    return 0


def fmt_stat(m: dict) -> str:
    """'0.650 ± 0.012 SE (n=2)': mean over repeats with its standard error and n (no t-interval on 2 samples)."""
    se = m.get("se", float("nan"))
    return f"{m['mean']:.3f}" if se != se else f"{m['mean']:.3f} ± {se:.3f} SE (n={m.get('n', '?')})"


def report(r: dict) -> str:
    f = fmt_stat
    ev = r["evaluator_on_real_test"]
    lines = [
        "## Evaluator on real MotionBank test clips",
        "",
        f"concept top-1 {ev.get('concept_top1', float('nan')):.3f} on all test captions' clips ({ev.get('concept_top1_single_concept_clips', float('nan')):.3f} on single-concept clips; a composite's label is its longest segment); text->motion R@1/2/3 {ev.get('r_precision_top1', float('nan')):.3f} / {ev.get('r_precision_top2', float('nan')):.3f} / {ev.get('r_precision_top3', float('nan')):.3f} (batches of 32, test captions incl. held-out phrasings)",
        "",
        f"## Base model on test prompts ({r['prompts']['total']} prompts: {r['prompts']['train']} training phrasings, {r['prompts']['heldout']} held-out phrasings, {r['prompts']['composite']} composites; {r['repeats']} repeats, {r['steps']} {r.get('scheduler', 'ddim')} steps)",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {k} | {f(v)} |" for k, v in r["generated"].items()]
    lines += [f"| FID real test vs real val | {r['fid_real_test_vs_real_val']:.3f} |", "", "| concept | accuracy |", "|---|---|"]
    lines += [f"| {k} | {f(v)} |" for k, v in r["generated_per_concept_accuracy"].items()]
    lines += report_natural(r)
    lines += report_loss_map(r.get("loss_map"))
    lines += kinematic_judge.report_lines({f"{k} phrasings" if k != "natural" else "natural prompts": v for k, v in r.get("kinematic_judge", {}).items()})
    ph = r["physics"]
    mocap, gen_mocap, raw_mocap = ph.get("mocap_test"), ph.get("generated_mocap_prompts"), ph.get("generated_mocap_prompts_raw")
    ratio = lambda g, k: f"{g[k] / mocap[k]:.2f}×" if mocap[k] else "–"  # noqa: E731
    lines += ["", "| physical sanity | generated, all prompts | test clips (all) |"
              + (f" generated, the mocap clips' {ph['mocap_prompts']} prompts | mocap test clips | ratio |" if gen_mocap else "")
              + (" raw model output (no foot planting) | its ratio |" if raw_mocap else ""),
              "|---|---|---|" + ("---|---|---|" if gen_mocap else "") + ("---|---|" if raw_mocap else "")]
    for k in ph["generated"]:
        row = f"| {k} | {ph['generated'][k]:.3f} | {ph['real_test'][k]:.3f} |"
        if gen_mocap:
            row += f" {gen_mocap[k]:.3f} | {mocap[k]:.3f} | {ratio(gen_mocap, k)} |"
        if raw_mocap:
            row += f" {raw_mocap[k]:.3f} | {ratio(raw_mocap, k)} |"
        lines.append(row)
    return "\n".join(lines)


def report_natural(r: dict) -> list[str]:
    """The natural kind's report lines (none when it was not evaluated)."""
    n = r["prompts"].get("natural", 0)
    if not n:
        return []
    f = fmt_stat
    g = r["generated"]
    left_out = r["prompts"].get("natural_left_out_concepts") or []
    lines = [
        "",
        f"## Base model on natural prompts ({n} hand-written prompts, {r['prompts']['natural_sequences']} of them two-concept sequences; length: {r['prompts']['natural_frames']})",
        "",
    ]
    if "concept_accuracy_natural" in g:
        lines.append(f"concept accuracy {f(g['concept_accuracy_natural'])} on single-concept prompts (top-1)")
    if "concept_presence_natural_sequences" in g:
        lines.append(f"presence in sequences {f(g['concept_presence_natural_sequences'])} (each of the two concepts among the top 2)")
    if left_out:
        lines.append(f"left out (the evaluator was not trained on them): {', '.join(left_out)}")
    lines += ["", "| concept | natural-prompt accuracy |", "|---|---|"]
    lines += [f"| {k} | {f(v)} |" for k, v in r["generated_per_concept_accuracy_natural"].items()]
    lines += ["", "| natural style | presence |", "|---|---|"]
    lines += [f"| {k} | {f(v)} |" for k, v in r["generated_natural_presence_by_style"].items()]
    return lines


def report_loss_map(m: dict | None) -> list[str]:
    """The loss map as two tables, the concepts that lose most in the generator first."""
    if not m:
        return []
    cell = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    o = m["overall"]
    lines = ["", "## Where natural prompts are lost (single-concept prompts)", "",
             f"text ceiling (nearest training caption by the model's own text encoder) {cell(o['ceiling'])}; "
             f"evaluator {cell(o['evaluator'])}; kinematic judge {cell(o['judge'])}", "",
             "| concept | prompts | text ceiling | evaluator | lost in the generator | kinematic judge |", "|---|---|---|---|---|---|"]
    gap = lambda v: (v["ceiling"] - v["evaluator"]) if v["evaluator"] is not None else -1.0  # noqa: E731
    for c, v in sorted(m["per_concept"].items(), key=lambda kv: -gap(kv[1])):
        lines.append(f"| {c} | {v['n']} | {cell(v['ceiling'])} | {cell(v['evaluator'])} | {cell(gap(v)) if v['evaluator'] is not None else '–'} | {cell(v['judge'])} |")
    lines += ["", "| prompt style | prompts | text ceiling | evaluator |", "|---|---|---|---|"]
    lines += [f"| {s} | {v['n']} | {cell(v['ceiling'])} | {cell(v['evaluator'])} |" for s, v in m["per_style"].items()]
    return lines


if __name__ == "__main__":
    sys.exit(main())
