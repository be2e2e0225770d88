"""Base-model ablations in one table: the loss-map figures of several `eval_base` results side by side.

    python -m benchmarks.experiments.base_ablation RESULT_DIR [RESULT_DIR ...] [--names a b ...] [--json out.json]

Each RESULT_DIR holds an `eval_base` metrics.json (`python -m motion_lora.eval_base --ckpt RUN --out DIR`).
The short training runs themselves are plain `python -m motion_lora.pretrain` commands (docs/models.md lists the
ones behind the shipped table), so each variant is resumable and can be re-evaluated alone. Printed per variant:
natural-prompt concept accuracy (overall, and the concepts the issue's bars name), training and held-out
phrasings, the kinematic judge (mean, walk, punch, jump), the text ceiling, and the physics ratios to mocap.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

BAR_CONCEPTS = ("jump", "walk", "punch", "kick")
JUDGE_CONCEPTS = ("walk", "punch", "jump")
COLUMNS = ["variant", "natural", "train phr.", "held-out phr.", *(f"{c} (eval)" for c in BAR_CONCEPTS), "worst concept", "judge mean",
           *(f"{c} (judge)" for c in JUDGE_CONCEPTS), "text ceiling", "skating x mocap", "jitter x mocap", "penetration cm"]


def mean(d: dict | None, key: str) -> float | None:
    v = (d or {}).get(key)
    return None if v is None else (v["mean"] if isinstance(v, dict) else v)


def row(name: str, m: dict) -> dict:
    """The table's figures of one metrics.json."""
    g, natural = m["generated"], m.get("generated_per_concept_accuracy_natural", {})
    judge = m.get("kinematic_judge", {}).get("natural", {})
    phys = m.get("physics", {})
    mocap, gen = phys.get("mocap_test") or {}, phys.get("generated_mocap_prompts") or {}
    ratio = lambda k: gen[k] / mocap[k] if mocap.get(k) and k in gen else None  # noqa: E731
    worst = min(natural.items(), key=lambda kv: kv[1]["mean"]) if natural else None
    return {
        "variant": name,
        "natural": mean(g, "concept_accuracy_natural"),
        "train phr.": mean(g, "concept_accuracy_train_phrasing"),
        "held-out phr.": mean(g, "concept_accuracy_heldout_phrasing"),
        **{f"{c} (eval)": mean(natural, c) for c in BAR_CONCEPTS},
        "worst concept": f"{worst[0]} {worst[1]['mean']:.2f}" if worst else None,
        "judge mean": judge.get("judged_average"),
        **{f"{c} (judge)": judge.get("per_concept", {}).get(c, {}).get("judge") for c in JUDGE_CONCEPTS},
        "text ceiling": (m.get("loss_map") or {}).get("overall", {}).get("ceiling"),
        "skating x mocap": ratio("foot_skating_ratio"),
        "jitter x mocap": ratio("jitter_m_s2"),
        "penetration cm": gen.get("floor_penetration_cm"),
    }


def cell(v) -> str:
    return "–" if v is None else (f"{v:.3f}" if isinstance(v, float) else str(v))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("results", nargs="+", type=Path)
    p.add_argument("--names", nargs="*", default=None, help="a label per result folder (default: the folder names)")
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    names = args.names or [r.name for r in args.results]
    if len(names) != len(args.results):
        p.error(f"{len(names)} names for {len(args.results)} result folders")
    missing = [str(r) for r in args.results if not (r / "metrics.json").exists()]
    if missing:
        print(f"error: no metrics.json in {', '.join(missing)} (run python -m motion_lora.eval_base --out DIR first)", file=sys.stderr)
        return 1
    rows = [row(n, json.loads((r / "metrics.json").read_text())) for n, r in zip(names, args.results)]
    print("| " + " | ".join(COLUMNS) + " |")
    print("|" + "---|" * len(COLUMNS))
    for r in rows:
        print("| " + " | ".join(cell(r[c]) for c in COLUMNS) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
