"""Side-by-side generation latency: base + steered motion (2 motions, CFG, 196 frames).

    python -m benchmarks.performance.generate [--runs 10] [--adapter kick] [--breakdown]

Prints, in one run, the median over --runs of one side-by-side generation at today's setting (20 DDIM steps)
and at the new default (sampler.DEFAULT_SCHEDULER / DEFAULT_STEPS), in fp32 and, where this CPU has native bf16
(a ~50 ms probe, motion_lora.model.precision; an emulating CPU would take minutes), with bf16 autocast, as one
mixed batch (one forward per step) and as two separate passes, with the ratio today / default, the FLOPs each
needs and the share of this CPU's measured matmul peak. bf16 is also compared with fp32 on the outputs
(max |difference| of the normalised features, same noise). The library samples in fp32 only: bf16 autocast
was removed after this benchmark measured it (too little gain on a CPU without AMX for its output drift), so
here it wraps the whole call to keep that measurement repeatable. --breakdown adds the per-change measurements:
torch threads, the schedulers' own arithmetic, the denoiser forward alone, and the foot planting. Progress lines
go to stderr; the matmul peak is timed for about 0.5 s per precision.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch

from motion_lora.model.generator import SampleOptions
from motion_lora.model.precision import MIN_SPEEDUP, bf16_speedup, matmul_seconds
from motion_lora.model.sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS, SCHEDULERS, Sampler
from motion_lora.serving.service import MotionLab
from motion_lora.unlearning.adapters import BASE

FRAMES = 196
PROMPT = "a person kicks with the right leg"
TODAY = ("ddim", 20)  # the setting before diffusers schedulers


def matmul_peak(dtype: torch.dtype, n: int = 1024, budget_s: float = 0.5) -> float:
    """Measured GFLOP/s of an n x n matmul on this CPU with torch's threads (bounded: about budget_s)."""
    return 2 * n**3 / matmul_seconds(dtype, n=n, budget_s=budget_s) / 1e9


def progress(message: str) -> None:
    print(f"[generate.py] {message}", file=sys.stderr, flush=True)


def median_seconds(fn, runs: int) -> float:
    fn()  # warm-up (allocations, caches)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(fns: dict, runs: int) -> dict:
    """Median seconds of each fn, run in turn (A B C A B C ...) so a change in machine load hits all alike."""
    for fn in fns.values():
        fn()
    times = {k: [] for k in fns}
    for _ in range(runs):
        for k, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - start)
    return {k: statistics.median(v) for k, v in times.items()}


def flops_of(fn) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=10)
    p.add_argument("--adapter", default="kick")
    p.add_argument("--breakdown", action="store_true", help="also measure threads, scheduler arithmetic and the forward alone")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--fp32_only", action="store_true", help="skip the bf16 rows, as on a CPU without native bf16")
    args = p.parse_args()
    lab = MotionLab(evaluator=None)
    name = lab.adapter_name(args.adapter)
    settings = {"today": TODAY, "default": (DEFAULT_SCHEDULER, DEFAULT_STEPS)}

    def options(setting: str) -> SampleOptions:
        scheduler, steps = settings[setting]
        return SampleOptions(frames=FRAMES, steps=steps, scheduler=scheduler).validated()

    def mixed(setting: str, bf16: bool):
        opts = options(setting)

        def run():
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                return lab.sample_pair(PROMPT, 0, opts, {name: 1.0}, 1.0, 0).float()

        return run

    def separate(setting: str, bf16: bool):
        opts = options(setting)

        def run():
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                with lab.adapters.disabled():
                    lab.generator.sample([PROMPT], [0], opts)
                with lab.adapters.using({name: 1.0}, 1.0):
                    lab.generator.sample([PROMPT], [0], opts)

        return run

    # bf16 is timed only where it is native: an emulating CPU would spend minutes on it (24x slower than fp32)
    speedup_probe = bf16_speedup()
    bf16 = speedup_probe >= MIN_SPEEDUP and not args.fp32_only
    precisions = ("fp32", "bf16") if bf16 else ("fp32",)
    progress(f"bf16 matmul probe: {speedup_probe:.2f}x fp32; bf16 {'timed' if bf16 else 'not used'}")
    flops = {s: flops_of(mixed(s, False)) for s in settings}
    peaks = {p: matmul_peak(torch.float32 if p == "fp32" else torch.bfloat16) for p in precisions}
    progress(f"matmul peak measured; timing {len(settings) * len(precisions) * 2} variants x {args.runs} runs")
    fns = {}
    for s in settings:
        for precision in precisions:
            fns[(s, precision, "mixed")] = mixed(s, precision == "bf16")
            fns[(s, precision, "two passes")] = separate(s, precision == "bf16")
    t = interleaved_medians(fns, args.runs)
    bf16_error = {s: (mixed(s, True)() - mixed(s, False)()).abs().max().item() for s in settings} if bf16 else {}

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, load average {os.getloadavg()[0]:.2f}")
    print(f"side-by-side generation: 2 motions x CFG, {FRAMES} frames, adapter {name}; median of {args.runs} interleaved runs")
    print(f"matmul peak fp32 {peaks['fp32']:.0f} GFLOP/s" + (f", bf16 {peaks['bf16']:.0f} GFLOP/s" if bf16 else ""))
    print(f"bf16: {'used' if bf16 else 'not used'} (a bf16 matmul runs at {speedup_probe:.2f}x the fp32 speed on this CPU"
          f"{'; --fp32_only' if args.fp32_only else ''})")
    print("| setting | precision | mixed batch (s) | two passes (s) | two passes / mixed | GFLOP | achieved GFLOP/s | share of peak |")
    print("|---|---|---|---|---|---|---|---|")
    rows = []
    for s, (scheduler, steps) in settings.items():
        for precision in precisions:
            t_mixed, t_sep = t[(s, precision, "mixed")], t[(s, precision, "two passes")]
            achieved = flops[s] / t_mixed / 1e9
            rows.append({"setting": s, "scheduler": scheduler, "steps": steps, "precision": precision, "mixed_s": t_mixed, "two_passes_s": t_sep, "gflop": flops[s] / 1e9, "gflops_per_s": achieved, "share_of_peak": achieved / peaks[precision]})
            print(f"| {s}: {scheduler} {steps} steps | {precision} | {t_mixed:.3f} | {t_sep:.3f} | {t_sep / t_mixed:.2f}x | {flops[s] / 1e9:.1f} | {achieved:.0f} | {achieved / peaks[precision]:.1%} |")
    today, default = t[("today", "fp32", "mixed")], t[("default", "fp32", "mixed")]
    print(f"\nfp32 mixed batch: today {today:.3f} s -> default {default:.3f} s: {today / default:.2f}x faster")
    for s in settings if bf16 else ():
        speedup = t[(s, "fp32", "mixed")] / t[(s, "bf16", "mixed")]
        print(f"bf16 autocast at {s}: {speedup:.2f}x the fp32 speed (bar: 1.3x), max |bf16 - fp32| of the normalised output {bf16_error[s]:.3f}")
    out = {"rows": rows, "today_over_default_fp32": today / default, "bf16_used": bf16, "bf16_matmul_speedup": speedup_probe,
           "bf16_max_abs_error": bf16_error, "peaks": peaks}
    if args.breakdown:
        out["breakdown"] = breakdown(lab, name, settings, args.runs)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    return 0


def breakdown(lab: MotionLab, name: str, settings: dict, runs: int) -> dict:
    """Per-change figures: thread count, the schedulers' own arithmetic, one denoiser forward."""
    result = {}
    opts = SampleOptions(frames=FRAMES, steps=settings["default"][1], scheduler=settings["default"][0]).validated()
    pair = lambda: lab.sample_pair(PROMPT, 0, opts, {name: 1.0}, 1.0, 0)  # noqa: E731
    threads = torch.get_num_threads()
    by_threads = {}
    for n in sorted({1, threads}):
        torch.set_num_threads(n)
        by_threads[n] = median_seconds(pair, runs)
    torch.set_num_threads(threads)
    print("\n| torch threads | side-by-side at the default (s) |\n|---|---|")
    for n, sec in by_threads.items():
        print(f"| {n} | {sec:.3f} |")
    result["threads"] = by_threads
    noise, v = torch.randn(2, FRAMES, 263), torch.randn(2, FRAMES, 263)
    print("\n| scheduler | steps | its own arithmetic per sample (ms; the model call replaced by a constant) |\n|---|---|---|")
    result["scheduler_ms"] = {}
    for scheduler in SCHEDULERS:
        for steps in sorted({settings["today"][1], settings["default"][1]}):
            sec = median_seconds(lambda s=scheduler, n=steps: Sampler(s, n).sample(lambda x, t, i: v, noise), runs)
            result["scheduler_ms"][f"{scheduler}-{steps}"] = 1e3 * sec
            print(f"| {scheduler} | {steps} | {1e3 * sec:.1f} |")
    text = lab.generator.encode([PROMPT, PROMPT])
    x, t = torch.randn(4, FRAMES, 263), torch.full((4,), 500)
    lengths = torch.full((4,), FRAMES)
    with torch.no_grad(), lab.adapters.mixed({name: 1.0}, 1.0) as (model, _):
        forward = lambda: model(x, t, *text, lengths, adapter_names=[BASE, name] * 2)  # noqa: E731
        result["forward_ms"] = 1e3 * median_seconds(forward, runs * 5)
    with torch.no_grad(), lab.adapters.disabled() as base:
        result["forward_base_only_ms"] = 1e3 * median_seconds(lambda: base(x, t, *text, lengths), runs * 5)
    print(f"\none denoiser forward, 4 rows x {FRAMES} frames: mixed batch with the adapter {result['forward_ms']:.1f} ms, base only {result['forward_base_only_ms']:.1f} ms")
    planted = lab.generator.sample([PROMPT] * 2, [0, 1], replace(opts, plant_feet=False))
    result["plant_feet_ms"] = 1e3 * median_seconds(lambda: lab.generator.plant(planted), runs * 5)
    result["side_by_side_s"] = median_seconds(pair, runs)
    print(f"foot planting of the side-by-side's 2 motions: {result['plant_feet_ms']:.1f} ms "
          f"({result['plant_feet_ms'] / 1e3 / result['side_by_side_s']:.1%} of the {result['side_by_side_s']:.3f} s side-by-side)")
    return result


if __name__ == "__main__":
    sys.exit(main())
