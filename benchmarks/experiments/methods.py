"""Unlearning methods side by side on one protocol: same base, same prompts, same evaluator.

    python -m benchmarks.experiments.methods --concept kick --data data/motionbank [--reference runs/base_nokick_r2]
        [--methods lora,full,ga,uce,task_vector] [--out_root runs/methods] [--reuse] [--attack soft|both|none]

Each method is trained with the train CLI's own code (`train.unlearn_to_folder`, `--method`), into
`--out_root/t2m/` (the research code's layout), then evaluated with test_unlearn's `evaluate_folder`, i.e.
`MotionLab.evaluate`: the forget set (training and held-out phrasings, composites, the natural kick prompts) and the
retain set (grammar + natural prompts of every other concept, minus the result's own preservation prompts), the same
seeds for every method, base generations shared. Columns:

* wall time: training (or the closed-form edit) as `unlearn_to_folder` measured it; trainable parameters (UCE: the
  number of edited weights, nothing is trained);
* forget presence on natural / held-out / composite prompts (share where the evaluator finds the concept);
* retain accuracy on natural prompts of the other concepts, and on the nearest neighbour's (punch for kick);
* retain FID (evaluator space, against the shipped real-motion reference);
* attack success rate (soft-prompt attack of `motion_lora.unlearning.attack`, its share of attacked generations that are the
  concept again, by the evaluator and by the kinematic judge), with the evaluator objective and with P4D's match
  objective (`--attack_objectives`), when that module is importable;
* forget-set FID to the retrained reference (HMU's "closest to retrained"): the Fréchet distance between each
  method's forget-set motions and those of a base retrained without the concept (`--reference`, e.g.
  runs/base_nokick_r2 from `python -m motion_lora.pretrain --exclude_concepts kick`) for the same prompts and seeds;
  left out when the reference is absent.

Writes `--json` and `--md` (a markdown table plus the settings). Method settings: the train CLI's defaults (300
iterations = 60 "epochs" of the concept prompts, rank 16 on every attention projection) for lora (lr 1e-4, λ 2), ga and
task_vector (lr 1e-4, the research code's rate, at which they were measured); full fine-tuning at lr 1e-5 (the ESD
paper's full-model rate; 1e-4 on all weights is ten times the step size on 40 times the parameters); UCE with its
defaults.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

from motion_lora.data.clip import CONCEPTS
from motion_lora.evaluation import metrics
from motion_lora.evaluation.protocol import prompt_sets
from motion_lora.model.checkpoints import DEFAULT_BASE, resolve_base
from motion_lora.model.generator import SampleOptions
from motion_lora.model.sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS
from motion_lora.unlearning.evaluate import EVAL_GUIDANCE
from motion_lora.unlearning.methods import LABELS, MethodOptions
from motion_lora.unlearning.results import ResultEvaluation, load_results, result_kind
from motion_lora.unlearning.test_unlearn import evaluate_folder
from motion_lora.unlearning.train import adapter_folder_name, unlearn_to_folder
from motion_lora.unlearning.unlearn import METHODS, UnlearnConfig, concept_key, concept_prompts
from motion_lora.unlearning.weight_edit import applied

RESULTS = Path(__file__).resolve().parents[1] / "results"
METHOD_LR = {"full": 1e-5, "ga": 1e-4, "task_vector": 1e-4}  # lora: the train CLI's default (1e-4)
# full fine-tuning stays the ESD paper's recipe (plain ESD); lora is ours with every default, adversarial tokens included
METHOD_ADVERSARIAL_TOKENS = {"full": 0}
EVAL_FRAMES = 120  # MotionLab.evaluate's


def nearest_concept(concept: str, text_encoder) -> str:
    """The other concept whose prompts read most like the concept's (cosine of mean pooled sentence vectors)."""
    import torch

    def centroid(c):
        return torch.nn.functional.normalize(text_encoder.encode(concept_prompts(c, n=8)).pooled.mean(0), dim=0)

    mine = centroid(concept)
    scores = {c: float(centroid(c) @ mine) for c in CONCEPTS if c != concept}
    return max(scores, key=scores.get)


def train_method(method: str, args, out_root: Path) -> tuple[Path, float]:
    """Train one method (or reuse its folder); returns (folder, training seconds)."""
    folder = out_root / "t2m" / adapter_folder_name(args.base, args.concept, method)
    if args.reuse and (folder / "adapter.json").is_file():
        return folder, float(json.loads((folder / "adapter.json").read_text())["seconds"])
    defaults = UnlearnConfig()
    config = UnlearnConfig(concept=args.concept, method=method, lr=METHOD_LR.get(method, defaults.lr), iterations=args.iterations, seed=args.seed,
                           adversarial_tokens=METHOD_ADVERSARIAL_TOKENS.get(method, defaults.adversarial_tokens))
    options = MethodOptions(data=args.data, forget_weight=args.forget_weight, negation_scale=args.negation_scale)
    started = time.perf_counter()
    out = unlearn_to_folder(base_name=args.base, config=config, out_root=out_root, options=options)
    wall = time.perf_counter() - started
    print(f"trained {method} in {wall:.0f} s -> {out}", flush=True)
    return out, float(json.loads((out / "adapter.json").read_text())["seconds"])


def columns(result: dict, neighbour: str) -> dict:
    """The table's evaluator columns of one evaluate() result, for 'base' and 'unlearned'."""
    out = {}
    for model in ("base", "unlearned"):
        f, r = result["forget"][model], result["retain"][model]
        by_kind = f["presence_by_kind"]
        natural_retain = r["presence_by_kind_and_concept"].get("natural_retain", {})
        out[model] = {
            "forget_natural": by_kind.get("natural", {}).get("mean"),
            "forget_heldout": by_kind.get("heldout", {}).get("mean"),
            "forget_composite": by_kind.get("composite", {}).get("mean"),
            "forget_train": by_kind.get("train", {}).get("mean"),
            "retain_natural": r["presence_by_kind"].get("natural_retain", {}).get("mean"),
            "retain_all": r["metrics"]["presence"]["mean"],
            "neighbour_natural": natural_retain.get(neighbour, {}).get("mean"),
            "retain_fid": r["metrics"].get("fid", {}).get("mean"),
            "forget_fid_real": f["metrics"].get("fid", {}).get("mean"),
        }
    return out


def forget_prompts(args):
    """The forget set evaluate() uses (it does not depend on the result's preservation prompts)."""
    return prompt_sets(args.concept, per_kind=args.per_kind, per_concept=args.per_concept, natural_forget=None, natural_per_concept=args.natural_per_concept)["forget"]


def forget_texts(args) -> tuple[str, ...]:
    return tuple(p.text for p in forget_prompts(args))


def forget_embeddings(lab: ResultEvaluation, labels: list[str], args) -> dict[str, list[np.ndarray]]:
    """Evaluator embeddings of the recorded forget-set motions of "base" and each result, one array per seed."""
    texts, out = forget_texts(args), {}
    for label in labels:
        for r in range(args.repeats):
            feats = lab.recorded.get((label, texts, 1000 * r))  # MotionLab.evaluate's seeds
            if feats is None:
                raise RuntimeError(f"no recorded forget-set generations of {label} for seed {1000 * r}")
            out.setdefault(label, []).append(lab.judge.score(feats, np.full(len(feats), feats.shape[1]))[0])
    return out


def reference_fid(reference: Path, embeddings: dict[str, list[np.ndarray]], args) -> tuple[dict, str]:
    """Forget-set FID of every result (and the base) to the retrained reference's motions: same prompts, same
    seeds; and a note naming the reference and its training step."""
    forget = forget_prompts(args)
    ref_lab = load_results(str(reference))
    opts = SampleOptions(frames=EVAL_FRAMES, steps=args.steps, guidance=EVAL_GUIDANCE).validated()
    out = {}
    for r in range(args.repeats):
        ref_emb, _ = ref_lab.judge.score(ref_lab.generate_set(forget, {}, 1.0, opts, seed=1000 * r), np.full(len(forget), opts.frames))
        for label, per_seed in embeddings.items():
            out.setdefault(label, []).append(metrics.fid(ref_emb, per_seed[r]))
    log = reference / "train_log.jsonl"
    steps = json.loads(log.read_text().splitlines()[-1])["step"] if log.is_file() and log.read_text().strip() else None
    note = f" Reference: `{reference}`" + (f" (its training log was at step {steps} when this ran; it exports every 1,000 steps)." if steps else ".")
    return {k: metrics.mean_se(v) for k, v in out.items()}, note


def has_reference(reference: Path | None) -> bool:
    return bool(reference) and (reference / "model.safetensors").is_file() and (reference / "config.json").is_file()


def attack_rates(lab: ResultEvaluation, names: dict[str, str], concept: str, args) -> dict | None:
    """Soft-prompt (and, with --attack both, discrete) attack success per result and for the base, for each of
    --attack_objectives: {objective: {label: summary}}; None when motion_lora.unlearning.attack is not there."""
    try:
        from motion_lora.unlearning import attack
    except ImportError as err:
        print(f"note: no attack column ({err})", flush=True)
        return None
    from motion_lora.model.denoiser import MotionDenoiser

    # the match objective pulls towards the model before erasure; a weight edit swaps the lab's own base weights,
    # so its reference is a separate copy of the base network
    pristine = MotionDenoiser.load(resolve_base(args.base)).eval().requires_grad_(False)
    targets = {"base": lab.attack_target(None)}
    for method, name in names.items():
        if name in lab.edits:  # a weight edit: the base with its tensors swapped in for the whole attack
            plain = lab.attack_target(None)

            @contextlib.contextmanager
            def session(plain=plain, name=name):
                with lab.lock, applied(lab.adapters.base, lab.edits[name]), plain.session() as denoise:
                    yield denoise

            targets[method] = dataclasses.replace(plain, label=name, session=session, concept=concept, reference=lambda x, t, tok, m, p, L: pristine(x, t, tok, m, p, L))
        else:
            targets[method] = lab.attack_target(name)
    out = {}
    for objective in args.attack_objectives:
        cfg = attack.AttackConfig(mode=args.attack, prompts=args.attack_prompts, steps=args.attack_steps, objective=objective)
        for label, target in targets.items():
            started = time.perf_counter()
            report = attack.run_attack(target, config=cfg, concept=concept)
            out.setdefault(objective, {})[label] = {**report.summary(), "budget": report.budget, "seconds": round(time.perf_counter() - started, 1)}
            print(f"attack ({objective} objective) {label}: {out[objective][label]}", flush=True)
    return out


def fmt(x, pct: bool = True) -> str:
    if x is None:
        return "–"
    return f"{100 * x:.0f}%" if pct else f"{x:.2f}"


def table(rows: list[dict], base: dict, attacks: dict | None, ref: dict | None, neighbour: str) -> str:
    """The markdown table; `attacks` is {objective: {label: summary}}, one column per objective."""
    head = ["method", "wall time", "trainable params", "forget: natural", "forget: held-out", "forget: composites", "retain: natural", f"nearest ({neighbour}, natural)", "retain FID"]
    attacks = attacks or {}
    head += [f"attack success (soft), {objective} objective · judge" for objective in attacks]
    if ref is not None:
        head.append("forget FID to retrained")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def line(label, seconds, params, c, key):
        cells = [label, seconds, params, fmt(c["forget_natural"]), fmt(c["forget_heldout"]), fmt(c["forget_composite"]), fmt(c["retain_natural"]), fmt(c["neighbour_natural"]), fmt(c["retain_fid"], False)]
        for by_label in attacks.values():
            a = by_label.get(key)
            cells.append(f"{fmt(a.get('soft_asr'))} · {fmt(a.get('soft_judge'))}" if a else "–")
        if ref is not None:
            cells.append(f"{ref[key]['mean']:.2f}" if key in ref else "–")
        lines.append("| " + " | ".join(cells) + " |")

    line("base (no unlearning)", "–", "–", base, "base")
    for row in rows:
        params = f"{row['edited_parameters']:,} edited" if row["method"] == "uce" else f"{row['trainable_parameters']:,}"
        line(f"{LABELS[row['method']]} (`{row['method']}`)", f"{row['seconds']:.0f} s", params, row["unlearned"], row["method"])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--concept", default="kick")
    p.add_argument("--base", default=DEFAULT_BASE)
    p.add_argument("--methods", default=",".join(METHODS), help=f"comma-separated, from {', '.join(METHODS)}")
    p.add_argument("--data", default="data/motionbank", help="dataset folder for ga and task_vector")
    p.add_argument("--reference", type=Path, default=Path("runs/base_nokick_r2"), help="base retrained without the concept (skipped when absent)")
    p.add_argument("--out_root", type=Path, default=Path("runs/methods"), help="where the results are trained (<out_root>/t2m/...)")
    p.add_argument("--reuse", action="store_true", help="evaluate result folders that already exist instead of retraining")
    p.add_argument("--only_reference", action="store_true", help="only add the forget-FID-to-retrained column to the stored run in --json")
    p.add_argument("--iterations", type=int, default=300, help="optimiser steps of the trained methods (the train CLI's default: 300)")
    p.add_argument("--forget_weight", type=float, default=MethodOptions.forget_weight)
    p.add_argument("--negation_scale", type=float, default=MethodOptions.negation_scale, help="task_vector: stored adapter = -NEGATION_SCALE x the learned delta")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--per_kind", type=int, default=16)
    p.add_argument("--per_concept", type=int, default=4)
    p.add_argument("--natural_per_concept", type=int, default=4)
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--neighbour", default=None, help="the nearest concept to report (default: the closest by sentence similarity)")
    p.add_argument("--attack", default="soft", choices=["soft", "discrete", "both", "none"])
    p.add_argument("--attack_prompts", type=int, default=8)
    p.add_argument("--attack_steps", type=int, default=20)
    p.add_argument("--attack_objectives", nargs="+", default=["evaluator", "match"], choices=["evaluator", "match"],
                   help="soft-prompt objectives: maximise the evaluator's p(concept), and/or P4D's match to the base's motion")
    p.add_argument("--json", type=Path, default=RESULTS / "methods.json")
    p.add_argument("--md", type=Path, default=RESULTS / "methods.md")
    args = p.parse_args(argv)
    args.concept = concept_key(args.concept)
    if args.only_reference:
        return only_reference(args)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        print(f"error: unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}", file=sys.stderr)
        return 2
    resolve_base(args.base)
    out_root = args.out_root
    trained = {}
    for method in methods:
        try:
            trained[method] = train_method(method, args, out_root)
        except (ValueError, FileNotFoundError) as err:
            print(f"error: {method}: {err}", file=sys.stderr)
            return 2
    lab = load_results(args.base, record=True)  # results load from their own folders: no shipped namesake can stand in
    neighbour = args.neighbour or nearest_concept(args.concept, lab.model)
    rows, names, base_cols = [], {}, None
    eval_kwargs = {"per_kind": args.per_kind, "per_concept": args.per_concept, "natural_forget": None, "natural_per_concept": args.natural_per_concept, "repeats": args.repeats, "steps": args.steps}
    for method, (folder, seconds) in trained.items():
        started = time.perf_counter()
        result = evaluate_folder(folder, results=lab, **eval_kwargs)
        cols = columns(result, neighbour)
        keep = forget_texts(args)  # only the forget-set generations are needed later (reference FID): free the rest
        lab.recorded = {k: v.astype(np.float32) for k, v in lab.recorded.items() if k[1] == keep}
        base_cols = base_cols or cols["base"]
        meta = result["config"]
        names[method] = folder.name
        rows.append({"method": method, "folder": str(folder), "kind": result_kind(folder), "seconds": seconds, "trainable_parameters": meta.get("trainable_parameters"),
                     "edited_parameters": meta.get("edited_parameters"), "unlearned": cols["unlearned"], "base": cols["base"]})
        print(f"evaluated {method} in {time.perf_counter() - started:.0f} s: {cols['unlearned']}", flush=True)
    embeddings = forget_embeddings(lab, ["base", *names.values()], args)
    embeddings_file(args).parent.mkdir(parents=True, exist_ok=True)  # benchmarks/results/ is not in a clean clone
    np.savez(embeddings_file(args), **{f"{label}|{r}": e for label, per_seed in embeddings.items() for r, e in enumerate(per_seed)})
    ref, ref_note = None, ""
    if has_reference(args.reference):
        ref, ref_note = reference_fid(args.reference, embeddings, args)
        ref = {"base": ref["base"], **{m: ref[names[m]] for m in trained}}
    else:
        print(f"note: no retrained reference at {args.reference}; the forget-FID-to-retrained column is left out "
              "(add it later with --only_reference)", flush=True)
    attacks = None if args.attack == "none" else attack_rates(lab, names, args.concept, args)
    attack = (attacks or {}).get("evaluator")
    settings = (f"Concept **{args.concept}**, base `{args.base}`; evaluator presence (share of prompts whose motion the proxy evaluator "
                f"labels as the asked concept), mean of {args.repeats} seeds, {DEFAULT_SCHEDULER} {args.steps} steps, guidance {EVAL_GUIDANCE}, {EVAL_FRAMES} frames; "
                f"retain set: {args.per_concept} grammar + {args.natural_per_concept} natural prompts per other concept (minus each result's preservation prompts); "
                f"{args.iterations} iterations for the trained methods; full fine-tuning at lr {METHOD_LR['full']} without adversarial tokens; LoRA-ESD with {UnlearnConfig().adversarial_tokens} adversarial tokens."
                + (" Attack (attack success by the evaluator · by the kinematic judge): "
                   + "; ".join(f"{objective} objective: {next(iter(per_method.values()))['budget']}" for objective, per_method in attacks.items())
                   + "." if attacks else ""))
    payload = {"concept": args.concept, "base": args.base, "neighbour": neighbour, "settings": vars(args) | {"reference": str(args.reference), "out_root": str(out_root), "json": str(args.json), "md": str(args.md)},
               "settings_text": settings, "base_columns": base_cols, "methods": rows, "names": names, "attack": attack, "attacks": attacks, "reference_fid": ref, "reference_note": ref_note}
    write_results(payload, args)
    return 0


def embeddings_file(args) -> Path:
    return args.json.with_name(args.json.stem + "_forget_embeddings.npz")


def write_results(payload: dict, args) -> None:
    """The JSON and the markdown table (settings, then the table) of one benchmark run."""
    md = table(payload["methods"], payload["base_columns"], payload.get("attacks"), payload["reference_fid"], payload["neighbour"])
    text = payload["settings_text"] + (payload.get("reference_note") or "")
    for path in (args.json, args.md):
        path.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(payload, indent=1) + "\n")
    args.md.write_text(f"# Unlearning methods on one protocol\n\n{text}\n\n{md}\n")
    print(text + "\n\n" + md)


def only_reference(args) -> int:
    """Add (or refresh) the forget-FID-to-retrained column of a stored run, e.g. once the reference has trained
    further: its forget-set motions are generated again and compared with the stored embeddings."""
    if not has_reference(args.reference):
        print(f"error: no retrained reference at {args.reference} (model.safetensors + config.json)", file=sys.stderr)
        return 2
    if not args.json.is_file() or not embeddings_file(args).is_file():
        print(f"error: no stored run at {args.json} (with {embeddings_file(args).name}); run the benchmark first", file=sys.stderr)
        return 2
    payload = json.loads(args.json.read_text())
    stored = vars(args) | {k: payload["settings"][k] for k in ("concept", "repeats", "per_kind", "per_concept", "natural_per_concept", "steps")}
    run = argparse.Namespace(**stored)
    saved = np.load(embeddings_file(args))
    embeddings: dict[str, list[np.ndarray]] = {}
    for key in sorted(saved.files, key=lambda k: int(k.rsplit("|", 1)[1])):
        embeddings.setdefault(key.rsplit("|", 1)[0], []).append(saved[key])
    ref, note = reference_fid(args.reference, embeddings, run)
    names = payload["names"]
    payload["reference_fid"] = {"base": ref["base"], **{m: ref[n] for m, n in names.items()}}
    payload["reference_note"] = note
    payload["settings"]["reference"] = str(args.reference)
    write_results(payload, args)
    return 0

if __name__ == "__main__":
    sys.exit(main())
