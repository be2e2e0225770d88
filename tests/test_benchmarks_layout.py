"""benchmarks/: scripts grouped by kind, run as modules without sys.path edits, and an all.py that runs what its
docstring and docs/performance.md say it runs. Read from the files (nothing is imported or run: the scripts need the
shipped checkpoints, a browser or minutes)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS = REPO / "benchmarks"
KINDS = ("performance", "experiments", "calibration")
HELPERS = {"served_app"}  # imported by the browser benchmarks, not run itself


def scripts() -> list[Path]:
    return sorted(p for p in BENCHMARKS.rglob("*.py") if p.name != "__init__.py" and "results" not in p.parts)


def all_py() -> tuple[str, dict[str, list[str]]]:
    """all.py's docstring and its SCRIPTS table {name: [module, args...]}."""
    tree = ast.parse((BENCHMARKS / "all.py").read_text(encoding="utf-8"))
    table = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "SCRIPTS" for t in node.targets))
    return ast.get_docstring(tree), ast.literal_eval(table)


def test_every_script_sits_in_one_kind_folder():
    misplaced = [str(p.relative_to(REPO)) for p in scripts()
                 if p != BENCHMARKS / "all.py" and (p.parent.parent != BENCHMARKS or p.parent.name not in KINDS)]
    assert misplaced == []
    for kind in KINDS:
        assert (BENCHMARKS / kind / "__init__.py").is_file(), kind
    assert (BENCHMARKS / "__init__.py").is_file()


def test_no_script_edits_sys_path():
    edits = [p for p in scripts() if re.search(r"sys\.path\.(insert|append)", p.read_text(encoding="utf-8"))]
    assert [str(p.relative_to(REPO)) for p in edits] == []


def test_each_script_documents_its_module_command():
    wrong = []
    for p in scripts():
        if p.stem in HELPERS:
            continue
        module = ".".join(p.relative_to(REPO).with_suffix("").parts)
        doc = ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or ""
        if f"python -m {module}" not in doc:
            wrong.append(module)
    assert wrong == []


def test_all_runs_what_it_says_it_runs():
    doc, table = all_py()
    modules = [row[0] for row in table.values()]
    assert [m for m in modules if not (BENCHMARKS / Path(*m.split("."))).with_suffix(".py").is_file()] == []
    names = [m.rsplit(".", 1)[1] for m in modules]
    said = doc.split("The seven:", 1)[1].split(".", 1)[0]  # "generate (--runs 10), player, ... and video"
    assert re.findall(r"[a-z_]+(?= \(|,| and|$)", said.replace(" and ", ", ")) == names
    assert len(names) == 7
    docs = (REPO / "docs" / "performance.md").read_text(encoding="utf-8")
    sentence = docs.split("`python -m benchmarks.all` runs seven", 1)[1].split("`--skip", 1)[0]
    assert [m.split()[0] for m in re.findall(r"`([a-z_]+(?: --runs 10)?)`", sentence)] == names
