"""Caption grammar for MotionBank clips, plus the HumanML3D `caption#tokens#start#end` text format.

Two disjoint phrasing sets exist per concept:

* the *training* grammar (`TRAIN_PHRASES`), used for every caption written to the dataset and for the
  concept-erasure prompt set (`concept_paraphrases`);
* the *held-out* grammar (`HELDOUT_PHRASES`), whose verbs and constructions never occur in training
  captions, including implicit descriptions that do not name the concept ("swings the right leg up to
  strike"). It measures whether erasing a concept generalises beyond the prompts used to erase it.
  `heldout_markers(concept)` lists words/phrases that occur in every held-out phrasing of the concept
  and in no training caption of any concept; the tests check both properties by sampling.

Side words are always the literal words "left"/"right", so `swap_side_words` turns the captions of a
clip into the captions of its mirror image (hyphenated forms such as "right-handed" are avoided on
purpose: `swap_side_words` only swaps whole space-separated words).
"""

from __future__ import annotations

import math
import re

import numpy as np

from .clip import CONCEPTS, Segment

# --------------------------------------------------------------------------------------------------
# Grammar data
# --------------------------------------------------------------------------------------------------

# (subject, possessive). The possessive fills "{poss}" so that "a woman ... her right leg" agrees.
SUBJECTS = (
    ("a person", "their"), ("someone", "their"), ("a man", "his"), ("a woman", "her"),
    ("the person", "their"), ("a figure", "their"), ("a human", "their"), ("the man", "his"),
    ("the woman", "her"), ("an individual", "their"), ("a guy", "his"), ("a girl", "her"),
)

# Nouns a side phrase may use, by limb; "{limb:fist}" in a phrase forces a specific noun.
LIMB_NOUNS = {"leg": ("leg", "foot"), "arm": ("arm", "hand")}
PLURALS = {"leg": "legs", "foot": "feet", "arm": "arms", "hand": "hands", "fist": "fists"}

# Predicates are written in the third person ("kicks with ..."); the gerund ("kicking with ...") needed by
# "after kicking, ..." and "is kicking" is derived from the first word (see `_gerund`).
# Placeholders: {limb} / {limb:noun} -> "the right leg", "her left foot", "both hands", "a leg";
# {dir} -> the direction phrase (when absent, the direction is appended after the predicate);
# {poss} -> the subject's possessive.
#
# Keys per concept:
#   limb: which limb side phrases name (None: side left/right is read as a direction instead)
#   default_side: side assumed when the segment has none (raise_arms means both arms)
#   sides / directions / counts / styles: attribute values this concept is sampled with
#   train / heldout: generic predicates; styles: extra training predicates per style
TRAIN_PHRASES = {
    "walk": dict(
        directions=("forward", "backward", "left", "right"),
        train=("walks", "takes a few steps", "walks {dir} steadily", "moves {dir} on foot"),
    ),
    "run": dict(
        directions=("forward", "backward", "left", "right"),
        train=("runs", "breaks into a run", "takes off running", "moves {dir} at a run"),
    ),
    "jump": dict(
        counts=True, directions=("forward",),
        train=("jumps", "does a jump", "jumps into the air", "performs a jump"),
        styles={"up": ("jumps straight up", "jumps in place", "does a vertical jump"),
                "forward": ("does a long jump", "does a broad jump")},
    ),
    "kick": dict(
        limb="leg", sides=("left", "right"), counts=True,
        train=("kicks", "does a kick", "performs a kick", "kicks out", "kicks {limb} out"),
        styles={"front": ("does a front kick", "kicks straight ahead"),
                "side": ("does a side kick", "kicks sideways"),
                "spin": ("does a spinning kick", "performs a spin kick")},
    ),
    "punch": dict(
        limb="arm", sides=("left", "right"), counts=True,
        train=("punches", "throws a punch", "does a punch", "punches the air"),
        styles={"jab": ("does a jab", "throws a jab"),
                "cross": ("throws a cross", "does a cross punch")},
    ),
    "wave": dict(
        limb="arm", sides=("left", "right", "both"), counts=True,
        train=("waves", "waves {limb:hand}", "gives a wave", "waves {limb:hand} in the air"),
    ),
    "clap": dict(
        counts=True,
        train=("claps", "claps {poss} hands", "claps {poss} hands together", "gives a clap"),
    ),
    "raise_arms": dict(
        limb="arm", sides=("left", "right", "both"), default_side="both",
        train=("raises {limb}", "lifts {limb} up", "puts {limb} up", "raises {limb} above {poss} head",
               "holds {limb} up high"),
    ),
    "squat": dict(
        counts=True,
        train=("squats", "squats down", "does a squat", "performs a squat", "lowers into a squat"),
    ),
    "bow": dict(
        counts=True,
        train=("bows", "bows down", "takes a bow", "does a bow", "bows forward"),
    ),
    "jumping_jacks": dict(
        counts=True,
        train=("does jumping jacks", "performs jumping jacks", "does a set of jumping jacks",
               "does some jumping jacks"),
    ),
    "side_step": dict(
        directions=("left", "right"), counts=True,
        train=("sidesteps", "steps sideways", "takes a side step", "moves sideways",
               "steps {dir} sideways"),
    ),
    "turn_around": dict(
        directions=("left", "right"),
        train=("turns around", "turns around {dir}", "turns {dir} to face the other way", "does a half turn",
               "turns {poss} body around"),
    ),
    "march": dict(
        directions=("forward",), counts=False,
        train=("marches", "marches in place", "does a march", "marches along"),
    ),
    "throw": dict(
        limb="arm", sides=("left", "right"),
        train=("throws", "throws something", "throws a ball", "makes a throw"),
        styles={"overarm": ("throws overarm", "does an overarm throw"),
                "underarm": ("throws underarm", "does an underarm throw")},
    ),
    "stretch": dict(
        directions=("left", "right"),
        train=("stretches", "does a stretch", "stretches out", "stretches {poss} body"),
        styles={"overhead": ("stretches {poss} arms overhead", "stretches upward"),
                "side": ("leans sideways", "does a side stretch {dir}")},
    ),
    "backflip": dict(
        counts=True,
        train=("does a backflip", "performs a backflip", "does a back flip", "flips backwards"),
    ),
    "cartwheel": dict(
        directions=("left", "right"), counts=True,
        train=("does a cartwheel", "performs a cartwheel", "cartwheels", "turns a cartwheel"),
    ),
    "crawl": dict(
        directions=("forward", "backward", "left", "right"),
        train=("crawls", "crawls along the floor", "crawls {dir} on the ground", "moves {dir} by crawling"),
    ),
    "dance": dict(
        train=("dances", "does a dance", "dances around", "performs a dance", "dances happily"),
    ),
    "get_up": dict(
        train=("gets up", "gets up from the ground", "stands up", "gets back up", "stands up from the ground"),
        styles={"facedown": ("gets up from lying face down", "stands up from a face down position"),
                "faceup": ("gets up from lying on {poss} back", "stands up from lying face up")},
    ),
    "roll": dict(
        directions=("forward", "backward", "left", "right"), counts=True,
        train=("rolls", "rolls on the ground", "does a roll", "rolls over"),
    ),
    "spin": dict(
        directions=("left", "right"), counts=True,
        train=("spins", "spins around", "does a spin", "spins in place", "does a full spin"),
    ),
    "slash": dict(
        limb="arm", sides=("left", "right", "both"), counts=True,
        train=("slashes", "slashes with a sword", "swings a sword", "makes a slashing cut"),
    ),
    "gesture": dict(
        limb="arm", sides=("left", "right", "both"),
        train=("gestures", "points the way", "gestures with {limb:hand}", "beckons someone over"),
    ),
    "stand": dict(
        train=("stands still", "stands in place", "stands idle", "waits standing"),
    ),
}

# Held-out phrasings and the markers that identify them. Every held-out phrase contains a marker of its
# own concept; no training caption contains any marker (both checked in tests/test_captions.py).
HELDOUT_PHRASES = {
    "walk": (("strolls", "paces {dir}", "ambles {dir}", "wanders {dir}"),
             ("strolls", "strolling", "paces", "pacing", "ambles", "ambling", "wanders", "wandering")),
    "run": (("sprints", "dashes", "jogs", "races {dir} on foot"),
            ("sprints", "sprinting", "dashes", "dashing", "jogs", "jogging", "races", "racing")),
    "jump": (("leaps", "springs off the ground", "hops", "bounds into the air"),
             ("leaps", "leaping", "springs", "springing", "hops", "hopping", "bounds", "bounding")),
    "kick": (("swings {limb} up to strike", "delivers a blow with {limb:foot}", "strikes out with {limb:foot}",
              "lashes out with {limb}"),
             ("strike", "strikes", "striking", "delivers a blow", "delivering a blow", "lashes", "lashing")),
    "punch": (("throws {limb:fist} forward", "drives {limb:fist} into the air", "hits the air with {limb:fist}",
               "thrusts the knuckles of {limb:hand} forward", "pummels the air"),
              ("fist", "fists", "knuckles", "pummels", "pummeling")),
    "wave": (("greets someone by moving {limb:hand} side to side", "bids farewell with {limb:hand}",
              "signals a greeting with {limb:hand}", "salutes"),
             ("greets", "greeting", "side to side", "farewell", "salutes", "saluting")),
    "clap": (("applauds", "brings the palms together", "smacks the palms together"),
             ("applauds", "applauding", "palms")),
    "raise_arms": (("hoists {limb}", "reaches for the sky with {limb}", "elevates {limb}"),
                   ("hoists", "hoisting", "elevates", "elevating", "reaches for the sky",
                    "reaching for the sky")),
    "squat": (("crouches", "crouches down low", "sinks the hips toward the floor", "drops low by bending the knees"),
              ("crouches", "crouching", "sinks the hips", "sinking the hips", "bending the knees")),
    "bow": (("bends at the waist to show respect", "inclines the upper body politely",
             "lowers the head and torso respectfully"),
            ("at the waist", "respect", "respectfully", "politely", "inclines", "inclining")),
    "jumping_jacks": (("does star jumps", "performs star jumps", "spreads the arms and legs out in rhythm"),
                      ("star jumps", "spreads the arms and legs", "spreading the arms and legs")),
    "side_step": (("shuffles laterally", "sidles {dir}", "slides {dir} laterally"),
                  ("shuffles", "shuffling", "laterally", "sidles", "sidling")),
    "turn_around": (("pivots {dir}", "rotates {poss} body {dir} to look behind", "pivots to look behind"),
                    ("pivots", "pivoting", "rotates", "rotating", "behind")),
    "march": (("parades", "lifts the knees high like a soldier", "steps like a soldier"),
              ("parades", "parading", "soldier")),
    "throw": (("hurls something", "pitches a ball", "lobs an object", "flings something"),
              ("hurls", "hurling", "pitches", "pitching", "lobs", "lobbing", "flings", "flinging")),
    "stretch": (("limbers up", "loosens up {poss} muscles", "limbers up the whole body"),
                ("limbers", "limbering", "loosens", "loosening")),
    "backflip": (("somersaults backwards", "vaults backward through the air", "turns head over heels backwards"),
                 ("somersaults", "somersaulting", "vaults", "vaulting", "head over heels")),
    "cartwheel": (("wheels sideways over the hands", "goes hand over hand sideways", "flips sideways onto the hands"),
                  ("wheels", "wheeling", "hand over hand", "onto the hands")),
    "crawl": (("creeps on hands and knees", "moves {dir} on all fours", "creeps along the ground"),
              ("creeps", "creeping", "all fours", "hands and knees")),
    "dance": (("grooves to the music", "boogies", "moves rhythmically", "sways to a beat"),
              ("grooves", "grooving", "boogies", "boogieing", "rhythmically", "sways", "swaying")),
    "get_up": (("rises from the floor", "climbs to {poss} feet", "pushes off the floor to stand", "rises to standing"),
               ("rises", "rising", "climbs", "climbing", "pushes off the floor", "pushing off the floor")),
    "roll": (("tumbles", "tumbles across the floor", "turns over and over on the ground"),
             ("tumbles", "tumbling", "over and over")),
    "spin": (("twirls", "pirouettes", "whirls around"),
             ("twirls", "twirling", "pirouettes", "pirouetting", "whirls", "whirling")),
    "slash": (("cuts through the air with a blade", "hacks with a blade"),
              ("blade", "hacks", "hacking")),
    "gesture": (("motions someone to come closer", "indicates a direction with {limb:hand}"),
                ("motions", "motioning", "indicates", "indicating")),
    "stand": (("remains motionless", "stays put without moving"),
              ("motionless", "stays put", "staying put")),
}

# Modifier phrases. Left/right are kept as the literal words so mirroring is a word swap.
SIDE_PHRASES = ("with the {side} {noun}", "with {poss} {side} {noun}", "using the {side} {noun}",
                "using {poss} {side} {noun}")
BOTH_PHRASES = ("with both {nouns}", "using both {nouns}")
LIMB_FORMS = ("the {side} {noun}", "{poss} {side} {noun}")
DIRECTION_PHRASES = {
    "forward": ("forward", "forwards"),
    "backward": ("backward", "backwards"),
    "left": ("to the left", "to {poss} left", "toward the left"),
    "right": ("to the right", "to {poss} right", "toward the right"),
}
SPEED_PHRASES = {
    "slow": ("slowly", "at a slow pace", "gently", "carefully"),
    "normal": (),  # a normal speed goes unsaid, as in real captions
    "fast": ("quickly", "briskly", "rapidly", "fast", "at a fast pace", "energetically"),
}
# Adverbs that also read well before the verb ("a person slowly kicks").
PRE_VERB_ADVERBS = ("slowly", "gently", "carefully", "quickly", "briskly", "rapidly")
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

# Whole-caption constructions. {S} subject, {A}/{B}/{C} finite predicates, {a}/{b}/{c} gerunds.
SINGLE_TEMPLATES = ("{S} {A}", "{S} {A}", "{S} is {a}")  # the plain form twice: it is the most common
COMPOSITE_TEMPLATES = {
    2: ("{S} {A}, then {B}", "{S} {A} and then {B}", "{S} {A}, and then {B}", "{S} first {A}, then {B}",
        "after {a}, {S} {B}", "{S} {A} before {b}"),
    3: ("{S} {A}, then {B}, and finally {C}", "{S} {A}, {B} and then {C}", "{S} first {A}, then {B}, then {C}",
        "after {a}, {S} {B} and then {C}", "{S} {A}, then {B} before {c}"),
}
# Gerunds that the spelling rules in `_gerund` get wrong (consonant doubling, irregulars).
_GERUND_EXCEPTIONS = {
    "does": "doing", "goes": "going", "runs": "running", "gets": "getting", "claps": "clapping",
    "jogs": "jogging", "hops": "hopping", "lobs": "lobbing", "steps": "stepping", "sidesteps": "sidestepping",
    "puts": "putting", "bids": "bidding", "hits": "hitting", "squats": "squatting", "drops": "dropping",
    "flips": "flipping", "spins": "spinning", "boogies": "boogieing", "is": "being",
}


def _gerund(verb: str) -> str:
    """Third-person verb -> gerund: kicks -> kicking, dances -> dancing, punches -> punching."""
    if verb in _GERUND_EXCEPTIONS:
        return _GERUND_EXCEPTIONS[verb]
    if re.search(r"(ch|sh|ss|x|z)es$", verb):
        return verb[:-2] + "ing"
    stem = verb[:-1] if verb.endswith("s") else verb
    if stem.endswith("e") and not stem.endswith("ee"):
        stem = stem[:-1]
    return stem + "ing"


# --------------------------------------------------------------------------------------------------
# Part-of-speech lexicon (universal tags, spaCy style) for every word the grammar emits
# --------------------------------------------------------------------------------------------------

_LEXICON_GROUPS = {
    "DET": "a an the both some all",
    "PRON": "someone something their his her",
    "AUX": "is",
    "CCONJ": "and",
    "ADP": "with by into in on from through at of over toward across after before like up onto off above for",
    "NUM": " ".join(NUMBER_WORDS),
    "ADV": ("then first finally forward forwards backward backwards sideways around out down upward overhead "
            "along once twice thrice repeatedly straight ahead high together low slowly gently carefully quickly "
            "briskly rapidly fast energetically steadily happily underarm overarm laterally respectfully "
            "politely rhythmically behind back"),
    "ADJ": "few several slow vertical long broad front cross half full upper whole other left right",
    "NOUN": ("person man woman figure human individual guy girl leg legs foot feet arm arms hand hands fist fists "
             "steps run jump air kick punch jab wave clap squat bow jacks set side step turn body march ball "
             "throw stretch backflip flip cartwheel floor ground dance roll spin head place pace time times "
             "position sky blow knuckles farewell greeting palms hips knees waist respect torso way face "
             "star rhythm soldier object muscles heels music beat fours standing"),
    "VERB": ("walks takes moves runs breaks jumps does performs kicks punches throws waves gives claps raises "
             "lifts puts holds squats lowers bows sidesteps turns marches stretches leans flips cartwheels crawls "
             "dances gets stands rolls spins makes strolls paces ambles wanders sprints dashes "
             "jogs races leaps springs hops bounds swings delivers strikes lashes drives hits thrusts "
             "pummels greets bids signals salutes applauds brings smacks hoists reaches elevates "
             "crouches sinks drops bends inclines spreads shuffles sidles slides pivots rotates "
             "parades hurls pitches lobs flings limbers loosens somersaults vaults wheels goes "
             "creeps grooves boogies sways rises climbs pushes tumbles twirls pirouettes whirls "
             "lying using steps"),
    "PART": "to",
}
LEXICON = {w: tag for tag, words in _LEXICON_GROUPS.items() for w in words.split()}
# Gerunds are verbs too ("after kicking", "is kicking", "by moving"): derive them from the finite forms.
LEXICON.update({_gerund(w): "VERB" for w in _LEXICON_GROUPS["VERB"].split() if w.endswith("s")})
# Bare infinitives only occur after "to" ("to strike", "to face the other way"); elsewhere the same
# spelling is a noun ("face down") or absent.
INFINITIVES = frozenset({"strike", "face", "look", "stand", "show"})
# Words whose tag depends on the previous word: a noun after a determiner, possessive or adjective ("on
# their back", "to the left", "a few steps"), otherwise their lexicon tag ("gets back up", "steps sideways").
_NOUN_AFTER_DET = frozenset({"back", "left", "right", "steps"})

_NOUN_LIKE = {"NOUN", "PROPN"}


# --------------------------------------------------------------------------------------------------
# Grammar helpers (pure functions)
# --------------------------------------------------------------------------------------------------


def _spec(concept: str) -> dict:
    if concept not in TRAIN_PHRASES:
        raise ValueError(f"unknown concept {concept!r}; known: {', '.join(CONCEPTS)}")
    return TRAIN_PHRASES[concept]


def _to_gerund(predicate: str) -> str:
    head, _, rest = predicate.partition(" ")
    return f"{_gerund(head)} {rest}".strip()


def _choice(rng: np.random.Generator, options):
    return options[int(rng.integers(len(options)))]


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
        else:
            out.setdefault("style", token)
    return out


def _normalise_attrs(segment: Segment) -> dict:
    """Attributes from `attrs`, completed from the fine label; sides become directions where no limb exists."""
    spec = _spec(segment.concept)
    attrs = {**_attrs_from_fine(segment.concept, segment.fine),
             **{k: v for k, v in segment.attrs.items() if v is not None}}
    if "turn" in attrs and "direction" not in attrs:
        attrs["direction"] = attrs["turn"]
    if spec.get("limb") is None and attrs.get("side") in ("left", "right"):
        attrs.setdefault("direction", attrs["side"])
    if spec.get("limb") is None:
        attrs.pop("side", None)
    if "side" not in attrs and spec.get("default_side"):
        attrs["side"] = spec["default_side"]
    return attrs


def _count_phrase(count: int, rng: np.random.Generator) -> str:
    if count == 1:
        options = ("once", "one time")
    elif count == 2:
        options = ("twice", "two times")
    elif count == 3:
        options = ("three times", "a few times", "thrice")
    else:
        word = NUMBER_WORDS[count] if count < len(NUMBER_WORDS) else str(count)
        options = (f"{word} times", "several times", "repeatedly")
    return _choice(rng, options)


def _limb_phrase(limb: str, noun: str | None, side: str | None, poss: str, rng: np.random.Generator) -> str:
    """Noun phrase for {limb}: 'the right leg', 'her left foot', 'both hands', 'a leg'."""
    noun = noun or _choice(rng, LIMB_NOUNS[limb])
    form = _choice(rng, LIMB_FORMS)  # drawn whatever the side, so left and right consume the rng alike
    if side in ("left", "right"):
        return form.format(side=side, noun=noun, poss=poss)
    if side == "both":
        return f"both {PLURALS[noun]}"
    return ("an " if noun[0] in "aeiou" else "a ") + noun


def _segment_predicate(segment: Segment, poss: str, rng: np.random.Generator, heldout: bool) -> tuple[str, str]:
    """(finite, gerund) predicate for one segment, e.g. ('kicks with the right leg twice', 'kicking ...')."""
    spec = _spec(segment.concept)
    attrs = _normalise_attrs(segment)
    limb, side, direction = spec.get("limb"), attrs.get("side"), attrs.get("direction")

    if heldout:
        pool = HELDOUT_PHRASES[segment.concept][0]
    else:
        pool = tuple(spec["train"]) + tuple(spec.get("styles", {}).get(attrs.get("style"), ()))
    predicate = _choice(rng, pool)

    # {limb}/{limb:noun} inside the predicate names the side itself; otherwise a side phrase is appended.
    names_limb = "{limb" in predicate
    predicate = re.sub(r"\{limb(?::(\w+))?\}",
                       lambda m: _limb_phrase(limb or "arm", m.group(1), side, poss, rng), predicate)
    extras = []
    side_phrase = None
    if limb and side and not names_limb:
        noun = _choice(rng, LIMB_NOUNS[limb])
        if side == "both":
            side_phrase = _choice(rng, BOTH_PHRASES).format(nouns=PLURALS[noun])
        else:
            side_phrase = _choice(rng, SIDE_PHRASES).format(side=side, noun=noun, poss=poss)
    dir_phrase = ""
    if direction in DIRECTION_PHRASES:
        dir_phrase = _choice(rng, DIRECTION_PHRASES[direction]).format(poss=poss)
    if "{dir}" in predicate:
        predicate = predicate.replace("{dir}", dir_phrase)
    elif dir_phrase:
        predicate = f"{predicate} {dir_phrase}"  # directions read best right after the verb
    count = attrs.get("count")
    if isinstance(count, (int, np.integer)) and count > 0 and (rng.random() < 0.85):
        extras.append(_count_phrase(int(count), rng))
    speed_words = SPEED_PHRASES.get(attrs.get("speed"), ())
    pre_adverb = ""
    if speed_words and rng.random() < 0.85:
        adverb = _choice(rng, speed_words)
        if adverb in PRE_VERB_ADVERBS and rng.random() < 0.3:
            pre_adverb = adverb
        else:
            extras.append(adverb)
    if side_phrase:
        extras.append(side_phrase)
    extras = [extras[i] for i in rng.permutation(len(extras))]
    if side_phrase and rng.random() < 0.6:  # side phrases mostly sit next to the verb
        extras.remove(side_phrase)
        extras.insert(0, side_phrase)

    finite = " ".join([predicate.format(poss=poss), *extras])
    gerund = _to_gerund(finite)
    if pre_adverb:
        finite, gerund = f"{pre_adverb} {finite}", f"{pre_adverb} {gerund}"
    return _clean(finite), _clean(gerund)


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _one_caption(segments: list[Segment], rng: np.random.Generator, heldout: bool) -> str:
    subject, poss = _choice(rng, SUBJECTS)
    parts = [_segment_predicate(s, poss, rng, heldout) for s in segments]
    if len(parts) == 1:
        template = _choice(rng, SINGLE_TEMPLATES)
    elif len(parts) in COMPOSITE_TEMPLATES:
        template = _choice(rng, COMPOSITE_TEMPLATES[len(parts)])
    else:  # longer chains: "A, then B, then C, and finally D"
        middle = "".join(f", then {{P{i}}}" for i in range(1, len(parts) - 1))
        template = "{S} {A}" + middle + f", and finally {{P{len(parts) - 1}}}"
    fields = {"S": subject}
    for i, (finite, gerund) in enumerate(parts):
        fields[f"P{i}"] = finite
        if i < 3:
            fields["ABC"[i]], fields["abc"[i]] = finite, gerund
    return _clean(template.format(**fields))


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


def caption_segments(segments: list[Segment], rng: np.random.Generator, n: int = 3, heldout: bool = False) -> list[str]:
    """`n` distinct captions for a clip made of `segments` (in time order), from the training or held-out set.

    Returns fewer than `n` only when the grammar cannot produce `n` different sentences, and never fewer
    than min(n, 3) (every concept has at least 12 subjects x 2 constructions).
    """
    if not segments:
        raise ValueError("caption_segments needs at least one segment")
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    for s in segments:
        _spec(s.concept)
    captions: list[str] = []
    for _ in range(50 * n + 20):  # bounded: a tiny grammar must not loop forever
        if len(captions) >= n:
            break
        caption = _one_caption(segments, rng, heldout)
        if caption not in captions:
            captions.append(caption)
    if len(captions) < min(n, 3):
        raise RuntimeError(f"grammar produced only {len(captions)} distinct captions for {segments}")
    return captions


def attribute_choices(concept: str) -> dict[str, tuple]:
    """Attribute values a concept is generated with (used for sampling paraphrases and in tests)."""
    spec = _spec(concept)
    return {
        "side": tuple(spec.get("sides", ())),
        "direction": tuple(spec.get("directions", ())),
        "style": tuple(spec.get("styles", {})),
        "count": (1, 2, 3, 4, 10) if spec.get("counts") else (),
        "speed": ("slow", "normal", "fast"),
    }


def concept_paraphrases(concept: str, rng: np.random.Generator | None = None, n: int = 16) -> list[str]:
    """`n` distinct training-grammar captions of `concept` with varied attributes (the erasure prompt set)."""
    choices = attribute_choices(concept)
    rng = np.random.default_rng(0) if rng is None else rng
    out: list[str] = []
    for attempt in range(50 * n + 20):
        if len(out) >= n:
            break
        attrs = {}
        if attempt % 2:  # every other prompt is bare ("a person kicks"), the rest carry attributes
            for key, values in choices.items():
                if values and rng.random() < 0.5:
                    attrs[key] = _choice(rng, values)
        caption = _one_caption([Segment(concept=concept, fine=concept, start=0, end=1, attrs=attrs)], rng, False)
        if caption not in out:
            out.append(caption)
    return out


def heldout_markers(concept: str) -> tuple[str, ...]:
    """Lowercase words/phrases found in every held-out phrasing of `concept` and in no training caption."""
    _spec(concept)
    return HELDOUT_PHRASES[concept][1]


def _words(caption: str) -> list[str]:
    # Lowercase, punctuation dropped; hyphens and slashes split words (spaCy splits them too).
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", caption.lower())


def pos_tag(caption: str) -> str:
    """'a person kicks' -> 'a/DET person/NOUN kicks/VERB' using the grammar's lexicon; unknown words -> NOUN."""
    words = _words(caption)
    tags = []
    for i, word in enumerate(words):
        prev = words[i - 1] if i > 0 else ""
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if word in ("left", "right") and LEXICON.get(nxt) in _NOUN_LIKE:
            tag = "ADJ"  # "the right leg"
        elif word in _NOUN_AFTER_DET and LEXICON.get(prev) in ("DET", "PRON", "ADJ"):
            tag = "NOUN"
        elif word in INFINITIVES and prev == "to":
            tag = "VERB"
        elif word == "to":
            tag = "PART" if nxt in INFINITIVES else "ADP"  # "to strike" vs "to the left"
        elif word.isdigit():
            tag = "NUM"
        else:
            tag = LEXICON.get(word, "NOUN")
        tags.append(f"{word}/{tag}")
    return " ".join(tags)


def format_text_line(caption: str, start: float = 0.0, end: float = 0.0) -> str:
    """One HumanML3D texts/*.txt line: 'caption#word/TAG ...#start#end' (0.0, 0.0 means the whole clip)."""
    if "#" in caption or "\n" in caption or not caption.strip():
        raise ValueError(f"caption must be non-empty without '#' or newlines: {caption!r}")
    return f"{caption.strip()}#{pos_tag(caption)}#{float(start)}#{float(end)}"


def _parse_time(text: str, line: str) -> float:
    text = text.strip()
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"bad start/end {text!r} in text line: {line!r}") from None
    # Real HumanML3D files contain 'nan' for some clips; like 0.0 it means "the whole clip".
    return 0.0 if math.isnan(value) else value


def parse_text_line(line: str) -> tuple[str, str, float, float]:
    """Inverse of `format_text_line`: (caption, tokens, start, end).

    Tolerates what real HumanML3D files contain: a missing tokens part ('caption#start#end' or just
    'caption'), empty tokens, NaN or empty start/end (read as 0.0). Raises ValueError naming the line otherwise.
    """
    stripped = line.strip()
    parts = stripped.split("#")
    if not stripped or not parts[0].strip():
        raise ValueError(f"empty caption in text line: {line!r}")
    if len(parts) == 1:
        caption, tokens, start, end = parts[0], "", "", ""
    elif len(parts) == 2:
        caption, tokens, start, end = parts[0], parts[1], "", ""
    elif len(parts) == 3:
        caption, tokens, (start, end) = parts[0], "", parts[1:]
    elif len(parts) == 4:
        caption, tokens, start, end = parts
    else:
        raise ValueError(f"too many '#' fields ({len(parts)}) in text line: {line!r}")
    start_s, end_s = _parse_time(start, line), _parse_time(end, line)
    if math.isinf(start_s) or math.isinf(end_s) or start_s < 0 or (end_s != 0.0 and end_s < start_s):
        raise ValueError(f"bad time span [{start_s}, {end_s}] in text line: {line!r}")
    return caption.strip(), tokens.strip(), start_s, end_s
