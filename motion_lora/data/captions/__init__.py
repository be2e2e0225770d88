"""Captions for MotionBank clips that read like human annotators wrote them, plus the HumanML3D text format.
Words (subjects, verbs, modifiers, phrasings, held-out phrasings, templates) feed the grammar (facts, predicates,
constructions); captioning.py is the entry point. Callers' names are re-exported here (a few private ones for tests)."""

from __future__ import annotations

from .captioning import attribute_choices, caption_motion, caption_segments, concept_paraphrases, heldout_markers

from .constructions import _normal_form as _normal_form
from .facts import _choice as _choice
from .facts import segment_facts
from .heldout import HELDOUT_PHRASES
from .modifiers import MANNERS
from .phrasings import TRAIN_PHRASES
from .pos import VERBS, pos_tag
from .pos import _words as _words
from .text_lines import format_text_line, parse_text_line
from .verbs import _base as _base
from .verbs import _gerund as _gerund

# The `_name as _name` imports are private helpers that tests/test_captions.py reads as `captions._name`.
__all__ = [
    "HELDOUT_PHRASES",
    "MANNERS",
    "TRAIN_PHRASES",
    "VERBS",
    "attribute_choices",
    "caption_motion",
    "caption_segments",
    "concept_paraphrases",
    "format_text_line",
    "heldout_markers",
    "parse_text_line",
    "pos_tag",
    "segment_facts",
]
