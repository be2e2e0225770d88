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

import math
import re

import numpy as np

from .clip import CONCEPTS, Segment

# --------------------------------------------------------------------------------------------------
# Subjects
# --------------------------------------------------------------------------------------------------

# (noun phrase, gender): "m" he/his/him, "f" she/her/her, "n" they/their/them with a singular noun,
# "p" the plural pronoun "they" itself (takes plural verbs).
SUBJECTS = (
    ("a person", "n"), ("someone", "n"), ("a man", "m"), ("a woman", "f"), ("the person", "n"),
    ("the man", "m"), ("the woman", "f"), ("a guy", "m"), ("a girl", "f"), ("a boy", "m"), ("a lady", "f"),
    ("a human", "n"), ("an individual", "n"), ("a figure", "n"), ("the figure", "n"), ("a dancer", "n"),
    ("the actor", "m"), ("an actor", "m"), ("the actress", "f"), ("a performer", "n"), ("the performer", "n"),
    ("an athlete", "n"), ("a young man", "m"), ("a young woman", "f"), ("this person", "n"), ("this man", "m"),
    ("this woman", "f"), ("the subject", "n"), ("the character", "n"), ("a character", "n"), ("a tall man", "m"),
    ("a short woman", "f"), ("a standing person", "n"), ("somebody", "n"), ("the guy", "m"), ("the girl", "f"),
    ("he", "m"), ("she", "f"), ("they", "p"), ("person", "n"), ("man", "m"), ("woman", "f"),
)
PRONOUNS = {  # gender -> (subject pronoun, possessive, object, reflexive, plural verb agreement for the pronoun)
    "m": ("he", "his", "him", "himself"), "f": ("she", "her", "her", "herself"),
    "n": ("they", "their", "them", "themselves"), "p": ("they", "their", "them", "themselves"),
}
_PRONOUN_SUBJECTS = frozenset({"he", "she", "they"})
_DETERMINERS = ("a ", "an ", "the ", "this ")

# --------------------------------------------------------------------------------------------------
# Word forms
# --------------------------------------------------------------------------------------------------

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


# --------------------------------------------------------------------------------------------------
# Modifier phrases (left/right stay the literal words so mirroring is a word swap)
# --------------------------------------------------------------------------------------------------

LIMB_NOUNS = {"leg": ("leg", "foot"), "arm": ("arm", "hand")}
PLURALS = {"leg": "legs", "foot": "feet", "arm": "arms", "hand": "hands", "fist": "fists", "knee": "knees"}
SIDE_PHRASES = ("with the {side} {noun}", "with {poss} {side} {noun}", "using the {side} {noun}",
                "using {poss} {side} {noun}", "with the {side} {noun}", "with {poss} {side} {noun}")
BOTH_PHRASES = ("with both {nouns}", "using both {nouns}", "with both of {poss} {nouns}", "with both {nouns} at once")
LIMB_FORMS = ("the {side} {noun}", "{poss} {side} {noun}")
PASSIVE_SIDE = ("with the {side} {noun}", "using the {side} {noun}")
DIRECTION_PHRASES = {
    "forward": ("forward", "forwards", "straight ahead", "ahead"),
    "backward": ("backward", "backwards", "in reverse"),
    "left": ("to the left", "to {poss} left", "toward the left", "off to the left"),
    "right": ("to the right", "to {poss} right", "toward the right", "off to the right"),
}
SPEED_PHRASES = {
    "slow": ("slowly", "at a slow pace", "gently", "carefully", "in slow motion", "unhurriedly", "very slowly",
             "at a leisurely pace"),
    "normal": (),  # a normal speed mostly goes unsaid, as in real captions
    "fast": ("quickly", "briskly", "rapidly", "fast", "at a fast pace", "swiftly", "very quickly", "in a hurry"),
}
PRE_VERB_ADVERBS = frozenset({"slowly", "gently", "carefully", "quickly", "briskly", "rapidly", "swiftly"})
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
                "eleven", "twelve")
COUNT_PHRASES = {
    1: ("once", "one time", "a single time"),
    2: ("twice", "two times", "a couple of times", "twice in a row"),
    3: ("three times", "a few times", "thrice", "three times in a row"),
}
MANY_COUNT_PHRASES = ("{n} times", "{n} times", "several times", "repeatedly", "again and again", "multiple times")

# Raw Bandai Namco style names (attrs["manner"]) -> subjects that carry the style, manner adverbials, and
# whether "an old man" etc. may replace the subject. "normal" mostly goes unsaid.
MANNERS = {
    "normal": dict(subjects=(), adverbs=("normally", "in a normal way", "casually", "in a relaxed way")),
    "happy": dict(subjects=(("a happy person", "n"), ("a cheerful man", "m"), ("a joyful woman", "f"),
                            ("a happy guy", "m"), ("a cheerful person", "n")),
                  adverbs=("happily", "cheerfully", "joyfully", "in a cheerful way", "in a happy mood",
                           "with a spring in {poss} step", "gleefully")),
    "sad": dict(subjects=(("a sad person", "n"), ("a sad man", "m"), ("an unhappy woman", "f"),
                          ("a gloomy person", "n"), ("a dejected man", "m")),
                adverbs=("sadly", "gloomily", "dejectedly", "in a sad way", "with drooping shoulders",
                         "with {poss} head hanging low", "miserably")),
    "angry": dict(subjects=(("an angry person", "n"), ("an angry man", "m"), ("a furious woman", "f"),
                            ("an annoyed guy", "m"), ("an irritated person", "n")),
                  adverbs=("angrily", "furiously", "in an angry way", "aggressively", "in a fit of anger",
                           "irritably", "with angry, sharp movements")),
    "proud": dict(subjects=(("a proud person", "n"), ("a proud man", "m"), ("a confident woman", "f"),
                            ("a self-assured man", "m")),
                  adverbs=("proudly", "confidently", "with {poss} chest puffed out", "with {poss} head held high",
                           "in a proud way", "boastfully")),
    "not-confident": dict(subjects=(("a timid person", "n"), ("a shy woman", "f"), ("an insecure man", "m"),
                                    ("a nervous person", "n"), ("a hesitant guy", "m")),
                          adverbs=("timidly", "hesitantly", "shyly", "nervously", "without confidence",
                                   "in an unsure way", "meekly")),
    "masculinity": dict(subjects=(("a macho man", "m"), ("a burly guy", "m"), ("a tough man", "m")),
                        adverbs=("in a masculine way", "in a macho way", "with a manly swagger",
                                 "with broad, heavy movements", "in a tough, manly manner")),
    "masculine": dict(subjects=(("a macho man", "m"), ("a burly guy", "m"), ("a tough man", "m")),
                      adverbs=("in a masculine way", "in a macho way", "with a manly swagger",
                               "in a tough, manly manner")),
    "feminine": dict(subjects=(("a graceful woman", "f"), ("an elegant lady", "f"), ("a lady", "f")),
                     adverbs=("in a feminine way", "gracefully", "elegantly", "daintily", "in a ladylike manner",
                              "with light, graceful movements")),
    "childish": dict(subjects=(("a child", "n"), ("a little kid", "n"), ("a small child", "n"),
                               ("a little boy", "m"), ("a little girl", "f"), ("a kid", "n")),
                     adverbs=("like a child", "playfully", "in a childish way", "like a little kid",
                              "in a silly, childlike way")),
    "youthful": dict(subjects=(("a young person", "n"), ("a teenager", "n"), ("a youthful man", "m"),
                               ("a young girl", "f"), ("a teenage boy", "m")),
                     adverbs=("in a youthful way", "with youthful energy", "lively", "in a lively way",
                              "with a lot of pep")),
    "old": dict(subjects=(("an old man", "m"), ("an old woman", "f"), ("an old person", "n"), ("a senior", "n"),
                          ("an aged man", "m")),
                adverbs=("like an old person", "stiffly", "with a stoop", "in a frail way", "hunched over",
                         "slowly and stiffly")),
    "elderly": dict(subjects=(("an elderly man", "m"), ("an elderly woman", "f"), ("an elderly person", "n"),
                              ("an old man", "m"), ("an old lady", "f"), ("a senior citizen", "n")),
                    adverbs=("like an elderly person", "stiffly", "with a slight stoop", "frailly",
                             "hunched over", "carefully and stiffly")),
    "tired": dict(subjects=(("a tired person", "n"), ("a tired man", "m"), ("a weary woman", "f"),
                            ("a sleepy guy", "m")),
                  adverbs=("wearily", "tiredly", "sluggishly", "in a tired way", "as if tired",
                           "with heavy, tired movements", "lazily")),
    "exhausted": dict(subjects=(("an exhausted person", "n"), ("an exhausted man", "m"),
                                ("a worn-out woman", "f"), ("a drained guy", "m")),
                      adverbs=("as if exhausted", "wearily", "sluggishly", "with the last of {poss} energy",
                               "barely able to keep going", "in an exhausted way")),
    "active": dict(subjects=(("an energetic person", "n"), ("an active man", "m"), ("a lively woman", "f"),
                             ("an energetic guy", "m")),
                   adverbs=("energetically", "vigorously", "actively", "with lots of energy", "dynamically",
                            "in an energetic way")),
    "musical": dict(subjects=(("a performer in a musical", "n"), ("a stage performer", "n"),
                              ("a theatrical man", "m"), ("a showy woman", "f")),
                    adverbs=("like in a musical", "theatrically", "in a showy, theatrical way",
                             "as if performing on a stage", "with exaggerated, musical flair")),
    "giant": dict(subjects=(("a giant", "m"), ("a huge man", "m"), ("a big heavy person", "n"),
                            ("a lumbering giant", "m")),
                  adverbs=("in a heavy lumbering way like a giant", "like a giant", "with heavy, lumbering movements",
                           "heavily", "ponderously", "in big heavy movements")),
    "chimpira": dict(subjects=(("a thug", "m"), ("a delinquent", "n"), ("a street punk", "m"), ("a hoodlum", "m"),
                               ("a young delinquent", "m")),
                     adverbs=("like a thug", "like a delinquent", "with a thuggish swagger", "in a delinquent way",
                              "with a cocky, thuggish attitude", "like a street punk")),
}
MAX_MODIFIERS = 3  # side, count, speed, manner, height ...: annotators rarely stack more than three
MANNER_SAID = 0.85  # chance a non-normal manner is put into words at all
NORMAL_SAID = 0.08

# Measured heights and limb directions in words, per limb kind. Keys are mechanics.py's levels.
LEG_HEIGHT = {
    "head": ("high", "very high", "up to head height", "as high as {poss} head"),
    "chest": ("high", "up to chest height", "above waist height", "up high"),
    "waist": ("at waist height", "to hip height", "at about hip level", "at mid height"),
    "knee": ("low", "at knee height", "low to the ground"),
    "low": ("low", "close to the ground"),
}
ARM_HEIGHT = {
    "above_head": ("above {poss} head", "over {poss} head", "high above {poss} head", "up high"),
    "head": ("at head height", "up by {poss} head", "level with {poss} face"),
    "shoulder": ("at shoulder height", "at shoulder level"),
    "chest": ("at chest height", "in front of {poss} chest"),
    "waist": ("at waist height", "down low"),
}
LEG_DIRECTION = {"forward": ("forward", "straight ahead", "out in front", "to the front"),
                 "sideways": ("sideways", "out to the side", "to the side"),
                 "backward": ("backward", "backwards", "to the rear")}
ARM_DIRECTION = {"forward": ("forward", "straight ahead", "out in front"),
                 "sideways": ("out to the side", "sideways", "to the side"),
                 "up": ("upward", "straight up", "up")}
TURN_PHRASES = ("and ^turns {turn}", "while turning {turn}", "and ^turns to the {turn}", "turning {turn}",
                "and ^veers {turn}", "and ^changes direction to the {turn}")
TURN_DEGREES = {90: ("by 90 degrees", "a quarter turn"), 180: ("by 180 degrees", "halfway around"),
                270: ("by 270 degrees", "three quarters of the way around"),
                360: ("a full 360 degrees", "all the way around")}

# --------------------------------------------------------------------------------------------------
# Concept phrasings
# --------------------------------------------------------------------------------------------------

# Per concept:
#   limb: which limb side phrases name (None: a left/right side is read as a direction)
#   default_side: side assumed when there is none (raise_arms means both arms)
#   sides / directions / counts: attribute values this concept is sampled with
#   train: generic predicates, with {limb}/{limb:noun} (the side's limb phrase), {dir} (the direction phrase;
#     appended after the predicate when absent), {poss}/{obj}/{refl} (the subject's pronoun forms);
#   implicit: descriptions that do not name the concept (also training phrasings);
#   styles: extra predicates per attrs["style"]; speeds: extra predicates per speed;
#   facts: predicates that state a measured fact, keyed "height=above_head", "direction=sideways", ...;
#   nouns: event nouns for passive and noun-fragment captions ("a kick is thrown ...", "a high kick");
#   passive: participles for the passive ("is thrown"); whiles / codas: concurrent and closing clauses.
# Every {limb...} that a predicate uses names the side itself; otherwise a side phrase is added.
_ARM_CODAS = ("^lowers {limb:arm} again", "^brings {limb:arm} back down", "^drops {limb:hand} back to {poss} side")
_LEG_CODAS = ("^puts the foot back down", "^brings the leg back", "^plants the foot again")
_STILL_CODAS = ("^returns to a neutral stance", "^goes back to standing", "^stands still", "^comes back to rest",
                "^returns to the starting position", "^relaxes")
_MOVE_CODAS = ("^stops", "^comes to a stop", "^halts", "^stands still")

TRAIN_PHRASES = {
    "walk": dict(
        directions=("forward", "backward", "left", "right"),
        train=("walks", "walks {dir}", "takes a few steps {dir}", "walks {dir} steadily", "moves {dir} on foot",
               "walks along", "steps {dir}", "goes for a walk", "takes some steps", 
               "walks in a straight line", "heads {dir} on foot", "walks at a normal pace"),
        implicit=("puts one foot in front of the other", "steps {dir} one foot after the other",
                  "moves {dir} step by step", "travels {dir} on foot"),
        speeds={"slow": ("strolls {dir}", "strolls along", "walks leisurely", "takes a stroll", "walks slowly"),
                "fast": ("walks briskly", "hurries {dir}", "power walks", "walks fast", "speed walks")},
        facts={"travel=backward": ("walks backwards", "walks in reverse", "steps backwards", "backs up",
                                   "walks backward without turning around")},
        nouns=(("a walk", False), ("a short walk", False), ("a few steps", True)),
        passive=("is taken",),
        whiles=("while swinging {poss} arms", "while looking straight ahead", "with {poss} arms swinging",
                "with {poss} arms at {poss} sides"),
        codas=_MOVE_CODAS,
    ),
    "run": dict(
        directions=("forward", "backward", "left", "right"),
        train=("runs", "runs {dir}", "breaks into a run", "takes off running", "moves {dir} at a run",
               "jogs", "jogs {dir}", "runs in a straight line", "goes for a run", "runs along", 
               "sprints {dir}", "dashes {dir}", "jogs along"),
        implicit=("moves {dir} at running pace", "covers ground quickly on foot", "pumps {poss} arms and legs "
                  "and ^moves {dir} fast"),
        speeds={"slow": ("jogs {dir} slowly", "jogs lightly", "goes for a light jog", "trots {dir}"),
                "fast": ("sprints", "sprints {dir}", "dashes {dir}", "races {dir}", "runs as fast as possible",
                         "runs at full speed")},
        facts={"travel=backward": ("runs backwards", "jogs backwards")},
        nouns=(("a run", False), ("a jog", False), ("a sprint", False)),
        passive=("is done",),
        whiles=("while pumping {poss} arms", "with {poss} arms swinging", "while leaning forward"),
        codas=_MOVE_CODAS,
    ),
    "jump": dict(
        counts=True, directions=("forward",),
        train=("jumps", "does a jump", "jumps into the air", "performs a jump", "jumps up", "leaps",
               "leaps into the air", "hops", "hops up", "jumps off the ground", "makes a jump", "jumps high",
               "jumps with both feet"),
        implicit=("bends {poss} knees and ^pushes off the ground", "launches {refl} into the air",
                  "gets both feet off the ground", "crouches and ^takes off into the air"),
        styles={"up": ("jumps straight up", "jumps in place", "does a vertical jump", "hops in place",
                       "leaps straight up"),
                "forward": ("does a long jump", "does a broad jump", "jumps forward", "leaps forward",
                            "hops forward")},
        nouns=(("a jump", False), ("a leap", False), ("a hop", False), ("a vertical jump", False)),
        passive=("is performed", "is made", "is done"),
        whiles=("while swinging {poss} arms up", "with {poss} arms swinging", "landing on both feet"),
        codas=("^lands on both feet", "^lands softly") + _STILL_CODAS[:3],
    ),
    "kick": dict(
        limb="leg", sides=("left", "right"), counts=True,
        train=("kicks", "does a kick", "performs a kick", "kicks out", "kicks {limb} out", "throws a kick",
               "kicks the air", "kicks something", "kicks an imaginary ball", "kicks {limb:foot} forward",
               "kicks in front of {obj}", "does a quick kick", "kicks with force", "executes a kick",
               "kicks at something in front of {obj}"),
        implicit=("lifts {limb} and ^snaps it forward", "swings {limb} up and out in front of {obj}",
                  "raises {limb:knee} and ^extends {limb:leg} sharply", "shoots {limb:foot} out and ^pulls it back",
                  "balances on one leg and ^thrusts {limb:foot} out", "swings {limb} forward hard"),
        styles={"front": ("does a front kick", "kicks straight ahead", "kicks to the front", "does a forward kick",
                          "kicks forward"),
                "side": ("does a side kick", "kicks sideways", "kicks out to the side", "does a sideways kick"),
                "spin": ("does a spinning kick", "performs a spin kick", "spins and ^kicks", "turns and ^kicks"),
                "roundhouse": ("does a roundhouse kick", "throws a roundhouse kick", "swings {limb} around in a "
                               "roundhouse kick", "does a turning kick")},
        facts={"height=head": ("kicks high", "does a high kick", "kicks up to head height", "kicks {limb} up high"),
               "height=chest": ("kicks high", "does a high kick", "kicks {limb} up high"),
               "height=knee": ("does a low kick", "kicks low", "kicks low to the ground"),
               "height=low": ("does a low kick", "kicks low"),
               "direction=sideways": ("kicks out to the side", "kicks sideways"),
               "direction=backward": ("kicks backward", "does a back kick", "kicks to the rear")},
        nouns=(("a kick", False), ("a quick kick", False), ("a single kick", False), ("a karate style kick", False)),
        passive=("is thrown", "is performed", "is done", "is delivered", "is executed"),
        whiles=("while keeping {poss} hands up", "while balancing on the other leg", "with {poss} arms up in a guard",
                "while standing on one leg", "with {poss} fists raised"),
        codas=_LEG_CODAS + _STILL_CODAS,
    ),
    "punch": dict(
        limb="arm", sides=("left", "right"), counts=True,
        train=("punches", "throws a punch", "does a punch", "punches the air", "punches forward",
               "punches {limb:fist} forward", "punches straight ahead", "boxes", "throws a punch at the air",
               "punches something in front of {obj}", "performs a punch", "punches with force",
               "shadow boxes", "punches an imaginary target"),
        implicit=("makes a fist and ^thrusts it forward", "drives {limb:fist} straight out",
                  "extends {limb:arm} quickly with a clenched fist", "shoots {limb:fist} out and ^pulls it back",
                  "throws {limb:fist} out in front of {obj}", "hits the air with {limb:fist}"),
        styles={"jab": ("does a jab", "throws a jab", "jabs forward", "throws a quick jab"),
                "cross": ("throws a cross", "does a cross punch", "throws a cross punch"),
                "straight": ("throws a straight punch", "punches straight out", "does a straight punch"),
                "uppercut": ("throws an uppercut", "does an uppercut")},
        facts={"height=head": ("punches at head height", "punches high"),
               "height=above_head": ("punches upward", "punches up into the air", "punches toward the sky")},
        nouns=(("a punch", False), ("a quick punch", False), ("a jab", False), ("a straight punch", False)),
        passive=("is thrown", "is performed", "is delivered", "is done"),
        whiles=("while keeping the other hand up", "from a boxing stance", "with {poss} guard up",
                "while standing in a fighting stance"),
        codas=("^pulls the fist back", "^returns to a guard position") + _STILL_CODAS[:4],
    ),
    "wave": dict(
        limb="arm", sides=("left", "right", "both"), counts=True,
        train=("waves", "waves {limb:hand}", "gives a wave", "waves {limb:hand} in the air", "waves hello",
               "waves goodbye", "waves at someone", "says hi with a wave", "waves to someone",
               "waves bye", "waves {limb:hand} back and forth", "waves at a friend",
               "waves {limb:hand} to say hello"),
        implicit=("raises {limb:hand} and ^moves it back and forth", "holds {limb:hand} up and ^shakes it back "
                  "and forth", "lifts {limb:hand} and ^moves it to and fro", "says goodbye with {limb:hand}",
                  "says hello with {limb:hand}"),
        facts={"height=above_head": ("waves {limb:hand} above {poss} head", "raises {limb:hand} above {poss} head and "
                                     "^waves it back and forth", "waves {limb:hand} high over {poss} head"),
               "height=head": ("waves {limb:hand} next to {poss} head", "raises {limb:hand} to head height and "
                               "^waves"),
               "height=shoulder": ("waves {limb:hand} at shoulder height",)},
        nouns=(("a wave", False), ("a friendly wave", False), ("a goodbye wave", False)),
        passive=("is given", "is made", "is done"),
        whiles=("while standing in place", "while standing still", "with a smile"),
        codas=_ARM_CODAS + _STILL_CODAS[:3],
    ),
    "clap": dict(
        counts=True,
        train=("claps", "claps {poss} hands", "claps {poss} hands together", "gives a clap", "claps along",
               "claps loudly", "claps a few times", "claps in front of {obj}", "starts clapping"),
        implicit=("brings {poss} hands together", "hits {poss} hands together", "puts {poss} hands together "
                  "repeatedly", "taps {poss} hands together"),
        facts={"height=above_head": ("claps {poss} hands above {poss} head", "claps overhead"),
               "height=head": ("claps {poss} hands up by {poss} face",),
               "height=chest": ("claps in front of {poss} chest",)},
        nouns=(("a clap", False), ("a round of claps", False), ("a few claps", True)),
        passive=("is given", "is made"),
        whiles=("while standing in place", "while standing still", "with {poss} elbows out"),
        codas=("^lowers {poss} hands",) + _STILL_CODAS[:3],
    ),
    "raise_arms": dict(
        limb="arm", sides=("left", "right", "both"), default_side="both",
        train=("raises {limb}", "lifts {limb} up", "puts {limb} up", "raises {limb} above {poss} head",
               "holds {limb} up high", "raises {limb} up", "lifts {limb}", "puts {limb} in the air",
               "raises {limb} into the air", "sticks {limb} up", "holds {limb} up", "raises up {limb}",
               "brings {limb} up", "throws {limb} up in the air"),
        implicit=("reaches up with {limb}", "puts {limb:hand} up as if asking a question",
                  "lifts {limb:hand} up toward the ceiling", "stretches {limb} up high"),
        styles={"up": ("raises {limb} straight up", "puts {limb} straight up over {poss} head"),
                "front": ("raises {limb} in front of {obj}", "lifts {limb} forward", "raises {limb} out in front"),
                "side": ("raises {limb} out to the side", "lifts {limb} sideways", "spreads {limb} out to the side")},
        facts={"height=above_head": ("raises {limb} above {poss} head", "lifts {limb} high over {poss} head",
                                     "raises {limb} overhead"),
               "height=shoulder": ("raises {limb} to shoulder height", "lifts {limb} up to shoulder level"),
               "height=head": ("raises {limb} to head height",),
               "direction=sideways": ("raises {limb} out to the side", "lifts {limb} sideways"),
               "direction=forward": ("raises {limb} in front of {obj}", "lifts {limb} forward")},
        nouns=(),
        whiles=("while standing still", "while standing in place", "with {poss} fingers spread"),
        codas=_ARM_CODAS + _STILL_CODAS[:3],
    ),
    "squat": dict(
        counts=True,
        train=("squats", "squats down", "does a squat", "performs a squat", "lowers into a squat", "crouches",
               "crouches down", "does squats", "squats low", "goes down into a squat", "squats and ^stands back up",
               "crouches and ^stands up again", "does a deep squat"),
        implicit=("bends {poss} knees and ^lowers {poss} body", "lowers {poss} hips and ^comes back up",
                  "drops down by bending {poss} legs", "sits back as if onto a chair and ^stands again",
                  "bends the legs deeply and ^straightens them again"),
        nouns=(("a squat", False), ("a deep squat", False), ("squats", True), ("a crouch", False)),
        passive=("is done", "is performed"),
        whiles=("while keeping {poss} back straight", "with {poss} arms out in front", "keeping {poss} heels down"),
        codas=("^stands back up", "^stands up again") + _STILL_CODAS[:2],
    ),
    "bow": dict(
        counts=True,
        train=("bows", "bows down", "takes a bow", "does a bow", "bows forward", "bows deeply", "bows slightly",
               "bows {poss} head", "gives a bow", "bows to someone", "bows to the audience",
               "makes a bow", "bows low"),
        implicit=("leans {poss} upper body forward and ^straightens up again", "bends forward with {poss} head "
                  "down and ^comes back up", "tips {poss} torso forward and then ^stands up straight",
                  "lowers {poss} head and upper body forward"),
        nouns=(("a bow", False), ("a deep bow", False), ("a short bow", False)),
        passive=("is made", "is given", "is performed"),
        whiles=("with {poss} hands at {poss} sides", "with {poss} arms by {poss} sides", "while standing in place"),
        codas=("^straightens up again", "^stands up straight again") + _STILL_CODAS[:2],
    ),
    "jumping_jacks": dict(
        counts=True,
        train=("does jumping jacks", "performs jumping jacks", "does a set of jumping jacks",
               "does some jumping jacks", "does a jumping jack", "does jumping jack exercises",
               "performs a few jumping jacks"),
        implicit=("jumps while spreading {poss} arms and legs wide and ^brings them back together",
                  "hops with {poss} feet apart and ^claps {poss} hands above {poss} head",
                  "jumps {poss} legs out and ^swings {poss} arms overhead, again and again"),
        nouns=(("jumping jacks", True), ("a set of jumping jacks", False), ("a jumping jack", False)),
        passive=("are done", "are performed"),
        whiles=("as a warm up", "as an exercise", "for a workout"),
        codas=_STILL_CODAS[:3],
    ),
    "side_step": dict(
        directions=("left", "right"), counts=True,
        train=("sidesteps", "sidesteps {dir}", "steps sideways", "takes a side step", "moves sideways",
               "steps {dir} sideways", "steps to the side", "side steps {dir}", "takes a few steps sideways",
               "moves {dir} sideways", "steps sideways {dir}", "moves sideways {dir} step by step"),
        implicit=("moves {dir} without turning {poss} body", "steps out to the side and ^brings the other foot in",
                  "travels {dir} with {poss} body facing forward"),
        nouns=(("a side step", False), ("a few side steps", True)),
        passive=("is taken",),
        whiles=("while facing forward", "while keeping {poss} body facing ahead", "facing forward the whole time"),
        codas=_MOVE_CODAS,
    ),
    "turn_around": dict(
        directions=("left", "right"),
        train=("turns around", "turns around {dir}", "turns {dir} to face the other way", "does a half turn",
               "turns {poss} body around", "turns {dir}", "turns to face the opposite direction",
               "turns back", "faces the other way", "spins around {dir}",
               "turns on the spot", "turns in place {dir}", "makes a u turn", "turns {dir} and ^faces backward"),
        implicit=("changes the direction {poss} body is facing", "steps around to face the other way",
                  "shifts {poss} feet to face the opposite way"),
        nouns=(("a turn", False), ("a half turn", False), ("a u turn", False)),
        passive=("is made", "is done"),
        whiles=("while standing in place", "without moving {poss} feet much"),
        codas=_STILL_CODAS[:3],
    ),
    "march": dict(
        directions=("forward",), counts=False,
        train=("marches", "marches in place", "does a march", "marches along", "marches {dir}",
               "marches on the spot", "stomps in place", "marches with high knees"),
        implicit=("lifts {poss} knees high one after the other", "raises each knee in turn and ^swings {poss} arms",
                  "steps in place lifting the knees high"),
        nouns=(("a march", False),),
        passive=(),
        whiles=("while swinging {poss} arms", "with {poss} knees coming up high", "with stiff arm swings"),
        codas=_MOVE_CODAS[:2],
    ),
    "throw": dict(
        limb="arm", sides=("left", "right"),
        train=("throws", "throws something", "throws a ball", "makes a throw", "throws something forward",
               "throws an object", "tosses something", "tosses a ball", "throws a ball forward", 
               "throws something far", "throws something away"),
        implicit=("winds up and ^releases something with {limb:arm}", "swings {limb:arm} over {poss} shoulder "
                  "and ^lets go", "pulls {limb:arm} back and ^sends something flying", "brings {limb:hand} "
                  "brings {limb:hand} back over the shoulder and ^lets go"),
        styles={"overarm": ("throws overarm", "does an overarm throw", "throws over {poss} shoulder",
                            "throws overhand"),
                "underarm": ("throws underarm", "does an underarm throw", "tosses underhand")},
        nouns=(("a throw", False), ("an overhand throw", False)),
        passive=("is made", "is done"),
        whiles=("while stepping forward", "stepping into it", "with a step forward"),
        codas=_STILL_CODAS[:3],
    ),
    "stretch": dict(
        directions=("left", "right"),
        train=("stretches", "does a stretch", "stretches out", "stretches {poss} body", "stretches {poss} arms",
               "does some stretching", "stretches {poss} back", "warms up with a stretch",
               "stretches {poss} upper body"),
        implicit=("reaches as far as possible and ^holds it", "extends {poss} arms and ^holds the position",
                  "leans into a long reach and ^holds it"),
        styles={"overhead": ("stretches {poss} arms overhead", "stretches upward", "reaches up and ^stretches",
                             "stretches {poss} arms above {poss} head"),
                "side": ("leans sideways", "does a side stretch {dir}", "bends to the side"),
                "side_bend": ("leans sideways", "does a side stretch {dir}", "bends to the side",
                              "bends {poss} upper body {dir}")},
        nouns=(("a stretch", False), ("a side stretch", False)),
        passive=("is done",),
        whiles=("while standing in place", "as a warm up"),
        codas=_STILL_CODAS[:3],
    ),
    "backflip": dict(
        counts=True,
        train=("does a backflip", "performs a backflip", "does a back flip", "flips backwards", "flips backward",
               "does a backward flip", "jumps and ^flips backwards", "does a standing backflip", "flips over backwards", "lands a backflip"),
        implicit=("jumps up and ^turns upside down backwards",
                  "throws {poss} body backward through a full flip", "goes upside down backwards and ^lands on "
                  "{poss} feet"),
        nouns=(("a backflip", False), ("a back flip", False)),
        passive=("is performed", "is done"),
        whiles=("with {poss} arms swinging up",),
        codas=("^lands on {poss} feet", "^lands standing"),
    ),
    "cartwheel": dict(
        directions=("left", "right"), counts=True,
        train=("does a cartwheel", "performs a cartwheel", "cartwheels", "turns a cartwheel", "does a cartwheel "
               "{dir}", "cartwheels {dir}", "does a sideways cartwheel"),
        implicit=("puts {poss} hands on the ground and ^swings {poss} legs over sideways",
                  "goes upside down sideways with arms and legs spread", "flips sideways using {poss} hands"),
        nouns=(("a cartwheel", False),),
        passive=("is performed", "is done"),
        whiles=("with {poss} arms and legs spread",),
        codas=("^lands on {poss} feet", "^comes back up to standing"),
    ),
    "crawl": dict(
        directions=("forward", "backward", "left", "right"),
        train=("crawls", "crawls along the floor", "crawls {dir} on the ground", "moves {dir} by crawling",
               "crawls on {poss} hands and knees", "crawls on all fours", "crawls {dir}", "crawls like a baby",
               "crawls across the floor"),
        implicit=("moves {dir} on {poss} hands and knees", "goes {dir} on all fours",
                  "moves along the floor using {poss} hands and knees"),
        nouns=(("a crawl", False),),
        passive=(),
        whiles=("with {poss} belly low", "keeping low to the ground"),
        codas=_MOVE_CODAS[:2],
    ),
    "dance": dict(
        train=("dances", "does a dance", "dances around", "performs a dance", "dances happily", 
               "dances to music", "dances in place", "does a little dance", "dances energetically",
               "busts a move", "does some dance moves", "dances freely", "shows off some dance moves"),
        implicit=("moves {poss} body to the music", "steps and ^swings {poss} arms to a song",
                  "moves {poss} hips and arms along to a song"),
        styles={},
        nouns=(("a dance", False), ("a short dance", False), ("a dance routine", False)),
        passive=("is performed", "is done"),
        whiles=("with lots of arm movement", "with {poss} arms swinging", "as if at a party"),
        codas=_STILL_CODAS[:3],
    ),
    "get_up": dict(
        train=("gets up", "gets up from the ground", "stands up", "gets back up", "stands up from the ground",
               "gets up off the floor", "stands up from the floor", "gets back on {poss} feet", "gets to {poss} feet",
               "picks {refl} up off the ground"),
        implicit=("goes from lying on the floor to standing", "pushes {refl} up from the floor and ^stands",
                  "gets off the ground and ^stands upright"),
        styles={"face_down": ("gets up from lying face down", "stands up from a face down position",
                              "gets up from lying on {poss} stomach"),
                "face_up": ("gets up from lying on {poss} back", "stands up from lying face up",
                            "gets up after lying on {poss} back")},
        nouns=(),
        whiles=("using {poss} hands for support", "with the help of {poss} hands"),
        codas=("^stands upright", "^stands still"),
    ),
    "roll": dict(
        directions=("forward", "backward", "left", "right"), counts=True,
        train=("rolls", "rolls on the ground", "does a roll", "rolls over", "rolls {dir}", "rolls across the floor",
               "rolls along the ground", "does a roll {dir}", "rolls on the floor"),
        implicit=("curls up and ^goes head first over the ground", "turns {poss} body over along the floor"),
        nouns=(("a roll", False),),
        passive=("is done", "is performed"),
        whiles=("with {poss} body tucked",),
        codas=("^comes back up", "^ends up on {poss} feet"),
    ),
    "spin": dict(
        directions=("left", "right"), counts=True,
        train=("spins", "spins around", "does a spin", "spins in place", "does a full spin", "spins {dir}",
               "spins on the spot", "turns in a full circle", "spins around in a circle", 
               "turns all the way around"),
        implicit=("turns a full circle on one foot", "goes around in a complete circle"),
        nouns=(("a spin", False), ("a full spin", False)),
        passive=("is done", "is performed"),
        whiles=("with {poss} arms out", "with {poss} arms held in", "on one foot"),
        codas=_STILL_CODAS[:3],
    ),
    "slash": dict(
        limb="arm", sides=("left", "right", "both"), counts=True,
        train=("slashes", "slashes with a sword", "swings a sword", "makes a slashing cut", "slashes the air",
               "slashes at something", "cuts with a sword", "slices the air",
               "swings an imaginary sword", "does a sword slash", "makes a sword cut", 
               "slashes downward", "swings a katana"),
        implicit=("swings {limb:arm} down as if holding a sword", "brings an imaginary sword down in an arc",
                  "cuts diagonally through the air with {limb:arm}", "sweeps {limb:arm} across as if cutting"),
        facts={"height=above_head": ("slashes down from above {poss} head", "raises a sword overhead and ^slashes "
                                     "down")},
        nouns=(("a slash", False), ("a sword slash", False), ("a slashing cut", False)),
        passive=("is made", "is performed"),
        whiles=("while holding a sword", "as if fighting with a sword", "with an imaginary sword"),
        codas=("^lowers the sword",) + _STILL_CODAS[:3],
    ),
    "gesture": dict(
        limb="arm", sides=("left", "right", "both"),
        train=("gestures", "points the way", "gestures with {limb:hand}", "beckons someone over", "points",
               "points somewhere", "calls someone over", "guides someone", "shows someone the way", "signals",
               "makes a hand sign", "points in a direction", "beckons", "gives a sign with {limb:hand}",
               "responds with a hand sign", "points ahead"),
        implicit=("holds out {limb:hand} to show the way", "calls someone over with {limb:hand}", "extends {limb:arm} toward something",
                  "uses {limb:hand} to direct someone", "makes a come here movement with {limb:hand}"),
        facts={"direction=forward": ("points forward", "points straight ahead", "shows the way ahead"),
               "direction=sideways": ("points to the side", "points off to the side", "shows the way to the side")},
        nouns=(("a gesture", False), ("a hand sign", False), ("a pointing gesture", False)),
        passive=("is made", "is given"),
        whiles=("while standing in place", "as if giving directions", "as if talking to someone"),
        codas=_ARM_CODAS[:2] + _STILL_CODAS[:2],
    ),
    "stand": dict(
        train=("stands still", "stands in place", "stands idle", "waits standing", "stands", "just stands there",
               "stands and ^waits", "stands without moving", "stands around", "idles",
               "stands in one spot", "waits in place", "stands quietly", "does nothing"),
        implicit=("keeps still", "waits", "holds still on {poss} feet", "remains standing", "stays standing"),
        nouns=(),
        whiles=("with {poss} arms at {poss} sides", "with {poss} arms hanging down", "breathing calmly",
                "shifting {poss} weight a little"),
        codas=(),
    ),
}

# Held-out phrasings and the markers that identify them. Every held-out phrase contains a marker of its
# own concept; no training caption contains any marker (both checked in tests/test_captions.py).
HELDOUT_PHRASES = {
    "walk": (("ambles {dir}", "saunters {dir}", "treks {dir}", "promenades {dir}", "ambles along"),
             ("ambles", "ambling", "saunters", "sauntering", "treks", "trekking", "promenades", "promenading")),
    "run": (("scampers {dir}", "bolts {dir}", "scurries {dir}", "lopes along", "lopes {dir}"),
            ("scampers", "scampering", "bolts", "bolting", "scurries", "scurrying", "lopes", "loping")),
    "jump": (("springs off the ground", "bounds into the air", "catapults {refl} upward", "bounces up off the floor",
              "springs upward"),
             ("springs", "springing", "bounds", "bounding", "catapults", "catapulting", "bounces", "bouncing")),
    "kick": (("swings {limb} up to strike", "delivers a blow with {limb:foot}", "strikes out with {limb:foot}",
              "lashes out with {limb}", "punts an imaginary ball with {limb:foot}"),
             ("strike", "strikes", "striking", "delivers a blow", "delivering a blow", "lashes", "lashing",
              "punts", "punting")),
    "punch": (("pummels the air", "wallops the air with {limb:hand}", "clobbers an imaginary target",
               "jabs the knuckles of {limb:hand} forward", "throws a haymaker with {limb:arm}"),
              ("pummels", "pummeling", "wallops", "walloping", "clobbers", "clobbering", "knuckles", "haymaker")),
    "wave": (("greets someone with {limb:hand}", "bids farewell with {limb:hand}", "salutes with {limb:hand}",
              "flaps {limb:hand} in greeting"),
             ("greets", "greeting", "farewell", "salutes", "saluting")),
    "clap": (("applauds", "brings the palms together", "smacks {poss} palms together", "gives a round of applause"),
             ("applauds", "applauding", "palms", "applause")),
    "raise_arms": (("hoists {limb}", "reaches for the sky with {limb}", "elevates {limb}", "hoists {limb} skyward"),
                   ("hoists", "hoisting", "elevates", "elevating", "reaches for the sky", "reaching for the sky",
                    "skyward")),
    "squat": (("hunkers down", "sinks the hips toward the floor", "lowers onto {poss} haunches", "hunkers low"),
              ("hunkers", "hunkering", "sinks the hips", "sinking the hips", "haunches")),
    "bow": (("bends at the waist to show respect", "inclines the upper body politely",
             "lowers the head and torso respectfully", "inclines {poss} head respectfully"),
            ("at the waist", "respect", "respectfully", "politely", "inclines", "inclining")),
    "jumping_jacks": (("does star jumps", "performs star jumps", "spreads the arms and legs out in rhythm",
                       "does a series of star jumps"),
                      ("star jumps", "spreads the arms and legs", "spreading the arms and legs")),
    "side_step": (("shuffles laterally", "sidles {dir}", "slides {dir} laterally", "shuffles {dir}"),
                  ("shuffles", "shuffling", "laterally", "sidles", "sidling")),
    "turn_around": (("pivots {dir}", "rotates {poss} body {dir} to look behind", "pivots to look behind",
                     "pivots on the spot"),
                    ("pivots", "pivoting", "rotates", "rotating", "behind")),
    "march": (("parades", "lifts the knees high like a soldier", "steps like a soldier on parade"),
              ("parades", "parading", "soldier", "parade")),
    "throw": (("hurls something", "pitches a ball", "lobs an object", "flings something {dir}"),
              ("hurls", "hurling", "pitches", "pitching", "lobs", "lobbing", "flings", "flinging")),
    "stretch": (("limbers up", "loosens up {poss} muscles", "limbers up the whole body"),
                ("limbers", "limbering", "loosens", "loosening")),
    "backflip": (("somersaults backwards", "vaults backward through the air", "turns head over heels backwards"),
                 ("somersaults", "somersaulting", "vaults", "vaulting", "head over heels")),
    "cartwheel": (("wheels sideways over the hands", "goes hand over hand sideways", "flips sideways onto the hands"),
                  ("wheels", "wheeling", "hand over hand", "onto the hands")),
    "crawl": (("creeps along the ground", "scuttles {dir} low to the ground", "inches along the floor",
               "creeps {dir}"),
              ("creeps", "creeping", "scuttles", "scuttling", "inches along", "inching along")),
    "dance": (("grooves to the music", "boogies", "moves rhythmically", "sways to a beat"),
              ("grooves", "grooving", "boogies", "boogieing", "rhythmically", "sways", "swaying")),
    "get_up": (("rises from the floor", "climbs to {poss} feet", "pushes off the floor to stand", "rises to standing"),
               ("rises", "rising", "climbs", "climbing", "pushes off the floor", "pushing off the floor")),
    "roll": (("tumbles", "tumbles across the floor", "turns over and over on the ground"),
             ("tumbles", "tumbling", "over and over")),
    "spin": (("twirls", "pirouettes", "whirls around", "twirls around {dir}"),
             ("twirls", "twirling", "pirouettes", "pirouetting", "whirls", "whirling")),
    "slash": (("cuts through the air with a blade", "hacks with a blade", "cleaves the air with a blade"),
              ("blade", "hacks", "hacking", "cleaves", "cleaving")),
    "gesture": (("motions someone to come closer", "indicates a direction with {limb:hand}",
                 "motions toward something"),
                ("motions", "motioning", "indicates", "indicating")),
    "stand": (("remains motionless", "stays put without moving", "stays put"),
              ("motionless", "stays put", "staying put")),
}

# Single-segment constructions. {S} subject, {P} predicate agreeing with it, {G} gerund predicate,
# {N} bare noun of the subject ("man"), {X} a prelude, {C}/{Cg} a coda (finite / gerund), {E} an event noun
# with its passive verb. Plain forms come several times: they are the most common in real captions.
SINGLE_TEMPLATES = (
    ("{S} {P}", 12), ("{S} {be} {G}", 3), ("{G}", 3), ("{N} {G}", 2), ("{X}, {S} {P}", 2),
    ("{S} {P}, then {C}", 2), ("{S} {P} and then {C}", 2), ("{S} {P} before {Cg}", 1), ("{S} {P} and {C}", 1),
    ("{S} {stands} still, then {P}", 1), ("{S} {P} and {C}", 1), ("{PASSIVE}", 2), ("{EF}", 1),
    ("{S} can be seen {G}", 1), ("{S} {be} seen {G}", 1),
)
TRAVELLING = frozenset({"walk", "run", "crawl", "side_step", "roll", "cartwheel"})
PRELUDES = ("from a standing position", "standing in place", "starting from a neutral stance", "from standing",
            "at first standing still", "starting out standing")
COMPOSITE_TEMPLATES = {
    2: ("{S} {A}, then {B}", "{S} {A} and then {B}", "{S} {A}, and then {B}", "{S} first {A}, then {B}",
        "after {a}, {S} {B}", "{S} {A} before {b}", "{S} {A}. then {pron} {Bp}", "{S} {A}; next {pron} {Bp}",
        "{S} {A} and afterwards {B}", "{a}, then {b}", "{S} {A}. after that {pron} {Bp}", "{S} {A} and {B}",
        "{S} {A}, followed by {b}"),
    3: ("{S} {A}, then {B}, and finally {C}", "{S} {A}, {B} and then {C}", "{S} first {A}, then {B}, then {C}",
        "after {a}, {S} {B} and then {C}", "{S} {A}, then {B} before {c}", "{a}, {b} and then {c}",
        "{S} {A}. then {pron} {Bp} and {Cp}"),
}

# --------------------------------------------------------------------------------------------------
# Grammar helpers (pure functions)
# --------------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------------


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
        from .mechanics import describe_segment  # scipy is only needed when joints are given

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


# --------------------------------------------------------------------------------------------------
# Part-of-speech tags (universal tags, spaCy style): closed-class words, suffix rules and the verbs of our
# own phrasings; unknown words are nouns.
# --------------------------------------------------------------------------------------------------

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
