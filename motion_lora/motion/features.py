"""HumanML3D 263-d motion features: extraction, recovery of joints, normalisation.

Extraction follows the reference processing (Guo et al. 2022, `motion_representation`) step by step,
including its two quirks (root rotation of frame 0 forced to identity inside IK; hips taken in swapped
order inside IK), because the goal is to produce numbers that match real HumanML3D files.

Per-frame layout (a clip of T joint frames gives T-1 rows):
    0:1 root yaw velocity (half angle) | 1:3 root xz velocity in the facing frame | 3:4 root height
    4:67 ric positions of joints 1..21 | 67:193 6D rotations of joints 1..21 | 193:259 joint velocities
    259:263 foot contacts [L ankle, L foot, R ankle, R foot]
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from .quaternion import IDENTITY, cont6d_to_matrix, qbetween, qinv, qmul, qrot, quat_to_cont6d, quat_to_matrix
from .skeleton import (
    FACE_JOINTS,
    FOOT_JOINTS,
    KINEMATIC_CHAINS,
    MIRROR_PERMUTATION,
    NUM_JOINTS,
    REFERENCE_OFFSETS,
    check_joints,
    facing_quaternion,
    forward_direction,
    inverse_kinematics,
    retarget,
)

FEATURE_DIM = 263
MIN_CLIP_FRAMES = 2
CONTACT_THRESHOLD = 0.002  # squared displacement per frame (m^2) under which a foot joint is in contact
FORWARD_SMOOTHING_SIGMA = 20  # frames

# Feature blocks (name -> slice); used for block-averaged std and for reading features.
J = NUM_JOINTS
BLOCKS = {
    "root_yaw_vel": slice(0, 1),
    "root_xz_vel": slice(1, 3),
    "root_y": slice(3, 4),
    "ric": slice(4, 4 + (J - 1) * 3),
    "rot6d": slice(4 + (J - 1) * 3, 4 + (J - 1) * 9),
    "joint_vel": slice(4 + (J - 1) * 9, 4 + (J - 1) * 9 + J * 3),
    "contacts": slice(4 + (J - 1) * 9 + J * 3, FEATURE_DIM),
}


def extract_features(joints: np.ndarray) -> np.ndarray:
    """Joint positions (T, 22, 3) in metres, y up -> HumanML3D features (T-1, 263)."""
    return process_joints(joints)[0]


def process_joints(joints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference processing. Returns (features (T-1, 263), aligned global joints (T, 22, 3))."""
    joints = check_joints(joints, min_frames=MIN_CLIP_FRAMES)
    positions = retarget(joints)
    positions = _put_on_floor(positions)
    positions = _face_z_at_origin(positions)
    contacts = foot_contacts(positions)

    root_quat = _smoothed_root_rotation(positions)  # (T, 4), frame 0 = identity (quirk i)
    rot6d = quat_to_cont6d(inverse_kinematics(positions, root_quat))[:, 1:].reshape(len(positions), -1)

    root_vel = qrot(root_quat[1:], positions[1:, 0] - positions[:-1, 0])  # (T-1, 3)
    yaw_vel = qmul(root_quat[1:], qinv(root_quat[:-1]))  # (T-1, 4), pure rotations about y
    ric = _root_relative(positions, root_quat)  # (T, 22, 3)
    joint_vel = qrot(root_quat[:-1, None], positions[1:] - positions[:-1])  # (T-1, 22, 3)

    features = np.concatenate(
        [
            np.arcsin(np.clip(yaw_vel[:, 2:3], -1.0, 1.0)),
            root_vel[:, [0, 2]],
            ric[:-1, 0, 1:2],
            ric[:-1, 1:].reshape(len(ric) - 1, -1),
            rot6d[:-1],
            joint_vel.reshape(len(joint_vel), -1),
            contacts,
        ],
        axis=-1,
    )
    return features, positions


def _put_on_floor(positions: np.ndarray) -> np.ndarray:
    out = positions.copy()
    out[..., 1] -= positions[..., 1].min()
    return out


def _face_z_at_origin(positions: np.ndarray) -> np.ndarray:
    """Move frame 0's root to x = z = 0 and turn the clip so frame 0 faces +Z."""
    out = positions - positions[0, 0] * np.array([1.0, 0.0, 1.0])
    turn = facing_quaternion(out[:1])  # (1, 4), the unswapped across vector
    return qrot(turn[:, None], out)


def _smoothed_root_rotation(positions: np.ndarray) -> np.ndarray:
    r_hip, l_hip, r_sdr, l_sdr = FACE_JOINTS
    across = (positions[:, l_hip] - positions[:, r_hip]) + (positions[:, r_sdr] - positions[:, l_sdr])  # quirk ii
    forward = gaussian_filter1d(forward_direction(across), FORWARD_SMOOTHING_SIGMA, axis=0, mode="nearest")
    forward = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    root_quat = qbetween(forward, np.broadcast_to(np.array([0.0, 0.0, 1.0]), forward.shape))
    root_quat[0] = IDENTITY  # quirk i
    return root_quat


def _root_relative(positions: np.ndarray, root_quat: np.ndarray) -> np.ndarray:
    """Subtract the root's x, z and rotate into each frame's facing frame (y stays absolute)."""
    local = positions.copy()
    local[..., 0] -= positions[:, 0:1, 0]
    local[..., 2] -= positions[:, 0:1, 2]
    return qrot(root_quat[:, None], local)


def foot_contacts(positions: np.ndarray, threshold: float = CONTACT_THRESHOLD) -> np.ndarray:
    """(T, 22, 3) -> (T-1, 4) 1.0 where a foot joint moved less than sqrt(threshold) metres."""
    feet = positions[:, list(FOOT_JOINTS)]
    return (((feet[1:] - feet[:-1]) ** 2).sum(-1) < threshold).astype(np.float64)


# ----------------------------------------------------------------------------- recovery


def _check_features(features: np.ndarray) -> np.ndarray:
    features = np.asarray(features)
    if features.shape[-1] != FEATURE_DIM:
        raise ValueError(f"expected features with last dimension {FEATURE_DIM}, got shape {features.shape}")
    if features.ndim < 2 or features.shape[-2] < 1:
        raise ValueError(f"expected features of shape (..., N, {FEATURE_DIM}) with N >= 1, got {features.shape}")
    return features.astype(np.float64)


def recover_root(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(..., N, 263) -> root facing quaternions (..., N, 4) and root positions (..., N, 3)."""
    yaw_vel = features[..., 0]
    angle = np.zeros_like(yaw_vel)
    angle[..., 1:] = yaw_vel[..., :-1]
    angle = np.cumsum(angle, axis=-1)  # half angles
    root_quat = np.zeros(features.shape[:-1] + (4,))
    root_quat[..., 0] = np.cos(angle)
    root_quat[..., 2] = np.sin(angle)

    root_pos = np.zeros(features.shape[:-1] + (3,))
    root_pos[..., 1:, 0] = features[..., :-1, 1]
    root_pos[..., 1:, 2] = features[..., :-1, 2]
    root_pos = np.cumsum(qrot(qinv(root_quat), root_pos), axis=-2)
    root_pos[..., 1] = features[..., 3]
    return root_quat, root_pos


def recover_joints(features: np.ndarray) -> np.ndarray:
    """HumanML3D features (..., N, 263) -> joints (..., N, 22, 3) from the ric block."""
    features = _check_features(features)
    root_quat, root_pos = recover_root(features)
    local = features[..., BLOCKS["ric"]].reshape(features.shape[:-1] + (NUM_JOINTS - 1, 3))
    joints = qrot(qinv(root_quat)[..., None, :], local)
    joints[..., 0] += root_pos[..., None, 0]
    joints[..., 2] += root_pos[..., None, 2]
    return np.concatenate([root_pos[..., None, :], joints], axis=-2)


def recover_joints_from_rotations(features: np.ndarray, offsets: np.ndarray = REFERENCE_OFFSETS) -> np.ndarray:
    """HumanML3D features (N, 263) -> joints (N, 22, 3) by FK over the 6D rotation block."""
    features = _check_features(features)
    if features.ndim != 2:
        raise ValueError(f"expected features of shape (N, {FEATURE_DIM}), got {features.shape}")
    root_quat, root_pos = recover_root(features)
    mats = np.concatenate(
        [quat_to_matrix(root_quat)[:, None], cont6d_to_matrix(features[:, BLOCKS["rot6d"]].reshape(-1, NUM_JOINTS - 1, 6))],
        axis=1,
    )  # (N, 22, 3, 3)
    joints = np.zeros(features.shape[:-1] + (NUM_JOINTS, 3))
    joints[:, 0] = root_pos
    for chain in KINEMATIC_CHAINS:
        R = mats[:, 0]
        for parent, child in zip(chain[:-1], chain[1:]):
            R = R @ mats[:, child]
            joints[:, child] = (R @ offsets[child]) + joints[:, parent]
    return joints


def mirror_features(features: np.ndarray) -> np.ndarray:
    """Mirror (..., N, 263) features left/right directly in feature space (an involution).

    Close to, not equal to, extracting features from `mirror_joints(joints)` (which is how HumanML3D makes
    its `M` clips and how MotionBank does): the reference skeleton's left and right bones differ by up to
    7 mm, and re-extraction retargets each side to its own lengths. Positions and velocities get x negated and
    left/right joints swapped; yaw velocity changes sign; a rotation R becomes M R M with M = diag(-1, 1, 1),
    which flips the signs of (y, z) of the first 6D column and x of the second.
    """
    f = _check_features(features).copy()
    body = MIRROR_PERMUTATION[1:] - 1  # permutation of joints 1..21
    lead = f.shape[:-1]
    f[..., BLOCKS["root_yaw_vel"]] *= -1
    f[..., 1] *= -1  # root x velocity
    ric = f[..., BLOCKS["ric"]].reshape(lead + (NUM_JOINTS - 1, 3))[..., body, :]
    ric[..., 0] *= -1
    rot = f[..., BLOCKS["rot6d"]].reshape(lead + (NUM_JOINTS - 1, 6))[..., body, :]
    rot *= np.array([1.0, -1.0, -1.0, -1.0, 1.0, 1.0])
    vel = f[..., BLOCKS["joint_vel"]].reshape(lead + (NUM_JOINTS, 3))[..., MIRROR_PERMUTATION, :]
    vel[..., 0] *= -1
    f[..., BLOCKS["ric"]] = ric.reshape(lead + (-1,))
    f[..., BLOCKS["rot6d"]] = rot.reshape(lead + (-1,))
    f[..., BLOCKS["joint_vel"]] = vel.reshape(lead + (-1,))
    f[..., BLOCKS["contacts"]] = f[..., BLOCKS["contacts"]][..., [2, 3, 0, 1]]
    return f


# ----------------------------------------------------------------------------- normalisation


def block_std(std: np.ndarray) -> np.ndarray:
    """Replace each block's per-dimension std by the block's average, as the reference loaders expect."""
    out = np.asarray(std, dtype=np.float64).copy()
    for block in BLOCKS.values():
        out[block] = out[block].mean()
    return out


def feature_statistics(feature_clips: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Mean (263,) and block-averaged Std (263,) over all frames of a list of (N_i, 263) clips."""
    frames = np.concatenate(feature_clips, axis=0)
    return frames.mean(0), block_std(frames.std(0))


def normalize(features: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return (features - mean) / std


def denormalize(features: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    return features * std + mean
