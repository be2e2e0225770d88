"""Pretraining throughput: training samples (and real motion frames) per second of the base recipe, per variant.

    python -m benchmarks.performance.pretrain_throughput --data data/motionbank [--steps 20] [--variants today padded ...]

Every variant runs the real training step (`pretrain.training_loss` with the shipped recipe's velocity and
foot-contact terms, AdamW, gradient clipping, EMA) on the shipped model size from a fresh init, for --steps
timed steps after two warm-up steps. Variants run interleaved in rounds, so a change in machine load hits all
alike. Printed: seconds per step, samples/s, real frames/s, the share of the step spent getting the batch
(loading, collating and encoding captions), and each variant's samples/s as a ratio to today's recipe.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.data import DataLoader

from motion_lora.data.dataset import MotionDataset, collate
from motion_lora.model.denoiser import DenoiserConfig, MotionDenoiser
from motion_lora.model.diffusion import Schedule
from motion_lora.model.precision import bf16_speedup, use_bf16
from motion_lora.model.pretrain import LengthBuckets, TrainConfig, crop_to_longest, infinite, training_loss, update_ema
from motion_lora.model.text_encoder import TextEncoder

SHIPPED_MODEL = DenoiserConfig(overlap=2)  # d 256, 4 layers, 4 heads: checkpoints/t2m/motionbank_base
SHIPPED_RECIPE = TrainConfig(batch_size=64, bf16=True, vel_weight=1.0, foot_weight=100.0)


@dataclass(frozen=True, kw_only=True)
class Variant:
    batch_size: int = 64
    buckets: bool = True  # LengthBuckets + crop to the batch's longest clip; False pads every clip to 196 frames
    bf16: bool = True
    workers: int = 0  # DataLoader worker processes


VARIANTS = {
    "today": Variant(),
    "padded": Variant(buckets=False),
    "fp32": Variant(bf16=False),
    "batch128": Variant(batch_size=128),
    "batch256": Variant(batch_size=256),
    "worker1": Variant(workers=1),
}


class Run:
    """One variant's training state: model, EMA, optimiser and an endless batch iterator."""

    def __init__(self, name: str, v: Variant, dataset: MotionDataset, encoder: TextEncoder):
        torch.manual_seed(0)
        self.name, self.v, self.encoder = name, v, encoder
        self.cfg = dataclasses.replace(SHIPPED_RECIPE, batch_size=v.batch_size, bf16=use_bf16(v.bf16, log=lambda m: print(f"[{name}] {m}", file=sys.stderr)))
        if v.buckets:
            lengths = [(min(len(e.features), dataset.max_frames) // 4) * 4 for e in dataset.entries]
            loader = DataLoader(dataset, batch_sampler=LengthBuckets(lengths, v.batch_size, 0), collate_fn=collate, num_workers=v.workers)
        else:
            loader = DataLoader(dataset, batch_size=v.batch_size, shuffle=True, collate_fn=collate, num_workers=v.workers, drop_last=True)
        self.batches = infinite(loader)
        self.model = MotionDenoiser(SHIPPED_MODEL).train()
        self.ema = MotionDenoiser(SHIPPED_MODEL).requires_grad_(False)
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=3e-4, weight_decay=0.01, betas=(0.9, 0.99))
        self.schedule, self.generator = Schedule(), torch.Generator().manual_seed(0)
        self.norm = (torch.from_numpy(dataset.mean), torch.from_numpy(dataset.std))
        self.step_count, self.seconds, self.data_seconds, self.samples, self.frames = 0, 0.0, 0.0, 0, 0

    def step(self, timed: bool = True) -> None:
        start = time.perf_counter()
        batch = next(self.batches)
        batch = crop_to_longest(batch) if self.v.buckets else batch
        text = self.encoder.encode(batch["caption"])
        got = time.perf_counter()
        loss = training_loss(self.model, self.schedule, batch, text, self.cfg, self.generator, norm=self.norm)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        self.step_count += 1
        update_ema(self.ema, self.model, self.step_count, self.cfg.ema)
        if timed:
            self.seconds += time.perf_counter() - start
            self.data_seconds += got - start
            self.samples += len(batch["length"])
            self.frames += int(batch["length"].sum())

    def row(self) -> dict:
        n = max(1, self.step_count - 2)
        return {"variant": self.name, **dataclasses.asdict(self.v), "bf16_used": self.cfg.bf16, "seconds_per_step": self.seconds / n,
                "samples_per_s": self.samples / self.seconds, "frames_per_s": self.frames / self.seconds, "data_share": self.data_seconds / self.seconds}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=Path("data/motionbank"))
    p.add_argument("--steps", type=int, default=20, help="timed steps per variant")
    p.add_argument("--rounds", type=int, default=4, help="the timed steps are split into this many interleaved rounds")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    if "today" not in args.variants:
        args.variants.insert(0, "today")
    if not (args.data / "train.txt").exists():
        print(f"error: {args.data} is not a HumanML3D-layout folder; build MotionBank first (python -m motion_lora.data build)", file=sys.stderr)
        return 1
    dataset = MotionDataset(args.data, "train", seed=0)
    encoder = TextEncoder(cache_size=200_000)
    # Encode every training caption once first: a long run's LRU cache holds them all after a few epochs, so
    # steady-state steps never pay for the text encoder (a short benchmark would, on almost every caption).
    captions = sorted({c for e in dataset.entries for c in e.captions})
    started = time.perf_counter()
    for i in range(0, len(captions), 256):
        encoder.encode(captions[i : i + 256])
    print(f"[pretrain_throughput] {len(captions)} captions encoded in {time.perf_counter() - started:.0f} s (the cache a long run builds)", file=sys.stderr)
    runs = [Run(name, VARIANTS[name], dataset, encoder) for name in args.variants]
    for run in runs:
        for _ in range(2):
            run.step(timed=False)
    per_round = max(1, args.steps // args.rounds)
    for r in range(args.rounds):
        for run in runs:
            for _ in range(per_round):
                run.step()
        print(f"[pretrain_throughput] round {r + 1}/{args.rounds} done", file=sys.stderr, flush=True)
    rows = [run.row() for run in runs]
    today = rows[0]["samples_per_s"]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"bf16 matmul {bf16_speedup():.2f}x fp32, load average {os.getloadavg()[0]:.2f}")
    print(f"model: the shipped base's size ({sum(q.numel() for q in runs[0].model.parameters()) / 1e6:.1f} M parameters); {per_round * args.rounds} timed steps per variant")
    print("| variant | batch | buckets | bf16 | workers | s/step | samples/s | real frames/s | batch share of step | samples/s vs today |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['variant']} | {row['batch_size']} | {row['buckets']} | {row['bf16_used']} | {row['workers']} | {row['seconds_per_step']:.3f} | "
              f"{row['samples_per_s']:.0f} | {row['frames_per_s']:.0f} | {row['data_share']:.1%} | {row['samples_per_s'] / today:.2f}x |")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
