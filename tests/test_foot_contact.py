"""The foot-contact loss: torch recovery of the feet equals the numpy recovery, and only sliding planted feet cost."""

import numpy as np
import torch

from motion_lora.data import procedural
from motion_lora.features import extract_features, recover_joints
from motion_lora.foot_contact import feet_xz, foot_slide
from motion_lora.skeleton import FOOT_JOINTS


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
