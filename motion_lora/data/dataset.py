"""One Dataset for any folder in the HumanML3D layout: our MotionBank or the real HumanML3D.

Layout: new_joint_vecs/<id>.npy (N, 263), texts/<id>.txt (caption#tokens#start#end per line),
Mean.npy, Std.npy, {train,val,test}.txt; optionally labels/<id>.json (MotionBank only).

Loader conventions of the field's T2M dataset: keep clips with 40 <= N < 200 frames, a caption with a
start/end time becomes its own sub-clip, a random caption per item, lengths cut to a multiple of 4 at a
random offset, features normalised and zero-padded to 196 frames.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset

from ..motion.features import FEATURE_DIM, normalize
from ..motion.skeleton import FPS
from .captions import parse_text_line
from .clip import CONCEPT_INDEX

MIN_LEN, MAX_LEN, UNIT = 40, 196, 4
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class Entry:
    """One loadable item: a clip (or a captioned sub-clip) and its captions."""

    id: str
    features: np.ndarray  # (N, 263) float32, unnormalised
    captions: tuple[str, ...]
    concept: int  # index into CONCEPTS, -1 when unknown (real HumanML3D)
    fine: str
    heldout: tuple[bool, ...]  # per caption: a held-out phrasing (MotionBank test split only)


def read_split(root: Path, split: str) -> list[str]:
    path = root / f"{split}.txt"
    if not path.exists():
        raise FileNotFoundError(f"no split file {path}; is {root} a HumanML3D-layout folder?")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def read_label(root: Path, clip_id: str) -> dict | None:
    path = root / "labels" / f"{clip_id}.json"
    return json.loads(path.read_text()) if path.exists() else None


def mentions_concept(label: dict, captions: list[str], concept: str) -> bool:
    """Does a clip show or name `concept`: its label, any segment of a composite, or a caption word
    starting with the concept's name ("kick", "kicks", "kicking", "kickboxing")."""
    if label.get("concept") == concept or any(seg.get("concept") == concept for seg in label.get("segments", [])):
        return True
    word = re.compile(r"\b" + re.escape(concept.replace("_", " ")), re.IGNORECASE)
    return any(word.search(c) for c in captions)


def load_entries(root: Path, split: str, min_len: int = MIN_LEN, max_len: int = MAX_LEN, exclude_concepts: tuple[str, ...] = ()) -> list[Entry]:
    """Read every usable clip of a split, following the reference loader's rules.

    exclude_concepts: drop every clip that shows or names one of them (a "retrained without the concept"
    reference model for unlearning, as in Human Motion Unlearning, 2025)."""
    unknown = [c for c in exclude_concepts if c not in CONCEPT_INDEX]
    if unknown:
        raise ValueError(f"unknown concept(s) to exclude: {', '.join(unknown)}")
    entries = []
    for clip_id in read_split(root, split):
        vec_path = root / "new_joint_vecs" / f"{clip_id}.npy"
        text_path = root / "texts" / f"{clip_id}.txt"
        if not vec_path.exists() or not text_path.exists():
            continue  # the reference loader skips ids whose files are missing, too
        label = read_label(root, clip_id) or {}
        if exclude_concepts:
            lines = [parse_text_line(line)[0] for line in text_path.read_text(encoding="utf-8").splitlines() if line.strip()]
            if any(mentions_concept(label, lines, c) for c in exclude_concepts):
                continue
        features = np.load(vec_path).astype(np.float32)
        concept = CONCEPT_INDEX.get(label.get("concept", ""), -1)
        fine = label.get("fine", "")
        heldout_idx = set(label.get("heldout_captions", []))
        whole, whole_heldout = [], []
        for i, line in enumerate(text_path.read_text(encoding="utf-8").splitlines()):
            if not line.strip():
                continue
            caption, _tokens, start, end = parse_text_line(line)
            if start == 0.0 and end == 0.0 or math.isnan(start) or math.isnan(end):
                whole.append(caption)
                whole_heldout.append(i in heldout_idx)
                continue
            part = features[int(start * FPS) : int(end * FPS)]
            if min_len <= len(part) < 200:
                entries.append(Entry(f"{clip_id}#{i}", part, (caption,), concept, fine, (i in heldout_idx,)))
        if whole and min_len <= len(features) < 200:
            entries.append(Entry(clip_id, features, tuple(whole), concept, fine, tuple(whole_heldout)))
    if not entries:
        raise ValueError(f"split {split!r} of {root} has no clip of {min_len}..199 frames with captions")
    return entries


class MotionDataset(Dataset):
    """Normalised, padded motions with a caption, for training and evaluation.

    Items: dict(motion=(196, 263) float32 tensor, length=int, caption=str, concept=int, fine=str, id=str,
    heldout=bool). `captions="all"` expands every caption into its own item (for evaluation).
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        *,
        max_frames: int = MAX_LEN,
        seed: int | None = None,
        captions: str = "random",
        random_crop: bool = True,
        mean: np.ndarray | None = None,
        std: np.ndarray | None = None,
        exclude_concepts: tuple[str, ...] = (),
    ):
        root = Path(root)
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {SPLITS}")
        if captions not in ("random", "first", "all"):
            raise ValueError(f"captions must be 'random', 'first' or 'all', got {captions!r}")
        self.root, self.split, self.max_frames = root, split, max_frames
        self.mean = np.load(root / "Mean.npy").astype(np.float32) if mean is None else mean.astype(np.float32)
        self.std = np.load(root / "Std.npy").astype(np.float32) if std is None else std.astype(np.float32)
        if self.mean.shape != (FEATURE_DIM,) or self.std.shape != (FEATURE_DIM,):
            raise ValueError(f"Mean/Std must have shape ({FEATURE_DIM},), got {self.mean.shape}, {self.std.shape}")
        self.entries = load_entries(root, split, exclude_concepts=tuple(exclude_concepts))
        self.captions_mode, self.random_crop = captions, random_crop
        self.rng = np.random.default_rng(seed)
        # (entry index, caption index or -1 for random) pairs
        if captions == "all":
            self.items = [(e, c) for e, entry in enumerate(self.entries) for c in range(len(entry.captions))]
        else:
            self.items = [(e, -1) for e in range(len(self.entries))]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> dict:
        entry_index, caption_index = self.items[index]
        entry = self.entries[entry_index]
        if caption_index < 0:
            caption_index = int(self.rng.integers(len(entry.captions))) if self.captions_mode == "random" else 0
        features = entry.features[: self.max_frames]
        length = (len(features) // UNIT) * UNIT
        start = int(self.rng.integers(0, len(features) - length + 1)) if self.random_crop else 0
        motion = np.zeros((self.max_frames, FEATURE_DIM), dtype=np.float32)
        motion[:length] = normalize(features[start : start + length], self.mean, self.std)
        return {
            "motion": torch.from_numpy(motion),
            "length": length,
            "caption": entry.captions[caption_index],
            "concept": entry.concept,
            "fine": entry.fine,
            "id": entry.id,
            "heldout": entry.heldout[caption_index],
        }


def collate(items: list[dict]) -> dict:
    """Batch dicts from MotionDataset: tensors stacked, lengths as a LongTensor, strings as lists."""
    return {
        "motion": torch.stack([it["motion"] for it in items]),
        "length": torch.tensor([it["length"] for it in items], dtype=torch.long),
        "caption": [it["caption"] for it in items],
        "concept": torch.tensor([it["concept"] for it in items], dtype=torch.long),
        "fine": [it["fine"] for it in items],
        "id": [it["id"] for it in items],
        "heldout": torch.tensor([it["heldout"] for it in items], dtype=torch.bool),
    }
