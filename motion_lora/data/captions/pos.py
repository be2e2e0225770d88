"""Part-of-speech tags (universal tags, spaCy style): closed-class words, suffix rules and the verbs of our
own phrasings; unknown words are nouns.
"""

from __future__ import annotations

import re

from .heldout import HELDOUT_PHRASES
from .modifiers import NUMBER_WORDS, TURN_PHRASES
from .phrasings import TRAIN_PHRASES
from .verbs import _base, _gerund

_CLOSED_CLASS = {
    "DET": "a an the this that these those both some all each every another any no",
    "PRON": ("someone somebody something anything everyone he she they it him them her his their its himself "
             "herself themselves itself we us you i me my our your one"),
    "AUX": "is are was were be being been am can could will would may might should must",
    "CCONJ": "and or but nor",
    "SCONJ": "while as if because until when though although whereas so",
    "ADP": ("with by into in on from through at of over toward towards across after before like onto off above "
            "for without under below near beside during per than about against along upon within"),
    "PART": "not n't",
    "ADV": ("then first finally forward forwards backward backwards sideways around out down up upward upwards "
            "overhead once twice thrice repeatedly straight ahead high together low again away back fast still "
            "very too also just almost afterwards next apart aside there here far even leftward rightward "
            "skyward lively later soon now slightly well"),
    "ADJ": ("left right few several other whole upper front side slow quick big small tall short young old "
            "elderly tired happy sad angry proud full half deep light heavy single low long broad vertical "
            "sharp normal imaginary neutral starting original little huge giant weary sleepy nervous shy "
            "macho burly tough graceful elegant cheerful joyful gloomy furious annoyed irritated timid "
            "insecure hesitant teenage youthful active energetic confident showy theatrical lumbering cocky "
            "straight friendly karate same opposite complete clenched fighting boxing stiff sudden"),
}
_LEXICON = {w: tag for tag, words in _CLOSED_CLASS.items() for w in words.split()}
_ADJ_SUFFIXES = ("ful", "ous", "ive", "less", "able", "ible", "ish", "ic", "ical", "al")
_NOUN_CONTEXT = frozenset({"DET", "ADJ", "NUM", "POSS"})
_POSSESSIVES = frozenset({"his", "her", "their", "its", "my", "our", "your"})
_NOUN_AFTER_DET = frozenset({"back", "left", "right", "side", "front"})


def _phrase_texts():
    for spec in TRAIN_PHRASES.values():
        for key in ("train", "implicit", "codas", "whiles"):
            yield from spec.get(key, ())
        for group in ("styles", "speeds", "facts"):
            for texts in spec.get(group, {}).values():
                yield from texts
        for participle in spec.get("passive", ()):
            yield participle.split(" ", 1)[1]
    for phrases, _ in HELDOUT_PHRASES.values():
        yield from phrases
    yield from TURN_PHRASES


def _verb_forms() -> frozenset[str]:
    """Every verb form our phrasings can emit: heads and ^-marked verbs in 3sg, plural and gerund form."""
    verbs = set()
    for text in _phrase_texts():
        words = text.split(" ")
        for i, word in enumerate(words):
            if i == 0 or word.startswith("^"):
                word = word.lstrip("^")
                if word.endswith("s") or word == "is":
                    verbs.update({word, _base(word), _gerund(word)})
                else:
                    verbs.add(word)  # participles of the passive ("thrown", "given")
    verbs -= set(_LEXICON)  # closed-class words keep their class
    return frozenset(verbs)


VERBS = _verb_forms()
NUMBERS = frozenset(NUMBER_WORDS)


def _words(caption: str) -> list[str]:
    # Lowercase, punctuation dropped; hyphens and slashes split words (spaCy splits them too).
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", caption.lower())


def _tag_word(word: str, prev_tag: str, nxt: str) -> str:
    """Tag of one word from its spelling and its neighbours (prev_tag: tag of the previous word, POSS for
    possessive pronouns)."""
    if word.isdigit() or word in NUMBERS:
        return "NUM"
    if word == "to":
        return "PART" if nxt in VERBS and not nxt.endswith("ing") else "ADP"
    if word in ("left", "right"):
        if _is_nounish(nxt):
            return "ADJ"  # "the right leg"
        return "NOUN" if prev_tag in _NOUN_CONTEXT else "ADV"  # "to the left" / "turns left"
    if word in _NOUN_AFTER_DET and prev_tag in _NOUN_CONTEXT:
        return "NOUN"  # "on their back", "to the side"
    if word in _LEXICON:
        return _LEXICON[word]
    if word in VERBS:
        return "NOUN" if prev_tag in _NOUN_CONTEXT and not word.endswith("ing") else "VERB"  # "a kick", "kicks"
    if len(word) > 4 and word.endswith("ly"):
        return "ADV"
    if len(word) > 4 and word.endswith(("ing", "ed")):
        return "VERB"
    if len(word) > 5 and word.endswith(_ADJ_SUFFIXES):
        return "ADJ"
    return "NOUN"


def _is_nounish(word: str) -> bool:
    return bool(word) and word not in _LEXICON and not word.endswith("ly") and (word not in VERBS or word in
                                                                                ("foot", "hand", "arm", "leg"))


def pos_tag(caption: str) -> str:
    """'a person kicks' -> 'a/DET person/NOUN kicks/VERB'; unknown words -> NOUN."""
    words = _words(caption)
    tags = []
    prev_tag = ""
    for i, word in enumerate(words):
        nxt = words[i + 1] if i + 1 < len(words) else ""
        tag = _tag_word(word, prev_tag, nxt)
        tags.append(f"{word}/{tag}")
        prev_tag = "POSS" if word in _POSSESSIVES else tag
    return " ".join(tags)
