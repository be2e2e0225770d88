"""App latency with the shipped checkpoints: cold start to first page, and Generate click to first animated frame.

    python benchmarks/app_latency.py [--port 7861]

Starts `python app.py` as a user would, polls until the page is served, then drives headless Debian Chromium
(Playwright, /usr/bin/chromium) to type a prompt, click Generate and wait until both skeleton canvases draw
and change between two frames.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
CANVAS_HASH = """() => Array.from(document.querySelectorAll('#compare-player canvas.mp-canvas')).map((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let h = 0, n = 0;
  for (let i = 0; i < d.length; i += 16) { if (d[i] !== d[0]) { n++; h = (h * 31 + i + d[i]) % 1000000007; } }
  return n > 50 ? h : -1; })"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=7861)
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args()
    env = {**os.environ, "GRADIO_SERVER_PORT": str(args.port), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    app = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{args.port}/"
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if app.poll() is not None or time.perf_counter() - started > 120:
                    print("the app did not start", file=sys.stderr)
                    return 1
                time.sleep(0.1)
        cold = time.perf_counter() - started
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
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
    finally:
        app.terminate()
        app.wait(timeout=30)
    print(f"cold start (python app.py -> first page served): {cold:.1f} s")
    print(f"Generate click -> first animated frame (default settings, shipped model): {click_to_frame:.2f} s")
    if args.json:
        args.json.write_text(json.dumps({"cold_start_s": cold, "click_to_frame_s": click_to_frame}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
