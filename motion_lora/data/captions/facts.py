"""Facts about a segment (its attributes completed by measurement), the concept's phrasing spec, random picks."""

from __future__ import annotations

import numpy as np

from ..clip import CONCEPTS, Segment
from .phrasings import TRAIN_PHRASES


def _spec(concept: str) -> dict:
    if concept not in TRAIN_PHRASES:
        raise ValueError(f"unknown concept {concept!r}; known: {', '.join(CONCEPTS)}")
    return TRAIN_PHRASES[concept]


def _choice(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


def _weighted(rng: np.random.Generator, options):
    weights = np.array([w for _, w in options], dtype=float)
    return options[int(rng.choice(len(options), p=weights / weights.sum()))][0]


def _attrs_from_fine(concept: str, fine: str) -> dict:
    """Fallback attributes read from a fine label such as kick_front_right or walk_forward."""
    out = {}
    for token in fine[len(concept):].strip("_").split("_"):
        if not token:
            continue
        if token in ("left", "right", "both"):
            out.setdefault("side", token)
        elif token in ("forward", "backward"):
            out.setdefault("direction", token)
        elif token not in ("from", "face", "down", "up", "a", "b") or concept not in ("get_up", "dance"):
            out.setdefault("style", token)
    return out


def _normalise_attrs(segment: Segment) -> dict:
    """Attributes from `attrs`, completed from the fine label; sides become directions where no limb exists."""
    spec = _spec(segment.concept)
    attrs = {**_attrs_from_fine(segment.concept, segment.fine),
             **{k: v for k, v in segment.attrs.items() if v is not None}}
    if "start" in attrs and segment.concept == "get_up":
        attrs["style"] = attrs["start"]
    if "turn" in attrs and "direction" not in attrs and segment.concept in ("turn_around", "spin"):
        attrs["direction"] = attrs["turn"]
    if spec.get("limb") is None and attrs.get("side") in ("left", "right"):
        attrs.setdefault("direction", attrs["side"])
    if spec.get("limb") is None:
        attrs.pop("side", None)
    return attrs


def segment_facts(segment: Segment, measured: dict | None) -> dict:
    """What the captions of `segment` may say: its attributes, completed by measured mechanics.

    Measured facts (mechanics.describe_segment) fill what the attributes lack; for the side of a limb action
    the measured side wins when it disagrees (the clip shows it). Keys: side, direction, speed, count, style,
    manner, height, limb_direction, turn, turn_degrees.
    """
    spec = _spec(segment.concept)
    facts = _normalise_attrs(segment)
    limb = spec.get("limb")
    if measured:
        kind = limb if limb in ("arm", "leg") else None
        info = measured.get(kind) or {} if kind else {}
        if kind and info.get("side"):
            side = info["side"]
            if side == "both" and "both" not in spec.get("sides", ("both",)):
                side = facts.get("side", None) or None
            if side:
                facts["side"] = side
            if info.get("height"):
                facts.setdefault("height", info["height"])
            if info.get("direction"):
                facts.setdefault("limb_direction", info["direction"])
        if spec.get("directions") and measured.get("travel") in spec["directions"] and segment.concept != "jump":
            facts.setdefault("direction", measured["travel"])
        if segment.concept == "jump" and measured.get("travel") == "forward":
            facts.setdefault("direction", "forward")
        if measured.get("count") and spec.get("counts"):
            facts.setdefault("count", int(measured["count"]))
        if measured.get("speed"):
            facts.setdefault("speed", measured["speed"])
        if measured.get("turn"):
            if segment.concept in ("turn_around", "spin"):
                facts.setdefault("direction", measured["turn"])
                facts.setdefault("turn_degrees", abs(float(measured["turn_degrees"])))
            elif segment.concept in ("walk", "run"):
                facts.setdefault("turn", measured["turn"])
    if "side" not in facts and spec.get("default_side"):
        facts["side"] = spec["default_side"]
    if segment.concept in ("walk", "run") and facts.get("turn") not in ("left", "right"):
        facts.pop("turn", None)
    return facts
