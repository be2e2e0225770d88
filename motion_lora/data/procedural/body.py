"""The body-frame description of a clip (`_Body`) and its assembly into joints (FK above, two-bone IK below)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from ...motion.quaternion import qinv, qmul, qrot
from ...motion.skeleton import (
    ANKLES,
    COLLARS,
    ELBOWS,
    FEET,
    FPS,
    HIPS,
    JOINT,
    KNEES,
    REFERENCE_OFFSETS,
    SHOULDERS,
    WRISTS,
    pose_joints,
    rest_quats,
)
from .rig import (
    ANKLE_HEIGHT,
    COLLAR_ANGLE,
    FOOT_LEN,
    FOOT_PITCH,
    FOOT_X,
    FOREARM,
    HEAD_TILT,
    PROC_OFFSETS,
    REACH,
    REST_ARM,
    SHIN,
    SIGN,
    SPINE,
    SPINE_SHARE,
    STAND_HEIGHT,
    THIGH,
    TOE_OUT,
    UPPER_ARM,
    X_AXIS,
    _deg,
    _euler,
    _qx,
    _qy,
    _qz,
)


@dataclass
class _Body:
    """Per-frame channels in the body frame. T frames; side axis is [left, right]."""

    t: np.ndarray  # (T,) seconds
    root: np.ndarray  # (T, 3) pelvis position; y is lowered where needed so the feet can be reached
    pelvis: np.ndarray  # (T, 3) [yaw, pitch, roll] global orientation of the pelvis
    spine: np.ndarray  # (T, 3) total bend of the spine above the pelvis, spread over spine1..3
    neck: np.ndarray  # (T, 3) head angles relative to the chest
    shrug: np.ndarray  # (T, 2) extra collar elevation
    arm: np.ndarray  # (T, 2, 4) [flex, abduction, external rotation, elbow] in the chest frame
    hand: np.ndarray  # (T, 2, 3) wrist targets in the body frame; NaN rows use `arm` angles instead
    elbow_pole: np.ndarray  # (T, 2, 3) direction the elbow points when `hand` is used
    ankle: np.ndarray  # (T, 2, 3) ankle targets
    foot_yaw: np.ndarray  # (T, 2) heading of each foot
    foot_pitch: np.ndarray  # (T, 2) downward tilt of ankle->foot
    knee_roll: np.ndarray  # (T, 2) tilt of the knee hinge axis (side kicks turn the knee outward)

    @property
    def T(self) -> int:
        return len(self.t)

    @classmethod
    def rest(cls, T: int) -> "_Body":
        t = np.arange(T) / FPS
        ankle = np.zeros((T, 2, 3))
        ankle[:, :, 0] = SIGN * FOOT_X
        ankle[:, :, 1] = ANKLE_HEIGHT
        return cls(
            t=t,
            root=np.tile([0.0, STAND_HEIGHT, 0.0], (T, 1)),
            pelvis=np.zeros((T, 3)),
            spine=np.tile([0.0, _deg(2.0), 0.0], (T, 1)),
            neck=np.zeros((T, 3)),
            shrug=np.zeros((T, 2)),
            arm=np.tile(REST_ARM, (T, 2, 1)),
            hand=np.full((T, 2, 3), np.nan),
            elbow_pole=np.tile([0.0, -0.3, -1.0], (T, 2, 1)) + np.array([[[0.6, 0, 0], [-0.6, 0, 0]]]),
            ankle=ankle,
            foot_yaw=np.tile(SIGN * TOE_OUT, (T, 1)),
            foot_pitch=np.tile(FOOT_PITCH, (T, 1)),
            knee_roll=np.zeros((T, 2)),
        )


def _arm_quat(arm: np.ndarray, sign: float) -> np.ndarray:
    """(T, 4) arm angles -> (T, 4) upper-arm rotation in the chest frame: Rz(abd) Rx(-flex) Ry(ext).

    At rest the arm hangs along -y and the elbow bends toward +z; flexion swings the arm forward, abduction
    outward, external rotation turns the elbow's bending plane outward (then up, for a raised arm).
    """
    return qmul(qmul(_qz(sign * arm[:, 1]), _qx(-arm[:, 0])), _qy(sign * arm[:, 2]))


def _mat_to_quat(m: np.ndarray) -> np.ndarray:
    """(..., 3, 3) rotation matrices -> (..., 4) quaternions (w, x, y, z), numerically safe branch per item."""
    m = np.asarray(m)
    out = np.empty(m.shape[:-2] + (4,))
    tr = m[..., 0, 0] + m[..., 1, 1] + m[..., 2, 2]
    cands = np.stack([tr, m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]], axis=-1)
    best = np.argmax(cands, axis=-1)
    for b in range(4):
        sel = best == b
        if not sel.any():
            continue
        r = m[sel]
        if b == 0:
            s = np.sqrt(1.0 + r[:, 0, 0] + r[:, 1, 1] + r[:, 2, 2]) * 2
            q = [0.25 * s, (r[:, 2, 1] - r[:, 1, 2]) / s, (r[:, 0, 2] - r[:, 2, 0]) / s, (r[:, 1, 0] - r[:, 0, 1]) / s]
        elif b == 1:
            s = np.sqrt(1.0 + r[:, 0, 0] - r[:, 1, 1] - r[:, 2, 2]) * 2
            q = [(r[:, 2, 1] - r[:, 1, 2]) / s, 0.25 * s, (r[:, 0, 1] + r[:, 1, 0]) / s, (r[:, 0, 2] + r[:, 2, 0]) / s]
        elif b == 2:
            s = np.sqrt(1.0 + r[:, 1, 1] - r[:, 0, 0] - r[:, 2, 2]) * 2
            q = [(r[:, 0, 2] - r[:, 2, 0]) / s, (r[:, 0, 1] + r[:, 1, 0]) / s, 0.25 * s, (r[:, 1, 2] + r[:, 2, 1]) / s]
        else:
            s = np.sqrt(1.0 + r[:, 2, 2] - r[:, 0, 0] - r[:, 1, 1]) * 2
            q = [(r[:, 1, 0] - r[:, 0, 1]) / s, (r[:, 0, 2] + r[:, 2, 0]) / s, (r[:, 1, 2] + r[:, 2, 1]) / s, 0.25 * s]
        out[sel] = np.stack(q, axis=-1)
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)


def _two_bone(root: np.ndarray, target: np.ndarray, pole: np.ndarray, l1: float, l2: float):
    """Analytic two-bone IK. (T, 3) root, target, pole -> (T, 3) middle joint, (T, 3) reached end.

    The middle joint (knee / elbow) goes to the side of the root->target line that `pole` points to.
    The end is pulled onto the reachable shell when the target is too far or too near, so both bone
    lengths are always exact.
    """
    d_vec = target - root
    d = np.linalg.norm(d_vec, axis=-1, keepdims=True)
    u = d_vec / np.maximum(d, 1e-9)
    d = np.clip(d, abs(l1 - l2) + 1e-4, (l1 + l2) * (1 - 1e-6))
    a = (l1**2 - l2**2 + d**2) / (2 * d)
    h = np.sqrt(np.maximum(l1**2 - a**2, 0.0))
    n = pole - (pole * u).sum(-1, keepdims=True) * u
    n = _unit(n)
    return root + a * u + h * n, root + d * u


def _chest_frame(quats):
    """Global chest (spine3) rotation (T, 4) from the pelvis and spine local rotations."""
    rot = quats[:, 0]
    for j in SPINE:
        rot = qmul(rot, quats[:, j])
    return rot


def _arm_from_target(shoulder, hand, pole, l1, l2):
    """Chest-frame shoulder (T,3), wrist target (T,3), elbow pole (T,3) -> upper-arm quat (T,4), elbow angle (T,)."""
    elbow, wrist = _two_bone(shoulder, hand, pole, l1, l2)
    du = _unit(elbow - shoulder)
    df = _unit(wrist - elbow)
    # The elbow bends the forearm toward the upper arm's local +z: the forearm's component across the
    # upper arm. For a (nearly) straight arm that vanishes, and the side away from the pole decides.
    bend = (df - (df * du).sum(-1, keepdims=True) * du) + 1e-3 * (-pole - (-pole * du).sum(-1, keepdims=True) * du)
    z = _unit(bend)
    y = -du
    x = np.cross(y, z)
    rot = _mat_to_quat(np.stack([x, y, z], axis=-1))
    angle = np.arccos(np.clip((du * df).sum(-1), -1.0, 1.0))
    return rot, angle


def _fit_root_height(root: np.ndarray, pelvis_q: np.ndarray, ankle: np.ndarray) -> np.ndarray:
    """(T,) root heights lowered, where needed, so that each hip can reach its ankle target with soft knees."""
    y = root[:, 1].copy()
    for i in range(2):
        hip_off = qrot(pelvis_q, np.broadcast_to(PROC_OFFSETS[HIPS[i]], root.shape))
        horiz = np.linalg.norm(ankle[:, i, [0, 2]] - (root[:, [0, 2]] + hip_off[:, [0, 2]]), axis=-1)
        reach = REACH * (THIGH[i] + SHIN[i])
        y_max = ankle[:, i, 1] + np.sqrt(np.maximum(reach**2 - horiz**2, 0.0)) - hip_off[:, 1]
        y = np.minimum(y, y_max)
    return y


def _assemble(b: _Body) -> np.ndarray:
    """Channels -> (T, 22, 3) joints in the body frame."""
    T = b.T
    q = rest_quats(T)
    q[:, 0] = _euler(b.pelvis)
    for j, share in zip(SPINE, SPINE_SHARE):
        q[:, j] = _euler(b.spine * share)
    q[:, JOINT["neck"]] = qmul(_euler(b.neck), _qx(np.full(T, -HEAD_TILT)))
    for i in range(2):
        q[:, COLLARS[i]] = _qz(SIGN[i] * (COLLAR_ANGLE + b.shrug[:, i]))

    root = b.root.copy()
    root[:, 1] = _fit_root_height(root, q[:, 0], b.ankle)

    # Arms: angle-driven by default; frames with a hand target are solved by IK in the chest frame.
    chest = _chest_frame(q)
    spine3 = pose_joints(root, q, PROC_OFFSETS)[:, JOINT["spine3"]]
    for i in range(2):
        upper = _arm_quat(b.arm[:, i], SIGN[i])
        elbow = b.arm[:, i, 3].copy()
        use_ik = np.isfinite(b.hand[:, i]).all(-1)
        if use_ik.any():
            collar_to_shoulder = np.broadcast_to(REFERENCE_OFFSETS[SHOULDERS[i]], (T, 3))
            shoulder = REFERENCE_OFFSETS[COLLARS[i]] + qrot(q[:, COLLARS[i]], collar_to_shoulder)  # (T, 3) chest frame
            target = qrot(qinv(chest), b.hand[:, i] - spine3)
            pole = qrot(qinv(chest), b.elbow_pole[:, i])
            ik_rot, ik_elbow = _arm_from_target(
                shoulder[use_ik], target[use_ik], pole[use_ik], UPPER_ARM[i], FOREARM[i]
            )
            upper[use_ik], elbow[use_ik] = ik_rot, ik_elbow
        q[:, SHOULDERS[i]] = qmul(qinv(q[:, COLLARS[i]]), upper)
        q[:, ELBOWS[i]] = _qx(-elbow)

    joints = pose_joints(root, q, PROC_OFFSETS)
    for i in range(2):
        # Knee hinge axis: the foot's lateral axis, optionally rolled (side kicks) — the knee bends forward.
        hinge = qrot(_qy(b.foot_yaw[:, i]), qrot(_qz(SIGN[i] * b.knee_roll[:, i]), np.broadcast_to(X_AXIS, (T, 3))))
        hip = joints[:, HIPS[i]]
        pole = np.cross(_unit(b.ankle[:, i] - hip), hinge)
        knee, ankle = _two_bone(hip, b.ankle[:, i], pole, THIGH[i], SHIN[i])
        joints[:, KNEES[i]], joints[:, ANKLES[i]] = knee, ankle
        direction = _foot_direction(ankle[:, 1], b.foot_yaw[:, i], b.foot_pitch[:, i], FOOT_LEN[i])
        joints[:, FEET[i]] = ankle + FOOT_LEN[i] * direction
    return joints


def _foot_direction(ankle_y, yaw, pitch, length):
    """(T,) -> (T, 3) unit ankle->foot direction; the pitch is reduced where the toe would go under the floor."""
    max_sin = np.clip(ankle_y / length, 0.0, 1.0)
    sin_p = np.minimum(np.sin(pitch), max_sin)
    cos_p = np.sqrt(1.0 - sin_p**2)
    return np.stack([cos_p * np.sin(yaw), -sin_p, cos_p * np.cos(yaw)], axis=-1)


@functools.lru_cache(maxsize=None)
def _rest_hands() -> np.ndarray:
    """(2, 3) wrist positions of the relaxed standing pose (body frame), for arms driven by hand targets."""
    joints = _assemble(_Body.rest(1))[0]
    return joints[list(WRISTS)]
