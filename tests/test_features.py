"""HumanML3D format: kinematics, feature extraction, recovery, mirroring, normalisation."""

import numpy as np
import pytest

from motion_lora.motion import features as F
from motion_lora.motion.quaternion import qfrom_axis_angle, qrot, qyaw
from motion_lora.motion.skeleton import (
    BONE_LENGTHS,
    JOINT,
    REFERENCE_OFFSETS,
    REST_DIRECTIONS,
    bone_lengths,
    facing_quaternion,
    forward_kinematics,
    inverse_kinematics,
    mirror_joints,
    pose_joints,
    rest_quats,
    retarget,
)


def swinging_clip(T=80, seed=0, turn=0.8, scale=1.0, offsets=REFERENCE_OFFSETS):
    """A person drifting forward and turning while every limb swings: (T, 22, 3)."""
    rng = np.random.default_rng(seed)
    q = rest_quats(T)
    t = np.linspace(0, T / 20, T)
    for j in range(1, 22):
        axis = rng.normal(size=3)
        amp = 0.1 if j in (3, 6, 9, 12, 13, 14) else 0.6
        q[:, j] = qfrom_axis_angle(axis / np.linalg.norm(axis), amp * np.sin(2 * t + rng.uniform(0, 6)))
    q[:, 0] = qyaw(turn * t + 0.3)
    root = np.stack([0.3 * t, 0.9 + 0.02 * np.sin(5 * t), 0.5 * t], -1)
    return pose_joints(root, q, offsets * scale)


def standing_clip(T=60):
    return pose_joints(np.tile([0.0, 0.83, 0.0], (T, 1)), rest_quats(T))


def test_extract_shape_and_blocks():
    feats = F.extract_features(swinging_clip())
    assert feats.shape == (79, 263)
    assert sum(s.stop - s.start for s in F.BLOCKS.values()) == 263
    assert set(np.unique(feats[:, F.BLOCKS["contacts"]])) <= {0.0, 1.0}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_features_to_joints_round_trip(seed):
    feats, aligned = F.process_joints(swinging_clip(seed=seed))
    assert np.abs(F.recover_joints(feats) - aligned[:-1]).max() < 1e-5
    assert np.abs(F.recover_joints_from_rotations(feats) - aligned[:-1]).max() < 1e-5


def test_recover_joints_batched():
    feats = F.extract_features(swinging_clip())
    batch = np.stack([feats, feats])
    assert np.allclose(F.recover_joints(batch)[1], F.recover_joints(feats))


def test_retarget_gives_reference_bone_lengths():
    small = swinging_clip(scale=0.8)  # a smaller person
    out = retarget(small)
    lengths = bone_lengths(out)
    assert np.abs(lengths - BONE_LENGTHS).max() < 1e-5
    # root translation scaled by the leg ratio (0.8 -> 1.0)
    travel_in, travel_out = np.linalg.norm(small[-1, 0] - small[0, 0]), np.linalg.norm(out[-1, 0] - out[0, 0])
    assert travel_out == pytest.approx(travel_in / 0.8, rel=1e-6)


def humanml3d_like_clip(seed=0, off_by=5e-5):
    """A clip on the reference skeleton as HumanML3D stores it: exact lengths that our 0.1 mm-rounded
    BONE_LENGTHS miss by up to `off_by` metres, float32. Returns (clip, its exact offsets)."""
    lengths = BONE_LENGTHS + np.random.default_rng(seed).uniform(-off_by, off_by, 22) * (BONE_LENGTHS > 0)
    offsets = REST_DIRECTIONS * lengths[:, None]
    return swinging_clip(T=120, seed=seed, offsets=offsets).astype(np.float32), offsets


def test_a_clip_already_on_the_reference_skeleton_is_left_as_it_is():
    clip, _ = humanml3d_like_clip()
    assert np.array_equal(retarget(clip), clip)
    off_by_2mm, _ = humanml3d_like_clip(off_by=2e-3)
    assert np.abs(bone_lengths(retarget(off_by_2mm)) - BONE_LENGTHS).max() < 1e-6  # a real difference is retargeted


def test_features_of_reference_skeleton_joints_match_retargeting_to_their_exact_lengths():
    """HumanML3D's code retargets its own joints to its exact offsets (a no-op); re-extracting them must
    agree with that, not with a retarget to the rounded lengths, which turns the root heading slightly."""
    clip, exact = humanml3d_like_clip()
    ours = F.extract_features(clip)
    reference = F.extract_features(retarget(retarget(clip, exact * 1.001), exact))  # forced through a real retarget
    rounded = F.extract_features(retarget(retarget(clip, exact * 1.001)))
    rot6d, yaw = F.BLOCKS["rot6d"], F.BLOCKS["root_yaw_vel"]
    gap = {name: np.abs(ours - reference)[:, block].max() for name, block in F.BLOCKS.items()}
    assert max(v for k, v in gap.items() if k != "rot6d") < 1e-6, gap
    assert gap["rot6d"] < 5e-5, gap  # float32 input noise, amplified where a bone points almost against its rest direction
    assert np.abs(rounded[:, rot6d] - ours[:, rot6d]).max() > 1e-4  # the gap this removes
    assert np.abs(rounded[:, yaw] - ours[:, yaw]).max() > 1e-5


def test_extraction_is_invariant_to_start_position_and_heading():
    clip = swinging_clip()
    moved = qrot(qyaw(np.array(1.1)), clip) + np.array([3.0, 0.5, -2.0])
    assert np.abs(F.extract_features(clip) - F.extract_features(moved)).max() < 1e-6


def test_first_frame_faces_plus_z_at_origin_on_floor():
    _, aligned = F.process_joints(swinging_clip())
    assert abs(aligned[0, 0, 0]) < 1e-9 and abs(aligned[0, 0, 2]) < 1e-9
    assert aligned[..., 1].min() == pytest.approx(0.0, abs=1e-9)
    q = facing_quaternion(aligned[:1])
    assert np.allclose(q[0], [1, 0, 0, 0], atol=1e-9)
    assert aligned[0, JOINT["left_hip"], 0] > aligned[0, JOINT["right_hip"], 0]  # left is +X


def test_reference_quirks():
    """Frame 0 root rotation is identity, and the smoothed across vector takes the hips swapped."""
    clip = swinging_clip(turn=1.5)
    _, aligned = F.process_joints(clip)
    root = F._smoothed_root_rotation(aligned)
    assert np.allclose(root[0], [1, 0, 0, 0])
    # with the hips unswapped the forward direction (and so the yaw) would differ
    unswapped = facing_quaternion(aligned, swap_hips=False)
    assert np.abs(root[1:] - unswapped[1:]).max() > 1e-3


def test_ik_fk_round_trip():
    clip = swinging_clip()
    quats = inverse_kinematics(clip, facing_quaternion(clip))
    assert np.abs(forward_kinematics(quats, clip[:, 0]) - clip).max() < 1e-9


def test_mirror_twice_is_identity_and_swaps_sides():
    clip = swinging_clip()
    assert np.array_equal(mirror_joints(mirror_joints(clip)), clip)
    m = mirror_joints(clip)
    assert np.allclose(m[:, JOINT["left_wrist"], 0], -clip[:, JOINT["right_wrist"], 0])


def test_mirror_features_matches_mirrored_joints():
    clip = swinging_clip()
    direct = F.extract_features(mirror_joints(clip))
    mirrored = F.mirror_features(F.extract_features(clip))
    # equal up to the reference skeleton's left/right bone-length asymmetry (< 7 mm per bone)
    ric = F.BLOCKS["ric"]
    assert np.abs(mirrored[:, ric] - direct[:, ric]).max() < 0.03
    assert np.abs(F.recover_joints(mirrored) - F.recover_joints(direct)).mean() < 0.01
    assert np.array_equal(F.mirror_features(F.mirror_features(direct)), direct)


def test_idle_feet_in_contact():
    feats = F.extract_features(standing_clip())
    assert feats[:, F.BLOCKS["contacts"]].mean() == 1.0


def test_block_std_and_normalisation():
    rng = np.random.default_rng(0)
    clips = [rng.normal(size=(50, 263)) * np.linspace(0.1, 2, 263) for _ in range(3)]
    mean, std = F.feature_statistics(clips)
    for block in F.BLOCKS.values():
        assert np.ptp(std[block]) == 0
    x = clips[0]
    assert np.allclose(F.denormalize(F.normalize(x, mean, std), mean, std), x)


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((10, 21, 3)), "shape"),
        (np.zeros((10, 22)), "shape"),
        (np.zeros((1, 22, 3)), "too short"),
        (np.full((10, 22, 3), np.nan), "NaN"),
    ],
)
def test_bad_joints_raise_clear_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        F.extract_features(bad)


@pytest.mark.parametrize("bad", [np.zeros((10, 262)), np.zeros((263,)), np.zeros((0, 263))])
def test_bad_features_raise_clear_errors(bad):
    with pytest.raises(ValueError, match="263"):
        F.recover_joints(bad)
