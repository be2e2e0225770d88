"""The kick generator (front and side kicks) and the hip position it aims from."""

from __future__ import annotations

import numpy as np

from ...motion.quaternion import qrot
from ...motion.skeleton import (
    HIPS,
)
from .body import _Body, _unit
from .rig import (
    ANKLE_HEIGHT,
    FOOT_PITCH,
    FOOT_X,
    PROC_OFFSETS,
    REST_ARM,
    SHIN,
    SIDE_NAMES,
    SIGN,
    STAND_HEIGHT,
    THIGH,
    TOE_OUT,
    Y_AXIS,
    _deg,
    _euler,
)
from .timing import _dedupe, _frames, _keys, _speed


def _hip_position(root: np.ndarray, pelvis: np.ndarray, i: int) -> np.ndarray:
    """(T, 3) root, (T, 3) pelvis angles -> (T, 3) body-frame position of hip joint i."""
    return root + qrot(_euler(pelvis), np.broadcast_to(PROC_OFFSETS[HIPS[i]], root.shape))


def _kick(rng, attrs):
    # Calibrated on real kicks (benchmarks/calibration/procedural.py): the foot leaves the floor for ~0.6-0.95 s, the
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
