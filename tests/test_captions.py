"""Caption grammar: coverage, held-out separation, determinism, mirroring, POS tags and the text-line format."""

import itertools
import math
import re

import numpy as np
import pytest

from motion_lora.data import captions as cap
from motion_lora.data.captions import (
    caption_segments,
    concept_paraphrases,
    format_text_line,
    heldout_markers,
    parse_text_line,
    pos_tag,
)
from motion_lora.data.clip import CONCEPTS, Segment, swap_side_words


def seg(concept, fine=None, **attrs):
    return Segment(concept=concept, fine=fine or concept, start=0, end=20, attrs=attrs)


def attr_combos(concept):
    """Every combination of the concept's attribute values (each key may also be absent)."""
    choices = cap.attribute_choices(concept)
    keys = list(choices)
    for values in itertools.product(*[(None, *choices[k]) for k in keys]):
        yield {k: v for k, v in zip(keys, values) if v is not None}


def has_phrase(text, phrase):
    return re.search(r"\b" + re.escape(phrase) + r"\b", text) is not None


def first_match(text, phrases):
    hits = [m.start() for p in phrases for m in re.finditer(r"\b" + re.escape(p) + r"\b", text)]
    return min(hits) if hits else None


@pytest.fixture(scope="module")
def sampled():
    """Training and held-out captions over all attribute combinations of every concept, plus composites."""
    rng = np.random.default_rng(123)
    train, heldout = [], {c: [] for c in CONCEPTS}
    for concept in CONCEPTS:
        for attrs in attr_combos(concept):
            segments = [seg(concept, **attrs)]
            train += caption_segments(segments, rng, n=3)
            heldout[concept] += caption_segments(segments, rng, n=3, heldout=True)
        train += concept_paraphrases(concept, rng, n=16)
    for _ in range(300):  # composites exercise the joining constructions
        concepts = rng.choice(CONCEPTS, size=int(rng.integers(2, 4)), replace=False)
        train += caption_segments([seg(str(c)) for c in concepts], rng, n=3)
    return train, heldout


# ------------------------------------------------------------------------------------------ coverage


@pytest.mark.parametrize("concept", CONCEPTS)
def test_every_concept_has_train_and_heldout_captions(concept):
    rng = np.random.default_rng(0)
    for heldout in (False, True):
        out = caption_segments([seg(concept)], rng, n=5, heldout=heldout)
        assert len(out) == 5 and len(set(out)) == 5
        assert all(c == c.strip() and "  " not in c and "{" not in c for c in out)
    paraphrases = concept_paraphrases(concept, n=16)
    assert len(paraphrases) == len(set(paraphrases)) == 16
    markers = heldout_markers(concept)
    assert markers and all(m == m.lower() for m in markers)


def test_unknown_concept_is_rejected_by_name():
    for call in (lambda: concept_paraphrases("moonwalk"), lambda: heldout_markers("moonwalk")):
        with pytest.raises(ValueError, match="moonwalk"):
            call()


def test_grammar_tables_cover_exactly_the_concepts():
    assert set(cap.TRAIN_PHRASES) == set(CONCEPTS) == set(cap.HELDOUT_PHRASES)


# ------------------------------------------------------------------------------------------ held-out set


def test_no_training_caption_contains_any_heldout_marker(sampled):
    train, _ = sampled
    markers = {m for c in CONCEPTS for m in heldout_markers(c)}
    assert len(train) > 5000
    bad = [(m, t) for t in train for m in markers if has_phrase(t.lower(), m)]
    assert not bad, bad[:10]


def test_every_heldout_caption_contains_a_marker_of_its_concept(sampled):
    _, heldout = sampled
    for concept, texts in heldout.items():
        assert texts
        missing = [t for t in texts if not any(has_phrase(t.lower(), m) for m in heldout_markers(concept))]
        assert not missing, (concept, missing[:5])


def test_heldout_markers_of_different_concepts_are_disjoint():
    seen = {}
    for concept in CONCEPTS:
        for marker in heldout_markers(concept):
            assert seen.setdefault(marker, concept) == concept, marker


def test_heldout_composites_use_only_heldout_phrasings():
    rng = np.random.default_rng(5)
    segments = [seg("walk", direction="forward"), seg("kick", "kick_front_right", side="right", style="front")]
    for text in caption_segments(segments, rng, n=8, heldout=True):
        assert not has_phrase(text.lower(), "walks") and "kick" not in text.lower(), text


# ------------------------------------------------------------------------------------------ sampling behaviour


def test_at_least_three_distinct_captions_and_n_respected():
    rng = np.random.default_rng(1)
    for concept in CONCEPTS:
        assert len(set(caption_segments([seg(concept)], rng))) == 3
    assert len(set(caption_segments([seg("kick", side="left")], rng, n=10))) == 10
    assert caption_segments([seg("bow")], rng, n=0) == []
    with pytest.raises(ValueError):
        caption_segments([], rng)


def test_deterministic_for_a_seed_and_varies_across_seeds():
    segments = [seg("punch", "punch_jab_left", side="left", style="jab", count=2), seg("bow")]
    first = caption_segments(segments, np.random.default_rng(7), n=5)
    again = caption_segments(segments, np.random.default_rng(7), n=5)
    other = caption_segments(segments, np.random.default_rng(8), n=5)
    assert first == again
    assert first != other
    assert concept_paraphrases("kick") == concept_paraphrases("kick")


def test_attributes_are_mentioned():
    rng = np.random.default_rng(2)
    for heldout in (False, True):
        for text in caption_segments([seg("kick", side="right")], rng, n=6, heldout=heldout):
            assert has_phrase(text, "right"), text
        for text in caption_segments([seg("wave", "wave_both")], rng, n=6, heldout=heldout):
            assert has_phrase(text, "both"), text
        for text in caption_segments([seg("side_step", "side_step_left")], rng, n=6, heldout=heldout):
            assert has_phrase(text, "left"), text
        for text in caption_segments([seg("walk", direction="backward")], rng, n=6, heldout=heldout):
            assert re.search(r"\bbackwards?\b|in reverse|backs up", text.lower()), text


def test_heldout_composites_mention_segments_in_order():
    # Every held-out phrasing holds a marker of its concept, so the markers show the order of the segments.
    rng = np.random.default_rng(11)
    for _ in range(200):
        concepts = [str(c) for c in rng.choice(CONCEPTS, size=int(rng.integers(2, 4)), replace=False)]
        for text in caption_segments([seg(c) for c in concepts], rng, n=3, heldout=True):
            positions = [first_match(text.lower(), heldout_markers(c)) for c in concepts]
            assert None not in positions and positions == sorted(positions), (concepts, text)


def test_composite_constructions():
    rng = np.random.default_rng(3)
    texts = set()
    for _ in range(20):
        texts.update(caption_segments([seg("jump"), seg("bow")], rng, n=3))
    lower = [t.lower() for t in texts]
    assert any(t.startswith("after ") and "ing" in t.split(",")[0] for t in lower)
    assert any(", then " in t or " and then " in t for t in lower)
    assert any(" before " in t for t in lower)
    assert any(". then " in t or ". after that " in t or "; next " in t for t in lower)


# ------------------------------------------------------------------------------------------ mirroring


def test_mirrored_segments_get_side_swapped_captions():
    rng = np.random.default_rng(4)
    cases = [
        [seg("kick", "kick_front_right", side="right", style="front", count=2, speed="fast")],
        [seg("punch", "punch_cross_left", side="left", style="cross")],
        [seg("wave", "wave_left", side="left")],
        [seg("raise_arms", side="right", speed="slow")],
        [seg("side_step", "side_step_left", direction="left", count=3)],
        [seg("turn_around", "turn_around_right", turn="right")],
        [seg("walk", "walk_left", direction="left"), seg("throw", "throw_overarm_right", side="right")],
        [seg("spin", direction="left"), seg("kick", "kick_side_left", side="left"), seg("roll", direction="right")],
    ]
    for concept in CONCEPTS:  # and every attribute combination with a side or direction
        for attrs in attr_combos(concept):
            if attrs.get("side") in ("left", "right") or attrs.get("direction") in ("left", "right"):
                cases.append([seg(concept, **attrs)])
    for segments in cases:
        mirrored = [s.mirrored() for s in segments]
        seed = int(rng.integers(1 << 30))
        for heldout in (False, True):
            original = caption_segments(segments, np.random.default_rng(seed), n=4, heldout=heldout)
            flipped = caption_segments(mirrored, np.random.default_rng(seed), n=4, heldout=heldout)
            assert flipped == [swap_side_words(t) for t in original]
            assert flipped != original  # the side is actually said


# ------------------------------------------------------------------------------------------ POS tags


def test_pos_tag_examples():
    assert pos_tag("a person kicks with the right leg") == (
        "a/DET person/NOUN kicks/VERB with/ADP the/DET right/ADJ leg/NOUN")
    assert pos_tag("After jumping, A man bows.") == "after/ADP jumping/VERB a/DET man/NOUN bows/VERB"
    assert pos_tag("someone turns to the left") == "someone/PRON turns/VERB to/ADP the/DET left/NOUN"
    assert pos_tag("swings a leg up to strike").endswith("to/PART strike/VERB")
    assert pos_tag("takes a few steps") == "takes/VERB a/DET few/ADJ steps/NOUN"
    assert pos_tag("steps sideways") == "steps/VERB sideways/ADV"
    assert pos_tag("they kick twice, then jog slowly") == (
        "they/PRON kick/VERB twice/ADV then/ADV jog/VERB slowly/ADV")
    assert pos_tag("a cheerful woman does a kick") == "a/DET cheerful/ADJ woman/NOUN does/VERB a/DET kick/NOUN"
    assert pos_tag("on his back") == "on/ADP his/PRON back/NOUN"
    assert pos_tag("a person moonwalks") == "a/DET person/NOUN moonwalks/NOUN"  # unknown -> NOUN
    assert pos_tag("") == ""


def test_pos_tags_scale_to_words_outside_the_phrasings():
    # Suffix rules, not a word list: unseen adverbs, gerunds and adjectives are still tagged sensibly.
    assert pos_tag("a man zigzags merrily while juggling") == (
        "a/DET man/NOUN zigzags/NOUN merrily/ADV while/SCONJ juggling/VERB")
    assert pos_tag("a joyless figure").split()[1] == "joyless/ADJ"


def test_every_caption_gets_a_tag_per_word(sampled):
    train, heldout = sampled
    texts = train + [h for hs in heldout.values() for h in hs]
    tags_seen = {}
    for text in texts[::7]:
        tokens = pos_tag(text).split()
        assert [t.rsplit("/", 1)[0] for t in tokens] == cap._words(text)
        for token in tokens:
            word, tag = token.rsplit("/", 1)
            tags_seen.setdefault(tag, set()).add(word)
    # Not "everything is a noun": every verb of the phrasings is tagged as a verb somewhere.
    for verb in ("kicks", "kicking", "punches", "dances", "jogs", "sprints", "crouches", "leaps", "strolls"):
        assert verb in cap.VERBS, verb
    assert len(tags_seen["VERB"]) > 300 and len(tags_seen["ADV"]) > 40 and len(tags_seen["ADJ"]) > 30


def test_gerunds():
    pairs = {"kicks": "kicking", "dances": "dancing", "punches": "punching", "runs": "running",
             "does": "doing", "bows": "bowing", "pirouettes": "pirouetting", "squats": "squatting",
             "steps": "stepping", "jogs": "jogging", "hops": "hopping", "lies": "lying", "sidesteps": "sidestepping",
             "carries": "carrying", "waves": "waving", "sees": "seeing"}
    assert {v: cap._gerund(v) for v in pairs} == pairs
    bases = {"kicks": "kick", "punches": "punch", "carries": "carry", "does": "do", "goes": "go", "waves": "wave"}
    assert {v: cap._base(v) for v in bases} == bases


# ------------------------------------------------------------------------------------------ text lines


def test_text_line_round_trip(sampled):
    train, heldout = sampled
    for text in train[::50] + [h for hs in heldout.values() for h in hs[::50]]:
        line = format_text_line(text, 0, 0)
        assert line.count("#") == 3
        assert parse_text_line(line) == (text, pos_tag(text), 0.0, 0.0)
    assert parse_text_line(format_text_line("a man bows", 1.5, 3.0) + "\n") == (
        "a man bows", "a/DET man/NOUN bows/VERB", 1.5, 3.0)


def test_parse_tolerates_real_humanml3d_lines():
    line = "a man kicks something with his left leg.#a/DET man/NOUN kick/VERB something/PRON#0.0#0.0"
    assert parse_text_line(line)[0] == "a man kicks something with his left leg."
    assert parse_text_line("a person walks##nan#nan") == ("a person walks", "", 0.0, 0.0)
    assert parse_text_line("a person walks#0.0#2.5") == ("a person walks", "", 0.0, 2.5)
    assert parse_text_line("a person walks") == ("a person walks", "", 0.0, 0.0)
    assert parse_text_line("a person walks#a/DET person/NOUN walks/VERB#  #") [2:] == (0.0, 0.0)
    assert not any(math.isnan(x) for x in parse_text_line("x#x/NOUN#NaN#NaN")[2:])


@pytest.mark.parametrize("line", ["", "   \n", "#a/DET#0.0#0.0", "a#b#c#d#e", "a man#a/DET man/NOUN#zero#1.0",
                                  "a man#a/DET man/NOUN#3.0#1.0", "a man#a/DET man/NOUN#-1#2", "a man#x#inf#1"])
def test_parse_rejects_malformed_lines_naming_them(line):
    with pytest.raises(ValueError) as info:
        parse_text_line(line)
    assert repr(line) in str(info.value)


def test_format_rejects_bad_captions():
    for bad in ("a man # bows", "a man\nbows", "  "):
        with pytest.raises(ValueError):
            format_text_line(bad)


# ------------------------------------------------------------------------------------------ variety and words


DISTINCT_FLOOR = 300  # distinct captions per concept from 400 random draws of its attributes (measured ~1100+)


@pytest.mark.parametrize("concept", CONCEPTS)
def test_many_distinct_captions_per_concept(concept):
    rng = np.random.default_rng(21)
    choices = cap.attribute_choices(concept)
    seen = set()
    for _ in range(400):
        attrs = {k: cap._choice(rng, v) for k, v in choices.items() if v and rng.random() < 0.5}
        seen.update(cap._normal_form(t) for t in caption_segments([seg(concept, **attrs)], rng, n=1))
    assert len(seen) >= DISTINCT_FLOOR, (concept, len(seen))


def test_constructions_vary():
    rng = np.random.default_rng(9)
    texts = [t for _ in range(300) for t in caption_segments([seg("kick", side="left", count=2)], rng, n=1)]
    lower = [t.lower() for t in texts]
    assert any(t.startswith("kicking") or t.startswith("doing") for t in lower)  # gerund fragments
    assert any(" is thrown " in t or " is performed " in t or " is done " in t for t in lower)  # passive
    assert any(t.startswith(("he ", "she ", "they ")) for t in lower)
    assert any(t[0].isupper() for t in texts) and any(t[0].islower() for t in texts)
    assert any(t.endswith(".") for t in texts) and any(not t.endswith(".") for t in texts)
    assert any(w in t for t in lower for w in ("twice", "two times", "a couple of times"))
    assert any("then" in t or "before" in t for t in lower)
    # Implicit descriptions that never name the concept are among the training captions.
    assert any("kick" not in t for t in lower)


def test_they_takes_plural_verbs():
    rng = np.random.default_rng(2)
    texts = [t.lower() for _ in range(400) for t in caption_segments([seg("punch", side="right")], rng, n=1)]
    they = [t for t in texts if t.startswith("they ")]
    assert they
    assert not any(re.match(r"they (punches|throws|does|is|stands|kicks)\b", t) for t in they), they[:5]


def test_common_natural_words_are_trained():
    rng = np.random.default_rng(3)
    words = {"run": ("jogs", "sprints"), "punch": ("fist",), "squat": ("crouches",), "walk": ("strolls",),
             "jump": ("leaps", "hops")}
    speeds = {"run": "fast", "walk": "slow"}
    for concept, wanted in words.items():
        attrs = {"speed": speeds[concept]} if concept in speeds else {}
        texts = " ".join(caption_segments([seg(concept, **attrs)], rng, n=300)).lower()
        for word in wanted:
            assert has_phrase(texts, word), (concept, word)


@pytest.mark.parametrize("manner,words", [
    ("elderly", ("elderly", "old", "stiffly", "stoop", "frailly", "hunched")),
    ("happy", ("happy", "happily", "cheerful", "cheerfully", "joyful", "joyfully", "gleefully", "spring")),
    ("chimpira", ("thug", "delinquent", "thuggish", "punk", "hoodlum")),
    ("giant", ("giant", "lumbering", "heavily", "ponderously", "heavy")),
    ("tired", ("tired", "wearily", "tiredly", "sluggishly", "weary", "lazily", "sleepy")),
])
def test_style_words_for_a_manner(manner, words):
    rng = np.random.default_rng(4)
    texts = caption_segments([seg("walk", direction="forward", manner=manner)], rng, n=40)
    said = [t for t in texts if any(has_phrase(t.lower(), w) for w in words)]
    assert len(said) >= 0.6 * len(texts), (manner, texts[:5])


def test_normal_manner_mostly_goes_unsaid():
    rng = np.random.default_rng(5)
    texts = caption_segments([seg("walk", manner="normal")], rng, n=60)
    styled = [t for t in texts if any(w in t.lower() for w in ("normal", "casually", "relaxed"))]
    assert len(styled) <= 0.25 * len(texts)


def test_every_manner_and_attribute_caption_is_a_valid_text_line():
    rng = np.random.default_rng(6)
    markers = {m for c in CONCEPTS for m in heldout_markers(c)}
    for concept in CONCEPTS:
        for manner in cap.MANNERS:
            for text in caption_segments([seg(concept, manner=manner)], rng, n=3):
                assert parse_text_line(format_text_line(text))[0] == text
                assert "{" not in text and "  " not in text and "^" not in text, text
                assert not [m for m in markers if has_phrase(text.lower(), m)], text


def test_concept_paraphrases_are_varied():
    texts = concept_paraphrases("kick", np.random.default_rng(0), n=64)
    assert len({cap._normal_form(t) for t in texts}) == 64
    assert len({t.split()[0].lower() for t in texts}) >= 10  # many subjects and constructions


# ------------------------------------------------------------------------------------------ measured mechanics


def test_new_concepts_have_full_phrasings():
    for concept in ("slash", "gesture", "stand"):
        spec = cap.TRAIN_PHRASES[concept]
        assert len(spec["train"]) + len(spec.get("implicit", ())) >= 15, concept
