"""The text ceiling: the nearest training caption's concept, on tiny fixtures."""

from __future__ import annotations

import numpy as np

from motion_lora.data.clip import CONCEPT_INDEX
from motion_lora.evaluation.text_ceiling import ceiling_hits, nearest_concepts, training_captions

VOCAB = ["kick", "leg", "punch", "arm", "walk", "forward", "person"]


def bag_of_words(texts: list[str]) -> np.ndarray:
    """A transparent stand-in encoder: word counts over VOCAB (plus one so no vector is zero)."""
    return np.array([[t.lower().split().count(w) for w in VOCAB] + [1] for t in texts], dtype=float)


def test_nearest_concepts_uses_cosine_not_length():
    captions = np.array([[1.0, 0.0], [0.0, 1.0]])
    prompts = np.array([[10.0, 1.0], [0.1, 0.3]])  # long vector near caption 0; short one near caption 1
    assert nearest_concepts(prompts, captions, np.array([7, 3])).tolist() == [7, 3]


def test_ceiling_hits_names_the_nearest_captions_concept():
    captions = ["a person kick leg", "a person punch arm", "a person walk forward"]
    concepts = np.array([CONCEPT_INDEX["kick"], CONCEPT_INDEX["punch"], CONCEPT_INDEX["walk"]])
    prompts = ["kick with the leg", "arm punch", "walk walk forward", "person leg"]
    truth = [CONCEPT_INDEX[c] for c in ("kick", "punch", "walk", "walk")]
    hits = ceiling_hits(bag_of_words, prompts, truth, captions, concepts)
    assert hits.tolist() == [True, True, True, False]  # "person leg" is nearest the kick caption


def test_training_captions_of_a_motionbank(quick_bank):
    data, _ = quick_bank
    captions, concepts = training_captions(data)
    assert len(captions) == len(set(captions)) == len(concepts) > 0
    assert (concepts >= 0).all()
    train_ids = set((data / "train.txt").read_text().split())
    train_lines = {line.split("#")[0] for i in train_ids if (data / "texts" / f"{i}.txt").exists()
                   for line in (data / "texts" / f"{i}.txt").read_text().splitlines()}
    assert set(captions) <= train_lines  # only training captions: the ceiling never peeks at test clips
