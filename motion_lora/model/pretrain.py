"""Pretrain the base text-to-motion denoiser on any HumanML3D-layout folder.

    python -m motion_lora.pretrain --data data/motionbank --out checkpoints/t2m/motionbank_base

Writes into --out: model.safetensors + config.json (EMA weights, what everything else loads),
Mean.npy/Std.npy (the normaliser of the data), train_state.pt (for --resume), train_log.jsonl,
train_info.json. Single process on CPU by default, CUDA when present; several GPUs with
`accelerate launch -m motion_lora.pretrain ...` (the loop goes through accelerate's Accelerator).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import random
import re
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from ..data.captions.perturb import perturb_captions
from ..data.dataset import MotionDataset, collate
from ..motion.features import BLOCKS, FEATURE_DIM
from .autoencoder import AE_DIR, MotionAutoencoder, latent_batch
from .config_args import add_config_args, config_from_args
from .denoiser import DenoiserConfig, MotionDenoiser, frame_mask
from .diffusion import Schedule
from .foot_contact import foot_slide
from .precision import use_bf16
from .text_encoder import TextEncoder

STATE_FILE = "train_state.pt"
# Denoiser fields the command line does not set: fixed by the data (features, frames), or --overlap's own flag
DERIVED_FIELDS = ("feature_dim", "max_frames", "patch", "text_dim", "mlp_ratio", "overlap")


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    steps: int = 20000
    batch_size: int = 64
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup: int = 500
    cond_drop: float = 0.1  # caption dropout for classifier-free guidance
    ema: float = 0.999
    grad_clip: float = 1.0
    min_snr: float = 5.0  # gamma of the loss weighting
    loss_weight: str = "truncated"  # or "min_snr" (Hang et al. 2023), which starves the high-noise steps
    ckpt_every: int = 1000
    seed: int = 0
    bf16: bool = False  # autocast matmuls to bfloat16 where measured faster (precision.use_bf16), else fp32
    exclude_concepts: str = ""  # comma-separated, e.g. "kick": train the retrained-without-the-concept reference
    # Weight of a velocity term (MDM's L_vel, Tevet et al. 2023): the frame-to-frame change of the error must be
    # small too. Without it the errors of neighbouring 4-frame patches are independent, and motion jumps at
    # every patch boundary (5x the joint acceleration of frames inside a patch, measured on the shipped base).
    vel_weight: float = 0.0
    # Weight (per m^2) of the foot-contact term (MDM's L_foot): the x0 estimate's feet must not slide on the frames
    # where the clip's contact labels say they are down (motion_lora.model.foot_contact).
    foot_weight: float = 0.0
    # Weight of the root block (yaw and xz velocity, height: 4 of the 263 dims) in the per-frame loss. At 1 the
    # root is 1.5% of the loss although the whole trajectory, and every jump's flight, hangs on it.
    root_weight: float = 1.0
    # Stop after this much wall time of this run (checkpointed, so a later run resumes; 0: no limit). For fixed
    # time budgets: equal-time ablations, a GPU lease.
    max_minutes: float = 0.0
    # Sampling of rare concepts: clips are drawn with weight count(concept)^-balance (0: the data's own mix).
    balance: float = 0.0
    # Train only the parameters whose names match this regular expression (e.g. "patch_spill" to fit a new
    # overlapping head on a frozen trained model, which then cannot forget what it does); "" trains everything.
    train_only: str = ""
    # A motion autoencoder folder (model/autoencoder.py): diffuse in its latent (B, T/4, 32) instead of the
    # features; the checkpoint then carries the autoencoder and the generator decodes. "" = feature space.
    latent: str = ""
    caption_noise: float = 0.0  # SATO-style paraphrase robustness: P(a caption is reworded), data/captions/perturb.py


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warm-up, then cosine decay to 10% of the peak."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def drop_captions(text, keep: torch.Tensor):
    """Blank the text of rows where keep is False: no real tokens, zero pooled vector."""
    mask = text.mask & keep[:, None]
    pooled = text.pooled * keep[:, None].to(text.pooled.dtype)
    return text.tokens, mask, pooled


@dataclass(frozen=True)
class Draws:
    """The random part of one training step: timesteps (B,), noise (B, T, 263), which captions stay (B,)."""
    t: torch.Tensor
    noise: torch.Tensor
    keep: torch.Tensor


def draw(schedule: Schedule, x0: torch.Tensor, cfg: TrainConfig, generator: torch.Generator) -> Draws:
    """One step's randomness for a batch x0 (B, T, 263), in a fixed order (resumed runs draw the same)."""
    B, device = x0.shape[0], x0.device
    t = torch.randint(0, schedule.num_steps, (B,), generator=generator).to(device)
    noise = torch.randn(x0.shape, generator=generator).to(device)
    keep = (torch.rand(B, generator=generator) >= cfg.cond_drop).to(device)
    return Draws(t, noise, keep)


def training_loss(model, schedule: Schedule, batch: dict, text, cfg: TrainConfig, generator: torch.Generator,
                  norm: tuple[torch.Tensor, torch.Tensor] | None = None, draws: Draws | None = None) -> torch.Tensor:
    """v-prediction loss on one batch; text is the encoded captions (TextBatch); norm the data's (mean, std)
    (263,), needed by the foot-contact term; draws fixes the step's randomness (else drawn from generator)."""
    x0, lengths = batch["motion"], batch["length"]
    B, T, _ = x0.shape
    device = x0.device
    d = draws or draw(schedule, x0, cfg, generator)
    t, noise, keep = d.t, d.noise, d.keep
    tokens, mask, pooled = drop_captions(text, keep)
    x_t = schedule.add_noise(x0, noise, t)
    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cfg.bf16):
        v = model(x_t, t, tokens, mask, pooled, lengths)
    residual = v.float() - schedule.v_target(x0, noise, t)  # (B, T, 263) = (x0 - x0_estimate) / sigma
    valid = frame_mask(lengths, T)  # (B, T)
    weights = feature_weights(cfg.root_weight, device) if cfg.root_weight != 1 else 1.0
    per_clip = ((weights * residual**2).mean(-1) * valid).sum(1) / lengths.clamp(min=1)
    if cfg.vel_weight:
        # the same difference of the x0 estimate's error, at the same timestep weight as the v-loss
        pairs = valid[:, 1:] * valid[:, :-1]
        jumps = ((residual[:, 1:] - residual[:, :-1]) ** 2).mean(-1) * pairs
        per_clip = per_clip + cfg.vel_weight * jumps.sum(1) / (lengths - 1).clamp(min=1)
    if cfg.foot_weight:
        if norm is None:
            raise ValueError("the foot-contact term needs the data's mean and std (norm=)")
        mean, std = (a.to(device) for a in norm)
        abar = schedule.alpha_bar.to(device)[t].float()
        estimate = x0 - (1 - abar).sqrt()[:, None, None] * residual  # the model's x0, normalised
        # Weighted by the SNR (under the v-loss's timestep weight): at high noise the estimate cannot know the
        # clip's step phase, and holding its feet still on the clip's contact frames there only calms the
        # motion. Measured: with a 1/sigma^2 weight instead, 2,000 fine-tuning steps cost 5.5 points of
        # natural-prompt accuracy.
        per_clip = per_clip + cfg.foot_weight * foot_slide(estimate * std + mean, x0 * std + mean, valid) * abar / (1 - abar)
    weight = min_snr_weight(schedule, t, cfg.min_snr) if cfg.loss_weight == "min_snr" else truncated_weight(schedule, t, cfg.min_snr)
    return (weight * per_clip).mean()


def feature_weights(root_weight: float, device: torch.device | str = "cpu") -> torch.Tensor:
    """(263,) per-feature loss weights: root_weight on the root block (dims 0:4), 1 elsewhere."""
    w = torch.ones(FEATURE_DIM, device=device)
    w[: BLOCKS["root_y"].stop] = root_weight
    return w


def truncated_weight(schedule: Schedule, t: torch.Tensor, gamma: float) -> torch.Tensor:
    """v-loss weight min(1, (1 + gamma) / (1 + SNR)): the plain v-loss at high noise (where the text decides
    which motion happens), capped like min-SNR only at low noise."""
    abar = schedule.alpha_bar.to(t.device)[t].float()
    snr = abar / (1 - abar)
    return ((1 + gamma) / (1 + snr)).clamp(max=1.0)


def min_snr_weight(schedule: Schedule, t: torch.Tensor, gamma: float) -> torch.Tensor:
    """Min-SNR-gamma weighting of the v-loss (Hang et al. 2023): min(SNR, gamma) / (SNR + 1).

    The plain v-loss weighs the x0 error by 1 + SNR, which lets the nearly clean timesteps dominate."""
    abar = schedule.alpha_bar.to(t.device)[t].float()
    snr = abar / (1 - abar)
    return snr.clamp(max=gamma) / (snr + 1)


class LengthBuckets(torch.utils.data.Sampler):
    """Batches of clips with similar lengths, in random order: padding to the batch's longest clip then
    wastes little compute (MotionBank clips average ~100 of the 196 frames). With `weights` (one per clip),
    each epoch draws its clips with those probabilities (with replacement) instead of each clip once."""

    def __init__(self, lengths: list[int], batch_size: int, seed: int, weights: np.ndarray | None = None):
        self.lengths, self.batch_size, self.epoch, self.seed = np.asarray(lengths), batch_size, 0, seed
        self.weights = None if weights is None else np.asarray(weights, dtype=float) / np.sum(weights)

    def __iter__(self):
        rng = np.random.default_rng(self.seed + self.epoch)
        self.epoch += 1
        n = len(self.lengths)
        chosen = np.arange(n) if self.weights is None else rng.choice(n, size=n, p=self.weights)
        noisy = self.lengths[chosen] + rng.uniform(0, 8, n)  # vary bucket membership between epochs
        order = chosen[np.argsort(noisy, kind="stable")]
        batches = [order[i : i + self.batch_size].tolist() for i in range(0, n, self.batch_size)]
        for i in rng.permutation(len(batches)):
            yield batches[i]

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)


def balance_weights(groups: list[int], power: float) -> np.ndarray | None:
    """Per-clip sampling weights count(group)^-power: 0 keeps the data's own mix (None), 1 gives every group
    (concept) the same share, 0.5 lies between (rare concepts seen more often)."""
    if not power:
        return None
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    return counts[inverse].astype(float) ** -power


def check_latent(cfg: TrainConfig) -> None:
    """The foot and root terms read features; in a latent there are none to read."""
    if cfg.latent and (cfg.foot_weight or cfg.root_weight != 1):
        raise ValueError("--foot_weight and --root_weight act on the 263 features; with --latent leave them at 0 and 1")


def crop_to_longest(batch: dict) -> dict:
    """Drop the padding frames that no clip in the batch uses."""
    longest = int(batch["length"].max())
    return {**batch, "motion": batch["motion"][:, :longest]}


def infinite(loader):
    while True:
        yield from loader


@torch.no_grad()
def update_ema(ema: nn.Module, model: nn.Module, step: int, rate: float) -> None:
    """Move the EMA weights towards the model's; the decay warms up so the random init fades fast."""
    decay = min(rate, (1 + step) / (10 + step))
    for e, p in zip(ema.parameters(), model.parameters()):
        e.lerp_(p, 1 - decay)


def save_atomic(obj, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def trainable(model: nn.Module, pattern: str) -> list[nn.Parameter]:
    """The parameters to train: all, or those whose names match `pattern` (the rest are frozen)."""
    if not pattern:
        return list(model.parameters())
    chosen = []
    for name, param in model.named_parameters():
        param.requires_grad_(re.match(pattern, name) is not None)
        if param.requires_grad:
            chosen.append(param)
    if not chosen:
        raise ValueError(f"--train_only {pattern!r} matches no parameter of the model")
    return chosen


def export(ema_model: MotionDenoiser, out: Path) -> None:
    """Write the EMA weights as the loadable checkpoint (safetensors + config), atomically per file."""
    tmp = out / ".export"
    ema_model.save(tmp)
    for name in ("model.safetensors", "config.json"):
        os.replace(tmp / name, out / name)
    tmp.rmdir()


def pretrain(data: Path, out: Path, model_cfg: DenoiserConfig, cfg: TrainConfig, device: str = "auto", resume: bool = True, init: Path | None = None,
             init_overlap: int | None = None, log=print) -> Path:
    """Train (or resume) into out. init: a checkpoint folder whose weights start a new run with a fresh
    optimiser and schedule (fine-tuning a shipped model whose train_state.pt is not at hand); init_overlap
    gives that model another head overlap (new weights start at zero, so it starts as the same function)."""
    from accelerate import Accelerator

    accelerator = Accelerator(cpu=device == "cpu", mixed_precision="no")
    dev = accelerator.device
    cfg = dataclasses.replace(cfg, bf16=use_bf16(cfg.bf16, dev, log))
    torch.manual_seed(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("Mean.npy", "Std.npy"):
        shutil.copyfile(data / name, out / name)

    excluded = tuple(c.strip() for c in cfg.exclude_concepts.split(",") if c.strip())
    dataset = MotionDataset(data, "train", seed=cfg.seed, exclude_concepts=excluded)
    if excluded:
        log(f"excluding {', '.join(excluded)}: {len(dataset.entries)} training items remain")
    lengths = [(min(len(e.features), dataset.max_frames) // 4) * 4 for e in dataset.entries]
    weights = balance_weights([e.concept for e in dataset.entries], cfg.balance)  # a composite counts as its main concept
    loader = DataLoader(dataset, batch_sampler=LengthBuckets(lengths, cfg.batch_size, cfg.seed, weights), collate_fn=collate)
    check_latent(cfg)
    if not 0 <= cfg.caption_noise <= 1:
        raise ValueError(f"caption_noise is a probability in [0, 1], got {cfg.caption_noise}")
    ae = MotionAutoencoder.load(cfg.latent, dev) if cfg.latent else None
    if ae is not None and init is None:  # one latent frame per token: the same transformer at the same token count
        model_cfg = dataclasses.replace(model_cfg, feature_dim=ae.cfg.latent_dim, patch=1, overlap=0,
                                        max_frames=model_cfg.max_frames // ae.cfg.stride)
    model = MotionDenoiser.load(init) if init is not None else MotionDenoiser(model_cfg)
    if init is not None and init_overlap is not None and init_overlap != model.cfg.overlap:
        model = model.with_overlap(init_overlap)
    model_cfg = model.cfg
    ema = MotionDenoiser(model_cfg)
    ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.AdamW(trainable(model, cfg.train_only), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    step = 0
    state_path = out / STATE_FILE
    if resume and state_path.exists():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        if state["model_config"] != dataclasses.asdict(model_cfg):
            raise ValueError(f"{state_path} was trained with another model config; use a new --out or --no-resume")
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["optimizer"])
        step = int(state["step"])
        log(f"resumed from step {step}")
    model, opt, loader = accelerator.prepare(model, opt, loader)
    ema.to(dev)
    text_encoder = TextEncoder(device=dev, cache_size=200_000, cache_mb=2048)  # reworded captions are ever new
    schedule = Schedule()
    generator = torch.Generator().manual_seed(cfg.seed + step)
    caption_rng = random.Random(cfg.seed + step)
    norm = (torch.from_numpy(dataset.mean), torch.from_numpy(dataset.std))
    batches = infinite(loader)
    log_file = (out / "train_log.jsonl").open("a")
    started = time.perf_counter()
    bar = tqdm(total=cfg.steps, initial=step, desc="pretrain", disable=not accelerator.is_main_process, mininterval=5)
    model.train()
    out_of_time = False
    while step < cfg.steps and not out_of_time:
        batch = crop_to_longest(next(batches))
        if ae is not None:
            batch = latent_batch(batch, ae)
        text = text_encoder.encode(perturb_captions(list(batch["caption"]), cfg.caption_noise, caption_rng))
        for group in opt.param_groups:
            group["lr"] = lr_at(step, cfg)
        loss = training_loss(model, schedule, batch, text, cfg, generator, norm=norm)
        opt.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        accelerator.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        update_ema(ema, accelerator.unwrap_model(model), step, cfg.ema)
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.4f}")
        out_of_time = bool(cfg.max_minutes) and time.perf_counter() - started > 60 * cfg.max_minutes
        if step % 50 == 0 or step == cfg.steps or out_of_time:
            log_file.write(json.dumps({"step": step, "loss": loss.item(), "lr": lr_at(step, cfg), "elapsed": time.perf_counter() - started}) + "\n")
            log_file.flush()
        if accelerator.is_main_process and (step % cfg.ckpt_every == 0 or step == cfg.steps or out_of_time):
            raw = accelerator.unwrap_model(model)
            save_atomic({"model": raw.state_dict(), "ema": ema.state_dict(), "optimizer": opt.state_dict(), "step": step, "model_config": dataclasses.asdict(model_cfg)}, state_path)
            export(ema, out)
            if ae is not None:
                ae.save(out / AE_DIR)
    bar.close()
    if out_of_time:
        log(f"stopped at step {step} after --max_minutes {cfg.max_minutes:g}; run the same command again to resume")
    info = {
        "data": str(data),
        "steps": step,
        "train_config": dataclasses.asdict(cfg),
        "model_config": dataclasses.asdict(model_cfg),
        "parameters": sum(p.numel() for p in ema.parameters()),
        "seconds_this_run": round(time.perf_counter() - started, 1),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {dev}",
    }
    (out / "train_info.json").write_text(json.dumps(info, indent=1) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m motion_lora.pretrain", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, required=True, help="a HumanML3D-layout folder (MotionBank or HumanML3D)")
    p.add_argument("--out", type=Path, required=True, help="checkpoint folder, e.g. checkpoints/t2m/motionbank_base")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--no-resume", dest="resume", action="store_false", help="start over even if a train_state.pt exists")
    p.add_argument("--init", type=Path, default=None, help="start from this checkpoint folder's weights (fresh optimiser; its model config wins)")
    add_config_args(p, TrainConfig)
    add_config_args(p, DenoiserConfig, skip=DERIVED_FIELDS)
    p.add_argument("--overlap", type=int, default=None,
                   help="frames each token also writes into each neighbouring patch (default 0; with --init: the init's, "
                        "or this value with the new weights at zero)")
    args = p.parse_args(argv)
    if not (args.data / "train.txt").exists():
        print(f"error: {args.data} is not a HumanML3D-layout folder (no train.txt); build one with python -m motion_lora.data build", file=sys.stderr)
        return 1
    cfg = config_from_args(TrainConfig, args)
    try:
        model_cfg = dataclasses.replace(config_from_args(DenoiserConfig, args, skip=DERIVED_FIELDS), overlap=args.overlap or 0)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    pretrain(args.data, args.out, model_cfg, cfg, device=args.device, resume=args.resume, init=args.init, init_overlap=args.overlap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
