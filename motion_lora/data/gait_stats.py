"""Kinematic measurements of kicks, punches, walks and runs, for calibrating procedural motion on real mocap.

Every function takes joints (T, 22, 3) in metres, y up, at 20 fps (the HumanML3D layout) and returns plain
numbers. Nothing depends on where the person stands or which way they face: only heights, distances,
angles between bones (or against the trunk's own axis) and speeds are used.
Heights are measured above the clip's floor, the lowest point any foot joint reaches in the clip, so a clip
need not be put on the floor first. Compare clips on the same skeleton: retarget real clips to the reference
bone lengths (`skeleton.retarget`) before measuring, as the feature extraction does.

A clip can hold several kicks or punches; the `*_events` functions find each one and measure it, so a take
with five kicks gives five rows. `REFERENCE_RANGES` holds the ranges measured on real motion capture.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ..motion.skeleton import ANKLES, ELBOWS, FEET, FOOT_JOINTS, FPS, HIPS, JOINT, KNEES, SHOULDERS, WRISTS

SIDES = ("left", "right")
PELVIS, NECK = JOINT["pelvis"], JOINT["neck"]

# A foot is on the floor when its ankle or toe is this close to the lowest that joint gets in the clip and
# moving slower than this (a planted foot rolls over the toe slowly; a swinging foot moves at 2-3x body speed).
CONTACT_HEIGHT_M = 0.05
CONTACT_SPEED_MPS = 0.8
# A kick: the foot leaves the floor (ankle more than LIFTOFF above its standing height) and the ankle peaks
# at least KICK_MIN_PEAK above the floor. Knee-high steps, marching and stumbles stay below that.
KICK_LIFTOFF_M = 0.05
KICK_MIN_PEAK_M = 0.35
# The plain kick check: one foot on the floor, the other ankle this high, its knee this straight (interior
# angle hip-knee-ankle; 180 = straight). A raised bent knee (march, chamber) is not a kick yet.
KICK_CHECK_ANKLE_M = 0.35
KICK_CHECK_KNEE_DEG = 150.0
# A punch: the arm nearly straight (shoulder-wrist distance over arm length) and raised from the trunk's
# downward axis by at least this angle. A hanging arm is straight but not raised; a guard is raised but bent.
PUNCH_MIN_REACH = 0.92  # an elbow opened past ~135 degrees
PUNCH_MIN_RAISE_DEG = 60.0
# Touch-downs closer than this are one contact flickering on and off (mocap noise), not two steps.
MIN_STEP_S = 0.2


# --------------------------------------------------------------------------------------------------
# Per-frame building blocks
# --------------------------------------------------------------------------------------------------

def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3), (..., 3) -> (...,) angle between two vectors in degrees."""
    cos = (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def floor_height(joints: np.ndarray) -> float:
    """The clip's floor: the lowest height any foot joint reaches (real clips need not start on y = 0)."""
    return float(joints[:, list(FOOT_JOINTS), 1].min())


def heights(joints: np.ndarray) -> np.ndarray:
    """(T, 22, 3) -> (T, 22) joint heights above the clip's floor."""
    return joints[..., 1] - floor_height(joints)


def knee_angle(joints: np.ndarray) -> np.ndarray:
    """(T, 2) interior knee angle hip-knee-ankle in degrees, [left, right]; 180 is a straight leg."""
    out = [180.0 - _angle_deg(joints[:, KNEES[i]] - joints[:, HIPS[i]], joints[:, ANKLES[i]] - joints[:, KNEES[i]])
           for i in range(2)]
    return np.stack(out, axis=-1)


def elbow_angle(joints: np.ndarray) -> np.ndarray:
    """(T, 2) interior elbow angle shoulder-elbow-wrist in degrees; 180 is a straight arm."""
    out = [180.0 - _angle_deg(joints[:, ELBOWS[i]] - joints[:, SHOULDERS[i]], joints[:, WRISTS[i]] - joints[:, ELBOWS[i]])
           for i in range(2)]
    return np.stack(out, axis=-1)


def hip_angle(joints: np.ndarray) -> np.ndarray:
    """(T, 2) how far each thigh is raised from the trunk's downward axis, in degrees (0 = standing).

    The trunk axis runs neck -> pelvis, so leaning does not count as a raised leg; flexion (front kick) and
    abduction (side kick) both raise the thigh, and a roundhouse mixes them, so one angle covers all kicks.
    """
    down = joints[:, PELVIS] - joints[:, NECK]  # (T, 3)
    return np.stack([_angle_deg(joints[:, KNEES[i]] - joints[:, HIPS[i]], down) for i in range(2)], axis=-1)


def speed(points: np.ndarray) -> np.ndarray:
    """(T, ..., 3) positions -> (T-1, ...) speed in m/s."""
    return np.linalg.norm(np.diff(points, axis=0), axis=-1) * FPS


def foot_contact(joints: np.ndarray) -> np.ndarray:
    """(T, 2) bool: each foot on the floor — its ankle or its toe both low and slow.

    Low: within CONTACT_HEIGHT_M of the lowest that joint gets in the clip (mocap markers sit a few
    centimetres off the floor, differently per foot). Slow: under CONTACT_SPEED_MPS. Height alone is not
    enough: in a walk the toe skims the floor by a centimetre or two in swing, but it moves fast.
    """
    h = joints[..., 1]
    v = np.linalg.norm(np.gradient(joints, axis=0), axis=-1) * FPS  # (T, 22) central-difference speed
    out = []
    for i in range(2):
        planted = [(h[:, j] < h[:, j].min() + CONTACT_HEIGHT_M) & (v[:, j] < CONTACT_SPEED_MPS) for j in (ANKLES[i], FEET[i])]
        out.append(planted[0] | planted[1])
    return np.stack(out, axis=-1)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(T,) bool -> [start, end) frame ranges where it is True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


# --------------------------------------------------------------------------------------------------
# Kicks
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class KickStats:
    side: str
    duration_s: float  # foot off the floor: lift-off to touch-down
    chamber_knee_deg: float  # the tightest knee angle before the peak: how far the leg folds up first
    chamber_knee_height_m: float  # knee height at that moment (a real chamber lifts the knee high)
    extension_s: float  # from the chamber (tightest knee) to the highest foot: the snap out
    retraction_s: float  # from the highest foot back to the floor
    peak_foot_height_m: float  # ankle height at the top of the kick
    knee_at_peak_deg: float  # knee angle at the top (180 = straight leg)
    hip_at_peak_deg: float  # thigh raised from the trunk axis at the top
    peak_foot_speed_mps: float  # fastest ankle speed during the kick


def kick_events(joints: np.ndarray) -> list[KickStats]:
    """Every kick in the clip, measured. A kick is one stretch of a foot off the floor that peaks high."""
    h = heights(joints)
    knee, hip = knee_angle(joints), hip_angle(joints)
    ankle_speed = speed(joints[:, list(ANKLES)])  # (T-1, 2)
    out = []
    for i in range(2):
        ankle_h = h[:, ANKLES[i]]
        stand = np.percentile(ankle_h, 5)  # the ankle's height when the foot is down
        for start, end in _runs(ankle_h > stand + KICK_LIFTOFF_M):
            peak = start + int(np.argmax(ankle_h[start:end]))
            if ankle_h[peak] < KICK_MIN_PEAK_M:
                continue
            chamber = start + int(np.argmin(knee[start:peak + 1, i]))
            out.append(KickStats(
                side=SIDES[i],
                duration_s=(end - start) / FPS,
                chamber_knee_deg=float(knee[chamber, i]),
                chamber_knee_height_m=float(h[chamber, KNEES[i]]),
                extension_s=(peak - chamber) / FPS,
                retraction_s=(end - peak) / FPS,
                peak_foot_height_m=float(ankle_h[peak]),
                knee_at_peak_deg=float(knee[peak, i]),
                hip_at_peak_deg=float(hip[peak, i]),
                peak_foot_speed_mps=float(ankle_speed[max(start - 1, 0):end, i].max()),
            ))
    return out


def kick_pose_frames(joints: np.ndarray) -> np.ndarray:
    """(T,) bool: standing on one foot, the other ankle raised high and its knee nearly straight."""
    h = heights(joints)
    contact = foot_contact(joints)
    knee = knee_angle(joints)
    frames = np.zeros(len(joints), dtype=bool)
    for i in range(2):
        raised = (h[:, ANKLES[i]] > KICK_CHECK_ANKLE_M) & (knee[:, i] > KICK_CHECK_KNEE_DEG)
        frames |= raised & contact[:, 1 - i] & ~contact[:, i]
    return frames


def passes_kick_check(joints: np.ndarray) -> bool:
    """The plain kinematic kick check: some frame stands on one foot with the other leg raised and straight."""
    return bool(kick_pose_frames(joints).any())


# --------------------------------------------------------------------------------------------------
# Punches
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class PunchStats:
    side: str
    duration_s: float  # the arm beyond half its extension: out, any hold, and back
    peak_wrist_speed_mps: float  # fastest wrist speed on the way out
    reach: float  # shoulder-wrist distance at full extension over the arm's length (1 = straight arm)
    elbow_at_peak_deg: float  # elbow angle at full extension (180 = straight)


def arm_reach(joints: np.ndarray) -> np.ndarray:
    """(T, 2) shoulder-wrist distance over the arm's length (upper arm + forearm, from frame 0); 1 = straight."""
    out = []
    for i in range(2):
        length = np.linalg.norm(joints[0, ELBOWS[i]] - joints[0, SHOULDERS[i]]) + np.linalg.norm(joints[0, WRISTS[i]] - joints[0, ELBOWS[i]])
        out.append(np.linalg.norm(joints[:, WRISTS[i]] - joints[:, SHOULDERS[i]], axis=-1) / length)
    return np.stack(out, axis=-1)


def arm_raise(joints: np.ndarray) -> np.ndarray:
    """(T, 2) angle of the shoulder->wrist line from the trunk's downward axis, degrees (hanging arm ~ 10).

    Trunk-relative rather than "ahead along the facing": a cross or a lunging punch turns the shoulders by
    45 degrees or more, so the fist is not ahead of the body's facing, yet the arm is raised and straight.
    """
    down = joints[:, PELVIS] - joints[:, NECK]
    return np.stack([_angle_deg(joints[:, WRISTS[i]] - joints[:, SHOULDERS[i]], down) for i in range(2)], axis=-1)


def punch_events(joints: np.ndarray) -> list[PunchStats]:
    """Every punch in the clip, measured: a stretch of the arm raised and nearly straight.

    Its extent is the full width at half height of the reach: the frames (arm still raised) where the reach
    is more than halfway from its lowest value within a second around the punch (guard or rest) to the peak.
    The fist is fastest just before the arm straightens, so the peak speed is looked for in the half second
    before the peak.
    """
    reach, raised = arm_reach(joints), arm_raise(joints)
    elbow = elbow_angle(joints)
    wrist_speed = speed(joints[:, list(WRISTS)])  # (T-1, 2); row t is the step from frame t to t + 1
    out = []
    for i in range(2):
        r = reach[:, i]
        up = raised[:, i] > PUNCH_MIN_RAISE_DEG
        for start, end in _runs((r > PUNCH_MIN_REACH) & up):
            peak = start + int(np.argmax(r[start:end]))
            half = 0.5 * (r[peak] + r[max(peak - FPS, 0):peak + FPS + 1].min())
            a, b = peak, peak
            while a > 0 and r[a - 1] > half and up[a - 1]:
                a -= 1
            while b < len(r) - 1 and r[b + 1] > half and up[b + 1]:
                b += 1
            lo = max(peak - FPS // 2, 0)
            out.append(PunchStats(
                side=SIDES[i],
                duration_s=(b - a + 1) / FPS,
                peak_wrist_speed_mps=float(wrist_speed[lo:max(peak, lo + 1), i].max()),
                reach=float(r[peak]),
                elbow_at_peak_deg=float(elbow[peak, i]),
            ))
    return out


# --------------------------------------------------------------------------------------------------
# Walks and runs
# --------------------------------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class GaitStats:
    speed_mps: float  # pelvis travel (horizontal, straight line) from the first to the last touch-down, per second
    cadence_spm: float  # steps (touch-downs of either foot) per minute
    stride_m: float  # distance between successive touch-downs of the same foot (NaN if no foot lands twice)
    pelvis_height_m: float  # mean pelvis height above the floor
    pelvis_bob_m: float  # vertical pelvis oscillation, 5th to 95th percentile
    flight_fraction: float  # share of frames with neither foot on the floor (0 for a walk)


def touchdowns(joints: np.ndarray) -> list[list[int]]:
    """Per foot, the frames where it lands (contact starts), ignoring flicker shorter than MIN_STEP_S."""
    contact = foot_contact(joints)
    out = []
    for i in range(2):
        starts = []
        for start, end in _runs(contact[:, i]):
            if starts and start - starts[-1] < MIN_STEP_S * FPS:
                continue
            if start > 0:  # a contact already running at frame 0 is not a landing we saw
                starts.append(int(start))
        out.append(starts)
    return out


def gait_stats(joints: np.ndarray) -> GaitStats:
    """Walk / run measures of a clip with at least two steps (loop a short cyclic clip first)."""
    T = len(joints)
    pelvis = joints[:, PELVIS]
    h = heights(joints)[:, PELVIS]
    downs = touchdowns(joints)
    steps = sorted(downs[0] + downs[1])
    if len(steps) < 2:
        raise ValueError(f"gait_stats needs at least two touch-downs, found {len(steps)} in {T} frames")
    cadence = 60.0 * (len(steps) - 1) / ((steps[-1] - steps[0]) / FPS)
    strides = [np.linalg.norm(joints[b, ANKLES[i], [0, 2]] - joints[a, ANKLES[i], [0, 2]])
               for i in range(2) for a, b in zip(downs[i][:-1], downs[i][1:])]
    contact = foot_contact(joints)
    return GaitStats(
        # Between the first and last touch-down: real takes start and end standing, which is not walking speed.
        speed_mps=float(np.linalg.norm(pelvis[steps[-1], [0, 2]] - pelvis[steps[0], [0, 2]]) / ((steps[-1] - steps[0]) / FPS)),
        cadence_spm=float(cadence),
        stride_m=float(np.median(strides)) if strides else float("nan"),
        pelvis_height_m=float(h.mean()),
        pelvis_bob_m=float(np.percentile(h, 95) - np.percentile(h, 5)),
        flight_fraction=float((~contact.any(axis=-1)).mean()),
    )


def as_dict(stats) -> dict:
    return asdict(stats)


# --------------------------------------------------------------------------------------------------
# Real reference ranges: (min, max) of each measure over real motion capture, retargeted to the reference
# skeleton. Measured by `python -m benchmarks.calibration.procedural` (--takes 3) on the DeepMimic clips of the pybullet
# wheel (kick, spinkick, punch, walk, run) and the Bandai Namco Research Motion dataset (kick: 1 take, 3 kicks;
# punch: 2 takes, 10 punches; walk: 51 takes, run: 36 takes, up to 3 per style and part). Only these summary
# numbers are kept here, rounded outward; no data.
# --------------------------------------------------------------------------------------------------

REFERENCE_RANGES: dict[str, dict[str, tuple[float, float]]] = {
    "kick": {
        "duration_s": (0.60, 0.95),
        "chamber_knee_deg": (75.5, 96.0),
        "chamber_knee_height_m": (0.65, 1.15),
        "extension_s": (0.15, 0.20),
        "retraction_s": (0.30, 0.55),
        "peak_foot_height_m": (1.00, 1.75),
        "knee_at_peak_deg": (163.5, 180.0),
        "hip_at_peak_deg": (52.0, 114.0),
        "peak_foot_speed_mps": (6.8, 10.9),
    },
    "punch": {
        "duration_s": (0.20, 0.90),
        "peak_wrist_speed_mps": (3.35, 6.85),
        "reach": (0.985, 1.0),
        "elbow_at_peak_deg": (161.5, 180.0),
    },
    "walk": {
        "speed_mps": (0.38, 1.95),
        "cadence_spm": (61.0, 152.0),
        "stride_m": (0.69, 1.74),
        "pelvis_height_m": (0.84, 0.935),
        "pelvis_bob_m": (0.017, 0.112),
        "flight_fraction": (0.0, 0.012),
    },
    "run": {
        "speed_mps": (1.21, 3.88),
        "cadence_spm": (126.0, 200.0),
        "stride_m": (1.07, 3.46),
        "pelvis_height_m": (0.81, 0.936),
        "pelvis_bob_m": (0.046, 0.212),
        "flight_fraction": (0.0, 0.62),
    },
}
