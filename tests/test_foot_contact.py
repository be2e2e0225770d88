"""Foot contact: torch recovery of the feet equals the numpy recovery, only sliding planted feet cost in the loss,
and planting the feet stops the slide by moving the root alone."""

import numpy as np
import torch

from motion_lora.data import procedural
from motion_lora.model.foot_contact import feet_xz, foot_slide, plant_feet
from motion_lora.motion.features import extract_features, recover_joints
from motion_lora.motion.skeleton import FOOT_JOINTS


def walk_features(seed=0, frames=60):
    motion = procedural.sample_motion("walk", np.random.default_rng(seed), source="test", count=6)
    return extract_features(motion.joints)[:frames]  # (frames, 263)


def test_feet_match_the_numpy_recovery():
    feats = np.stack([walk_features(0), walk_features(1)])
    expected = recover_joints(feats)[..., list(FOOT_JOINTS), :][..., [0, 2]]  # (2, 60, 4, 2)
    got = feet_xz(torch.from_numpy(feats)).numpy()
    assert np.abs(got - expected).max() < 1e-9


def test_only_sliding_planted_feet_cost():
    f = torch.from_numpy(walk_features(0)[None])
    valid = torch.ones(1, 60, dtype=torch.bool)
    own = foot_slide(f, f, valid).item()
    gliding = f.clone()
    gliding[..., 2] += 0.05  # 5 cm more forward root velocity per frame: the planted feet now skate
    assert own < 2e-4 and foot_slide(gliding, f, valid).item() > 10 * own
    airborne = f.clone()
    airborne[..., 259:263] = 0.0  # no foot is down in the target: nothing to hold still
    assert foot_slide(gliding, airborne, valid).item() == 0.0
    assert foot_slide(gliding, f, torch.zeros(1, 60, dtype=torch.bool)).item() == 0.0  # padding never counts


def gliding_walk(seed=0, drift=0.03):
    """A walk whose root moves `drift` m per frame further forward than its feet allow: it skates."""
    f = torch.from_numpy(walk_features(seed)[None])
    gliding = f.clone()
    gliding[..., 2] += drift
    return f, gliding


def test_planting_stops_the_slide_of_planted_feet():
    f, gliding = gliding_walk()
    valid = torch.ones(1, 60, dtype=torch.bool)
    before, after = foot_slide(gliding, f, valid).item(), foot_slide(plant_feet(gliding), f, valid).item()
    assert before > 5e-4 and after < 0.1 * before
    assert foot_slide(plant_feet(f), f, valid).item() <= foot_slide(f, f, valid).item() + 1e-9  # a clean walk stays clean


def test_planting_moves_the_root_only():
    _, gliding = gliding_walk(1)
    planted = plant_feet(gliding)
    shift = recover_joints(planted[0].numpy()) - recover_joints(gliding[0].numpy())  # (60, 22, 3)
    assert np.abs(shift[:, 1:] - shift[:, :1]).max() < 1e-9  # every joint of a frame moves alike: the pose is kept
    assert np.abs(shift[..., 1]).max() < 1e-12 and np.abs(shift).max() > 0.01  # horizontally, and it did move
    changed = (planted != gliding).any(1)[0]  # feature dims that changed anywhere
    assert set(np.flatnonzero(changed.numpy())) <= {1, 2, *range(193, 259)}  # root xz velocity and joint velocities
    # the joint velocities moved with the root: each frame's step of the root equals its joints' steps
    vel = planted[0, :-1, 193:259].reshape(-1, 22, 3) - gliding[0, :-1, 193:259].reshape(-1, 22, 3)
    assert torch.allclose(vel, vel[:, :1].expand_as(vel), atol=1e-12)


def test_airborne_motion_is_kept_and_padding_stays_out():
    _, gliding = gliding_walk(2)
    airborne = gliding.clone()
    airborne[..., 259:263] = 0.0  # no foot down: the predicted steps are already the best
    assert torch.allclose(plant_feet(airborne), airborne, atol=1e-12)
    padded = torch.cat([gliding, gliding[:, :20].flip(1)], dim=1)  # 20 frames of padding after the clip
    valid = torch.arange(80)[None] < 60
    out = plant_feet(padded, valid)
    assert torch.allclose(out[:, :60], plant_feet(gliding), atol=1e-9)  # as if the clip were alone
    assert torch.allclose(out[:, 60:], padded[:, 60:], atol=1e-12)
