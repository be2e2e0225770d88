"""Side-by-side generation latency: base + steered motion (2 motions, CFG, 196 frames, default steps).

    python benchmarks/generate.py [--runs 10] [--adapter kick]

Prints the median over --runs of one side-by-side generation in fp32 and with bf16 autocast, as one mixed
batch (one forward per step) and as two separate passes, with the FLOPs it needs and its share of this
CPU's measured matmul peak.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from motion_lora.generator import SampleOptions  # noqa: E402
from motion_lora.sampler import DEFAULT_STEPS  # noqa: E402
from motion_lora.service import MotionLab  # noqa: E402

FRAMES = 196


def matmul_peak(dtype: torch.dtype, n: int = 2048, reps: int = 10) -> float:
    """Measured GFLOP/s of an n x n matmul on this CPU with torch's threads."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    start = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n**3 * reps / (time.perf_counter() - start) / 1e9


def median_seconds(fn, runs: int) -> float:
    fn()  # warm-up (allocations, caches)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--adapter", default="kick")
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args()
    lab = MotionLab(evaluator=None)
    name = lab.adapter_name(args.adapter)
    prompt = "a person kicks with the right leg"

    def mixed(bf16: bool):
        opts = SampleOptions(frames=FRAMES, steps=args.steps, bf16=bf16).validated()
        return lambda: lab.sample_pair(prompt, 0, opts, {name: 1.0}, 1.0, 0)

    def separate(bf16: bool):
        opts = SampleOptions(frames=FRAMES, steps=args.steps, bf16=bf16).validated()

        def run():
            with lab.adapters.disabled():
                lab.generator.sample([prompt], [0], opts)
            with lab.adapters.using({name: 1.0}, 1.0):
                lab.generator.sample([prompt], [0], opts)

        return run

    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        mixed(False)()
    flops = counter.get_total_flops()
    peaks = {"fp32": matmul_peak(torch.float32), "bf16": matmul_peak(torch.bfloat16)}
    rows = []
    for precision in ("fp32", "bf16"):
        bf16 = precision == "bf16"
        t_mixed = median_seconds(mixed(bf16), args.runs)
        t_sep = median_seconds(separate(bf16), args.runs)
        achieved = flops / t_mixed / 1e9
        rows.append((precision, t_mixed, t_sep, t_sep / t_mixed, achieved, achieved / peaks[precision]))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"side-by-side generation: 2 motions x CFG, {FRAMES} frames, {args.steps} DDIM steps, adapter {name}; median of {args.runs} runs")
    print(f"FLOPs per side-by-side generation: {flops / 1e9:.1f} GFLOP; matmul peak fp32 {peaks['fp32']:.0f} GFLOP/s, bf16 {peaks['bf16']:.0f} GFLOP/s")
    print("| precision | mixed batch (s) | two passes (s) | two passes / mixed | achieved GFLOP/s | share of peak |")
    print("|---|---|---|---|---|---|")
    for precision, t_mixed, t_sep, ratio, achieved, share in rows:
        print(f"| {precision} | {t_mixed:.3f} | {t_sep:.3f} | {ratio:.2f}x | {achieved:.0f} | {share:.1%} |")
    if args.json:
        keys = ("precision", "mixed_s", "two_passes_s", "ratio", "gflops_per_s", "share_of_peak")
        args.json.write_text(json.dumps({"steps": args.steps, "frames": FRAMES, "gflop": flops / 1e9, "peaks": peaks, "rows": [dict(zip(keys, r)) for r in rows]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
