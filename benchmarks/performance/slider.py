"""Live strength slider in a real browser: slider release -> first frame of the new steered motion drawn.

    python -m benchmarks.performance.slider [--port 7862] [--releases 6] [--json out.json]

Starts `python app.py` (shipped checkpoints) as a user would, drives headless Debian Chromium (Playwright,
/usr/bin/chromium): Generate once at the default settings, then release the strength slider at several values.
Each time, the page itself records the release (pointerup) and the first animation frame on which the new
player has drawn its skeletons (a requestAnimationFrame watcher), so the figure is browser time from the user's
release to the new steered frame on screen: Gradio's round trip, the steered-only generation (the base motion
comes from the cache), the player mount. It also checks that the new player resumed at the old one's time
position and that the steered label shows the new strength.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from benchmarks.performance.served_app import CHROMIUM, CHROMIUM_ARGS, AppDidNotStart, served_app

STRENGTHS = (0.5, 0.0, 1.5, -0.5, 1.2, 0.3, 1.8, -0.8)
LO, HI = -1.0, 2.0  # the Compare tab's strength slider range

# Counts pixels unlike the background on every canvas of the compare player; > 200 each = skeletons drawn.
DRAWN = """(() => { const cs = Array.from(document.querySelectorAll('#compare-player canvas.mp-canvas'));
  return cs.length > 0 && cs.every((c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
    for (let i = 0; i < d.length; i += 16) { if (Math.abs(d[i] - d[0]) + Math.abs(d[i + 1] - d[1]) + Math.abs(d[i + 2] - d[2]) > 30) n++; }
    return n > 200; }); })"""

# Arms the watcher for one release: remembers the current player, timestamps the pointerup, and on every
# animation frame looks for a new player that has drawn; records its time position against the old one's.
ARM = """() => {
  const old = window.__motionPlayers[0];
  const w = window.__sliderWatch = {old, released: null, frame: null, oldTime: null, newTime: null, resumed: null, label: null};
  const onUp = () => { if (w.released === null) { w.released = performance.now(); } };
  document.addEventListener('pointerup', onUp, {capture: true, once: true});
  const drawn = %s;
  const tick = () => {
    const p = window.__motionPlayers[0];
    if (w.released !== null && p && p !== old && p.container.isConnected && drawn()) {
      w.frame = performance.now(); w.newTime = p.time; w.resumed = !!p.resumed; w.label = p.motions[1].label;
      w.oldTime = old.time;  // the old player stopped advancing when it was destroyed
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}""".replace("%s", DRAWN)


def release_at(page, value: float) -> None:
    """Press and release the mouse on the strength slider's track at `value`, as a person does (fires release)."""
    track = page.get_by_label("range slider for Strength", exact=True).first
    box = track.bounding_box()
    page.mouse.click(box["x"] + box["width"] * (value - LO) / (HI - LO), box["y"] + box["height"] / 2)


def measure(url: str, releases: int) -> dict:
    from playwright.sync_api import sync_playwright

    rows = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.get_by_label("Prompt").first.fill("a person kicks with the right leg")
        page.get_by_role("button", name="Generate").click()
        page.wait_for_function(f"window.__motionPlayers && window.__motionPlayers.length === 1 && {DRAWN}()", timeout=120_000, polling=50)
        time.sleep(1.0)  # let it play a while, so the time position is not 0
        for k in range(releases):
            value = STRENGTHS[k % len(STRENGTHS)]
            page.evaluate(ARM)
            release_at(page, value)
            page.wait_for_function("window.__sliderWatch.frame !== null", timeout=60_000, polling=50)
            w = page.evaluate("(() => { const w = window.__sliderWatch; return {released: w.released, frame: w.frame, oldTime: w.oldTime, newTime: w.newTime, resumed: w.resumed, label: w.label}; })()")
            rows.append({"strength": value, "release_to_frame_s": (w["frame"] - w["released"]) / 1000, "old_time_s": w["oldTime"],
                         "new_time_s": w["newTime"], "resumed": w["resumed"], "label": w["label"]})
            time.sleep(0.6)
        browser.close()
    latencies = [r["release_to_frame_s"] for r in rows]
    return {"releases": rows, "median_s": statistics.median(latencies), "max_s": max(latencies), "page_errors": errors,
            "kept_time": all(r["resumed"] and abs(r["new_time_s"] - r["old_time_s"]) < 0.15 for r in rows)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=7862)
    p.add_argument("--releases", type=int, default=6)
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args()
    try:
        with served_app(args.port) as (url, _):
            result = measure(url, args.releases)
    except AppDidNotStart as err:
        print(err, file=sys.stderr)
        return 1
    print(f"slider release -> new steered frame in headless Chromium (default settings, shipped model; {os.cpu_count()} CPU cores)")
    print("| strength | release -> frame (s) | time position old -> new (s) | label |\n|---|---|---|---|")
    for r in result["releases"]:
        print(f"| {r['strength']:g} | {r['release_to_frame_s']:.3f} | {r['old_time_s']:.2f} -> {r['new_time_s']:.2f}{'' if r['resumed'] else ' (not resumed)'} | {r['label']} |")
    print(f"median {result['median_s']:.3f} s, max {result['max_s']:.3f} s; time position kept: {result['kept_time']}"
          + (f"; page errors: {result['page_errors']}" if result["page_errors"] else ""))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    return 0 if result["kept_time"] and not result["page_errors"] else 1


if __name__ == "__main__":
    sys.exit(main())
