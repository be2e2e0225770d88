"""Body-part mechanics from joints, and the kinematic captions built on them."""

import dataclasses
import re

import numpy as np
import pytest

from motion_lora.data import augment
from motion_lora.data.captions import caption_motion, segment_facts
from motion_lora.data.clip import Segment, swap_side_words
from motion_lora.data.mechanics import describe_segment
from motion_lora.data.procedural import sample_motion

LIMB_CASES = [("kick", "leg"), ("punch", "arm"), ("wave", "arm"), ("raise_arms", "arm")]


def clip(concept, seed, **overrides):
    return sample_motion(concept, np.random.default_rng(seed), source="t", **overrides)


def without(motion, *keys):
    """The clip with some attributes removed, so captions must rely on what the joints show."""
    segments = [dataclasses.replace(s, attrs={k: v for k, v in s.attrs.items() if k not in keys})
                for s in motion.segments]
    return dataclasses.replace(motion, segments=segments)


def sides_said(text):
    return {w for w in ("left", "right", "both") if re.search(rf"\b{w}\b", text.lower())}


@pytest.mark.parametrize("concept,kind", LIMB_CASES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_measured_limb_is_the_one_that_moves(concept, kind, seed):
    motion = clip(concept, seed, side="left")
    facts = describe_segment(motion.joints, motion.segments[0])
    assert facts[kind]["side"] == "left" and facts["limb"] == f"left_{kind}"
    mirrored = augment.mirror(motion)
    assert describe_segment(mirrored.joints, mirrored.segments[0])[kind]["side"] == "right"


def test_both_arms_are_measured_as_both():
    for concept in ("wave", "raise_arms"):
        motion = clip(concept, 3, side="both")
        assert describe_segment(motion.joints, motion.segments[0])["arm"]["side"] == "both"


@pytest.mark.parametrize("concept,kind", LIMB_CASES)
def test_kinematic_captions_name_the_moving_limb(concept, kind):
    for seed in range(3):
        motion = clip(concept, seed, side="left")
        # No side in the attributes: the captions must take it from the joints ...
        bare = without(motion, "side")
        for text in caption_motion(bare.joints, bare.segments, np.random.default_rng(seed), n=6):
            assert sides_said(text) == {"left"}, text
        # ... and a wrong side in the attributes loses to the measurement.
        wrong = dataclasses.replace(motion, segments=[dataclasses.replace(
            motion.segments[0], attrs={**motion.segments[0].attrs, "side": "right"})])
        for text in caption_motion(wrong.joints, wrong.segments, np.random.default_rng(seed), n=6):
            assert sides_said(text) == {"left"}, text
        # The mirror image says "right", and its captions are the side-swapped captions of the original.
        mirrored = augment.mirror(bare)
        original = caption_motion(bare.joints, bare.segments, np.random.default_rng(seed), n=6)
        flipped = caption_motion(mirrored.joints, mirrored.segments, np.random.default_rng(seed), n=6)
        assert flipped == [swap_side_words(t) for t in original]
        assert all(sides_said(t) == {"right"} for t in flipped)


@pytest.mark.parametrize("concept", ["kick", "punch", "wave", "walk", "turn_around", "side_step", "jump", "squat"])
def test_mechanics_are_heading_invariant(concept):
    motion = clip(concept, 4)
    reference = describe_segment(motion.joints, motion.segments[0])
    for angle in (0.7, 2.0, -2.9):
        turned = augment.rotate_heading(motion, angle)
        facts = describe_segment(turned.joints, turned.segments[0])
        for key in ("limb", "travel", "turn", "count", "speed"):
            assert facts[key] == reference[key], (key, angle)
        for kind in ("arm", "leg"):
            for key in ("side", "height", "direction", "count"):
                assert facts[kind].get(key) == reference[kind].get(key), (kind, key, angle)
        assert abs(facts["turn_degrees"] - reference["turn_degrees"]) < 1.0
        assert abs(facts["distance"] - reference["distance"]) < 1e-6


def test_heights_directions_and_counts():
    kick = clip("kick", 5, side="right", style="side", count=2)
    facts = describe_segment(kick.joints, kick.segments[0])
    assert facts["leg"]["direction"] == "sideways" and facts["count"] == 2
    assert facts["leg"]["height"] in ("knee", "waist", "chest", "head")
    front = clip("kick", 6, side="right", style="front", count=1)
    assert describe_segment(front.joints, front.segments[0])["leg"]["direction"] == "forward"
    punch = clip("punch", 7, side="left", count=3)
    facts = describe_segment(punch.joints, punch.segments[0])
    assert facts["arm"]["direction"] == "forward" and facts["count"] == 3
    raised = clip("raise_arms", 8, side="both", style="up")
    assert describe_segment(raised.joints, raised.segments[0])["arm"]["height"] == "above_head"
    wave = clip("wave", 9, side="right", count=5)
    assert describe_segment(wave.joints, wave.segments[0])["count"] in (5, 6)  # a looped cycle may add one
    jump = clip("jump", 10, count=2, style="up")
    facts = describe_segment(jump.joints, jump.segments[0])
    assert facts["count"] == 2 and facts["travel"] is None
    squat = clip("squat", 11, count=3)
    assert describe_segment(squat.joints, squat.segments[0])["count"] == 3


def test_travel_and_turns_relative_to_the_body():
    back = clip("walk", 12, direction="backward")
    assert describe_segment(back.joints, back.segments[0])["travel"] == "backward"
    forward = clip("walk", 13, direction="forward")
    assert describe_segment(forward.joints, forward.segments[0])["travel"] == "forward"
    for direction in ("left", "right"):
        step = clip("side_step", 14, direction=direction, count=4)
        assert describe_segment(step.joints, step.segments[0])["travel"] == direction
        turn = clip("turn_around", 15, direction=direction)
        facts = describe_segment(turn.joints, turn.segments[0])
        assert facts["turn"] == direction and 150 < abs(facts["turn_degrees"]) < 210


def test_measured_facts_fill_missing_attributes_only():
    walk = clip("walk", 16, direction="backward", speed="slow")
    segment = walk.segments[0]
    measured = describe_segment(walk.joints, segment)
    bare = dataclasses.replace(segment, attrs={})
    assert segment_facts(bare, measured)["direction"] == "backward"
    assert segment_facts(bare, measured)["speed"] == measured["speed"]
    told = dataclasses.replace(segment, attrs={"speed": "fast"})
    assert segment_facts(told, measured)["speed"] == "fast"  # attributes win except for the side


def test_kinematic_captions_say_what_the_clip_does():
    rng = np.random.default_rng(0)
    back = without(clip("walk", 17, direction="backward"), "direction")
    texts = caption_motion(back.joints, back.segments, rng, n=8)
    assert all(re.search(r"backwards?|in reverse|backs up", t.lower()) for t in texts), texts
    raised = without(clip("raise_arms", 18, side="right", style="up"), "side", "style")
    texts = " ".join(caption_motion(raised.joints, raised.segments, rng, n=20)).lower()
    assert "above" in texts or "over" in texts or "overhead" in texts or "up high" in texts


def test_bad_joints_are_rejected_with_a_reason():
    segment = Segment(concept="kick", fine="kick", start=0, end=10)
    with pytest.raises(ValueError, match="shape"):
        describe_segment(np.zeros((10, 21, 3)), segment)
    with pytest.raises(ValueError, match="non-finite"):
        describe_segment(np.full((10, 22, 3), np.nan), segment)
    with pytest.raises(ValueError, match="fewer than 2 frames"):
        describe_segment(np.zeros((10, 22, 3)), Segment(concept="kick", fine="kick", start=9, end=30))


def test_caption_motion_without_joints_uses_attributes():
    segment = Segment(concept="kick", fine="kick_front_left", start=0, end=40, attrs={"side": "left"})
    texts = caption_motion(None, [segment], np.random.default_rng(1), n=5)
    assert len(texts) == 5 and all(sides_said(t) == {"left"} for t in texts)
