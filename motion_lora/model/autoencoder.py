"""A motion autoencoder: HumanML3D features (B, T, 263) <-> a compact latent (B, T/4, 32), trained once without text.

    python -m motion_lora.model.autoencoder --data data/motionbank --out runs/motion_ae --steps 3000

The denoiser can then diffuse in the latent instead of the 263-d features (the design of MLD, Chen et al. 2023,
MotionLCM and SALAD): the decoder carries the fine, high-frequency detail of a pose (the 263 numbers are highly
redundant: positions, rotations and velocities of the same 22 joints), so the denoiser spends its capacity on
which motion happens. One latent frame covers 4 frames, the same stride as the feature denoiser's patches, so a
latent denoiser with patch 1 runs the same transformer at the same token count.

* 1-D convolutions over time: translation-equivariant, so the autoencoder trains on short windows and encodes
  clips of any length (a multiple of 4).
* A variational bottleneck with a small KL weight (1e-4, MLD's choice) keeps the latent smooth, so a denoiser's
  slightly-off latents still decode to plausible motion. Inference uses the mean.
* The latent is standardised per channel over the training data (`z_mean`, `z_std`, stored with the weights),
  so the diffusion sees unit-variance inputs as the feature denoiser does.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..motion.features import FEATURE_DIM
from .checkpoints import read_model_files, save_model_files
from .config_args import add_config_args, config_from_args
from .foot_contact import foot_slide

AE_DIR = "autoencoder"  # a latent checkpoint's autoencoder, beside the denoiser


@dataclass(frozen=True, kw_only=True)
class AutoencoderConfig:
    feature_dim: int = FEATURE_DIM
    latent_dim: int = 32
    width: int = 256
    blocks: int = 2  # residual blocks per resolution
    stages: int = 2  # stride-2 stages: 2**stages frames per latent frame

    @property
    def stride(self) -> int:
        return 2**self.stages


@dataclass(frozen=True, kw_only=True)
class AETrainConfig:
    steps: int = 3000
    batch_size: int = 128
    window: int = 64  # frames per training window (a multiple of the stride)
    lr: float = 1e-3
    kl_weight: float = 1e-4
    vel_weight: float = 1.0  # the frame-to-frame change of the reconstruction must match the clip's too
    # Feet that slide on the clip's contact frames (m^2 per frame, foot_contact.foot_slide), and the weight of the
    # root block (its velocities integrate into the whole trajectory): without them the round trip skated 2.6x
    # the clips (width 128, 2,000 steps), though its feature error was small.
    foot_weight: float = 0.0
    root_weight: float = 1.0
    # Train only the decoder of an --init autoencoder: its latent (encoder and z statistics) stays the same, so a
    # denoiser trained in it stays valid while the decoding improves.
    decoder_only: bool = False
    seed: int = 0
    ckpt_every: int = 500
    max_minutes: float = 0.0  # stop (checkpointed, resumable) after this much wall time; 0: no limit


class ResBlock(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv1 = nn.Conv1d(width, width, 3, padding=1)
        self.conv2 = nn.Conv1d(width, width, 3, padding=1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:  # (B, width, T)
        return h + self.conv2(F.gelu(self.conv1(F.gelu(h))))


class MotionAutoencoder(nn.Module):
    """encode: normalised features (B, T, 263) -> standardised latent (B, T/stride, latent_dim); decode: back."""

    def __init__(self, cfg: AutoencoderConfig = AutoencoderConfig()):
        super().__init__()
        self.cfg = cfg
        w = cfg.width
        down: list[nn.Module] = [nn.Conv1d(cfg.feature_dim, w, 3, padding=1)]
        for _ in range(cfg.stages):
            down += [ResBlock(w) for _ in range(cfg.blocks)] + [nn.Conv1d(w, w, 4, stride=2, padding=1)]
        down += [ResBlock(w), nn.GELU(), nn.Conv1d(w, 2 * cfg.latent_dim, 3, padding=1)]
        self.encoder = nn.Sequential(*down)
        up: list[nn.Module] = [nn.Conv1d(cfg.latent_dim, w, 3, padding=1), ResBlock(w)]
        for _ in range(cfg.stages):
            up += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv1d(w, w, 3, padding=1)] + [ResBlock(w) for _ in range(cfg.blocks)]
        up += [nn.GELU(), nn.Conv1d(w, cfg.feature_dim, 3, padding=1)]
        self.decoder = nn.Sequential(*up)
        self.register_buffer("z_mean", torch.zeros(cfg.latent_dim))
        self.register_buffer("z_std", torch.ones(cfg.latent_dim))

    def moments(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, T, 263) -> mean and log-variance of the raw latent, each (B, T/stride, latent_dim)."""
        if x.shape[1] % self.cfg.stride:
            raise ValueError(f"frames must be a multiple of {self.cfg.stride}, got {x.shape[1]}")
        mu, logvar = self.encoder(x.transpose(1, 2)).transpose(1, 2).chunk(2, dim=-1)
        return mu, logvar.clamp(-20, 10)

    def decode_raw(self, z: torch.Tensor) -> torch.Tensor:
        """(B, n, latent_dim) raw latent -> (B, n * stride, 263)."""
        return self.decoder(z.transpose(1, 2)).transpose(1, 2)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, T, 263) normalised features -> (B, T/stride, latent_dim) standardised latent (the mean)."""
        return (self.moments(x)[0] - self.z_mean) / self.z_std

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, n, latent_dim) standardised latent -> (B, n * stride, 263) normalised features."""
        return self.decode_raw(z * self.z_std + self.z_mean)

    def save(self, directory: str | Path) -> None:
        save_model_files(self.state_dict(), dataclasses.asdict(self.cfg), directory, torch.float32)

    @classmethod
    def load(cls, directory: str | Path, device: str | torch.device = "cpu") -> "MotionAutoencoder":
        config, state = read_model_files(directory, ": not a motion autoencoder", device)
        model = cls(AutoencoderConfig(**config))
        model.load_state_dict(state)
        return model.to(device).eval().requires_grad_(False)


def latent_lengths(lengths: torch.Tensor, stride: int) -> torch.Tensor:
    """(B,) valid frames -> (B,) latent frames that hold at least one valid frame."""
    return (lengths + stride - 1) // stride


@torch.no_grad()
def latent_batch(batch: dict, ae: MotionAutoencoder) -> dict:
    """A training batch (motion (B, T, 263), length (B,)) as its latent batch ((B, T/4, C), latent lengths)."""
    return {**batch, "motion": ae.encode(batch["motion"]), "length": latent_lengths(batch["length"], ae.cfg.stride)}


def reconstruction_loss(model: MotionAutoencoder, x: torch.Tensor, cfg: AETrainConfig, generator: torch.Generator | None = None,
                        norm: tuple[torch.Tensor, torch.Tensor] | None = None) -> tuple[torch.Tensor, dict]:
    """Training loss on windows x (B, W, 263): feature MSE + velocity MSE + KL (+ foot slide, which needs the
    data's mean and std `norm`); also returns its parts."""
    from .pretrain import (
        feature_weights,  # here, not at the top: pretrain imports this module
    )

    mu, logvar = model.moments(x)
    noise = torch.randn(mu.shape, generator=generator).to(mu.device)
    recon = model.decode_raw(mu + (0.5 * logvar).exp() * noise)
    w = feature_weights(cfg.root_weight, x.device) if cfg.root_weight != 1 else 1.0
    mse = (w * (recon - x) ** 2).mean()
    vel = (w * ((recon[:, 1:] - recon[:, :-1]) - (x[:, 1:] - x[:, :-1])) ** 2).mean()
    kl = 0.5 * (mu**2 + logvar.exp() - 1 - logvar).mean()
    loss = mse + cfg.vel_weight * vel + cfg.kl_weight * kl
    parts = {"mse": mse.item(), "vel": vel.item(), "kl": kl.item()}
    if cfg.foot_weight:
        if norm is None:
            raise ValueError("the foot term needs the data's mean and std (norm=)")
        mean, std = norm
        slide = foot_slide(recon * std + mean, x * std + mean, torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)).mean()
        loss = loss + cfg.foot_weight * slide
        parts["foot"] = slide.item()
    return loss, parts


def windows(clips: list[np.ndarray], n: int, window: int, rng: np.random.Generator) -> torch.Tensor:
    """n random windows (n, window, 263) from normalised clips (each (T_i, 263), T_i >= window)."""
    picks = rng.integers(len(clips), size=n)
    out = np.empty((n, window, clips[0].shape[1]), dtype=np.float32)
    for row, i in enumerate(picks):
        start = rng.integers(len(clips[i]) - window + 1)
        out[row] = clips[i][start : start + window]
    return torch.from_numpy(out)


@torch.no_grad()
def latent_statistics(model: MotionAutoencoder, clips: list[np.ndarray], batch: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and std of the raw latent means over whole clips (cut to multiples of the stride)."""
    s = model.cfg.stride
    zs = [model.moments(torch.from_numpy(c[: len(c) // s * s])[None])[0][0] for c in clips]
    z = torch.cat(zs)
    return z.mean(0), z.std(0).clamp(min=1e-4)


def normalised_clips(data: Path, split: str, min_frames: int) -> list[np.ndarray]:
    """Every clip of `split` as normalised features (T, 263), float32; clips shorter than min_frames dropped."""
    from ..data.dataset import load_entries

    mean, std = (np.load(data / f"{n}.npy").astype(np.float32) for n in ("Mean", "Std"))
    seen, clips = set(), []
    for e in load_entries(data, split):
        key = (e.id.split("#")[0], len(e.features))
        if len(e.features) >= min_frames and key not in seen:
            seen.add(key)
            clips.append(((e.features - mean) / std).astype(np.float32))
    return clips


@torch.no_grad()
def round_trip_error(model: MotionAutoencoder, clips: list[np.ndarray], mean: np.ndarray, std: np.ndarray) -> dict:
    """decode(encode(clip)) against the clip: mean squared error in normalised feature units, and the mean
    joint position error in metres (root trajectory included, so drift along the clip counts)."""
    from ..motion.features import denormalize, recover_joints

    s = model.cfg.stride
    mse, mpjpe = [], []
    for c in clips:
        x = torch.from_numpy(c[: len(c) // s * s])[None]
        y = model.decode(model.encode(x))
        mse.append(F.mse_loss(y, x).item())
        joints = [recover_joints(denormalize(a[0].numpy().astype(np.float64), mean, std)) for a in (x, y)]
        mpjpe.append(float(np.linalg.norm(joints[0] - joints[1], axis=-1).mean()))
    return {"feature_mse": float(np.mean(mse)), "joint_error_m": float(np.mean(mpjpe)), "clips": len(mse)}


def train_autoencoder(data: Path, out: Path, model_cfg: AutoencoderConfig, cfg: AETrainConfig, log=print, init: Path | None = None) -> Path:
    """Train (or resume) the autoencoder on `data`'s training clips into `out`; returns `out`. `init`: an
    autoencoder folder to start from (its config wins)."""
    torch.manual_seed(cfg.seed)
    if cfg.window % model_cfg.stride:
        raise ValueError(f"window must be a multiple of {model_cfg.stride}, got {cfg.window}")
    clips = normalised_clips(data, "train", cfg.window)
    val = normalised_clips(data, "val", 2 * model_cfg.stride)
    log(f"{len(clips)} training clips, {len(val)} validation clips")
    if cfg.decoder_only and init is None:
        raise ValueError("--decoder_only fine-tunes the decoder of an --init autoencoder")
    model = MotionAutoencoder.load(init).train().requires_grad_(True) if init is not None else MotionAutoencoder(model_cfg)
    model_cfg = model.cfg
    if cfg.decoder_only:
        model.encoder.requires_grad_(False)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=0.0)
    out.mkdir(parents=True, exist_ok=True)
    state_path, step = out / "train_state.pt", 0
    if state_path.exists():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        step = int(state["step"])
        log(f"resumed from step {step}")
    norm = tuple(torch.from_numpy(np.load(data / f"{n}.npy").astype(np.float32)) for n in ("Mean", "Std"))
    rng = np.random.default_rng(cfg.seed + step)
    generator = torch.Generator().manual_seed(cfg.seed + step)
    started = time.perf_counter()
    log_file = (out / "train_log.jsonl").open("a")
    while step < cfg.steps:
        for group in opt.param_groups:  # cosine decay to 10%
            group["lr"] = cfg.lr * (0.1 + 0.45 * (1 + np.cos(np.pi * step / cfg.steps)))
        loss, parts = reconstruction_loss(model, windows(clips, cfg.batch_size, cfg.window, rng), cfg, generator, norm)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        out_of_time = bool(cfg.max_minutes) and time.perf_counter() - started > 60 * cfg.max_minutes
        if step % 50 == 0:
            log_file.write(json.dumps({"step": step, "loss": loss.item(), **parts, "elapsed": time.perf_counter() - started}) + "\n")
            log_file.flush()
        if step % cfg.ckpt_every == 0 or step == cfg.steps or out_of_time:
            torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step}, state_path.with_suffix(".tmp"))
            state_path.with_suffix(".tmp").replace(state_path)
            log(f"step {step}: loss {loss.item():.4f} (mse {parts['mse']:.4f}, vel {parts['vel']:.4f})")
        if out_of_time:
            log(f"stopped at step {step} after --max_minutes {cfg.max_minutes:g}; run the same command again to resume")
            return out
    model.eval()
    if not cfg.decoder_only:  # the encoder moved: standardise its latent again
        model.z_mean, model.z_std = latent_statistics(model, clips)
    model.save(out)
    mean, std = (np.load(data / f"{n}.npy") for n in ("Mean", "Std"))
    report = {"steps": step, "train_config": dataclasses.asdict(cfg), "model_config": dataclasses.asdict(model_cfg),
              "val": round_trip_error(model, val, mean, std), "train": round_trip_error(model, clips[:200], mean, std),
              "seconds_this_run": round(time.perf_counter() - started, 1)}
    (out / "train_info.json").write_text(json.dumps(report, indent=1) + "\n")
    log(f"validation round trip over {report['val']['clips']} clips: feature MSE {report['val']['feature_mse']:.4f}, "
        f"joint error {100 * report['val']['joint_error_m']:.1f} cm")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motion_lora.model.autoencoder", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="a HumanML3D-layout folder (MotionBank)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--init", type=Path, default=None, help="start from this autoencoder folder (its config wins)")
    add_config_args(p, AETrainConfig)
    add_config_args(p, AutoencoderConfig, skip=("feature_dim",))
    args = p.parse_args(argv)
    if not (args.data / "train.txt").exists():
        print(f"error: {args.data} is not a HumanML3D-layout folder (no train.txt)", file=sys.stderr)
        return 1
    cfg = config_from_args(AETrainConfig, args)
    model_cfg = config_from_args(AutoencoderConfig, args, skip=("feature_dim",))
    try:
        train_autoencoder(args.data, args.out, model_cfg, cfg, init=args.init)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
