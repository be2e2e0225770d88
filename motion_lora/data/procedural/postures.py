"""Whole-body postures and standing: squat, bow, stretch, and standing idle."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import (
    FPS,
)
from .body import _Body
from .gait import _step
from .rig import FOOT_X, REST_ARM, SIDE_NAMES, SIGN, STAND_HEIGHT, _deg
from .timing import _dedupe, _frames, _keys, _speed


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
