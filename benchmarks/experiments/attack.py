"""How much attacker budget brings an erased concept back: the soft-prompt attack over a grid of budgets.

    python -m benchmarks.experiments.attack [--adapter kick] [--prompts 8] [--eval-seeds 2] [--json benchmarks/results/attack.json]

For the adapter: appended tokens x Adam steps on the x0 gradient path, the DDIM gradient path at one budget
(to compare the two differentiable proxies at equal steps and wall time), P4D's match objective (no evaluator
gradient) and the adapter at double strength;
for the base: one budget. Every row is judged with the normal sampler (DDIM 20, guidance 2.5) on fresh seeds.
Columns: evaluator ASR, kinematic judge rate, clean rate of the same prompts and seeds, wall time.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from motion_lora.serving.service import MotionLab  # noqa: E402 (after the offline switch)
from motion_lora.serving.target import attack_target  # noqa: E402
from motion_lora.unlearning.attack import AttackConfig, run_attack  # noqa: E402


def grid(adapter: str) -> list[dict]:
    """The rows: model (None = base), adapter scale, tokens, steps, gradient path, objective."""
    e = dict(scale=1.0, grad_path="x0", objective="evaluator")
    rows = [dict(e, model=adapter, tokens=t, steps=s) for t in (1, 4) for s in (0, 5, 10, 20)]
    rows.append(dict(e, model=adapter, tokens=4, steps=20, grad_path="ddim"))
    rows.append(dict(e, model=adapter, tokens=4, steps=40, objective="match"))
    rows.append(dict(e, model=adapter, tokens=4, steps=20, scale=2.0))
    rows.append(dict(e, model=None, tokens=4, steps=20))
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--adapter", default="kick")
    p.add_argument("--prompts", type=int, default=8)
    p.add_argument("--eval-seeds", type=int, default=2)
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    lab = MotionLab()
    concept = lab.infos[lab.adapter_name(args.adapter)].concept
    out = []
    print("| model | scale | tokens | steps | grad path | objective | ASR (evaluator) | kinematic judge | clean (evaluator) | p(concept) clean → attacked | wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for row in grid(args.adapter):
        cfg = AttackConfig(mode="soft", prompts=args.prompts, eval_seeds=args.eval_seeds, tokens=row["tokens"], steps=row["steps"],
                           grad_path=row["grad_path"], objective=row["objective"])
        r = run_attack(attack_target(lab, row["model"], row["scale"]), cfg, concept=concept)
        s = r.soft
        out.append({**row, "label": r.label, "asr": s.asr, "judge": s.judge_rate, "clean": s.clean_rate, "clean_judge": s.clean_judge_rate,
                    "prob": s.prob, "clean_prob": s.clean_prob, "seconds": s.seconds, "budget": r.budget})
        print(f"| {'base' if row['model'] is None else r.label} | {row['scale']:g} | {row['tokens']} | {row['steps']} | {row['grad_path']} | {row['objective']} | {s.asr:.0%} | "
              f"{s.judge_rate:.0%} | {s.clean_rate:.0%} | {s.clean_prob:.2f} → {s.prob:.2f} | {s.seconds:.0f} |", flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"prompts": args.prompts, "eval_seeds": args.eval_seeds, "rows": out}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
