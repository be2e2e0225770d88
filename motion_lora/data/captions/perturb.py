"""Caption perturbation for paraphrase robustness in training: the same motion under a slightly different wording.

People write prompts unlike our templated captions: words left out, words swapped, a manner word added, a typo.
SATO (Chen et al. 2024) trains text-to-motion models on perturbed captions (synonyms, word order) so that a
reworded prompt keeps its motion. `pretrain --caption_noise P` perturbs each training caption with probability P by
one or two of the edits below, drawn afresh every step. The edits are generic (no test sentence, no concept word is
ever inserted), so they cannot leak the natural test set into training.
"""

from __future__ import annotations

import random

# Manner and framing words that leave the action itself unchanged; inserted before or after the caption.
MANNER_WORDS = (
    "slowly", "quickly", "carefully", "casually", "energetically", "calmly", "lazily", "briskly", "gently",
    "firmly", "happily", "tiredly", "confidently", "clumsily", "smoothly", "with effort", "for a moment", "once",
    "in place", "on the spot", "very", "just", "then", "again", "somewhat", "a bit",
)
FRAMES = ("", "in this clip ", "here ", "the video shows ", "we see that ", "watch as ")


def drop_word(words: list[str], rng: random.Random) -> list[str]:
    """Leave out one word (not from captions of three words or fewer)."""
    if len(words) <= 3:
        return words
    i = rng.randrange(1, len(words))
    return words[:i] + words[i + 1 :]


def swap_neighbours(words: list[str], rng: random.Random) -> list[str]:
    """Swap two neighbouring words (word-order noise)."""
    if len(words) < 3:
        return words
    i = rng.randrange(1, len(words) - 1)
    return words[:i] + [words[i + 1], words[i]] + words[i + 2 :]


def add_manner(words: list[str], rng: random.Random) -> list[str]:
    """A manner word or phrase at the end, or after the second word."""
    extra = rng.choice(MANNER_WORDS).split()
    if rng.random() < 0.5 or len(words) < 3:
        return words + extra
    return words[:2] + extra + words[2:]


def typo(words: list[str], rng: random.Random) -> list[str]:
    """One word of four letters or more gets two neighbouring letters swapped, or one letter dropped."""
    long = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not long:
        return words
    i = rng.choice(long)
    w = words[i]
    j = rng.randrange(1, len(w) - 1)
    w = w[:j] + w[j + 1] + w[j] + w[j + 2 :] if rng.random() < 0.5 else w[:j] + w[j + 1 :]
    return words[:i] + [w] + words[i + 1 :]


EDITS = (drop_word, swap_neighbours, add_manner, typo)


def perturb_caption(caption: str, rng: random.Random) -> str:
    """`caption` with one or two random edits, maybe framed, in lower or sentence case, with or without a full stop."""
    words = caption.strip().rstrip(".").split()
    if not words:
        return caption
    for edit in rng.sample(EDITS, rng.choice((1, 2))):
        words = edit(words, rng)
    text = rng.choice(FRAMES) + " ".join(words)
    text = text[:1].upper() + text[1:] if rng.random() < 0.5 else text.lower()
    return text + ("." if rng.random() < 0.5 else "")


def perturb_captions(captions: list[str], probability: float, rng: random.Random) -> list[str]:
    """Each caption perturbed with `probability` (0: unchanged, the list itself)."""
    if probability <= 0:
        return captions
    return [perturb_caption(c, rng) if rng.random() < probability else c for c in captions]
