"""Caption perturbation for paraphrase robustness (data/captions/perturb.py) and its pretrain switch."""

import random

import pytest

from motion_lora.data.captions.perturb import (EDITS, FRAMES, MANNER_WORDS, drop_word, perturb_caption, perturb_captions,
                                               swap_neighbours)
from motion_lora.data.clip import CONCEPTS

CAPTIONS = ["a person kicks with the right leg", "someone jumps up in place twice", "a man walks forward slowly", "waves"]


def test_the_same_seed_gives_the_same_rewording_and_most_captions_change():
    first = [perturb_caption(c, random.Random(3)) for c in CAPTIONS]
    assert first == [perturb_caption(c, random.Random(3)) for c in CAPTIONS]
    rng = random.Random(0)
    changed = sum(perturb_caption(c, rng).lower().rstrip(".") != c for c in CAPTIONS * 50)
    assert changed > 0.9 * len(CAPTIONS) * 50


def test_no_edit_brings_in_a_concept_word():
    """The words an edit inserts are manner and framing words, never a concept: no other motion's name is taught.
    (The other edits only drop, swap or misspell the caption's own words.)"""
    concept_words = {w for c in CONCEPTS for w in c.split("_")}
    inserted = {w for phrase in MANNER_WORDS + FRAMES for w in phrase.split()}
    assert not concept_words & inserted


def test_edits_of_short_captions():
    """Dropping and swapping leave captions of three words or fewer whole (no empty or one-word prompt results)."""
    rng = random.Random(0)
    for edit in (drop_word, swap_neighbours):
        assert edit(["a", "person", "kicks"], rng) in (["a", "person", "kicks"], ["a", "kicks", "person"])
        assert edit(["waves"], rng) == ["waves"]
    assert all(len(e(["a", "person", "kicks", "hard"], rng)) >= 3 for e in EDITS)


def test_probability_zero_is_the_captions_themselves_and_one_perturbs_every_caption():
    assert perturb_captions(CAPTIONS, 0.0, random.Random(0)) is CAPTIONS
    out = perturb_captions(CAPTIONS * 20, 1.0, random.Random(0))
    assert len(out) == 80 and sum(o.lower().rstrip(".") != c for o, c in zip(out, CAPTIONS * 20)) > 70


def test_pretrain_refuses_a_probability_outside_zero_to_one(tmp_path, quick_bank):
    from motion_lora.model.pretrain import TrainConfig, pretrain
    from tests.conftest import TINY_DENOISER

    data, _ = quick_bank
    with pytest.raises(ValueError, match="caption_noise"):
        pretrain(data, tmp_path / "m", TINY_DENOISER, TrainConfig(steps=1, caption_noise=1.5), device="cpu", log=lambda *_: None)
