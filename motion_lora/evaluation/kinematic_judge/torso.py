"""The rules read from the torso and facing: bow and turn_around."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import FPS, HIPS
from .body import Body
from .signals import runs_of, smooth
from .thresholds import (
    BOW_MIN_HOLD_S,
    BOW_MIN_PELVIS,
    BOW_MIN_PITCH,
    NECK,
    PELVIS,
    TURN_END_S,
    TURN_MIN_DEGREES,
    TURN_SMOOTH_S,
    UP,
    UPRIGHT_COS,
)


def measure_bow(b: Body) -> dict:
    j = b.joints
    # Hip-only facing: in a bow the shoulders move forward but the hips still show where the person faces.
    across = j[:, HIPS[1]] - j[:, HIPS[0]]
    across[:, 1] = 0.0
    fwd = np.cross(UP, across)
    fwd /= np.maximum(np.linalg.norm(fwd, axis=-1, keepdims=True), 1e-9)
    torso = j[:, NECK] - j[:, PELVIS]
    pitch = np.degrees(np.arctan2((torso * fwd).sum(-1), torso[:, 1]))  # forward lean of the torso
    pelvis = b.height[:, PELVIS] / b.leg
    ok = b.planted.all(axis=1) & (pelvis >= BOW_MIN_PELVIS)
    bowing = ok & (pitch >= BOW_MIN_PITCH)
    hold = max((e - s for s, e in runs_of(bowing)), default=0) / FPS
    return {
        "torso_pitch": float(pitch[ok].max()) if ok.any() else 0.0,
        "held_s": hold,
        "pelvis_height": float(pelvis[ok].min()) if ok.any() else 0.0,
    }


def decide_bow(q: dict) -> bool:
    return q["torso_pitch"] >= BOW_MIN_PITCH and q["held_s"] >= BOW_MIN_HOLD_S


def measure_turn_around(b: Body) -> dict:
    upright = b.torso_up >= UPRIGHT_COS  # a lying or inverted body has no meaningful facing
    if upright.sum() < 2:
        return {"net_turn": 0.0, "yaw_range": 0.0}
    yaw = np.degrees(smooth(np.unwrap(np.arctan2(b.forward[upright, 0], b.forward[upright, 2])), TURN_SMOOTH_S))
    n = max(1, int(round(TURN_END_S * FPS)))
    # Net change from the first to the last moments: turned round and stayed turned (a kick's hip swing
    # that comes back does not count, a spin of one or more full turns does).
    return {"net_turn": float(abs(yaw[-n:].mean() - yaw[:n].mean())), "yaw_range": float(yaw.max() - yaw.min())}


def decide_turn_around(q: dict) -> bool:
    return q["net_turn"] >= TURN_MIN_DEGREES
