"""BVH import: our own export read back, units, frame rates, up axes, body maps, errors, the import-bvh CLI.

Clips are procedural motions on the reference skeleton (rigid bones), written with motion_lora.export.to_bvh.
"""

from __future__ import annotations

import numpy as np
import pytest

from motion_lora.data import procedural
from motion_lora.data.__main__ import main
from motion_lora.data.bvh_import import (
    BODY_MAPS,
    Between,
    BvhImportError,
    bvh_to_joints,
    caption_from_stem,
    choose_body_map,
    read_bvh,
)
from motion_lora.motion.features import FEATURE_DIM, extract_features, recover_joints
from motion_lora.motion.skeleton import BONE_LENGTHS, JOINT, JOINT_NAMES, bone_lengths, mirror_joints
from motion_lora.serving.export import to_bvh

BANDAI_JOINTS = [
    "joint_Root", "Hips", "Spine", "Chest", "Neck", "Head",
    "Shoulder_L", "UpperArm_L", "LowerArm_L", "Hand_L", "Shoulder_R", "UpperArm_R", "LowerArm_R", "Hand_R",
    "UpperLeg_L", "LowerLeg_L", "Foot_L", "Toes_L", "UpperLeg_R", "LowerLeg_R", "Foot_R", "Toes_R",
]


@pytest.fixture(scope="module")
def walk() -> np.ndarray:
    """A procedural walk (T, 22, 3), standing on the floor."""
    motion = procedural.sample_motion("walk", np.random.default_rng(3), source="test_walk")
    joints = motion.joints.copy()
    joints[..., 1] -= joints[..., 1].min()
    return joints


def write(tmp_path, joints, name="clip.bvh", fps=20) -> str:
    path = tmp_path / name
    path.write_text(to_bvh(joints, fps=fps))
    return str(path)


# ---------------------------------------------------------------- round trips


def test_export_then_import_gives_the_same_joints(tmp_path, walk):
    motion = read_bvh(write(tmp_path, walk))
    assert (motion.skeleton, motion.scale, motion.up, motion.fps_in) == ("humanml3d", 1.0, "+y", 20.0)
    assert motion.joints.shape == walk.shape and motion.joints.dtype == np.float64
    assert np.abs(motion.joints - walk).max() < 1e-4


def test_bone_lengths_after_import_and_extraction_are_the_reference(tmp_path, walk):
    recovered = recover_joints(extract_features(bvh_to_joints(write(tmp_path, walk))))
    np.testing.assert_allclose(bone_lengths(recovered)[:, 1:], np.broadcast_to(BONE_LENGTHS[1:], recovered.shape[:1] + (21,)), atol=1e-6)


def test_resamples_to_20_fps(tmp_path, walk):
    """Written as 60 fps, read back at 20 fps: every third frame (output times fall on key frames)."""
    joints = read_bvh(write(tmp_path, walk, fps=60)).joints
    expected = walk[::3] - np.array([0.0, walk[::3, :, 1].min(), 0.0])
    assert joints.shape == expected.shape
    assert np.abs(joints - expected).max() < 1e-4


def test_fps_in_overrides_the_frame_time(tmp_path, walk):
    """A 20 fps file declared 40 fps lasts half as long: (T - 1) / 2 + 1 frames, every other pose."""
    motion = read_bvh(write(tmp_path, walk[:61]), fps_in=40)
    assert motion.fps_in == 40 and motion.num_frames == 31
    assert np.abs(motion.joints - (walk[:61:2] - [0, walk[:61:2, :, 1].min(), 0])).max() < 1e-4


def test_between_frames_rotations_are_interpolated(tmp_path, walk):
    """At 30 fps in, every output frame between two key frames keeps rigid bones (slerp, not a position lerp)."""
    joints = read_bvh(write(tmp_path, walk, fps=30)).joints
    lengths = bone_lengths(joints)[:, 1:]
    assert np.abs(lengths - lengths[0]).max() < 1e-6


@pytest.mark.parametrize("units, factor", [("cm", 100.0), ("mm", 1000.0)])
def test_units_are_detected(tmp_path, walk, units, factor):
    motion = read_bvh(write(tmp_path, walk * factor))
    assert motion.scale == pytest.approx(1 / factor)
    assert np.abs(motion.joints - walk).max() < 1e-4


def test_scale_overrides_the_detection(tmp_path, walk):
    motion = read_bvh(write(tmp_path, walk * 39.37), scale=1 / 39.37)  # inches
    assert np.abs(motion.joints - walk).max() < 1e-4
    with pytest.raises(BvhImportError, match="cannot tell the units"):
        read_bvh(write(tmp_path, walk * 39.37, name="inches.bvh"))


def z_up_bvh(joints: np.ndarray) -> str:
    """Our export of y-up `joints` under an extra static ROOT turned +90 deg about x (Bandai files have such a
    root too): the file's motion is z-up, (x, y, z) -> (x, -z, y), and the pelvis a JOINT with 6 channels.

    (Exporting z-up joints directly would not do: to_bvh's ZXY angles lose the pelvis turn at x = 90 deg.)
    """
    head, motion = to_bvh(joints).split("MOTION\n")
    head = head.replace("ROOT pelvis", "ROOT world\n{\nOFFSET 0 0 0\nCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\nJOINT pelvis", 1)
    lines = motion.splitlines()
    frames = [f"0 0 0 0 90 0 {line}" for line in lines[2:]]
    return head + "}\nMOTION\n" + "\n".join(lines[:2] + frames) + "\n"


def test_z_up_file_is_turned_y_up_without_mirroring(tmp_path, walk):
    path = tmp_path / "z_up.bvh"
    path.write_text(z_up_bvh(walk))
    motion = read_bvh(path)
    assert motion.up == "+z"
    assert np.abs(motion.joints - walk).max() < 1e-4
    lying = read_bvh(path, up="+y").joints  # told the file is y-up, the axes are kept: the body lies along z
    head_from_ankle = lying[0, JOINT["head"]] - lying[0, JOINT["left_ankle"]]
    assert head_from_ankle[2] > 1.0 and abs(head_from_ankle[1]) < 0.3


# ---------------------------------------------------------------- body maps


def test_every_body_map_covers_all_22_joints():
    for skeleton, table in BODY_MAPS.items():
        assert set(table) == set(JOINT_NAMES), skeleton
        for source in table.values():
            if isinstance(source, Between):
                assert 0.0 < source.t < 1.0


@pytest.mark.parametrize(
    "names, skeleton",
    [
        (BANDAI_JOINTS, "bandai"),
        (list(JOINT_NAMES), "humanml3d"),
        ([n.replace("left_", "L_").replace("right_", "R_").title() for n in JOINT_NAMES], "smpl_short"),
        (["mixamorig:" + n for n in BODY_MAPS["mixamo"].values() if isinstance(n, str)] + ["mixamorig:LeftHandIndex1"], "mixamo"),
    ],
)
def test_known_skeletons_are_recognised(names, skeleton):
    assert choose_body_map(names) == skeleton


def test_renamed_skeleton_imports_through_its_map(tmp_path, walk):
    """Our export with Mixamo names: the same joints come back through the mixamo table."""
    text = to_bvh(walk)
    for ours, theirs in sorted(BODY_MAPS["mixamo"].items(), key=lambda kv: -len(kv[0])):
        text = text.replace(f"JOINT {ours}\n", f"JOINT mixamorig:{theirs}\n").replace(f"ROOT {ours}\n", f"ROOT mixamorig:{theirs}\n")
    path = tmp_path / "mixamo.bvh"
    path.write_text(text)
    motion = read_bvh(path)
    assert motion.skeleton == "mixamo"
    assert np.abs(motion.joints - walk).max() < 1e-4


# ---------------------------------------------------------------- errors name the file and the problem


def _text(walk) -> str:
    return to_bvh(walk[:10])


@pytest.mark.parametrize(
    "edit, match",
    [
        (lambda t: t[: len(t) // 2], "truncated"),  # cut inside the motion data
        (lambda t: t[: t.index("MOTION") // 2], "truncated"),  # cut inside the hierarchy
        (lambda t: t.rsplit("\n", 3)[0] + "\n", "truncated BVH: 8 of the 10"),
        (lambda t: t.rstrip("\n")[:-40] + "\n", "frame 9 has"),  # last line cut short
        (lambda t: t.replace("CHANNELS 3 Zrotation Xrotation Yrotation", "CHANNELS 3 Zrotation Xrotation Wrotation", 1), "unknown channel layout for joint 'left_hip'"),
        (lambda t: t.replace("CHANNELS 3 Zrotation Xrotation Yrotation", "CHANNELS 3 Zrotation Xrotation Xrotation", 1), "unknown channel layout"),
        (lambda t: t.replace("JOINT left_knee", "JOINT knee_l"), r"missing joints: cannot map 1 of our 22 joints .* left_knee"),
        (lambda t: t.replace("Frames: 10", "Frames: 0").split("Frame Time")[0] + "Frame Time: 0.05\n", "zero frames"),
        (lambda t: "hello\n", "no MOTION section"),
    ],
)
def test_bad_files_give_clear_errors(tmp_path, walk, edit, match):
    path = tmp_path / "bad_file.bvh"
    path.write_text(edit(_text(walk)))
    with pytest.raises(BvhImportError, match=match) as info:
        read_bvh(path)
    assert str(path) in str(info.value)


def test_mirrored_body_is_an_error(tmp_path, walk):
    """Left joints on the right (negated x without swapping names) is a left-handed file or swapped names."""
    mirrored = walk * np.array([-1.0, 1.0, 1.0])
    with pytest.raises(BvhImportError, match="mirrored"):
        read_bvh(write(tmp_path, mirrored))
    # the proper mirror image (names swapped with the sides) is a normal body
    read_bvh(write(tmp_path, mirror_joints(walk), name="ok.bvh"))


def test_missing_file_is_named(tmp_path):
    with pytest.raises(BvhImportError, match="nope.bvh"):
        read_bvh(tmp_path / "nope.bvh")


# ---------------------------------------------------------------- CLI


def test_caption_from_stem():
    assert caption_from_stem("dataset-2_walk-turn-left_normal_001") == "dataset walk turn left normal"
    assert caption_from_stem("JumpingJacks02") == "jumping jacks"
    assert caption_from_stem("0001") == "a person moves"


def test_cli_writes_the_humanml3d_layout(tmp_path, walk, capsys):
    src = tmp_path / "in"
    src.mkdir()
    write(src, walk, name="happy_walk.bvh")
    write(src, walk[:50] * 100, name="short_cm.bvh")
    (src / "broken.bvh").write_text(_text(walk)[:200])
    out = tmp_path / "out"
    assert main(["import-bvh", str(src), "--out", str(out)]) == 1  # one file failed
    printed = capsys.readouterr().out
    assert "broken.bvh" in printed and "imported 2 of 3 BVH files" in printed
    ids = (out / "all.txt").read_text().split()
    assert ids == ["happy_walk", "short_cm"]
    features = np.load(out / "new_joint_vecs" / "happy_walk.npy")
    assert features.shape == (len(walk) - 1, FEATURE_DIM) and features.dtype == np.float32
    assert np.load(out / "new_joints" / "short_cm.npy").shape == (49, 22, 3)
    assert (out / "texts" / "happy_walk.txt").read_text().startswith("happy walk#")
    assert np.load(out / "Mean.npy").shape == (FEATURE_DIM,) and np.load(out / "Std.npy").shape == (FEATURE_DIM,)

    out2 = tmp_path / "out2"
    assert main(["import-bvh", str(src / "happy_walk.bvh"), "--out", str(out2), "--caption", "a person walks happily"]) == 0
    assert (out2 / "texts" / "happy_walk.txt").read_text().startswith("a person walks happily#")
    assert main(["import-bvh", str(src / "happy_walk.bvh"), "--out", str(out2)]) == 1  # not empty any more
    assert "not empty" in capsys.readouterr().err


def test_left_wrist_stays_left(tmp_path, walk):
    """Joint 20 is the left wrist on the +X side when the body faces +Z at frame 0 (no mirroring on import)."""
    joints = bvh_to_joints(write(tmp_path, walk))
    features_joints = recover_joints(extract_features(joints))
    assert features_joints[0, JOINT["left_wrist"], 0] > features_joints[0, JOINT["right_wrist"], 0]
