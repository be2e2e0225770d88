"""A segment's predicate: the concept's phrasing filled with limb, side, direction, count and manner words."""

from __future__ import annotations

import re

import numpy as np

from ..clip import Segment
from .facts import _choice, _spec
from .heldout import HELDOUT_PHRASES
from .modifiers import (
    ARM_DIRECTION,
    ARM_HEIGHT,
    BOTH_PHRASES,
    COUNT_PHRASES,
    DIRECTION_PHRASES,
    LEG_DIRECTION,
    LEG_HEIGHT,
    LIMB_FORMS,
    LIMB_NOUNS,
    MANNER_SAID,
    MANNERS,
    MANY_COUNT_PHRASES,
    MAX_MODIFIERS,
    NORMAL_SAID,
    NUMBER_WORDS,
    PLURALS,
    PRE_VERB_ADVERBS,
    SIDE_PHRASES,
    SPEED_PHRASES,
    TURN_DEGREES,
    TURN_PHRASES,
)
from .verbs import _conjugate


def _count_phrase(count: int, rng: np.random.Generator) -> str:
    if count in COUNT_PHRASES:
        return _choice(rng, COUNT_PHRASES[count])
    word = NUMBER_WORDS[count] if count < len(NUMBER_WORDS) else str(count)
    return _choice(rng, MANY_COUNT_PHRASES).format(n=word)


def _limb_phrase(limb: str, noun: str | None, side: str | None, poss: str, rng: np.random.Generator) -> str:
    """Noun phrase for {limb}: 'the right leg', 'her left foot', 'both hands', 'a leg'."""
    noun = noun or _choice(rng, LIMB_NOUNS[limb])
    form = _choice(rng, LIMB_FORMS)  # drawn whatever the side, so left and right consume the rng alike
    if side in ("left", "right"):
        return form.format(side=side, noun=noun, poss=poss)
    if side == "both":
        return f"both {PLURALS.get(noun, noun + 's')}"
    return f"{poss} {noun}"


def _degrees_phrase(degrees: float, rng: np.random.Generator) -> str:
    nearest = int(min(TURN_DEGREES, key=lambda d: abs(d - degrees)))
    return _choice(rng, TURN_DEGREES[nearest])


def _fill(template: str, pron: tuple, side: str | None, limb: str | None, dir_phrase: str,
          rng: np.random.Generator) -> str:
    _, poss, obj, refl = pron
    text = re.sub(r"\{limb(?::(\w+))?\}", lambda m: _limb_phrase(limb or "arm", m.group(1), side, poss, rng), template)
    return text.replace("{dir}", dir_phrase).format(poss=poss, obj=obj, refl=refl)


def _predicate_pool(concept: str, facts: dict, heldout: bool) -> tuple[str, ...]:
    spec = _spec(concept)
    if heldout:
        return HELDOUT_PHRASES[concept][0]
    pool = list(spec["train"]) + list(spec.get("implicit", ()))
    pool += list(spec.get("styles", {}).get(facts.get("style"), ())) * 2
    pool += list(spec.get("speeds", {}).get(facts.get("speed"), ())) * 2
    for key in ("height", "limb_direction", "direction"):
        name = "direction" if key == "limb_direction" else key
        pool += list(spec.get("facts", {}).get(f"{name}={facts.get(key)}", ())) * 2
    if facts.get("direction") == "backward":
        pool += list(spec.get("facts", {}).get("travel=backward", ())) * 3
    return tuple(pool)


def _manner_words(manner: str | None, rng: np.random.Generator) -> tuple[tuple | None, str | None]:
    """(subject override or None, manner adverbial or None) for a raw Bandai style name."""
    if manner is None:
        return None, None
    info = MANNERS.get(str(manner).lower())
    if info is None:
        return None, None
    said = rng.random() < (NORMAL_SAID if manner == "normal" else MANNER_SAID)
    how = rng.random()  # 0-0.35 subject only, 0.35-0.8 adverb only, else both
    if not said:
        return None, None
    subject = _choice(rng, info["subjects"]) if info["subjects"] and (how < 0.35 or how >= 0.8) else None
    adverb = None
    if subject is None or how >= 0.8:
        # With a styled subject, an adverb that repeats it ("an elderly man ... like an elderly person") is dropped.
        taken = set(subject[0].split()) - {"a", "an", "the"} if subject else set()
        options = [a for a in info["adverbs"] if not taken & set(a.split())] or [None]
        adverb = _choice(rng, options)
    return subject, adverb


def _segment_predicate(segment: Segment, facts: dict, pron: tuple, rng: np.random.Generator, heldout: bool,
                       manner_adverb: str | None, focused: bool = False) -> dict:
    """The predicate of one segment in three forms: {'sg': 'kicks ...', 'pl': 'kick ...', 'ger': 'kicking ...'}."""
    spec = _spec(segment.concept)
    limb, side, direction = spec.get("limb"), facts.get("side"), facts.get("direction")
    _, poss, obj, _ = pron
    predicate = _choice(rng, _predicate_pool(segment.concept, facts, heldout))

    dir_phrase = ""
    if direction in DIRECTION_PHRASES:
        dir_phrase = _choice(rng, DIRECTION_PHRASES[direction]).format(poss=poss)
    names_limb = "{limb" in predicate
    has_dir = "{dir}" in predicate
    predicate = _fill(predicate, pron, side, limb, dir_phrase, rng)
    # "walks backwards" already says the direction; "cartwheels sideways" does not say to which side.
    says_direction = has_dir or (direction in ("forward", "backward") and direction in predicate)

    extras = []
    side_phrase = None
    if limb and side and not names_limb:
        noun = _choice(rng, LIMB_NOUNS[limb])
        if side == "both":
            side_phrase = _choice(rng, BOTH_PHRASES).format(nouns=PLURALS[noun], poss=poss)
        else:
            side_phrase = _choice(rng, SIDE_PHRASES).format(side=side, noun=noun, poss=poss)
    if dir_phrase and not says_direction:
        predicate = f"{predicate} {dir_phrase}"  # directions read best right after the verb
    # Measured mechanics: how high and which way the limb went (only when the predicate does not say it).
    kind = limb if limb in ("arm", "leg") else None
    height, limb_dir = facts.get("height"), facts.get("limb_direction")
    height_words = (LEG_HEIGHT if kind == "leg" else ARM_HEIGHT).get(height, ()) if kind else ()
    if height_words and segment.concept in ("kick", "wave", "raise_arms", "clap", "punch") and rng.random() < 0.45:
        phrase = _choice(rng, height_words).format(poss=poss)
        if not any(w in predicate for w in ("high", "height", "head", "low", "level", "overhead")):
            extras.append(phrase)
    dir_words = (LEG_DIRECTION if kind == "leg" else ARM_DIRECTION).get(limb_dir, ()) if kind else ()
    if dir_words and segment.concept in ("kick", "punch", "raise_arms", "gesture") and rng.random() < 0.35:
        phrase = _choice(rng, dir_words)
        if not any(w in predicate for w in ("forward", "ahead", "side", "front", "back", "up")):
            extras.append(phrase)
    count = facts.get("count")
    if isinstance(count, (int, np.integer)) and count > 0 and rng.random() < (0.35 if count == 1 else 0.8):
        if not any(w in predicate for w in ("times", "again and again", "repeatedly", "a few")):
            extras.append(_count_phrase(int(count), rng))
    if facts.get("turn_degrees") and rng.random() < 0.4 and segment.concept in ("turn_around", "spin"):
        extras.append(_degrees_phrase(float(facts["turn_degrees"]), rng))
    speed_words = SPEED_PHRASES.get(facts.get("speed"), ())
    pre_adverb = ""
    if speed_words and rng.random() < 0.75:
        adverb = _choice(rng, speed_words)
        if adverb in PRE_VERB_ADVERBS and rng.random() < 0.3:
            pre_adverb = adverb
        elif adverb not in predicate:
            extras.append(adverb)
    if manner_adverb:
        extras.append(manner_adverb.format(poss=poss))
    if side_phrase:
        extras.append(side_phrase)
    extras = [extras[i] for i in rng.permutation(len(extras))]
    if side_phrase:  # the side is always said (it is what mirroring changes); other modifiers may be dropped
        extras.remove(side_phrase)
        extras = extras[:MAX_MODIFIERS - 1]
        extras.insert(0 if rng.random() < 0.6 else len(extras), side_phrase)  # mostly next to the verb
    else:
        extras = extras[:MAX_MODIFIERS]
    if facts.get("turn") in ("left", "right") and rng.random() < 0.8:
        extras.append(_choice(rng, TURN_PHRASES).format(turn=facts["turn"]))
    whiles = spec.get("whiles", ())
    if whiles and rng.random() < 0.12 and not focused:
        extras.append(_choice(rng, whiles).format(poss=poss, obj=obj))

    text = _clean(" ".join([predicate, *extras]))
    forms = {form: _conjugate(text, form) for form in ("sg", "pl", "ger")}
    if pre_adverb:
        forms = {k: f"{pre_adverb} {v}" for k, v in forms.items()}
    return forms


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
