"""Time the MP4 downloads: a 5 s side-by-side (2 panels, 800 x 448) and a 5-strength sweep grid (1600 x 400),
rendered by motion_lora.serving.video on this CPU. Motions are procedural clips (no model needed).

    python -m benchmarks.performance.video [--runs 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from motion_lora.data.procedural import sample_motion
from motion_lora.motion.skeleton import FPS
from motion_lora.serving.video import render_video

SECONDS = 5.0


def clip(concept: str, frames: int, seed: int) -> np.ndarray:
    j = sample_motion(concept, np.random.default_rng(seed), source="procedural").joints
    return np.concatenate([j] * (frames // len(j) + 1))[:frames]


def best_of(runs: int, render) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        render()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    frames = int(SECONDS * FPS)
    pair = [("base", clip("kick", frames, 0)), ("steered (kick ×1.0)", clip("walk", frames, 1))]
    grid = [(f"strength ×{s:g}", clip("kick", frames, k)) for k, s in enumerate((-0.5, 0, 0.5, 1, 1.5))]
    with tempfile.TemporaryDirectory() as tmp:
        side = best_of(args.runs, lambda: render_video(Path(tmp) / "pair.mp4", pair, "a person kicks with the right leg", captions=["kick 0.91", "walk 0.80"]))
        sweep = best_of(args.runs, lambda: render_video(Path(tmp) / "grid.mp4", grid, "a person kicks — strength sweep", captions=[f"presence {v:.2f}" for v in (0.9, 0.6, 0.4, 0.1, 0.0)]))
        size = (Path(tmp) / "pair.mp4").stat().st_size
    result = {"seconds_of_motion": SECONDS, "frames": frames, "side_by_side_s": side, "sweep_grid_s": sweep, "side_by_side_kb": size / 1024, "cores": os.cpu_count()}
    print(f"MP4 of a {SECONDS:g} s clip ({frames} frames), best of {args.runs}: side-by-side {side:.2f} s ({size / 1024:.0f} kB), "
          f"5-panel sweep grid {sweep:.2f} s (goal <= 3 s)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
