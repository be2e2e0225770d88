"""The HumanML3D reference skeleton: 22 SMPL body joints, y up, metres, frame 0 faces +Z, left is +X.

Two kinematics conventions live here, on purpose:

* `forward_kinematics` / `inverse_kinematics` follow the reference HumanML3D processing: a rotation is
  stored at the *child* joint of each bone and every chain starts from the root rotation (the arm chains
  start at spine3 but compose from the root). Feature extraction must use these to match real data.
* `pose_joints` is ordinary SMPL-style hierarchical FK (a joint's rotation turns everything below it),
  which is what a person writing a procedural motion wants.
"""

from __future__ import annotations

import numpy as np

from .quaternion import IDENTITY, qbetween, qinv, qmul, qnormalize, qrot

FPS = 20  # HumanML3D frame rate

JOINT_NAMES = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck", "left_collar",
    "right_collar", "head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
)
NUM_JOINTS = len(JOINT_NAMES)
JOINT = {name: i for i, name in enumerate(JOINT_NAMES)}
# (left, right) joint indices of the paired body parts, used wherever a rule or generator works per side.
SIDE_PAIRS = {part: (JOINT[f"left_{part}"], JOINT[f"right_{part}"])
              for part in ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist")}
HIPS, KNEES, ANKLES, FEET = (SIDE_PAIRS[p] for p in ("hip", "knee", "ankle", "foot"))
COLLARS, SHOULDERS, ELBOWS, WRISTS = (SIDE_PAIRS[p] for p in ("collar", "shoulder", "elbow", "wrist"))

PARENTS = np.array([-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19])

# Drawing order and the order the reference IK/FK walks the tree.
KINEMATIC_CHAINS = ((0, 2, 5, 8, 11), (0, 1, 4, 7, 10), (0, 3, 6, 9, 12, 15), (9, 14, 17, 19, 21), (9, 13, 16, 18, 20))

# Unit direction of each joint's offset from its parent in the rest pose (t2m_raw_offsets).
REST_DIRECTIONS = np.array(
    [
        [0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, -1, 0],
        [0, -1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1],
        [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0],
    ],
    dtype=np.float64,
)

# Bone lengths (metres) of the reference subject, indexed by child joint; see docs/format.md.
BONE_LENGTHS = np.array(
    [
        0.0, 0.1031, 0.1099, 0.1316, 0.3936, 0.3902, 0.1432, 0.4324, 0.4256, 0.0574, 0.1434,
        0.1494, 0.2194, 0.1375, 0.1434, 0.1030, 0.1316, 0.1230, 0.2568, 0.2631, 0.2660, 0.2699,
    ]
)
REFERENCE_OFFSETS = REST_DIRECTIONS * BONE_LENGTHS[:, None]  # (22, 3)
# BONE_LENGTHS are rounded to 0.1 mm, so HumanML3D's own joints differ from them by up to 5e-5 m. Retargeting
# such a clip anyway moves the hips and shoulders, turns the smoothed root heading by ~1e-4 rad and with it the
# root yaw and every chain root's rotation (tests/test_features.py); the reference, retargeting to its exact
# lengths, leaves the clip as it is. Within this tolerance a clip counts as already on the reference skeleton.
SAME_SKELETON_TOLERANCE = 1e-4  # metres

# Joints that define the facing direction: across = (r_hip - l_hip) + (r_shoulder - l_shoulder).
FACE_JOINTS = (JOINT["right_hip"], JOINT["left_hip"], JOINT["right_shoulder"], JOINT["left_shoulder"])
LEFT_FOOT = (JOINT["left_ankle"], JOINT["left_foot"])
RIGHT_FOOT = (JOINT["right_ankle"], JOINT["right_foot"])
FOOT_JOINTS = LEFT_FOOT + RIGHT_FOOT
# Leg bones whose summed length gives the root-translation scale when retargeting (right thigh + shin).
LEG_JOINTS = (JOINT["right_knee"], JOINT["right_ankle"])

# Index map that swaps every left joint with its right twin.
MIRROR_PERMUTATION = np.array(
    [JOINT[n.replace("left_", "TMP_").replace("right_", "left_").replace("TMP_", "right_")] for n in JOINT_NAMES]
)
LEFT_JOINTS = tuple(i for i, n in enumerate(JOINT_NAMES) if n.startswith("left_"))
RIGHT_JOINTS = tuple(i for i, n in enumerate(JOINT_NAMES) if n.startswith("right_"))


def check_joints(joints: np.ndarray, min_frames: int = 1) -> np.ndarray:
    """Validate a (T, 22, 3) joint array and return it as float64; raise ValueError naming the problem."""
    joints = np.asarray(joints)
    if joints.ndim != 3 or joints.shape[1:] != (NUM_JOINTS, 3):
        raise ValueError(f"expected joints of shape (T, {NUM_JOINTS}, 3), got {joints.shape}")
    if joints.shape[0] < min_frames:
        raise ValueError(f"clip too short: {joints.shape[0]} frames, need at least {min_frames}")
    if not np.isfinite(joints).all():
        raise ValueError("joints contain NaN or infinite values")
    return joints.astype(np.float64)


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """(..., 22, 3) -> (..., 22) distance of every joint to its parent (0 for the root)."""
    lengths = np.linalg.norm(joints - joints[..., np.maximum(PARENTS, 0), :], axis=-1)
    lengths[..., 0] = 0.0
    return lengths


def offsets_from_joints(joints: np.ndarray) -> np.ndarray:
    """(22, 3) one pose -> (22, 3) rest offsets with that pose's bone lengths (reference convention)."""
    return REST_DIRECTIONS * bone_lengths(joints)[:, None]


def facing_quaternion(joints: np.ndarray, swap_hips: bool = False) -> np.ndarray:
    """(T, 22, 3) -> (T, 4) rotation taking each frame's forward direction to +Z.

    forward = up x across. `swap_hips` reproduces the reference IK, which unpacks the face joints in
    the wrong order so that its hip term is (l_hip - r_hip) while the shoulder term stays r - l.
    """
    r_hip, l_hip, r_sdr, l_sdr = FACE_JOINTS
    hips = joints[:, l_hip] - joints[:, r_hip] if swap_hips else joints[:, r_hip] - joints[:, l_hip]
    return _forward_to_z(forward_direction(hips + joints[:, r_sdr] - joints[:, l_sdr]))


def forward_direction(across: np.ndarray) -> np.ndarray:
    across = across / np.linalg.norm(across, axis=-1, keepdims=True)
    return np.cross(np.array([0.0, 1.0, 0.0]), across)


def _forward_to_z(forward: np.ndarray) -> np.ndarray:
    forward = forward / np.linalg.norm(forward, axis=-1, keepdims=True)
    return qbetween(forward, np.broadcast_to(np.array([0.0, 0.0, 1.0]), forward.shape))


def inverse_kinematics(joints: np.ndarray, root_quat: np.ndarray) -> np.ndarray:
    """Reference IK: (T, 22, 3) joints and (T, 4) root rotations -> (T, 22, 4) rotations.

    Index 0 holds the root rotation; index c holds the rotation of the bone ending at c relative to the
    accumulated chain rotation, taken as the minimal rotation from the rest direction to the bone.
    """
    T = joints.shape[0]
    quats = np.zeros((T, NUM_JOINTS, 4))
    quats[:, 0] = root_quat
    for chain in KINEMATIC_CHAINS:
        R = root_quat
        for parent, child in zip(chain[:-1], chain[1:]):
            bone = joints[:, child] - joints[:, parent]
            bone = bone / np.linalg.norm(bone, axis=-1, keepdims=True)
            local = qmul(qinv(R), qbetween(np.broadcast_to(REST_DIRECTIONS[child], bone.shape), bone))
            quats[:, child] = local
            R = qmul(R, local)
    return quats


def forward_kinematics(quats: np.ndarray, root_pos: np.ndarray, offsets: np.ndarray = REFERENCE_OFFSETS) -> np.ndarray:
    """Reference FK, the inverse of `inverse_kinematics`: (T, 22, 4), (T, 3) -> (T, 22, 3)."""
    joints = np.zeros(quats.shape[:-1] + (3,))
    joints[:, 0] = root_pos
    for chain in KINEMATIC_CHAINS:
        R = quats[:, 0]
        for parent, child in zip(chain[:-1], chain[1:]):
            R = qmul(R, quats[:, child])
            joints[:, child] = qrot(R, np.broadcast_to(offsets[child], joints[:, child].shape)) + joints[:, parent]
    return joints


def retarget(joints: np.ndarray, offsets: np.ndarray = REFERENCE_OFFSETS) -> np.ndarray:
    """Give a clip the reference bone lengths, keeping every bone's direction (HumanML3D `uniform_skeleton`).

    Root translation is scaled by the ratio of leg lengths so that steps keep their proportion. A clip whose
    bones already have the target lengths (to SAME_SKELETON_TOLERANCE) is returned unchanged.
    """
    if np.abs(bone_lengths(joints) - np.linalg.norm(offsets, axis=-1)).max() <= SAME_SKELETON_TOLERANCE:
        return np.array(joints, dtype=np.float64)
    src_offsets = offsets_from_joints(joints[0])
    leg = list(LEG_JOINTS)
    scale = np.abs(offsets[leg]).max(-1).sum() / np.abs(src_offsets[leg]).max(-1).sum()
    quats = inverse_kinematics(joints, facing_quaternion(joints, swap_hips=True))
    return forward_kinematics(quats, joints[:, 0] * scale, offsets)


def mirror_joints(joints: np.ndarray) -> np.ndarray:
    """Reflect a (..., 22, 3) clip through the x = 0 plane and swap left/right joints."""
    out = joints[..., MIRROR_PERMUTATION, :].copy()
    out[..., 0] *= -1
    return out


def pose_joints(root_pos: np.ndarray, local_quats: np.ndarray, offsets: np.ndarray = REFERENCE_OFFSETS) -> np.ndarray:
    """SMPL-style FK for procedural motion.

    root_pos (T, 3), local_quats (T, 22, 4) -> joints (T, 22, 3). local_quats[:, 0] is the body's global
    orientation; local_quats[:, j] turns joint j's child bones in the frame of j's parent.
    """
    T = root_pos.shape[0]
    global_rot = np.zeros((T, NUM_JOINTS, 4))
    joints = np.zeros((T, NUM_JOINTS, 3))
    global_rot[:, 0] = qnormalize(local_quats[:, 0])
    joints[:, 0] = root_pos
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        global_rot[:, j] = qmul(global_rot[:, p], qnormalize(local_quats[:, j]))
        joints[:, j] = joints[:, p] + qrot(global_rot[:, p], np.broadcast_to(offsets[j], (T, 3)))
    return joints


def rest_quats(num_frames: int) -> np.ndarray:
    """(T, 22, 4) identity rotations: the T-pose of the reference skeleton."""
    return np.broadcast_to(IDENTITY, (num_frames, NUM_JOINTS, 4)).copy()
