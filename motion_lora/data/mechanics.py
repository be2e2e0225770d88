"""Body-part mechanics measured from a clip's own joints, for captions that say what a clip actually does.

`describe_segment(joints (T, 22, 3), segment) -> dict` measures, over the segment's frames:

* which limb moves most (left/right arm or leg, or both), how high its end joint goes (hand above the head,
  foot at waist height, ...) and which way it moves relative to the body (forward / sideways / backward / up);
* how the root travels relative to where the body faces (forward, backward, left, right) and how fast;
* how many repetitions the concept's characteristic signal shows (peaks of the kicking foot, of the waving
  hand's side-to-side swing, dips of the pelvis in a squat ...);
* how much the body turns, and to which side.

Everything is computed in the body frame given by the hips/shoulders "across" vector (as HumanML3D does), so
the facts do not depend on the clip's heading, and a mirrored clip (x negated, left/right joints swapped)
gives the same facts with left and right exchanged. Side words are the literal "left"/"right".
Conventions (docs/format.md): y up, metres, 20 fps, the person's left is +X when facing +Z; a turn to the left
is a positive rotation about +y.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from ..motion.skeleton import FPS, JOINT
from .clip import Segment

# Joint indices used here (HumanML3D 22-joint order).
PELVIS, HEAD, NECK, CHEST = JOINT["pelvis"], JOINT["head"], JOINT["neck"], JOINT["spine3"]
HIPS = {"left": JOINT["left_hip"], "right": JOINT["right_hip"]}
KNEES = {"left": JOINT["left_knee"], "right": JOINT["right_knee"]}
ANKLES = {"left": JOINT["left_ankle"], "right": JOINT["right_ankle"]}
SHOULDERS = {"left": JOINT["left_shoulder"], "right": JOINT["right_shoulder"]}
WRISTS = {"left": JOINT["left_wrist"], "right": JOINT["right_wrist"]}
END_JOINT = {"arm": WRISTS, "leg": ANKLES}
OTHER_SIDE = {"left": "right", "right": "left"}

# Thresholds (metres, m/s, degrees). Chosen on procedural and DeepMimic clips; see tests/test_mechanics.py.
FACING_SMOOTH_SIGMA = 3.0  # frames; the across vector jitters with arm swing and torso twist
MOVING_EXCURSION = 0.12  # a limb whose end joint never strays this far from its usual place is "still"
BOTH_RATIO = {"arm": 0.6, "leg": 0.7}  # the second limb travelling this share of the first's path means "both"
# One-limb actions: the other limb (a guard hand, the standing leg) moves too but is not "doing" the action.
ONE_LIMB_BOTH_RATIO = 0.85
ONE_LIMB_CONCEPTS = frozenset({"kick", "punch", "throw", "slash"})
NEUTRAL_DROP = {"arm": 0.5, "leg": 0.8}  # hand below the shoulder / ankle below the hip when hanging relaxed
HEIGHT_LEVELS = ("low", "knee", "waist", "chest", "shoulder", "head", "above_head")
FLIGHT_CLEARANCE = 0.05  # both ankles this far above their lowest point: the body is in the air
TRAVEL_MIN = 0.35  # net root displacement below this is "in place"
UP_DOMINANCE = 1.3  # vertical displacement this many times the horizontal one reads as "up"/"down"
TURN_MIN_DEG = 45.0
PEAK_PROMINENCE = 0.4  # a repetition must rise this share of the signal's range above its neighbours
PEAK_MIN_FRAMES = 4  # and be this many frames from the previous one (5 repetitions a second at most)
# Signal-range floor per repetition signal: wobbles smaller than this are not repetitions.
COUNT_MIN_RANGE = {"excursion": 0.15, "swing": 0.08, "height": 0.08, "closeness": 0.12}
# (slow below, fast above) for root speed of locomotion and peak end-joint speed of limb actions, m/s.
ROOT_SPEED_BANDS = {"walk": (0.9, 1.5), "run": (2.2, 3.6), "crawl": (0.25, 0.8), "side_step": (0.25, 0.5)}
LIMB_SPEED_BANDS = {"arm": (1.5, 4.5), "leg": (2.5, 6.0)}

# Concepts whose limb facts the captions use, and the kind of limb they are about.
CONCEPT_LIMB = {"kick": "leg", "punch": "arm", "wave": "arm", "raise_arms": "arm", "throw": "arm",
                "slash": "arm", "gesture": "arm", "clap": "arm", "stretch": "arm"}
# What a repetition of each concept looks like: (limb kind or None, signal name).
COUNT_SIGNAL = {"kick": ("leg", "excursion"), "punch": ("arm", "excursion"), "wave": ("arm", "swing"),
                "raise_arms": ("arm", "height"), "slash": ("arm", "excursion"), "throw": ("arm", "excursion"),
                "clap": (None, "closeness"), "squat": (None, "pelvis_dip"), "bow": (None, "head_dip"),
                "jump": (None, "flight"), "jumping_jacks": ("arm", "height")}
LOCOMOTION = frozenset(ROOT_SPEED_BANDS)


# --------------------------------------------------------------------------------------------------
# Body frame
# --------------------------------------------------------------------------------------------------


def body_axes(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(forward (T, 3), left (T, 3)): horizontal unit vectors of where the body faces and its left side.

    across = (r_hip - l_hip) + (r_shoulder - l_shoulder) points to the person's right; forward = up x across.
    """
    across = (joints[:, HIPS["right"]] - joints[:, HIPS["left"]]
              + joints[:, SHOULDERS["right"]] - joints[:, SHOULDERS["left"]])
    across = gaussian_filter1d(across, FACING_SMOOTH_SIGMA, axis=0, mode="nearest") if len(across) > 1 else across
    across[:, 1] = 0.0
    across /= np.maximum(np.linalg.norm(across, axis=-1, keepdims=True), 1e-9)
    forward = np.stack([across[:, 2], np.zeros(len(across)), -across[:, 0]], axis=-1)
    return forward, -across


def to_body_frame(joints: np.ndarray) -> np.ndarray:
    """(T, 22, 3) -> (T, 22, 3) as (left, up, forward) offsets from the pelvis's floor point, per frame."""
    forward, left = body_axes(joints)
    rel = joints - joints[:, PELVIS:PELVIS + 1] * np.array([1.0, 0.0, 1.0])
    return np.stack([np.einsum("tjc,tc->tj", rel, left), rel[..., 1], np.einsum("tjc,tc->tj", rel, forward)],
                    axis=-1)


def heading_angles(joints: np.ndarray) -> np.ndarray:
    """(T,) unwrapped heading in radians; increasing means turning to the left."""
    forward, _ = body_axes(joints)
    return np.unwrap(np.arctan2(forward[:, 0], forward[:, 2]))


# --------------------------------------------------------------------------------------------------
# Measurements (pure functions of body-frame joints)
# --------------------------------------------------------------------------------------------------


def _excursion(local: np.ndarray, joint: int) -> np.ndarray:
    """(T,) distance of a joint from its median (usual) place in the body frame."""
    path = local[:, joint]
    return np.linalg.norm(path - np.median(path, axis=0), axis=-1)


def _range(excursion: np.ndarray) -> float:
    # A high percentile rather than the max: one glitchy frame should not make a limb "the moving one".
    return float(np.percentile(excursion, 98)) if len(excursion) else 0.0


def _path_length(local: np.ndarray, joint: int) -> float:
    """Distance (m) a joint travels in the body frame: repeated motion counts each time, a held pose once."""
    path = gaussian_filter1d(local[:, joint], 1.0, axis=0, mode="nearest")
    return float(np.linalg.norm(np.diff(path, axis=0), axis=-1).sum())


def _neutral(kind: str, local: np.ndarray, side: str) -> np.ndarray:
    """(T, 3) where the end joint hangs in a relaxed stance: below the shoulder (arm) or the hip (leg)."""
    top = local[:, SHOULDERS[side]] if kind == "arm" else local[:, HIPS[side]]
    return top - np.array([0.0, NEUTRAL_DROP[kind], 0.0])


def _height_level(kind: str, side: str, world: np.ndarray, t: int) -> str:
    """How high the end joint is at frame t, in words of the body itself (head, shoulder, waist, knee ...)."""
    y = world[t, :, 1]
    if kind == "arm":
        hand = y[WRISTS[side]]
        if hand >= y[HEAD] + 0.05:
            return "above_head"
        if hand >= y[NECK] - 0.02:
            return "head"
        if hand >= y[SHOULDERS[side]] - 0.12:
            return "shoulder"
        return "chest" if hand >= y[PELVIS] + 0.15 else "waist"
    foot = y[ANKLES[side]]
    if foot >= y[SHOULDERS[side]] - 0.1:
        return "head"
    if foot >= y[PELVIS] + 0.15:
        return "chest"
    if foot >= y[PELVIS] - 0.12:
        return "waist"
    return "knee" if foot >= y[KNEES[OTHER_SIDE[side]]] - 0.05 else "low"


def _direction(side: str, displacement: np.ndarray) -> str:
    """Way a limb moved at its peak: displacement (left, up, forward) from its usual place."""
    lateral, up, fwd = displacement
    outward = lateral if side == "left" else -lateral
    if abs(up) > UP_DOMINANCE * np.hypot(lateral, fwd):
        return "up" if up > 0 else "down"
    if abs(lateral) > abs(fwd):
        return "sideways" if outward > 0 else "across"
    return "forward" if fwd > 0 else "backward"


def _count_peaks(signal: np.ndarray, min_range: float) -> int | None:
    """Number of repetitions in a signal: peaks of at least PEAK_PROMINENCE of its range; None if flat."""
    if len(signal) < 3:
        return None
    smooth = gaussian_filter1d(signal, 1.0, mode="nearest")
    # Measured from the usual (median) value, not the minimum: a punch starts from a guard, not from rest.
    baseline = float(np.median(smooth))
    span = float(smooth.max()) - baseline
    if span < min_range:
        return None
    # Pad with the baseline so a peak at the very start or end of the segment still counts.
    padded = np.concatenate([[baseline], smooth, [baseline]])
    peaks, _ = find_peaks(padded, prominence=PEAK_PROMINENCE * span, distance=PEAK_MIN_FRAMES)
    return int(len(peaks)) or None


def _repetition_reach(kind: str, local: np.ndarray, side: str) -> np.ndarray:
    """(T,) signal that peaks once per repetition of a limb action.

    Arms: horizontal distance of the wrist from the shoulder (a punch or throw reaches out and comes back to a
    guard; the hand hanging at rest does not count). Legs: distance of the ankle from where it hangs relaxed.
    """
    if kind == "arm":
        offset = local[:, WRISTS[side]] - local[:, SHOULDERS[side]]
        return np.hypot(offset[:, 0], offset[:, 2])
    return np.linalg.norm(local[:, ANKLES[side]] - _neutral("leg", local, side), axis=-1)


def _limb_facts(kind: str, local: np.ndarray, world: np.ndarray, both_ratio: float) -> dict:
    """Facts about the arms or legs: which side moves, how high, which way, how fast, how many peaks."""
    joints = END_JOINT[kind]
    # How far the end joint gets from where it usually is, or from hanging relaxed (a hand held up to wave
    # all clip long barely leaves its usual place, but it is far from hanging).
    reach = {s: np.linalg.norm(local[:, joints[s]] - _neutral(kind, local, s), axis=-1) for s in ("left", "right")}
    spread = {s: max(_range(_excursion(local, joints[s])), _range(reach[s])) for s in ("left", "right")}
    path = {s: _path_length(local, joints[s]) for s in ("left", "right")}
    main = "left" if path["left"] >= path["right"] else "right"
    other = OTHER_SIDE[main]
    if spread[main] < MOVING_EXCURSION:
        return {"side": None, "activity": path}
    side = "both" if path[other] >= both_ratio * path[main] and spread[other] >= MOVING_EXCURSION else main
    # The peak is where the end joint is farthest from hanging relaxed: a punch's full reach, a kick's top.
    peak = int(np.argmax(reach[main]))
    base = SHOULDERS[main] if kind == "arm" else HIPS[main]
    velocity = np.linalg.norm(np.diff(world[:, joints[main]], axis=0), axis=-1) * FPS
    heights = [_height_level(kind, s, world, int(np.argmax(local[:, joints[s], 1])))
               for s in (("left", "right") if side == "both" else (main,))]
    return {
        "side": side,
        "activity": path,
        "height": max(heights, key=HEIGHT_LEVELS.index),
        "direction": _direction(main, local[peak, joints[main]] - local[peak, base]),
        "peak_speed": float(np.percentile(velocity, 98)) if len(velocity) else 0.0,
        "count": _count_peaks(_repetition_reach(kind, local, main), COUNT_MIN_RANGE["excursion"]),
    }


def _swing_count(local: np.ndarray, side: str) -> int | None:
    """Side-to-side swings of a raised hand (a wave): peaks of its lateral position while above the shoulder."""
    sides = ("left", "right") if side == "both" else (side,)
    counts = []
    for s in sides:
        hand, shoulder = local[:, WRISTS[s]], local[:, SHOULDERS[s]]
        raised = hand[:, 1] > shoulder[:, 1] - 0.1
        if raised.sum() < 6:
            continue
        lateral = hand[raised, 0]
        counts.append(_count_peaks(lateral - lateral.min(), COUNT_MIN_RANGE["swing"]))
    counts = [c for c in counts if c]
    return max(counts) if counts else None


def _flight_count(world: np.ndarray) -> int | None:
    """Jumps: runs of at least two frames with both ankles clearly off the ground."""
    ankles = world[:, [ANKLES["left"], ANKLES["right"]], 1]  # (T, 2)
    airborne = (ankles.min(axis=1) - ankles.min()) > FLIGHT_CLEARANCE
    starts = np.flatnonzero(np.diff(np.concatenate([[0], airborne.astype(int), [0]])) == 1)
    ends = np.flatnonzero(np.diff(np.concatenate([[0], airborne.astype(int), [0]])) == -1)
    return int(((ends - starts) >= 2).sum()) or None


def _repetitions(concept: str, local: np.ndarray, world: np.ndarray, limbs: dict) -> int | None:
    kind, signal = COUNT_SIGNAL.get(concept, (None, None))
    if signal is None:
        return None
    if signal == "excursion":
        return limbs[kind].get("count")
    if signal == "swing":
        return _swing_count(local, limbs["arm"]["side"]) if limbs["arm"]["side"] else None
    if signal == "height":
        side = limbs["arm"]["side"]
        if side is None:
            return None
        joints = [WRISTS[s] for s in (("left", "right") if side == "both" else (side,))]
        return _count_peaks(local[:, joints, 1].mean(axis=1), COUNT_MIN_RANGE["height"])
    if signal == "closeness":
        gap = np.linalg.norm(world[:, WRISTS["left"]] - world[:, WRISTS["right"]], axis=-1)
        return _count_peaks(-gap, COUNT_MIN_RANGE["closeness"])
    if signal == "flight":
        return _flight_count(world)
    pelvis_y, head_y = world[:, PELVIS, 1], world[:, HEAD, 1]
    series = {"pelvis_dip": -pelvis_y, "head_dip": -(head_y - pelvis_y)}[signal]
    return _count_peaks(series, COUNT_MIN_RANGE["height"])


def _band(value: float, bands: tuple[float, float]) -> str:
    slow, fast = bands
    return "slow" if value < slow else "fast" if value > fast else "normal"


def _travel(world: np.ndarray) -> tuple[str | None, float, float]:
    """(direction relative to facing or None when in place, net distance m, mean ground speed m/s)."""
    forward, left = body_axes(world)
    step = np.diff(world[:, PELVIS] * np.array([1.0, 0.0, 1.0]), axis=0)  # (T-1, 3)
    fwd = float(np.einsum("tc,tc->", step, forward[:-1]))
    lat = float(np.einsum("tc,tc->", step, left[:-1]))
    distance = float(np.hypot(fwd, lat))
    speed = float(np.linalg.norm(step, axis=-1).sum()) * FPS / max(len(step), 1)
    if distance < TRAVEL_MIN:
        return None, distance, speed
    if abs(fwd) >= abs(lat):
        return ("forward" if fwd > 0 else "backward"), distance, speed
    return ("left" if lat > 0 else "right"), distance, speed


def describe_segment(joints: np.ndarray, segment: Segment) -> dict:
    """Measured facts of `segment` in a clip's joints (T, 22, 3); heading-invariant, mirror-consistent.

    Returns a dict with
      limb: "left_arm" / "right_leg" / "both_arms" / ... or None (nothing moves much) — the limb that moves most;
      arm, leg: per limb kind {"side", "activity", "height", "direction", "peak_speed", "count"} (side None
        when that kind barely moves; the other keys are then absent);
      travel: "forward" / "backward" / "left" / "right" / None (in place), distance (m), ground_speed (m/s);
      turn: "left" / "right" / None, turn_degrees (signed, + = left);
      count: repetitions of the concept's characteristic movement or None;
      speed: "slow" / "normal" / "fast" or None when the concept has no speed scale here;
      frames: number of frames measured.
    """
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[1:] != (22, 3):
        raise ValueError(f"describe_segment needs joints of shape (T, 22, 3), got {joints.shape}")
    if not np.isfinite(joints).all():
        raise ValueError("describe_segment got non-finite joint positions")
    start, end = max(0, segment.start), min(segment.end, len(joints))
    if end - start < 2:
        raise ValueError(f"segment [{segment.start}, {segment.end}) has fewer than 2 frames in a clip of "
                         f"{len(joints)} frames")
    world = joints[start:end]
    local = to_body_frame(world)
    one_limb = segment.concept in ONE_LIMB_CONCEPTS
    limbs = {kind: _limb_facts(kind, local, world, ONE_LIMB_BOTH_RATIO if one_limb else BOTH_RATIO[kind])
             for kind in ("arm", "leg")}
    travel, distance, ground_speed = _travel(world)
    heading = heading_angles(world)
    turn_deg = float(np.degrees(heading[-1] - heading[0]))
    concept = segment.concept

    moving = [(max(limbs[k]["activity"].values()), k) for k in ("arm", "leg") if limbs[k]["side"]]
    limb = None
    if moving:
        kind = max(moving)[1]
        limb = f"both_{kind}s" if limbs[kind]["side"] == "both" else f"{limbs[kind]['side']}_{kind}"

    if concept in LOCOMOTION:
        speed = _band(ground_speed, ROOT_SPEED_BANDS[concept])
    elif concept in CONCEPT_LIMB and limbs[CONCEPT_LIMB[concept]]["side"]:
        speed = _band(limbs[CONCEPT_LIMB[concept]]["peak_speed"], LIMB_SPEED_BANDS[CONCEPT_LIMB[concept]])
    else:
        speed = None
    return {
        "limb": limb,
        "arm": limbs["arm"],
        "leg": limbs["leg"],
        "travel": travel,
        "distance": distance,
        "ground_speed": ground_speed,
        "turn": None if abs(turn_deg) < TURN_MIN_DEG else ("left" if turn_deg > 0 else "right"),
        "turn_degrees": turn_deg,
        "count": _repetitions(concept, local, world, limbs),
        "speed": speed,
        "frames": end - start,
    }
