"""Thread settings are safe: a generation works after `torch.set_num_threads(2)` (which broke torch's batched LU
solve on MKL builds, the path foot planting used to take) and with OMP_NUM_THREADS=1, and the app's thread
switch MOTION_LORA_THREADS is applied, with a bad value a clear error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# A side-by-side (base and steered: a batch of 2, the shape that failed) at the longest length, with foot planting.
GENERATE = """
import sys, torch
{setup}
from motion_lora.serving.service import MotionLab
lab = MotionLab(base="tiny_base", user_dir=sys.argv[1], evaluator=None)
c = lab.compare("a person kicks with the right leg", [], frames=196, steps=3, plant_feet=True)
assert c.base_joints.shape == c.steered_joints.shape == (196, 22, 3), c.base_joints.shape
assert torch.isfinite(torch.as_tensor(c.base_joints)).all()
print("threads", torch.get_num_threads())
"""


def run_generation(tiny_root: Path, tmp_path: Path, setup: str = "", **env: str) -> subprocess.CompletedProcess:
    environ = {**os.environ, "MOTION_LORA_CHECKPOINTS": str(tiny_root), "HF_HUB_OFFLINE": "1", **env}
    environ.pop("MOTION_LORA_HUB_REPO", None)
    return subprocess.run([sys.executable, "-c", GENERATE.format(setup=setup), str(tmp_path / "user")], cwd=REPO, env=environ,
                          capture_output=True, text=True, timeout=240)


@pytest.mark.parametrize("setup, env, threads", [
    ("torch.set_num_threads(2)", {}, 2),
    ("", {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}, 1),
    ("from motion_lora.serving.settings import apply_thread_setting; apply_thread_setting()", {"MOTION_LORA_THREADS": "2"}, 2),
], ids=["set_num_threads_2", "omp_1", "motion_lora_threads_2"])
def test_generation_under_thread_settings(tiny_root, tmp_path, setup, env, threads):
    done = run_generation(tiny_root, tmp_path, setup, **env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"threads {threads}" in done.stdout
    assert "lu_solve" not in done.stderr and "MKL ERROR" not in done.stderr


@pytest.mark.parametrize("raw", ["two", "0", "-1", "1.5"])
def test_bad_thread_setting_is_a_clear_error(monkeypatch, raw):
    from motion_lora.serving.settings import apply_thread_setting

    monkeypatch.setenv("MOTION_LORA_THREADS", raw)
    with pytest.raises(ValueError, match="MOTION_LORA_THREADS"):
        apply_thread_setting()


def test_no_thread_setting_leaves_torch_alone(monkeypatch):
    import torch

    from motion_lora.serving.settings import apply_thread_setting

    monkeypatch.delenv("MOTION_LORA_THREADS", raising=False)
    before = torch.get_num_threads()
    assert apply_thread_setting() is None
    assert torch.get_num_threads() == before
