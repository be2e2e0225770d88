"""A motion to plot from a `.npy` file or a clip id: joints (T, 22, 3) or features (T, 263), and its title."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...motion.features import FEATURE_DIM, recover_joints
from ...motion.skeleton import NUM_JOINTS, check_joints

DEFAULT_DATA = "data/motionbank"


def as_joints(array: np.ndarray) -> np.ndarray:
    """Joints (T, 22, 3) or HumanML3D features (T, 263), told apart by shape -> validated joints (T, 22, 3)."""
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"expected a numeric array, got dtype {array.dtype}")
    if array.ndim == 2 and array.shape[1] == FEATURE_DIM:
        if not np.isfinite(array).all():
            raise ValueError("features contain NaN or infinite values")
        if array.shape[0] < 1:
            raise ValueError("features have no frames")
        return check_joints(recover_joints(array))
    if array.ndim == 3 and array.shape[1:] == (NUM_JOINTS, 3):
        if array.shape[0] < 1:
            raise ValueError("joints have no frames")
        return check_joints(array)
    raise ValueError(
        f"cannot tell what an array of shape {array.shape} is: expected joints (T, {NUM_JOINTS}, 3) "
        f"or features (T, {FEATURE_DIM})"
    )


def _first_caption(text_file: Path) -> str | None:
    if not text_file.is_file():
        return None
    for line in text_file.read_text(encoding="utf-8").splitlines():
        caption = line.split("#", 1)[0].strip()
        if caption:
            return caption
    return None


def load_motion(arg: str | os.PathLike, data_dir: str | os.PathLike = DEFAULT_DATA) -> tuple[np.ndarray, str]:
    """A `.npy` path or a clip id -> (joints (T, 22, 3), title).

    An id is looked up in `<data_dir>/new_joints/<id>.npy` (then `new_joint_vecs/<id>.npy`); the title is
    the clip's first caption from `texts/<id>.txt` when there is one, else the id / file name.
    Raises FileNotFoundError for a missing file or unknown id and ValueError for unusable contents.
    """
    arg_str = os.fspath(arg)
    path = Path(arg_str)
    if arg_str.endswith(".npy") or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"no such motion file: {path}")
        # A file inside a HumanML3D layout (<root>/new_joints/<id>.npy) still gets its caption.
        title = _first_caption(path.parent.parent / "texts" / f"{path.stem}.txt") or path.stem
    else:
        data = Path(data_dir)
        candidates = [data / "new_joints" / f"{arg_str}.npy", data / "new_joint_vecs" / f"{arg_str}.npy"]
        found = [c for c in candidates if c.is_file()]
        if not found:
            if not data.is_dir():
                raise FileNotFoundError(f"unknown clip id {arg_str!r}: data folder {data} does not exist")
            raise FileNotFoundError(f"unknown clip id {arg_str!r}: neither {candidates[0]} nor {candidates[1]} exists")
        path = found[0]
        title = _first_caption(data / "texts" / f"{arg_str}.txt") or arg_str
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as err:  # pickled object arrays, truncated files
        raise ValueError(f"cannot read {path} as a numeric .npy array: {err}") from None
    try:
        return as_joints(array), title
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None
