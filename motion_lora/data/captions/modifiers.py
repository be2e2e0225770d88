"""Modifier phrases: sides and limbs (left/right stay literal words, so mirroring is a word swap), directions,
speeds, counts, manners, measured heights and limb directions, turns.
"""

from __future__ import annotations

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
