"""Closing clauses that several concepts share ("^" marks a verb that agrees with the subject)."""

from __future__ import annotations

ARM_CODAS = ("^lowers {limb:arm} again", "^brings {limb:arm} back down", "^drops {limb:hand} back to {poss} side")
LEG_CODAS = ("^puts the foot back down", "^brings the leg back", "^plants the foot again")
STILL_CODAS = ("^returns to a neutral stance", "^goes back to standing", "^stands still", "^comes back to rest",
               "^returns to the starting position", "^relaxes")
MOVE_CODAS = ("^stops", "^comes to a stop", "^halts", "^stands still")
