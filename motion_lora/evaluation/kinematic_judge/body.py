"""`Body`: the per-frame quantities every rule shares (floor, contacts, facing, root speed), computed once per clip."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import ANKLES, ELBOWS, FEET, FPS, HIPS, KNEES, SHOULDERS, WRISTS, check_joints
from .signals import smooth, speed_of
from .thresholds import (
    AIR_HEIGHT,
    CONTACT_HEIGHT,
    FLOOR_PERCENTILE,
    MIN_FRAMES,
    NECK,
    PELVIS,
    PLANT_SPEED,
    SMOOTH_S,
    UP,
)


class Body:
    """Per-frame quantities every rule shares, computed once per clip.

    joints (T, 22, 3). `leg` is the clip's leg length (m), the unit of every length threshold; `forward`
    (T, 3) / `left` (T, 3) are the person's horizontal facing frame (from the hips and shoulders, as in
    HumanML3D); heights are above the clip's own floor.
    """

    def __init__(self, joints: np.ndarray):
        j = check_joints(joints, min_frames=MIN_FRAMES)
        self.joints = j
        self.T = len(j)
        thigh = np.linalg.norm(j[:, list(KNEES)] - j[:, list(HIPS)], axis=-1)
        shin = np.linalg.norm(j[:, list(ANKLES)] - j[:, list(KNEES)], axis=-1)
        self.leg = float(np.median(thigh + shin))
        if not self.leg > 1e-3:
            raise ValueError(f"degenerate skeleton: leg length {self.leg:.4f} m")
        self.arm = np.median(
            np.linalg.norm(j[:, list(ELBOWS)] - j[:, list(SHOULDERS)], axis=-1)
            + np.linalg.norm(j[:, list(WRISTS)] - j[:, list(ELBOWS)], axis=-1),
            axis=0,
        )  # (2,) per side
        feet = j[:, list(ANKLES + FEET), 1]  # (T, 4): L ankle, R ankle, L toe, R toe
        self.floor = float(np.percentile(feet.min(axis=1), FLOOR_PERCENTILE))
        self.height = j[..., 1] - self.floor  # (T, 22) above the floor
        # Per side (T, 2): the lowest foot joint's height and the slowest foot joint's speed.
        self.foot_height = np.minimum(self.height[:, list(ANKLES)], self.height[:, list(FEET)])
        self.foot_speed = np.minimum(speed_of(j[:, list(ANKLES)]), speed_of(j[:, list(FEET)]))
        self.planted = (self.foot_height < CONTACT_HEIGHT * self.leg) & (self.foot_speed < PLANT_SPEED * self.leg)
        self.airborne = self.height[:, list(ANKLES + FEET)].min(axis=1) > AIR_HEIGHT * self.leg
        across = (j[:, HIPS[1]] - j[:, HIPS[0]]) + (j[:, SHOULDERS[1]] - j[:, SHOULDERS[0]])
        across[:, 1] = 0.0
        forward = np.cross(UP, across)
        self.forward = forward / np.maximum(np.linalg.norm(forward, axis=-1, keepdims=True), 1e-9)
        self.left = np.cross(UP, self.forward)  # the person's left (+X when facing +Z)
        root = smooth(j[:, PELVIS, [0, 2]], SMOOTH_S)
        self.root_velocity = np.gradient(root, axis=0) * FPS  # (T, 2) horizontal x, z, m/s
        self.root_speed = np.linalg.norm(self.root_velocity, axis=-1)  # (T,)
        torso = j[:, NECK] - j[:, PELVIS]
        self.torso_up = torso[:, 1] / np.maximum(np.linalg.norm(torso, axis=-1), 1e-9)  # cos of torso tilt

    def local(self, v: np.ndarray) -> np.ndarray:
        """(T, 3) world vectors -> (T, 3) [left, up, forward] in the person's facing frame."""
        return np.stack([(v * self.left).sum(-1), v[:, 1], (v * self.forward).sum(-1)], axis=-1)
