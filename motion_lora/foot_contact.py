"""Foot-contact loss for pretraining (MDM's L_foot, Tevet et al. 2023), on the positions our recovery uses.

A generated foot that should be planted must not slide. HumanML3D features describe the root by velocities and
the body by root-relative (ric) positions, predicted independently; joints are recovered by integrating the root
and adding the rotated ric positions (`features.recover_joints`). This module does the same integration in torch
for the four foot joints, so the loss sees the slide a viewer sees, and penalises it on the frames where the
training clip's own contact labels say the foot is down.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .features import BLOCKS
from .skeleton import FOOT_JOINTS

CONTACTS = BLOCKS["contacts"]  # [L ankle, L foot, R ankle, R foot], the order of FOOT_JOINTS
_FOOT_RIC = [3 * (j - 1) for j in FOOT_JOINTS]  # x offsets of the foot joints inside the ric block (joint 0 has none)


def feet_xz(features: torch.Tensor) -> torch.Tensor:
    """Unnormalised features (B, T, 263) -> horizontal world positions of the foot joints (B, T, 4, 2).

    Same integration as `features.recover_root` / `recover_joints`: the root's yaw is the running sum of the
    yaw velocity of the frames before (a half angle), its xz position the running sum of the previous frames'
    velocities turned out of the facing frame."""
    half = torch.cumsum(F.pad(features[..., :-1, 0], (1, 0)), dim=-1)  # (B, T)
    cos, sin = torch.cos(2 * half), torch.sin(2 * half)

    def to_world(x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # inverse facing turn
        return x * cos[..., None] - z * sin[..., None], x * sin[..., None] + z * cos[..., None]

    velocity = F.pad(features[..., :-1, 1:3], (0, 0, 1, 0))  # (B, T, 2): frame t moves by row t-1's velocity
    vx, vz = to_world(velocity[..., :1], velocity[..., 1:])
    root_x, root_z = torch.cumsum(vx, dim=-2), torch.cumsum(vz, dim=-2)  # (B, T, 1)
    ric = features[..., BLOCKS["ric"]]
    fx, fz = to_world(ric[..., _FOOT_RIC], ric[..., [i + 2 for i in _FOOT_RIC]])  # (B, T, 4)
    return torch.stack([fx + root_x, fz + root_z], dim=-1)


def foot_slide(estimate: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Per clip: mean squared horizontal slide (m^2 per frame) of the estimate's feet on the frames where the
    target's contact labels say the foot is down. estimate/target (B, T, 263) unnormalised; valid (B, T)."""
    feet = feet_xz(estimate)
    slide = (feet[:, 1:] - feet[:, :-1]).pow(2).sum(-1)  # (B, T-1, 4)
    down = (target[:, :-1, CONTACTS] > 0.5) & (valid[:, 1:] & valid[:, :-1])[..., None]
    return (slide * down).sum((1, 2)) / down.sum((1, 2)).clamp(min=1)
