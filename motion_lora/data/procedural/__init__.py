"""Procedural motion generators on the reference skeleton, one motion family per module (locomotion, jumps,
kicks, strikes, gestures, postures) over a shared rig, timing, body-frame assembly and gait planner.
`sample_motion(concept, rng, source=...)` (sampling.py) is the entry point; the public names are re-exported here."""

from __future__ import annotations

from .rig import AIRBORNE_CONCEPTS, ANKLE_HEIGHT
from .sampling import PROCEDURAL_CONCEPTS, body_frame_motion, sample_motion

__all__ = [
    "AIRBORNE_CONCEPTS", "ANKLE_HEIGHT", "PROCEDURAL_CONCEPTS", "body_frame_motion", "sample_motion",
]
