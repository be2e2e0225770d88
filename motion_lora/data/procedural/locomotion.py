"""Generators that travel: walk, run, march, side step, turn around. Each takes (rng, attrs) and returns
(body, fine label, attrs, cyclic)."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import (
    FPS,
)
from .body import _Body
from .gait import _body_forward, _gait, _swing_arms
from .rig import REST_ARM, STAND_HEIGHT, _deg
from .timing import _cycle_frames, _frames, _keys, _speed


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
