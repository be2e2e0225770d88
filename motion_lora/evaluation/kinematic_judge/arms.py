"""The rules read from the arms: punch, wave and raise_arms (lengths in the clip's own arm lengths)."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import FPS, SHOULDERS, WRISTS
from .body import Body
from .signals import reversals, runs_of, smooth, speed_of
from .thresholds import (
    HEAD,
    PUNCH_MAX_CHAMBER,
    PUNCH_MAX_HEIGHT,
    PUNCH_MIN_FRONT,
    PUNCH_MIN_REACH,
    PUNCH_MIN_SPEED,
    PUNCH_WINDOW_S,
    RAISE_MAX_SPEED,
    RAISE_MIN_ABOVE_HEAD,
    RAISE_MIN_HOLD_S,
    UPRIGHT_COS,
    WAVE_MIN_ABOVE,
    WAVE_MIN_LATERAL_SHARE,
    WAVE_MIN_RAISED_S,
    WAVE_MIN_REVERSALS,
    WAVE_MIN_SWING,
)


def measure_punch(b: Body) -> dict:
    j = b.joints
    window = max(1, int(round(PUNCH_WINDOW_S * FPS)))
    best = {"reach": 0.0, "chamber": 1.0, "front": 0.0, "height": 0.0, "wrist_speed": 0.0, "side": -1}
    for k in (0, 1):
        rel = j[:, WRISTS[k]] - j[:, SHOULDERS[k]]
        reach = np.linalg.norm(rel, axis=-1) / b.arm[k]
        loc = b.local(rel) / b.arm[k]
        # "In front" in the facing of the wind-up too: a real punch often turns the trunk side-on as it lands.
        before = np.maximum(np.arange(b.T) - window, 0)
        front = np.maximum(loc[:, 2], (rel * b.forward[before]).sum(-1) / b.arm[k])
        speed = speed_of(rel) / b.arm[k]
        hits = np.flatnonzero(
            (reach >= PUNCH_MIN_REACH) & (front >= PUNCH_MIN_FRONT) & (np.abs(loc[:, 1]) <= PUNCH_MAX_HEIGHT)
        )
        if len(hits) == 0:
            hits = np.array([int(np.argmax(reach * (front > 0)))])
        for t in hits:
            lo = max(0, t - window)
            q = {
                "reach": float(reach[t]),
                "chamber": float(reach[lo : t + 1].min()),
                "front": float(front[t]),
                "height": float(abs(loc[t, 1])),
                "wrist_speed": float(speed[lo : t + 1].max()),
                "side": k,
            }
            if _punch_rank(q) > _punch_rank(best):
                best = q
    return best


def _punch_rank(q: dict) -> tuple:
    return (decide_punch(q), q["wrist_speed"] * (q["reach"] - q["chamber"]))


def decide_punch(q: dict) -> bool:
    return (
        q["reach"] >= PUNCH_MIN_REACH
        and q["chamber"] <= PUNCH_MAX_CHAMBER
        and q["front"] >= PUNCH_MIN_FRONT
        and q["height"] <= PUNCH_MAX_HEIGHT
        and q["wrist_speed"] >= PUNCH_MIN_SPEED
    )


def measure_wave(b: Body) -> dict:
    j = b.joints
    best = {"raised_s": 0.0, "reversals": 0, "lateral_share": 0.0, "side": -1}
    for k in (0, 1):
        rel = b.local(j[:, WRISTS[k]] - j[:, SHOULDERS[k]]) / b.arm[k]
        raised = rel[:, 1] > WAVE_MIN_ABOVE
        for s, e in runs_of(raised):
            step = np.abs(np.diff(rel[s:e], axis=0))
            share = float(step[:, 0].sum() / max(step[:, [0, 2]].sum(), 1e-9))
            q = {
                "raised_s": (e - s) / FPS,
                "reversals": reversals(rel[s:e, 0], WAVE_MIN_SWING),
                "lateral_share": share,
                "side": k,
            }
            if (decide_wave(q), q["reversals"], q["raised_s"]) > (
                decide_wave(best),
                best["reversals"],
                best["raised_s"],
            ):
                best = q
    return best


def decide_wave(q: dict) -> bool:
    return (
        q["raised_s"] >= WAVE_MIN_RAISED_S
        and q["reversals"] >= WAVE_MIN_REVERSALS
        and q["lateral_share"] >= WAVE_MIN_LATERAL_SHARE
    )


def measure_raise_arms(b: Body) -> dict:
    j = b.joints
    above = (b.height[:, list(WRISTS)] - b.height[:, [HEAD]]) / b.leg  # (T, 2)
    best = {"wrist_above_head": float(above.max()), "held_s": 0.0}
    for k in (0, 1):
        # Held: above the head and still relative to the shoulder (a waving hand above the head keeps moving).
        speed = smooth(speed_of(j[:, WRISTS[k]] - j[:, SHOULDERS[k]]), 0.25) / b.arm[k]
        for s, e in runs_of(
            (above[:, k] > RAISE_MIN_ABOVE_HEAD) & (speed < RAISE_MAX_SPEED) & (b.torso_up >= UPRIGHT_COS)
        ):
            q = {"wrist_above_head": float(above[s:e, k].max()), "held_s": (e - s) / FPS}
            if (decide_raise_arms(q), q["held_s"]) > (decide_raise_arms(best), best["held_s"]):
                best = q
    return best


def decide_raise_arms(q: dict) -> bool:
    return q["wrist_above_head"] > RAISE_MIN_ABOVE_HEAD and q["held_s"] >= RAISE_MIN_HOLD_S
