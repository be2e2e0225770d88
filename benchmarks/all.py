"""The performance table of docs/performance.md: runs seven scripts of benchmarks/performance one after another
(each alone on the machine, in its own process) and collects what they measured.

    python -m benchmarks.all [--load_seconds 60] [--load_users 16] [--skip load unlearn ...] [--out benchmarks/results]

The seven: generate (--runs 10), player, app_latency, slider, unlearn, load and video. Not run here: soak and
memory_trace (long memory runs), pretrain_throughput (it needs --data), and everything in experiments/ and
calibration/ (quality, not speed); each of those runs on its own. Every script also runs alone and prints its
detailed table; their JSON lands in --out. Skipped scripts contribute the figures of their last run stored there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# name in the table and in --skip -> the module (benchmarks.<module>) and its arguments
SCRIPTS = {
    "generate": ["performance.generate", "--runs", "10"],
    "player": ["performance.player"],
    "app": ["performance.app_latency"],
    "slider": ["performance.slider"],
    "unlearn": ["performance.unlearn"],
    "load": ["performance.load"],
    "video": ["performance.video"],
}


def run_script(name: str, out: Path, extra: list[str]) -> dict | list | None:
    path = out / f"{name}.json"
    path.unlink(missing_ok=True)  # a failed run must not leave the previous figures in place
    cmd = [sys.executable, "-m", f"benchmarks.{SCRIPTS[name][0]}", *SCRIPTS[name][1:], *extra, "--json", str(path)]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=HERE.parent, env={**os.environ, "HF_HUB_OFFLINE": "1"}, capture_output=True, text=True)
    (out / f"{name}.txt").write_text(done.stdout + done.stderr[-4000:])
    print(f"  {name}: {time.perf_counter() - started:.0f} s{'' if path.exists() else ' (failed, see ' + str(out / (name + '.txt')) + ')'}", file=sys.stderr)
    return json.loads(path.read_text()) if path.exists() else None


def rows(r: dict) -> list[tuple[str, str, str]]:
    """(figure, value, goal) rows from the collected results."""
    out = []
    if g := r.get("generate"):
        by = {(row["setting"], row["precision"]): row for row in g["rows"]}
        today, default = by[("today", "fp32")], by[("default", "fp32")]
        out.append((f"side-by-side generation, fp32, mixed batch: default {default['scheduler']} {default['steps']} steps / today's {today['scheduler']} {today['steps']} steps",
                    f"{default['mixed_s']:.3f} / {today['mixed_s']:.3f} s ({g['today_over_default_fp32']:.2f}x faster)", "<= 0.15 s"))
        out.append(("  two separate passes / mixed batch (fp32, default)", f"{default['two_passes_s'] / default['mixed_s']:.2f}x", "> 1"))
        if bf16 := by.get(("default", "bf16")):
            out.append(("  bf16 autocast speed-up at the default (removed from the library); max output difference", f"{default['mixed_s'] / bf16['mixed_s']:.2f}x; {g['bf16_max_abs_error']['default']:.3f}", ">= 1.3x or removed"))
        else:
            out.append(("  bf16 autocast", f"not used: bf16 matmul at {g['bf16_matmul_speedup']:.2f}x fp32 on this CPU", ""))
        out.append(("  GFLOP per side-by-side (default); share of fp32 matmul peak", f"{default['gflop']:.1f}; {default['share_of_peak']:.1%}", ""))
    if u := r.get("unlearn"):  # a full run has the variants; `unlearn.py --rollouts_only` only the rollouts
        if v := {x["variant"]: x for x in u.get("variants", [])}:
            lo, fu, pr = v["lora"], v["full"], v["lora+preserve"]
            bar = u["to_bar"]
            reached = f"{bar['seconds_to_bar']:.1f} s ({bar['iterations_to_bar']} it)" if bar["seconds_to_bar"] is not None else "not reached"
            out.append(("unlearning time to kick presence <= 5% (default LoRA run)", reached, "<= 60 s"))
            out.append(("full-FT / LoRA ESD: time per iteration", f"{fu['seconds_per_iteration'] / lo['seconds_per_iteration']:.2f}x", ""))
            out.append(("full-FT / LoRA ESD: peak extra memory", f"{fu['extra_memory_mb'] / max(lo['extra_memory_mb'], 1):.2f}x", ""))
            out.append(("full-FT / LoRA ESD: optimizer state", f"{fu['optimizer_bytes'] / lo['optimizer_bytes']:.1f}x", ""))
            out.append(("LoRA trainable share", f"{lo['trainable'] / lo['total']:.2%}", ""))
            out.append(("retain accuracy drop: plain ESD vs ESD + preservation", f"{lo['retain_accuracy_base'] - lo['retain_accuracy']:+.3f} vs {pr['retain_accuracy_base'] - pr['retain_accuracy']:+.3f}", ""))
        today, *others = (u.get("rollouts") or u)["rows"]
        for new in others:
            out.append((f"default unlearning run, teacher rollouts {today['scheduler']} {today['steps']} -> {new['scheduler']} {new['steps']} steps: loop wall time (CPU time)",
                        f"{today['seconds']:.1f} -> {new['seconds']:.1f} s ({today['cpu_seconds']:.1f} -> {new['cpu_seconds']:.1f} CPU s)", "faster by the rollout savings"))
    if p := r.get("player"):
        for k, ms in p.items():
            out.append((f"player, {k}, headless Chromium", f"{ms:.2f} ms / frame", "< 16 ms"))
    if a := r.get("app"):
        out.append(("app cold start (python app.py -> first page)", f"{a['cold_start_s']:.1f} s", "<= 10 s"))
        out.append(("Generate click -> first animated frame", f"{a['click_to_frame_s']:.2f} s", "<= 1.5 s"))
    if sl := r.get("slider"):
        out.append(("strength slider thumb moved -> new steered frame (Chromium), median / max", f"{sl['thumb_median_ms']:.1f} / {sl['thumb_max_ms']:.1f} ms", "<= 50 ms"))
        out.append(("  requests between / same player throughout", f"{sl['requests_between']} / {'yes' if sl['same_player'] else 'NO'}", "0 / yes"))
        out.append(("Generate -> strength grid ready (Chromium, defaults), median", f"{sl['grid_ready_median_s']:.2f} s", "<= 1.5 s"))
    if v := r.get("video"):
        out.append((f"MP4 download, {v['seconds_of_motion']:g} s side-by-side / 5-panel sweep grid", f"{v['side_by_side_s']:.2f} / {v['sweep_grid_s']:.2f} s", "<= 3 s"))
    for load in r.get("load") or []:
        n = load["users"]
        out.append((f"load, {n} users x {load['seconds']:.0f} s + training: requests / errors", f"{load['requests']} / {load['errors']}", "0 errors"))
        out.append((f"load, {n} users: p50 / p95 latency", f"{load['p50_s']:.2f} / {load['p95_s']:.2f} s", "p95 <= 3 s" if n == 16 else ""))
        out.append((f"load, {n} users: app memory after warm-up -> end (max)", f"{load['rss_after_warmup_mb']:.0f} -> {load['rss_end_mb']:.0f} ({load['rss_max_mb']:.0f}) MB", "flat"))
        out.append((f"load, {n} users: concurrent training", f"{load['training']}{', listed' if load['trained_adapter_listed'] else ''}", "done"))
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--load_seconds", type=float, default=60)
    p.add_argument("--load_users", type=int, nargs="+", default=[16])
    p.add_argument("--skip", nargs="*", default=[], choices=list(SCRIPTS))
    p.add_argument("--out", type=Path, default=HERE / "results")
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in SCRIPTS:
        if name not in args.skip:
            results[name] = run_script(name, args.out, ["--seconds", str(args.load_seconds), "--users", *map(str, args.load_users)] if name == "load" else [])
        elif (args.out / f"{name}.json").exists():
            results[name] = json.loads((args.out / f"{name}.json").read_text())
    import torch

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, {round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30)} GiB, "
          f"Python {platform.python_version()}, torch {torch.__version__}")
    print("| figure | measured | goal |\n|---|---|---|")
    for figure, value, goal in rows(results):
        print(f"| {figure} | {value} | {goal} |")
    return 0 if all(v is not None for v in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
