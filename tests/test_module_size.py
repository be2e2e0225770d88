"""Code that shows its seams: no module under motion_lora/ (nor app.py) over 400 lines, and the function that builds
the app's page (`build_demo`) at most 80 lines; a longer one is a sign that it holds more than one idea."""

from __future__ import annotations

import ast
from pathlib import Path


REPO = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_BUILD_DEMO_LINES = 80


def sources() -> list[Path]:
    return sorted((REPO / "motion_lora").rglob("*.py")) + [REPO / "app.py"]


def line_count(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def too_long(paths: list[Path], limit: int, root: Path = REPO) -> list[str]:
    """'path: N lines' (relative to `root`) for every file over `limit` lines, longest first."""
    counts = sorted(((line_count(p), p) for p in paths), reverse=True)
    return [f"{p.relative_to(root)}: {n} lines" for n, p in counts if n > limit]


def function_lines(path: Path, name: str) -> list[int]:
    """Lines (decorators included) of every function called `name` defined in `path`, at any depth."""
    functions = (n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == name)
    return [f.end_lineno - min([f.lineno] + [d.lineno for d in f.decorator_list]) + 1 for f in functions]


def test_no_module_is_longer_than_400_lines():
    assert too_long(sources(), MAX_MODULE_LINES) == []


def test_build_demo_is_at_most_80_lines():
    found = {p: function_lines(p, "build_demo") for p in sources()}
    lengths = [n for ns in found.values() for n in ns]
    assert lengths, "no build_demo in app.py or motion_lora/"
    assert max(lengths) <= MAX_BUILD_DEMO_LINES, {str(p.relative_to(REPO)): ns for p, ns in found.items() if ns}


def test_the_checks_measure_what_they_say(tmp_path):
    short, long = tmp_path / "short.py", tmp_path / "long.py"
    short.write_text("x = 1\n" * MAX_MODULE_LINES)
    long.write_text("x = 1\n" * (MAX_MODULE_LINES + 1))
    assert too_long([short, long], MAX_MODULE_LINES, root=tmp_path) == [f"long.py: {MAX_MODULE_LINES + 1} lines"]
    demo = tmp_path / "demo.py"
    demo.write_text("@decorator\ndef build_demo():\n" + "    x = 1\n" * 5 + "\n\ndef other():\n    pass\n")
    assert function_lines(demo, "build_demo") == [7]
    assert function_lines(demo, "missing") == []

