"""Augmentations of `Motion` clips: mirror, time-warp, heading, amplitude, looping, idle padding, composites.

All functions are pure: they return a new Motion and never modify their input. Copies keep the
`source` of their original so that the train/val/test split can keep them together.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from scipy.interpolate import interp1d

from ..motion.quaternion import qinv, qmul, qrot, qyaw
from ..motion.skeleton import (
    facing_quaternion,
    forward_kinematics,
    inverse_kinematics,
    mirror_joints,
    offsets_from_joints,
)
from .clip import Motion, Segment

MIN_FRAMES = 40  # 2 s at 20 fps: shorter one-shot clips are padded with idle poses
MAX_FRAMES = 196  # HumanML3D's maximum clip length


def _replace(motion: Motion, joints: np.ndarray, segments: list[Segment] | None = None, **changes) -> Motion:
    return dataclasses.replace(motion, joints=joints, segments=segments if segments is not None else list(motion.segments), **changes)


def mirror(motion: Motion) -> Motion:
    """Left/right mirror image; sides in labels and caption attributes swap with it."""
    return _replace(motion, mirror_joints(motion.joints), [s.mirrored() for s in motion.segments])


def time_warp(motion: Motion, factor: float) -> Motion:
    """Play `factor` times faster (factor > 1 shortens the clip) by resampling joint positions."""
    if factor <= 0:
        raise ValueError(f"time-warp factor must be positive, got {factor}")
    T = motion.num_frames
    new_T = max(2, int(round((T - 1) / factor)) + 1)
    t_old = np.arange(T)
    t_new = np.linspace(0, T - 1, new_T)
    joints = interp1d(t_old, motion.joints, axis=0)(t_new)
    scale = (new_T - 1) / max(T - 1, 1)
    segments = [_clamp(s.rescaled(scale), new_T) for s in motion.segments]
    return _replace(motion, joints, segments)


def _clamp(segment: Segment, num_frames: int) -> Segment:
    start = min(segment.start, num_frames - 1)
    return dataclasses.replace(segment, start=start, end=min(max(segment.end, start + 1), num_frames))


def rotate_heading(motion: Motion, angle: float) -> Motion:
    """Turn the whole clip about the vertical axis through its frame-0 root."""
    pivot = motion.joints[0, 0] * np.array([1.0, 0.0, 1.0])
    joints = qrot(qyaw(np.array(angle)), motion.joints - pivot) + pivot
    return _replace(motion, joints)


def amplitude_warp(motion: Motion, factor: float) -> Motion:
    """Exaggerate (factor > 1) or damp (< 1) every bone's deviation from its mean direction.

    Works in the reference IK's rotations: each local rotation is pushed away from (or toward) the
    clip's mean rotation of that joint, so a kick gets higher or lower while the rest pose stays.
    """
    joints = motion.joints
    root = facing_quaternion(joints)
    quats = inverse_kinematics(joints, root)
    mean = _mean_rotation(quats[:, 1:])  # (21, 4)
    delta = qmul(qinv(mean)[None], quats[:, 1:])  # rotation from the mean, (T, 21, 4)
    quats[:, 1:] = qmul(mean[None], _scale_rotation(delta, factor))
    out = forward_kinematics(quats, joints[:, 0], offsets_from_joints(joints[0]))
    out[..., 1] -= min(out[..., 1].min() - joints[..., 1].min(), 0.0)  # never push feet through the floor
    return _replace(motion, out)


def _mean_rotation(quats: np.ndarray) -> np.ndarray:
    """(T, J, 4) -> (J, 4): sign-aligned normalised average, a good mean for clustered rotations."""
    ref = quats[0]
    aligned = np.where(((quats * ref).sum(-1, keepdims=True) < 0), -quats, quats)
    mean = aligned.mean(0)
    return mean / np.linalg.norm(mean, axis=-1, keepdims=True)


def _scale_rotation(q: np.ndarray, factor: float) -> np.ndarray:
    """Multiply the angle of each rotation (..., 4) by `factor`, keeping its axis."""
    q = np.where(q[..., :1] < 0, -q, q)
    half = np.arccos(np.clip(q[..., 0], -1.0, 1.0))
    sin_half = np.sin(half)
    axis = np.where(sin_half[..., None] > 1e-9, q[..., 1:] / np.maximum(sin_half, 1e-9)[..., None], 0.0)
    return np.concatenate([np.cos(half * factor)[..., None], np.sin(half * factor)[..., None] * axis], axis=-1)


def loop(motion: Motion, min_frames: int) -> Motion:
    """Repeat a cyclic clip until it has at least `min_frames`, continuing its travel and turning.

    A cyclic clip's last frame flows into its first, so each repetition is shifted to start one step past
    the previous one, without turning it: every looping clip we have (gaits, cyclic mocap such as spins and
    cartwheels) ends facing the way it started, up to the gait's sway. Estimating a turn per cycle from the
    instantaneous facing would add that sway (8 degrees for the DeepMimic walk) every cycle, so long loops
    of a straight walk would curve. Counts in the caption attributes grow with the repeats.
    """
    if not motion.cyclic:
        raise ValueError("only cyclic clips can be looped")
    joints = motion.joints
    T = len(joints)
    if T >= min_frames:
        return motion
    pieces, segments = [joints], list(motion.segments)
    repeats = 1
    while sum(len(p) for p in pieces) < min_frames:
        offset = sum(len(p) for p in pieces)
        pieces.append(_continue_after(pieces[-1], joints))
        segments += [s.shifted(offset) for s in motion.segments]
        repeats += 1
    out = np.concatenate(pieces, axis=0)
    merged = _merge_repeats(segments, repeats, len(out))
    return _replace(motion, out, merged)


def _continue_from(previous: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Place `clip` so that its first frame's root and heading coincide with `previous`'s last frame."""
    turn = qmul(_heading(previous[-1]), qinv(_heading(clip[0])))
    moved = qrot(turn, clip - clip[0, 0] * np.array([1.0, 0.0, 1.0]))
    return moved + previous[-1, 0] * np.array([1.0, 0.0, 1.0])


def _continue_after(previous: np.ndarray, clip: np.ndarray) -> np.ndarray:
    """Shift `clip` so that its first root lands one step (the last frame's own step) past `previous`."""
    root = previous[-1, 0] + (previous[-1, 0] - previous[-2, 0])
    return clip + (root - clip[0, 0]) * np.array([1.0, 0.0, 1.0])


def _heading(pose: np.ndarray) -> np.ndarray:
    """(22, 3) -> (4,) yaw rotation taking +Z to the pose's facing direction."""
    return qinv(facing_quaternion(pose[None])[0])


def _merge_repeats(segments: list[Segment], repeats: int, num_frames: int) -> list[Segment]:
    """Join consecutive repeats of the same fine label into one segment and scale its count."""
    merged: list[Segment] = []
    for s in segments:
        if merged and merged[-1].fine == s.fine and s.start <= merged[-1].end:
            merged[-1] = dataclasses.replace(merged[-1], end=max(merged[-1].end, s.end))
        else:
            merged.append(s)
    out = []
    for s in merged:
        attrs = dict(s.attrs)
        if isinstance(attrs.get("count"), int):
            attrs["count"] = attrs["count"] * repeats
        out.append(dataclasses.replace(s, end=min(s.end, num_frames), attrs=attrs))
    return out


def pad_idle(motion: Motion, min_frames: int, rng: np.random.Generator) -> Motion:
    """Hold the first and last poses (with a slight breathing sway) until the clip lasts `min_frames`."""
    T = motion.num_frames
    missing = min_frames - T
    if missing <= 0:
        return motion
    before = int(rng.integers(0, missing + 1))
    after = missing - before
    head = _hold(motion.joints[0], before, rng)[::-1]
    tail = _hold(motion.joints[-1], after, rng)
    joints = np.concatenate([head, motion.joints, tail], axis=0)
    return _replace(motion, joints, [s.shifted(before) for s in motion.segments], cyclic=False)


def _hold(pose: np.ndarray, frames: int, rng: np.random.Generator) -> np.ndarray:
    """(22, 3) -> (frames, 22, 3): the pose held still except a ~1 cm chest rise, feet untouched."""
    if frames == 0:
        return np.zeros((0,) + pose.shape)
    phase = rng.uniform(0, 2 * np.pi)
    t = np.arange(1, frames + 1) / 20.0
    breath = 0.006 * (np.sin(2 * np.pi * 0.25 * t + phase) - np.sin(phase))  # (frames,), 0 at the seam
    lift = np.zeros((frames,) + pose.shape)
    upper = [9, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]  # spine3 and everything above it
    lift[:, upper, 1] = breath[:, None]
    return pose[None] + lift


def crop(motion: Motion, max_frames: int, rng: np.random.Generator) -> Motion:
    """Cut a random window of at most `max_frames`, keeping the segments that fall inside it."""
    T = motion.num_frames
    if T <= max_frames:
        return motion
    start = int(rng.integers(0, T - max_frames + 1))
    end = start + max_frames
    segments = []
    for s in motion.segments:
        lo, hi = max(s.start, start), min(s.end, end)
        if hi - lo >= min(10, s.end - s.start):  # keep segments with at least 0.5 s inside the window
            segments.append(dataclasses.replace(s, start=lo - start, end=hi - start))
    if not segments:  # the window fell between segments: keep the longest overlap instead of none
        best = max(motion.segments, key=lambda s: min(s.end, end) - max(s.start, start))
        segments = [dataclasses.replace(best, start=max(best.start, start) - start, end=max(min(best.end, end) - start, max(best.start, start) - start + 1))]
    return _replace(motion, motion.joints[start:end].copy(), segments)


def composite(parts: list[Motion], blend: int = 8) -> Motion:
    """Play 2-3 motions one after another with a smooth cross-fade of `blend` frames between them.

    Each part is moved and turned to start where the previous one ends; the seam is a linear blend of
    the overlapping frames, which keeps feet above the floor because both poses are.
    """
    if not 2 <= len(parts) <= 3:
        raise ValueError(f"a composite joins 2 or 3 motions, got {len(parts)}")
    joints = parts[0].joints
    segments = list(parts[0].segments)
    for part in parts[1:]:
        nxt = _continue_from(joints, part.joints)
        b = min(blend, len(joints) - 1, len(nxt) - 1)
        w = np.linspace(0.0, 1.0, b + 2)[1:-1, None, None]  # (b, 1, 1) excluding the pure ends
        seam = (1 - w) * joints[len(joints) - b:] + w * nxt[:b]
        offset = len(joints) - b
        joints = np.concatenate([joints[: len(joints) - b], seam, nxt[b:]], axis=0)
        segments += [s.shifted(offset) for s in part.segments]
    return Motion(
        joints=joints,
        segments=_fit_segments(segments, len(joints)),
        source="+".join(p.source for p in parts),
        real=any(p.real for p in parts),
        cyclic=False,
    )


def _fit_segments(segments: list[Segment], num_frames: int) -> list[Segment]:
    return [_clamp(s, num_frames) for s in segments]
