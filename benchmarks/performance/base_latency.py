"""Side-by-side latency of two bases at the app's defaults, in one run: base and steered motion of one prompt (196
frames, UniPC 12 steps, guidance 2.5, feet planted) in one mixed batch, each base with its own kick adapter.

    python -m benchmarks.performance.base_latency --bases runs/feature_base checkpoints/t2m/motionbank_base \\
        --adapters runs/feature_base_LoRA_kick checkpoints/t2m/motionbank_base_LoRA_kick [--runs 10]

The calls alternate (A B A B ...) so a change in machine load hits both; prints each median and the ratio of the
second to the first. A latent base runs the same transformer on a quarter of the frames and then its decoder.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from motion_lora.model.generator import MotionGenerator, SampleOptions
from motion_lora.unlearning.adapters import BASE, AdapterSet

PROMPT = "a person kicks with the right leg"


def side_by_side(folder: Path, adapter: Path):
    """A function that makes one side-by-side (2 motions, one forward per step) with this base and adapter."""
    gen = MotionGenerator(folder)
    adapters = AdapterSet(gen.model)
    adapters.load("kick", adapter / "model")
    opts = SampleOptions(frames=196)

    def run() -> torch.Tensor:
        with adapters.mixed({"kick": 1.0}, 1.0) as (model, name):
            rows = [BASE, name] * 2  # conditional rows, then the unconditional ones
            return gen.sample([PROMPT, PROMPT], [0, 0], opts, denoise=lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L, adapter_names=rows))

    return run


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bases", type=Path, nargs=2, required=True)
    p.add_argument("--adapters", type=Path, nargs=2, required=True, help="each base's kick adapter folder")
    p.add_argument("--runs", type=int, default=10)
    args = p.parse_args(argv)
    fns = [side_by_side(b, a) for b, a in zip(args.bases, args.adapters)]
    for fn in fns:
        fn()  # warm-up
    times: list[list[float]] = [[], []]
    for _ in range(args.runs):
        for k, fn in enumerate(fns):
            start = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - start)
    medians = [statistics.median(t) for t in times]
    print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"load average {os.getloadavg()[0]:.2f}; {args.runs} interleaved runs")
    for base, m in zip(args.bases, medians):
        print(f"{base}: side-by-side {m:.3f} s (median)")
    print(f"ratio second / first: {medians[1] / medians[0]:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
