"""Body maps: our joint -> a source joint, or `Between(a, b, t)`, the point `t` of the way from joint a to b,
for joints the source skeleton does not have. Names match case-insensitively, ignoring '_', '-', '.',
spaces and a namespace prefix such as 'mixamorig:'. The first map whose joints are all in the file is used.

    ours            bandai                     humanml3d / SMPL     smpl_short   mixamo
    pelvis          Hips                       pelvis               Pelvis       Hips
    left_hip        UpperLeg_L                 left_hip             L_Hip        LeftUpLeg
    left_knee       LowerLeg_L                 left_knee            L_Knee       LeftLeg
    left_ankle      Foot_L                     left_ankle           L_Ankle      LeftFoot
    left_foot       Toes_L                     left_foot            L_Foot       LeftToeBase
    spine1          Between(Hips, Spine, 0.6)  spine1               Spine1       Spine
    spine2          Between(Spine, Chest, 0.5) spine2               Spine2       Spine1
    spine3          Chest                      spine3               Spine3       Spine2
    neck            Neck                       neck                 Neck         Neck
    head            Head                       head                 Head         Head
    left_collar     Shoulder_L                 left_collar          L_Collar     LeftShoulder
    left_shoulder   UpperArm_L                 left_shoulder        L_Shoulder   LeftArm
    left_elbow      LowerArm_L                 left_elbow           L_Elbow      LeftForeArm
    left_wrist      Hand_L                     left_wrist           L_Wrist      LeftHand
    (right side: _R / right_ / R_ / Right in place of the left names)

Bandai's spine has three joints where SMPL has four (Hips, Spine, Chest, Neck); Chest carries the shoulder
girdle as SMPL's spine3 does and sits about as far up the pelvis-neck line (60%), so it becomes spine3, and
spine1/spine2 are placed between at about SMPL's proportions. Its Shoulder_L/_R are clavicle joints, like
SMPL's collars, so collars are not interpolated. Bone lengths only need to be roughly right: extraction
retargets every bone to the reference length and keeps its direction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ...motion.skeleton import JOINT, JOINT_NAMES, NUM_JOINTS
from .errors import file_error


@dataclass(frozen=True)
class Between:
    """The point `t` of the way from source joint `a` to source joint `b` (0 = a, 1 = b)."""

    a: str
    b: str
    t: float


def _sided(table: dict[str, str | Between], left: str, right: str) -> dict[str, str | Between]:
    """Add the right side to a left-side body map by replacing the substring `left` with `right`."""
    out = dict(table)
    for ours, source in table.items():
        if ours.startswith("left_"):
            out["right_" + ours[5:]] = source.replace(left, right)
    return out


BODY_MAPS: dict[str, dict[str, str | Between]] = {
    # Bandai Namco Research Motion dataset (and other MotionBuilder-style skeletons with these names)
    "bandai": _sided(
        {
            "pelvis": "Hips",
            "left_hip": "UpperLeg_L", "left_knee": "LowerLeg_L", "left_ankle": "Foot_L", "left_foot": "Toes_L",
            "spine1": Between("Hips", "Spine", 0.6), "spine2": Between("Spine", "Chest", 0.5), "spine3": "Chest",
            "neck": "Neck", "head": "Head",
            "left_collar": "Shoulder_L", "left_shoulder": "UpperArm_L", "left_elbow": "LowerArm_L",
            "left_wrist": "Hand_L",
        },
        "_L", "_R",
    ),
    # Our own export (motion_lora.serving.export.to_bvh) and SMPL's official joint names, which are the same
    "humanml3d": {name: name for name in JOINT_NAMES},
    # The short SMPL names many SMPL-to-BVH converters write: Pelvis, L_Hip, Spine1, L_Collar, ...
    "smpl_short": {name: name.replace("left_", "L_").replace("right_", "R_") for name in JOINT_NAMES},
    # Mixamo (and many game rigs): clavicle is LeftShoulder, the shoulder joint LeftArm
    "mixamo": _sided(
        {
            "pelvis": "Hips",
            "left_hip": "LeftUpLeg", "left_knee": "LeftLeg", "left_ankle": "LeftFoot", "left_foot": "LeftToeBase",
            "spine1": "Spine", "spine2": "Spine1", "spine3": "Spine2", "neck": "Neck", "head": "Head",
            "left_collar": "LeftShoulder", "left_shoulder": "LeftArm", "left_elbow": "LeftForeArm",
            "left_wrist": "LeftHand",
        },
        "Left", "Right",
    ),
}


def joint_key(name: str) -> str:
    """'mixamorig:Left_Arm' -> 'leftarm': what two joint names must share to match."""
    return re.sub(r"[^a-z0-9]", "", name.rsplit(":", 1)[-1].lower())


def needed_joints(source: str | Between) -> tuple[str, ...]:
    return (source.a, source.b) if isinstance(source, Between) else (source,)


def choose_body_map(names: list[str], path="<bvh>") -> str:
    """The first BODY_MAPS entry whose source joints are all among `names`; raise naming what is missing."""
    have = {joint_key(n) for n in names}
    missing_per_map = {}
    for skeleton, table in BODY_MAPS.items():
        missing = [ours for ours, src in table.items() if any(joint_key(s) not in have for s in needed_joints(src))]
        if not missing:
            return skeleton
        missing_per_map[skeleton] = missing
    closest = min(missing_per_map, key=lambda s: len(missing_per_map[s]))
    table = BODY_MAPS[closest]
    missing = missing_per_map[closest]
    detail = ", ".join(f"{ours} (needs {' and '.join(needed_joints(table[ours]))})" for ours in missing)
    raise file_error(path, f"missing joints: cannot map {len(missing)} of our {NUM_JOINTS} joints with the "
                     f"closest known skeleton '{closest}': {detail}. The file's joints: {', '.join(names)}")


def map_to_ours(world: np.ndarray, names: list[str], skeleton: str) -> np.ndarray:
    """World positions (T, J, 3) of the file's joints -> our joints (T, 22, 3) through BODY_MAPS[skeleton]."""
    index = {joint_key(n): i for i, n in enumerate(names)}
    out = np.zeros((world.shape[0], NUM_JOINTS, 3))
    for ours, src in BODY_MAPS[skeleton].items():
        if isinstance(src, Between):
            a, b = world[:, index[joint_key(src.a)]], world[:, index[joint_key(src.b)]]
            out[:, JOINT[ours]] = a + src.t * (b - a)
        else:
            out[:, JOINT[ours]] = world[:, index[joint_key(src)]]
    return out
