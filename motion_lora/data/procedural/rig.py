"""The procedural rig: per-side bone lengths, rest angles, standing height, speeds, and rotation helpers.

Side index 0 is left (+X, sign +1), 1 is right (-X, sign -1); angles are radians, written in degrees at
call sites via `_deg`.
"""

from __future__ import annotations

import numpy as np

from ...motion.quaternion import qfrom_axis_angle, qmul
from ...motion.skeleton import (
    ANKLES,
    BONE_LENGTHS,
    ELBOWS,
    FEET,
    HIPS,
    JOINT,
    KNEES,
    REFERENCE_OFFSETS,
    WRISTS,
)

SIGN = np.array([1.0, -1.0])  # +X is the person's left
SIDE_NAMES = ("left", "right")
SPINE = (JOINT["spine1"], JOINT["spine2"], JOINT["spine3"])
SPINE_SHARE = (0.3, 0.3, 0.4)  # how a torso bend is spread over the three spine joints

THIGH = BONE_LENGTHS[list(KNEES)]  # (2,)
SHIN = BONE_LENGTHS[list(ANKLES)]
FOOT_LEN = BONE_LENGTHS[list(FEET)]
UPPER_ARM = BONE_LENGTHS[list(ELBOWS)]
FOREARM = BONE_LENGTHS[list(WRISTS)]
# The hip joints sit below the pelvis joint in real capture (Bandai Namco, retargeted to the reference skeleton:
# 3.4 cm below, median over walks and bows), not level with it as the rest directions say. Same bone lengths,
# the hip offset tilted down, so a standing pelvis is as high as a real one (0.93 m rather than 0.89 m).
HIP_DROP_M = 0.034
PROC_OFFSETS = REFERENCE_OFFSETS.copy()  # (22, 3) our FK offsets: the reference ones with the hips tilted down
for _j in HIPS:
    _length = np.linalg.norm(REFERENCE_OFFSETS[_j])
    _drop = min(HIP_DROP_M, 0.9 * _length)
    PROC_OFFSETS[_j] = [np.sign(REFERENCE_OFFSETS[_j, 0]) * np.sqrt(_length**2 - _drop**2), -_drop, 0.0]
HIP_X = np.abs(PROC_OFFSETS[list(HIPS), 0])  # (2,) lateral hip offsets from the pelvis

ANKLE_HEIGHT = 0.08  # ankle above the floor when the foot is flat
FOOT_PITCH = np.arcsin(ANKLE_HEIGHT / FOOT_LEN)  # (2,) tilt of ankle->foot so the foot joint sits on the floor
FOOT_X = HIP_X + 0.02  # feet a little wider than the hips
TOE_OUT = np.deg2rad(6.0)
REACH = 0.995  # standing legs stop just short of straight, so knees stay soft
# Standing pelvis height: the highest root for which both rest ankles are reachable.
STAND_HEIGHT = float(np.min(ANKLE_HEIGHT + HIP_DROP_M + np.sqrt((REACH * (THIGH + SHIN)) ** 2 - (FOOT_X - HIP_X) ** 2)))

# In the rest pose the collar->shoulder bone hangs down; swing it out and slightly up (rotation about z),
# and tilt the neck->head bone (which points forward at rest) up so the head sits above the neck.
COLLAR_ANGLE = np.deg2rad(102.0)
HEAD_TILT = np.deg2rad(72.0)
# Relaxed arm: [flex (forward), abduction (sideways), external rotation, elbow flexion].
REST_ARM = np.deg2rad([6.0, 9.0, 0.0, 14.0])

ROLL_PHASE = 0.2  # share of a gait cycle over which the heel lifts before toe-off

SPEED_FACTOR = {"slow": 0.72, "normal": 1.0, "fast": 1.35}
SPEEDS = tuple(SPEED_FACTOR)
AIRBORNE_CONCEPTS = ("run", "jump", "jumping_jacks")  # both feet leave the floor at times

X_AXIS = np.array([1.0, 0.0, 0.0])
Y_AXIS = np.array([0.0, 1.0, 0.0])
Z_AXIS = np.array([0.0, 0.0, 1.0])


def _deg(*values):
    return np.deg2rad(np.array(values, dtype=np.float64)) if len(values) > 1 else float(np.deg2rad(values[0]))


def _qx(a):
    return qfrom_axis_angle(X_AXIS, a)


def _qy(a):
    return qfrom_axis_angle(Y_AXIS, a)


def _qz(a):
    return qfrom_axis_angle(Z_AXIS, a)


def _euler(angles: np.ndarray) -> np.ndarray:
    """(..., 3) [yaw, pitch, roll] -> (..., 4) = Ry(yaw) Rx(pitch) Rz(roll).

    Positive yaw turns left, positive pitch leans forward, positive roll leans toward the right (-X).
    """
    return qmul(qmul(_qy(angles[..., 0]), _qx(angles[..., 1])), _qz(angles[..., 2]))


def _yaw_rotate(xz: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """Rotate (..., 2) horizontal (x, z) vectors by yaw about +y, as Ry does."""
    c, s = np.cos(yaw), np.sin(yaw)
    return np.stack([c * xz[..., 0] + s * xz[..., 1], -s * xz[..., 0] + c * xz[..., 1]], axis=-1)
