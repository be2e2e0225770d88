"""A latent base (denoiser in a motion autoencoder's latent, `pretrain --latent`) runs through the same public calls
as a feature-space one: the train and test_unlearn CLIs, the attack and the few-step distillation. A tiny
autoencoder and a tiny latent denoiser, trained for seconds on the quick MotionBank."""

import json
import shutil

import pytest
import torch

from conftest import TINY_DENOISER, use_checkpoint_root
from motion_lora.model.autoencoder import AE_DIR, AETrainConfig, AutoencoderConfig, train_autoencoder
from motion_lora.model.denoiser import MotionDenoiser
from motion_lora.model.distill import DistillConfig, distill
from motion_lora.model.generator import MotionGenerator, SampleOptions
from motion_lora.model.pretrain import TrainConfig, pretrain
from motion_lora.model.teacher_samples import VAL_FILE
from motion_lora.unlearning import test_unlearn as test_unlearn_cli
from motion_lora.unlearning import train as train_cli
from motion_lora.unlearning.adapters import AdapterSet, base_state_hash
from motion_lora.unlearning.attack import AttackConfig, run_attack
from motion_lora.unlearning.results import load_results

LATENT = 8


@pytest.fixture(scope="module")
def latent_root(quick_bank, tiny_root, tmp_path_factory):
    """A checkpoint root holding t2m/tiny_latent (with its autoencoder/) and the tiny evaluator."""
    data, _ = quick_bank
    root = tmp_path_factory.mktemp("latent_root")
    ae = train_autoencoder(data, root / "ae", AutoencoderConfig(latent_dim=LATENT, width=32, blocks=1),
                           AETrainConfig(steps=60, batch_size=16, window=32, lr=3e-3), log=lambda *_: None)
    pretrain(data, root / "t2m" / "tiny_latent", TINY_DENOISER, TrainConfig(steps=40, batch_size=16, lr=1e-3, warmup=5, ckpt_every=40, latent=str(ae)),
             device="cpu", log=lambda *_: None)
    shutil.copytree(tiny_root / "evaluator", root / "evaluator")
    return root


@pytest.fixture
def latent_checkpoints(latent_root, monkeypatch):
    return use_checkpoint_root(monkeypatch, latent_root)


def test_train_and_test_unlearn_on_a_latent_base(latent_checkpoints):
    base = latent_checkpoints / "t2m" / "tiny_latent"
    assert (base / AE_DIR).is_dir() and MotionDenoiser.load(base).cfg.feature_dim == LATENT
    hash_before = base_state_hash(MotionDenoiser.load(base))
    argv = ["--name", "tiny_latent", "--target_concept", "kick", "--lora_rank", "4", "--lora_alpha", "4", "--iterations", "4", "--batch_size", "2"]
    assert train_cli.main(argv) == 0
    folder = latent_checkpoints / "t2m" / "tiny_latent_LoRA_kick"
    assert json.loads((folder / "adapter.json").read_text())["base_hash"] == hash_before == base_state_hash(MotionDenoiser.load(base))
    small = ["--repeats", "1", "--per_kind", "2", "--per_concept", "1", "--steps", "3"]
    assert test_unlearn_cli.main(["--name", "tiny_latent_LoRA_kick", "--target_concept", "kick"] + small) == 0
    metrics = json.loads((folder / "eval" / "metrics.json").read_text())
    assert 0.0 <= metrics["forget"]["unlearned"]["metrics"]["presence"]["mean"] <= 1.0

    # the generator decodes the steered latent; strength 0 is the base exactly, strength 1 moves it
    gen = MotionGenerator(base)
    adapters = AdapterSet(gen.model)
    adapters.load("kick", folder / "model")
    opts = SampleOptions(frames=40, steps=3)

    def steered(scale):
        with adapters.using({"kick": 1.0}, scale) as model:
            return gen.sample(["a person kicks"], [3], opts, denoise=lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L))

    with adapters.disabled():
        plain = gen.sample(["a person kicks"], [3], opts)
    assert plain.shape == (1, 40, 263)
    assert torch.equal(steered(0.0), plain) and not torch.equal(steered(1.0), plain)

    # the attack samples latents and judges their decoded motion
    results = load_results("tiny_latent")
    cfg = AttackConfig(mode="soft", prompts=2, tokens=2, steps=2, x0_steps=3, ddim_steps=2, eval_seeds=2, sample_steps=3, frames=24, batch=8)
    report = run_attack(results.attack_target(None), config=cfg, concept="kick", prompts=["a person kicks", "someone kicks high"])
    assert len(report.soft.prompts) == 2 and 0.0 <= report.soft.asr <= 1.0 and 0.0 <= report.soft.clean_rate <= 1.0


def test_distilling_a_latent_teacher(latent_root, quick_bank, tmp_path):
    data, _ = quick_bank
    teacher = latent_root / "t2m" / "tiny_latent"
    cfg = DistillConfig(student_steps=2, val_items=4, steps=4, batch_size=4, lr=1e-3, warmup=1, ckpt_every=4, ema=0.9, teacher_steps=3)
    out = distill(teacher, data, tmp_path / "student", cfg, log=lambda *_: None)
    val = torch.load(out / VAL_FILE, weights_only=True)
    # the student learns the teacher's latents (a quarter of the frames, LATENT dims), and decodes like it
    assert all(x.shape == (n, LATENT) for x, n in zip(val["x0"], val["lengths"]))
    assert (out / AE_DIR).is_dir()
    student = MotionGenerator(out)
    x = student.sample(["a person walks"], [0], SampleOptions(frames=40, steps=3, scheduler="unipc", guidance=2.5))
    assert x.shape == (1, 40, 263) and torch.isfinite(x).all()
