"""Captions for MotionBank clips that read like human annotators wrote them, plus the HumanML3D text format.
Words (subjects, verbs, modifiers, phrasings, held-out phrasings, templates) feed the grammar (facts, predicates,
constructions); captioning.py is the entry point. Callers' names are re-exported here (a few private ones for tests)."""

from __future__ import annotations

from .captioning import attribute_choices, caption_motion, caption_segments, concept_paraphrases, heldout_markers
from .facts import segment_facts, _choice
from .text_lines import format_text_line, parse_text_line
from .pos import VERBS, pos_tag, _words
from .phrasings import TRAIN_PHRASES
from .heldout import HELDOUT_PHRASES
from .modifiers import MANNERS
from .verbs import _base, _gerund
from .constructions import _normal_form

__all__ = [
    "attribute_choices", "caption_motion", "caption_segments", "concept_paraphrases", "heldout_markers",
    "segment_facts", "_choice", "format_text_line", "parse_text_line", "VERBS", "pos_tag", "_words",
    "TRAIN_PHRASES", "HELDOUT_PHRASES", "MANNERS", "_base", "_gerund", "_normal_form",
]
