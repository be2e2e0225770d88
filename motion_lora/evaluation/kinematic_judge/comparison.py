"""The kinematic judge side by side with the learned evaluator: per-run comparison, summaries, report lines."""

from __future__ import annotations

import numpy as np

from ...motion.features import recover_joints
from .rules import RULES, judge
from .thresholds import JUDGED_CONCEPTS

DISAGREE_GAP = 0.2  # the judges "disagree" on a concept when one finds it in 20 points more motions
SHARES = ("evaluator", "judge", "evaluator_only", "judge_only")  # per concept, each a share of its motions
AVERAGES = ("judged_average", "evaluator_average", "evaluator_only", "judge_only")  # over the judged concepts


def compare_run(clips: list[np.ndarray], concepts: list[str], evaluator_present: np.ndarray) -> dict:
    """One generation run: judge vs evaluator on the prompts whose concept the judge knows.

    clips: generated joints (T_i, 22, 3); concepts: each prompt's asked concept; evaluator_present (N,)
    bool. -> {"per_concept": {c: {"n", "evaluator", "judge", "evaluator_only", "judge_only"}},
    "judged_average", "evaluator_average", "evaluator_only", "judge_only", "n"} where the shares are over
    the judged prompts (evaluator_only: evaluator says present, judge says absent).
    """
    evaluator_present = np.asarray(evaluator_present, dtype=bool)
    if not len(clips) == len(concepts) == len(evaluator_present):
        raise ValueError(
            f"compare_run: {len(clips)} clips, {len(concepts)} concepts, {len(evaluator_present)} evaluator verdicts"
        )
    idx = [i for i, c in enumerate(concepts) if c in RULES]
    judged = np.array([judge(clips[i])[concepts[i]] for i in idx], dtype=bool)
    ev = evaluator_present[idx]
    names = np.array([concepts[i] for i in idx])
    per = {}
    for c in JUDGED_CONCEPTS:
        m = names == c
        if m.any():
            per[c] = {
                "n": int(m.sum()),
                "evaluator": float(ev[m].mean()),
                "judge": float(judged[m].mean()),
                "evaluator_only": float((ev[m] & ~judged[m]).mean()),
                "judge_only": float((judged[m] & ~ev[m]).mean()),
            }
    out = {"per_concept": per, "n": len(idx)}
    if per:
        out["judged_average"] = float(np.mean([v["judge"] for v in per.values()]))
        out["evaluator_average"] = float(np.mean([v["evaluator"] for v in per.values()]))
        out["evaluator_only"] = float((ev & ~judged).mean())
        out["judge_only"] = float((judged & ~ev).mean())
    return out


def summarise_runs(runs: list[dict]) -> dict:
    """Mean over repeated `compare_run` results (per concept and overall); a concept absent from a run is skipped."""
    if not runs:
        raise ValueError("summarise_runs needs at least one run")
    out = {"n": runs[0]["n"], "repeats": len(runs)}
    for k in AVERAGES:
        values = [r[k] for r in runs if k in r]
        if values:
            out[k] = float(np.mean(values))
    per: dict[str, dict] = {}
    for c in JUDGED_CONCEPTS:
        rows = [r["per_concept"][c] for r in runs if c in r["per_concept"]]
        if rows:
            per[c] = {"n": rows[0]["n"], **{k: float(np.mean([row[k] for row in rows])) for k in SHARES}}
    out["per_concept"] = per
    return out


def disagreement_notes(summary: dict) -> list[str]:
    """Plain sentences for every concept where the evaluator and the kinematic judge disagree."""
    notes = []
    for c, v in summary.get("per_concept", {}).items():
        if (
            abs(v["evaluator"] - v["judge"]) >= DISAGREE_GAP
            or max(v["evaluator_only"], v["judge_only"]) >= DISAGREE_GAP
        ):
            more = (
                "the evaluator sees it far more often"
                if v["evaluator"] > v["judge"]
                else "the kinematic judge sees it far more often"
            )
            notes.append(
                f"{c}: the judges disagree — evaluator {v['evaluator']:.0%}, kinematic judge {v['judge']:.0%} "
                f"of {v['n']} motions; "
                f"{more} (evaluator-only {v['evaluator_only']:.0%}, judge-only {v['judge_only']:.0%})."
            )
    return notes


def judge_features(features: list[np.ndarray], concepts: list[str], evaluator_present: np.ndarray) -> dict:
    """`compare_run` on generated HumanML3D features (unnormalised, each (N_i, 263)) via the ric recovery."""
    return compare_run([recover_joints(np.asarray(f)) for f in features], concepts, evaluator_present)


def report_lines(summaries: dict[str, dict], title: str = "Kinematic judge beside the evaluator") -> list[str]:
    """Markdown lines: per judged concept the evaluator's and the judge's presence rates, the one-way
    disagreements, the averages over judged concepts and a sentence wherever the two disagree.
    summaries: {label (e.g. a prompt kind or "base"/"unlearned"): summarise_runs(...)}."""
    summaries = {k: v for k, v in summaries.items() if v and v.get("per_concept")}
    if not summaries:
        return []
    lines = [
        "",
        f"## {title}",
        "",
        "Rule-based checks on the generated joints (motion_lora/evaluation/kinematic_judge/). "
        "evaluator-only = share of motions the evaluator calls the concept but the judge does not; "
        "judge-only = the reverse.",
        "",
    ]
    for label, s in summaries.items():
        avg = {k: s.get(k, float("nan")) for k in AVERAGES}
        lines += [
            f"**{label}** ({s['n']} prompts of judged concepts, {s['repeats']} repeats): "
            "average over judged concepts — "
            f"evaluator {avg['evaluator_average']:.3f}, kinematic judge {avg['judged_average']:.3f}; "
            f"disagreement: evaluator-only {avg['evaluator_only']:.3f}, judge-only {avg['judge_only']:.3f}",
            "",
            "| concept | n | evaluator | kinematic judge | evaluator-only | judge-only |",
            "|---|---|---|---|---|---|",
        ]
        for c, v in s["per_concept"].items():
            lines.append(f"| {c} | {v['n']} | " + " | ".join(f"{v[k]:.3f}" for k in SHARES) + " |")
        notes = disagreement_notes(s)
        lines += (
            [""] + [f"- {n}" for n in notes]
            if notes
            else ["", "The two judges agree within 20 points on every judged concept."]
        )
        lines.append("")
    return lines


def judge_eval_runs(evaluator, prompts: list, runs: list[tuple[np.ndarray, np.ndarray]]) -> dict:
    """The judge beside the evaluator on a forget/retain prompt set over repeated generations.

    evaluator: `evaluation.Judge`; prompts: `evaluation.EvalPrompt`s; runs: [(features (N, T, 263)
    unnormalised, lengths (N,))] as `evaluation.set_metrics` takes them. -> `summarise_runs` of the runs.
    """
    from ..protocol import present  # here, so the rules themselves import numpy only (no torch, no text encoder)

    out = []
    for features, lengths in runs:
        _, probs = evaluator.score(features, lengths)
        clips = [f[: int(n)] for f, n in zip(features, lengths)]
        out.append(judge_features(clips, [p.concept for p in prompts], present(probs, prompts)))
    return summarise_runs(out)
