"""A file's units, up axis and handedness, told from the body itself: leg length, head above ankles, toes and knees."""

from __future__ import annotations

import math

import numpy as np

from ...motion.skeleton import JOINT, forward_direction
from .errors import file_error

# A standing adult's thigh + shin is ~0.82 m (the reference skeleton's); units are picked to come closest.
REFERENCE_LEG_M = float(0.3902 + 0.4256)
UNIT_SCALES = {"m": 1.0, "cm": 0.01, "mm": 0.001}
PLAUSIBLE_LEG_M = (0.4, 1.6)  # thigh + shin of anyone from a small child to a tall adult

# Proper rotations (3x3, applied as new = R @ old) that take a detected up axis to +y without mirroring.
UP_ROTATIONS = {
    "+y": np.eye(3),
    "-y": np.diag([-1.0, -1.0, 1.0]),
    "+z": np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]),
    "-z": np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]),
    "+x": np.array([[0, -1.0, 0], [1, 0, 0], [0, 0, 1]]),
    "-x": np.array([[0, 1.0, 0], [-1, 0, 0], [0, 0, 1]]),
}


def leg_length(joints: np.ndarray) -> float:
    """Median over frames of the mean (thigh + shin) of both legs, in the joints' units."""
    legs = []
    for hip, knee, ankle in (("left_hip", "left_knee", "left_ankle"), ("right_hip", "right_knee", "right_ankle")):
        h, k, a = joints[:, JOINT[hip]], joints[:, JOINT[knee]], joints[:, JOINT[ankle]]
        legs.append(np.linalg.norm(h - k, axis=-1) + np.linalg.norm(k - a, axis=-1))
    return float(np.median(np.mean(legs, axis=0)))


def detect_scale(joints: np.ndarray, path="<bvh>") -> float:
    """File units -> metres: m, cm or mm, whichever makes the leg closest to an adult's; raise if none is plausible."""
    leg = leg_length(joints)
    if not leg > 0:
        raise file_error(path, "the legs have zero length: cannot tell the units")
    unit = min(UNIT_SCALES, key=lambda u: abs(math.log(leg * UNIT_SCALES[u] / REFERENCE_LEG_M)))
    metres = leg * UNIT_SCALES[unit]
    if not PLAUSIBLE_LEG_M[0] <= metres <= PLAUSIBLE_LEG_M[1]:
        raise file_error(path, f"cannot tell the units: the leg is {leg:.3g} file units long; pass scale "
                         "(file units -> metres, e.g. 0.0254 for inches)")
    return UNIT_SCALES[unit]


def detect_up(joints: np.ndarray) -> str:
    """The signed axis along which the head sits above the ankles in most frames ("+y" for most BVH files)."""
    up = joints[:, JOINT["head"]] - joints[:, [JOINT["left_ankle"], JOINT["right_ankle"]]].mean(1)  # (T, 3)
    axis = int(np.argmax(np.abs(np.median(up, axis=0))))
    sign = "+" if np.median(up[:, axis]) > 0 else "-"
    return sign + "xyz"[axis]


def front_score(joints: np.ndarray) -> float:
    """y-up joints (T, 22, 3) -> how far (m, mean over frames) the toes and bent knees point along the forward
    direction that the hips' and shoulders' left-right axis gives. Positive for a body whose names match its sides.

    Toes alone are not enough: a sprinter's feet point down, even slightly back; knees bend forward then.
    """
    across = joints[:, JOINT["right_hip"]] - joints[:, JOINT["left_hip"]]
    across = across + joints[:, JOINT["right_shoulder"]] - joints[:, JOINT["left_shoulder"]]
    forward = forward_direction(across)  # up x across
    cue = np.zeros_like(forward)
    for side in ("left", "right"):
        h, k, a, f = (joints[:, JOINT[f"{side}_{part}"]] for part in ("hip", "knee", "ankle", "foot"))
        cue += (f - a) + (k - (h + a) / 2)
    cue[:, 1] = 0.0
    return float((forward * cue).sum(-1).mean())


def check_handedness(joints: np.ndarray, path="<bvh>") -> None:
    """Raise when the body's left joints are on its right (`front_score` < 0).

    A left-handed file, or one with left/right names swapped, gives such a body: its forward from the across
    vector points backwards, against its toes and knees. We do not guess which of the two happened (one fix
    mirrors the motion, the other does not), so it is an error.
    """
    if front_score(joints) < 0:
        raise file_error(path, "left and right are mirrored: the toes and knees point backwards relative to the "
                         "left-right axis of the hips and shoulders (a left-handed file, or left/right joint names "
                         "swapped)")
