"""What one MotionBank clip is before it is written to disk: joints plus what they mean.

Every source of motion (DeepMimic mocap, procedural generators, composites) produces `Motion` objects;
augmentation transforms them; the caption grammar reads their `segments`; the builder writes them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

# Coarse concepts, the classifier's classes. Order is fixed: it is the label index on disk.
CONCEPTS = (
    "walk", "run", "jump", "kick", "punch", "wave", "clap", "raise_arms", "squat", "bow",
    "jumping_jacks", "side_step", "turn_around", "march", "throw", "stretch",
    "backflip", "cartwheel", "crawl", "dance", "get_up", "roll", "spin",
    "slash", "gesture", "stand",
)
CONCEPT_INDEX = {c: i for i, c in enumerate(CONCEPTS)}
# Concepts that only the Bandai Namco mocap shows (no procedural generator, no DeepMimic clip): a build
# without that dataset has no clips of them.
BANDAI_ONLY_CONCEPTS = ("slash", "gesture")

SIDES = ("left", "right", "both")
SPEEDS = ("slow", "normal", "fast")


@dataclass(frozen=True, kw_only=True)
class Segment:
    """A stretch of a clip that shows one concept. Frames are [start, end) at 20 fps."""

    concept: str
    fine: str  # e.g. "kick_front_right"; always starts with the concept name
    start: int
    end: int
    # Caption attributes: side ("left"/"right"/"both"/None), speed ("slow"/"normal"/"fast"),
    # count (int or None), direction ("forward"/"backward"/"left"/"right"/None), plus free extras
    # such as {"style": "front"}. Only JSON-serialisable values.
    attrs: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.concept not in CONCEPT_INDEX:
            raise ValueError(f"unknown concept {self.concept!r}; known: {', '.join(CONCEPTS)}")
        if not self.fine.startswith(self.concept):
            raise ValueError(f"fine label {self.fine!r} must start with its concept {self.concept!r}")
        if not 0 <= self.start < self.end:
            raise ValueError(f"bad segment frames [{self.start}, {self.end})")

    def shifted(self, offset: int) -> "Segment":
        return dataclasses.replace(self, start=self.start + offset, end=self.end + offset)

    def rescaled(self, factor: float) -> "Segment":
        return dataclasses.replace(self, start=int(round(self.start * factor)), end=max(int(round(self.end * factor)), int(round(self.start * factor)) + 1))

    def mirrored(self) -> "Segment":
        return dataclasses.replace(self, fine=swap_side_words(self.fine, sep="_"), attrs=mirror_attrs(self.attrs))


@dataclass(kw_only=True)
class Motion:
    """A clip: joints (T, 22, 3) in metres, y up, 20 fps, with the segments that say what happens."""

    joints: np.ndarray
    segments: list[Segment]
    source: str  # id of the original motion; augmented copies share it, so splits never straddle it
    real: bool = False  # True for motion capture (DeepMimic)
    cyclic: bool = False  # True when the last frame flows into the first (can be looped)

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def concept(self) -> str:
        """The main concept: the longest segment's (composites have several)."""
        return max(self.segments, key=lambda s: s.end - s.start).concept

    @property
    def fine(self) -> str:
        return max(self.segments, key=lambda s: s.end - s.start).fine

    @property
    def is_composite(self) -> bool:
        return len(self.segments) > 1


_SIDE_SWAP = {"left": "right", "right": "left"}


def swap_side_words(text: str, sep: str = " ") -> str:
    """Swap the words left/right (and Left/Right) in a caption or a `_`-separated label."""
    out = []
    for word in text.split(sep):
        core = word.rstrip(".,;:!?")
        tail = word[len(core):]
        lower = core.lower()
        if lower in _SIDE_SWAP:
            swapped = _SIDE_SWAP[lower]
            core = swapped.capitalize() if core[:1].isupper() else swapped
        out.append(core + tail)
    return sep.join(out)


def mirror_attrs(attrs: dict) -> dict:
    """Mirror side and direction attributes (left <-> right); everything else is kept."""
    out = dict(attrs)
    for key in ("side", "direction", "turn"):
        if out.get(key) in _SIDE_SWAP:
            out[key] = _SIDE_SWAP[out[key]]
    return out
