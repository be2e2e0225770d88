"""Verb forms: predicates are written in the third person singular; plural and gerund forms are derived."""

from __future__ import annotations

import re

# Predicates are written in the third person singular ("kicks with ..."). The first word is a verb; later
# verbs that agree with the subject are marked with "^" ("lifts {limb} and ^snaps it forward"). Plural and
# gerund forms are derived (`_base`, `_gerund`).
_GERUND_EXCEPTIONS = {
    "does": "doing", "goes": "going", "is": "being", "has": "having", "lies": "lying", "dies": "dying",
    "squats": "squatting", "sidesteps": "sidestepping", "boogies": "boogieing", "pirouettes": "pirouetting", "quits": "quitting",
}
_BASE_EXCEPTIONS = {"does": "do", "goes": "go", "is": "are", "has": "have", "lies": "lie"}
_DOUBLING = re.compile(r"^[^aeiou]*[aeiou][bdgklmnprt]$")  # one short vowel + one consonant: step -> stepping


def _base(verb: str) -> str:
    """Third-person verb -> plural present form: kicks -> kick, punches -> punch, carries -> carry."""
    if verb in _BASE_EXCEPTIONS:
        return _BASE_EXCEPTIONS[verb]
    if verb.endswith("ies") and len(verb) > 4:
        return verb[:-3] + "y"
    if re.search(r"(ch|sh|ss|x|z|o)es$", verb):
        return verb[:-2]
    return verb[:-1] if verb.endswith("s") else verb


def _gerund(verb: str) -> str:
    """Third-person verb -> gerund: kicks -> kicking, dances -> dancing, steps -> stepping, lies -> lying."""
    if verb in _GERUND_EXCEPTIONS:
        return _GERUND_EXCEPTIONS[verb]
    stem = _base(verb)
    if stem.endswith("ie"):
        return stem[:-2] + "ying"
    if stem.endswith("e") and not stem.endswith(("ee", "ye", "oe")):
        return stem[:-1] + "ing"
    if _DOUBLING.match(stem):
        return stem + stem[-1] + "ing"
    return stem + "ing"


def _conjugate(predicate: str, form: str) -> str:
    """Put the head verb and every ^-marked verb of `predicate` in `form` ("sg", "pl" or "ger")."""
    words = predicate.split(" ")
    out = []
    for i, word in enumerate(words):
        if i == 0 or word.startswith("^"):
            word = word.lstrip("^")
            word = {"sg": word, "pl": _base(word), "ger": _gerund(word)}[form]
        out.append(word)
    return " ".join(out)
