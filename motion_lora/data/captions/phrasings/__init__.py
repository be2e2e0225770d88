"""Per-concept training phrasings (`TRAIN_PHRASES`): predicates, implicit descriptions, facts, nouns, codas.

Per concept:
  limb: which limb side phrases name (None: a left/right side is read as a direction)
  default_side: side assumed when there is none (raise_arms means both arms)
  sides / directions / counts: attribute values this concept is sampled with
  train: generic predicates, with {limb}/{limb:noun} (the side's limb phrase), {dir} (the direction phrase;
    appended after the predicate when absent), {poss}/{obj}/{refl} (the subject's pronoun forms);
  implicit: descriptions that do not name the concept (also training phrasings);
  styles: extra predicates per attrs["style"]; speeds: extra predicates per speed;
  facts: predicates that state a measured fact, keyed "height=above_head", "direction=sideways", ...;
  nouns: event nouns for passive and noun-fragment captions ("a kick is thrown ...", "a high kick");
  passive: participles for the passive ("is thrown"); whiles / codas: concurrent and closing clauses.
Every {limb...} that a predicate uses names the side itself; otherwise a side phrase is added.

legs.py, arms.py and whole_body.py hold the entries, codas.py the closing clauses several share.
"""

from __future__ import annotations

from ...clip import CONCEPTS
from .arms import ARMS
from .legs import LEGS
from .whole_body import WHOLE_BODY

TRAIN_PHRASES = {c: {**LEGS, **ARMS, **WHOLE_BODY}[c] for c in CONCEPTS}
