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
    bad = [(m, t) for t in train for m in markers if has_phrase(t, m)]
    assert not bad, bad[:10]


def test_every_heldout_caption_contains_a_marker_of_its_concept(sampled):
    _, heldout = sampled
    for concept, texts in heldout.items():
        assert texts
        missing = [t for t in texts if not any(has_phrase(t, m) for m in heldout_markers(concept))]
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
        assert not has_phrase(text, "walks") and "kick" not in text, text


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
            assert re.search(r"\bbackwards?\b", text), text


@pytest.mark.parametrize("heldout", [False, True])
def test_composites_mention_segments_in_order(heldout):
    # Training phrases of these concepts all contain a stem of the concept name; held-out ones a marker.
    stems = {"kick": ("kick", "kicks", "kicking"), "wave": ("wave", "waves", "waving"),
             "clap": ("clap", "claps", "clapping"),
             "bow": ("bow", "bows", "bowing"), "squat": ("squat", "squats", "squatting"),
             "spin": ("spin", "spins", "spinning"), "roll": ("roll", "rolls", "rolling"),
             "march": ("march", "marches", "marching")}
    for concept, words in stems.items():
        assert all(any(w in p for w in words) for p in cap.TRAIN_PHRASES[concept]["train"]), concept
    pool = list(stems) if not heldout else list(CONCEPTS)
    rng = np.random.default_rng(11)
    for _ in range(200):
        concepts = [str(c) for c in rng.choice(pool, size=int(rng.integers(2, 4)), replace=False)]
        for text in caption_segments([seg(c) for c in concepts], rng, n=3, heldout=heldout):
            words = [heldout_markers(c) if heldout else stems[c] for c in concepts]
            positions = [first_match(text, w) for w in words]
            assert None not in positions and positions == sorted(positions), (concepts, text)


def test_composite_constructions():
    rng = np.random.default_rng(3)
    texts = set()
    for _ in range(20):
        texts.update(caption_segments([seg("jump"), seg("bow")], rng, n=3))
    assert any(t.startswith("after jumping,") or t.startswith("after performing") for t in texts)
    assert any(", then " in t or " and then " in t for t in texts)
    assert any(" before " in t for t in texts)


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
    assert pos_tag("a person moonwalks") == "a/DET person/NOUN moonwalks/NOUN"  # unknown -> NOUN
    assert pos_tag("") == ""


def test_every_emitted_word_is_in_the_lexicon(sampled):
    train, heldout = sampled
    words = {w for t in train + [h for hs in heldout.values() for h in hs] for w in cap._words(t)}
    unknown = sorted(w for w in words if w not in cap.LEXICON and w not in cap.INFINITIVES)
    assert not unknown
    # Spot checks that the lexicon is not just "everything is a noun".
    tags = dict(t.rsplit("/", 1) for t in pos_tag(" ".join(sorted(words))).split())
    for verb in ("kicks", "kicking", "punches", "dances", "dancing", "runs", "running", "leaps", "strolls"):
        assert cap.LEXICON[verb] == "VERB", verb
    assert sum(tag == "VERB" for tag in tags.values()) > 100


def test_gerunds():
    pairs = {"kicks": "kicking", "dances": "dancing", "punches": "punching", "runs": "running",
             "does": "doing", "bows": "bowing", "pirouettes": "pirouetting", "squats": "squatting"}
    assert {v: cap._gerund(v) for v in pairs} == pairs


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
