"""The checkpoints shipped in checkpoints/ load offline and keep the adapter invariants on the real model."""

import json

import numpy as np
import pytest
import torch

from motion_lora.data.clip import CONCEPTS
from motion_lora.evaluation import physics
from motion_lora.evaluation.evaluator import Evaluator
from motion_lora.model.checkpoints import REPO_ROOT
from motion_lora.model.denoiser import MotionDenoiser
from motion_lora.model.generator import MotionGenerator, SampleOptions
from motion_lora.unlearning.adapters import BASE, AdapterSet, base_state_hash
from motion_lora.unlearning.unlearn import UnlearnConfig

ROOT = REPO_ROOT / "checkpoints"
BASE_DIR = ROOT / "t2m" / "motionbank_base"
SHIPPED = ("kick", "punch", "jump", "wave")


@pytest.fixture(scope="module")
def shipped():
    model = MotionDenoiser.load(BASE_DIR)
    adapters = AdapterSet(model)
    for concept in SHIPPED:
        adapters.load(concept, ROOT / "t2m" / f"motionbank_base_LoRA_{concept}" / "model")
    return adapters


def inputs(B=2):
    """Denoiser inputs in the space the base samples (263 features, or a latent base's latent)."""
    g = torch.Generator().manual_seed(0)
    D = json.loads((BASE_DIR / "config.json").read_text())["feature_dim"]
    return (torch.randn(B, 48, D, generator=g), torch.tensor([40, 600][:B]), torch.randn(B, 6, 384, generator=g),
            torch.ones(B, 6, dtype=torch.bool), torch.nn.functional.normalize(torch.randn(B, 384, generator=g), dim=-1), torch.full((B,), 48))


def test_base_and_evaluator_load_offline_and_generate():
    gen = MotionGenerator(BASE_DIR)
    joints = gen.generate(["a person kicks with the right leg"], [0], SampleOptions(frames=40, steps=4))
    assert joints.shape == (1, 40, 22, 3) and np.isfinite(joints).all()
    evaluator = Evaluator.load(ROOT / "evaluator")
    assert evaluator.config.num_concepts == len(CONCEPTS)
    size = sum(p.stat().st_size for d in (BASE_DIR, ROOT / "evaluator") for p in d.iterdir())
    assert size <= 30 * 2**20, f"base + evaluator are {size / 2**20:.1f} MB"


def test_shipped_adapters_record_rank_alpha_and_the_base_they_were_trained_on(shipped):
    for concept in SHIPPED:
        meta = json.loads((ROOT / "t2m" / f"motionbank_base_LoRA_{concept}" / "adapter.json").read_text())
        assert (shipped.specs[concept].rank, shipped.specs[concept].alpha) == (meta["rank"], meta["alpha"])
        assert meta["base_hash"] == base_state_hash(MotionDenoiser.load(BASE_DIR))


def test_the_shipped_kick_adapter_is_the_default_recipe():
    """The kick adapter the README's figures describe was trained with the library's defaults: what a user gets
    from `python -m motion_lora.train --target_concept kick`."""
    meta = json.loads((ROOT / "t2m" / "motionbank_base_LoRA_kick" / "adapter.json").read_text())
    defaults = UnlearnConfig()
    for key in ("lr", "iterations", "negative_guidance", "preserve_weight", "rollout_steps", "adversarial_tokens", "adversarial_steps", "adversarial_lr", "anchor", "method"):
        assert meta[key] == getattr(defaults, key), key
    assert (meta["rank"], meta["alpha"], meta["targets"]) == (defaults.lora.rank, defaults.lora.alpha, defaults.lora.preset)


def test_invariants_on_the_shipped_kick_adapter(shipped):
    args = inputs()
    with shipped.disabled() as model:
        y0 = model(*args)
    with shipped.using({"kick": 1.0}, 0.0) as model:
        assert torch.equal(model(*args), y0)
    with shipped.using({"kick": 1.0}, 1.0) as model:
        y1 = model(*args)
    assert (y1 - y0).abs().max() > 1e-3
    doubled = tuple(torch.cat([a, a]) for a in args)
    with shipped.mixed({"kick": 1.0}, 1.0) as (model, name):
        out = model(*doubled, adapter_names=[BASE, BASE, name, name])
    assert (out[:2] - y0).abs().max() <= 1e-5 * y0.abs().max()
    assert (out[2:] - y1).abs().max() <= 1e-5 * y1.abs().max()
    layer = shipped.peft.base_model.model.blocks[0].cross_attn.to_v
    x = torch.randn(4, layer.in_features)
    with shipped.disabled():
        base_out = layer(x)
    deltas = {}
    for s in (1.0, 0.5, -0.5):
        with shipped.using({"kick": 1.0}, s):
            deltas[s] = layer(x) - base_out
    assert torch.allclose(deltas[0.5], 0.5 * deltas[1.0], atol=1e-6) and torch.allclose(deltas[-0.5], -0.5 * deltas[1.0], atol=1e-6)


def test_planted_feet_move_only_the_root_and_skate_less():
    gen = MotionGenerator(BASE_DIR)
    prompts, seeds = ["a person walks forward", "someone jogs in a circle", "a man walks forward and turns left"], [0, 1, 2]
    raw = gen.sample(prompts, seeds, SampleOptions(frames=80, steps=6, plant_feet=False))
    planted = gen.sample(prompts, seeds, SampleOptions(frames=80, steps=6))  # planting is the default
    assert torch.allclose(planted, gen.plant(raw))
    changed = set(np.flatnonzero((planted != raw).any(1).any(0).numpy()))
    assert changed and changed <= {1, 2, *range(193, 259)}  # root xz velocity and the joint velocities that follow it
    skating = lambda n: np.mean([physics.foot_skating_ratio(j) for j in gen.to_joints(n)])  # noqa: E731
    assert skating(planted) < skating(raw)
    with pytest.raises(ValueError, match="plant_feet must be True or False"):
        SampleOptions(plant_feet="yes").validated()


def test_the_shipped_autoencoder_round_trips_motion(quick_bank):
    """The latent base's autoencoder gives back MotionBank motion: the quick build's validation clips (DeepMimic and
    procedural motions, kinds it trained on), in the base's own normalisation. Measured: feature MSE 0.014
    (a clip's own mean square there: 0.83), joint error 5.8 cm with the root's drift along the clip included."""
    from motion_lora.model.autoencoder import AE_DIR, MotionAutoencoder, normalised_clips, round_trip_error

    data, _ = quick_bank
    mean, std = (np.load(BASE_DIR / f"{n}.npy").astype(np.float32) for n in ("Mean", "Std"))
    q_mean, q_std = (np.load(data / f"{n}.npy").astype(np.float32) for n in ("Mean", "Std"))
    clips = [(c * q_std + q_mean - mean) / std for c in normalised_clips(data, "val", 40)]
    error = round_trip_error(MotionAutoencoder.load(BASE_DIR / AE_DIR).eval(), clips, mean, std)
    assert error["clips"] >= 20
    assert error["feature_mse"] <= 0.05 and error["joint_error_m"] <= 0.15, error
