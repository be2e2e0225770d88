"""The rules read from the feet and legs: walk, run, jump, kick and squat.

Each concept has a `measure_<concept>(body) -> {quantity: float}` and a `decide_<concept>(quantities) -> bool`."""

from __future__ import annotations

import math

import numpy as np

from ...motion.skeleton import ANKLES, FPS, HIPS, KNEES
from .body import Body
from .signals import angle_deg, runs_of, smooth, speed_of
from .thresholds import (
    CONTACT_HEIGHT,
    JUMP_CLEARANCE,
    JUMP_MIN_FLIGHT_FRAMES,
    JUMP_MIN_RISE,
    JUMP_MIN_STANCE_FRAMES,
    JUMP_TAKEOFF_SYNC_S,
    KICK_MAX_ROOT_SPEED,
    KICK_MIN_KNEE,
    KICK_MIN_RAISE,
    KICK_MIN_SHIN,
    KICK_MIN_SPEED,
    KICK_MIN_TORSO_UP,
    KICK_SUPPORT_HEIGHT,
    KICK_WINDOW_S,
    PELVIS,
    RUN_MAX_DOUBLE_CONTACT,
    RUN_MIN_AIRBORNE,
    RUN_MIN_FLIGHTS,
    RUN_MIN_SPEED,
    SQUAT_CLEAR_OF_FLIGHT_S,
    SQUAT_FEET_PLANTED_S,
    SQUAT_MAX_KNEE,
    SQUAT_MIN_DROP,
    UP,
    UPRIGHT_COS,
    WALK_MAX_AIRBORNE,
    WALK_MIN_ALTERNATIONS,
    WALK_MIN_FORWARD_SHARE,
    WALK_MIN_SPEED,
    WALK_MIN_STANCE_FRAMES,
)


def _stance_alternations(b: Body, start: int = 0, end: int | None = None) -> tuple[int, int, int]:
    """Alternations of single-foot stances in [start, end), and the first/last frame of the stepping."""
    single = np.where(
        b.planted[start:end, 0] & ~b.planted[start:end, 1],
        0,
        np.where(b.planted[start:end, 1] & ~b.planted[start:end, 0], 1, -1),
    )
    stances = []  # (side, first, last)
    for side in (0, 1):
        for s, e in runs_of(single == side):
            if e - s >= WALK_MIN_STANCE_FRAMES:
                stances.append((side, s + start, e + start))
    stances.sort(key=lambda x: x[1])
    sides = [side for side, _, _ in stances]
    alternations = sum(1 for a, c in zip(sides[:-1], sides[1:]) if a != c)
    if not stances:
        return 0, 0, 0
    return alternations, stances[0][1], stances[-1][2]


def measure_walk(b: Body) -> dict:
    alternations, first, last = _stance_alternations(b)
    span = slice(first, max(last, first + 1))
    if last <= first:
        return {"stance_alternations": alternations, "advance_speed": 0.0, "forward_share": 0.0, "airborne_share": 0.0}
    velocity = np.zeros((b.T, 3))
    velocity[:, [0, 2]] = b.root_velocity
    along = b.local(velocity)[span]
    share = float(np.abs(along[:, 2]).sum() / max(np.abs(along[:, [0, 2]]).sum(), 1e-9))
    speed = float(b.root_speed[span].mean()) / b.leg
    return {
        "stance_alternations": alternations,
        "advance_speed": speed,
        "forward_share": share,
        "airborne_share": float(b.airborne[span].mean()),
    }


def decide_walk(q: dict) -> bool:
    steps = q["stance_alternations"] >= WALK_MIN_ALTERNATIONS and q["airborne_share"] <= WALK_MAX_AIRBORNE
    return steps and q["advance_speed"] >= WALK_MIN_SPEED and q["forward_share"] >= WALK_MIN_FORWARD_SHARE


def measure_run(b: Body) -> dict:
    moving = (b.root_speed >= RUN_MIN_SPEED * b.leg) & (b.torso_up >= UPRIGHT_COS)
    flights = runs_of(b.airborne & moving)
    # Strides: contacts between two flights that are (mostly) on one foot, as running lands one foot at a time.
    both_down = (b.foot_height < CONTACT_HEIGHT * b.leg).all(axis=1)
    planted = b.planted.any(axis=1)  # a real contact: some foot joint low and still (shaking feet never are)
    strides = sum(
        1
        for (_, e0), (s1, _) in zip(flights[:-1], flights[1:])
        if both_down[e0:s1].mean() <= RUN_MAX_DOUBLE_CONTACT and planted[e0:s1].any()
    )
    share = float(b.airborne[moving].mean()) if moving.any() else 0.0
    return {
        "flight_phases": len(flights),
        "one_foot_strides": strides,
        "top_speed": float(b.root_speed[moving].max()) / b.leg if moving.any() else 0.0,
        "airborne_share_moving": share,
    }


def decide_run(q: dict) -> bool:
    return (
        q["one_foot_strides"] >= RUN_MIN_FLIGHTS - 1
        and q["airborne_share_moving"] >= RUN_MIN_AIRBORNE
        and q["top_speed"] >= RUN_MIN_SPEED
    )


def measure_jump(b: Body) -> dict:
    low = b.foot_height  # (T, 2)
    clear = low.min(axis=1) > JUMP_CLEARANCE * b.leg
    stand = b.height[:, PELVIS][b.planted.all(axis=1)]
    standing = float(np.median(stand)) if len(stand) else float(np.median(b.height[:, PELVIS]))
    best = {
        "flight_frames": 0,
        "takeoff_gap_s": math.inf,
        "pelvis_rise": 0.0,
        "clearance": float(low.min(axis=1).max()) / b.leg,
    }
    for s, e in runs_of(clear):
        if e - s < JUMP_MIN_FLIGHT_FRAMES or b.torso_up[s] < UPRIGHT_COS:
            continue  # too short, or not leaving the floor on the feet (a roll, lying down)
        # When was each foot last planted (low and still) before this flight?
        touched = b.planted[:s]
        stance = [e1 - s1 for s1, e1 in runs_of(touched.all(axis=1))]
        if not touched.any(axis=0).all() or max(stance, default=0) < JUMP_MIN_STANCE_FRAMES:
            gap = math.inf  # no two-footed stance before the flight (the clip starts airborne, or feet only shake)
        else:
            last = [int(np.flatnonzero(touched[:, k])[-1]) for k in (0, 1)]
            gap = abs(last[0] - last[1]) / FPS
        rise = (float(b.height[s:e, PELVIS].max()) - standing) / b.leg
        candidate = {"flight_frames": e - s, "takeoff_gap_s": gap, "pelvis_rise": rise}
        if decide_jump({**best, **candidate}) or (
            not decide_jump(best) and (gap, -rise) < (best["takeoff_gap_s"], -best["pelvis_rise"])
        ):
            best.update(candidate)
    return best


def decide_jump(q: dict) -> bool:
    return (
        q["flight_frames"] >= JUMP_MIN_FLIGHT_FRAMES
        and q["takeoff_gap_s"] <= JUMP_TAKEOFF_SYNC_S
        and q["pelvis_rise"] >= JUMP_MIN_RISE
    )


def measure_kick(b: Body) -> dict:
    j = b.joints
    window = int(round(KICK_WINDOW_S * FPS))
    best = {
        "ankle_raise": 0.0,
        "knee_angle": 0.0,
        "shin_angle": 0.0,
        "torso_up": 1.0,
        "ankle_speed": 0.0,
        "root_speed": 0.0,
        "side": -1,
    }
    for k in (0, 1):
        support = 1 - k
        rest_frames = b.planted[:, k]
        rest = (
            float(np.median(b.height[rest_frames, ANKLES[k]]))
            if rest_frames.any()
            else float(np.percentile(b.height[:, ANKLES[k]], 10))
        )
        raise_ = (b.height[:, ANKLES[k]] - rest) / b.leg
        on_support = b.foot_height[:, support] < KICK_SUPPORT_HEIGHT * b.leg
        knee = angle_deg(j[:, HIPS[k]] - j[:, KNEES[k]], j[:, ANKLES[k]] - j[:, KNEES[k]])
        shin = angle_deg(j[:, ANKLES[k]] - j[:, KNEES[k]], np.broadcast_to(-UP, (b.T, 3)))
        speed = speed_of(j[:, ANKLES[k]]) / b.leg
        # Candidate peaks: frames on the support foot with the ankle high; score straight-and-high first.
        candidates = np.flatnonzero(on_support & (raise_ >= KICK_MIN_RAISE))
        if len(candidates) == 0:
            t = int(np.argmax(np.where(on_support, raise_, -np.inf))) if on_support.any() else int(np.argmax(raise_))
            candidates = np.array([t])
        for t in candidates:
            lo, hi = max(0, t - window), min(b.T, t + window + 1)
            q = {
                "ankle_raise": float(raise_[t]),
                "knee_angle": float(knee[t]),
                "shin_angle": float(shin[t]),
                "torso_up": float(b.torso_up[t]),
                "ankle_speed": float(speed[lo:hi].max()),
                "root_speed": float(b.root_speed[t]) / b.leg,
                "side": k,
            }
            if _kick_rank(q) > _kick_rank(best):
                best = q
    return best


def _kick_rank(q: dict) -> tuple:
    closeness = min(q["knee_angle"] / KICK_MIN_KNEE, 1.0) + min(q["shin_angle"] / KICK_MIN_SHIN, 1.0)
    return (
        decide_kick(q),
        closeness + min(q["ankle_raise"] / KICK_MIN_RAISE, 1.0) + min(q["ankle_speed"] / KICK_MIN_SPEED, 1.0),
    )


def decide_kick(q: dict) -> bool:
    leg_extended = q["knee_angle"] >= KICK_MIN_KNEE and q["shin_angle"] >= KICK_MIN_SHIN
    standing = q["torso_up"] >= KICK_MIN_TORSO_UP and q["root_speed"] <= KICK_MAX_ROOT_SPEED
    return q["ankle_raise"] >= KICK_MIN_RAISE and leg_extended and standing and q["ankle_speed"] >= KICK_MIN_SPEED


def measure_squat(b: Body) -> dict:
    j = b.joints
    pelvis = b.height[:, PELVIS] / b.leg
    knee = np.stack(
        [angle_deg(j[:, HIPS[k]] - j[:, KNEES[k]], j[:, ANKLES[k]] - j[:, KNEES[k]]) for k in (0, 1)], axis=1
    ).max(axis=1)
    both = b.planted.all(axis=1)
    near_flight = smooth(b.airborne.astype(float), 2 * SQUAT_CLEAR_OF_FLIGHT_S) > 0
    best = {"pelvis_drop": 0.0, "knee_angle": 180.0, "feet_planted_s": 0.0}
    # Each stretch with both feet planted, away from any flight, is a candidate squat: its lowest point
    # against the highest pelvis reached earlier with both feet down (the standing height).
    for s, e in runs_of(both & ~near_flight):
        t = s + int(np.argmin(pelvis[s:e]))
        standing = pelvis[: t + 1][both[: t + 1]].max()
        q = {"pelvis_drop": float(standing - pelvis[t]), "knee_angle": float(knee[t]), "feet_planted_s": (e - s) / FPS}
        if (decide_squat(q), q["pelvis_drop"]) > (decide_squat(best), best["pelvis_drop"]):
            best = q
    return best


def decide_squat(q: dict) -> bool:
    return (
        q["pelvis_drop"] >= SQUAT_MIN_DROP
        and q["knee_angle"] <= SQUAT_MAX_KNEE
        and q["feet_planted_s"] >= SQUAT_FEET_PLANTED_S
    )
