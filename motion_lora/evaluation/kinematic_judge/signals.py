"""Small signal helpers on joint tracks sampled at 20 fps: smoothing, speeds, True stretches, angles, swings."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import FPS


def smooth(x: np.ndarray, seconds: float) -> np.ndarray:
    """Centred moving average along time (axis 0), shrinking at the ends so the length is kept."""
    n = max(1, int(round(seconds * FPS)))
    if n <= 1 or len(x) < 2:
        return x.astype(np.float64)
    kernel = np.ones(n)
    flat = x.reshape(len(x), -1)
    # "full" then a centred crop keeps the length even when the clip is shorter than the window
    # (np.convolve's "same" returns the longer of the two lengths)
    keep = slice((n - 1) // 2, (n - 1) // 2 + len(x))
    num = np.stack([np.convolve(flat[:, k], kernel, mode="full")[keep] for k in range(flat.shape[1])], axis=1)
    den = np.convolve(np.ones(len(x)), kernel, mode="full")[keep][:, None]
    return (num / den).reshape(x.shape)


def speed_of(x: np.ndarray) -> np.ndarray:
    """(T, ..., 3) positions -> (T, ...) speed in m/s (central differences)."""
    return np.linalg.norm(np.gradient(x, axis=0), axis=-1) * FPS if len(x) > 1 else np.zeros(x.shape[:-1])


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) stretches where a (T,) bool mask is True."""
    padded = np.concatenate([[False], mask.astype(bool), [False]])
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between (..., 3) vectors."""
    cos = (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-9)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def turning_points(x: np.ndarray, min_swing: float) -> list[int]:
    """Frames where a 1-D signal turns back, counting only swings of at least `min_swing` between turns."""
    if len(x) == 0:
        return []
    turns: list[int] = []
    direction, lo, hi, lo_at, hi_at = 0, x[0], x[0], 0, 0
    for t, v in enumerate(x[1:], start=1):
        if v > hi:
            hi, hi_at = v, t
        if v < lo:
            lo, lo_at = v, t
        if direction >= 0 and hi - v >= min_swing and (direction > 0 or hi - lo >= min_swing):
            if direction > 0:
                turns.append(hi_at)
            direction, lo, lo_at = -1, v, t
        elif direction <= 0 and v - lo >= min_swing:
            if direction < 0:
                turns.append(lo_at)
            direction, hi, hi_at = 1, v, t
    return turns


def reversals(x: np.ndarray, min_swing: float) -> int:
    return len(turning_points(x, min_swing))
