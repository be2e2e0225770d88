"""Evaluate an unlearning adapter: base vs unlearned on forget and retain prompt sets.

    python -m motion_lora.test_unlearn --name motionbank_base_LoRA_kick --dataset_name t2m --ckpt latest.tar \\
        --target_concept kick

The forget set holds training phrasings, held-out phrasings, composites and the hand-written natural prompts
that name the concept (`motion_lora/evaluation/prompts/natural.tsv`; all of them unless --natural_forget caps it); the
retain set holds training phrasings and natural prompts of every other concept (--natural_per_concept each;
"all" for every one), never the prompts the adapter was trained to preserve.

Rank and alpha come from the checkpoint; a --lora_rank that disagrees is an error (never a silently wrong
scale). Writes checkpoints/t2m/{NAME}/eval/metrics.json and eval/report.md (under --out_root for a result trained
into another root).

Every --method of the train CLI is evaluated here the same way: LoRA-shaped results (lora, ga, uce, task_vector)
as adapters, a full fine-tune (`..._FullFT_<concept>`, model/edited.safetensors) by swapping its changed tensors
into the base for the "unlearned" generations (`results.ResultEvaluation`); prompts, seeds and metrics are
`evaluate.evaluate_sets`', the app's too.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..evaluation import kinematic_judge
from ..model.checkpoints import DATASET_NAME, check_name, checkpoint_root, read_json
from ..model.sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS, SCHEDULERS
from .results import ResultEvaluation, load_checkpoint, load_results, result_kind
from .unlearn import concept_key

NATURAL_RETAIN = "natural_retain"  # the retain set's kind for natural prompts (motion_lora.evaluation.protocol)
REPORT_METRICS = ("presence", "r_precision_top1", "r_precision_top3", "fid", "mm_dist", "diversity")


def evaluate_folder(folder: Path, *, results: ResultEvaluation | None = None, ckpt: str = "latest.tar", target_concept: str | None = None,
                    lora_rank: int | None = None, lora_alpha: float | None = None, device: str = "cpu", progress=None, **evaluate_kwargs) -> dict:
    """`evaluate.evaluate_sets` of any train CLI result folder (adapter or weight edit), loaded from the folder itself
    (its adapter files and the weights of `ckpt`) into `results` (several results of one base may share one), or
    into a fresh load of the base it was trained from."""
    if not (folder / "adapter.json").is_file():
        raise FileNotFoundError(f"no adapter folder {folder} (train one with python -m motion_lora.train)")
    kind = result_kind(folder)
    payload = None if kind == "edit" else load_checkpoint(folder, ckpt)
    config = read_json(folder / "adapter.json") if kind == "edit" else payload["config"]
    if lora_rank is not None and lora_rank != config["rank"]:
        raise ValueError(f"--lora_rank {lora_rank} does not match the checkpoint's rank {config['rank']}; rank and alpha are read from the checkpoint, omit the flag")
    if lora_alpha is not None and lora_alpha != config["alpha"]:
        raise ValueError(f"--lora_alpha {lora_alpha} does not match the checkpoint's alpha {config['alpha']}")
    if target_concept and concept_key(target_concept) != config["concept"]:
        raise ValueError(f"--target_concept {target_concept!r} but the adapter erases {config['concept']!r}")
    results = results or load_results(config["base"], device=device)
    # the folder's own adapter.json (preservation prompts), never another same-named adapter's
    meta = read_json(folder / "adapter.json")
    name = results.add_edit(folder, meta) if kind == "edit" else results.add_adapter(folder, meta, payload["weights"])
    result = results.evaluate(name, progress=progress, **evaluate_kwargs)
    result["config"] = config
    return result


def count_or_all(text: str) -> int | None:
    """argparse type: a whole number >= 0, or 'all' (None)."""
    if text.strip().lower() == "all":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number or 'all', got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0 or 'all', got {value}")
    return value


def fmt(m: dict | None) -> str:
    if m is None:
        return "–"
    return f"{m['mean']:.3f}" if m["ci95"] != m["ci95"] else f"{m['mean']:.3f} ± {m['ci95']:.3f}"  # no interval from one repeat


def report(result: dict) -> str:
    lines = [f"# Unlearning report: {result['adapter']}", "", f"Concept: **{result['concept']}**. Proxy metrics in our evaluator's space (not comparable to published HumanML3D numbers); mean ± 95% interval over {result['forget']['base']['repeats']} repeats with different seeds.", ""]
    for set_name in ("forget", "retain"):
        base, unl = result[set_name]["base"], result[set_name]["unlearned"]
        lines += [f"## {set_name.capitalize()} set ({base['n_prompts']} prompts)", "", "| metric | base | unlearned |", "|---|---|---|"]
        for key in REPORT_METRICS:
            lines.append(f"| {key} | {fmt(base['metrics'].get(key))} | {fmt(unl['metrics'].get(key))} |")
        lines += ["", "| presence by " + ("prompt kind" if set_name == "forget" else "concept") + " | base | unlearned |", "|---|---|---|"]
        key = "presence_by_kind" if set_name == "forget" else "presence_by_concept"
        for k in base[key]:
            lines.append(f"| {k} | {fmt(base[key][k])} | {fmt(unl[key][k])} |")
        natural = base.get("presence_by_kind_and_concept", {}).get(NATURAL_RETAIN)
        if set_name == "retain" and natural:
            unl_natural = unl["presence_by_kind_and_concept"][NATURAL_RETAIN]
            lines += ["", "| natural prompts: presence by concept | base | unlearned |", "|---|---|---|"]
            lines += [f"| {k} | {fmt(natural[k])} | {fmt(unl_natural.get(k))} |" for k in natural]
        kinematic = {"base": base.get("kinematic"), "unlearned": unl.get("kinematic")}
        lines += kinematic_judge.report_lines(kinematic, title=f"{set_name.capitalize()} set: kinematic judge beside the evaluator")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motion_lora.test_unlearn", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--name", required=True, help="adapter folder name, e.g. motionbank_base_LoRA_kick")
    p.add_argument("--dataset_name", default=DATASET_NAME, choices=[DATASET_NAME])
    p.add_argument("--ckpt", default="latest.tar")
    p.add_argument("--target_concept", default=None, help="defaults to the adapter's concept")
    p.add_argument("--lora_rank", type=int, default=None, help="optional check against the checkpoint's rank")
    p.add_argument("--lora_alpha", type=float, default=None, help="optional check against the checkpoint's alpha")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--per_kind", type=int, default=16, help="forget prompts per kind (train / held-out / composite)")
    p.add_argument("--per_concept", type=int, default=4, help="retain prompts per other concept")
    p.add_argument("--natural_forget", type=count_or_all, default=None, help="natural forget prompts (default: all that name the concept; 0 = none)")
    p.add_argument("--natural_per_concept", type=count_or_all, default=4, help="natural retain prompts per other concept ('all' = every one; 0 = none)")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--scheduler", default=DEFAULT_SCHEDULER, choices=SCHEDULERS, help="the sampler of every generation (the shipped reports used ddim, 20 steps)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--out_root", type=Path, default=None, help="checkpoint root the result was trained into (the train CLI's --out_root; default: checkpoints/)")
    args = p.parse_args(argv)
    try:
        folder = (args.out_root or checkpoint_root()) / args.dataset_name / check_name(args.name, "adapter")
        result = evaluate_folder(folder, ckpt=args.ckpt, target_concept=args.target_concept, lora_rank=args.lora_rank, lora_alpha=args.lora_alpha, device=args.device,
                                 per_kind=args.per_kind, per_concept=args.per_concept, natural_forget=args.natural_forget, natural_per_concept=args.natural_per_concept, repeats=args.repeats, steps=args.steps, scheduler=args.scheduler,
                                 progress=lambda f, msg: print(f"[{f:4.0%}] {msg}", flush=True))
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    out = folder / "eval"
    out.mkdir(exist_ok=True)
    tmp = out / f".metrics.json.{os.getpid()}"
    tmp.write_text(json.dumps(result, indent=1) + "\n")
    os.replace(tmp, out / "metrics.json")
    (out / "report.md").write_text(report(result) + "\n")
    print(report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
