"""Pretraining: a batch cropped to its longest clip gives the same loss and gradients as the same batch padded to
196 frames (same samples, same noise on the real frames, every loss term on); rare concepts get their share;
bf16 falls back to fp32 where it is slow; a time budget stops a run that a later run resumes."""

from __future__ import annotations

import json

import torch

from motion_lora.model import precision

from motion_lora.model.denoiser import DenoiserConfig, MotionDenoiser
from motion_lora.model.diffusion import Schedule
from motion_lora.model.pretrain import Draws, TrainConfig, crop_to_longest, draw, training_loss
from motion_lora.model.text_encoder import TextBatch

CFG = TrainConfig(vel_weight=1.0, foot_weight=100.0, cond_drop=0.3)


def tiny_batch(lengths: list[int], frames: int = 196) -> tuple[dict, TextBatch]:
    g = torch.Generator().manual_seed(1)
    motion = torch.zeros(len(lengths), frames, 263)
    for i, n in enumerate(lengths):
        motion[i, :n] = torch.randn(n, 263, generator=g)
    text = TextBatch(torch.randn(len(lengths), 7, 384, generator=g), torch.ones(len(lengths), 7, dtype=torch.bool), torch.randn(len(lengths), 384, generator=g))
    return {"motion": motion, "length": torch.tensor(lengths)}, text


def loss_and_grads(model, batch, text, draws):
    norm = (torch.zeros(263), torch.ones(263) * 0.1)
    model.zero_grad()
    loss = training_loss(model, Schedule(), batch, text, CFG, torch.Generator(), norm=norm, draws=draws)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.parameters() if p.grad is not None]


def test_cropped_batch_equals_padded_batch():
    torch.manual_seed(0)
    model = MotionDenoiser(DenoiserConfig(d_model=32, n_layers=2, n_heads=2, overlap=2, dropout=0.0))
    for p in model.parameters():  # the zero-initialised heads would hide a difference
        if p.dim() > 1 and p.abs().sum() == 0:
            p.data.normal_(0, 0.05)
    padded, text = tiny_batch([48, 100, 72])
    full = draw(Schedule(), padded["motion"], CFG, torch.Generator().manual_seed(3))
    cropped = crop_to_longest(padded)
    longest = cropped["motion"].shape[1]
    assert longest == 100
    short = Draws(full.t, full.noise[:, :longest], full.keep)
    loss_pad, grads_pad = loss_and_grads(model, padded, text, full)
    loss_crop, grads_crop = loss_and_grads(model, cropped, text, short)
    assert torch.allclose(loss_pad, loss_crop, rtol=1e-5, atol=1e-6), (loss_pad, loss_crop)
    for a, b in zip(grads_pad, grads_crop):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)


def test_padding_content_does_not_leak():
    """Garbage in the padding frames changes nothing: the masks hold."""
    torch.manual_seed(0)
    model = MotionDenoiser(DenoiserConfig(d_model=32, n_layers=1, n_heads=2, dropout=0.0))
    batch, text = tiny_batch([40, 80])
    draws = draw(Schedule(), batch["motion"], CFG, torch.Generator().manual_seed(3))
    dirty = {**batch, "motion": batch["motion"].clone()}
    dirty["motion"][0, 40:] = 50.0
    assert torch.allclose(loss_and_grads(model, batch, text, draws)[0], loss_and_grads(model, dirty, text, draws)[0], rtol=1e-5)


def test_balanced_sampling_gives_rare_concepts_their_share():
    import numpy as np

    from motion_lora.model.pretrain import LengthBuckets, balance_weights

    groups = [0] * 90 + [1] * 10
    assert balance_weights(groups, 0.0) is None
    sampler = LengthBuckets([40 + i % 50 for i in range(100)], 10, seed=0, weights=balance_weights(groups, 1.0))
    drawn = np.array([i for _ in range(20) for batch in sampler for i in batch])
    assert len(drawn) == 20 * 100
    assert 0.4 < (drawn >= 90).mean() < 0.6  # the 10 rare clips now fill about half of every epoch
    plain = LengthBuckets([40] * 100, 10, seed=0)
    assert sorted(i for batch in plain for i in batch) == list(range(100))  # without weights: each clip once


def test_pretrain_falls_back_to_fp32_where_bf16_is_slow(quick_bank, tmp_path, monkeypatch):
    from motion_lora.model import pretrain as pt
    from motion_lora.model.denoiser import DenoiserConfig

    monkeypatch.setattr(precision, "bf16_speedup", lambda device="cpu": 0.04)
    lines = []
    data, _ = quick_bank
    out = pt.pretrain(data, tmp_path / "run", DenoiserConfig(d_model=32, n_layers=1, n_heads=2), pt.TrainConfig(steps=2, batch_size=4, bf16=True, ckpt_every=2),
                      device="cpu", log=lines.append)
    info = json.loads((out / "train_info.json").read_text())
    assert info["train_config"]["bf16"] is False
    assert any("using fp32" in line for line in lines)


def test_pretrain_stops_on_its_time_budget_and_resumes(quick_bank, tmp_path):
    from motion_lora.model import pretrain as pt
    from motion_lora.model.denoiser import DenoiserConfig

    data, _ = quick_bank
    model_cfg = DenoiserConfig(d_model=32, n_layers=1, n_heads=2)
    lines = []
    cfg = pt.TrainConfig(steps=10_000, batch_size=4, ckpt_every=10_000, max_minutes=0.001)  # 60 ms
    out = pt.pretrain(data, tmp_path / "run", model_cfg, cfg, device="cpu", log=lines.append)
    stopped = json.loads((out / "train_info.json").read_text())["steps"]
    assert 0 < stopped < 10_000 and any("resume" in line for line in lines)
    assert torch.load(out / pt.STATE_FILE, weights_only=True)["step"] == stopped  # checkpointed where it stopped
    pt.pretrain(data, out, model_cfg, cfg, device="cpu", log=lines.append)
    assert json.loads((out / "train_info.json").read_text())["steps"] > stopped  # the second run adds up


def test_root_weight_scales_only_the_root_block():
    from motion_lora.model.pretrain import feature_weights

    w = feature_weights(10.0)
    assert w.shape == (263,) and w[:4].tolist() == [10.0] * 4 and bool((w[4:] == 1).all())
    torch.manual_seed(0)
    model = MotionDenoiser(DenoiserConfig(d_model=32, n_layers=1, n_heads=2, dropout=0.0))
    batch, text = tiny_batch([40, 80])
    draws = draw(Schedule(), batch["motion"], CFG, torch.Generator().manual_seed(3))
    plain = training_loss(model, Schedule(), batch, text, TrainConfig(), torch.Generator(), draws=draws)
    heavy = training_loss(model, Schedule(), batch, text, TrainConfig(root_weight=10.0), torch.Generator(), draws=draws)
    assert heavy > plain
