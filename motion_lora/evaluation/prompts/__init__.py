"""Hand-written natural prompts: motion described the way people type it, kept apart from the caption grammar.

`natural.tsv` (UTF-8, tab-separated) holds one prompt a line under the header `text<TAB>concepts<TAB>style`:
* text: the prompt as a person would write it (no tabs, no '#': that is the HumanML3D field separator);
* concepts: one concept of `CONCEPTS`, or two in time order for a sequence ("walk,kick");
* style: how it is phrased, one of `STYLES`. "implicit" prompts never use the concept's own word
  ("boots an imaginary football"), "typo" ones are misspelt on purpose, "sequence" ones chain two concepts.

The prompts were written by hand, not by the grammar of `motion_lora.data.captions`, and tests keep them
apart from every generated caption: a model that follows them follows language, not our templates.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from ...data.clip import CONCEPT_INDEX, CONCEPTS

NATURAL_FILE = Path(__file__).with_name("natural.tsv")
HEADER = ("text", "concepts", "style")
STYLES = ("plain", "bodypart", "implicit", "styled", "sequence", "typo")
SEQUENCE_STYLE = "sequence"
MAX_CONCEPTS = 2  # a sequence names two concepts; presence is then "among the top 2" (like composites)
ARTICLES = frozenset({"a", "an", "the"})


@dataclass(frozen=True)
class NaturalPrompt:
    text: str
    concepts: tuple[str, ...]  # one concept, or two in time order
    style: str


def normalise_text(text: str) -> str:
    """Lowercase, punctuation dropped, whitespace collapsed, articles dropped: 'A man kicks!' -> 'man kicks'.
    Two prompts with the same normal form are the same prompt for every check that keeps sets apart."""
    words = re.sub(r"[^\w\s]", "", text.lower()).split()
    return " ".join(w for w in words if w not in ARTICLES)


def _parse_line(line: str, where: str) -> NaturalPrompt:
    fields = line.split("\t")
    if len(fields) != len(HEADER):
        raise ValueError(f"{where}: expected {len(HEADER)} tab-separated fields (text, concepts, style), got {len(fields)}")
    text, concepts_field, style = (f.strip() for f in fields)
    if not text:
        raise ValueError(f"{where}: empty prompt text")
    if "#" in text:
        raise ValueError(f"{where}: '#' in prompt text {text!r} (it separates HumanML3D caption fields)")
    concepts = tuple(c.strip() for c in concepts_field.split(","))
    unknown = [c for c in concepts if c not in CONCEPT_INDEX]
    if unknown:
        raise ValueError(f"{where}: unknown concept {unknown[0]!r} in {text!r}; known: {', '.join(CONCEPTS)}")
    if not 1 <= len(concepts) <= MAX_CONCEPTS or len(set(concepts)) != len(concepts):
        raise ValueError(f"{where}: a prompt names 1 to {MAX_CONCEPTS} different concepts, got {concepts_field!r}")
    if style not in STYLES:
        raise ValueError(f"{where}: unknown style {style!r}; one of {', '.join(STYLES)}")
    if (style == SEQUENCE_STYLE) != (len(concepts) > 1):
        raise ValueError(f"{where}: style {SEQUENCE_STYLE!r} is for two-concept prompts and only for them, got {style!r} with {concepts_field!r}")
    return NaturalPrompt(text=text, concepts=concepts, style=style)


def read_natural(path: str | Path) -> list[NaturalPrompt]:
    """Parse and validate a natural-prompt file; a bad line raises ValueError naming the file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err})") from None
    if not lines or tuple(f.strip() for f in lines[0].split("\t")) != HEADER:
        raise ValueError(f"{path}:1: the first line must be the header {'<TAB>'.join(HEADER)!r}")
    prompts, seen = [], {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        prompt = _parse_line(line, where)
        key = normalise_text(prompt.text)
        if key in seen:
            raise ValueError(f"{where}: {prompt.text!r} duplicates line {seen[key]} once normalised ({key!r})")
        seen[key] = number
        prompts.append(prompt)
    if not prompts:
        raise ValueError(f"{path}: no prompts under the header")
    return prompts


@functools.cache
def _shipped() -> tuple[NaturalPrompt, ...]:
    return tuple(read_natural(NATURAL_FILE))


def natural_prompts(concept: str | None = None) -> list[NaturalPrompt]:
    """The shipped natural prompts, in file order; with `concept`, those that name it (sequences included)."""
    if concept is None:
        return list(_shipped())
    if concept not in CONCEPT_INDEX:
        raise ValueError(f"unknown concept {concept!r}; known: {', '.join(CONCEPTS)}")
    return [p for p in _shipped() if concept in p.concepts]
