"""BVH files and folders -> a HumanML3D-layout folder (features, joints, one caption per clip, statistics)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ...motion.skeleton import FPS
from .errors import BvhImportError
from .reader import read_bvh


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
    from ...motion.features import extract_features, feature_statistics, recover_joints
    from ..captions import format_text_line

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
        log(f"{path}: {motion.skeleton} skeleton, {motion.frames_in} frames at {motion.fps_in:g} fps, "
            f"units x{motion.scale:g}, up {motion.up} -> {clip_id}: {len(features)} frames at {FPS} fps "
            f"({len(features) / FPS:.1f} s){note}")
    if features_all:
        mean, std = feature_statistics(features_all)
        np.save(root / "Mean.npy", mean.astype(np.float32))
        np.save(root / "Std.npy", std.astype(np.float32))
    for name in ("all.txt", "train.txt"):
        (root / name).write_text("".join(i + "\n" for i in ids))
    frames = sum(len(f) for f in features_all)
    summary = {"files": len(files), "imported": len(ids), "failed": len(errors), "frames": frames, "errors": errors}
    log(f"imported {len(ids)} of {len(files)} BVH files, {frames} frames ({frames / FPS / 60:.1f} min at {FPS} fps) "
        f"into {root}" + (f"; {len(errors)} failed" if errors else ""))
    return summary
