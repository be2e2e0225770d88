"""Procedural motion generators on the reference skeleton.

Every generator describes a motion in a *body frame* (the person starts at the origin facing +Z, left is
+X) with a handful of readable channels — root position, pelvis / spine / neck angles, arm angles or hand
targets, ankle targets and foot orientation — collected in `_Body`. `_assemble` turns those channels into
joints: the upper body goes through `skeleton.pose_joints` (SMPL-style FK), the legs through analytic
two-bone IK so that planted feet stay exactly where they were put. `sample_motion` then adds a small idle
layer (breathing, weight shift), assembles, and places the clip at a random heading and start position.

Conventions used throughout: side index 0 is left (+X, sign +1), 1 is right (-X, sign -1); angles are
radians inside the code and written in degrees at call sites via `_deg`; times are seconds.

The registry of generators and the public API: `sample_motion`, `body_frame_motion`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...motion.quaternion import qrot
from ...motion.skeleton import (
    FPS,
)
from ..clip import Motion, Segment
from .body import _assemble, _Body
from .gestures import _clap, _raise_arms, _wave
from .jumps import _jump, _jumping_jacks
from .kicks import _kick
from .locomotion import _march, _run, _side_step, _turn_around, _walk
from .postures import _bow, _squat, _stand, _stretch
from .rig import SPEEDS, _deg, _qy
from .strikes import _punch, _throw


@dataclass(frozen=True)
class _Spec:
    build: Callable
    choices: dict  # attribute -> tuple of allowed values (the rng picks uniformly unless overridden)


_LR = ("left", "right")
_SPECS = {
    "walk": _Spec(_walk, {"direction": ("forward", "forward", "backward"), "speed": SPEEDS,
                          "count": tuple(range(1, 10))}),
    "run": _Spec(_run, {"speed": SPEEDS, "count": tuple(range(1, 14))}),
    "jump": _Spec(_jump, {"style": ("up", "forward"), "count": (1, 2, 3), "speed": SPEEDS}),
    "kick": _Spec(_kick, {"style": ("front", "side"), "side": _LR, "count": (1, 2, 3), "speed": SPEEDS}),
    "punch": _Spec(_punch, {"style": ("jab", "cross"), "side": _LR, "count": (1, 2, 3, 4), "speed": SPEEDS}),
    "wave": _Spec(_wave, {"side": ("left", "right", "both"), "speed": SPEEDS, "count": tuple(range(2, 13))}),
    "clap": _Spec(_clap, {"speed": SPEEDS, "count": tuple(range(2, 15))}),
    "raise_arms": _Spec(_raise_arms, {"style": ("up", "front", "side"), "side": ("both", "both", "left", "right"),
                                      "speed": SPEEDS}),
    "squat": _Spec(_squat, {"count": (1, 2, 3), "speed": SPEEDS}),
    "bow": _Spec(_bow, {"speed": SPEEDS}),
    "jumping_jacks": _Spec(_jumping_jacks, {"speed": SPEEDS, "count": tuple(range(1, 9))}),
    "side_step": _Spec(_side_step, {"direction": _LR, "speed": SPEEDS, "count": tuple(range(1, 9))}),
    "turn_around": _Spec(_turn_around, {"direction": _LR, "speed": SPEEDS}),
    "march": _Spec(_march, {"speed": SPEEDS, "count": tuple(range(1, 9))}),
    "throw": _Spec(_throw, {"side": _LR, "style": ("overarm",), "speed": SPEEDS}),
    "stretch": _Spec(_stretch, {"style": ("overhead", "side_bend"), "side": ("left", "right", "both"),
                                "speed": SPEEDS}),
    "stand": _Spec(_stand, {"style": ("still", "glance", "shuffle", "shuffle_glance"), "speed": ("normal",)}),
}
# Concepts in CONCEPTS without a generator here (e.g. slash, gesture, the DeepMimic-only ones) come from
# motion capture only; callers iterate PROCEDURAL_CONCEPTS, never CONCEPTS.
# Cyclic generators pick their own cycle count to fit the clip-length limits unless one is forced.
_OWN_COUNT = {"walk", "run", "wave", "clap", "jumping_jacks", "side_step", "march"}

PROCEDURAL_CONCEPTS: tuple[str, ...] = tuple(_SPECS)
_COMMON = ("heading", "position")  # world placement overrides accepted by every concept


def _resolve_attrs(concept: str, rng: np.random.Generator, overrides: dict) -> dict:
    spec = _SPECS[concept]
    for key, value in overrides.items():
        if key in _COMMON:
            continue
        if key not in spec.choices:
            raise ValueError(f"unknown attribute {key!r} for concept {concept!r}; known: {', '.join(spec.choices)}")
        if value not in spec.choices[key]:
            raise ValueError(f"bad value {value!r} for attribute {key!r} of {concept!r}; allowed: {spec.choices[key]}")
    attrs = {}
    for key, values in spec.choices.items():
        if key in overrides:
            attrs[key] = overrides[key]
        elif key == "count" and concept in _OWN_COUNT:
            attrs[key] = None
        else:
            attrs[key] = values[int(rng.integers(len(values)))]
    return attrs


def _add_idle(b: _Body, rng: np.random.Generator, cyclic: bool):
    """Breathing, a slow weight shift and small head / arm drift, so that still frames are not frozen.

    For cyclic clips every period is snapped to a whole fraction of the clip so the loop stays seamless.
    """
    duration = b.T / FPS

    def wave(period, amp):
        if cyclic:
            period = duration / max(1, round(duration / period))
        return amp * np.sin(2 * np.pi * b.t / period + rng.uniform(0, 2 * np.pi))

    breath = wave(rng.uniform(3.0, 4.5), 1.0)
    b.spine[:, 1] += _deg(1.2) * breath
    b.shrug += _deg(1.5) * breath[:, None]
    b.root[:, 0] += wave(rng.uniform(4.0, 7.0), rng.uniform(0.004, 0.012))
    b.neck[:, 0] += wave(rng.uniform(3.0, 6.0), _deg(rng.uniform(1.0, 4.0)))
    b.neck[:, 1] += wave(rng.uniform(3.0, 6.0), _deg(rng.uniform(0.5, 2.5)))
    for i in range(2):
        b.arm[:, i, 0] += wave(rng.uniform(2.5, 5.0), _deg(1.5))
        b.arm[:, i, 3] += wave(rng.uniform(2.5, 5.0), _deg(2.0))


def _place(joints: np.ndarray, heading: float, position) -> np.ndarray:
    """Turn the body-frame clip (T, 22, 3) by `heading` about +y and move it to `position` (x, z)."""
    yaw = np.full(joints.shape[:-1], heading)
    out = qrot(_qy(yaw), joints)
    out[..., 0] += position[0]
    out[..., 2] += position[1]
    return out


def body_frame_motion(concept: str, rng: np.random.Generator, **overrides):
    """(joints (T, 22, 3) in the body frame, fine label, attrs, cyclic) — `sample_motion` before placement."""
    if concept not in _SPECS:
        raise ValueError(f"unknown procedural concept {concept!r}; known: {', '.join(PROCEDURAL_CONCEPTS)}")
    attrs = _resolve_attrs(concept, rng, overrides)
    body, fine, out_attrs, cyclic = _SPECS[concept].build(rng, attrs)
    _add_idle(body, rng, cyclic)
    return _assemble(body), fine, out_attrs, cyclic


def sample_motion(concept: str, rng: np.random.Generator, *, source: str, **overrides) -> Motion:
    """A random clip of `concept` at a random heading and start position.

    overrides force attributes (e.g. side="left", style="front", speed="fast", count=2) and may give
    heading (radians) and position ((x, z) metres). Unknown concepts or attributes raise ValueError.
    """
    joints, fine, attrs, cyclic = body_frame_motion(concept, rng, **overrides)
    heading = float(overrides.get("heading", rng.uniform(-np.pi, np.pi)))
    position = overrides.get("position", rng.uniform(-0.5, 0.5, size=2))
    joints = _place(joints, heading, position)
    segment = Segment(concept=concept, fine=fine, start=0, end=joints.shape[0], attrs=attrs)
    return Motion(joints=joints.astype(np.float64), segments=[segment], source=source, real=False, cyclic=cyclic)
