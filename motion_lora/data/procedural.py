"""Procedural motion generators on the reference skeleton.

Every generator describes a motion in a *body frame* (the person starts at the origin facing +Z, left is
+X) with a handful of readable channels — root position, pelvis / spine / neck angles, arm angles or hand
targets, ankle targets and foot orientation — collected in `_Body`. `_assemble` turns those channels into
joints: the upper body goes through `skeleton.pose_joints` (SMPL-style FK), the legs through analytic
two-bone IK so that planted feet stay exactly where they were put. `sample_motion` then adds a small idle
layer (breathing, weight shift), assembles, and places the clip at a random heading and start position.

Conventions used throughout: side index 0 is left (+X, sign +1), 1 is right (-X, sign -1); angles are
radians inside the code and written in degrees at call sites via `_deg`; times are seconds.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..motion.quaternion import qfrom_axis_angle, qinv, qmul, qrot
from ..motion.skeleton import (
    ANKLES,
    BONE_LENGTHS,
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
from .clip import Motion, Segment

# --------------------------------------------------------------------------------------------------
# Skeleton constants, per side (index 0 = left, 1 = right)
# --------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------
# Timing helpers
# --------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------
# The body-frame description of a clip
# --------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------
# Assembly: channels -> joints
# --------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------
# Feet: gait planning and single steps
# --------------------------------------------------------------------------------------------------

def _gait(b: _Body, period: float, duty: float, root_xz: Callable, yaw: Callable, lift: float,
          swing_forward: float = 0.0, always_lift: bool = False, lift_peak: float = 0.5, heel_roll: float = 0.0):
    """Plan alternating footsteps for a periodic gait and write them into b.ankle / foot_yaw / foot_pitch.

    root_xz(times) -> (N, 2) and yaw(times) -> (N,) describe where the pelvis is at any time (seconds).
    Each foot is planted under its hip at the middle of its stance phase, so it sits still for the whole
    stance while the body passes over it; in swing it travels to the next plant along an eased path with a
    lift. The left foot starts its stance at phase 0, the right at phase 0.5. Returns swing (T, 2) in [0, 1].

    heel_roll (radians) lifts the heel at the end of stance, the foot pivoting on its planted toe (toe-off):
    the ankle rises and moves toward the toe, so the trailing leg reaches it without the pelvis dropping
    (real walkers keep the pelvis within ~5 cm of standing height). The roll fades out early in the swing.
    """
    t = b.t
    swing = np.zeros((b.T, 2))
    for i, offset in enumerate((0.0, 0.5)):
        u = t / period + offset
        k = np.floor(u)
        phase = u - k

        def plant(kk):
            tm = (kk - offset + duty / 2) * period
            yw = yaw(tm)
            lateral = _yaw_rotate(np.stack([np.full_like(tm, SIGN[i] * FOOT_X[i]), np.zeros_like(tm)], -1), yw)
            return root_xz(tm) + lateral, yw + SIGN[i] * TOE_OUT

        p0, y0 = plant(k)
        p1, y1 = plant(k + 1)
        s = np.clip((phase - duty) / (1 - duty), 0.0, 1.0)
        ease = _smoothstep(s)
        xz = p0 + (p1 - p0) * ease[:, None]
        fy = y0 + (y1 - y0) * ease
        # Skew the lift curve's peak (runners kick the heel up early in swing).
        warped = s ** (np.log(0.5) / np.log(lift_peak))
        bump = np.sin(np.pi * warped)
        scale = 1.0 if always_lift else np.clip(np.linalg.norm(p1 - p0, axis=-1) / 0.15 + np.abs(y1 - y0) / 0.5, 0, 1)
        xz = xz + swing_forward * bump[:, None] * np.stack([np.sin(fy), np.cos(fy)], -1)
        # Toe-off: over the last ROLL_PHASE of stance the foot pitches up to heel_roll about the toe; the
        # ankle's offset from its flat position carries into the swing and fades out over its first 40%.
        stance_end = np.clip((phase - (duty - ROLL_PHASE)) / ROLL_PHASE, 0.0, 1.0) * (phase < duty)
        roll = heel_roll * (_smoothstep(stance_end) + (phase >= duty) * (1.0 - _smoothstep(s / 0.4))) * scale
        pitch = FOOT_PITCH[i] + roll
        ahead = FOOT_LEN[i] * (np.cos(FOOT_PITCH[i]) - np.cos(pitch))  # ankle moves toward the planted toe
        rise = FOOT_LEN[i] * (np.sin(pitch) - np.sin(FOOT_PITCH[i]))
        xz = xz + ahead[:, None] * np.stack([np.sin(y0 + (fy - y0) * (phase >= duty)), np.cos(y0 + (fy - y0) * (phase >= duty))], -1)
        b.ankle[:, i, 0], b.ankle[:, i, 2] = xz[:, 0], xz[:, 1]
        b.ankle[:, i, 1] = ANKLE_HEIGHT + rise + lift * bump * scale
        b.foot_yaw[:, i] = fy
        b.foot_pitch[:, i] = pitch + _deg(12.0) * bump * scale
        swing[:, i] = np.where(phase >= duty, s, 0.0) * (scale > 0)
    return swing


def _step(b: _Body, i: int, t0: float, t1: float, to_xz, lift: float = 0.08, to_yaw=None):
    """One step of foot i from where it is at t0 to `to_xz` (2,) at t1; it stays there afterwards."""
    start = b.ankle[np.searchsorted(b.t, t0), i, [0, 2]].copy()
    start_yaw = b.foot_yaw[np.searchsorted(b.t, t0), i]
    to_yaw = start_yaw if to_yaw is None else to_yaw
    s = np.clip((b.t - t0) / (t1 - t0), 0.0, 1.0)
    ease = _smoothstep(s)[:, None]
    after = b.t >= t0
    xz = start + (np.asarray(to_xz) - start) * ease
    b.ankle[after, i, 0], b.ankle[after, i, 2] = xz[after, 0], xz[after, 1]
    b.ankle[after, i, 1] = ANKLE_HEIGHT + lift * np.sin(np.pi * s[after])
    b.foot_yaw[after, i] = start_yaw + (to_yaw - start_yaw) * ease[after, 0]


def _body_forward(b: _Body, i: int) -> np.ndarray:
    """(T,) how far foot i is ahead of the pelvis along the pelvis heading."""
    rel = b.ankle[:, i, [0, 2]] - b.root[:, [0, 2]]
    return _yaw_rotate(rel, -b.pelvis[:, 0])[:, 1]


def _swing_arms(b: _Body, gain: float, bias: float = 0.0, elbow: float | None = None):
    """Arms swing opposite to the legs: each arm follows the other side's foot fore and aft."""
    for i in range(2):
        other = _body_forward(b, 1 - i) - _body_forward(b, i)
        b.arm[:, i, 0] = bias + gain * other / 2
        if elbow is not None:
            b.arm[:, i, 3] = elbow + 0.3 * np.abs(gain * other / 2)


# --------------------------------------------------------------------------------------------------
# Generators. Each takes (rng, attrs) and returns (body, fine label, attrs, cyclic).
# --------------------------------------------------------------------------------------------------

def _speed(rng, attrs) -> float:
    return SPEED_FACTOR[attrs["speed"]] * rng.uniform(0.93, 1.07)


def _locomotion(rng, attrs, *, period_s, duty, velocity_xz, lift, height_drop, lo, hi, lift_peak=0.5,
                swing_forward=0.0, always_lift=False, heel_roll=0.0):
    """Shared body of walk / run / march / side_step: an integer number of gait cycles (so it loops)."""
    period, n = _cycle_frames(period_s, rng, lo, hi, attrs.get("count"))
    b = _Body.rest(period * n)
    P = period / FPS
    vel = np.asarray(velocity_xz, dtype=np.float64)
    root_xz = lambda tt: np.asarray(tt)[..., None] * vel  # noqa: E731 - straight-line pelvis path
    swing = _gait(b, P, duty, root_xz, lambda tt: np.zeros_like(tt), lift, swing_forward, always_lift, lift_peak,
                  heel_roll)
    b.root[:, [0, 2]] = root_xz(b.t)
    b.root[:, 1] = STAND_HEIGHT - height_drop
    return b, P, n, swing


def _walk(rng, attrs):
    sp = _speed(rng, attrs)
    backward = attrs["direction"] == "backward"
    # Real walks (Bandai Namco, DeepMimic): ~1.2 m/s, ~107 steps/min, 1.3 m strides at a normal pace.
    v = 1.15 * sp ** 0.8 * (0.7 if backward else 1.0)
    period_s = 1.12 / sp ** 0.5  # faster walkers step more often more than they lengthen the stride
    b, P, n, _ = _locomotion(rng, attrs, period_s=period_s, duty=0.6, velocity_xz=(0.0, -v if backward else v),
                             lift=rng.uniform(0.06, 0.1), height_drop=0.01, lo=2, hi=5,
                             heel_roll=0.0 if backward else _deg(rng.uniform(20.0, 30.0)))
    phase = 2 * np.pi * b.t / P
    b.root[:, 0] += 0.02 * np.cos(phase - np.pi * 0.6)  # weight shifts over the stance foot
    b.pelvis[:, 0] = -_deg(5.0) * (_body_forward(b, 0) - _body_forward(b, 1)) / 0.6  # hip follows its leg
    b.spine[:, 0] = -1.3 * b.pelvis[:, 0]  # shoulders counter-rotate
    b.spine[:, 1] = _deg(4.0 if not backward else -2.0)
    _swing_arms(b, gain=_deg(55.0) * rng.uniform(0.8, 1.2), bias=_deg(3.0))
    fine = f"walk_{attrs['direction']}"
    return b, fine, {"direction": attrs["direction"], "speed": attrs["speed"]}, True


def _run(rng, attrs):
    sp = _speed(rng, attrs)
    # Real runs: ~2.7 m/s, ~150 steps/min, 2.2 m strides (median); sprints reach ~3.9 m/s.
    v = 2.6 * sp ** 0.7
    period_s = 0.76 / sp ** 0.25
    b, P, n, _ = _locomotion(rng, attrs, period_s=period_s, duty=0.32, velocity_xz=(0.0, v),
                             lift=rng.uniform(0.18, 0.28), height_drop=0.03, lo=3, hi=8, lift_peak=0.4)
    # Pelvis lowest in mid-stance, highest in mid-flight (two steps per cycle).
    b.root[:, 1] += 0.045 * -np.cos(4 * np.pi * (b.t / P - 0.18))  # real runs bob ~10 cm peak to peak
    b.pelvis[:, 0] = -_deg(6.0) * (_body_forward(b, 0) - _body_forward(b, 1)) / 0.7
    b.spine[:, 0] = -1.3 * b.pelvis[:, 0]
    b.spine[:, 1] = _deg(9.0)
    b.pelvis[:, 1] = _deg(4.0)
    _swing_arms(b, gain=_deg(70.0), bias=_deg(12.0), elbow=_deg(85.0))
    b.arm[:, :, 1] = _deg(12.0)
    return b, "run_forward", {"direction": "forward", "speed": attrs["speed"]}, True


def _march(rng, attrs):
    sp = _speed(rng, attrs)
    b, P, n, swing = _locomotion(rng, attrs, period_s=1.15 / sp ** 0.5, duty=0.56, velocity_xz=(0.0, 0.0),
                                 lift=rng.uniform(0.24, 0.34), height_drop=0.01, lo=2, hi=6,
                                 swing_forward=0.12, always_lift=True)
    # Arms swing with the opposite knee: left arm forward while the right knee is up.
    for i in range(2):
        lift = b.ankle[:, 1 - i, 1] - b.ankle[:, i, 1]
        b.arm[:, i, 0] = _deg(5.0) + _deg(150.0) * lift
        b.arm[:, i, 3] = _deg(25.0) + _deg(120.0) * np.maximum(lift, 0)
    b.spine[:, 1] = _deg(1.0)
    return b, "march_in_place", {"speed": attrs["speed"], "count": n}, True


def _side_step(rng, attrs):
    sp = _speed(rng, attrs)
    sign = 1.0 if attrs["direction"] == "left" else -1.0
    b, P, n, _ = _locomotion(rng, attrs, period_s=1.0 / sp ** 0.4, duty=0.6, velocity_xz=(sign * 0.3 * sp, 0.0),
                             lift=rng.uniform(0.05, 0.09), height_drop=0.02, lo=2, hi=5)
    gap = b.ankle[:, 0, 0] - b.ankle[:, 1, 0]  # arms open a little as the feet spread
    b.arm[:, :, 1] = REST_ARM[1] + _deg(25.0) * np.clip(gap - 0.2, 0, None)[:, None]
    out_attrs = {"direction": attrs["direction"], "speed": attrs["speed"], "count": n}
    return b, f"side_step_{attrs['direction']}", out_attrs, True


def _turn_around(rng, attrs):
    sp = _speed(rng, attrs)
    sign = 1.0 if attrs["direction"] == "left" else -1.0
    angle = sign * _deg(rng.uniform(165.0, 190.0))
    step_p = 0.75 / sp ** 0.4
    hold0, turn = rng.uniform(0.3, 0.6), rng.uniform(1.3, 2.0) / sp
    T = _frames(hold0 + turn + step_p * 1.2 + rng.uniform(0.2, 0.5))
    b = _Body.rest(T)
    yaw = lambda tt: _keys(np.asarray(tt, dtype=np.float64), [(hold0, 0.0), (hold0 + turn, angle)])  # noqa: E731
    _gait(b, step_p, 0.5, lambda tt: np.zeros(np.shape(tt) + (2,)), yaw, rng.uniform(0.06, 0.09))
    b.pelvis[:, 0] = yaw(b.t)
    b.neck[:, 0] = _keys(b.t, [(hold0 - 0.1, 0.0), (hold0 + 0.25 * turn, sign * _deg(20)), (hold0 + turn, 0.0)])
    b.root[:, 1] = STAND_HEIGHT - 0.005
    return b, f"turn_around_{attrs['direction']}", {"direction": attrs["direction"], "speed": attrs["speed"]}, False


def _jump(rng, attrs):
    sp = _speed(rng, attrs)
    forward = attrs["style"] == "forward"
    count = attrs["count"]
    g = 9.81
    keys_y, keys_z, keys_arm, keys_pitch = [(0.0, STAND_HEIGHT)], [(0.0, 0.0)], [(0.0, REST_ARM[0])], [(0.0, _deg(2.0))]
    flights = []  # (takeoff, landing, z_from, z_to)
    t = rng.uniform(0.3, 0.6)
    z = 0.0
    take_h = STAND_HEIGHT - 0.005
    for _ in range(count):
        height = rng.uniform(0.12, 0.22) if forward else rng.uniform(0.15, 0.3)
        dist = rng.uniform(0.35, 0.7) if forward else 0.0
        crouch = rng.uniform(0.15, 0.25)
        v0 = np.sqrt(2 * g * height)
        tf = 2 * v0 / g
        t_c = t + 0.45 / sp  # bottom of the crouch
        t_to = t_c + 0.2  # take-off
        t_land = t_to + tf
        t_ab = t_land + 0.25  # bottom of the landing
        t_end = t_ab + 0.45 / sp
        keys_y += [(t, STAND_HEIGHT), (t_c, take_h - crouch), (t_to, take_h, v0), (t_to + tf / 2, take_h + height),
                   (t_land, take_h, -v0), (t_ab, take_h - crouch * 0.8), (t_end, STAND_HEIGHT)]
        vz = 0.7 * dist / tf
        keys_z += [(t, z), (t_c, z - 0.03 * (dist > 0)), (t_to, z + 0.1 * dist, vz), (t_land, z + 0.85 * dist, vz),
                   (t_ab, z + dist), (t_end, z + dist)]
        keys_arm += [(t, REST_ARM[0]), (t_c, _deg(-40.0)), (t_to + 0.15, _deg(100.0 if forward else 130.0)),
                     (t_land, _deg(60.0)), (t_ab, _deg(25.0)), (t_end, REST_ARM[0])]
        keys_pitch += [(t, _deg(2.0)), (t_c, _deg(28.0)), (t_to, _deg(5.0)), (t_ab, _deg(22.0)), (t_end, _deg(2.0))]
        flights.append((t_to, t_land, z, z + dist))
        t, z = t_end + rng.uniform(0.1, 0.4), z + dist
    b = _Body.rest(_frames(t + rng.uniform(0.0, 0.3)))
    b.root[:, 1] = _keys(b.t, _dedupe(keys_y))
    b.root[:, 2] = _keys(b.t, _dedupe(keys_z))
    b.arm[:, :, 0] = _keys(b.t, _dedupe(keys_arm))[:, None]
    b.arm[:, :, 3] = REST_ARM[3] + 0.3 * np.abs(b.arm[:, :, 0])
    b.spine[:, 1] = _keys(b.t, _dedupe(keys_pitch)) * 0.6
    b.pelvis[:, 1] = _keys(b.t, _dedupe(keys_pitch)) * 0.5
    b.root[:, 2] -= 0.12 * np.sin(b.pelvis[:, 1])  # hips go back as the trunk leans forward
    for t_to, t_land, z0, z1 in flights:
        fly = (b.t > t_to) & (b.t < t_land)
        s = (b.t[fly] - t_to) / (t_land - t_to)
        b.ankle[fly, :, 1] = ANKLE_HEIGHT + (b.root[fly, 1] - take_h)[:, None] + 0.1 * np.sin(np.pi * s)[:, None]
        b.ankle[fly, :, 2] = (z0 + (z1 - z0) * _smoothstep(s))[:, None]
        b.foot_pitch[fly] += _deg(25.0) * np.sin(np.pi * s)[:, None]
        b.ankle[b.t >= t_land, :, 2] = z1
    return b, f"jump_{attrs['style']}", {"style": attrs["style"], "count": count, "speed": attrs["speed"],
                                          **({"direction": "forward"} if forward else {})}, False


def _dedupe(keys):
    """Drop keys whose time does not increase (back-to-back phases can share a time)."""
    out = [keys[0]]
    for k in keys[1:]:
        if k[0] > out[-1][0] + 1e-6:
            out.append(k)
    return out


def _hip_position(root: np.ndarray, pelvis: np.ndarray, i: int) -> np.ndarray:
    """(T, 3) root, (T, 3) pelvis angles -> (T, 3) body-frame position of hip joint i."""
    return root + qrot(_euler(pelvis), np.broadcast_to(PROC_OFFSETS[HIPS[i]], root.shape))


def _kick(rng, attrs):
    # Calibrated on real kicks (benchmarks/calibration.py): the foot leaves the floor for ~0.6-0.95 s, the
    # leg folds (chamber, knee ~80 deg), snaps out to a nearly straight leg (knee 165-180 deg) with the ankle
    # at 1-1.7 m and 7-11 m/s in ~0.15-0.2 s, and comes back down in ~0.3-0.55 s. Speed words change a kick's tempo less than a walk's.
    sp = _speed(rng, attrs) ** 0.4
    i = SIDE_NAMES.index(attrs["side"])
    s = SIGN[i]
    side_kick = attrs["style"] == "side"
    count = attrs["count"]
    t = rng.uniform(0.3, 0.5)
    shift_in = t
    t += 0.35 / sp  # shift weight onto the support leg first
    kicks = []  # per kick: (lift-off, chamber, extension, hold end, retracted, touch-down), elevation, reach
    for _ in range(count):
        t_ch = t + rng.uniform(0.24, 0.32) / sp
        t_ex = t_ch + rng.uniform(0.19, 0.23) / sp
        t_hold = t_ex + rng.uniform(0.06, 0.14)
        t_re = t_hold + rng.uniform(0.12, 0.16) / sp
        t_down = t_re + rng.uniform(0.18, 0.26) / sp
        elevation = rng.uniform(96.0, 110.0) if side_kick else rng.uniform(100.0, 120.0)
        kicks.append(((t, t_ch, t_ex, t_hold, t_re, t_down), _deg(elevation), rng.uniform(0.997, 1.0)))
        t = t_down + rng.uniform(0.05, 0.3)
    shift_out = t
    b = _Body.rest(_frames(t + 0.35 / sp + rng.uniform(0.1, 0.4)))

    # Trunk first: the extension targets are placed from where the hip is at the moment of extension.
    keys_lean = [(0.0, 0.0)]
    for (t0, t_ch, t_ex, t_hold, t_re, t_down), elev, _ in kicks:
        high = (elev - _deg(100.0)) / _deg(20.0)  # 0 for a waist-high kick, 1 for a head-high one
        lean = _deg(22.0) if side_kick else -_deg(8.0 + 12.0 * max(high, 0.0))  # side: tip away; front: lean back
        keys_lean += [(t0, 0.0), (t_ex, lean), (t_hold, lean), (t_down, 0.0)]
    lean = _keys(b.t, _dedupe(keys_lean))
    shift = _keys(b.t, [(shift_in, 0.0), (shift_in + 0.35 / sp, 1.0), (shift_out, 1.0), (shift_out + 0.35 / sp, 0.0)])
    b.root[:, 0] = -s * 0.08 * shift  # weight over the support foot during the kicks
    b.root[:, 1] = STAND_HEIGHT - 0.03 * shift
    if side_kick:
        b.pelvis[:, 2] = s * lean  # the kicking hip rises and the trunk tips away from the kick
        b.spine[:, 2] = s * 0.3 * lean
        b.pelvis[:, 0] = -s * 0.6 * lean  # hips open toward the kick
    else:
        b.pelvis[:, 1] = lean
        b.spine[:, 1] += 0.3 * lean
    hip = _hip_position(b.root, b.pelvis, i)  # (T, 3)

    b0 = np.array([s * FOOT_X[i], ANKLE_HEIGHT, 0.0])  # the kicking foot's planted position
    keys_a = [(0.0, b0)]
    keys_pitch, keys_roll, keys_yaw = [(0.0, FOOT_PITCH[i])], [(0.0, 0.0)], [(0.0, s * TOE_OUT)]
    leg = THIGH[i] + SHIN[i]
    for (t0, t_ch, t_ex, t_hold, t_re, t_down), elev, reach in kicks:
        h_ex = hip[min(np.searchsorted(b.t, t_ex), b.T - 1)]
        # The kick swings in a vertical plane through the hip: straight ahead, or out to the side.
        azimuth = _deg(70.0) if side_kick else _deg(5.0)
        ahead = np.array([s * np.sin(azimuth), 0.0, np.cos(azimuth)])
        swing = lambda e: -np.cos(e) * Y_AXIS + np.sin(e) * ahead  # noqa: E731 - leg direction at elevation e
        direction = swing(elev)
        # Chamber: the thigh raised most of the way, the shin folded back under it (knee ~80 deg).
        knee_up = 0.85 * min(elev, _deg(90.0))
        chamber = h_ex + THIGH[i] * swing(knee_up) + SHIN[i] * swing(knee_up - _deg(88.0))
        extend = h_ex + reach * leg * _unit(direction)
        # While held the straight leg sinks a little, so the highest foot is the snap itself.
        settle = h_ex + reach * leg * swing(elev - _deg(1.5))
        # The ankle keeps moving through the chamber, so the snap out is one fast continuous motion.
        v_ch = 0.3 * (extend - chamber) / (t_ex - t_ch)
        keys_a += [(t0, b0), (t_ch, chamber, v_ch), (t_ex, extend), (t_hold, settle), (t_re, chamber), (t_down, b0)]
        pitch_ex = _deg(5.0) if side_kick else _deg(-15.0)
        keys_pitch += [(t0, FOOT_PITCH[i]), (t_ch, _deg(40.0)), (t_ex, pitch_ex), (t_hold, pitch_ex), (t_re, _deg(40.0)),
                       (t_down, FOOT_PITCH[i])]
        roll = _deg(70.0) if side_kick else 0.0
        keys_roll += [(t0, 0.0), (t_ch, roll), (t_re, roll), (t_down, 0.0)]
        yaw_ex = -s * _deg(50.0) if side_kick else s * TOE_OUT
        keys_yaw += [(t0, s * TOE_OUT), (t_ch, yaw_ex), (t_re, yaw_ex), (t_down, s * TOE_OUT)]
    b.ankle[:, i] = _keys(b.t, _dedupe(keys_a))
    b.foot_pitch[:, i] = _keys(b.t, _dedupe(keys_pitch))
    b.knee_roll[:, i] = _keys(b.t, _dedupe(keys_roll))
    b.foot_yaw[:, i] = _keys(b.t, _dedupe(keys_yaw))
    # Guard: fists up in front of the chest.
    guard = _deg(35.0, 25.0, 0.0, 110.0)
    b.arm[:] = REST_ARM + (guard - REST_ARM) * shift[:, None, None]
    fine = f"kick_{attrs['style']}_{attrs['side']}"
    return b, fine, {"style": attrs["style"], "side": attrs["side"], "count": count, "speed": attrs["speed"]}, False


@functools.lru_cache(maxsize=None)
def _rest_hands() -> np.ndarray:
    """(2, 3) wrist positions of the relaxed standing pose (body frame), for arms driven by hand targets."""
    joints = _assemble(_Body.rest(1))[0]
    return joints[list(WRISTS)]


def _guard_hand(root_y, s):
    """Wrist target in front of the chin for a fighting guard (body frame)."""
    return np.array([s * 0.14, root_y + 0.45, 0.22])


def _punch(rng, attrs):
    # Calibrated on real punches (benchmarks/calibration.py): the fist draws back, drives out at 3.5-7 m/s, the
    # arm ends straight or nearly (elbow 160-180 deg), is held a moment and pulled back to the guard.
    sp = _speed(rng, attrs) ** 0.5
    i = SIDE_NAMES.index(attrs["side"])
    s = SIGN[i]
    cross = attrs["style"] == "cross"
    count = attrs["count"]
    h = STAND_HEIGHT - 0.04
    t = rng.uniform(0.2, 0.4)
    t_guard = t + 0.5 / sp
    rest_hand = [_rest_hands()[k] for k in range(2)]
    keys_h = [[(0.0, rest_hand[k]), (t, rest_hand[k]), (t_guard, _guard_hand(h, SIGN[k]))] for k in range(2)]
    keys_twist = [(0.0, 0.0), (t_guard, 0.0)]
    t = t_guard + rng.uniform(0.1, 0.3)
    hits = []  # (start, hit, hold end, back at guard, aim point, fraction of the arm's length reached)
    for _ in range(count):
        t_cock = t + 0.1 / sp  # the fist draws back a little first, so the strike has room to speed up
        t_hit = t_cock + rng.uniform(0.15, 0.17) / sp
        t_hold = t_hit + rng.uniform(0.04, 0.2)
        t_back = t_hold + rng.uniform(0.18, 0.24) / sp
        aim = np.array([s * (0.02 if cross else 0.1), h + rng.uniform(0.36, 0.42), 0.65])
        hits.append((t, t_cock, t_hit, t_hold, t_back, aim, rng.uniform(0.992, 1.0)))
        twist = -s * _deg(35.0 if cross else 12.0)  # the punching shoulder drives forward
        keys_twist += [(t, 0.0), (t_cock, -0.2 * twist), (t_hit, twist), (t_hold, twist), (t_back, 0.0)]
        t = t_back + rng.uniform(0.05, 0.35) / sp
    t_end = t + 0.1
    b = _Body.rest(_frames(t_end + rng.uniform(0.2, 0.5)))
    twist = _keys(b.t, _dedupe(keys_twist))
    b.pelvis[:, 0] = 0.4 * twist
    b.spine[:, 0] = 0.6 * twist
    b.root[:, 1] = _keys(b.t, [(0.0, STAND_HEIGHT), (t_guard, h)])
    # The fist stops just short of a straight arm: aim from where the shoulder is at the hit (the trunk twist
    # moves it), at a fraction of the arm's length. The trunk does not depend on the hands, so one pass of
    # the assembly with any hands gives the shoulder.
    shoulder = _assemble(b)[:, SHOULDERS[i]]  # (T, 3)
    arm = UPPER_ARM[i] + FOREARM[i]
    for t0, t_cock, t_hit, t_hold, t_back, aim, frac in hits:
        sh = shoulder[min(np.searchsorted(b.t, t_hit), b.T - 1)]
        target = sh + frac * arm * _unit(aim - sh)
        cocked = _guard_hand(h, s) + np.array([s * 0.02, -0.07, -0.12])
        # Halfway out the fist is at full speed (1.9x the mean, like a minimum-jerk reach): a faster strike
        # for the same peak acceleration than easing in and out of the two ends.
        mid = (0.5 * (t_cock + t_hit), 0.5 * (cocked + target), 1.9 * (target - cocked) / (t_hit - t_cock))
        keys_h[i] += [(t0, _guard_hand(h, s)), (t_cock, cocked), mid, (t_hit, target), (t_hold, target),
                      (t_back, _guard_hand(h, s))]
    for k in range(2):
        keys_h[k] += [(t_end, _guard_hand(h, SIGN[k]))]
        b.hand[:, k] = _keys(b.t, _dedupe(keys_h[k]))
        b.elbow_pole[:, k] = [SIGN[k] * 0.3, -1.0, -0.5]
    return b, f"punch_{attrs['style']}_{attrs['side']}", {"style": attrs["style"], "side": attrs["side"],
                                                          "count": count, "speed": attrs["speed"]}, False


def _wave(rng, attrs):
    sp = _speed(rng, attrs)
    sides = (0, 1) if attrs["side"] == "both" else (SIDE_NAMES.index(attrs["side"]),)
    period, n = _cycle_frames(0.55 / sp, rng, 3, 8, attrs.get("count"))
    b = _Body.rest(period * n)
    phase = 2 * np.pi * b.t / (period / FPS)
    amp = _deg(rng.uniform(18.0, 30.0))
    raise_ = rng.uniform(95.0, 130.0)
    for i in sides:
        # Upper arm out and up, forearm up (external rotation), the forearm rocks side to side at the elbow.
        b.arm[:, i] = _deg(20.0, raise_, 85.0, 0.0)
        b.arm[:, i, 3] = _deg(150.0 - raise_ + 10.0) + amp * np.sin(phase)
        b.arm[:, i, 1] += _deg(4.0) * np.sin(phase)
        b.shrug[:, i] = _deg(8.0)
    if len(sides) == 1:
        b.spine[:, 2] = -SIGN[sides[0]] * _deg(3.0)  # lean slightly away from the waving arm
    fine = f"wave_{attrs['side']}"
    return b, fine, {"side": attrs["side"], "count": n, "speed": attrs["speed"]}, True


def _clap(rng, attrs):
    sp = _speed(rng, attrs)
    period, n = _cycle_frames(0.5 / sp, rng, 3, 10, attrs.get("count"))
    b = _Body.rest(period * n)
    P = period / FPS
    # Hands meet quickly (clap) and open more slowly: a skewed cycle.
    s = (b.t / P) % 1.0
    apart = np.sin(np.pi * s ** 0.8)
    height = STAND_HEIGHT + rng.uniform(0.25, 0.4)
    dist = rng.uniform(0.28, 0.38)
    for k in range(2):
        b.hand[:, k, 0] = SIGN[k] * (0.035 + rng.uniform(0.14, 0.2) * apart)
        b.hand[:, k, 1] = height
        b.hand[:, k, 2] = dist
        b.elbow_pole[:, k] = [SIGN[k] * 1.0, -0.8, -0.3]
    return b, "clap", {"count": n, "speed": attrs["speed"]}, True


def _raise_arms(rng, attrs):
    sp = _speed(rng, attrs)
    style = attrs["style"]
    sides = (0, 1) if attrs["side"] == "both" else (SIDE_NAMES.index(attrs["side"]),)
    target = {"up": _deg(170.0, 12.0, 0.0, 6.0), "front": _deg(90.0, 0.0, 0.0, 5.0),
              "side": _deg(0.0, 88.0, 0.0, 5.0)}[style] + _deg(rng.uniform(-6, 4), 0, 0, 0)
    t0 = rng.uniform(0.2, 0.5)
    up = rng.uniform(0.6, 1.0) / sp
    hold = rng.uniform(0.4, 1.2)
    down = rng.uniform(0.6, 1.0) / sp
    b = _Body.rest(_frames(t0 + up + hold + down + rng.uniform(0.2, 0.5)))
    w = _keys(b.t, [(t0, 0.0), (t0 + up, 1.0), (t0 + up + hold, 1.0), (t0 + up + hold + down, 0.0)])
    for i in sides:
        b.arm[:, i] = REST_ARM + (target - REST_ARM) * w[:, None]
        if style != "front":
            b.shrug[:, i] = _deg(12.0) * w
    if style == "up":
        b.spine[:, 1] += -_deg(4.0) * w  # chest opens up
    fine = f"raise_arms_{style}_{attrs['side']}"
    return b, fine, {"style": style, "side": attrs["side"], "speed": attrs["speed"]}, False


def _squat(rng, attrs):
    sp = _speed(rng, attrs)
    count = attrs["count"]
    depth = rng.uniform(0.25, 0.4)
    t = rng.uniform(0.3, 0.5)
    keys_w = [(0.0, 0.0)]
    for _ in range(count):
        down, hold, up = rng.uniform(0.7, 1.1) / sp, rng.uniform(0.1, 0.4), rng.uniform(0.7, 1.1) / sp
        keys_w += [(t, 0.0), (t + down, 1.0), (t + down + hold, 1.0), (t + down + hold + up, 0.0)]
        t += down + hold + up + rng.uniform(0.1, 0.3)
    b = _Body.rest(_frames(t + rng.uniform(0.1, 0.4)))
    w = _keys(b.t, _dedupe(keys_w))
    b.root[:, 1] = STAND_HEIGHT - depth * w
    b.root[:, 2] = -0.13 * w * depth / 0.4  # hips sit back
    b.pelvis[:, 1] = _deg(30.0) * w * depth / 0.4
    b.spine[:, 1] = _deg(2.0) + _deg(5.0) * w
    b.neck[:, 1] = -_deg(20.0) * w  # keep looking ahead
    b.arm[:, :, 0] = (REST_ARM[0] + (_deg(80.0) - REST_ARM[0]) * w)[:, None]  # arms forward for balance
    return b, "squat", {"count": count, "speed": attrs["speed"]}, False


def _bow(rng, attrs):
    sp = _speed(rng, attrs)
    angle = rng.uniform(30.0, 65.0)
    t0, hold = rng.uniform(0.3, 0.5), rng.uniform(0.3, 0.9)
    down, up = rng.uniform(0.6, 1.0) / sp, rng.uniform(0.6, 1.0) / sp
    b = _Body.rest(_frames(t0 + down + hold + up + rng.uniform(0.3, 0.5)))
    w = _keys(b.t, [(t0, 0.0), (t0 + down, 1.0), (t0 + down + hold, 1.0), (t0 + down + hold + up, 0.0)])
    bend = _deg(angle) * w
    b.pelvis[:, 1] = 0.6 * bend
    b.spine[:, 1] = _deg(2.0) + 0.4 * bend
    b.neck[:, 1] = _deg(10.0) * w
    b.root[:, 2] = -0.12 * np.sin(0.6 * bend)  # hips back to keep balance over the feet
    # Arms hang by gravity: undo the trunk's tilt at the shoulder, hands stay near the thighs.
    b.arm[:, :, 0] = (REST_ARM[0] + 0.8 * bend)[:, None]
    return b, "bow", {"speed": attrs["speed"]}, False


def _jumping_jacks(rng, attrs):
    sp = _speed(rng, attrs)
    period, n = _cycle_frames(0.95 / sp ** 0.5, rng, 2, 6, attrs.get("count"))
    b = _Body.rest(period * n)
    P = period / FPS
    s = (b.t / P) % 1.0
    # Closed hold [0, .1), hop open [.1, .5), open hold [.5, .6), hop closed [.6, 1).
    hop_open = np.clip((s - 0.1) / 0.4, 0, 1)
    hop_close = np.clip((s - 0.6) / 0.4, 0, 1)
    w = _smoothstep(hop_open) - _smoothstep(hop_close)
    flight = np.sin(np.pi * hop_open) + np.sin(np.pi * hop_close)
    spread = rng.uniform(0.2, 0.3)
    hop = rng.uniform(0.06, 0.12)
    b.ankle[:, :, 0] = SIGN * (FOOT_X + spread * w[:, None])
    b.ankle[:, :, 1] = ANKLE_HEIGHT + hop * flight[:, None]
    b.foot_yaw[:] = SIGN * (TOE_OUT + _deg(10.0) * w[:, None])
    b.foot_pitch += _deg(15.0) * flight[:, None]
    b.root[:, 1] = STAND_HEIGHT - 0.01 + hop * flight - 0.04 * w
    b.arm[:, :, 1] = (REST_ARM[1] + (_deg(rng.uniform(150.0, 170.0)) - REST_ARM[1]) * w)[:, None]
    b.arm[:, :, 2] = _deg(40.0) * w[:, None]  # palms turn so the elbows bend up as the arms rise
    b.shrug[:] = _deg(12.0) * w[:, None]
    return b, "jumping_jacks", {"count": n, "speed": attrs["speed"]}, True


def _throw(rng, attrs):
    sp = _speed(rng, attrs)
    i = SIDE_NAMES.index(attrs["side"])
    s = SIGN[i]
    o = 1 - i
    h = STAND_HEIGHT
    t0 = rng.uniform(0.3, 0.5)
    t_wind = t0 + rng.uniform(0.5, 0.8) / sp
    t_rel = t_wind + rng.uniform(0.18, 0.26) / sp
    t_follow = t_rel + 0.25 / sp
    t_back = t_follow + rng.uniform(0.5, 0.8) / sp
    b = _Body.rest(_frames(t_back + rng.uniform(0.3, 0.6)))
    # Step forward with the opposite foot during the wind-up; the throwing-side foot stays put.
    step = rng.uniform(0.2, 0.35)
    _step(b, o, t0 + 0.1, t_wind, [SIGN[o] * FOOT_X[o], step])
    rest_hand = _rest_hands()[i]
    wind = np.array([s * 0.3, h + 0.55, -0.3])
    release = np.array([s * 0.15, h + 0.6, 0.45])
    follow = np.array([-s * 0.15, h + 0.05, 0.45])
    b.hand[:, i] = _keys(b.t, [(t0, rest_hand), (t_wind, wind), (t_rel, release, (release - wind) / (t_rel - t_wind)),
                               (t_follow, follow), (t_back, rest_hand)])
    b.elbow_pole[:, i] = [s * 1.0, -0.3, -0.6]
    # The other arm points forward for aim during the wind-up, then pulls in.
    aim = _deg(70.0, 10.0, 0.0, 25.0)
    wa = _keys(b.t, [(t0, 0.0), (t_wind, 1.0), (t_follow, 0.3), (t_back, 0.0)])
    b.arm[:, o] = REST_ARM + (aim - REST_ARM) * wa[:, None]
    twist = _keys(b.t, [(t0, 0.0), (t_wind, s * _deg(40.0)), (t_rel, -s * _deg(20.0)), (t_follow, -s * _deg(35.0)),
                        (t_back, 0.0)])
    b.pelvis[:, 0] = 0.4 * twist
    b.spine[:, 0] = 0.6 * twist
    b.spine[:, 1] = _keys(b.t, [(t0, _deg(2.0)), (t_wind, _deg(-8.0)), (t_follow, _deg(25.0)), (t_back, _deg(2.0))])
    b.root[:, 2] = _keys(b.t, [(t0, 0.0), (t_wind, step * 0.25), (t_follow, step * 0.6)])
    b.root[:, 1] = STAND_HEIGHT - _keys(b.t, [(t0, 0.0), (t_wind, 0.04), (t_back, 0.02)])
    return b, f"throw_{attrs['side']}", {"side": attrs["side"], "style": "overarm", "speed": attrs["speed"]}, False


def _stretch(rng, attrs):
    sp = _speed(rng, attrs)
    style = attrs["style"]
    t0, hold = rng.uniform(0.3, 0.5), rng.uniform(0.8, 1.8)
    up, down = rng.uniform(0.7, 1.1) / sp, rng.uniform(0.7, 1.1) / sp
    b = _Body.rest(_frames(t0 + up + hold + down + rng.uniform(0.3, 0.5)))
    w = _keys(b.t, [(t0, 0.0), (t0 + up, 1.0), (t0 + up + hold, 1.0), (t0 + up + hold + down, 0.0)])
    overhead = _deg(172.0, 15.0, 0.0, 12.0)
    b.arm[:] = REST_ARM + (overhead - REST_ARM) * w[:, None, None]
    b.shrug[:] = _deg(15.0) * w[:, None]
    attrs_out = {"style": style, "speed": attrs["speed"]}
    if style == "overhead":
        b.spine[:, 1] = _deg(2.0) - _deg(10.0) * w  # reach up and arch back a little
        b.neck[:, 1] = -_deg(12.0) * w
        fine = "stretch_overhead"
    else:
        side = attrs["side"] if attrs["side"] != "both" else str(rng.choice(SIDE_NAMES))
        s = SIGN[SIDE_NAMES.index(side)]
        # Bend toward `side` (lean toward s*X is a negative roll), hips shift the other way for balance.
        t_top, t_release = t0 + up, t0 + up + hold
        bend_keys = [(t0 + 0.5 * up, 0.0), (t_top + 0.2, 1.0), (t_release - 0.1, 1.0), (t_release + 0.6 * down, 0.0)]
        bend = _keys(b.t, bend_keys)
        b.spine[:, 2] = -s * _deg(rng.uniform(20.0, 32.0)) * bend
        b.pelvis[:, 2] = -s * _deg(5.0) * bend
        b.root[:, 0] = -s * 0.05 * bend
        fine = f"stretch_side_{side}"
        attrs_out["side"] = side
    return b, fine, attrs_out, False


def _stand(rng, attrs):
    """Standing idle: weight drifting from foot to foot, breathing (added by `_add_idle`), maybe a glance
    around or one small shuffle of a foot. Always "normal" speed: "stands still quickly" means nothing."""
    sp = _speed(rng, attrs)
    b = _Body.rest(_frames(rng.uniform(3.0, 8.0)))
    duration = b.T / FPS
    # Weight shift: the pelvis drifts over one foot and back, with the hip of the loaded leg rising a little.
    shift_period = rng.uniform(3.0, 6.0) / sp
    shift = rng.uniform(0.015, 0.04) * np.sin(2 * np.pi * b.t / shift_period + rng.uniform(0, 2 * np.pi))
    b.root[:, 0] += shift
    b.pelvis[:, 2] = -_deg(60.0) * shift  # loaded hip up: the pelvis rolls toward the free leg
    b.spine[:, 2] = _deg(35.0) * shift  # the trunk rebalances over the hips
    b.root[:, 1] = STAND_HEIGHT - 0.005 - 0.2 * np.abs(shift)
    glance = attrs["style"] in ("glance", "shuffle_glance")
    shuffle = attrs["style"] in ("shuffle", "shuffle_glance")
    if glance:
        t0 = rng.uniform(0.5, max(0.6, duration - 2.0))
        look = rng.choice([-1.0, 1.0]) * _deg(rng.uniform(25.0, 50.0))
        hold = rng.uniform(0.4, 1.0)
        b.neck[:, 0] = _keys(b.t, [(t0, 0.0), (t0 + 0.5 / sp, look), (t0 + 0.5 / sp + hold, look),
                                   (t0 + 1.1 / sp + hold, 0.0)])
        b.spine[:, 0] = 0.25 * b.neck[:, 0]  # the shoulders follow the head a little
    if shuffle:
        i = int(rng.integers(2))
        t0 = rng.uniform(0.5, max(0.6, duration - 1.2))
        to = np.array([SIGN[i] * (FOOT_X[i] + rng.uniform(-0.03, 0.06)), rng.uniform(-0.08, 0.08)])
        _step(b, i, t0, t0 + rng.uniform(0.45, 0.7), to, lift=rng.uniform(0.02, 0.04))
    return b, "stand_idle", {"style": attrs["style"], "speed": attrs["speed"]}, False


# --------------------------------------------------------------------------------------------------
# Registry and public API
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Spec:
    build: Callable
    choices: dict  # attribute -> tuple of allowed values (the rng picks uniformly unless overridden)


_LR = ("left", "right")
_SPECS = {
    "walk": _Spec(_walk, {"direction": ("forward", "forward", "backward"), "speed": SPEEDS,
                          "count": tuple(range(1, 10))}),
    "run": _Spec(_run, {"speed": SPEEDS, "count": tuple(range(1, 14))}),
    "jump": _Spec(_jump, {"style": ("up", "forward"), "count": (1, 2, 3), "speed": SPEEDS}),
    "kick": _Spec(_kick, {"style": ("front", "side"), "side": _LR, "count": (1, 2, 3), "speed": SPEEDS}),
    "punch": _Spec(_punch, {"style": ("jab", "cross"), "side": _LR, "count": (1, 2, 3, 4), "speed": SPEEDS}),
    "wave": _Spec(_wave, {"side": ("left", "right", "both"), "speed": SPEEDS, "count": tuple(range(2, 13))}),
    "clap": _Spec(_clap, {"speed": SPEEDS, "count": tuple(range(2, 15))}),
    "raise_arms": _Spec(_raise_arms, {"style": ("up", "front", "side"), "side": ("both", "both", "left", "right"),
                                      "speed": SPEEDS}),
    "squat": _Spec(_squat, {"count": (1, 2, 3), "speed": SPEEDS}),
    "bow": _Spec(_bow, {"speed": SPEEDS}),
    "jumping_jacks": _Spec(_jumping_jacks, {"speed": SPEEDS, "count": tuple(range(1, 9))}),
    "side_step": _Spec(_side_step, {"direction": _LR, "speed": SPEEDS, "count": tuple(range(1, 9))}),
    "turn_around": _Spec(_turn_around, {"direction": _LR, "speed": SPEEDS}),
    "march": _Spec(_march, {"speed": SPEEDS, "count": tuple(range(1, 9))}),
    "throw": _Spec(_throw, {"side": _LR, "style": ("overarm",), "speed": SPEEDS}),
    "stretch": _Spec(_stretch, {"style": ("overhead", "side_bend"), "side": ("left", "right", "both"),
                                "speed": SPEEDS}),
    "stand": _Spec(_stand, {"style": ("still", "glance", "shuffle", "shuffle_glance"), "speed": ("normal",)}),
}
# Concepts in CONCEPTS without a generator here (e.g. slash, gesture, the DeepMimic-only ones) come from
# motion capture only; callers iterate PROCEDURAL_CONCEPTS, never CONCEPTS.
# Cyclic generators pick their own cycle count to fit the clip-length limits unless one is forced.
_OWN_COUNT = {"walk", "run", "wave", "clap", "jumping_jacks", "side_step", "march"}

PROCEDURAL_CONCEPTS: tuple[str, ...] = tuple(_SPECS)
_COMMON = ("heading", "position")  # world placement overrides accepted by every concept


def _resolve_attrs(concept: str, rng: np.random.Generator, overrides: dict) -> dict:
    spec = _SPECS[concept]
    for key, value in overrides.items():
        if key in _COMMON:
            continue
        if key not in spec.choices:
            raise ValueError(f"unknown attribute {key!r} for concept {concept!r}; known: {', '.join(spec.choices)}")
        if value not in spec.choices[key]:
            raise ValueError(f"bad value {value!r} for attribute {key!r} of {concept!r}; allowed: {spec.choices[key]}")
    attrs = {}
    for key, values in spec.choices.items():
        if key in overrides:
            attrs[key] = overrides[key]
        elif key == "count" and concept in _OWN_COUNT:
            attrs[key] = None
        else:
            attrs[key] = values[int(rng.integers(len(values)))]
    return attrs


def _add_idle(b: _Body, rng: np.random.Generator, cyclic: bool):
    """Breathing, a slow weight shift and small head / arm drift, so that still frames are not frozen.

    For cyclic clips every period is snapped to a whole fraction of the clip so the loop stays seamless.
    """
    duration = b.T / FPS

    def wave(period, amp):
        if cyclic:
            period = duration / max(1, round(duration / period))
        return amp * np.sin(2 * np.pi * b.t / period + rng.uniform(0, 2 * np.pi))

    breath = wave(rng.uniform(3.0, 4.5), 1.0)
    b.spine[:, 1] += _deg(1.2) * breath
    b.shrug += _deg(1.5) * breath[:, None]
    b.root[:, 0] += wave(rng.uniform(4.0, 7.0), rng.uniform(0.004, 0.012))
    b.neck[:, 0] += wave(rng.uniform(3.0, 6.0), _deg(rng.uniform(1.0, 4.0)))
    b.neck[:, 1] += wave(rng.uniform(3.0, 6.0), _deg(rng.uniform(0.5, 2.5)))
    for i in range(2):
        b.arm[:, i, 0] += wave(rng.uniform(2.5, 5.0), _deg(1.5))
        b.arm[:, i, 3] += wave(rng.uniform(2.5, 5.0), _deg(2.0))


def _place(joints: np.ndarray, heading: float, position) -> np.ndarray:
    """Turn the body-frame clip (T, 22, 3) by `heading` about +y and move it to `position` (x, z)."""
    yaw = np.full(joints.shape[:-1], heading)
    out = qrot(_qy(yaw), joints)
    out[..., 0] += position[0]
    out[..., 2] += position[1]
    return out


def body_frame_motion(concept: str, rng: np.random.Generator, **overrides):
    """(joints (T, 22, 3) in the body frame, fine label, attrs, cyclic) — `sample_motion` before placement."""
    if concept not in _SPECS:
        raise ValueError(f"unknown procedural concept {concept!r}; known: {', '.join(PROCEDURAL_CONCEPTS)}")
    attrs = _resolve_attrs(concept, rng, overrides)
    body, fine, out_attrs, cyclic = _SPECS[concept].build(rng, attrs)
    _add_idle(body, rng, cyclic)
    return _assemble(body), fine, out_attrs, cyclic


def sample_motion(concept: str, rng: np.random.Generator, *, source: str, **overrides) -> Motion:
    """A random clip of `concept` at a random heading and start position.

    overrides force attributes (e.g. side="left", style="front", speed="fast", count=2) and may give
    heading (radians) and position ((x, z) metres). Unknown concepts or attributes raise ValueError.
    """
    joints, fine, attrs, cyclic = body_frame_motion(concept, rng, **overrides)
    heading = float(overrides.get("heading", rng.uniform(-np.pi, np.pi)))
    position = overrides.get("position", rng.uniform(-0.5, 0.5, size=2))
    joints = _place(joints, heading, position)
    segment = Segment(concept=concept, fine=fine, start=0, end=joints.shape[0], attrs=attrs)
    return Motion(joints=joints.astype(np.float64), segments=[segment], source=source, real=False, cyclic=cyclic)
