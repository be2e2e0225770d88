"""Whole captions: subject, predicate and construction (plain, progressive, passive, fragments, composites)."""

from __future__ import annotations

import numpy as np

from ..clip import Segment
from .facts import _choice, _spec, _weighted
from .modifiers import DIRECTION_PHRASES, LIMB_NOUNS, PASSIVE_SIDE, PLURALS
from .predicates import _clean, _count_phrase, _fill, _manner_words, _segment_predicate
from .subjects import _DETERMINERS, _PRONOUN_SUBJECTS, PRONOUNS, SUBJECTS
from .templates import COMPOSITE_TEMPLATES, PRELUDES, SINGLE_TEMPLATES, TRAVELLING
from .verbs import _conjugate


def _subject(rng: np.random.Generator, override: tuple | None) -> tuple[str, str]:
    return override if override is not None else _choice(rng, SUBJECTS)


def _bare_noun(subject: str) -> str | None:
    """'a man' -> 'man'; None for pronouns and for subjects that are already bare."""
    if subject in _PRONOUN_SUBJECTS:
        return None
    for det in _DETERMINERS:
        if subject.startswith(det):
            return subject[len(det):]
    return subject


def _passive(segment: Segment, facts: dict, pron: tuple, subject: str, rng: np.random.Generator,
             heldout: bool) -> str | None:
    """'a kick is thrown with the left foot twice' / 'a high kick is performed by a man'; None if unsupported."""
    spec = _spec(segment.concept)
    if heldout or not spec.get("nouns") or not spec.get("passive"):
        return None
    noun, plural = _choice(rng, spec["nouns"])
    participle = _choice(rng, spec["passive"])
    if plural and participle.startswith("is "):
        participle = "are " + participle[3:]
    elif not plural and participle.startswith("are "):
        participle = "is " + participle[4:]
    parts = [noun, participle]
    limb, side = spec.get("limb"), facts.get("side")
    if limb and side in ("left", "right"):
        parts.append(_choice(rng, PASSIVE_SIDE).format(side=side, noun=_choice(rng, LIMB_NOUNS[limb])))
    elif limb and side == "both":
        parts.append(f"with both {PLURALS[_choice(rng, LIMB_NOUNS[limb])]}")
    if facts.get("direction") in DIRECTION_PHRASES:
        parts.append(_choice(rng, DIRECTION_PHRASES[facts["direction"]]).format(poss="the"))
    count = facts.get("count")
    if isinstance(count, (int, np.integer)) and count > 1 and rng.random() < 0.7:
        parts.append(_count_phrase(int(count), rng))
    if rng.random() < 0.4 and subject not in _PRONOUN_SUBJECTS and _bare_noun(subject) != subject:
        parts.append(f"by {subject}")
    return " ".join(parts)


def _event_fragment(segment: Segment, facts: dict, rng: np.random.Generator, heldout: bool) -> str | None:
    """A noun fragment as annotators jot them: 'a kick with the right leg', 'a quick jump, twice'."""
    spec = _spec(segment.concept)
    if heldout or not spec.get("nouns"):
        return None
    noun, _ = _choice(rng, spec["nouns"])
    parts = [noun]
    limb, side = spec.get("limb"), facts.get("side")
    if limb and side in ("left", "right"):
        parts.append(f"with the {side} {_choice(rng, LIMB_NOUNS[limb])}")
    elif limb and side == "both":
        parts.append(f"with both {PLURALS[_choice(rng, LIMB_NOUNS[limb])]}")
    if facts.get("direction") in DIRECTION_PHRASES:
        parts.append(_choice(rng, DIRECTION_PHRASES[facts["direction"]]).format(poss="the"))
    return " ".join(parts)


def _coda(concept: str, pron: tuple, side: str | None, rng: np.random.Generator) -> dict | None:
    spec = _spec(concept)
    codas = spec.get("codas", ())
    if not codas:
        return None
    text = _fill(_choice(rng, codas).replace("^", ""), pron, side, spec.get("limb"), "", rng)
    return {form: _conjugate(text, form) for form in ("sg", "pl", "ger")}


def _surface(text: str, rng: np.random.Generator) -> str:
    """Annotator liberties: a capital first letter sometimes, a terminal period sometimes."""
    text = _clean(text)
    if rng.random() < 0.3:
        text = text[0].upper() + text[1:]
    if rng.random() < 0.3:
        text += "."
    return text


def _one_caption(segments: list[Segment], facts: list[dict], rng: np.random.Generator, heldout: bool,
                 focused: bool = False) -> str:
    """One caption. focused=True leaves out preludes, codas and concurrent clauses (words about other things
    than the concept, such as "then returns to standing"), for prompt sets that must be about the concept."""
    manner_subject, manner_adverb = _manner_words(facts[0].get("manner"), rng)
    subject, gender = _subject(rng, manner_subject)
    if heldout and gender == "p":
        # Held-out markers are third-person and gerund forms ("sidles", "sidling"): keep verbs singular.
        subject, gender = "this person", "n"
    pron = PRONOUNS[gender]
    plural = gender == "p"
    agree = "pl" if plural else "sg"
    adverbs = [manner_adverb] + [_manner_words(f.get("manner"), rng)[1] for f in facts[1:]]
    parts = [_segment_predicate(s, f, pron, rng, heldout, a, focused) for s, f, a in zip(segments, facts, adverbs)]

    if len(parts) == 1:
        template = _weighted(rng, SINGLE_TEMPLATES)
        if focused and ("{X}" in template or "{C" in template or "still" in template):
            template = "{S} {P}"
        bare = _bare_noun(subject)
        if "{N}" in template and bare is None:
            template = "{S} {P}"
        if "{X}" in template and segments[0].concept in TRAVELLING:
            template = "{S} {P}"  # "standing in place, a man walks" contradicts itself
        fields = {"S": subject, "P": parts[0][agree], "G": parts[0]["ger"], "N": bare or subject,
                  "be": "are" if plural else "is", "stands": "stand" if plural else "stands", "X": _choice(rng, PRELUDES)}
        if "{C" in template:
            coda = _coda(segments[0].concept, pron, facts[0].get("side"), rng)
            if coda is None:
                template = "{S} {P}"
            else:
                fields["C"], fields["Cg"] = coda[agree], coda["ger"]
        if template in ("{PASSIVE}", "{EF}"):
            make = _passive if template == "{PASSIVE}" else None
            text = (make(segments[0], facts[0], pron, subject, rng, heldout) if make
                    else _event_fragment(segments[0], facts[0], rng, heldout))
            return _surface(text if text else f"{subject} {parts[0][agree]}", rng)
        return _surface(template.format(**fields), rng)

    pron_word = pron[0]
    if heldout and pron_word == "they":
        pron_word = _choice(rng, ("the person", "this person"))
    pron_agree = "pl" if pron_word == "they" else "sg"
    if len(parts) in COMPOSITE_TEMPLATES:
        template = _choice(rng, COMPOSITE_TEMPLATES[len(parts)])
    else:  # longer chains: "A, then B, then C, and finally D"
        middle = "".join(f", then {{P{i}}}" for i in range(1, len(parts) - 1))
        template = "{S} {A}" + middle + f", and finally {{P{len(parts) - 1}}}"
    fields = {"S": subject, "pron": pron_word}
    for i, forms in enumerate(parts):
        fields[f"P{i}"] = forms[agree]
        if i < 3:
            fields["ABC"[i]], fields["abc"[i]], fields["ABC"[i] + "p"] = forms[agree], forms["ger"], forms[pron_agree]
    return _surface(template.format(**fields), rng)


def _normal_form(caption: str) -> str:
    return caption.lower().rstrip(".")


def _validate(segments: list[Segment], n: int) -> None:
    if not segments:
        raise ValueError("captions need at least one segment")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    for s in segments:
        _spec(s.concept)


def _draw(segments: list[Segment], facts: list[dict], rng: np.random.Generator, n: int, heldout: bool) -> list[str]:
    captions: list[str] = []
    seen: set[str] = set()
    for _ in range(50 * n + 20):  # bounded: a tiny phrasing set must not loop forever
        if len(captions) >= n:
            break
        caption = _one_caption(segments, facts, rng, heldout)
        if _normal_form(caption) not in seen:
            seen.add(_normal_form(caption))
            captions.append(caption)
    if len(captions) < min(n, 3):
        raise RuntimeError(f"phrasings produced only {len(captions)} distinct captions for {segments}")
    return captions
