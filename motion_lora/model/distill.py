"""Distil a few-step student from the base denoiser: regression onto the teacher's own samples, guidance baked in.

    python -m motion_lora.distill --teacher motionbank_base --data data/motionbank --out runs/student

Every step draws MotionBank training captions and fresh seeded noise z; the teacher samples them at the setting the
student will stand for (the app's defaults: UniPC 12 steps, classifier-free guidance 2.5, feet not planted). The
student, initialised as a copy of the teacher, runs K deterministic DDIM steps from the same z with the caption
alone, and its sample is pulled onto the teacher's (masked MSE on the normalised features of the valid frames),
back-propagated through all K steps; the x0 estimate of every earlier step is pulled onto the teacher's sample too
(`each_step`), so every step aims at the end of the trajectory. Foot planting runs after sampling, on both alike.

The teacher runs online: a fixed pool of (noise, sample) pairs is learnt by heart (on a tiny model, 96 pairs: the
training loss fell 80x while the error on unseen captions and noise fell 1.4x), fresh noise every step is not.
A fixed validation set on val-split captions (never the natural test prompts) is the figure to watch.

Resumable: run the same command again (`train_state.pt` and the exported student every `ckpt_every` steps;
`--max_minutes` stops a run at a checkpoint). Writes into --out: model.safetensors (EMA, float16 like the base),
config.json, student.json (motion_lora.model.student), Mean.npy/Std.npy (the teacher's), val.pt (the validation
samples), train_log.jsonl, train_info.json (wall times).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ..checks import check_number
from .autoencoder import AE_DIR
from .checkpoints import DEFAULT_BASE, resolve_base
from .config_args import add_config_args, config_from_args
from .denoiser import MotionDenoiser, frame_mask
from .diffusion import Schedule, masked_mse
from .generator import DEFAULT_GUIDANCE, MotionGenerator
from .precision import use_bf16
from .pretrain import STATE_FILE, TrainConfig, lr_at, save_atomic, update_ema
from .sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS, Sampler
from .student import StudentSpec, write_student
from .teacher_samples import (
    SEED_BASE,
    draw_items,
    split_prompts,
    teacher_samples,
    validation_set,
)


@dataclass(frozen=True, kw_only=True)
class DistillConfig:
    student_steps: int = 4  # K: DDIM steps of the student
    steps: int = 1000  # optimiser steps (each on batch_size fresh teacher samples)
    batch_size: int = 32
    val_items: int = 64  # teacher samples on val-split captions: the validation figure
    lr: float = 5e-5
    warmup: int = 50
    weight_decay: float = 0.0
    ema: float = 0.995
    grad_clip: float = 1.0
    each_step: float = 1.0  # weight of the earlier steps' x0 estimates in the loss (0: the final sample only)
    ckpt_every: int = 100
    seed: int = 0
    bf16: bool = False  # autocast the student's matmuls where measured faster (precision.use_bf16)
    max_minutes: float = 0.0  # stop this run (checkpointed) after this much wall time; 0: no limit
    guidance: float = DEFAULT_GUIDANCE  # the teacher setting the student stands for
    teacher_scheduler: str = DEFAULT_SCHEDULER
    teacher_steps: int = DEFAULT_STEPS

    def validated(self) -> "DistillConfig":
        for name, low in (
            ("student_steps", 1),
            ("steps", 1),
            ("batch_size", 1),
            ("val_items", 1),
            ("ckpt_every", 1),
            ("warmup", 0),
        ):
            check_number(getattr(self, name), name, low=low, whole=True)
        check_number(self.lr, "lr", above=0)
        check_number(self.each_step, "each_step", low=0)
        check_number(self.max_minutes, "max_minutes", low=0)
        return self


# ------------------------------------------------------------------------------------------ the student


def student_estimates(
    model: MotionDenoiser,
    noise: torch.Tensor,
    text: tuple,
    lengths: torch.Tensor,
    timesteps: list[int],
    schedule: Schedule,
    bf16: bool = False,
) -> list[torch.Tensor]:
    """The x0 estimate (B, T, D) of each of the student's deterministic DDIM steps from `noise` (B, T, D), the
    caption alone (text = tokens, mask, pooled); the last is the student's sample. Differentiable; the same steps as
    Sampler("ddim", K) at sampling (the final step lands on the clean sample)."""
    x, estimates = noise, []
    for j, t in enumerate(timesteps):
        tt = torch.full((x.shape[0],), t, dtype=torch.long)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            v = model(x, tt, *text, lengths).float()
        alpha, sigma = schedule.scales(tt, x)
        x0 = alpha * x - sigma * v
        estimates.append(x0)
        if j + 1 < len(timesteps):
            alpha_next, sigma_next = schedule.scales(torch.full_like(tt, timesteps[j + 1]), x)
            x = alpha_next * x0 + sigma_next * (sigma * x + alpha * v)  # DDIM (eta 0): x0 and the same noise direction
    return estimates


def distill_loss(
    estimates: list[torch.Tensor], target: torch.Tensor, lengths: torch.Tensor, each_step: float
) -> torch.Tensor:
    """Masked MSE of the student's sample against the teacher's (B, T, 263), plus `each_step` x the mean over the
    earlier steps' x0 estimates."""
    valid = frame_mask(lengths, target.shape[1])
    loss = masked_mse(estimates[-1], target, valid)
    if each_step and len(estimates) > 1:
        loss = loss + each_step * torch.stack([masked_mse(e, target, valid) for e in estimates[:-1]]).mean()
    return loss


@torch.no_grad()
def validation_error(
    model: MotionDenoiser, val: dict, encode, noise_of, timesteps: list[int], schedule: Schedule, batch: int = 32
) -> float:
    """Mean masked MSE between the student's samples and the teacher's on the validation set; noise_of(seeds,
    frames) gives the teacher's starting noise of `frames` denoiser frames."""
    was_training = model.training
    model.eval()
    total, frames = 0.0, 0
    for start in range(0, len(val["x0"]), batch):
        idx = range(start, min(start + batch, len(val["x0"])))
        lengths = torch.tensor([val["lengths"][i] for i in idx])
        target = torch.zeros(len(idx), int(lengths.max()), val["x0"][0].shape[-1])
        for row, i in enumerate(idx):
            target[row, : lengths[row]] = val["x0"][i].float()
        noise = noise_of([val["seeds"][i] for i in idx], target.shape[1])
        final = student_estimates(
            model, noise, encode([val["captions"][i] for i in idx]), lengths, timesteps, schedule
        )[-1]
        valid = frame_mask(lengths, target.shape[1])
        total += float((((final - target) ** 2).mean(-1) * valid).sum())
        frames += int(valid.sum())
    model.train(was_training)
    return total / frames


def caption_encoder(text_encoder):
    def encode(captions: list[str]) -> tuple:
        text = text_encoder.encode(captions)
        return text.tokens, text.mask, text.pooled

    return encode


def distill(
    teacher_dir: Path,
    data: Path,
    out: Path,
    cfg: DistillConfig,
    teacher_name: str | None = None,
    resume: bool = True,
    log=print,
) -> Path:
    """Train (or resume) the student of `teacher_dir` into `out`."""
    cfg = cfg.validated()
    torch.manual_seed(cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    teacher = MotionGenerator(teacher_dir)
    if teacher.student is not None:
        raise ValueError(f"{teacher_dir} is a student already: distil from the base")
    for name in ("Mean.npy", "Std.npy"):
        shutil.copyfile(teacher_dir / name, out / name)
    if teacher.autoencoder is not None:  # a latent teacher: the student samples the same latent and decodes alike
        shutil.copytree(teacher_dir / AE_DIR, out / AE_DIR, dirs_exist_ok=True)

    def noise_of(seeds: list[int], frames: int) -> torch.Tensor:  # (B, frames, D), frames in the denoiser's own
        return teacher.noise(seeds, frames * teacher.stride).cpu()

    spec = StudentSpec(
        teacher=teacher_name or str(teacher_dir),
        steps=cfg.student_steps,
        teacher_scheduler=cfg.teacher_scheduler,
        teacher_steps=cfg.teacher_steps,
        guidance=cfg.guidance,
    ).validated()
    timesteps = Sampler(spec.scheduler, spec.steps).timesteps
    val = validation_set(teacher, data, out, cfg)
    prompts = split_prompts(data, "train")
    bf16 = use_bf16(cfg.bf16, torch.device("cpu"), log)
    # the student starts as the teacher, without dropout: it fits a deterministic map, not noisy data
    student = MotionDenoiser(dataclasses.replace(teacher.model.cfg, dropout=0.0))
    student.load_state_dict(teacher.model.state_dict())
    ema = MotionDenoiser(student.cfg)
    ema.load_state_dict(student.state_dict())
    ema.requires_grad_(False)
    opt = torch.optim.AdamW(student.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.99))
    step, seconds, best = 0, {"train": 0.0, "teacher": 0.0}, {"step": 0, "val_error": float("inf")}
    state_path = out / STATE_FILE
    if resume and state_path.exists():
        state = torch.load(state_path, map_location="cpu", weights_only=True)
        if state["distill_config"]["student_steps"] != cfg.student_steps:
            raise ValueError(
                f"{state_path} trains a {state['distill_config']['student_steps']}-step student; "
                "use a new --out or --no-resume"
            )
        student.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        opt.load_state_dict(state["optimizer"])
        step, seconds, best = int(state["step"]), dict(state["seconds"]), dict(state["best"])
        log(f"resumed from step {step}")
    schedule = Schedule()
    encode = caption_encoder(teacher.text_encoder)
    lr_cfg = TrainConfig(lr=cfg.lr, warmup=cfg.warmup, steps=cfg.steps)  # pretrain's warm-up and cosine decay
    log_file = (out / "train_log.jsonl").open("a")
    if step == 0:
        before = validation_error(ema, val, encode, noise_of, timesteps, schedule)
        log(
            f"validation error before distillation (the teacher itself on {spec.steps} DDIM steps, no guidance): "
            f"{before:.4f}"
        )
        log_file.write(json.dumps({"step": 0, "val_error": before}) + "\n")
        best = {"step": 0, "val_error": before}
        export(ema, spec, out)  # until a step beats it, the best student is the teacher's own copy
    started, run_start = time.perf_counter(), dict(seconds)
    student.train()
    while step < cfg.steps:
        t0 = time.perf_counter()
        items = draw_items(
            prompts, cfg.batch_size, np.random.default_rng((cfg.seed, step)), SEED_BASE + step * cfg.batch_size
        )
        target, lengths = teacher_samples(teacher, items, cfg)
        seconds["teacher"] += time.perf_counter() - t0
        noise = noise_of([s for _, s, _ in items], target.shape[1])  # the noise the teacher started from
        for group in opt.param_groups:
            group["lr"] = lr_at(step, lr_cfg)
        estimates = student_estimates(
            student, noise, encode([c for c, _, _ in items]), lengths, timesteps, schedule, bf16
        )
        loss = distill_loss(estimates, target, lengths, cfg.each_step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), cfg.grad_clip)
        opt.step()
        step += 1
        update_ema(ema, student, step, cfg.ema)
        seconds["train"] = run_start["train"] + time.perf_counter() - started
        out_of_time = bool(cfg.max_minutes) and time.perf_counter() - started > 60 * cfg.max_minutes
        record = {"step": step, "loss": loss.item(), "lr": lr_at(step, lr_cfg), "elapsed": seconds["train"]}
        if step % cfg.ckpt_every == 0 or step == cfg.steps or out_of_time:
            record["val_error"] = validation_error(ema, val, encode, noise_of, timesteps, schedule)
            if record["val_error"] < best["val_error"]:  # the exported student is the best on the validation set
                best = {"step": step, "val_error": record["val_error"]}
                export(ema, spec, out)
            save_atomic(
                {
                    "model": student.state_dict(),
                    "ema": ema.state_dict(),
                    "optimizer": opt.state_dict(),
                    "step": step,
                    "seconds": seconds,
                    "best": best,
                    "distill_config": dataclasses.asdict(cfg),
                },
                state_path,
            )
            write_info(out, cfg, spec, step, seconds, val, teacher_dir, best)
            log(
                f"step {step}: loss {loss.item():.4f}, validation error {record['val_error']:.4f}, "
                f"{seconds['train'] / 60:.1f} min ({seconds['teacher'] / 60:.1f} of them the teacher's sampling)"
            )
        if step % 10 == 0 or "val_error" in record:
            log_file.write(json.dumps(record) + "\n")
            log_file.flush()
        if out_of_time:
            log(f"stopped at step {step} after --max_minutes {cfg.max_minutes:g}; run the same command again to resume")
            break
    return out


SHIPPED_FILES = (
    "model.safetensors",
    "config.json",
    "student.json",
    "Mean.npy",
    "Std.npy",
    "train_info.json",
    "train_log.jsonl",
)


def ship(out: Path, folder: Path) -> None:
    """Copy the student's loadable files (not train_state.pt, not the validation samples) into a checkpoint folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in SHIPPED_FILES:
        shutil.copyfile(out / name, folder / name)
    if (out / AE_DIR).is_dir():  # a latent student decodes with its teacher's autoencoder
        shutil.copytree(out / AE_DIR, folder / AE_DIR, dirs_exist_ok=True)


def export(ema: MotionDenoiser, spec: StudentSpec, out: Path) -> None:
    """The EMA weights as the loadable student (float16, like the shipped base), config and student.json."""
    tmp = out / ".export"
    ema.save(tmp, dtype=torch.float16)
    write_student(tmp, spec)
    for name in ("model.safetensors", "config.json", "student.json"):
        os.replace(tmp / name, out / name)
    tmp.rmdir()


def write_info(
    out: Path, cfg: DistillConfig, spec: StudentSpec, step: int, seconds: dict, val: dict, teacher_dir: Path, best: dict
) -> None:
    info = {
        "teacher": spec.teacher,
        "teacher_folder": str(teacher_dir),
        "steps": step,
        "exported": {"step": best["step"], "validation_error": best["val_error"]},
        "samples": step * cfg.batch_size,
        "distill_config": dataclasses.asdict(cfg),
        "student": dataclasses.asdict(spec),
        "train_seconds": round(seconds["train"], 1),
        "teacher_sampling_seconds": round(seconds["teacher"], 1),
        "validation_set_seconds": round(float(val["seconds"]), 1),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
    }
    (out / "train_info.json").write_text(json.dumps(info, indent=1) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m motion_lora.distill", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--teacher", default=DEFAULT_BASE, help="the teacher checkpoint: a name under checkpoints/t2m or a folder"
    )
    p.add_argument(
        "--data",
        type=Path,
        default=Path("data/motionbank"),
        help="a HumanML3D-layout folder: its train captions (val for the validation figure)",
    )
    p.add_argument(
        "--out",
        type=Path,
        required=True,
        help="the student's folder, e.g. runs/student (then copy the exported files to checkpoints/t2m/)",
    )
    p.add_argument(
        "--ship",
        type=Path,
        default=None,
        help="when training is complete, copy the student's files here (e.g. checkpoints/t2m/motionbank_base_student)",
    )
    p.add_argument(
        "--no-resume",
        dest="resume",
        action="store_false",
        help="start the student over (the validation samples are kept)",
    )
    add_config_args(p, DistillConfig)
    args = p.parse_args(argv)
    if not (args.data / "train.txt").exists():
        print(
            f"error: {args.data} is not a HumanML3D-layout folder (no train.txt); "
            "build one with python -m motion_lora.data build",
            file=sys.stderr,
        )
        return 1
    try:
        cfg = config_from_args(DistillConfig, args).validated()
        teacher_dir = resolve_base(args.teacher)
        distill(teacher_dir, args.data, args.out, cfg, teacher_name=args.teacher, resume=args.resume)
        done = json.loads((args.out / "train_info.json").read_text())["steps"] >= cfg.steps
        if args.ship and done:
            ship(args.out, args.ship)
            print(f"shipped the student to {args.ship}")
    except (ValueError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
