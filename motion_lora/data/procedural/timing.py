"""Timing helpers: smooth keyframe curves, clip and cycle lengths in frames, the speed factor."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import (
    FPS,
)
from .rig import SPEED_FACTOR


def _smoothstep(s):
    s = np.clip(s, 0.0, 1.0)
    return s * s * (3.0 - 2.0 * s)


def _keys(t: np.ndarray, keys) -> np.ndarray:
    """Cubic Hermite curve through keys [(time, value) or (time, value, velocity)], held flat outside.

    Velocity defaults to 0, so plain keys ease in and out. Values may be scalars or arrays.
    t (T,) -> (T, *value_shape).
    """
    times = np.array([k[0] for k in keys], dtype=np.float64)
    vals = np.array([np.asarray(k[1], dtype=np.float64) for k in keys])
    vels = np.array([np.asarray(k[2] if len(k) > 2 else np.zeros_like(vals[0]), dtype=np.float64) for k in keys])
    if len(keys) == 1:
        return np.broadcast_to(vals[0], t.shape + vals.shape[1:]).copy()
    idx = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(keys) - 2)
    h = times[idx + 1] - times[idx]
    s = np.clip((t - times[idx]) / h, 0.0, 1.0)
    extra = (None,) * (vals.ndim - 1)
    s, hh = s[(...,) + extra], h[(...,) + extra]
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * vals[idx] + h10 * hh * vels[idx] + h01 * vals[idx + 1] + h11 * hh * vels[idx + 1]


def _frames(seconds: float, minimum: int = 20, maximum: int = 190) -> int:
    return int(np.clip(round(seconds * FPS), minimum, maximum))


def _cycle_frames(period_s: float, rng: np.random.Generator, lo: int, hi: int, count=None):
    """Pick an integer period (frames) and a cycle count whose product lies within [20, 190] frames."""
    period = max(4, int(round(period_s * FPS)))
    lo_n = max(1, -(-20 // period))
    hi_n = max(lo_n, 190 // period)
    n = int(count) if count is not None else int(rng.integers(max(lo, lo_n), max(min(hi, hi_n), max(lo, lo_n)) + 1))
    n = int(np.clip(n, lo_n, hi_n))
    return period, n


def _speed(rng, attrs) -> float:
    return SPEED_FACTOR[attrs["speed"]] * rng.uniform(0.93, 1.07)


def _dedupe(keys):
    """Drop keys whose time does not increase (back-to-back phases can share a time)."""
    out = [keys[0]]
    for k in keys[1:]:
        if k[0] > out[-1][0] + 1e-6:
            out.append(k)
    return out
