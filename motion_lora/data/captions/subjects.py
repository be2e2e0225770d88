"""Who a caption is about: subject noun phrases with their gender, and the pronoun forms per gender."""

from __future__ import annotations

# (noun phrase, gender): "m" he/his/him, "f" she/her/her, "n" they/their/them with a singular noun,
# "p" the plural pronoun "they" itself (takes plural verbs).
SUBJECTS = (
    ("a person", "n"), ("someone", "n"), ("a man", "m"), ("a woman", "f"), ("the person", "n"),
    ("the man", "m"), ("the woman", "f"), ("a guy", "m"), ("a girl", "f"), ("a boy", "m"), ("a lady", "f"),
    ("a human", "n"), ("an individual", "n"), ("a figure", "n"), ("the figure", "n"), ("a dancer", "n"),
    ("the actor", "m"), ("an actor", "m"), ("the actress", "f"), ("a performer", "n"), ("the performer", "n"),
    ("an athlete", "n"), ("a young man", "m"), ("a young woman", "f"), ("this person", "n"), ("this man", "m"),
    ("this woman", "f"), ("the subject", "n"), ("the character", "n"), ("a character", "n"), ("a tall man", "m"),
    ("a short woman", "f"), ("a standing person", "n"), ("somebody", "n"), ("the guy", "m"), ("the girl", "f"),
    ("he", "m"), ("she", "f"), ("they", "p"), ("person", "n"), ("man", "m"), ("woman", "f"),
)
PRONOUNS = {  # gender -> (subject pronoun, possessive, object, reflexive, plural verb agreement for the pronoun)
    "m": ("he", "his", "him", "himself"), "f": ("she", "her", "her", "herself"),
    "n": ("they", "their", "them", "themselves"), "p": ("they", "their", "them", "themselves"),
}
_PRONOUN_SUBJECTS = frozenset({"he", "she", "they"})
_DETERMINERS = ("a ", "an ", "the ", "this ")
