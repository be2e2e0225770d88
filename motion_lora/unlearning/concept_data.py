"""The data-based unlearning methods' training clips: a concept's clips and every other clip of a MotionBank.

Gradient ascent (`motion_lora.unlearning.gradient_ascent`) and the task vector (`motion_lora.unlearning.task_vector`) learn from motion
data instead of the model's own rollouts. Their forget set is every training clip that shows or names the concept
(its label, a segment of a composite, or a caption word: `data.dataset.mentions_concept`, the same rule that builds
the retrained-without-the-concept reference); the retain set is every other training clip. Features are
normalised with the *base model's* Mean/Std, so the clips are in the space the denoiser was trained in.
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from ..data.clip import CONCEPT_INDEX, CONCEPTS
from ..data.dataset import MotionDataset, collate, mentions_concept, read_label

DATA_HINT = "build it with `python -m motion_lora.data build --out data/motionbank --seed 0` and pass --data data/motionbank"


def check_data_folder(data: str | Path | None, method: str) -> Path:
    """The dataset folder of a data-based method, or a ValueError that says how to get one."""
    if not data or not str(data).strip():
        raise ValueError(f"method {method!r} learns from motion clips and needs the dataset folder (--data); {DATA_HINT}")
    root = Path(data)
    if not (root / "train.txt").is_file() or not (root / "new_joint_vecs").is_dir():
        raise ValueError(f"method {method!r} needs a HumanML3D-layout dataset folder, and {root} is not one (no train.txt / new_joint_vecs/); {DATA_HINT}")
    return root


def _subset(dataset: MotionDataset, keep: set[int]) -> MotionDataset:
    """A view of `dataset` holding only the entries in `keep` (shares the loaded features)."""
    view = copy.copy(dataset)
    view.items = [item for item in dataset.items if item[0] in keep]
    return view


def concept_split(data: str | Path, concept: str, base_dir: str | Path, *, split: str = "train", seed: int = 0, method: str = "ga") -> tuple[MotionDataset, MotionDataset]:
    """(forget, retain) datasets of `split`: the clips that show or name `concept`, and all others."""
    root = check_data_folder(data, method)
    if concept not in CONCEPT_INDEX:
        raise ValueError(f"method {method!r} needs the concept's clips, and MotionBank has none for {concept!r} (its concepts: {', '.join(CONCEPTS)})")
    base_dir = Path(base_dir)
    mean, std = np.load(base_dir / "Mean.npy", allow_pickle=False), np.load(base_dir / "Std.npy", allow_pickle=False)
    dataset = MotionDataset(root, split, seed=seed, mean=mean, std=std)
    labels: dict[str, dict] = {}
    forget = set()
    for i, entry in enumerate(dataset.entries):
        clip_id = entry.id.split("#")[0]
        if clip_id not in labels:
            labels[clip_id] = read_label(root, clip_id) or {}
        if mentions_concept(labels[clip_id], list(entry.captions), concept):
            forget.add(i)
    retain = set(range(len(dataset.entries))) - forget
    if not forget:
        raise ValueError(f"{root} has no {split} clip that shows or names {concept!r}")
    if not retain:
        raise ValueError(f"{root} has no {split} clip without {concept!r} to retain")
    return _subset(dataset, forget), _subset(dataset, retain)


class ClipStream:
    """Endless random batches of one dataset (items drawn with a seeded generator, cropped to the longest)."""

    def __init__(self, dataset: MotionDataset, batch_size: int, generator: torch.Generator):
        self.dataset, self.batch_size, self.g = dataset, batch_size, generator

    def __len__(self) -> int:
        return len(self.dataset)

    def next(self, device: torch.device | str = "cpu") -> dict:
        idx = torch.randint(0, len(self.dataset), (self.batch_size,), generator=self.g).tolist()
        batch = collate([self.dataset[i] for i in idx])
        longest = int(batch["length"].max())
        batch["motion"] = batch["motion"][:, :longest].to(device)
        batch["length"] = batch["length"].to(device)
        return batch
