"""The 15 DeepMimic humanoid motion-capture clips that ship with pybullet, as HumanML3D-style joints.

Each clip (`pybullet_data/data/motions/humanoid3d_<name>.txt`) is JSON: `Loop` ("wrap" or "none") and
`Frames`, each frame 44 numbers:

    dt | root_pos(3) | root_quat wxyz(4) | chest(4) | neck(4) | r_hip(4) | r_knee(1) | r_ankle(4) |
    r_shoulder(4) | r_elbow(1) | l_hip(4) | l_knee(1) | l_ankle(4) | l_shoulder(4) | l_elbow(1)

`dt` is the time from this frame to the next (0 on the last frame). Spherical joints are local rotations
(wxyz) in the parent link's frame; knees and elbows are angles (radians) about the URDF joint axis.
The skeleton is `pybullet_data/humanoid/humanoid.urdf`: y up, facing +X, the character's right is +Z.
Its offsets are in units that the DeepMimic env scales by 0.25 (`globalScaling`) to get metres, while
`root_pos` is already in metres (a standing pelvis is ~0.85 m high, and 0.25 x URDF leg = 0.83 m).

Pipeline: parse the URDF -> resample the pose channels to 20 fps (slerp for rotations, linear for root
position and hinge angles) -> numpy forward kinematics -> read the 22 SMPL joints off the links as
points fixed in a link's frame (table below) -> turn into our frame, new = (-z, y, x), so the person
faces +Z with the left side at +X (a proper rotation, no mirroring).

Body mapping (offsets are in URDF units, in the named link's frame; x forward, y up, z right):

    ours              | DeepMimic link | point in that link
    ------------------+----------------+---------------------------------------------------------------
    pelvis            | root           | origin (root_pos)
    spine1            | root           | 1/2 of the way to the chest joint
    spine2            | chest          | origin (the chest joint)
    spine3            | chest          | 1/5 of the way from the chest joint to the neck joint
    neck              | neck           | origin (the neck joint)
    head              | neck           | 0.44 up the neck link (inside the head sphere, ~0.11 m)
    left/right_collar | chest          | 45% of the way from the neck joint to the shoulder joint
    left/right_hip    | left/right_hip | origin (the hip joint)
    left/right_knee   | *_knee         | origin
    left/right_ankle  | *_ankle        | origin
    left/right_foot   | *_ankle        | (0.48, -0.16, 0): forward along the foot box, near the sole
    left/right_shoulder | *_shoulder   | origin
    left/right_elbow  | *_elbow        | origin
    left/right_wrist  | *_elbow        | the URDF's fixed wrist joint, (0, -1.0358, 0)

With these points the reference bone lengths are roughly matched (spine1/2/3/neck 0.12/0.12/0.04/0.18 m
against 0.13/0.14/0.06/0.22); `features.extract_features` retargets to the reference lengths anyway.
"""

from __future__ import annotations

import functools
import json
import math
import pathlib
import xml.etree.ElementTree as ET

import numpy as np

from ..motion.quaternion import qfrom_axis_angle, qmul, qnormalize, qrot
from ..motion.skeleton import FPS, JOINT, NUM_JOINTS
from .clip import Motion, Segment

URDF_SCALE = 0.25  # the DeepMimic env loads humanoid.urdf with globalScaling=0.25: URDF units -> metres

# What each clip shows, read off the clips (stick-figure renders, and tests/test_deepmimic.py re-derives
# the sides and senses from the joints). kick: the right leg sweeps round from the side to head height
# while the hips turn ~150 deg (a roundhouse). spinkick: a jumping spin to the left, left leg swinging up
# first, the right leg kicking highest (ankle 1.75 m). punch: one straight right punch, held ~0.7 s,
# lunging ~1.9 m towards front-left. cartwheel travels to the person's left; backflip lands ~1 m behind;
# spin turns left (counter-clockwise from above) twice; turn "left" = positive yaw about +y.
DEEPMIMIC_CLIPS: dict[str, dict] = {
    "walk": {"concept": "walk", "fine": "walk_forward", "attrs": {"direction": "forward", "speed": "normal"}, "cyclic": True},
    "run": {"concept": "run", "fine": "run_forward", "attrs": {"direction": "forward", "speed": "normal"}, "cyclic": True},
    "jump": {"concept": "jump", "fine": "jump_forward", "attrs": {"direction": "forward", "count": 1}, "cyclic": True},
    "kick": {"concept": "kick", "fine": "kick_roundhouse_right", "attrs": {"side": "right", "style": "roundhouse", "count": 1}, "cyclic": False},
    "spinkick": {"concept": "kick", "fine": "kick_spin_right", "attrs": {"side": "right", "style": "spin", "turn": "left", "count": 1}, "cyclic": True},
    "punch": {"concept": "punch", "fine": "punch_straight_right", "attrs": {"side": "right", "style": "straight", "count": 1}, "cyclic": False},
    "backflip": {"concept": "backflip", "fine": "backflip", "attrs": {"count": 1}, "cyclic": True},
    "cartwheel": {"concept": "cartwheel", "fine": "cartwheel_left", "attrs": {"direction": "left", "count": 1}, "cyclic": True},
    "crawl": {"concept": "crawl", "fine": "crawl_forward", "attrs": {"direction": "forward"}, "cyclic": True},
    "dance_a": {"concept": "dance", "fine": "dance_a", "attrs": {"style": "a"}, "cyclic": True},
    "dance_b": {"concept": "dance", "fine": "dance_b", "attrs": {"style": "b"}, "cyclic": True},
    "getup_facedown": {"concept": "get_up", "fine": "get_up_from_face_down", "attrs": {"start": "face_down"}, "cyclic": False},
    "getup_faceup": {"concept": "get_up", "fine": "get_up_from_face_up", "attrs": {"start": "face_up"}, "cyclic": False},
    "roll": {"concept": "roll", "fine": "roll_forward", "attrs": {"direction": "forward", "count": 1}, "cyclic": True},
    "spin": {"concept": "spin", "fine": "spin_left", "attrs": {"turn": "left", "count": 2}, "cyclic": True},
}

# Frame layout: (URDF joint name, number of values). Order as in the motion files after dt.
_ROOT_POS = slice(1, 4)
_ROOT_QUAT = slice(4, 8)
_JOINT_CHANNELS = (
    ("chest", 4), ("neck", 4), ("right_hip", 4), ("right_knee", 1), ("right_ankle", 4),
    ("right_shoulder", 4), ("right_elbow", 1), ("left_hip", 4), ("left_knee", 1), ("left_ankle", 4),
    ("left_shoulder", 4), ("left_elbow", 1),
)
FRAME_WIDTH = 8 + sum(n for _, n in _JOINT_CHANNELS)  # 44


def _lerp_offset(a: tuple, b: tuple, t: float) -> tuple:
    return tuple((1 - t) * x + t * y for x, y in zip(a, b))


def _markers(links: dict) -> dict[str, tuple[str, tuple]]:
    """Our joint name -> (DeepMimic link, point in that link's frame in URDF units); the docstring table."""
    chest_offset = links["chest"]["offset"]
    neck_offset = links["neck"]["offset"]
    markers = {
        "pelvis": ("root", (0.0, 0.0, 0.0)),
        "spine1": ("root", _lerp_offset((0, 0, 0), chest_offset, 0.5)),
        "spine2": ("chest", (0.0, 0.0, 0.0)),
        "spine3": ("chest", _lerp_offset((0, 0, 0), neck_offset, 0.2)),
        "neck": ("neck", (0.0, 0.0, 0.0)),
        "head": ("neck", (0.0, 0.44, 0.0)),
    }
    for side in ("left", "right"):
        shoulder_offset = links[f"{side}_shoulder"]["offset"]
        markers[f"{side}_collar"] = ("chest", _lerp_offset(neck_offset, shoulder_offset, 0.45))
        for part in ("hip", "knee", "ankle", "shoulder", "elbow"):
            markers[f"{side}_{part}"] = (f"{side}_{part}", (0.0, 0.0, 0.0))
        markers[f"{side}_foot"] = (f"{side}_ankle", (0.48, -0.16, 0.0))
        markers[f"{side}_wrist"] = (f"{side}_elbow", links[f"{side}_wrist"]["offset"])
    return markers


# ----------------------------------------------------------------------------- files


def motions_dir() -> pathlib.Path:
    """The folder holding pybullet's DeepMimic clips."""
    try:
        import pybullet_data
    except ImportError as err:  # sys.modules[...] = None also lands here
        raise RuntimeError(
            "DeepMimic clips come with pybullet, but pybullet is not installed; pip install pybullet"
        ) from err
    folder = pathlib.Path(pybullet_data.getDataPath()) / "data" / "motions"
    if not folder.is_dir():
        raise RuntimeError(f"pybullet is installed but its DeepMimic motion folder is missing: {folder}")
    return folder


def _urdf_path() -> pathlib.Path:
    path = motions_dir().parent.parent / "humanoid" / "humanoid.urdf"
    if not path.is_file():
        raise RuntimeError(f"pybullet is installed but the DeepMimic humanoid is missing: {path}")
    return path


def _floats(text: str | None, default: str) -> tuple:
    return tuple(float(v) for v in (text or default).split())


@functools.lru_cache(maxsize=None)
def load_urdf_links(path: str | None = None) -> dict:
    """Parse humanoid.urdf -> {link: {"parent", "offset" (3,), "axis" (3,) or None, "type"}}.

    Links come out parents-first (the file's joint order), so FK can walk the dict in order. Every
    joint in this URDF has rpy = 0, so a link's frame is its parent's frame shifted by `offset`.
    """
    raw = pathlib.Path(path or _urdf_path()).read_bytes()
    root = ET.fromstring(raw.rstrip(b"\0\r\n\t "))  # the shipped file ends with a NUL byte
    links = {"root": {"parent": None, "offset": (0.0, 0.0, 0.0), "axis": None, "type": "floating"}}
    for joint in root.findall("joint"):
        child = joint.find("child").get("link")
        if child == "root":
            continue  # the "root" joint just fixes the root link to the world
        origin = joint.find("origin")
        if origin is not None and any(_floats(origin.get("rpy"), "0 0 0")):
            raise ValueError(f"joint {joint.get('name')} has a rotated frame; the FK here assumes rpy = 0")
        axis = joint.find("axis")
        links[child] = {
            "parent": joint.find("parent").get("link"),
            "offset": _floats(origin.get("xyz") if origin is not None else None, "0 0 0"),
            "axis": _floats(axis.get("xyz"), "1 0 0") if axis is not None else None,
            "type": joint.get("type"),
        }
    return links


def read_clip_file(path: pathlib.Path) -> tuple[np.ndarray, bool]:
    """A motion file -> (frames (N, 44), loops) where loops is Loop == "wrap"."""
    data = json.loads(pathlib.Path(path).read_text())
    frames = np.asarray(data["Frames"], dtype=np.float64)
    if frames.ndim != 2 or frames.shape[1] != FRAME_WIDTH or len(frames) < 2:
        raise ValueError(f"{path}: expected at least 2 frames of {FRAME_WIDTH} numbers, got shape {frames.shape}")
    return frames, data.get("Loop") == "wrap"


# ----------------------------------------------------------------------------- poses and resampling


def split_channels(frames: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(N, 44) -> root_pos (N, 3) and {link: (N, 4) quaternion or (N,) hinge angle}, root included."""
    channels = {"root": qnormalize(frames[:, _ROOT_QUAT])}
    start = 8
    for name, width in _JOINT_CHANNELS:
        values = frames[:, start : start + width]
        channels[name] = qnormalize(values) if width == 4 else values[:, 0]
        start += width
    return frames[:, _ROOT_POS], channels


def sample_times(dt: np.ndarray, cyclic: bool, fps: int = FPS) -> tuple[np.ndarray, np.ndarray]:
    """Frame durations (N,) -> (key times (N,), output times (T,)) in seconds.

    A looping clip's last key frame is the first pose again, so its output stops before the end
    (frame T would repeat frame 0) and tiling it gives no stutter; other clips include the end.
    """
    key_times = np.concatenate([[0.0], np.cumsum(dt[:-1])])
    duration = key_times[-1]
    n = math.ceil(duration * fps - 1e-6) if cyclic else math.floor(duration * fps + 1e-6) + 1
    return key_times, np.arange(max(n, 2)) / fps


def _bracket(key_times: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each output time, the key frame before it (T,) and the fraction towards the next one (T,)."""
    i = np.clip(np.searchsorted(key_times, times, side="right") - 1, 0, len(key_times) - 2)
    span = key_times[i + 1] - key_times[i]
    alpha = np.where(span > 0, (times - key_times[i]) / np.where(span > 0, span, 1.0), 0.0)
    return i, np.clip(alpha, 0.0, 1.0)


def slerp(q0: np.ndarray, q1: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Spherical interpolation between unit quaternions (T, 4), (T, 4) at fractions (T,)."""
    dot = (q0 * q1).sum(-1)
    q1 = np.where(dot[:, None] < 0, -q1, q1)  # take the short way round
    dot = np.abs(dot).clip(max=1.0)
    theta = np.arccos(dot)
    sin = np.sin(theta)
    near = sin < 1e-6  # nearly equal: linear interpolation is exact enough and avoids 0/0
    w0 = np.where(near, 1 - alpha, np.sin((1 - alpha) * theta) / np.where(near, 1.0, sin))
    w1 = np.where(near, alpha, np.sin(alpha * theta) / np.where(near, 1.0, sin))
    return qnormalize(w0[:, None] * q0 + w1[:, None] * q1)


def resample(root_pos: np.ndarray, channels: dict, key_times: np.ndarray, times: np.ndarray):
    """Key-frame channels -> the same channels at `times` (T,): slerp rotations, lerp the rest."""
    i, alpha = _bracket(key_times, times)
    out = {}
    for name, values in channels.items():
        if values.ndim == 2:
            out[name] = slerp(values[i], values[i + 1], alpha)
        else:
            out[name] = (1 - alpha) * values[i] + alpha * values[i + 1]
    pos = (1 - alpha[:, None]) * root_pos[i] + alpha[:, None] * root_pos[i + 1]
    return pos, out


# ----------------------------------------------------------------------------- kinematics


def forward_kinematics(root_pos: np.ndarray, channels: dict, links: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Pose channels (T, ...) -> {link: (position (T, 3) in metres, global rotation (T, 4))}, DeepMimic axes."""
    world = {"root": (root_pos, channels["root"])}
    for name, link in links.items():
        if name == "root":
            continue
        parent_pos, parent_rot = world[link["parent"]]
        offset = np.broadcast_to(np.asarray(link["offset"]) * URDF_SCALE, parent_pos.shape)
        local = _local_rotation(link, channels.get(name), len(root_pos))
        world[name] = (parent_pos + qrot(parent_rot, offset), qmul(parent_rot, local))
    return world


def _local_rotation(link: dict, channel: np.ndarray | None, num_frames: int) -> np.ndarray:
    """(T, 4) rotation of a link relative to its parent: spherical quaternion, hinge angle, or fixed."""
    if link["type"] == "spherical":
        return channel
    if link["type"] == "revolute":
        return qfrom_axis_angle(np.asarray(link["axis"]), channel)
    return np.broadcast_to(np.array([1.0, 0.0, 0.0, 0.0]), (num_frames, 4))


def marker_positions(world: dict, links: dict) -> np.ndarray:
    """Link poses -> our 22 joints (T, 22, 3), still in DeepMimic axes."""
    markers = _markers(links)
    T = len(world["root"][0])
    joints = np.zeros((T, NUM_JOINTS, 3))
    for name, (link, point) in markers.items():
        pos, rot = world[link]
        joints[:, JOINT[name]] = pos + qrot(rot, np.broadcast_to(np.asarray(point) * URDF_SCALE, (T, 3)))
    return joints


def to_our_axes(points: np.ndarray) -> np.ndarray:
    """DeepMimic (facing +X, right +Z) -> ours (facing +Z, left +X): (x, y, z) -> (-z, y, x)."""
    return np.stack([-points[..., 2], points[..., 1], points[..., 0]], axis=-1)


# ----------------------------------------------------------------------------- public API


def clip_joints(path: pathlib.Path, fps: int = FPS) -> tuple[np.ndarray, bool]:
    """A motion file -> (joints (T, 22, 3) in metres at `fps`, our axes; loops)."""
    frames, loops = read_clip_file(path)
    root_pos, channels = split_channels(frames)
    key_times, times = sample_times(frames[:, 0], loops, fps)
    root_pos, channels = resample(root_pos, channels, key_times, times)
    links = load_urdf_links()
    return to_our_axes(marker_positions(forward_kinematics(root_pos, channels, links), links)), loops


def load_clip(name: str) -> Motion:
    """One DeepMimic clip as a `Motion` at 20 fps with a single segment spanning it."""
    if name not in DEEPMIMIC_CLIPS:
        raise ValueError(f"unknown DeepMimic clip {name!r}; known: {', '.join(DEEPMIMIC_CLIPS)}")
    path = motions_dir() / f"humanoid3d_{name}.txt"
    if not path.is_file():
        raise RuntimeError(f"DeepMimic clip file is missing: {path}")
    joints, loops = clip_joints(path)
    info = DEEPMIMIC_CLIPS[name]
    segment = Segment(concept=info["concept"], fine=info["fine"], start=0, end=len(joints), attrs=dict(info["attrs"]))
    return Motion(joints=joints, segments=[segment], source=f"deepmimic_{name}", real=True, cyclic=loops)


def load_all() -> list[Motion]:
    """All 15 clips, in DEEPMIMIC_CLIPS order."""
    return [load_clip(name) for name in DEEPMIMIC_CLIPS]
