"""Memory that stays flat under load: the bounds MotionLab keeps and the memory it hands back.

benchmarks/performance/soak.py measures the whole app for 20 minutes; these check each mechanism in seconds, on the tiny
checkpoints of conftest.py (`private_root`: a copy without other tests' adapters).
"""

from __future__ import annotations

import threading

import psutil
import pytest

from motion_lora.serving import memory
from motion_lora.serving.memory import Releaser
from motion_lora.unlearning.adapters import LoraSpec
from motion_lora.unlearning.unlearn import UnlearnConfig

FAST = UnlearnConfig(concept="kick", iterations=2, batch_size=1, frames=40, rollout_steps=2, paraphrases=2, adversarial_tokens=0, lora=LoraSpec(rank=2, alpha=2.0))


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def counting_releaser(interval: float = 30.0) -> tuple[Releaser, Clock, list[float]]:
    clock, trims = Clock(), []
    return Releaser(interval, clock=clock, trim=lambda: trims.append(clock.now) or True), clock, trims


# ---------------------------------------------------------------------------------------------- memory.py


def test_releaser_releases_at_most_once_per_interval():
    r, clock, trims = counting_releaser(30.0)
    assert not r.tick()  # just started
    clock.now = 29.9
    assert not r.tick()
    clock.now = 30.0
    assert r.tick() and trims == [30.0]
    clock.now = 45.0
    assert not r.tick()
    assert r.tick(force=True) and trims == [30.0, 45.0]  # after a training: at once
    clock.now = 60.0
    assert not r.tick()  # a forced release restarts the interval
    assert r.count == 2


def test_releaser_zero_is_off_and_bad_intervals_are_refused():
    r, _, trims = counting_releaser(0)
    assert not r.tick(force=True) and trims == []
    for bad in (-1, float("nan"), True, "30"):
        with pytest.raises(ValueError, match="release interval"):
            Releaser(bad)


def test_an_operators_arena_setting_wins(monkeypatch):
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert memory.limit_arenas(2) is False


@pytest.mark.skipif(memory.libc() is None, reason="malloc_trim and mallopt are glibc's")
def test_release_returns_freed_memory_to_the_system(monkeypatch):
    """64 MB freed below a live allocation stays resident (malloc keeps it for reuse) until release()."""
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert memory.limit_arenas(8) is True  # at most glibc's own default (8 per core): harmless to the test process
    proc = psutil.Process()
    # 64 KB blocks (below the mmap threshold: from the heap, every page touched), each followed by a small one that
    # stays, so the freed blocks cannot merge into the heap's top, which free() alone would give back
    pairs = [(bytes(64 * 1024), bytes(1024)) for _ in range(1024)]
    kept = [small for _, small in pairs]
    del pairs
    before = proc.memory_info().rss
    assert memory.release() is True
    assert before - proc.memory_info().rss > 32 * 2**20
    assert len(kept) == 1024


# ---------------------------------------------------------------------------------------------- MotionLab


@pytest.fixture
def lab(private_root, tmp_path):
    from motion_lora.serving.service import MotionLab

    return MotionLab(base="tiny_base", user_dir=tmp_path / "user", evaluator=None, max_user_adapters=1)


def test_lab_releases_after_batches_and_after_every_training(lab):
    from motion_lora.serving.service import iterate_training

    lab.sampler.releaser, clock, trims = counting_releaser(30.0)
    lab.compare("a person kicks", [], frames=20, steps=2)
    assert trims == []  # within the interval
    clock.now = 31.0
    lab.compare("a person waves", [], frames=20, steps=2)
    assert trims == [31.0]  # after the batch
    clock.now = 32.0
    assert list(iterate_training(lab, FAST, threading.Event()))[-1] is not None
    assert trims == [31.0, 32.0]  # forced at the end of the training, whatever the interval


def test_text_cache_is_capped_by_bytes(private_root, tmp_path):
    """Every visitor's prompt is new: the encoder's cache holds what fits the lab's byte cap, not 4096 prompts."""
    from motion_lora.serving.service import DEFAULT_TEXT_CACHE_MB, MotionLab

    lab = MotionLab(base="tiny_base", user_dir=tmp_path / "user", evaluator=None, text_cache_mb=0.05)
    encoder = lab.generator.text_encoder
    for k in range(12):
        lab.compare(f"a person jumps {k} times to the left", [], frames=20, steps=1)
    assert 0 < encoder.cache_bytes <= 0.05 * 2**20
    assert len(encoder._cache) < 12
    assert MotionLab(base="tiny_base", user_dir=tmp_path / "user", evaluator=None).generator.text_encoder.cache_limit == DEFAULT_TEXT_CACHE_MB * 2**20


def test_evicted_adapters_leave_the_peft_model(lab):
    """Every in-app training adds an adapter to the served PEFT model; the ones the cap evicts must leave it, or each
    training would keep a copy of LoRA weights (and its modules) for as long as the server runs."""
    from peft.tuners.lora import LoraLayer

    peft_adapters = lambda: (set(lab.adapters.peft.peft_config), sum(len(m.lora_A) for m in lab.adapters.peft.modules() if isinstance(m, LoraLayer)))
    sizes = []
    for k in range(3):
        info = lab.unlearn(FAST, threading.Event())
        names, lora_modules = peft_adapters()
        assert names == set(lab.adapters.specs) == {info.name}, (k, names, info.evicted)
        sizes.append(lora_modules)
    assert sizes[0] == sizes[1] == sizes[2]


# ---------------------------------------------------------------------------------------------- the app


def test_the_app_keeps_at_most_max_sessions(tiny_root, tmp_path):
    """Gradio keeps each session's last inputs and outputs (a player page, a gr.State) until newer sessions push it
    out; the app caps how many (Gradio's own default, 10,000, would hold gigabytes)."""
    from conftest import running_app
    from gradio_client import Client

    with running_app(tiny_root, tmp_path, tmp_path / "user", MOTION_LORA_MAX_SESSIONS="3") as (url, _, demo):
        for _ in range(6):  # six visitors, one after the other
            Client(url, verbose=False, download_files=False).predict(api_name="/list_adapters")
        assert len(demo.state_holder.session_data) == 3
