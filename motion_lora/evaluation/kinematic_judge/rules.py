"""Every concept's rule in one table, and the verdicts on a clip: `scores`, `judge`, `judge_many`."""

from __future__ import annotations

import numpy as np

from .arms import decide_punch, decide_raise_arms, decide_wave, measure_punch, measure_raise_arms, measure_wave
from .body import Body
from .legs import (
    decide_jump,
    decide_kick,
    decide_run,
    decide_squat,
    decide_walk,
    measure_jump,
    measure_kick,
    measure_run,
    measure_squat,
    measure_walk,
)
from .thresholds import JUDGED_CONCEPTS
from .torso import decide_bow, decide_turn_around, measure_bow, measure_turn_around

RULES = {
    "walk": (measure_walk, decide_walk),
    "run": (measure_run, decide_run),
    "jump": (measure_jump, decide_jump),
    "kick": (measure_kick, decide_kick),
    "punch": (measure_punch, decide_punch),
    "wave": (measure_wave, decide_wave),
    "raise_arms": (measure_raise_arms, decide_raise_arms),
    "squat": (measure_squat, decide_squat),
    "bow": (measure_bow, decide_bow),
    "turn_around": (measure_turn_around, decide_turn_around),
}
assert tuple(RULES) == JUDGED_CONCEPTS


def scores(joints: np.ndarray) -> dict[str, dict]:
    """joints (T, 22, 3), 20 fps, metres, y up -> {concept: {measured quantity: value, ..., "present": bool}}.

    Lengths are in leg lengths of the clip, speeds in leg lengths (or arm lengths for the arm rules) per
    second, angles in degrees, durations in seconds; `side` is 0 for left, 1 for right, -1 for none.
    """
    body = Body(joints)
    out = {}
    for concept, (measure, decide) in RULES.items():
        q = measure(body)
        out[concept] = {**q, "present": bool(decide(q))}
    return out


def judge(joints: np.ndarray) -> dict[str, bool]:
    """joints (T, 22, 3), 20 fps, metres, y up -> {concept: present} for every concept in JUDGED_CONCEPTS."""
    return {c: s["present"] for c, s in scores(joints).items()}


def judge_many(clips: list[np.ndarray]) -> np.ndarray:
    """A list of (T_i, 22, 3) clips -> (N, len(JUDGED_CONCEPTS)) bool."""
    return np.array([[v for v in judge(c).values()] for c in clips], dtype=bool).reshape(
        len(clips), len(JUDGED_CONCEPTS)
    )
