"""Denoiser, v-prediction diffusion and the DDIM sampler on a tiny configuration."""

import pytest
import torch

from motion_lora.model.denoiser import DenoiserConfig, MotionDenoiser, frame_mask, token_mask
from motion_lora.model.diffusion import Schedule, masked_mse
from motion_lora.model.sampler import Sampler, seeded_noise

TINY = DenoiserConfig(d_model=32, n_layers=2, n_heads=2, max_frames=48, dropout=0.0)


def text_batch(B, L=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randn(B, L, 384, generator=g)
    mask = torch.ones(B, L, dtype=torch.bool)
    pooled = torch.nn.functional.normalize(torch.randn(B, 384, generator=g), dim=-1)
    return tokens, mask, pooled


def randomised(model):
    """Zero-initialised output layers make a fresh model output 0; give them weights for the tests."""
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.abs().sum() == 0 and p.dim() > 1:
                p.normal_(0, 0.02)
    return model.eval()


def test_attention_projections_are_plain_linear_layers():
    model = MotionDenoiser(TINY)
    names = {n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    for i in range(TINY.n_layers):
        for kind in ("self_attn", "cross_attn"):
            for proj in ("to_q", "to_k", "to_v", "to_out"):
                assert f"blocks.{i}.{kind}.{proj}" in names


def test_output_shape_and_length_masking():
    model = randomised(MotionDenoiser(TINY))
    x = torch.randn(2, 48, 263)
    lengths = torch.tensor([48, 20])
    v = model(x, torch.tensor([10, 500]), *text_batch(2), lengths)
    assert v.shape == x.shape
    # frames past a clip's length must not influence its valid frames
    x2 = x.clone()
    x2[1, 24:] = torch.randn(24, 263)
    v2 = model(x2, torch.tensor([10, 500]), *text_batch(2), lengths)
    assert torch.allclose(v[1, :20], v2[1, :20], atol=1e-5)


def test_text_changes_output_and_unconditional_ignores_tokens():
    model = randomised(MotionDenoiser(TINY))
    x, t, L = torch.randn(1, 48, 263), torch.tensor([300]), torch.tensor([48])
    tok_a, mask, pooled_a = text_batch(1, seed=1)
    tok_b, _, pooled_b = text_batch(1, seed=2)
    assert not torch.allclose(model(x, t, tok_a, mask, pooled_a, L), model(x, t, tok_b, mask, pooled_b, L))
    none = torch.zeros_like(mask)
    zeros = torch.zeros_like(pooled_a)
    assert torch.allclose(model(x, t, tok_a, none, zeros, L), model(x, t, tok_b, none, zeros, L))


def test_bad_frame_count_is_a_clear_error():
    model = MotionDenoiser(TINY)
    with pytest.raises(ValueError, match="multiple of 4"):
        model(torch.randn(1, 10, 263), torch.tensor([1]), *text_batch(1), torch.tensor([10]))


def test_save_load_round_trip(tmp_path):
    model = randomised(MotionDenoiser(TINY))
    model.save(tmp_path)
    loaded = MotionDenoiser.load(tmp_path)
    assert loaded.cfg == TINY
    x, t, L = torch.randn(1, 48, 263), torch.tensor([3]), torch.tensor([48])
    assert torch.equal(model(x, t, *text_batch(1), L), loaded(x, t, *text_batch(1), L))


def test_half_precision_checkpoint_loads_as_float32(tmp_path):
    model = randomised(MotionDenoiser(TINY))
    model.save(tmp_path, dtype=torch.float16)
    loaded = MotionDenoiser.load(tmp_path)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    for (name, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.allclose(a, b, rtol=1e-3, atol=1e-4), name


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a denoiser checkpoint"):
        MotionDenoiser.load(tmp_path / "nothing")


def test_v_parameterisation_identities():
    s = Schedule()
    x0, eps = torch.randn(3, 8, 263), torch.randn(3, 8, 263)
    t = torch.tensor([0, 500, 999])
    x_t = s.add_noise(x0, eps, t)
    v = s.v_target(x0, eps, t)
    assert torch.allclose(s.predict_x0(x_t, v, t), x0, atol=1e-5)
    assert torch.allclose(s.predict_eps(x_t, v, t), eps, atol=1e-5)
    assert s.alpha_bar[0] > 0.99 and s.alpha_bar[-1] < 1e-3


def test_ddim_with_the_true_v_recovers_x0():
    s = Schedule()
    x0 = torch.randn(2, 8, 263)
    noise = torch.randn_like(x0)
    sampler = Sampler("ddim", 10)

    def oracle(x, t, i):  # the exact v for a single known x0
        alpha, sigma = s.scales(t, x)
        eps = (x - alpha * x0) / sigma
        return alpha * eps - sigma * x0

    assert torch.allclose(sampler.sample(oracle, noise), x0, atol=1e-4)


def test_timesteps_and_noise():
    assert Sampler("ddim", 4).timesteps == [999, 749, 499, 249]
    with pytest.raises(ValueError, match="steps"):
        Sampler("ddim", 0)
    a = seeded_noise([1, 2], 40, 263)
    assert torch.equal(a, seeded_noise([1, 2], 40, 263))
    assert not torch.equal(a[0], a[1])
    assert torch.equal(seeded_noise([1], 20, 263)[0], a[0, :20])  # a seed's noise does not depend on length


def test_masks_and_masked_loss():
    assert token_mask(torch.tensor([4, 5]), 3, 4).tolist() == [[True, False, False], [True, True, False]]
    m = frame_mask(torch.tensor([2]), 4)
    pred, target = torch.zeros(1, 4, 3), torch.ones(1, 4, 3)
    target[0, 2:] = 100.0  # padding is ignored
    assert masked_mse(pred, target, m).item() == pytest.approx(1.0)


def test_loss_weightings():
    from motion_lora.model.pretrain import min_snr_weight, truncated_weight

    s = Schedule()
    t = torch.tensor([0, 300, 700, 999])
    m, tr = min_snr_weight(s, t, 5.0), truncated_weight(s, t, 5.0)
    assert m[-1] < 0.01 and tr[-1] == 1.0  # high noise: min-SNR nearly ignores it, truncated keeps the v-loss
    assert m[0] < 1e-3 and tr[0] < 1e-3  # low noise: both capped, ~gamma / SNR
    assert (tr <= 1).all() and (m <= 1).all()


def test_velocity_term_penalises_jumps_not_offsets():
    """MDM's L_vel on the x0 error: an error constant in time costs nothing extra, one that flips sign at every
    frame (the patch-boundary jumps it is there for) does; padding frames never count."""
    from motion_lora.model.pretrain import TrainConfig, training_loss

    s = Schedule()
    B, T = 3, 12
    batch = {"motion": torch.randn(B, T, 263, generator=torch.Generator().manual_seed(0)), "length": torch.tensor([12, 8, 5])}
    text = type("Text", (), {"tokens": torch.zeros(B, 1, 384), "mask": torch.ones(B, 1, dtype=torch.bool), "pooled": torch.zeros(B, 384)})()

    def model_with_error(error):  # a "model" whose v is the target plus a given error (B, T, 263)
        def model(x_t, t, *_):
            return error + (s.alpha_bar.sqrt()[t].view(-1, 1, 1) * x_t - batch["motion"]) / (1 - s.alpha_bar[t]).sqrt().view(-1, 1, 1)
        return model

    def loss(error, vel_weight):
        cfg = TrainConfig(vel_weight=vel_weight, loss_weight="min_snr")
        return training_loss(model_with_error(error), s, batch, text, cfg, torch.Generator().manual_seed(3)).item()

    offset = torch.full((B, T, 263), 0.5)
    flipping = offset * (-1.0) ** torch.arange(T).view(1, T, 1)
    assert loss(offset, 1.0) == pytest.approx(loss(offset, 0.0), rel=1e-4)
    assert loss(flipping, 0.0) == pytest.approx(loss(offset, 0.0), rel=1e-4)  # same size of error, frame by frame
    assert loss(flipping, 1.0) > 4 * loss(flipping, 0.0)  # each jump is twice the error: 4x its square
    spiky_padding = offset.clone()
    spiky_padding[2, 5:] = 100.0
    assert loss(spiky_padding, 1.0) == pytest.approx(loss(offset, 1.0), rel=1e-4)

    # the foot-contact term adds to the loss (random clips slide on their "contact" frames) and needs the normaliser
    norm = (torch.zeros(263), torch.ones(263))
    with_feet = training_loss(model_with_error(offset), s, batch, text, TrainConfig(foot_weight=10.0, loss_weight="min_snr"), torch.Generator().manual_seed(3), norm=norm)
    assert with_feet.item() > loss(offset, 0.0)
    with pytest.raises(ValueError, match="mean and std"):
        training_loss(model_with_error(offset), s, batch, text, TrainConfig(foot_weight=10.0), torch.Generator().manual_seed(3))


OVERLAP = DenoiserConfig(d_model=32, n_layers=2, n_heads=2, max_frames=48, dropout=0.0, overlap=2)


def test_overlap_head_starts_as_the_same_function_and_round_trips(tmp_path):
    base = randomised(MotionDenoiser(TINY))
    x, t, L = torch.randn(2, 48, 263), torch.tensor([3, 700]), torch.tensor([48, 30])
    grown = base.with_overlap(2)
    assert grown.cfg == OVERLAP and torch.equal(base(x, t, *text_batch(2), L), grown(x, t, *text_batch(2), L))
    with torch.no_grad():
        grown.patch_spill.weight.normal_(0, 0.05)
    grown.save(tmp_path)
    loaded = MotionDenoiser.load(tmp_path)
    assert loaded.cfg == OVERLAP and torch.equal(grown(x, t, *text_batch(2), L), loaded(x, t, *text_batch(2), L))
    with pytest.raises(ValueError, match="overlap must be between 0 and the patch size 4"):
        DenoiserConfig(overlap=5)


def test_overlap_head_writes_only_into_neighbouring_frames_and_ignores_padding():
    model = MotionDenoiser(OVERLAP)
    with torch.no_grad():
        model.patch_spill.weight.normal_(0, 0.05)
    model.eval()
    tokens = torch.zeros(1, 12, 32)  # 12 tokens of a 48-frame clip; only token 5 (frames 20..23) says anything
    tokens[0, 5] = torch.randn(32, generator=torch.Generator().manual_seed(0))
    written = model._spill(model.patch_spill(tokens), 12).reshape(48, 263).abs().sum(-1)
    assert torch.nonzero(written).flatten().tolist() == [18, 19, 24, 25]  # the 2 frames either side of its patch
    # padding tokens spill nothing into a clip's valid frames
    x = torch.randn(1, 48, 263)
    lengths = torch.tensor([20])
    v = model(x, torch.tensor([100]), *text_batch(1), lengths)
    x2 = x.clone()
    x2[0, 20:] = torch.randn(28, 263)
    assert torch.allclose(v[0, :20], model(x2, torch.tensor([100]), *text_batch(1), lengths)[0, :20], atol=1e-5)


def test_train_only_freezes_everything_else():
    from motion_lora.model.pretrain import trainable

    model = MotionDenoiser(OVERLAP)
    chosen = trainable(model, "patch_spill")
    assert chosen == [model.patch_spill.weight, model.patch_spill.bias]
    assert not any(p.requires_grad for n, p in model.named_parameters() if not n.startswith("patch_spill"))
    assert len(trainable(MotionDenoiser(TINY), "")) == len(list(MotionDenoiser(TINY).parameters()))
    with pytest.raises(ValueError, match="matches no parameter"):
        trainable(MotionDenoiser(TINY), "patch_spill")
