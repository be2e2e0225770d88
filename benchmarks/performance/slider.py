"""Live strength slider in a real browser: Generate -> strength grid ready, and thumb moved -> new steered frame.

    python -m benchmarks.performance.slider [--port 7862] [--generates 3] [--moves 8] [--no_baseline] [--no_teacher] [--json out.json]

Starts `python app.py` (shipped checkpoints) as a user would and drives headless Debian Chromium (Playwright,
/usr/bin/chromium), all in page time:

- **grid ready**: Generate at the default settings (other seeds each time); from the click to the first animation
  frame on which a new player that holds the steered motion at the whole strength grid has drawn its skeletons.
- **thumb moved -> frame**: drag the strength slider's thumb to another strength (press, move, then release); from
  the input event the page's scrub listener handled to the first draw of the player showing that strength. Every
  request the page makes is recorded: between the press and that draw there must be none. The release then brings
  the labels and downloads to the strength shown, with no new player (checked: the same player plays on throughout).
- **baseline**: the same Generates on a second start of the app with MOTION_LORA_GRID_ROWS=0 (base and steered
  motion only, as before the live slider), so the grid's own cost is read on the same machine in the same run.
- **teacher**: the same Generates, grid on, on a third start with MOTION_LORA_STUDENT=none (the full sampler at the
  defaults, as before the few-step student served them): the student's share of the grid-ready time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from benchmarks.performance import served_app as serving
from benchmarks.performance.served_app import CHROMIUM, CHROMIUM_ARGS, AppDidNotStart, served_app
from motion_lora.serving.ui.downloads import strength_text
from motion_lora.unlearning.strength_grid import GRID_STRENGTHS

MOVES = (0.25, 1.5, -0.75, 2.0, 0.0, 1.25, -1.0, 0.5)  # thumb targets, from the default 1.0
LO, HI = min(GRID_STRENGTHS), max(GRID_STRENGTHS)  # the Compare tab's strength slider range
THUMB_PX = 16  # about the width of the range input's thumb

# Counts pixels unlike the background on every canvas of the compare player; > 200 each = skeletons drawn.
DRAWN = """(() => { const cs = Array.from(document.querySelectorAll('#compare-player canvas.mp-canvas'));
  return cs.length > 0 && cs.every((c) => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
    for (let i = 0; i < d.length; i += 16) { if (Math.abs(d[i] - d[0]) + Math.abs(d[i + 1] - d[1]) + Math.abs(d[i + 2] - d[2]) > 30) n++; }
    return n > 200; }); })"""

# Arms the watcher for one Generate: the click's time, then on every animation frame a look for a new player
# holding a grid that has drawn.
ARM_GENERATE = """() => {
  const old = (window.__motionPlayers || [])[0];
  const w = window.__gridWatch = {clicked: null, ready: null, grid: null};
  document.addEventListener('click', () => { if (w.clicked === null) w.clicked = performance.now(); }, {capture: true, once: true});
  const drawn = %s;
  const tick = () => {
    const p = (window.__motionPlayers || [])[0];
    if (w.clicked !== null && p && p !== old && p.motions[1].variants.length && drawn()) {
      w.ready = performance.now(); w.grid = p.motions[1].variants.map((v) => v.strength);
      return;
    }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}""".replace("%s", DRAWN)

# Records every draw of the compare player from now on: when, and which strength its steered skeleton had.
WATCH_DRAWS = """() => {
  const p = window.__motionPlayers[0], draw = p.draw.bind(p);
  window.__draws = [];
  p.draw = function () { const out = draw(); window.__draws.push({t: performance.now(), strength: p.motions[1].strength}); return out; };
}"""

# The latest scrub (the page's scrub listener) and the first draw after it that shows its strength.
SCRUB_TO_DRAW = """(value) => {
  const s = window.__motionScrubbed;
  if (!s || s.value !== value) return null;
  const d = (window.__draws || []).find((d) => d.t >= s.at && d.strength === s.shown[0]);
  return d ? {ms: d.t - s.event, shown: s.shown[0], label: window.__motionPlayers[0].motions[1].label} : null;
}"""


def thumb_at(page, value: float) -> tuple[float, float]:
    """The thumb's centre at `value`: the native range input keeps the thumb inside its box (THUMB_PX wide)."""
    box = page.get_by_label("range slider for Strength", exact=True).first.bounding_box()
    x = box["x"] + THUMB_PX / 2 + (box["width"] - THUMB_PX) * (value - LO) / (HI - LO)
    return x, box["y"] + box["height"] / 2


def generate(page, seed: int) -> dict:
    page.get_by_label("Seed", exact=True).first.fill(str(seed))
    page.evaluate(ARM_GENERATE)
    page.get_by_role("button", name="Generate").click()
    page.wait_for_function("window.__gridWatch.ready !== null", timeout=300_000, polling=50)
    w = page.evaluate("window.__gridWatch")
    return {"seed": seed, "grid_ready_s": (w["ready"] - w["clicked"]) / 1000, "grid": w["grid"]}


def move(page, current: float, value: float, requests: list) -> dict:
    """Press the thumb at `current`, drag it to `value`, wait for the frame showing it, release."""
    page.mouse.move(*thumb_at(page, current))
    page.mouse.down()
    requests.clear()
    page.mouse.move(*thumb_at(page, value), steps=3)
    try:
        page.wait_for_function(f"({SCRUB_TO_DRAW})({value}) !== null", timeout=10_000, polling=5)
    except Exception as err:  # the thumb landed elsewhere, or nothing was drawn: say what the page saw
        raise RuntimeError(f"no frame showing strength {value}: last scrub {page.evaluate('window.__motionScrubbed')}") from err
    seen = page.evaluate(f"({SCRUB_TO_DRAW})({value})")
    between = list(requests)
    page.mouse.up()
    time.sleep(1.5)  # the release's label and download update (no generation) before the next move
    return {"strength": value, "thumb_to_frame_ms": seen["ms"], "shown": seen["shown"], "label": seen["label"], "requests_between": between}


def measure(url: str, generates: int, moves: int) -> dict:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.get_by_label("Prompt").first.fill("a person kicks with the right leg")
        page.get_by_role("button", name="Generate").click()  # a first one: the app warms its caches for the grid size
        page.wait_for_function(f"window.__motionPlayers && window.__motionPlayers.length === 1 && {DRAWN}()", timeout=300_000, polling=50)
        ready = [generate(page, seed) for seed in range(1, generates + 1)]
        time.sleep(1.0)  # let it play a while, so the time position is not 0
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.evaluate("window.__benchPlayer = window.__motionPlayers[0]")
        page.evaluate(WATCH_DRAWS)
        rows, current = [], 1.0
        for k in range(moves):
            rows.append(move(page, current, MOVES[k % len(MOVES)], requests))
            current = MOVES[k % len(MOVES)]
        kept = page.evaluate("window.__motionPlayers.length === 1 && window.__motionPlayers[0] === window.__benchPlayer && window.__benchPlayer.playing")
        browser.close()
    ms = [r["thumb_to_frame_ms"] for r in rows] or [float("nan")]
    grid_s = [r["grid_ready_s"] for r in ready]
    return {"generates": ready, "grid_ready_median_s": statistics.median(grid_s), "grid_ready_max_s": max(grid_s),
            "moves": rows, "thumb_median_ms": statistics.median(ms), "thumb_max_ms": max(ms),
            "requests_between": sum(len(r["requests_between"]) for r in rows), "same_player": kept, "page_errors": errors,
            "labels_match": all(r["label"].endswith(f"×{strength_text(r['shown'])})") and r["shown"] == r["strength"] for r in rows)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=7862)
    p.add_argument("--generates", type=int, default=3)
    p.add_argument("--moves", type=int, default=8)
    p.add_argument("--no_baseline", action="store_true", help="skip the Generates without a grid")
    p.add_argument("--no_teacher", action="store_true", help="skip the Generates with the full sampler (no student)")
    p.add_argument("--start_timeout", type=float, default=serving.START_TIMEOUT_S, help="seconds the app may take to start (a busy machine)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args()
    serving.START_TIMEOUT_S = args.start_timeout
    try:
        with served_app(args.port) as (url, _):
            result = measure(url, args.generates, args.moves)
        if not args.no_baseline:
            os.environ["MOTION_LORA_GRID_ROWS"] = "0"  # served_app passes the environment on
            with served_app(args.port + 1) as (url, _):  # the first app's port may still be held for a while
                result["baseline"] = measure(url, args.generates, 0)
            os.environ.pop("MOTION_LORA_GRID_ROWS")
        if not args.no_teacher:
            os.environ["MOTION_LORA_STUDENT"] = "none"
            with served_app(args.port + 2) as (url, _):
                result["teacher"] = measure(url, args.generates, 0)
    except AppDidNotStart as err:
        print(err, file=sys.stderr)
        return 1
    print(f"live strength slider in headless Chromium (default settings, shipped model; {os.cpu_count()} CPU cores)")
    print("| Generate (seed) | click -> grid ready (s) | grid |\n|---|---|---|")
    for r in result["generates"]:
        print(f"| {r['seed']} | {r['grid_ready_s']:.2f} | {len(r['grid'])} strengths, {min(r['grid']):g} to {max(r['grid']):g} |")
    if base := result.get("baseline"):
        print("| Generate (seed), no grid (MOTION_LORA_GRID_ROWS=0) | click -> first frame (s) |\n|---|---|")
        for r in base["generates"]:
            print(f"| {r['seed']} | {r['grid_ready_s']:.2f} |")
        print(f"without the grid: median {base['grid_ready_median_s']:.2f} s")
    if teacher := result.get("teacher"):
        print("| Generate (seed), full sampler (MOTION_LORA_STUDENT=none) | click -> grid ready (s) | grid |\n|---|---|---|")
        for r in teacher["generates"]:
            print(f"| {r['seed']} | {r['grid_ready_s']:.2f} | {len(r['grid'])} strengths |")
        print(f"full sampler: median {teacher['grid_ready_median_s']:.2f} s; student / full sampler: "
              f"{result['grid_ready_median_s'] / teacher['grid_ready_median_s']:.2f}x")
    print("| thumb to | thumb moved -> frame (ms) | requests between | label |\n|---|---|---|---|")
    for r in result["moves"]:
        print(f"| {r['strength']:g} | {r['thumb_to_frame_ms']:.1f} | {len(r['requests_between'])} | {r['label']} |")
    print(f"grid ready: median {result['grid_ready_median_s']:.2f} s, max {result['grid_ready_max_s']:.2f} s; thumb -> frame: median "
          f"{result['thumb_median_ms']:.1f} ms, max {result['thumb_max_ms']:.1f} ms; requests between: {result['requests_between']}; "
          f"same player throughout: {result['same_player']}; labels match: {result['labels_match']}"
          + (f"; page errors: {result['page_errors']}" if result["page_errors"] else ""))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    ok = result["same_player"] and result["labels_match"] and not result["requests_between"] and not result["page_errors"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
