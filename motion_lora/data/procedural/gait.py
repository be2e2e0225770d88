"""Feet and the arm swing that goes with them: gait planning, single steps, the body's forward direction."""

from __future__ import annotations

from typing import Callable

import numpy as np

from .body import _Body
from .rig import ANKLE_HEIGHT, FOOT_LEN, FOOT_PITCH, FOOT_X, ROLL_PHASE, SIGN, TOE_OUT, _deg, _yaw_rotate
from .timing import _smoothstep


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
