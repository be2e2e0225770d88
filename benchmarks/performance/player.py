"""Canvas player cost in headless Debian Chromium: milliseconds to draw one frame for 2 and 8 skeletons.

    python -m benchmarks.performance.player [--frames 196] [--json out.json]

Procedural MotionBank clips (walks, kicks, jumps, waves), rendered by the project's own assets/player.js in
the standalone HTML export; MotionPlayer.benchmark(n) draws n frames synchronously and returns ms per frame.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from motion_lora.data.procedural import sample_motion
from motion_lora.serving.export import standalone_html

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]


def motions(n: int, frames: int):
    import numpy as np

    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        concept = ("walk", "kick", "jump", "wave")[i % 4]
        joints = sample_motion(concept, rng, source="bench").joints
        out.append((f"{concept} {i}", joints[np.arange(frames) % len(joints)]))  # looped to the full length
    return out


def measure(frames: int = 196, draws: int = 200) -> dict:
    from playwright.sync_api import sync_playwright

    result = {}
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for n, layout in ((2, "row"), (8, "grid")):
            path = Path(tmp) / f"player{n}.html"
            path.write_text(standalone_html(motions(n, frames), title=f"{n} skeletons", layout=layout), encoding="utf-8")
            page = browser.new_page(viewport={"width": 1400, "height": 900}, device_scale_factor=1)
            page.goto(path.as_uri())
            page.wait_for_function("window.__motionPlayers && window.__motionPlayers.length === 1")
            page.evaluate("window.__motionPlayers[0].pause && window.__motionPlayers[0].pause()")
            page.evaluate("MotionPlayer.benchmark(20)")  # warm-up
            result[f"{n} skeletons ({layout})"] = page.evaluate(f"MotionPlayer.benchmark({draws})")
            page.close()
        browser.close()
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--frames", type=int, default=196)
    p.add_argument("--json", type=Path, default=None)
    args = p.parse_args()
    result = measure(args.frames)
    print("| skeletons | ms per frame (headless Chromium, software canvas) |\n|---|---|")
    for k, v in result.items():
        print(f"| {k} | {v:.2f} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
