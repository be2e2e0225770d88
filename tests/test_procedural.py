"""Quality bars for the procedural motion generators: skeleton, floor, feet, smoothness, labels, sides."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from motion_lora.data import procedural
from motion_lora.data.clip import CONCEPTS, Motion
from motion_lora.motion.skeleton import FOOT_JOINTS, FPS, JOINT, REFERENCE_OFFSETS, bone_lengths

REQUIRED = (
    "walk", "run", "jump", "kick", "punch", "wave", "clap", "raise_arms", "squat", "bow",
    "jumping_jacks", "side_step", "turn_around", "march", "throw", "stretch",
)
CYCLIC = ("walk", "run", "march", "wave", "clap", "jumping_jacks", "side_step")
SEEDS = (0, 1, 2)
CASES = [(c, s) for c in procedural.PROCEDURAL_CONCEPTS for s in SEEDS]
L_ANKLE, R_ANKLE = JOINT["left_ankle"], JOINT["right_ankle"]
L_FOOT, R_FOOT = JOINT["left_foot"], JOINT["right_foot"]


@functools.lru_cache(maxsize=None)
def motion(concept: str, seed: int) -> Motion:
    return procedural.sample_motion(concept, np.random.default_rng(seed), source=f"test_{concept}_{seed}")


@functools.lru_cache(maxsize=None)
def body(concept: str, seed: int = 0, **overrides):
    """Body-frame clip (facing +Z at the origin, left = +X): (joints, fine, attrs, cyclic)."""
    return procedural.body_frame_motion(concept, np.random.default_rng(seed), **overrides)


def test_concepts_cover_the_brief():
    assert set(REQUIRED) <= set(procedural.PROCEDURAL_CONCEPTS)
    assert set(procedural.PROCEDURAL_CONCEPTS) <= set(CONCEPTS)


@pytest.mark.parametrize("concept,seed", CASES)
def test_motion_record(concept, seed):
    m = motion(concept, seed)
    assert m.joints.dtype == np.float64 and m.joints.ndim == 3 and m.joints.shape[1:] == (22, 3)
    assert 20 <= m.num_frames <= 190
    assert np.isfinite(m.joints).all()
    assert m.source == f"test_{concept}_{seed}" and m.real is False
    assert len(m.segments) == 1
    seg = m.segments[0]
    assert seg.concept == concept and seg.fine.startswith(concept)
    assert (seg.start, seg.end) == (0, m.num_frames)
    assert m.cyclic == (concept in CYCLIC)
    for key in ("side", "direction"):
        assert seg.attrs.get(key) in (None, "left", "right", "both", "forward", "backward")
    assert seg.attrs.get("speed") in ("slow", "normal", "fast")
    if "count" in seg.attrs:
        assert isinstance(seg.attrs["count"], int) and seg.attrs["count"] >= 1


@pytest.mark.parametrize("concept,seed", CASES)
def test_bone_lengths_are_exact(concept, seed):
    lengths = bone_lengths(motion(concept, seed).joints)
    expected = np.broadcast_to(np.linalg.norm(REFERENCE_OFFSETS, axis=-1), lengths.shape)  # (T, 22)
    np.testing.assert_allclose(lengths, expected, atol=1e-6)


@pytest.mark.parametrize("concept,seed", CASES)
def test_floor_contact(concept, seed):
    j = motion(concept, seed).joints
    assert j[..., 1].min() >= -1e-6, "a joint goes under the floor"
    lowest_foot = j[:, list(FOOT_JOINTS), 1].min(axis=1)  # (T,)
    if concept in procedural.AIRBORNE_CONCEPTS:
        assert lowest_foot[0] < 0.01 and (lowest_foot < 0.01).mean() > 0.3
    else:
        assert lowest_foot.max() < 0.01, "the person floats while standing"


@pytest.mark.parametrize("concept,seed", CASES)
def test_planted_feet_do_not_slide(concept, seed):
    j = motion(concept, seed).joints
    for ankle, foot in ((L_ANKLE, L_FOOT), (R_ANKLE, R_FOOT)):
        planted = (j[:, foot, 1] < 0.003) & (j[:, ankle, 1] < procedural.ANKLE_HEIGHT + 0.003)  # (T,) flat on the floor
        both = planted[1:] & planted[:-1]
        step = np.linalg.norm(np.diff(j[:, ankle][:, [0, 2]], axis=0), axis=-1)  # (T-1,)
        assert not both.any() or step[both].max() < 0.005


@pytest.mark.parametrize("concept,seed", CASES)
def test_motion_is_smooth(concept, seed):
    j = motion(concept, seed).joints
    speed = np.linalg.norm(np.diff(j, axis=0), axis=-1) * FPS  # (T-1, 22) m/s
    assert speed.max() < 12.0
    accel = np.linalg.norm(np.diff(j, 2, axis=0), axis=-1) * FPS**2
    assert accel.max() < 250.0


@pytest.mark.parametrize("concept", [c for c in CYCLIC])
def test_cyclic_clips_loop(concept):
    for seed in SEEDS:
        j = motion(concept, seed).joints
        rel = j - j[:, :1] * np.array([1.0, 0.0, 1.0])  # remove the horizontal root path
        wrap = np.abs(rel[0] - rel[-1]).max()
        typical = np.abs(np.diff(rel, axis=0)).max()
        assert wrap <= 1.5 * typical + 1e-3


@pytest.mark.parametrize("concept", ["bow", "squat", "raise_arms", "stretch", "throw", "turn_around"])
def test_natural_rest_pose(concept):
    for seed in SEEDS:
        j, *_ = body(concept, seed)
        pose = j[0]
        assert 0.85 <= pose[0, 1] <= 0.95, "standing root height"
        for ankle, foot in ((L_ANKLE, L_FOOT), (R_ANKLE, R_FOOT)):
            assert abs(pose[ankle, 1] - 0.08) < 0.01 and pose[foot, 1] < 0.01
            assert pose[foot, 2] > pose[ankle, 2] + 0.1, "feet point forward"
        for hip, knee, ankle in (("left_hip", "left_knee", "left_ankle"), ("right_hip", "right_knee", "right_ankle")):
            flex = _angle(pose[JOINT[knee]] - pose[JOINT[hip]], pose[JOINT[ankle]] - pose[JOINT[knee]])
            assert 2.0 < flex < 25.0, "knees soft but not crouched"
            assert pose[JOINT[knee], 2] > (pose[JOINT[hip], 2] + pose[JOINT[ankle], 2]) / 2, "knee bends forward"
        for side, s in (("left", 1), ("right", -1)):
            shoulder, elbow, wrist = (pose[JOINT[f"{side}_{n}"]] for n in ("shoulder", "elbow", "wrist"))
            assert 3.0 < _angle(elbow - shoulder, wrist - elbow) < 40.0, "slight elbow bend"
            assert s * (wrist[0] - pose[JOINT[f"{side}_hip"], 0]) > 0.1, "arms hang clear of the hips"
            assert wrist[1] < shoulder[1] - 0.3


def _angle(a, b):
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1, 1))))


def test_idle_frames_are_not_frozen():
    j, *_ = body("bow", 0)
    assert np.abs(j[5] - j[0]).max() > 1e-4  # breathing / sway before the bow starts


def test_random_heading_and_position():
    heads = []
    for seed in range(4):
        j = motion("walk", seed).joints
        across = j[0, JOINT["left_hip"]] - j[0, JOINT["right_hip"]]
        heads.append(np.arctan2(across[2], across[0]))
    assert np.ptp(heads) > 0.3


def test_overrides_and_fine_labels():
    rng = np.random.default_rng(0)
    expect = {
        ("kick", (("side", "left"), ("style", "front"))): "kick_front_left",
        ("kick", (("side", "right"), ("style", "side"))): "kick_side_right",
        ("punch", (("side", "left"), ("style", "jab"))): "punch_jab_left",
        ("punch", (("side", "right"), ("style", "cross"))): "punch_cross_right",
        ("wave", (("side", "both"),)): "wave_both",
        ("walk", (("direction", "backward"),)): "walk_backward",
        ("side_step", (("direction", "left"),)): "side_step_left",
        ("turn_around", (("direction", "right"),)): "turn_around_right",
        ("throw", (("side", "left"),)): "throw_left",
        ("stretch", (("style", "side_bend"), ("side", "right"))): "stretch_side_right",
    }
    for (concept, kw), fine in expect.items():
        m = procedural.sample_motion(concept, rng, source="s", **dict(kw))
        assert m.fine == fine
        for key, value in kw:
            assert m.segments[0].attrs[key] == value
    m = procedural.sample_motion("kick", rng, source="s", count=3, speed="fast")
    assert m.segments[0].attrs["count"] == 3 and m.segments[0].attrs["speed"] == "fast"
    m = procedural.sample_motion("wave", rng, source="s", count=4)
    assert m.segments[0].attrs["count"] == 4


def test_bad_requests_raise():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="backflip"):
        procedural.sample_motion("backflip", rng, source="s")
    with pytest.raises(ValueError, match="colour"):
        procedural.sample_motion("kick", rng, source="s", colour="red")
    with pytest.raises(ValueError, match="side"):
        procedural.sample_motion("kick", rng, source="s", side="both")


def test_sides_are_the_persons_sides():
    # Body frame: the person faces +Z, their left is +X.
    j, *_ = body("kick", 0, side="left", style="side")
    assert j[:, L_ANKLE, 0].max() > 0.5 and j[:, L_ANKLE, 1].max() > 0.4
    assert j[:, R_ANKLE, 1].max() < 0.081
    j, *_ = body("kick", 0, side="right", style="front")
    assert j[:, R_ANKLE, 2].max() > 0.5 and j[:, L_ANKLE, 1].max() < 0.081
    j, *_ = body("wave", 0, side="left")
    assert (j[:, JOINT["left_wrist"], 1] > j[:, JOINT["left_shoulder"], 1] + 0.1).all()
    assert (j[:, JOINT["right_wrist"], 1] < j[:, JOINT["pelvis"], 1]).all()
    j, *_ = body("punch", 0, side="right")
    assert j[:, JOINT["right_wrist"], 2].max() > j[:, JOINT["left_wrist"], 2].max() + 0.15
    j, *_ = body("stretch", 0, style="side_bend", side="left")
    assert (j[:, JOINT["head"], 0] - j[:, 0, 0]).max() > 0.08  # the trunk bends toward +X


def test_left_is_mirror_of_right():
    from motion_lora.motion.skeleton import mirror_joints

    for concept, kw in (("kick", {"style": "side"}), ("punch", {"style": "cross"}), ("throw", {}), ("wave", {})):
        left, *_ = body(concept, 3, side="left", **kw)
        right, *_ = body(concept, 3, side="right", **kw)
        # Same seed -> same timing; bone lengths differ a little between sides, so compare loosely.
        assert np.abs(mirror_joints(right) - left).max() < 0.08, concept


def test_locomotion_directions():
    j, *_ = body("walk", 0, direction="forward")
    assert j[-1, 0, 2] - j[0, 0, 2] > 1.0
    j, *_ = body("walk", 0, direction="backward")
    assert j[-1, 0, 2] - j[0, 0, 2] < -0.5
    j, *_ = body("side_step", 0, direction="left")
    assert j[-1, 0, 0] - j[0, 0, 0] > 0.3
    j, *_ = body("march", 0)
    assert np.abs(j[:, 0, [0, 2]]).max() < 0.05
    assert j[:, [L_ANKLE, R_ANKLE], 1].max() > 0.25, "knees high"


@pytest.mark.parametrize("direction,sign", [("left", 1.0), ("right", -1.0)])
def test_turn_around_turns_half_a_circle(direction, sign):
    for seed in SEEDS:
        j, *_ = body("turn_around", seed, direction=direction)

        def facing(f):
            across = j[f, JOINT["left_hip"]] - j[f, JOINT["right_hip"]]
            return np.arctan2(-across[2], across[0])  # forward = up x across; yaw of +Z is 0

        turned = np.unwrap([facing(f) for f in range(len(j))])
        total = np.degrees(turned[-1] - turned[0])
        assert 150 < sign * total < 210
