"""Foot contact: the pretraining loss (MDM's L_foot, Tevet et al. 2023) and the sampling-time foot planting.

A generated foot that should be planted must not slide. HumanML3D features describe the root by velocities and
the body by root-relative (ric) positions, predicted independently; joints are recovered by integrating the root
and adding the rotated ric positions (`features.recover_joints`). This module does the same integration in torch
for the four foot joints, so the loss sees the slide a viewer sees, and penalises it on the frames where the
training clip's own contact labels say the foot is down.

The same integration, run backwards, plants the feet of a generated motion: the model also predicts contact
labels, and where they say a foot is down, the root's horizontal step is set to the one that keeps that foot
still (a root-only footskate cleanup in the spirit of Kovar et al. 2002; the pose itself is untouched).
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import torch
import torch.nn.functional as F

from ..motion.features import BLOCKS
from ..motion.skeleton import FOOT_JOINTS

CONTACTS = BLOCKS["contacts"]  # [L ankle, L foot, R ankle, R foot], the order of FOOT_JOINTS
ROOT_XZ_VEL = BLOCKS["root_xz_vel"]  # in the facing frame of the frame moved to
PLANT_SMOOTHNESS = 1.0  # weight of keeping the root's predicted acceleration, per planted foot joint
PLANT_KEEP = 0.05  # weight of keeping a predicted step where no foot is down
_FOOT_RIC = [3 * (j - 1) for j in FOOT_JOINTS]  # x offsets of the foot joints inside the ric block (joint 0 has none)


def _facing(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, T, 263) -> cos, sin (B, T) of each frame's facing angle: the running sum of the yaw velocity of the
    frames before (a half angle), as in `features.recover_root`."""
    half = torch.cumsum(F.pad(features[..., :-1, 0], (1, 0)), dim=-1)
    return torch.cos(2 * half), torch.sin(2 * half)


def _turn(x: torch.Tensor, z: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor, sign: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Facing frame -> world (sign 1) or world -> facing frame (sign -1); x, z (B, T, K), cos/sin (B, T)."""
    c, s = cos[..., None], sign * sin[..., None]
    return x * c - z * s, x * s + z * c


def _feet_offsets(features: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """World-oriented offsets of the foot joints from the root (B, T, 4, 2)."""
    ric = features[..., BLOCKS["ric"]]
    fx, fz = _turn(ric[..., _FOOT_RIC], ric[..., [i + 2 for i in _FOOT_RIC]], cos, sin)
    return torch.stack([fx, fz], dim=-1)


def _root_steps(features: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """(B, T, 2) world xz step of the root into each frame: frame t moves by row t-1's velocity (frame 0 by 0)."""
    velocity = F.pad(features[..., :-1, ROOT_XZ_VEL], (0, 0, 1, 0))
    vx, vz = _turn(velocity[..., :1], velocity[..., 1:], cos, sin)
    return torch.cat([vx, vz], dim=-1)


def feet_xz(features: torch.Tensor) -> torch.Tensor:
    """Unnormalised features (B, T, 263) -> horizontal world positions of the foot joints (B, T, 4, 2).

    Same integration as `features.recover_root` / `recover_joints`."""
    cos, sin = _facing(features)
    root = torch.cumsum(_root_steps(features, cos, sin), dim=-2)  # (B, T, 2)
    return root[..., None, :] + _feet_offsets(features, cos, sin)


def plant_feet(features: torch.Tensor, valid: torch.Tensor | None = None, *, smoothness: float = PLANT_SMOOTHNESS, keep: float = PLANT_KEEP) -> torch.Tensor:
    """Unnormalised features (B, T, 263) -> the same motion with the root moved so planted feet stay put.

    Row t's contact labels (the step from frame t to t+1) weight each foot joint by how surely it is down
    (clamped to 0..1). The root's world steps s (B, T-1, 2) are the least-squares solution of
        sum_t [ sum_f w_tf |s_t + dp_tf|^2  +  keep |s_t - s^_t|^2  +  smoothness |(s_t - s_t-1) - (s^_t - s^_t-1)|^2 ]
    where dp_tf is foot joint f's move relative to the root and s^ the predicted steps: planted feet do not
    slide, elsewhere the steps stay near the prediction, and the root's acceleration stays the model's (no new
    jerks where a contact starts or ends). The joint-velocity block moves with the root so the features stay
    consistent; yaw, height, ric positions, rotations and contacts are kept. `valid` (B, T) marks real frames:
    steps that touch padding keep their prediction and do not pull on the real ones."""
    cos, sin = _facing(features)
    predicted = _root_steps(features, cos, sin)[..., 1:, :]  # (B, N, 2) into frames 1..T-1, N = T-1
    offsets = _feet_offsets(features, cos, sin)
    moves = offsets[..., 1:, :, :] - offsets[..., :-1, :, :]  # (B, N, 4, 2)
    step_ok = torch.ones_like(predicted[..., 0]) if valid is None else (valid[..., 1:] & valid[..., :-1]).to(features.dtype)  # (B, N)
    down = features[..., :-1, CONTACTS].clamp(0, 1) * step_ok[..., None]  # (B, N, 4)
    # The system is a diagonal plus a weighted second-difference term: symmetric, positive definite and
    # tridiagonal, so a banded Cholesky solves it in O(N) (a dense LU is O(N^3), and torch's batched float64 LU
    # fails with "Pivots given to lu_solve" once torch.set_num_threads(n >= 2) was called on MKL builds).
    bend = smoothness * step_ok[..., 1:] * step_ok[..., :-1]  # (B, N-1) weight of each acceleration term
    curve_diag = F.pad(bend, (1, 0)) + F.pad(bend, (0, 1))  # (B, N): diagonal of smoothness * D^T W D
    rhs = -(moves * down[..., None]).sum(-2) + keep * predicted + _tridiagonal_times(curve_diag, -bend, predicted)  # (B, N, 2)
    change = solve_tridiagonal(down.sum(-1) + keep + curve_diag, -bend, rhs) - predicted  # (B, N, 2) world
    out = features.clone()
    cx, cz = _turn(change[..., :1], change[..., 1:], cos[..., 1:], sin[..., 1:], sign=-1)  # into the frame moved to
    out[..., :-1, ROOT_XZ_VEL] = features[..., :-1, ROOT_XZ_VEL] + torch.cat([cx, cz], dim=-1)
    # joint_vel row t is frame t+1 minus frame t turned by frame t's facing, for every joint
    jx, jz = _turn(change[..., :1], change[..., 1:], cos[..., :-1], sin[..., :-1], sign=-1)
    vel = out[..., :-1, BLOCKS["joint_vel"]].unflatten(-1, (-1, 3)).clone()
    vel[..., 0] += jx
    vel[..., 2] += jz
    out[..., :-1, BLOCKS["joint_vel"]] = vel.flatten(-2)
    return out


def _tridiagonal_times(diag: torch.Tensor, off: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """A symmetric tridiagonal matrix (diagonal (B, N), off-diagonal (B, N-1)) times x (B, N, K)."""
    out = diag[..., None] * x
    out[..., :-1, :] += off[..., None] * x[..., 1:, :]
    out[..., 1:, :] += off[..., None] * x[..., :-1, :]
    return out


def solve_tridiagonal(diag: torch.Tensor, off: torch.Tensor, rhs: torch.Tensor) -> torch.Tensor:
    """Solve A x = rhs for symmetric positive definite tridiagonal A, given by its diagonal (B, N) and
    off-diagonal (B, N-1); rhs (B, N, K) -> x (B, N, K) in rhs's dtype and device.

    scipy's banded Cholesky (LAPACK pbsv), one system per row: O(N) each, and independent of torch's threads."""
    if rhs.shape[-2] == 0:
        return rhs.clone()
    band = np.zeros((diag.shape[0], 2, diag.shape[-1]))  # LAPACK's upper band storage: row 0 the superdiagonal
    band[:, 0, 1:] = off.detach().cpu().double().numpy()
    band[:, 1] = diag.detach().cpu().double().numpy()
    b = rhs.detach().cpu().double().numpy()
    x = np.stack([scipy.linalg.solveh_banded(band[i], b[i], check_finite=False) for i in range(len(b))])
    return torch.from_numpy(x).to(device=rhs.device, dtype=rhs.dtype)


def plant_clip(features: np.ndarray) -> np.ndarray:
    """`plant_feet` on one unnormalised clip (T, 263) as numpy, in float64."""
    return plant_feet(torch.from_numpy(np.asarray(features, dtype=np.float64))[None])[0].numpy()


def foot_slide(estimate: torch.Tensor, target: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Per clip: mean squared horizontal slide (m^2 per frame) of the estimate's feet on the frames where the
    target's contact labels say the foot is down. estimate/target (B, T, 263) unnormalised; valid (B, T)."""
    feet = feet_xz(estimate)
    slide = (feet[:, 1:] - feet[:, :-1]).pow(2).sum(-1)  # (B, T-1, 4)
    down = (target[:, :-1, CONTACTS] > 0.5) & (valid[:, 1:] & valid[:, :-1])[..., None]
    return (slide * down).sum((1, 2)) / down.sum((1, 2)).clamp(min=1)
