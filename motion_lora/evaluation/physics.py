"""Physical sanity of motion, from joints alone: foot skating, floor penetration, jitter.

All functions take joints (T, 22, 3) in metres at 20 fps, y up, and return plain floats so generated and
real clips can be compared side by side.
"""

from __future__ import annotations

import numpy as np

from ..motion.skeleton import FOOT_JOINTS, FPS

CONTACT_HEIGHT = 0.05  # a foot joint within 5 cm of the floor counts as touching it
SKATE_SPEED = 0.025  # ... and sliding more than 2.5 cm in a frame while touching is skating (0.5 m/s)


def foot_skating_ratio(joints: np.ndarray) -> float:
    """Fraction of foot-contact frames in which the touching foot joint slides horizontally."""
    feet = joints[:, list(FOOT_JOINTS)]  # (T, 4, 3)
    touching = feet[:-1, :, 1] < CONTACT_HEIGHT
    slide = np.linalg.norm(feet[1:, :, [0, 2]] - feet[:-1, :, [0, 2]], axis=-1)
    return float((touching & (slide > SKATE_SPEED)).sum() / max(touching.sum(), 1))


def floor_penetration(joints: np.ndarray) -> float:
    """Mean depth (m) of the lowest joint below the floor, over all frames (0 when never below)."""
    lowest = joints[:, :, 1].min(axis=1)
    return float(np.clip(-lowest, 0, None).mean())


def jitter(joints: np.ndarray) -> float:
    """Mean joint acceleration magnitude (m/s^2): high values are frame-to-frame shaking."""
    if len(joints) < 3:
        return 0.0
    acc = (joints[2:] - 2 * joints[1:-1] + joints[:-2]) * FPS**2
    return float(np.linalg.norm(acc, axis=-1).mean())


def sanity(clips: list[np.ndarray]) -> dict[str, float]:
    """Averages over clips: skating ratio, penetration (cm), jitter (m/s^2)."""
    return {
        "foot_skating_ratio": float(np.mean([foot_skating_ratio(c) for c in clips])),
        "floor_penetration_cm": float(np.mean([floor_penetration(c) for c in clips]) * 100),
        "jitter_m_s2": float(np.mean([jitter(c) for c in clips])),
    }
