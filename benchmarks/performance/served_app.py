"""`python app.py` as a user starts it, for the browser benchmarks: launch, wait for the first page, stop.

Also the headless Debian Chromium that Playwright drives (`BROWSER_PATH` overrides /usr/bin/chromium).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
START_TIMEOUT_S = 120


class AppDidNotStart(RuntimeError):
    pass


@contextlib.contextmanager
def served_app(port: int) -> Iterator[tuple[str, float]]:
    """Run the app on `port`; yields (url, seconds from launch to the first page served). Raises AppDidNotStart
    when it exits or does not serve within START_TIMEOUT_S; always stops it afterwards."""
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "HF_HUB_OFFLINE": "1"}
    started = time.perf_counter()
    app = subprocess.Popen([sys.executable, "app.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if app.poll() is not None or time.perf_counter() - started > START_TIMEOUT_S:
                    raise AppDidNotStart("the app did not start") from None
                time.sleep(0.1)
        yield url, time.perf_counter() - started
    finally:
        app.terminate()
        app.wait(timeout=30)
