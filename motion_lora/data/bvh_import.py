"""Read BVH motion capture into our 22 joints: (T, 22, 3) metres, y up, 20 fps, on the floor.

    from motion_lora.data.bvh_import import bvh_to_joints, read_bvh
    joints = bvh_to_joints("walk.bvh")                 # (T, 22, 3) float64
    motion = read_bvh("walk.bvh", fps_in=120, scale=0.01)   # + what was detected (units, skeleton, up axis)

Why bvhio: we tried `bvhio` (1.5.4) and `pybvh` (0.9.0) on the Bandai Namco files and on our own export.
pybvh reads our export (to 5e-7 m) but refuses every Bandai file: "pybvh does not model position channels on
non-root joints", and Bandai gives all 22 joints 6 channels. bvhio reads both, with each joint's own channel
order applied as intrinsic rotations (against an independent BVH-spec forward kinematics: 4e-7 m on a Bandai
walk, 5e-7 m on our export). We take its parsed local poses and run the kinematics in numpy (3x faster).

Pipeline: check the file's structure (bvhio loops forever on a file cut short, so truncation is caught first)
-> bvhio parses joints, channels and per-frame local poses (translation channels replace the OFFSET, as in
Bandai's files, where they equal it) -> resample the local poses to 20 fps (slerp rotations, lerp
translations) -> forward kinematics -> our 22 joints through a body map (below) -> file units to metres
(detected from the leg length, or `scale`) -> a proper rotation that makes the detected up axis +y -> a
handedness check -> the lowest joint of the clip on y = 0. Facing +Z at frame 0 is left to
`features.extract_features`, which turns every clip that way anyway.

Body maps: our joint -> a source joint, or `Between(a, b, t)`, the point `t` of the way from joint a to b,
for joints the source skeleton does not have. Names match case-insensitively, ignoring '_', '-', '.',
spaces and a namespace prefix such as 'mixamorig:'. The first map whose joints are all in the file is used.

    ours            bandai                     humanml3d / SMPL     smpl_short   mixamo
    pelvis          Hips                       pelvis               Pelvis       Hips
    left_hip        UpperLeg_L                 left_hip             L_Hip        LeftUpLeg
    left_knee       LowerLeg_L                 left_knee            L_Knee       LeftLeg
    left_ankle      Foot_L                     left_ankle           L_Ankle      LeftFoot
    left_foot       Toes_L                     left_foot            L_Foot       LeftToeBase
    spine1          Between(Hips, Spine, 0.6)  spine1               Spine1       Spine
    spine2          Between(Spine, Chest, 0.5) spine2               Spine2       Spine1
    spine3          Chest                      spine3               Spine3       Spine2
    neck            Neck                       neck                 Neck         Neck
    head            Head                       head                 Head         Head
    left_collar     Shoulder_L                 left_collar          L_Collar     LeftShoulder
    left_shoulder   UpperArm_L                 left_shoulder        L_Shoulder   LeftArm
    left_elbow      LowerArm_L                 left_elbow           L_Elbow      LeftForeArm
    left_wrist      Hand_L                     left_wrist           L_Wrist      LeftHand
    (right side: _R / right_ / R_ / Right in place of the left names)

Bandai's spine has three joints where SMPL has four (Hips, Spine, Chest, Neck); Chest carries the shoulder
girdle as SMPL's spine3 does and sits about as far up the pelvis-neck line (60%), so it becomes spine3, and
spine1/spine2 are placed between at about SMPL's proportions. Its Shoulder_L/_R are clavicle joints, like
SMPL's collars, so collars are not interpolated. Bone lengths only need to be roughly right: extraction
retargets every bone to the reference length and keeps its direction.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import bvhio
import numpy as np

from ..motion.quaternion import qmul, qnormalize, qrot
from ..motion.skeleton import FPS, JOINT, JOINT_NAMES, NUM_JOINTS, forward_direction
from .deepmimic import resample, sample_times

# A standing adult's thigh + shin is ~0.82 m (the reference skeleton's); units are picked to come closest.
REFERENCE_LEG_M = float(0.3902 + 0.4256)
UNIT_SCALES = {"m": 1.0, "cm": 0.01, "mm": 0.001}
PLAUSIBLE_LEG_M = (0.4, 1.6)  # thigh + shin of anyone from a small child to a tall adult
BVH_CHANNELS = {f"{axis}{kind}" for axis in "XYZ" for kind in ("position", "rotation")}


class BvhImportError(ValueError):
    """A BVH file that cannot be imported; the message names the file and the problem."""


@dataclass(frozen=True)
class Between:
    """The point `t` of the way from source joint `a` to source joint `b` (0 = a, 1 = b)."""

    a: str
    b: str
    t: float


def _sided(table: dict[str, str | Between], left: str, right: str) -> dict[str, str | Between]:
    """Add the right side to a left-side body map by replacing the substring `left` with `right`."""
    out = dict(table)
    for ours, source in table.items():
        if ours.startswith("left_"):
            out["right_" + ours[5:]] = source.replace(left, right)
    return out


BODY_MAPS: dict[str, dict[str, str | Between]] = {
    # Bandai Namco Research Motion dataset (and other MotionBuilder-style skeletons with these names)
    "bandai": _sided(
        {
            "pelvis": "Hips",
            "left_hip": "UpperLeg_L", "left_knee": "LowerLeg_L", "left_ankle": "Foot_L", "left_foot": "Toes_L",
            "spine1": Between("Hips", "Spine", 0.6), "spine2": Between("Spine", "Chest", 0.5), "spine3": "Chest",
            "neck": "Neck", "head": "Head",
            "left_collar": "Shoulder_L", "left_shoulder": "UpperArm_L", "left_elbow": "LowerArm_L", "left_wrist": "Hand_L",
        },
        "_L", "_R",
    ),
    # Our own export (motion_lora.serving.export.to_bvh) and SMPL's official joint names, which are the same
    "humanml3d": {name: name for name in JOINT_NAMES},
    # The short SMPL names many SMPL-to-BVH converters write: Pelvis, L_Hip, Spine1, L_Collar, ...
    "smpl_short": {name: name.replace("left_", "L_").replace("right_", "R_") for name in JOINT_NAMES},
    # Mixamo (and many game rigs): clavicle is LeftShoulder, the shoulder joint LeftArm
    "mixamo": _sided(
        {
            "pelvis": "Hips",
            "left_hip": "LeftUpLeg", "left_knee": "LeftLeg", "left_ankle": "LeftFoot", "left_foot": "LeftToeBase",
            "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck", "head": "Head",
            "left_collar": "LeftShoulder", "left_shoulder": "LeftArm", "left_elbow": "LeftForeArm", "left_wrist": "LeftHand",
        },
        "Left", "Right",
    ),
}

# Proper rotations (3x3, applied as new = R @ old) that take a detected up axis to +y without mirroring.
UP_ROTATIONS = {
    "+y": np.eye(3),
    "-y": np.diag([-1.0, -1.0, 1.0]),
    "+z": np.array([[1.0, 0, 0], [0, 0, 1], [0, -1, 0]]),
    "-z": np.array([[1.0, 0, 0], [0, 0, -1], [0, 1, 0]]),
    "+x": np.array([[0, -1.0, 0], [1, 0, 0], [0, 0, 1]]),
    "-x": np.array([[0, 1.0, 0], [-1, 0, 0], [0, 0, 1]]),
}


@dataclass(frozen=True, kw_only=True)
class BvhMotion:
    """One imported file: our joints plus what the import found out about the source."""

    path: str
    joints: np.ndarray  # (T, 22, 3) metres, y up, 20 fps, lowest joint on y = 0
    fps_in: float  # the source frame rate used for resampling
    frames_in: int  # frames in the file
    scale: float  # file units -> metres
    skeleton: str  # the BODY_MAPS entry used
    up: str  # the file's up axis, e.g. "+y"

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])


# ----------------------------------------------------------------------------- reading


def _error(path, message: str) -> BvhImportError:
    return BvhImportError(f"{path}: {message}")


def _check_motion_section(text: str, path) -> tuple[int, list[str]]:
    """Declared frame count and the non-blank data lines; raise on a missing or truncated MOTION section."""
    found = re.search(r"^[ \t]*MOTION[ \t]*\r?$", text, re.MULTILINE)
    if not found:
        raise _error(path, "truncated or not a BVH file: no MOTION section after the hierarchy")
    motion = text[found.end():]
    match = re.match(r"\s*Frames:\s*(\S+)\s*\n\s*Frame Time:\s*(\S+)[^\n]*\n?", motion)
    if not match:
        raise _error(path, "truncated BVH: the MOTION section lacks 'Frames:' and 'Frame Time:' lines")
    try:
        declared = int(match.group(1))
        float(match.group(2))
    except ValueError:
        raise _error(path, f"bad MOTION header: Frames {match.group(1)!r}, Frame Time {match.group(2)!r}") from None
    lines = [line for line in motion[match.end():].splitlines() if line.strip()]
    if declared <= 0 or not lines:
        raise _error(path, "the file has zero frames of motion")
    if len(lines) < declared:
        raise _error(path, f"truncated BVH: {len(lines)} of the {declared} declared frames are present")
    return declared, lines[:declared]


def _joints_depth_first(root) -> list[tuple[object, int]]:
    """bvhio joints in file order with their parent's index (-1 for the root)."""
    out: list[tuple[object, int]] = []

    def walk(joint, parent: int) -> None:
        out.append((joint, parent))
        me = len(out) - 1
        for child in joint.Children:
            walk(child, me)

    walk(root, -1)
    return out


def _check_channels(joints, path) -> int:
    """Every joint must have 0 or 3 position and 0 or 3 distinct rotation channels; returns their total."""
    total = 0
    for joint, _ in joints:
        channels = list(joint.Channels)
        unknown = [c for c in channels if c not in BVH_CHANNELS]
        rotations = [c[0] for c in channels if c.endswith("rotation")]
        positions = [c[0] for c in channels if c.endswith("position")]
        if unknown or len(set(rotations)) != len(rotations) or len(rotations) not in (0, 3) or len(positions) not in (0, 3):
            raise _error(path, f"unknown channel layout for joint {joint.Name!r}: {' '.join(channels) or '(none)'} "
                         "(expected 0 or 3 of Xposition/Yposition/Zposition and 0 or 3 distinct X/Y/Zrotation)")
        total += len(channels)
    return total


def _bvhio_read(path: Path, frames: bool):
    try:
        return bvhio.readAsBvh(str(path), loadKeyFrames=frames)
    except (SyntaxError, ValueError, IndexError, TypeError) as err:
        raise _error(path, f"malformed BVH hierarchy or motion data: {err.args[0] if err.args else err}") from None


def _parse(path: Path):
    """(joint names, parent indices (J,), local translations (N, J, 3), local rotations wxyz (N, J, 4), frame time)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise _error(path, f"cannot read: {err.strerror or err}") from None
    declared, lines = _check_motion_section(text, path)
    # The hierarchy alone first: bvhio reads frames without checking their width, so it is checked here.
    width = _check_channels(_joints_depth_first(_bvhio_read(path, frames=False).Root), path)
    bad = next((i for i, line in enumerate(lines) if len(line.split()) != width), None)
    if bad is not None:
        raise _error(path, f"frame {bad} has {len(lines[bad].split())} values, the hierarchy declares {width} channels"
                     + (" (truncated file?)" if bad == len(lines) - 1 else ""))
    container = _bvhio_read(path, frames=True)
    joints = _joints_depth_first(container.Root)
    names = [j.Name for j, _ in joints]
    parents = np.array([p for _, p in joints])
    # bvhio holds poses as float32 glm values; the numbers are carried on in float64.
    translations = np.array([[tuple(k.Position) for k in j.Keyframes] for j, _ in joints], dtype=np.float64)
    rotations = np.array([[tuple(k.Rotation) for k in j.Keyframes] for j, _ in joints], dtype=np.float64)
    return names, parents, translations.transpose(1, 0, 2), qnormalize(rotations.transpose(1, 0, 2)), float(container.FrameTime)


def _snap_frame_time(frame_time: float) -> float:
    """0.0333333 -> 1/30: files print the frame time rounded; an exact 1/N is almost always what was meant."""
    rate = round(1.0 / frame_time)
    return 1.0 / rate if rate > 0 and abs(1.0 / rate - frame_time) < 1e-4 * frame_time else frame_time


def _resample_local(translations: np.ndarray, rotations: np.ndarray, frame_time: float, fps: int = FPS):
    """Local poses (N, J, 3), (N, J, 4) at 1/frame_time -> (T, J, 3), (T, J, 4) at `fps`."""
    N, J = translations.shape[:2]
    dt = np.full(N, frame_time)
    dt[-1] = 0.0
    key_times, times = sample_times(dt, cyclic=False, fps=fps)
    flat, channels = resample(translations.reshape(N, -1), {j: rotations[:, j] for j in range(J)}, key_times, times)
    return flat.reshape(len(times), J, 3), np.stack([channels[j] for j in range(J)], axis=1)


def _forward_kinematics(parents: np.ndarray, translations: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """BVH FK: world = parent world x translate(local) x rotate(local). (T, J, 3), (T, J, 4) -> world (T, J, 3)."""
    positions = np.zeros_like(translations)
    world_rot = np.zeros_like(rotations)
    for j, p in enumerate(parents):  # depth-first order: a parent always comes first
        if p < 0:
            positions[:, j], world_rot[:, j] = translations[:, j], rotations[:, j]
        else:
            positions[:, j] = positions[:, p] + qrot(world_rot[:, p], translations[:, j])
            world_rot[:, j] = qmul(world_rot[:, p], rotations[:, j])
    return positions


# ----------------------------------------------------------------------------- body map


def _key(name: str) -> str:
    """'mixamorig:Left_Arm' -> 'leftarm': what two joint names must share to match."""
    return re.sub(r"[^a-z0-9]", "", name.rsplit(":", 1)[-1].lower())


def _needed(source: str | Between) -> tuple[str, ...]:
    return (source.a, source.b) if isinstance(source, Between) else (source,)


def choose_body_map(names: list[str], path="<bvh>") -> str:
    """The first BODY_MAPS entry whose source joints are all among `names`; raise naming what is missing."""
    have = {_key(n) for n in names}
    missing_per_map = {}
    for skeleton, table in BODY_MAPS.items():
        missing = [ours for ours, src in table.items() if any(_key(s) not in have for s in _needed(src))]
        if not missing:
            return skeleton
        missing_per_map[skeleton] = missing
    closest = min(missing_per_map, key=lambda s: len(missing_per_map[s]))
    table = BODY_MAPS[closest]
    detail = ", ".join(f"{ours} (needs {' and '.join(_needed(table[ours]))})" for ours in missing_per_map[closest])
    raise _error(path, f"missing joints: cannot map {len(missing_per_map[closest])} of our {NUM_JOINTS} joints with the "
                 f"closest known skeleton '{closest}': {detail}. The file's joints: {', '.join(names)}")


def map_to_ours(world: np.ndarray, names: list[str], skeleton: str) -> np.ndarray:
    """World positions (T, J, 3) of the file's joints -> our joints (T, 22, 3) through BODY_MAPS[skeleton]."""
    index = {_key(n): i for i, n in enumerate(names)}
    out = np.zeros((world.shape[0], NUM_JOINTS, 3))
    for ours, src in BODY_MAPS[skeleton].items():
        if isinstance(src, Between):
            a, b = world[:, index[_key(src.a)]], world[:, index[_key(src.b)]]
            out[:, JOINT[ours]] = a + src.t * (b - a)
        else:
            out[:, JOINT[ours]] = world[:, index[_key(src)]]
    return out


# ----------------------------------------------------------------------------- units and axes


def leg_length(joints: np.ndarray) -> float:
    """Median over frames of the mean (thigh + shin) of both legs, in the joints' units."""
    legs = []
    for hip, knee, ankle in (("left_hip", "left_knee", "left_ankle"), ("right_hip", "right_knee", "right_ankle")):
        h, k, a = joints[:, JOINT[hip]], joints[:, JOINT[knee]], joints[:, JOINT[ankle]]
        legs.append(np.linalg.norm(h - k, axis=-1) + np.linalg.norm(k - a, axis=-1))
    return float(np.median(np.mean(legs, axis=0)))


def detect_scale(joints: np.ndarray, path="<bvh>") -> float:
    """File units -> metres: m, cm or mm, whichever makes the leg closest to an adult's; raise if none is plausible."""
    leg = leg_length(joints)
    if not leg > 0:
        raise _error(path, "the legs have zero length: cannot tell the units")
    unit = min(UNIT_SCALES, key=lambda u: abs(math.log(leg * UNIT_SCALES[u] / REFERENCE_LEG_M)))
    metres = leg * UNIT_SCALES[unit]
    if not PLAUSIBLE_LEG_M[0] <= metres <= PLAUSIBLE_LEG_M[1]:
        raise _error(path, f"cannot tell the units: the leg is {leg:.3g} file units long; pass scale (file units -> "
                     "metres, e.g. 0.0254 for inches)")
    return UNIT_SCALES[unit]


def detect_up(joints: np.ndarray) -> str:
    """The signed axis along which the head sits above the ankles in most frames ("+y" for most BVH files)."""
    up = joints[:, JOINT["head"]] - joints[:, [JOINT["left_ankle"], JOINT["right_ankle"]]].mean(1)  # (T, 3)
    axis = int(np.argmax(np.abs(np.median(up, axis=0))))
    sign = "+" if np.median(up[:, axis]) > 0 else "-"
    return sign + "xyz"[axis]


def front_score(joints: np.ndarray) -> float:
    """y-up joints (T, 22, 3) -> how far (m, mean over frames) the toes and bent knees point along the forward
    direction that the hips' and shoulders' left-right axis gives. Positive for a body whose names match its sides.

    Toes alone are not enough: a sprinter's feet point down, even slightly back; knees bend forward then.
    """
    across = joints[:, JOINT["right_hip"]] - joints[:, JOINT["left_hip"]]
    across = across + joints[:, JOINT["right_shoulder"]] - joints[:, JOINT["left_shoulder"]]
    forward = forward_direction(across)  # up x across
    cue = np.zeros_like(forward)
    for hip, knee, ankle, foot in (("left_hip", "left_knee", "left_ankle", "left_foot"), ("right_hip", "right_knee", "right_ankle", "right_foot")):
        h, k, a, f = (joints[:, JOINT[n]] for n in (hip, knee, ankle, foot))
        cue += (f - a) + (k - (h + a) / 2)
    cue[:, 1] = 0.0
    return float((forward * cue).sum(-1).mean())


def check_handedness(joints: np.ndarray, path="<bvh>") -> None:
    """Raise when the body's left joints are on its right (`front_score` < 0).

    A left-handed file, or one with left/right names swapped, gives such a body: its forward from the across
    vector points backwards, against its toes and knees. We do not guess which of the two happened (one fix
    mirrors the motion, the other does not), so it is an error.
    """
    if front_score(joints) < 0:
        raise _error(path, "left and right are mirrored: the toes and knees point backwards relative to the left-right "
                     "axis of the hips and shoulders (a left-handed file, or left/right joint names swapped)")


# ----------------------------------------------------------------------------- public API


def read_bvh(path, *, fps_in: float | None = None, scale: float | None = None, up: str | None = None) -> BvhMotion:
    """A BVH file -> our joints (T, 22, 3) in metres at 20 fps, y up, on the floor (see the module docstring).

    fps_in overrides the file's Frame Time; scale (file units -> metres) overrides the unit detection;
    up ("+y", "+z", ...) overrides the up-axis detection.
    """
    path = Path(path)
    if fps_in is not None and not fps_in > 0:
        raise _error(path, f"fps_in must be positive, got {fps_in}")
    if scale is not None and not scale > 0:
        raise _error(path, f"scale must be positive, got {scale}")
    if up is not None and up not in UP_ROTATIONS:
        raise _error(path, f"up must be one of {', '.join(UP_ROTATIONS)}, got {up!r}")
    names, parents, translations, rotations, frame_time = _parse(path)
    if fps_in is None:
        if not frame_time > 0:
            raise _error(path, f"Frame Time is {frame_time}; pass fps_in")
        frame_time = _snap_frame_time(frame_time)
    else:
        frame_time = 1.0 / fps_in
    if len(translations) < 2:
        raise _error(path, "the file has a single frame: a motion needs at least 2")
    frames_in = len(translations)
    skeleton = choose_body_map(names, path)
    translations, rotations = _resample_local(translations, rotations, frame_time)
    joints = map_to_ours(_forward_kinematics(parents, translations, rotations), names, skeleton)
    scale = detect_scale(joints, path) if scale is None else float(scale)
    up = detect_up(joints) if up is None else up
    joints = joints * scale @ UP_ROTATIONS[up].T
    check_handedness(joints, path)
    joints[..., 1] -= joints[..., 1].min()
    return BvhMotion(path=str(path), joints=joints, fps_in=1.0 / frame_time, frames_in=frames_in, scale=scale, skeleton=skeleton, up=up)


def bvh_to_joints(path, *, fps_in: float | None = None, scale: float | None = None, up: str | None = None) -> np.ndarray:
    """A BVH file -> joints (T, 22, 3) float64, metres, 20 fps, y up, on the floor."""
    return read_bvh(path, fps_in=fps_in, scale=scale, up=up).joints


# ----------------------------------------------------------------------------- HumanML3D layout writer


def bvh_files(inputs) -> list[Path]:
    """Files and folders (searched recursively for *.bvh, any case) -> BVH paths, sorted within a folder."""
    out: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            out += sorted(p for p in item.rglob("*") if p.is_file() and p.suffix.lower() == ".bvh")
        elif item.is_file():
            out.append(item)
        else:
            raise BvhImportError(f"{item}: no such file or folder")
    return out


def caption_from_stem(stem: str) -> str:
    """'dataset-2_walk-turn-left_normal_001' -> 'dataset walk turn left normal': the letters of a file name."""
    words = re.findall(r"[a-z]+", re.sub(r"([a-z])([A-Z])", r"\1 \2", stem).lower())
    return " ".join(words) or "a person moves"


def _clip_id(stem: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_") or "clip"
    clip_id, n = base, 1
    while clip_id in taken:
        n += 1
        clip_id = f"{base}_{n}"
    taken.add(clip_id)
    return clip_id


def import_bvh_files(inputs, out, *, caption: str | None = None, fps_in: float | None = None,
                     scale: float | None = None, up: str | None = None, log=print) -> dict:
    """BVH files/folders -> a HumanML3D-layout folder `out` (new; or existing and empty).

    Writes new_joint_vecs/<id>.npy (T-1, 263), new_joints/<id>.npy (T-1, 22, 3), texts/<id>.txt (one caption:
    `caption`, or the file name's words), Mean.npy/Std.npy over all clips, all.txt and train.txt (every clip;
    split them yourself). A file that fails is reported and skipped. Returns a summary dict.
    """
    # Imported here: features pulls in scipy, and reading BVH files needs neither it nor the caption grammar.
    from ..motion.features import extract_features, feature_statistics, recover_joints
    from .captions import format_text_line

    files = bvh_files(inputs)
    if not files:
        raise BvhImportError(f"no .bvh files in {', '.join(map(str, inputs))}")
    root = Path(out)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise BvhImportError(f"{root}: output folder exists and is not empty")
    for sub in ("new_joint_vecs", "new_joints", "texts"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    ids, features_all, errors, taken = [], [], [], set()
    for path in files:
        try:
            motion = read_bvh(path, fps_in=fps_in, scale=scale, up=up)
            features = extract_features(motion.joints).astype(np.float32)  # (T-1, 263)
        except (BvhImportError, ValueError) as err:
            errors.append(str(err))
            log(f"error: {err}")
            continue
        clip_id = _clip_id(path.stem, taken)
        np.save(root / "new_joint_vecs" / f"{clip_id}.npy", features)
        np.save(root / "new_joints" / f"{clip_id}.npy", recover_joints(features).astype(np.float32))
        text = caption if caption is not None else caption_from_stem(path.stem)
        (root / "texts" / f"{clip_id}.txt").write_text(format_text_line(text) + "\n", encoding="utf-8")
        ids.append(clip_id)
        features_all.append(features)
        note = "" if 40 <= len(features) < 200 else " (outside HumanML3D's 40-199 frames: its loaders skip it)"
        log(f"{path}: {motion.skeleton} skeleton, {motion.frames_in} frames at {motion.fps_in:g} fps, units x{motion.scale:g}, "
            f"up {motion.up} -> {clip_id}: {len(features)} frames at {FPS} fps ({len(features) / FPS:.1f} s){note}")
    if features_all:
        mean, std = feature_statistics(features_all)
        np.save(root / "Mean.npy", mean.astype(np.float32))
        np.save(root / "Std.npy", std.astype(np.float32))
    for name in ("all.txt", "train.txt"):
        (root / name).write_text("".join(i + "\n" for i in ids))
    frames = sum(len(f) for f in features_all)
    summary = {"files": len(files), "imported": len(ids), "failed": len(errors), "frames": frames, "errors": errors}
    log(f"imported {len(ids)} of {len(files)} BVH files, {frames} frames ({frames / FPS / 60:.1f} min at {FPS} fps) into {root}"
        + (f"; {len(errors)} failed" if errors else ""))
    return summary
