"""Arm strikes: punch (jab, cross) from a fighting guard, and the overarm throw."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import (
    SHOULDERS,
)
from .body import _assemble, _Body, _rest_hands, _unit
from .gait import _step
from .rig import FOOT_X, FOREARM, REST_ARM, SIDE_NAMES, SIGN, STAND_HEIGHT, UPPER_ARM, _deg
from .timing import _dedupe, _frames, _keys, _speed


def _guard_hand(root_y, s):
    """Wrist target in front of the chin for a fighting guard (body frame)."""
    return np.array([s * 0.14, root_y + 0.45, 0.22])


def _punch(rng, attrs):
    # Calibrated on real punches (benchmarks/calibration/procedural.py): the fist draws back, drives out at 3.5-7 m/s, the
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
