"""The motion autoencoder: shapes and persistence, that training actually learns the round trip, and a latent
denoiser trained and sampled end to end through pretrain and MotionGenerator."""

import numpy as np
import pytest
import torch

from motion_lora.model.autoencoder import (AETrainConfig, AutoencoderConfig, MotionAutoencoder, normalised_clips,
                                           round_trip_error, train_autoencoder)

TINY_AE = AutoencoderConfig(latent_dim=8, width=32, blocks=1)


def test_encode_decode_shapes_and_strides():
    ae = MotionAutoencoder(TINY_AE).eval()
    x = torch.randn(3, 40, 263)
    z = ae.encode(x)
    assert z.shape == (3, 10, 8)
    assert ae.decode(z).shape == (3, 40, 263)
    with pytest.raises(ValueError, match="multiple of 4"):
        ae.encode(torch.randn(1, 42, 263))


def test_save_and_load_give_the_same_function(tmp_path):
    torch.manual_seed(0)
    ae = MotionAutoencoder(TINY_AE).eval()
    ae.z_mean, ae.z_std = torch.randn(8), torch.rand(8) + 0.5
    ae.save(tmp_path / "ae")
    again = MotionAutoencoder.load(tmp_path / "ae")
    x = torch.randn(2, 16, 263)
    torch.testing.assert_close(again.decode(again.encode(x)), ae.decode(ae.encode(x)))


@pytest.fixture(scope="module")
def trained_ae(quick_bank, tmp_path_factory):
    data, _ = quick_bank
    out = tmp_path_factory.mktemp("ae")
    train_autoencoder(data, out, TINY_AE, AETrainConfig(steps=300, batch_size=32, window=32, lr=3e-3), log=lambda *_: None)
    return data, out


def test_training_learns_the_round_trip_on_held_out_clips(trained_ae):
    data, out = trained_ae
    val = normalised_clips(data, "val", 8)
    mean, std = np.load(data / "Mean.npy"), np.load(data / "Std.npy")
    before = round_trip_error(MotionAutoencoder(TINY_AE).eval(), val, mean, std)
    after = round_trip_error(MotionAutoencoder.load(out), val, mean, std)
    # stated bound for this tiny model after 300 steps: the features come back within 0.25 of their spread
    assert after["feature_mse"] < 0.25 < before["feature_mse"]
    assert after["joint_error_m"] < 0.5 * before["joint_error_m"]
    z = MotionAutoencoder.load(out).encode(torch.from_numpy(np.concatenate(normalised_clips(data, "train", 8)[:20])[:400])[None])
    assert abs(z.mean().item()) < 0.5 and 0.5 < z.std().item() < 2  # standardised latent


def test_latent_denoiser_trains_and_samples_motion_frames(trained_ae, tmp_path):
    from motion_lora.model.denoiser import DenoiserConfig
    from motion_lora.model.generator import MotionGenerator, SampleOptions
    from motion_lora.model.pretrain import TrainConfig, pretrain

    data, ae_dir = trained_ae
    cfg = TrainConfig(steps=4, batch_size=8, warmup=1, ckpt_every=4, latent=str(ae_dir))
    out = pretrain(data, tmp_path / "latent", DenoiserConfig(d_model=32, n_layers=1, n_heads=2), cfg, device="cpu", log=lambda *_: None)
    gen = MotionGenerator(out)
    assert gen.model.cfg.feature_dim == 8 and gen.model.cfg.patch == 1 and gen.model.cfg.max_frames == 49
    joints = gen.generate(["a person walks"], [0], SampleOptions(frames=40, steps=2))
    assert joints.shape == (1, 40, 22, 3) and np.isfinite(joints).all()
    with pytest.raises(ValueError, match="with --latent"):
        pretrain(data, tmp_path / "bad", DenoiserConfig(), TrainConfig(steps=1, latent=str(ae_dir), foot_weight=1.0), device="cpu")


def test_foot_term_penalises_feet_that_slide_on_contact_frames(quick_bank):
    """An untrained decoder's feet slide on the clip's contact frames: the foot term reports it (and needs the
    normaliser); without a foot weight it is not computed."""
    from motion_lora.model.autoencoder import reconstruction_loss

    data, _ = quick_bank
    clip = torch.from_numpy(normalised_clips(data, "train", 40)[0][:40])[None]
    norm = tuple(torch.from_numpy(np.load(data / f"{n}.npy").astype(np.float32)) for n in ("Mean", "Std"))
    torch.manual_seed(0)
    ae = MotionAutoencoder(TINY_AE)
    cfg = AETrainConfig(foot_weight=100.0)
    _, parts = reconstruction_loss(ae, clip, cfg, torch.Generator().manual_seed(0), norm)
    assert parts["foot"] > 0
    with pytest.raises(ValueError, match="mean and std"):
        reconstruction_loss(ae, clip, cfg)
    assert "foot" not in reconstruction_loss(ae, clip, AETrainConfig())[1]


def test_decoder_only_fine_tuning_keeps_the_latent(trained_ae, tmp_path):
    """A denoiser trained in an autoencoder's latent stays valid: --decoder_only leaves the encoder and the latent
    statistics exactly as they were, and moves the decoder."""
    data, ae_dir = trained_ae
    out = train_autoencoder(data, tmp_path / "dec", TINY_AE, AETrainConfig(steps=20, batch_size=8, window=32, decoder_only=True, foot_weight=10.0),
                            log=lambda *_: None, init=ae_dir)
    before, after = MotionAutoencoder.load(ae_dir), MotionAutoencoder.load(out)
    x = torch.from_numpy(normalised_clips(data, "val", 8)[0][:32])[None]
    assert torch.equal(before.encode(x), after.encode(x))
    assert not torch.equal(before.decode(before.encode(x)), after.decode(after.encode(x)))
    with pytest.raises(ValueError, match="--init"):
        train_autoencoder(data, tmp_path / "bad", TINY_AE, AETrainConfig(steps=1, decoder_only=True))
