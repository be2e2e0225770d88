"""Arm gestures in place: wave, clap, raise arms."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import (
    FPS,
)
from .body import _Body
from .rig import REST_ARM, SIDE_NAMES, SIGN, STAND_HEIGHT, _deg
from .timing import _cycle_frames, _frames, _keys, _speed


def _wave(rng, attrs):
    sp = _speed(rng, attrs)
    sides = (0, 1) if attrs["side"] == "both" else (SIDE_NAMES.index(attrs["side"]),)
    period, n = _cycle_frames(0.55 / sp, rng, 3, 8, attrs.get("count"))
    b = _Body.rest(period * n)
    phase = 2 * np.pi * b.t / (period / FPS)
    amp = _deg(rng.uniform(18.0, 30.0))
    raise_ = rng.uniform(95.0, 130.0)
    for i in sides:
        # Upper arm out and up, forearm up (external rotation), the forearm rocks side to side at the elbow.
        b.arm[:, i] = _deg(20.0, raise_, 85.0, 0.0)
        b.arm[:, i, 3] = _deg(150.0 - raise_ + 10.0) + amp * np.sin(phase)
        b.arm[:, i, 1] += _deg(4.0) * np.sin(phase)
        b.shrug[:, i] = _deg(8.0)
    if len(sides) == 1:
        b.spine[:, 2] = -SIGN[sides[0]] * _deg(3.0)  # lean slightly away from the waving arm
    fine = f"wave_{attrs['side']}"
    return b, fine, {"side": attrs["side"], "count": n, "speed": attrs["speed"]}, True


def _clap(rng, attrs):
    sp = _speed(rng, attrs)
    period, n = _cycle_frames(0.5 / sp, rng, 3, 10, attrs.get("count"))
    b = _Body.rest(period * n)
    P = period / FPS
    # Hands meet quickly (clap) and open more slowly: a skewed cycle.
    s = (b.t / P) % 1.0
    apart = np.sin(np.pi * s ** 0.8)
    height = STAND_HEIGHT + rng.uniform(0.25, 0.4)
    dist = rng.uniform(0.28, 0.38)
    for k in range(2):
        b.hand[:, k, 0] = SIGN[k] * (0.035 + rng.uniform(0.14, 0.2) * apart)
        b.hand[:, k, 1] = height
        b.hand[:, k, 2] = dist
        b.elbow_pole[:, k] = [SIGN[k] * 1.0, -0.8, -0.3]
    return b, "clap", {"count": n, "speed": attrs["speed"]}, True


def _raise_arms(rng, attrs):
    sp = _speed(rng, attrs)
    style = attrs["style"]
    sides = (0, 1) if attrs["side"] == "both" else (SIDE_NAMES.index(attrs["side"]),)
    target = {"up": _deg(170.0, 12.0, 0.0, 6.0), "front": _deg(90.0, 0.0, 0.0, 5.0),
              "side": _deg(0.0, 88.0, 0.0, 5.0)}[style] + _deg(rng.uniform(-6, 4), 0, 0, 0)
    t0 = rng.uniform(0.2, 0.5)
    up = rng.uniform(0.6, 1.0) / sp
    hold = rng.uniform(0.4, 1.2)
    down = rng.uniform(0.6, 1.0) / sp
    b = _Body.rest(_frames(t0 + up + hold + down + rng.uniform(0.2, 0.5)))
    w = _keys(b.t, [(t0, 0.0), (t0 + up, 1.0), (t0 + up + hold, 1.0), (t0 + up + hold + down, 0.0)])
    for i in sides:
        b.arm[:, i] = REST_ARM + (target - REST_ARM) * w[:, None]
        if style != "front":
            b.shrug[:, i] = _deg(12.0) * w
    if style == "up":
        b.spine[:, 1] += -_deg(4.0) * w  # chest opens up
    fine = f"raise_arms_{style}_{attrs['side']}"
    return b, fine, {"style": style, "side": attrs["side"], "speed": attrs["speed"]}, False
