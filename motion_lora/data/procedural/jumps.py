"""Generators that leave the floor with both feet: jump, jumping jacks."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import (
    FPS,
)
from .body import _Body
from .rig import ANKLE_HEIGHT, FOOT_X, REST_ARM, SIGN, STAND_HEIGHT, TOE_OUT, _deg
from .timing import _cycle_frames, _dedupe, _frames, _keys, _smoothstep, _speed


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
