"""bf16 only where it pays: the probe is bounded, and asking for bf16 on a CPU that emulates it trains in fp32
with one clear line."""

from __future__ import annotations

import time

import pytest

from motion_lora.model import precision


def test_probe_is_bounded_and_positive():
    started = time.perf_counter()
    speedup = precision.bf16_speedup()
    assert speedup > 0
    assert time.perf_counter() - started < 2.0  # ~50 ms of timing plus allocation; never minutes


@pytest.mark.parametrize("speedup, expected", [(0.04, False), (1.0, False), (3.0, True)])
def test_bf16_follows_the_measured_speedup(monkeypatch, speedup, expected):
    monkeypatch.setattr(precision, "bf16_speedup", lambda device="cpu": speedup)
    lines = []
    assert precision.use_bf16(True, "cpu", log=lines.append) is expected
    assert len(lines) == (0 if expected else 1)
    if not expected:
        assert "fp32" in lines[0] and f"{speedup:.2f}x" in lines[0]


def test_not_requested_never_probes(monkeypatch):
    def boom(device="cpu"):
        raise AssertionError("probed without being asked")

    monkeypatch.setattr(precision, "bf16_speedup", boom)
    assert precision.use_bf16(False) is False
