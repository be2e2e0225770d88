"""Get motions out of the project: a canvas player payload, a self-contained HTML page, and BVH files.

    from motion_lora.serving.export import player_payload, standalone_html, to_bvh
    Path("compare.html").write_text(standalone_html([("base", j0), ("unlearned", j1)], "walk"))
    Path("walk.bvh").write_text(to_bvh(j0))

Joints are HumanML3D's: (T, 22, 3) metres, y up, 20 fps, floor at y = 0, the body faces +Z at frame 0.

Player payload (what assets/player.js reads; JSON-serialisable)::

    {"fps": 20,
     "chains": [[0, 2, 5, 8, 11], ...],     # KINEMATIC_CHAINS, drawn as polylines
     "left": [1, 4, ...], "right": [2, 5, ...],   # joint ids; a chain is coloured by its limb joints
     "motions": [{"label": "base", "caption": "...", "frames": T,
                  "joints": [x0, y0, z0, x1, ...],     # FLAT: frame-major, then joint, then xyz
                  "strength": 1.0,                     # optional: the strength of the joints shown first
                  "variants": [{"strength": 0.25, "label": "...", "joints": [...]}]}]}   # optional, each T frames

`joints` is flattened (T * 22 * 3 numbers, rounded to millimetres) because it is about half the size of
nested lists in JSON and the player copies it straight into one Float32Array. Clips may differ in length;
shorter ones hold their last frame until the longest ends, then all loop together.

BVH conventions (`to_bvh`), chosen so that Blender's importer (File > Import > Motion Capture) takes the
file as is:

* Units are METRES (import with scale 1.0; the default Forward -Z / Up Y turns y-up into Blender's z-up).
* Rest pose: the HumanML3D rest directions (legs and arms straight down, spine up, feet forward) with the
  clip's mean bone lengths. The two branching joints (pelvis, spine3) keep their children where the clip
  has them relative to a frame built from two directions (hip line + spine; collar line + neck), so a rigid
  clip is reproduced exactly even when its pelvis or shoulder girdle is not the idealised one.
* ROOT pelvis has 6 channels ``Xposition Yposition Zposition Zrotation Xrotation Yrotation``; every other
  joint has 3, ``Zrotation Xrotation Yrotation``; angles in degrees, local matrix ``Rz @ Rx @ Ry``.
  Leaf joints (feet, head, wrists) carry zero rotations and an End Site.
* Single-child joints take the smallest rotation, relative to their parent, that points the bone at its
  child: the twist is inherited from the parent and so stays continuous in time. Angles are unwrapped over
  time so curves do not jump by 360 degrees.
* Frame Time is 1 / fps (0.05 s at 20 fps). A clip whose bone lengths vary (raw generator output) is
  reproduced with the mean lengths: directions are exact, positions off by the length noise.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from ..checks import check_number
from ..motion.skeleton import (
    FPS,
    JOINT,
    JOINT_NAMES,
    KINEMATIC_CHAINS,
    LEFT_JOINTS,
    NUM_JOINTS,
    PARENTS,
    REST_DIRECTIONS,
    RIGHT_JOINTS,
    bone_lengths,
    check_joints,
)

ASSETS = Path(__file__).resolve().parents[2] / "assets"  # motion_lora/serving/ -> the repository

CHILDREN: tuple[tuple[int, ...], ...] = tuple(tuple(int(c) for c in np.flatnonzero(PARENTS == j)) for j in range(NUM_JOINTS))
# Branching joints: (first, second) joint pairs whose difference gives the frame's x axis, and the child
# whose direction from the joint gives the frame's up-ish axis. At rest both frames are the identity.
BRANCH_FRAMES = {
    JOINT["pelvis"]: ((JOINT["left_hip"], JOINT["right_hip"]), JOINT["spine1"]),
    JOINT["spine3"]: ((JOINT["left_collar"], JOINT["right_collar"]), JOINT["neck"]),
}
# End Site offsets (metres) for the leaf joints: fingertips down, toes forward, top of head up.
END_SITES = {
    JOINT["left_foot"]: (0.0, 0.0, 0.05),
    JOINT["right_foot"]: (0.0, 0.0, 0.05),
    JOINT["head"]: (0.0, 0.10, 0.0),
    JOINT["left_wrist"]: (0.0, -0.08, 0.0),
    JOINT["right_wrist"]: (0.0, -0.08, 0.0),
}


# ----------------------------------------------------------------------------------------------------------
# Player payload and standalone page
# ----------------------------------------------------------------------------------------------------------


def flat_joints(joints: np.ndarray) -> list[float]:
    """(T, 22, 3) -> the payload's flat list, in millimetres (far below what a screen shows; ~3x less JSON)."""
    return np.round(check_joints(joints).reshape(-1), 3).tolist()


def player_payload(motions: list[tuple[str, np.ndarray]], captions: list[str] | None = None, fps: int = FPS, *,
                   variants: dict[int, list[tuple[float, str, np.ndarray]]] | None = None,
                   strengths: dict[int, float] | None = None) -> dict:
    """[(label, joints (T, 22, 3)), ...] -> the JSON-ready dict assets/player.js plays (format in module doc).

    `variants` {motion index: [(strength, label, joints (T, 22, 3)), ...]}: the motion at other strengths (the live
    slider swaps them in the browser); `strengths` {motion index: the strength of its own joints}."""
    if not motions:
        raise ValueError("player_payload needs at least one (label, joints) motion")
    if captions is not None and len(captions) != len(motions):
        raise ValueError(f"got {len(captions)} captions for {len(motions)} motions")
    variants, strengths = variants or {}, strengths or {}
    for i in [*variants, *strengths]:
        if not (isinstance(i, int) and 0 <= i < len(motions)):
            raise ValueError(f"variants and strengths are keyed by motion index 0 to {len(motions) - 1}, got {i!r}")
    entries = []
    for i, item in enumerate(motions):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            raise ValueError(f"motion {i} must be a (label, joints) pair")
        label, joints = item
        joints = check_joints(joints)
        caption = "" if captions is None else str(captions[i])
        entry = {"label": str(label), "caption": caption, "frames": int(joints.shape[0]), "joints": flat_joints(joints)}
        if i in strengths:
            entry["strength"] = float(check_number(strengths[i], f"strength of motion {i}"))
        if i in variants:
            entry["variants"] = [variant_entry(v, joints.shape, f"variant {k} of motion {i}")
                                 for k, v in enumerate(variants[i])]
        entries.append(entry)
    return {
        "fps": fps,
        "chains": [list(c) for c in KINEMATIC_CHAINS],
        "left": list(LEFT_JOINTS),
        "right": list(RIGHT_JOINTS),
        "motions": entries,
    }


def variant_entry(variant, shape: tuple[int, ...], name: str) -> dict:
    """(strength, label, joints) -> a payload variant; its joints must have the motion's own `shape`."""
    if not (isinstance(variant, (tuple, list)) and len(variant) == 3):
        raise ValueError(f"{name} must be a (strength, label, joints) triple")
    strength, label, joints = variant
    joints = check_joints(joints)
    if joints.shape != tuple(shape):
        raise ValueError(f"{name} has joints of shape {joints.shape}, its motion {tuple(shape)}: "
                         "a variant is as long as its motion")
    strength = float(check_number(strength, f"strength of {name}"))
    return {"strength": strength, "label": str(label), "joints": flat_joints(joints)}


def _asset(name: str) -> str:
    return (ASSETS / name).read_text(encoding="utf-8")


def _script_json(payload: dict) -> str:
    """JSON safe to put inside <script>: '</' could close the tag early, so escape it."""
    return json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")


def standalone_html(
    motions: list[tuple[str, np.ndarray]],
    title: str = "motion",
    captions: list[str] | None = None,
    layout: str = "row",
) -> str:
    """A single offline HTML page (styles, script and data inline) that plays `motions` side by side.

    layout: "row" (one shared 3D view) or "grid" (one small view per motion, e.g. a strength sweep).
    """
    if layout not in ("row", "grid"):
        raise ValueError(f"layout must be 'row' or 'grid', got {layout!r}")
    payload = player_payload(motions, captions)
    options = json.dumps({"layout": layout})
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
:root {{ color-scheme: light dark; }}
body {{ margin: 0; padding: 16px; font-family: system-ui, sans-serif; }}
h1 {{ font-size: 18px; font-weight: 600; margin: 0 0 12px; }}
{_asset("player.css")}
</style>
</head>
<body>
<h1>{html.escape(title)}</h1>
<div id="player" class="motion-player-host"></div>
<script>
{_asset("player.js")}
</script>
<script>
window.__payload = {_script_json(payload)};
window.player = new MotionPlayer(document.getElementById("player"), window.__payload, {options});
</script>
</body>
</html>
"""


# ----------------------------------------------------------------------------------------------------------
# BVH
# ----------------------------------------------------------------------------------------------------------


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _frame_from(x_hint: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(..., 3) x (..., 3) -> (..., 3, 3) rotation with columns x, y, z: x along `x_hint`, y near `up`."""
    x = _normalize(x_hint)
    z = _normalize(np.cross(x, up))
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def _rotation_between(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(..., 3) unit u, v -> (..., 3, 3) the smallest rotation taking u to v (Rodrigues)."""
    axis = np.cross(u, v)
    cos = (u * v).sum(-1)[..., None, None]
    k = np.zeros(axis.shape + (3,))
    k[..., 0, 1], k[..., 0, 2], k[..., 1, 2] = -axis[..., 2], axis[..., 1], -axis[..., 0]
    k[..., 1, 0], k[..., 2, 0], k[..., 2, 1] = axis[..., 2], -axis[..., 1], axis[..., 0]
    # R = I + K + K^2 / (1 + cos); a bone never folds exactly onto its reversed rest direction in practice,
    # and the clamp keeps that degenerate case finite instead of NaN.
    return np.eye(3) + k + k @ k / np.maximum(1.0 + cos, 1e-6)


def _bvh_rest_offsets(joints: np.ndarray) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    """Rest offsets (22, 3) of every joint from its parent, plus each branching joint's frames (T, 3, 3)."""
    lengths = bone_lengths(joints).mean(0)
    offsets = REST_DIRECTIONS * lengths[:, None]
    frames = {}
    for j, ((a, b), up_child) in BRANCH_FRAMES.items():
        frame = _frame_from(joints[:, a] - joints[:, b], joints[:, up_child] - joints[:, j])
        frames[j] = frame
        for c in CHILDREN[j]:
            # Where the child sits in the branching joint's own frame, averaged over the clip.
            local = np.einsum("tji,tj->ti", frame, joints[:, c] - joints[:, j]).mean(0)
            offsets[c] = local
    return offsets, frames


def _global_rotations(joints: np.ndarray, offsets: np.ndarray, frames: dict[int, np.ndarray]) -> np.ndarray:
    """(T, 22, 3, 3) world rotation of every joint such that FK with `offsets` lands on `joints`."""
    T = joints.shape[0]
    rot = np.broadcast_to(np.eye(3), (T, NUM_JOINTS, 3, 3)).copy()
    for j in range(NUM_JOINTS):  # parents come before children in JOINT_NAMES order
        parent_rot = rot[:, PARENTS[j]] if j > 0 else np.broadcast_to(np.eye(3), (T, 3, 3))
        if j in frames:
            rot[:, j] = frames[j]
        elif len(CHILDREN[j]) == 1:
            c = CHILDREN[j][0]
            # Minimal turn in the parent's frame: no twist is invented, so it cannot flip between frames.
            rest_dir = np.broadcast_to(_normalize(offsets[c]), (T, 3))
            want = np.einsum("tji,tj->ti", parent_rot, _normalize(joints[:, c] - joints[:, j]))
            rot[:, j] = parent_rot @ _rotation_between(rest_dir, want)
        else:  # leaf: no bone to aim, follow the parent
            rot[:, j] = parent_rot
    return rot


def _euler_zxy_degrees(m: np.ndarray) -> np.ndarray:
    """(T, 3, 3) local matrices R = Rz(z) @ Rx(x) @ Ry(y) -> (T, 3) [z, x, y] degrees, unwrapped over time."""
    x = np.arcsin(np.clip(m[:, 2, 1], -1.0, 1.0))
    z = np.arctan2(-m[:, 0, 1], m[:, 1, 1])
    y = np.arctan2(-m[:, 2, 0], m[:, 2, 2])
    angles = np.stack([z, x, y], axis=-1)
    return np.degrees(np.unwrap(angles, axis=0))


def _hierarchy_lines(offsets: np.ndarray) -> list[str]:
    lines = ["HIERARCHY"]

    def fmt(v) -> str:
        return " ".join(f"{(float(c) if abs(c) >= 5e-7 else 0.0):.6f}" for c in v)

    def emit(j: int, depth: int) -> None:
        pad = "\t" * depth
        if j == 0:
            lines.append(f"ROOT {JOINT_NAMES[j]}")
            lines.append("{")
            lines.append(f"{pad}\tOFFSET 0.000000 0.000000 0.000000")
            lines.append(f"{pad}\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation")
        else:
            lines.append(f"{pad}JOINT {JOINT_NAMES[j]}")
            lines.append(f"{pad}{{")
            lines.append(f"{pad}\tOFFSET {fmt(offsets[j])}")
            lines.append(f"{pad}\tCHANNELS 3 Zrotation Xrotation Yrotation")
        for c in CHILDREN[j]:
            emit(c, depth + 1)
        if not CHILDREN[j]:
            lines.append(f"{pad}\tEnd Site")
            lines.append(f"{pad}\t{{")
            lines.append(f"{pad}\t\tOFFSET {fmt(END_SITES.get(j, (0.0, 0.05, 0.0)))}")
            lines.append(f"{pad}\t}}")
        lines.append(f"{pad}}}")

    emit(0, 0)
    return lines


def bvh_joint_order() -> list[int]:
    """Joint ids in the depth-first order the BVH lists them (and its MOTION columns follow)."""
    order: list[int] = []

    def walk(j: int) -> None:
        order.append(j)
        for c in CHILDREN[j]:
            walk(c)

    walk(0)
    return order


def to_bvh(joints: np.ndarray, fps: int = FPS) -> str:
    """(T, 22, 3) joints in metres -> BVH text (conventions in the module docstring)."""
    joints = check_joints(joints)
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")
    if (bone_lengths(joints)[:, 1:] < 1e-6).any():
        raise ValueError("a bone has zero length: joints coincide, cannot define rotations")
    offsets, frames = _bvh_rest_offsets(joints)
    rot = _global_rotations(joints, offsets, frames)
    # Local rotation = inverse(parent world rotation) @ own world rotation; the root's local is its world.
    parent_rot = rot[:, np.maximum(PARENTS, 0)]
    parent_rot[:, 0] = np.eye(3)
    local = np.swapaxes(parent_rot, -1, -2) @ rot
    order = bvh_joint_order()
    columns = [joints[:, 0]]  # root position, metres
    columns += [_euler_zxy_degrees(local[:, j]) for j in order]
    motion = np.concatenate(columns, axis=-1)
    motion[np.abs(motion) < 5e-7] = 0.0  # print 0 rather than -0.000000
    lines = _hierarchy_lines(offsets)
    lines += ["MOTION", f"Frames: {joints.shape[0]}", f"Frame Time: {1.0 / fps:.6f}"]
    lines += [" ".join(f"{v:.6f}" for v in row) for row in motion]
    return "\n".join(lines) + "\n"
