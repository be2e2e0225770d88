"""Procedural kicks, punches, walks and runs measure like real motion capture (gait_stats.REFERENCE_RANGES)."""

from __future__ import annotations

import functools

import numpy as np
import pytest

from motion_lora.data import deepmimic, gait_stats, procedural
from motion_lora.motion.skeleton import FPS, JOINT, retarget

SEEDS = range(12)
# Timings are counted in whole frames, so a real range of 0.15-0.20 s is two frame counts wide; a procedural
# event one frame (0.05 s) outside it is within the measurement's resolution.
FRAME_S = 1.0 / FPS
TIMING = ("duration_s", "extension_s", "retraction_s")
MIN_INSIDE = 0.85  # share of procedural events inside the real range, per measure


@functools.lru_cache(maxsize=None)
def procedural_rows(concept: str) -> tuple[dict, ...]:
    rows = []
    extra = {"direction": "forward"} if concept == "walk" else {}  # the real walks are forward walks
    for seed in SEEDS:
        j = procedural.sample_motion(concept, np.random.default_rng(seed), source="calib", **extra).joints
        if concept == "kick":
            rows += [gait_stats.as_dict(e) for e in gait_stats.kick_events(j)]
        elif concept == "punch":
            rows += [gait_stats.as_dict(e) for e in gait_stats.punch_events(j)]
        else:
            rows.append(gait_stats.as_dict(gait_stats.gait_stats(j)))
    return tuple(rows)


@pytest.mark.parametrize("concept", ["kick", "punch", "walk", "run"])
def test_procedural_measures_fall_inside_real_ranges(concept):
    rows = procedural_rows(concept)
    assert len(rows) >= len(SEEDS), f"too few {concept} events detected: {len(rows)}"
    for measure, (lo, hi) in gait_stats.REFERENCE_RANGES[concept].items():
        if measure in TIMING:
            lo, hi = lo - FRAME_S, hi + FRAME_S
        values = np.array([r[measure] for r in rows])
        values = values[np.isfinite(values)]
        inside = ((values >= lo) & (values <= hi)).mean()
        assert lo <= np.median(values) <= hi, f"{concept} {measure}: median {np.median(values):.3f} outside [{lo}, {hi}]"
        assert inside >= MIN_INSIDE, f"{concept} {measure}: only {inside:.0%} inside [{lo}, {hi}] (values {np.round(values, 2)})"


def test_procedural_kicks_pass_the_kick_check():
    passed = [gait_stats.passes_kick_check(procedural.sample_motion("kick", np.random.default_rng(s), source="k").joints)
              for s in range(20)]
    assert np.mean(passed) >= 0.8, f"kick check passed in {np.mean(passed):.0%} of seeds"


def test_kick_check_accepts_the_real_kick_and_rejects_other_motion():
    assert gait_stats.passes_kick_check(retarget(deepmimic.load_clip("kick").joints))
    for concept in ("walk", "march", "stand", "squat", "punch"):
        j = procedural.sample_motion(concept, np.random.default_rng(0), source="x").joints
        assert not gait_stats.passes_kick_check(j), concept


def test_measures_do_not_depend_on_heading_or_position():
    j = procedural.sample_motion("kick", np.random.default_rng(3), source="x", heading=0.0, position=(0.0, 0.0)).joints
    turned = procedural.sample_motion("kick", np.random.default_rng(3), source="x", heading=2.0, position=(1.0, -3.0)).joints
    for a, b in zip(gait_stats.kick_events(j), gait_stats.kick_events(turned)):
        for key, value in gait_stats.as_dict(a).items():
            assert value == pytest.approx(gait_stats.as_dict(b)[key], abs=1e-6), key
    lifted = j + np.array([0.0, 0.25, 0.0])  # a clip floating above y = 0: heights are above its own floor
    assert gait_stats.kick_events(lifted)[0].peak_foot_height_m == pytest.approx(gait_stats.kick_events(j)[0].peak_foot_height_m)


def test_angles_and_gait_counts_on_known_poses():
    rest = procedural.body_frame_motion("stand", np.random.default_rng(0), style="still")[0]
    knees = gait_stats.knee_angle(rest)
    assert (knees > 145).all() and (knees <= 180).all()  # soft knees, as in real standing capture (150-167)
    assert (gait_stats.hip_angle(rest) < 25).all()  # thighs hang along the trunk (kicks reach 50-115)
    straight = rest.copy()
    for hip, knee, ankle in (("left_hip", "left_knee", "left_ankle"),):
        straight[:, JOINT[knee]] = 0.5 * (straight[:, JOINT[hip]] + straight[:, JOINT[ankle]])
    assert gait_stats.knee_angle(straight)[:, 0] == pytest.approx(180.0)
    j, *_ = procedural.body_frame_motion("walk", np.random.default_rng(1), direction="forward")
    g = gait_stats.gait_stats(j)
    assert g.flight_fraction == 0.0 and g.stride_m > 0.5
    run, *_ = procedural.body_frame_motion("run", np.random.default_rng(1))
    assert gait_stats.gait_stats(run).flight_fraction > 0.2
    with pytest.raises(ValueError, match="touch-downs"):
        gait_stats.gait_stats(rest)


def test_stand_is_registered_and_slash_gesture_are_not():
    assert "stand" in procedural.PROCEDURAL_CONCEPTS
    m = procedural.sample_motion("stand", np.random.default_rng(0), source="s")
    assert m.concept == "stand" and m.fine == "stand_idle" and 60 <= m.num_frames <= 190
    root = m.joints[:, 0]
    assert np.ptp(root[:, [0, 2]], axis=0).max() < 0.15, "standing does not travel"
    assert np.abs(np.diff(m.joints, axis=0)).max() > 1e-4, "idle is not frozen"
    for concept in ("slash", "gesture"):
        assert concept not in procedural.PROCEDURAL_CONCEPTS
        with pytest.raises(ValueError, match=concept):
            procedural.sample_motion(concept, np.random.default_rng(0), source="s")
