"""Attack reports on disk (eval/attack.json, written atomically) and as a markdown table."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from .results import AttackReport

REPORT_FILE = "attack.json"
REPORT_FORMAT = "motion_lora.attack/1"


def save_reports(reports: list[AttackReport], path: str | Path) -> Path:
    """Write reports as one JSON file (atomically: a temporary file renamed into place)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps({"format": REPORT_FORMAT, "reports": [r.to_dict() for r in reports]}, indent=1) + "\n")
    os.replace(tmp, path)
    return path


def load_attack_report(folder_or_file: str | Path) -> list[AttackReport]:
    """The reports of an attack.json: a file, a folder holding one, or an adapter/base folder (its eval/attack.json)."""
    path = Path(folder_or_file)
    if path.is_dir():
        path = path / "eval" / REPORT_FILE if (path / "eval" / REPORT_FILE).is_file() else path / REPORT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no attack report at {path}; run `python -m motion_lora.attack`")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err})") from err
    if not isinstance(data, dict) or data.get("format") != REPORT_FORMAT:
        raise ValueError(f"{path} is not an attack report (format {REPORT_FORMAT})")
    return [AttackReport.from_dict(r) for r in data["reports"]]


def _pct(x) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.0%}"


def format_table(reports: list[AttackReport]) -> str:
    """A markdown table of the headline numbers, one row per attacked model."""
    lines = ["| model | concept | soft-prompt ASR (evaluator) | soft ASR (kinematic judge) | clean prompts (evaluator) | "
             "discrete ASR, best phrasings (evaluator) | discrete (kinematic judge) | all candidates | concept-free candidates |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in reports:
        s = r.summary()
        lines.append(f"| {s['label']} | {s['concept']} | {_pct(s['soft_asr'])} | {_pct(s['soft_judge'])} | {_pct(s['soft_clean'])} | "
                     f"{_pct(s['discrete_asr'])} | {_pct(s['discrete_judge'])} | {_pct(s['discrete_all'])} | {_pct(s['discrete_concept_free'])} |")
    if reports:
        lines += ["", f"Budget: {reports[0].budget}."]
        for r in reports:
            if r.soft:
                lines.append(f"- {r.label}: soft prompt {r.soft.seconds:.0f} s (proxy p({r.concept}) {r.soft.proxy_prob_start:.2f} → {r.soft.proxy_prob_end:.2f}); "
                             f"prompts broken on most fresh seeds {_pct(r.soft.prompt_asr)}")
            if r.discrete:
                best = "; ".join(f"“{b.prompt}” {b.rate:.0%}" for b in r.discrete.best[:3])
                lines.append(f"- {r.label}: discrete search {r.discrete.seconds:.0f} s over {r.discrete.n_candidates} candidates; best: {best}")
    return "\n".join(lines)
