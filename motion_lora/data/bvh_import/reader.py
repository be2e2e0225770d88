"""`read_bvh`: one BVH file through the whole pipeline (the package docstring) to our joints, with what was found."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .body_maps import choose_body_map, map_to_ours
from .errors import file_error
from .parse import forward_kinematics, parse_bvh, resample_local, snap_frame_time
from .units_axes import UP_ROTATIONS, check_handedness, detect_scale, detect_up


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


def read_bvh(path, *, fps_in: float | None = None, scale: float | None = None, up: str | None = None) -> BvhMotion:
    """A BVH file -> our joints (T, 22, 3) in metres at 20 fps, y up, on the floor (see the module docstring).

    fps_in overrides the file's Frame Time; scale (file units -> metres) overrides the unit detection;
    up ("+y", "+z", ...) overrides the up-axis detection.
    """
    path = Path(path)
    if fps_in is not None and not fps_in > 0:
        raise file_error(path, f"fps_in must be positive, got {fps_in}")
    if scale is not None and not scale > 0:
        raise file_error(path, f"scale must be positive, got {scale}")
    if up is not None and up not in UP_ROTATIONS:
        raise file_error(path, f"up must be one of {', '.join(UP_ROTATIONS)}, got {up!r}")
    names, parents, translations, rotations, frame_time = parse_bvh(path)
    if fps_in is None:
        if not frame_time > 0:
            raise file_error(path, f"Frame Time is {frame_time}; pass fps_in")
        frame_time = snap_frame_time(frame_time)
    else:
        frame_time = 1.0 / fps_in
    if len(translations) < 2:
        raise file_error(path, "the file has a single frame: a motion needs at least 2")
    frames_in = len(translations)
    skeleton = choose_body_map(names, path)
    translations, rotations = resample_local(translations, rotations, frame_time)
    joints = map_to_ours(forward_kinematics(parents, translations, rotations), names, skeleton)
    scale = detect_scale(joints, path) if scale is None else float(scale)
    up = detect_up(joints) if up is None else up
    joints = joints * scale @ UP_ROTATIONS[up].T
    check_handedness(joints, path)
    joints[..., 1] -= joints[..., 1].min()
    return BvhMotion(path=str(path), joints=joints, fps_in=1.0 / frame_time, frames_in=frames_in, scale=scale,
                     skeleton=skeleton, up=up)


def bvh_to_joints(path, *, fps_in: float | None = None, scale: float | None = None,
                  up: str | None = None) -> np.ndarray:
    """A BVH file -> joints (T, 22, 3) float64, metres, 20 fps, y up, on the floor."""
    return read_bvh(path, fps_in=fps_in, scale=scale, up=up).joints
