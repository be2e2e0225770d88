"""Constructions around a predicate: single-segment templates, preludes, composite joins."""

from __future__ import annotations

# Single-segment constructions. {S} subject, {P} predicate agreeing with it, {G} gerund predicate,
# {N} bare noun of the subject ("man"), {X} a prelude, {C}/{Cg} a coda (finite / gerund), {E} an event noun
# with its passive verb. Plain forms come several times: they are the most common in real captions.
SINGLE_TEMPLATES = (
    ("{S} {P}", 12), ("{S} {be} {G}", 3), ("{G}", 3), ("{N} {G}", 2), ("{X}, {S} {P}", 2),
    ("{S} {P}, then {C}", 2), ("{S} {P} and then {C}", 2), ("{S} {P} before {Cg}", 1), ("{S} {P} and {C}", 1),
    ("{S} {stands} still, then {P}", 1), ("{S} {P} and {C}", 1), ("{PASSIVE}", 2), ("{EF}", 1),
    ("{S} can be seen {G}", 1), ("{S} {be} seen {G}", 1),
)
TRAVELLING = frozenset({"walk", "run", "crawl", "side_step", "roll", "cartwheel"})
PRELUDES = ("from a standing position", "standing in place", "starting from a neutral stance", "from standing",
            "at first standing still", "starting out standing")
COMPOSITE_TEMPLATES = {
    2: ("{S} {A}, then {B}", "{S} {A} and then {B}", "{S} {A}, and then {B}", "{S} first {A}, then {B}",
        "after {a}, {S} {B}", "{S} {A} before {b}", "{S} {A}. then {pron} {Bp}", "{S} {A}; next {pron} {Bp}",
        "{S} {A} and afterwards {B}", "{a}, then {b}", "{S} {A}. after that {pron} {Bp}", "{S} {A} and {B}",
        "{S} {A}, followed by {b}"),
    3: ("{S} {A}, then {B}, and finally {C}", "{S} {A}, {B} and then {C}", "{S} first {A}, then {B}, then {C}",
        "after {a}, {S} {B} and then {C}", "{S} {A}, then {B} before {c}", "{a}, {b} and then {c}",
        "{S} {A}. then {pron} {Bp} and {Cp}"),
}
