import json
import sys

import numpy as np
import pytest

from motion_lora.data import deepmimic as dm
from motion_lora.data.clip import CONCEPTS, Motion
from motion_lora.motion.features import extract_features, process_joints, recover_joints
from motion_lora.motion.skeleton import FPS, JOINT

pytest.importorskip("pybullet_data")


@pytest.fixture(scope="module")
def clips() -> dict[str, Motion]:
    return {m.source.removeprefix("deepmimic_"): m for m in dm.load_all()}


def _yaw(joints: np.ndarray) -> np.ndarray:
    """(T, 22, 3) -> (T,) unwrapped facing angle from the hips; positive = turned left (about +y)."""
    across = joints[:, JOINT["left_hip"]] - joints[:, JOINT["right_hip"]]
    return np.unwrap(np.arctan2(-across[:, 2], across[:, 0]))


def test_all_clips_load(clips):
    assert sorted(clips) == sorted(dm.DEEPMIMIC_CLIPS)
    for name, m in clips.items():
        info = dm.DEEPMIMIC_CLIPS[name]
        assert m.joints.shape[1:] == (22, 3) and m.joints.dtype == np.float64
        assert np.isfinite(m.joints).all()
        assert m.real and m.source == f"deepmimic_{name}" and m.cyclic == info["cyclic"]
        assert info["concept"] in CONCEPTS and m.concept == info["concept"] and m.fine == info["fine"]
        assert m.segments[0].start == 0 and m.segments[0].end == m.num_frames


def test_resampled_duration_matches_file(clips):
    for name, m in clips.items():
        frames = json.loads((dm.motions_dir() / f"humanoid3d_{name}.txt").read_text())["Frames"]
        duration = sum(f[0] for f in frames)
        assert abs(m.num_frames - duration * FPS) <= 1.0, name


def test_units_and_proportions(clips):
    j = clips["walk"].joints
    assert 0.8 < j[0, JOINT["pelvis"], 1] < 0.95  # standing pelvis height in metres
    thigh = np.linalg.norm(j[:, JOINT["left_knee"]] - j[:, JOINT["left_hip"]], axis=-1)
    assert np.allclose(thigh, 1.686184 * dm.URDF_SCALE)  # rigid bone, URDF length x 0.25
    # head joint (about ear level) over the toes mid-stride; the DeepMimic character is ~1.6 m tall
    height = j[0, JOINT["head"], 1] - j[0, [JOINT["left_foot"], JOINT["right_foot"]], 1].min()
    assert 1.3 < height < 1.7


def test_left_is_plus_x_and_walk_goes_forward(clips):
    j = clips["walk"].joints
    assert j[0, JOINT["left_hip"], 0] > j[0, JOINT["right_hip"], 0]
    assert j[0, JOINT["left_shoulder"], 0] > j[0, JOINT["right_shoulder"], 0]
    step = j[-1, 0] - j[0, 0]
    assert step[2] > 1.0 and abs(step[0]) < 0.1  # ~1.2 m along +Z, the facing direction
    toe = j[:, JOINT["left_foot"]] - j[:, JOINT["left_ankle"]]
    assert np.median(toe[:, 2]) > 0.05  # feet point forward


def test_labels_match_the_motion(clips):
    def peak(name, joint):
        return clips[name].joints[:, JOINT[joint], 1].max()

    assert peak("kick", "right_ankle") > 1.0 > peak("kick", "left_ankle")
    assert peak("spinkick", "right_ankle") > peak("spinkick", "left_ankle")
    punch = clips["punch"].joints
    reach = {s: np.linalg.norm(punch[:, JOINT[f"{s}_wrist"]] - punch[:, JOINT[f"{s}_shoulder"]], axis=-1).max() for s in ("left", "right")}
    assert reach["right"] > 0.5 > reach["left"]  # only the right arm straightens
    assert np.degrees(_yaw(clips["spin"].joints)[-1]) > 600  # two turns to the left
    assert np.degrees(_yaw(clips["spinkick"].joints)[-1]) > 300
    assert clips["cartwheel"].joints[-1, 0, 0] - clips["cartwheel"].joints[0, 0, 0] > 1.5  # to the left
    assert clips["backflip"].joints[-1, 0, 2] < -0.5  # lands behind
    for name in ("run", "jump", "roll", "crawl"):
        assert clips[name].joints[-1, 0, 2] - clips[name].joints[0, 0, 2] > 0.5, name


def test_walk_feet_touch_the_floor(clips):
    _, positions = process_joints(clips["walk"].joints)
    feet = positions[:, [JOINT["left_ankle"], JOINT["right_ankle"], JOINT["left_foot"], JOINT["right_foot"]], 1]
    assert feet.min() < 0.03
    # each foot's toe sits near the floor at its lowest (no floating or sunk feet)
    for foot in ("left_foot", "right_foot"):
        assert positions[:, JOINT[foot], 1].min() < 0.05


def test_features_round_trip(clips):
    for name, m in clips.items():
        feats, positions = process_joints(m.joints)
        assert feats.shape == (m.num_frames - 1, 263) and np.isfinite(feats).all()
        assert np.allclose(extract_features(m.joints), feats)
        err = np.abs(recover_joints(feats) - positions[:-1]).max()
        assert err < 1e-5, (name, err)


def test_fk_matches_pybullet():
    p = pytest.importorskip("pybullet")
    frames, _ = dm.read_clip_file(dm.motions_dir() / "humanoid3d_cartwheel.txt")
    frames = frames[::20]  # a handful of varied poses, upside-down ones included
    root_pos, channels = dm.split_channels(frames)
    links = dm.load_urdf_links()
    ours = dm.forward_kinematics(root_pos, channels, links)

    cid = p.connect(p.DIRECT)
    try:
        body = p.loadURDF(str(dm._urdf_path()), useFixedBase=True, globalScaling=dm.URDF_SCALE, physicsClientId=cid)
        index = {p.getJointInfo(body, i, physicsClientId=cid)[12].decode(): i for i in range(p.getNumJoints(body, physicsClientId=cid))}
        wxyz_to_xyzw = [1, 2, 3, 0]
        for t in range(len(frames)):
            p.resetBasePositionAndOrientation(body, root_pos[t], channels["root"][t][wxyz_to_xyzw], physicsClientId=cid)
            for name, values in channels.items():
                if name == "root":
                    continue
                target = values[t][wxyz_to_xyzw] if np.ndim(values[t]) else [values[t]]
                p.resetJointStateMultiDof(body, index[name], target, physicsClientId=cid)
            for name, i in index.items():
                pos = np.array(p.getLinkState(body, i, computeForwardKinematics=True, physicsClientId=cid)[4])
                assert np.allclose(ours[name][0][t], pos, atol=1e-5), (name, t)
    finally:
        p.disconnect(cid)


def test_missing_pybullet(monkeypatch):
    monkeypatch.setitem(sys.modules, "pybullet_data", None)
    with pytest.raises(RuntimeError, match="pip install pybullet"):
        dm.motions_dir()
    with pytest.raises(RuntimeError, match="pybullet is not installed"):
        dm.load_clip("walk")


def test_unknown_clip():
    with pytest.raises(ValueError, match="known: walk, run"):
        dm.load_clip("moonwalk")


def test_resampling_helpers():
    key_times, times = dm.sample_times(np.array([0.05, 0.05, 0.0]), cyclic=False)
    assert np.allclose(key_times, [0.0, 0.05, 0.1]) and np.allclose(times, [0.0, 0.05, 0.1])
    _, times = dm.sample_times(np.array([0.05, 0.05, 0.0]), cyclic=True)
    assert np.allclose(times, [0.0, 0.05])  # the last key frame repeats the first pose
    q0 = np.array([[1.0, 0.0, 0.0, 0.0]])
    q1 = np.array([[np.cos(0.5), 0.0, np.sin(0.5), 0.0]])  # 1 rad about y
    half = dm.slerp(q0, -q1, np.array([0.5]))  # sign flip must not send it the long way round
    assert np.allclose(np.abs(half), [[np.cos(0.25), 0.0, np.sin(0.25), 0.0]])
