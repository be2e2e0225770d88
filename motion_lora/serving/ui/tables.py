"""Evaluation results as text: the metrics table, captions, judge disagreements, training and attack notes."""

from __future__ import annotations

import json

from ..library import AdapterInfo
from .plots import _finite, _r

METRIC_NOTES = {
    "presence": "share of motions the evaluator classifies as the prompt's concept",
    "r_precision_top1": "text retrieval top-1 (higher = motion matches text)",
    "r_precision_top2": "text retrieval top-2",
    "r_precision_top3": "text retrieval top-3",
    "fid": "Fréchet distance to real motions (lower = more realistic)",
    "mm_dist": "text–motion embedding distance (lower = better match)",
    "diversity": "spread of generated motions (close to real = good)",
}
METRIC_ORDER = ("presence", "r_precision_top1", "r_precision_top2", "r_precision_top3", "fid", "mm_dist", "diversity")
TABLE_HEADERS = ["set", "metric", "base", "base interval", "unlearned", "unlearned interval", "kinematic judge", "n", "meaning"]
TABLE_WIDTHS = ["7%", "13%", "7%", "11%", "8%", "11%", "11%", "12%", "20%"]
TABLE_LABEL = ("Base vs unlearned: 95% bootstrap interval over prompts and seeds (per-prompt metrics) or ± one standard error "
               "over seeds (set-level metrics); n = what was resampled")


def interval_text(m: dict) -> str | None:
    """'0.52–0.77' (bootstrap), '± 0.021 SE' (standard error), None when there is none: a single sample, or
    an old stored result whose t-interval over 2 repeats is not shown (misleading: t = 12.7 at n = 2)."""
    if m.get("method") == "bootstrap" and _finite(m.get("lo")) and _finite(m.get("hi")):
        return f"{m['lo']:.3f}–{m['hi']:.3f}"
    if m.get("method") == "se" and _finite(m.get("se")):
        return f"± {m['se']:.3f} SE"
    return None


def sample_text(m: dict, fallback_repeats) -> str:
    """What an interval was computed from: '48 prompts × 2 seeds', '2 seeds'; for old results, '2 seeds (no interval stored)'."""
    if m.get("method") == "bootstrap":
        return f"{m['n_prompts']} prompts × {m['n_repeats']} seed{'s' if m['n_repeats'] != 1 else ''}"
    if m.get("method") == "se":
        return f"{m['n']} seed{'s' if m['n'] != 1 else ''}"
    return f"{fallback_repeats} seeds (old result: re-run for intervals)" if m else ""


def eval_rows(result: dict) -> list[list]:
    rows = []
    for set_name in ("forget", "retain"):
        part = result.get(set_name) or {}
        base_part, unl_part = part.get("base") or {}, part.get("unlearned") or {}
        base, unl = base_part.get("metrics", {}), unl_part.get("metrics", {})
        names = [m for m in METRIC_ORDER if m in base or m in unl] + sorted((set(base) | set(unl)) - set(METRIC_ORDER))
        for m in names:
            b, u = base.get(m) or {}, unl.get(m) or {}
            rows.append([set_name, m, _r(b.get("mean")), interval_text(b), _r(u.get("mean")), interval_text(u),
                         judge_text(base_part, unl_part) if m == "presence" else None,
                         sample_text(b or u, base_part.get("repeats", "?")), METRIC_NOTES.get(m, "")])
    return rows


def judge_text(base_part: dict, unl_part: dict) -> str | None:
    """'0.62 → 0.08': the kinematic judge's presence (base → unlearned) on the set's judged concepts."""
    b, u = (base_part.get("kinematic") or {}).get("judged_average"), (unl_part.get("kinematic") or {}).get("judged_average")
    return None if b is None or u is None else f"{b:.3f} → {u:.3f}"


def judge_disagreements(result: dict) -> list[str]:
    """Sentences naming every set/model/concept where the evaluator and the kinematic judge disagree."""
    from ...evaluation.kinematic_judge import disagreement_notes

    return [f"{s} set, {m}: {note}" for s in ("forget", "retain") for m in ("base", "unlearned")
            for note in disagreement_notes(((result.get(s) or {}).get(m) or {}).get("kinematic") or {})]


def preserved_note(meta: dict) -> str:
    """' Preserved N retain prompts (*a*, *b*, *c*, …; λ w).' for a training summary; empty without preservation."""
    retain, weight = meta.get("retain_prompts") or [], meta.get("preserve_weight") or 0
    if not retain or not weight:
        return ""
    shown = ", ".join(f"*{p}*" for p in retain[:3]) + (", …" if len(retain) > 3 else "")
    return f" Preserved {len(retain)} retain prompts ({shown}; λ {weight:g})."


def shipped_eval(info: AdapterInfo) -> dict | None:
    path = info.path / "eval" / "metrics.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "forget" in data and "retain" in data else None


def eval_caption(result: dict, source: str) -> str:
    f = result.get("forget", {}).get("base", {})
    r = result.get("retain", {}).get("base", {})
    return (
        f"**{source}** for adapter `{result.get('adapter', '?')}` (concept **{result.get('concept', '?')}**): "
        f"{f.get('n_prompts', '?')} forget prompts, {r.get('n_prompts', '?')} retain prompts, {f.get('repeats', '?')} repeats, "
        f"{result.get('steps', '?')} sampling steps. Proxy metrics from our own evaluator: mean with a 95% bootstrap "
        "interval over prompts and seeds, or ± one standard error over seeds for set-level metrics; "
        "not comparable with published HumanML3D numbers. The kinematic judge column is the presence found by "
        "rule-based checks on the joints (motion_lora/evaluation/kinematic_judge/), averaged over the concepts it can judge."
        + disagreement_text(judge_disagreements(result))
    )


def disagreement_text(notes: list[str], shown: int = 6) -> str:
    more = f"  \n… and {len(notes) - shown} more disagreements (see the result JSON)" if len(notes) > shown else ""
    return "".join(f"  \n⚠ {note}" for note in notes[:shown]) + more


def attack_summary(info: AdapterInfo) -> str:
    """Markdown of the adapter's stored attack report (eval/attack.json), flagged when it was made for other weights."""
    from ...unlearning.attack import file_sha256, format_table, load_attack_report

    try:
        reports = load_attack_report(info.path)
    except FileNotFoundError:
        return (f"No adversarial attack report for **{info.short}** yet. Run `python -m motion_lora.attack --adapter {info.short}` "
                "(a few minutes on a CPU) to measure how easily the concept comes back.")
    except ValueError as err:
        return f"The attack report of **{info.short}** cannot be read: {err}"
    current = file_sha256(info.path / "model" / "adapter_model.safetensors")
    stale = [r.label for r in reports if r.fingerprint and r.label != "base" and r.fingerprint != current]
    note = f"\n\n⚠️ Made for earlier weights of {', '.join(stale)}; rerun the attack." if stale else ""
    return ("**Adversarial prompt attack** (stored `eval/attack.json`): attack success rate = share of attacked generations "
            "on fresh seeds in which the concept comes back.\n\n" + format_table(reports) + note)
