"""App latency with the shipped checkpoints: cold start to first page, and Generate click to first animated frame.

    python -m benchmarks.performance.app_latency [--port 7861]

Starts `python app.py` as a user would, polls until the page is served, then drives headless Debian Chromium
(Playwright, /usr/bin/chromium) to type a prompt, click Generate and wait until both skeleton canvases draw
and change between two frames.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from benchmarks.performance.served_app import CHROMIUM, CHROMIUM_ARGS, AppDidNotStart, served_app

CANVAS_HASH = """() => Array.from(document.querySelectorAll('#compare-player canvas.mp-canvas')).map((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let h = 0, n = 0;
  for (let i = 0; i < d.length; i += 16) { if (d[i] !== d[0]) { n++; h = (h * 31 + i + d[i]) % 1000000007; } }
  return n > 50 ? h : -1; })"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=7861)
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args()
    try:
        with served_app(args.port) as (url, cold):
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(url)
                page.get_by_label("Prompt").first.fill("a person kicks with the right leg")
                t0 = time.perf_counter()
                page.get_by_role("button", name="Generate").click()
                page.wait_for_function(f"(() => {{ const h = ({CANVAS_HASH})(); return h.length > 0 && h.every(x => x > 0); }})", timeout=60_000, polling=16)
                page.evaluate(f"window.__h0 = JSON.stringify(({CANVAS_HASH})())")
                page.wait_for_function(f"JSON.stringify(({CANVAS_HASH})()) !== window.__h0", timeout=10_000, polling=16)
                click_to_frame = time.perf_counter() - t0
                browser.close()
    except AppDidNotStart as err:
        print(err, file=sys.stderr)
        return 1
    print(f"cold start (python app.py -> first page served): {cold:.1f} s")
    print(f"Generate click -> first animated frame (default settings, shipped model): {click_to_frame:.2f} s")
    if args.json:
        args.json.write_text(json.dumps({"cold_start_s": cold, "click_to_frame_s": click_to_frame}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
