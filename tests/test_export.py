"""Export: player payload, standalone HTML and BVH.

The BVH is checked the way another program would read it: parsed with the PyPI `bvh` package and played back
with forward kinematics written here from the BVH specification, independent of motion_lora.export.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from bvh import Bvh

from motion_lora.motion.quaternion import qfrom_axis_angle, qmul, qyaw
from motion_lora.motion.skeleton import (
    JOINT,
    JOINT_NAMES,
    KINEMATIC_CHAINS,
    NUM_JOINTS,
    PARENTS,
    pose_joints,
    rest_quats,
)
from motion_lora.serving.export import player_payload, standalone_html, to_bvh

FPS = 20


def synthetic_motion(num_frames: int = 60) -> np.ndarray:
    """A walk-like clip: swinging legs and arms, bending elbows/knees, a nodding head, a turning and
    travelling root. Built with SMPL-style FK so every bone is rigid."""
    t = np.arange(num_frames) / FPS
    phase = 2 * np.pi * 1.0 * t
    quats = rest_quats(num_frames)
    x_axis, z_axis = np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.0, 1.0])
    heading = 0.6 * t  # turning left slowly
    quats[:, 0] = qmul(qyaw(heading), qfrom_axis_angle(x_axis, 0.1 * np.sin(2 * phase)))
    quats[:, JOINT["left_hip"]] = qfrom_axis_angle(x_axis, -0.5 * np.sin(phase))
    quats[:, JOINT["right_hip"]] = qfrom_axis_angle(x_axis, 0.5 * np.sin(phase))
    quats[:, JOINT["left_knee"]] = qfrom_axis_angle(x_axis, 0.6 * (1 + np.sin(phase)) / 2)
    quats[:, JOINT["right_knee"]] = qfrom_axis_angle(x_axis, 0.6 * (1 - np.sin(phase)) / 2)
    quats[:, JOINT["spine2"]] = qfrom_axis_angle(np.array([0.0, 1.0, 0.0]), 0.2 * np.sin(phase))
    quats[:, JOINT["left_shoulder"]] = qmul(qfrom_axis_angle(z_axis, 0.3), qfrom_axis_angle(x_axis, 0.6 * np.sin(phase)))
    quats[:, JOINT["right_shoulder"]] = qmul(qfrom_axis_angle(z_axis, -0.3), qfrom_axis_angle(x_axis, -0.6 * np.sin(phase)))
    quats[:, JOINT["left_elbow"]] = qfrom_axis_angle(x_axis, -0.8 - 0.3 * np.sin(phase))
    quats[:, JOINT["right_elbow"]] = qfrom_axis_angle(x_axis, -0.8 + 0.3 * np.sin(phase))
    quats[:, JOINT["neck"]] = qfrom_axis_angle(x_axis, 0.2 * np.sin(2 * phase))
    forward = np.stack([np.sin(heading), np.zeros_like(t), np.cos(heading)], axis=-1)
    root = np.cumsum(forward * 1.2 / FPS, axis=0) + np.array([0.0, 0.95, 0.0])
    root[:, 1] += 0.02 * np.sin(2 * phase)
    return pose_joints(root, quats)


# ---------------------------------------------------------------- forward kinematics from the BVH spec


def axis_rotation(axis: str, degrees: np.ndarray) -> np.ndarray:
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    m = np.zeros(a.shape + (3, 3))
    i = "XYZ".index(axis)
    j, k = (i + 1) % 3, (i + 2) % 3
    m[..., i, i] = 1.0
    m[..., j, j], m[..., k, k] = c, c
    m[..., j, k], m[..., k, j] = -s, s
    return m


def bvh_positions(parsed: Bvh) -> dict[str, np.ndarray]:
    """World position (T, 3) of every joint: each channel in listed order multiplies the local transform."""
    T = parsed.nframes
    world_pos: dict[str, np.ndarray] = {}
    world_rot: dict[str, np.ndarray] = {}
    for name in parsed.get_joints_names():  # parents are listed before their children
        channels = parsed.joint_channels(name)
        values = np.array(parsed.frames_joint_channels(name, channels)).reshape(T, len(channels))
        local_rot = np.broadcast_to(np.eye(3), (T, 3, 3)).copy()
        translation = np.zeros((T, 3))
        for col, channel in enumerate(channels):
            if channel.endswith("rotation"):
                local_rot = local_rot @ axis_rotation(channel[0], values[:, col])
            else:
                translation[:, "XYZ".index(channel[0])] = values[:, col]
        offset = np.array(parsed.joint_offset(name))
        parent = parsed.joint_parent(name)
        if parent is None:
            world_pos[name] = offset + translation
            world_rot[name] = local_rot
        else:
            world_pos[name] = world_pos[parent.name] + np.einsum("tij,j->ti", world_rot[parent.name], offset)
            world_rot[name] = world_rot[parent.name] @ local_rot
    return world_pos


def assert_bvh_reproduces(joints: np.ndarray, tol: float = 0.01) -> Bvh:
    parsed = Bvh(to_bvh(joints))
    positions = bvh_positions(parsed)
    out = np.stack([positions[name] for name in JOINT_NAMES], axis=1)
    error = np.linalg.norm(out - joints, axis=-1)
    assert error.max() < tol, f"max joint error {error.max() * 100:.2f} cm at joint {JOINT_NAMES[error.max(0).argmax()]}"
    return parsed


# ---------------------------------------------------------------- BVH


def test_bvh_fk_reproduces_synthetic_motion():
    joints = synthetic_motion()
    assert np.ptp(joints[:, 0, 0]) > 0.3 and np.ptp(joints[:, 0, 2]) > 0.5  # it really travels and turns
    assert_bvh_reproduces(joints)


def test_bvh_fk_reproduces_dataset_clips(quick_bank):
    """Real MotionBank clips (motion capture and procedural) from the quick build."""
    root, _ = quick_bank
    for path in sorted((root / "new_joints").glob("*.npy"))[:3]:
        assert_bvh_reproduces(np.load(path).astype(np.float64))


def test_bvh_header_structure_and_frames():
    joints = synthetic_motion(37)
    text = to_bvh(joints)
    parsed = Bvh(text)
    assert text.startswith("HIERARCHY\nROOT pelvis\n")
    assert parsed.get_joints_names()[0] == "pelvis"
    assert sorted(parsed.get_joints_names()) == sorted(JOINT_NAMES)
    for j, name in enumerate(JOINT_NAMES):
        parent = parsed.joint_parent(name)
        assert (parent.name if parent is not None else None) == (JOINT_NAMES[PARENTS[j]] if j else None)
    assert parsed.joint_channels("pelvis") == [
        "Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"
    ]
    for name in JOINT_NAMES[1:]:
        assert parsed.joint_channels(name) == ["Zrotation", "Xrotation", "Yrotation"]
    # One End Site per leaf joint (feet, head, wrists).
    leaves = [JOINT_NAMES[j] for j in range(NUM_JOINTS) if j not in PARENTS]
    assert len(leaves) == 5 and text.count("End Site") == 5
    assert parsed.nframes == 37 and len(parsed.frames) == 37
    assert all(len(row) == 6 + 3 * (NUM_JOINTS - 1) for row in parsed.frames)
    assert parsed.frame_time == pytest.approx(0.05)
    assert re.search(r"^Frame Time: 0\.050000$", text, re.M)
    # Offsets in metres: the thigh is ~0.39 m.
    assert 0.3 < abs(parsed.joint_offset("left_knee")[1]) < 0.5
    # The pelvis position channels are the root joint itself.
    np.testing.assert_allclose(parsed.frames_joint_channels("pelvis", ["Xposition", "Yposition", "Zposition"]),
                               joints[:, 0], atol=1e-5)


def test_bvh_rotations_are_continuous():
    joints = synthetic_motion(80)
    parsed = Bvh(to_bvh(joints))
    values = np.array(parsed.frames, dtype=np.float64)[:, 3:]
    assert np.abs(np.diff(values, axis=0)).max() < 45.0  # no 360-degree wraps or twist flips


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.zeros((10, 21, 3)), "shape"),
        (np.zeros((22, 3)), "shape"),
        (np.full((5, 22, 3), np.nan), "NaN"),
        (np.zeros((5, 22, 3)), "zero length"),
    ],
)
def test_bvh_rejects_bad_input(bad, match):
    with pytest.raises(ValueError, match=match):
        to_bvh(bad)


# ---------------------------------------------------------------- player payload and page


def test_player_payload_format():
    a, b = synthetic_motion(30), synthetic_motion(20)
    payload = player_payload([("base", a), ("unlearned", b)], captions=["a person walks", "a person walks?"])
    json.dumps(payload)  # serialisable as is
    assert payload["fps"] == 20
    assert payload["chains"] == [list(c) for c in KINEMATIC_CHAINS]
    assert set(payload["left"]).isdisjoint(payload["right"]) and len(payload["left"]) == 8
    first = payload["motions"][0]
    assert first["label"] == "base" and first["caption"] == "a person walks" and first["frames"] == 30
    assert len(first["joints"]) == 30 * NUM_JOINTS * 3
    flat = np.array(first["joints"]).reshape(30, NUM_JOINTS, 3)
    np.testing.assert_allclose(flat, a, atol=5e-4 + 1e-9)  # millimetre rounding
    assert payload["motions"][1]["frames"] == 20 and payload["motions"][1]["caption"] == "a person walks?"


def test_player_payload_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        player_payload([])
    with pytest.raises(ValueError, match="shape"):
        player_payload([("x", np.zeros((4, 22, 2)))])
    with pytest.raises(ValueError, match="NaN"):
        player_payload([("x", np.full((4, 22, 3), np.inf))])
    with pytest.raises(ValueError, match="captions"):
        player_payload([("x", synthetic_motion(3))], captions=["a", "b"])


def test_standalone_html_is_self_contained():
    page = standalone_html([("base </script>", synthetic_motion(10))], title="walk <test>")
    assert "<title>walk &lt;test&gt;</title>" in page
    assert "class MotionPlayer" in page and ".motion-player" in page  # script and styles inline
    assert "<script src" not in page and "<link" not in page and "http" not in page.split("<body>")[1]
    assert page.count("</script>") == 2  # the label's </script> was escaped
    with pytest.raises(ValueError, match="layout"):
        standalone_html([("a", synthetic_motion(3))], layout="circle")
