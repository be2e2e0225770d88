"""Reading a BVH file: structure checks, bvhio's parse into local poses, resampling to 20 fps, forward kinematics."""

from __future__ import annotations

import re
from pathlib import Path

import bvhio
import numpy as np

from ...motion.quaternion import qmul, qnormalize, qrot
from ...motion.skeleton import FPS
from ..deepmimic import resample, sample_times
from .errors import file_error

BVH_CHANNELS = {f"{axis}{kind}" for axis in "XYZ" for kind in ("position", "rotation")}


def check_motion_section(text: str, path) -> tuple[int, list[str]]:
    """Declared frame count and the non-blank data lines; raise on a missing or truncated MOTION section."""
    found = re.search(r"^[ \t]*MOTION[ \t]*\r?$", text, re.MULTILINE)
    if not found:
        raise file_error(path, "truncated or not a BVH file: no MOTION section after the hierarchy")
    motion = text[found.end():]
    match = re.match(r"\s*Frames:\s*(\S+)\s*\n\s*Frame Time:\s*(\S+)[^\n]*\n?", motion)
    if not match:
        raise file_error(path, "truncated BVH: the MOTION section lacks 'Frames:' and 'Frame Time:' lines")
    try:
        declared = int(match.group(1))
        float(match.group(2))
    except ValueError:
        raise file_error(path, f"bad MOTION header: Frames {match.group(1)!r}, Frame Time {match.group(2)!r}") from None
    lines = [line for line in motion[match.end():].splitlines() if line.strip()]
    if declared <= 0 or not lines:
        raise file_error(path, "the file has zero frames of motion")
    if len(lines) < declared:
        raise file_error(path, f"truncated BVH: {len(lines)} of the {declared} declared frames are present")
    return declared, lines[:declared]


def joints_depth_first(root) -> list[tuple[object, int]]:
    """bvhio joints in file order with their parent's index (-1 for the root)."""
    out: list[tuple[object, int]] = []

    def walk(joint, parent: int) -> None:
        out.append((joint, parent))
        me = len(out) - 1
        for child in joint.Children:
            walk(child, me)

    walk(root, -1)
    return out


def check_channels(joints, path) -> int:
    """Every joint must have 0 or 3 position and 0 or 3 distinct rotation channels; returns their total."""
    total = 0
    for joint, _ in joints:
        channels = list(joint.Channels)
        unknown = [c for c in channels if c not in BVH_CHANNELS]
        rotations = [c[0] for c in channels if c.endswith("rotation")]
        positions = [c[0] for c in channels if c.endswith("position")]
        repeated = len(set(rotations)) != len(rotations)
        if unknown or repeated or len(rotations) not in (0, 3) or len(positions) not in (0, 3):
            raise file_error(path, f"unknown channel layout for joint {joint.Name!r}: {' '.join(channels) or '(none)'} "
                         "(expected 0 or 3 of Xposition/Yposition/Zposition and 0 or 3 distinct X/Y/Zrotation)")
        total += len(channels)
    return total


def bvhio_read(path: Path, frames: bool):
    try:
        return bvhio.readAsBvh(str(path), loadKeyFrames=frames)
    except (SyntaxError, ValueError, IndexError, TypeError) as err:
        raise file_error(path, f"malformed BVH hierarchy or motion data: {err.args[0] if err.args else err}") from None


def parse_bvh(path: Path):
    """(joint names, parent indices (J,), local translations (N, J, 3), local rotations wxyz (N, J, 4), frame time)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise file_error(path, f"cannot read: {err.strerror or err}") from None
    declared, lines = check_motion_section(text, path)
    # The hierarchy alone first: bvhio reads frames without checking their width, so it is checked here.
    width = check_channels(joints_depth_first(bvhio_read(path, frames=False).Root), path)
    bad = next((i for i, line in enumerate(lines) if len(line.split()) != width), None)
    if bad is not None:
        raise file_error(path, f"frame {bad} has {len(lines[bad].split())} values, the hierarchy declares {width} "
                         "channels" + (" (truncated file?)" if bad == len(lines) - 1 else ""))
    container = bvhio_read(path, frames=True)
    joints = joints_depth_first(container.Root)
    names = [j.Name for j, _ in joints]
    parents = np.array([p for _, p in joints])
    # bvhio holds poses as float32 glm values; the numbers are carried on in float64.
    translations = np.array([[tuple(k.Position) for k in j.Keyframes] for j, _ in joints], dtype=np.float64)
    rotations = np.array([[tuple(k.Rotation) for k in j.Keyframes] for j, _ in joints], dtype=np.float64)
    translations, rotations = translations.transpose(1, 0, 2), qnormalize(rotations.transpose(1, 0, 2))
    return names, parents, translations, rotations, float(container.FrameTime)


def snap_frame_time(frame_time: float) -> float:
    """0.0333333 -> 1/30: files print the frame time rounded; an exact 1/N is almost always what was meant."""
    rate = round(1.0 / frame_time)
    return 1.0 / rate if rate > 0 and abs(1.0 / rate - frame_time) < 1e-4 * frame_time else frame_time


def resample_local(translations: np.ndarray, rotations: np.ndarray, frame_time: float, fps: int = FPS):
    """Local poses (N, J, 3), (N, J, 4) at 1/frame_time -> (T, J, 3), (T, J, 4) at `fps`."""
    N, J = translations.shape[:2]
    dt = np.full(N, frame_time)
    dt[-1] = 0.0
    key_times, times = sample_times(dt, cyclic=False, fps=fps)
    flat, channels = resample(translations.reshape(N, -1), {j: rotations[:, j] for j in range(J)}, key_times, times)
    return flat.reshape(len(times), J, 3), np.stack([channels[j] for j in range(J)], axis=1)


def forward_kinematics(parents: np.ndarray, translations: np.ndarray, rotations: np.ndarray) -> np.ndarray:
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
