"""Captions for MotionBank clips that read like human annotators wrote them, plus the HumanML3D text format.

A caption is drawn in three steps:

1. **Facts** about each segment: its attributes (`Segment.attrs`: side, speed, count, direction, style,
   turn, manner), completed by what `mechanics.describe_segment` measures on the clip's own joints (which
   limb moves, how high, which way, how fast, how many times, how much it turns). Measured facts fill what
   the attributes lack; for the side of a limb action the measurement wins (it is what the clip shows).
2. **A predicate** per segment from that concept's phrasings — plain verbs, synonyms, implicit descriptions
   that never name the concept ("lifts the right leg and snaps it forward"), phrasings that need a measured
   fact ("raises the left hand above the head and waves it back and forth") — plus modifiers in random order:
   side, direction, height, count, speed, manner (the Bandai Namco style names turned into words), turn.
3. **A construction** around it: a subject (many people and pronouns), plain / progressive / gerund fragment
   / noun fragment / passive forms, preludes and codas ("..., then returns to standing"), composite joins
   (then / and then / before / after / followed by / next), and the small liberties annotators take
   (capital first letter or not, a terminal period or not).

Two disjoint phrasing sets exist per concept: the *training* phrasings (`TRAIN_PHRASES`), used for every
caption written to the dataset and for the concept-erasure prompt set (`concept_paraphrases`), and the
*held-out* phrasings (`HELDOUT_PHRASES`: rarer verbs and constructions), used only on test clips to measure
whether erasure generalises. `heldout_markers(concept)` lists words/phrases found in every held-out phrasing
of the concept and in no training caption of any concept (tests/test_captions.py checks both by sampling).

Side words are always the literal words "left"/"right", so `swap_side_words` turns the captions of a clip
into the captions of its mirror image; random draws never depend on the side, so a clip and its mirror get
the same captions up to that swap.
"""

from __future__ import annotations

import numpy as np

from ..clip import Segment
from .constructions import _draw, _normal_form, _one_caption, _validate
from .facts import _choice, _spec, segment_facts
from .heldout import HELDOUT_PHRASES
from .modifiers import MANNERS


def caption_motion(joints: np.ndarray | None, segments: list[Segment], rng: np.random.Generator, n: int = 3,
                   heldout: bool = False) -> list[str]:
    """`n` distinct captions (different after lowercasing and dropping a final period) for a clip.

    joints (T, 22, 3) are the clip's own joints: each segment's mechanics are measured on them
    (`mechanics.describe_segment`) and complete its attributes; None captions from the attributes only.
    `segments` are in time order. heldout=True draws from the held-out phrasings only. Deterministic for a
    given rng state; a clip and its mirror image (same rng seed) get captions that differ only in left/right.
    """
    _validate(segments, n)
    measured = [None] * len(segments)
    if joints is not None:
        from ..mechanics import describe_segment  # scipy is only needed when joints are given

        measured = [describe_segment(joints, s) for s in segments]
    facts = [segment_facts(s, m) for s, m in zip(segments, measured)]
    return _draw(segments, facts, rng, n, heldout)


def caption_segments(segments: list[Segment], rng: np.random.Generator, n: int = 3, heldout: bool = False) -> list[str]:
    """`n` distinct captions for a clip made of `segments` from their attributes alone (no joints)."""
    return caption_motion(None, segments, rng, n=n, heldout=heldout)


def attribute_choices(concept: str) -> dict[str, tuple]:
    """Attribute values a concept is captioned with (used for sampling paraphrases and in tests)."""
    spec = _spec(concept)
    return {
        "side": tuple(spec.get("sides", ())),
        "direction": tuple(spec.get("directions", ())),
        "style": tuple(spec.get("styles", {})),
        "count": (1, 2, 3, 4, 10) if spec.get("counts") else (),
        "speed": ("slow", "normal", "fast"),
    }


def concept_paraphrases(concept: str, rng: np.random.Generator | None = None, n: int = 16) -> list[str]:
    """`n` distinct training captions of `concept` with varied attributes and manners (the erasure prompt set).

    They are focused on the concept: no "then returns to standing" codas or preludes, which every concept
    shares and which would make prompts of different concepts look alike to a sentence encoder.
    """
    choices = attribute_choices(concept)
    rng = np.random.default_rng(0) if rng is None else rng
    out: list[str] = []
    seen: set[str] = set()
    manners = tuple(MANNERS)
    for attempt in range(50 * n + 20):
        if len(out) >= n:
            break
        attrs = {}
        if attempt % 2:  # every other prompt is bare ("a person kicks"), the rest carry attributes
            for key, values in choices.items():
                if values and rng.random() < 0.5:
                    attrs[key] = _choice(rng, values)
            if rng.random() < 0.25:
                attrs["manner"] = _choice(rng, manners)
        segment = Segment(concept=concept, fine=concept, start=0, end=1, attrs=attrs)
        caption = _one_caption([segment], [segment_facts(segment, None)], rng, False, focused=True)
        if _normal_form(caption) not in seen:
            seen.add(_normal_form(caption))
            out.append(caption)
    return out


def heldout_markers(concept: str) -> tuple[str, ...]:
    """Lowercase words/phrases found in every held-out phrasing of `concept` and in no training caption."""
    _spec(concept)
    return HELDOUT_PHRASES[concept][1]
