"""Packaging: pyproject.toml names one console command per CLI, each resolves to a `main` that returns an exit
status and prints its `--help`; where `pip install -e .` ran (requirements-dev.txt does it), the installed commands
are pyproject's and one runs for real. requirements.txt reads as the package's dependencies, and the package data
the code reads at run time is declared."""

from __future__ import annotations

import fnmatch
import importlib
import inspect
import json
import os
import subprocess
import sys
import sysconfig
import tempfile
from importlib import metadata
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
SCRIPTS: dict[str, str] = PYPROJECT["project"]["scripts"]
HELP_TIMEOUT_S = 600  # importing torch, transformers and gradio on a busy 2-core machine


def entry_modules(root: Path = REPO) -> set[str]:
    """The CLIs: the modules directly under motion_lora/ that run as a script (checks.py, a library module there,
    does not) and the `python -m motion_lora.data` package."""
    modules = {f"motion_lora.{p.stem}" for p in (root / "motion_lora").glob("*.py")
               if 'if __name__ == "__main__":' in p.read_text(encoding="utf-8")}
    return modules | {f"motion_lora.{p.parent.name}.__main__" for p in (root / "motion_lora").glob("*/__main__.py")}


def command_name(module: str) -> str:
    """motion_lora.test_unlearn -> motion-lora-test-unlearn; motion_lora.data.__main__ -> motion-lora-data."""
    return "motion-lora-" + module.removeprefix("motion_lora.").removesuffix(".__main__").replace("_", "-")


def resolve(entry: str):
    """The callable a console-script entry 'module:function' names (ValueError if it names none)."""
    module, sep, attr = entry.partition(":")
    if not sep or not attr:
        raise ValueError(f"{entry!r} is not module:function")
    try:
        target = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"{entry!r} does not resolve: {err}") from err
    if not callable(target):
        raise ValueError(f"{entry!r} is not callable")
    return target


def check_scripts(scripts: dict[str, str], modules: set[str]) -> list[str]:
    """Problems with a [project.scripts] table: a CLI without its command, a command without a CLI, a name off
    the motion-lora-<module> rule."""
    targets = {name: entry.partition(":")[0] for name, entry in scripts.items()}
    problems = [f"no command for {m}" for m in sorted(modules - set(targets.values()))]
    for name, entry in scripts.items():
        if targets[name] not in modules:
            problems.append(f"{name} = {entry!r} is not a CLI")
        elif name != command_name(targets[name]):
            problems.append(f"{name} should be {command_name(targets[name])}")
        if not entry.endswith(":main"):
            problems.append(f"{name} = {entry!r} does not call main")
    return problems


def test_every_cli_has_one_command():
    assert check_scripts(SCRIPTS, entry_modules()) == []


def test_the_scripts_check_catches_a_wrong_table():
    modules = entry_modules()
    good = {command_name(m): f"{m}:main" for m in modules}
    assert check_scripts(good, modules) == []
    missing = dict(good)
    del missing["motion-lora-train"]
    assert check_scripts(missing, modules) == ["no command for motion_lora.train"]
    assert check_scripts({**good, "motion-lora-train": "motion_lora.train:run"}, modules) != []
    assert check_scripts({**good, "train": "motion_lora.train:main"}, modules) != []
    assert check_scripts({**good, "motion-lora-nope": "motion_lora.nope:main"}, modules) != []


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_entry_resolves_to_a_main_returning_an_exit_status(name):
    target = resolve(SCRIPTS[name])
    # The console script calls sys.exit(main()): anything but an int (or None) would print and exit 1.
    assert inspect.signature(target).return_annotation in (int, "int"), f"{SCRIPTS[name]} must return an int"
    assert list(inspect.signature(target).parameters)[:1] == ["argv"], f"{SCRIPTS[name]} takes argv"


def test_resolve_catches_a_wrong_entry():
    for wrong in ("motion_lora.train:nope", "motion_lora.nope:main", "motion_lora.train", "motion_lora:__version__"):
        with pytest.raises(ValueError):
            resolve(wrong)


# Runs in a subprocess: each entry's main(["--help"]) as its console script calls it (sys.exit(main())), one
# import of torch and friends for all of them; prints {entry: exit status, or why there is none} as JSON.
HELP_DRIVER = """
import contextlib, importlib, io, json, sys
statuses = {}
for entry in sys.argv[1:]:
    module, _, attr = entry.partition(":")
    out = io.StringIO()
    try:
        main = getattr(importlib.import_module(module), attr)
        with contextlib.redirect_stdout(out):
            statuses[entry] = f"returned {main(['--help'])!r} without exiting"
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1 if stop.code is not None else 0
        statuses[entry] = code if out.getvalue().startswith("usage:") else f"exit {code} without a usage line"
    except Exception as err:
        statuses[entry] = f"{type(err).__name__}: {err}"
print(json.dumps(statuses))
"""


def help_statuses(entries: list[str]) -> dict[str, int | str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-c", HELP_DRIVER, *entries], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=HELP_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_every_command_prints_its_help():
    statuses = help_statuses(sorted(set(SCRIPTS.values())))
    assert {entry: status for entry, status in statuses.items() if status != 0} == {}


def test_the_help_check_catches_a_broken_entry():
    statuses = help_statuses(["motion_lora.no_such_command:main", "motion_lora:__version__"])
    assert all(status != 0 for status in statuses.values()), statuses


def installed_scripts() -> dict[str, str] | None:
    """The console scripts of the installed motion-lora distribution (None when it is not installed here)."""
    try:
        dist = metadata.distribution("motion-lora")
    except metadata.PackageNotFoundError:
        return None
    return {ep.name: ep.value for ep in dist.entry_points if ep.group == "console_scripts"}


def test_the_installed_commands_are_the_pyproject_ones():
    installed = installed_scripts()
    if installed is None:
        pytest.skip("motion-lora is not installed here (pip install -e .)")
    assert installed == SCRIPTS, "pyproject.toml changed since the install: rerun pip install -e ."
    scripts_dir = Path(sysconfig.get_path("scripts"))
    assert [name for name in SCRIPTS if not (scripts_dir / name).exists()] == []


@pytest.mark.slow
def test_an_installed_command_and_its_module_run():
    """The real thing for the lightest CLI: the installed script, from outside the clone, and `python -m`."""
    if installed_scripts() is None:
        pytest.skip("motion-lora is not installed here (pip install -e .)")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    script = Path(sysconfig.get_path("scripts")) / "motion-lora-data"
    runs = (([str(script), "--help"], Path(tempfile.gettempdir())),
            ([sys.executable, "-m", "motion_lora.data", "--help"], REPO))
    for cmd, cwd in runs:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=HELP_TIMEOUT_S)
        assert proc.returncode == 0 and "import-bvh" in proc.stdout, (cmd, proc.stderr[-2000:])


def requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def test_requirements_txt_reads_as_the_package_dependencies():
    """pyproject.toml takes its dependencies from requirements.txt, where setuptools accepts only PEP 508 lines:
    no pip options (-e, -r), no comment after a requirement."""
    from packaging.requirements import InvalidRequirement, Requirement

    assert PYPROJECT["project"]["dynamic"] == ["dependencies"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}
    bad = []
    for line in requirement_lines((REPO / "requirements.txt").read_text()):
        try:
            Requirement(line)
        except InvalidRequirement:
            bad.append(line)
    assert bad == []
    with pytest.raises(InvalidRequirement):
        Requirement("diffusers==0.42.1  # an inline comment")  # what the check above rejects


def test_requirements_dev_installs_the_package():
    assert "-e ." in requirement_lines((REPO / "requirements-dev.txt").read_text())


def test_package_data_covers_every_data_file():
    """Every non-Python file inside motion_lora/ (the prompts the evaluation reads) is declared package data."""
    declared = PYPROJECT["tool"]["setuptools"]["package-data"]
    missing = []
    for path in (REPO / "motion_lora").rglob("*"):
        if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
            continue
        package = ".".join(path.parent.relative_to(REPO).parts)
        if not any(fnmatch.fnmatch(path.name, pattern) for pattern in declared.get(package, [])):
            missing.append(str(path.relative_to(REPO)))
    assert missing == []
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["motion_lora*"]
