"""What the plots share: one colour per body side, the bones grouped by side, a pose as a polyline."""

from __future__ import annotations

import numpy as np

from ...motion.skeleton import KINEMATIC_CHAINS, LEFT_JOINTS, RIGHT_JOINTS

# Body-part groups, each with a colour and a legend label.
GROUP_COLOURS = {"left": "#1f77b4", "right": "#d62728", "centre": "#3a3a3a"}
GROUP_LABELS = {"left": "left limbs", "right": "right limbs", "centre": "spine / head"}
TRAIL_COLOUR = "#2ca02c"
FLOOR_COLOUR = "#d9d9d9"
GRID_COLOUR = "#a8a8a8"


def _chain_group(chain: tuple[int, ...]) -> str:
    """A chain is "left"/"right" when every joint after its first one is."""
    limb = set(chain[1:])
    if limb <= set(LEFT_JOINTS):
        return "left"
    if limb <= set(RIGHT_JOINTS):
        return "right"
    return "centre"


# group -> list of chains, in KINEMATIC_CHAINS order
# Drawn left, centre, right: in the side view the camera is on the body's right, so the near limbs go on top.
BONE_GROUPS: dict[str, list[tuple[int, ...]]] = {"left": [], "centre": [], "right": []}
for _chain in KINEMATIC_CHAINS:
    BONE_GROUPS[_chain_group(_chain)].append(_chain)


def polyline(pose: np.ndarray, chains: list[tuple[int, ...]]) -> np.ndarray:
    """Chains of one pose joined into one polyline, None-separated (as NaN rows): (K, 3)."""
    pieces = []
    for chain in chains:
        pieces.append(pose[list(chain)])
        pieces.append(np.full((1, 3), np.nan))
    return np.concatenate(pieces[:-1])
