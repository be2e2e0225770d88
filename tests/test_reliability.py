"""Faults and load: cancelled, killed and failing trainings leave the adapter library intact; corrupt
checkpoints are clear errors that do not take the rest down; many users and a training at once all finish.

Everything runs on the tiny checkpoints of conftest.py (`private_root`: a copy without other tests' adapters).
"""

from __future__ import annotations

import errno
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import compare_works, copy_without_adapters, free_port, running_app

from motion_lora.unlearning.adapters import LoraSpec
from motion_lora.unlearning.unlearn import UnlearnConfig

REPO = Path(__file__).resolve().parent.parent
FAST = UnlearnConfig(concept="kick", iterations=6, batch_size=1, frames=40, rollout_steps=2, paraphrases=4, lora=LoraSpec(rank=2, alpha=2.0))


def fast(concept: str = "kick", iterations: int = 6) -> UnlearnConfig:
    from dataclasses import replace

    return replace(FAST, concept=concept, iterations=iterations)


def leftovers(root: Path) -> list[str]:
    """Staging or half-replaced folders in an adapter root (names starting with a dot)."""
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".")) if root.is_dir() else []


def tree_digest(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------------------------------------- cancellation


def test_cancel_at_ten_random_points_leaves_no_partial_files(lab):
    """Stop requests at random moments (before, during the teacher rollouts, mid-training, near the end):
    each run either publishes a complete, loadable adapter or leaves no trace at all."""
    root = lab.user_root
    rng = random.Random(0)
    timed = time.perf_counter()
    assert lab.unlearn(fast(), threading.Event()) is not None  # a complete run, to time one
    full = time.perf_counter() - timed
    kept = tree_digest(root / "tiny_base_LoRA_kick")
    for i in range(10):
        stop = threading.Event()
        delay = rng.uniform(0, 1.2 * full)
        timer = threading.Timer(delay, stop.set)
        timer.start()
        result = lab.unlearn(fast("punch"), stop)
        timer.cancel()
        assert leftovers(root) == [], (i, delay)
        folder = root / "tiny_base_LoRA_punch"
        if result is None:
            assert not folder.exists() and "tiny_base_LoRA_punch" not in lab.infos
        else:
            assert (folder / "model" / "latest.tar").is_file() and (folder / "model" / "adapter_model.safetensors").is_file()
            assert "tiny_base_LoRA_punch" in lab.infos
            shutil.rmtree(folder)
            lab.adapters.delete("tiny_base_LoRA_punch")
            del lab.infos["tiny_base_LoRA_punch"]
    assert tree_digest(root / "tiny_base_LoRA_kick") == kept  # the other adapter was never touched
    compare_works(lab)


# ---------------------------------------------------------------------------------------------- storage faults


def test_disk_full_while_saving_is_a_clear_error_and_leaves_nothing(lab, monkeypatch):
    from motion_lora.unlearning import train

    real = train.write_adapter

    def half_then_full(staging, *args, **kwargs):
        real(staging, *args, **kwargs)  # the files are there, then the disk fills up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(train, "write_adapter", half_then_full)
    with pytest.raises(OSError, match="No space left"):
        lab.unlearn(fast(), threading.Event())
    assert leftovers(lab.user_root) == [] and not (lab.user_root / "tiny_base_LoRA_kick").exists()
    assert lab.list_adapters() == []
    monkeypatch.setattr(train, "write_adapter", real)
    assert lab.unlearn(fast(), threading.Event()).concept == "kick"  # the lab is fine afterwards
    compare_works(lab)


def test_unwritable_output_folder_is_a_clear_error(private_root, tmp_path):
    from motion_lora.serving.service import MotionLab

    blocker = tmp_path / "user"
    blocker.write_text("a file where the adapter folder should be")
    lab = MotionLab(base="tiny_base", user_dir=blocker)
    with pytest.raises(ValueError, match="is not writable"):
        lab.unlearn(fast(), threading.Event())
    assert blocker.read_text().startswith("a file")
    assert lab.list_adapters() == []


def test_app_reports_storage_errors_as_messages(lab, monkeypatch):
    import gradio as gr

    from motion_lora.serving import ui
    from motion_lora.unlearning import train

    def full_disk(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(train, "write_adapter", full_disk)
    handler = ui.user_errors(lambda: lab.unlearn(fast(), threading.Event()))
    with pytest.raises(gr.Error, match="No space left") as err:
        handler()
    assert err.value.title == "Could not write files"


# ---------------------------------------------------------------------------------------------- corrupt files


def corrupt(path: Path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncate":
        path.write_bytes(data[: len(data) // 3])
    elif how == "garbage":
        path.write_bytes(b"\x00\xff not what you expected " * 10)
    elif how == "delete":
        path.unlink()


def test_corrupt_adapters_are_reported_and_the_rest_keeps_serving(lab):
    from motion_lora.serving.service import MotionLab

    assert lab.unlearn(fast(), threading.Event()) is not None
    root = lab.user_root
    good = root / "tiny_base_LoRA_kick"
    cases = {"truncated": ("model/adapter_model.safetensors", "truncate"), "garbage": ("model/adapter_model.safetensors", "garbage"),
             "badjson": ("adapter.json", "garbage"), "badconfig": ("model/adapter_config.json", "truncate"), "noweights": ("model/adapter_model.safetensors", "delete")}
    for concept, (file, how) in cases.items():
        folder = root / f"tiny_base_LoRA_{concept}"
        shutil.copytree(good, folder)
        corrupt(folder / file, how)
    fresh = MotionLab(base="tiny_base", user_dir=root.parent)
    assert [i.concept for i in fresh.list_adapters()] == ["kick"]
    assert sorted(fresh.load_errors) == sorted(f"tiny_base_LoRA_{c}" for c in cases)
    compare_works(fresh)
    for concept in cases:
        with pytest.raises(ValueError, match="broken and was not loaded"):
            fresh.compare("a person kicks", [concept], frames=20, steps=2)
    compare_works(fresh)  # a failed request leaves the adapter state clean


@pytest.mark.parametrize(
    "folder, file, how",
    [("t2m/tiny_base", "model.safetensors", "truncate"), ("t2m/tiny_base", "model.safetensors", "garbage"), ("t2m/tiny_base", "config.json", "garbage"),
     ("t2m/tiny_base", "model.safetensors", "delete"), ("evaluator", "model.safetensors", "truncate"), ("evaluator", "reference.safetensors", "garbage"),
     ("evaluator", "config.json", "truncate")],
)
def test_corrupt_base_or_evaluator_is_a_clear_error(tiny_root, tmp_path, monkeypatch, folder, file, how):
    from motion_lora.serving.service import MotionLab

    root = copy_without_adapters(tiny_root, tmp_path / "ckpt")
    corrupt(root / folder / file, how)
    monkeypatch.setenv("MOTION_LORA_CHECKPOINTS", str(root))
    monkeypatch.delenv("MOTION_LORA_HUB_REPO", raising=False)
    expected = "no model.safetensors" if how == "delete" else "corrupt or truncated" if file.endswith("safetensors") else "not valid JSON"
    with pytest.raises((ValueError, FileNotFoundError), match=expected) as err:
        MotionLab(base="tiny_base")
    assert how == "delete" or file in str(err.value)  # the message names the file


def test_app_with_a_corrupt_base_exits_with_a_message(tiny_root, tmp_path):
    root = tmp_path / "ckpt"
    shutil.copytree(tiny_root, root)
    corrupt(root / "t2m" / "tiny_base" / "model.safetensors", "truncate")
    env = {**os.environ, "MOTION_LORA_CHECKPOINTS": str(root), "MOTION_LORA_BASE": "tiny_base", "GRADIO_SERVER_PORT": str(free_port()), "MOTION_LORA_USER_DIR": str(tmp_path / "user")}
    env.pop("MOTION_LORA_HUB_REPO", None)
    done = subprocess.run([sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "cannot load the models" in done.stderr and "corrupt or truncated" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------------------------------------- SIGKILL


def start_app(root: Path, tmp_path: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "MOTION_LORA_CHECKPOINTS": str(root), "GRADIO_SERVER_PORT": str(port), "MOTION_LORA_USER_DIR": str(tmp_path / "user"),
           "MOTION_LORA_OUTPUT_DIR": str(tmp_path / "outputs"), "GRADIO_TEMP_DIR": str(tmp_path / "gradio"), "MOTION_LORA_BASE": "tiny_base"}
    env.pop("MOTION_LORA_HUB_REPO", None)
    log = (tmp_path / f"app-{port}.log").open("w")
    return subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(proc: subprocess.Popen, url: str, timeout: float = 120):
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "the app exited"
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the app did not start")


# concept, preset, rank, alpha, lr, iterations, eta, retain, preserve, extra, batch, seconds, rollout steps
def train_args(concept: str, iterations: int) -> list:
    return [concept, "attn", 2, 2.0, 3e-4, iterations, 1.0, "", 0.0, "", 1, 2.0, 2]


def test_sigkill_mid_training_keeps_the_library_intact(private_root, tmp_path):
    """Kill -9 the app while it retrains an existing adapter: after a restart the old adapter is listed,
    byte-identical and working, and no partial adapter is listed or left on disk."""
    from gradio_client import Client

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    user_root = tmp_path / "user" / "t2m"
    proc = start_app(private_root, tmp_path, port)
    try:
        wait_ready(proc, url)
        client = Client(url, verbose=False, download_files=False)
        assert client.predict(*train_args("kick", 4), api_name="/train")[-1]["status"] == "done"
        before = tree_digest(user_root / "tiny_base_LoRA_kick")
        job = client.submit(*train_args("kick", 900), "kick", api_name="/train")  # retrain its own adapter in place
        deadline = time.time() + 60
        while sum("loss" in str(o[0]) for o in job.outputs()) < 2 and time.time() < deadline:
            time.sleep(0.05)
        assert any(p.name.startswith(".tiny_base_LoRA_kick.partial-") for p in user_root.iterdir()), (job.outputs(), job.status(), list(user_root.iterdir()))  # killed mid-write
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    proc = start_app(private_root, tmp_path, port)
    try:
        wait_ready(proc, url)
        client = Client(url, verbose=False, download_files=False)
        listed = client.predict(api_name="/list_adapters")
        assert [(a["concept"], a["iterations"]) for a in listed] == [("kick", 4)]
        assert leftovers(user_root) == []  # stale staging of the dead process was cleaned up
        assert tree_digest(user_root / "tiny_base_LoRA_kick") == before
        out = client.predict("a person kicks", ["kick"], 1.0, 0, 2.0, 2, 2.5, 0, "", api_name="/generate")
        assert out[4]["joints_shape"] == [2, 40, 22, 3]
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_interrupted_replacement_is_rolled_back(tmp_path):
    """A kill between publish()'s two renames leaves `.NAME.old` and no NAME: the old adapter comes back."""
    from motion_lora.unlearning.train import remove_stale_staging

    root = tmp_path / "t2m"
    (root / ".base_LoRA_kick.old" / "model").mkdir(parents=True)
    (root / ".base_LoRA_kick.old" / "adapter.json").write_text("{}")
    (root / ".base_LoRA_jump.old").mkdir()
    (root / "base_LoRA_jump").mkdir()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (root / f".base_LoRA_wave.partial-{dead.pid}-1").mkdir()
    (root / f".base_LoRA_walk.partial-{os.getpid()}-1").mkdir()  # ours, still running: kept
    assert sorted(remove_stale_staging(root)) == [".base_LoRA_jump.old", ".base_LoRA_kick.old", f".base_LoRA_wave.partial-{dead.pid}-1"]
    assert sorted(p.name for p in root.iterdir()) == [f".base_LoRA_walk.partial-{os.getpid()}-1", "base_LoRA_jump", "base_LoRA_kick"]
    assert (root / "base_LoRA_kick" / "adapter.json").read_text() == "{}"


# ---------------------------------------------------------------------------------------------- load (short form)


def test_concurrent_users_while_training(private_root, tmp_path):
    """8 users generate for 15 s while a 9th trains an adapter: no errors, everyone is served, the
    training completes and its adapter is listed. (The 2-minute 8/32-user form is benchmarks/performance/load.py.)"""
    from gradio_client import Client

    with running_app(private_root, tmp_path, tmp_path / "user", MOTION_LORA_MAX_ITERATIONS="500") as (url, _lab, _demo):
        trainer = Client(url, verbose=False, download_files=False)
        assert trainer.predict(*train_args("kick", 3), api_name="/train")[-1]["status"] == "done"
        errors, latencies = [], []
        stop_at = time.time() + 15

        def user(k: int):
            client = Client(url, verbose=False, download_files=False)
            n = 0
            while time.time() < stop_at:
                started = time.perf_counter()
                try:
                    out = client.predict(f"a person kicks, take {k}.{n}", ["kick"], 1.0, k * 100 + n, 2.0, 2, 2.5, 0, "", api_name="/generate")
                    assert out[4]["joints_shape"] == [2, 40, 22, 3]
                    latencies.append(time.perf_counter() - started)
                except Exception as err:  # noqa: BLE001 - every failure is counted, not raised in a thread
                    errors.append(repr(err))
                n += 1

        users = [threading.Thread(target=user, args=(k,)) for k in range(8)]
        job = trainer.submit(*train_args("punch", 40), api_name="/train")
        for t in users:
            t.start()
        for t in users:
            t.join()
        job.result(timeout=300)
        outputs = job.outputs()
        assert errors == []
        assert len(latencies) >= 16, len(latencies)
        assert outputs[-1][-1]["status"] == "done"
        assert [a["concept"] for a in trainer.predict(api_name="/list_adapters")] == ["kick", "punch"]
        print(f"load short form: {len(latencies)} generations, p50 {np.median(latencies):.2f} s, p95 {np.percentile(latencies, 95):.2f} s")


def test_warm_up_leaves_results_unchanged(lab):
    """The app warms the model up in a thread at start; requests before and after see the same model."""
    assert lab.unlearn(fast(), threading.Event()) is not None
    before = lab.compare("a person kicks", ["kick"], frames=20, steps=2, seed=4)
    assert lab.warm_up(frames=20, steps=2) > 0
    after = lab.compare("a person kicks", ["kick"], frames=20, steps=2, seed=4)
    assert np.array_equal(before.steered_joints, after.steered_joints) and np.array_equal(before.base_joints, after.base_joints)
