"""The app in a real browser: headless Debian Chromium (never downloaded) driven by Playwright, tiny models.

Type a prompt, click Generate, wait for both skeletons to be drawn and to move, release the strength slider
and see the player re-rendered (the old player destroyed). Writes test-artifacts/app.png (and one screenshot
per tab) for a person to look at.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import running_app

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
LAUNCH_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed")

# Per canvas: pixels that differ from the top-left (background) pixel, and a cheap hash of the image.
CANVAS_STATE = """() => Array.from(document.querySelectorAll('#compare-player canvas.mp-canvas')).map((c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0, h = 0;
  for (let i = 0; i < d.length; i += 4) {
    const v = Math.abs(d[i] - d[0]) + Math.abs(d[i + 1] - d[1]) + Math.abs(d[i + 2] - d[2]);
    if (v > 30) { n++; h = (h * 31 + i) % 1000000007; }
  }
  return {drawn: n, hash: h};
})"""


@pytest.fixture(scope="module")
def app_url(tiny_root, tmp_path_factory):
    from motion_lora.adapters import LoraSpec
    from motion_lora.train import unlearn_to_folder
    from motion_lora.unlearn import UnlearnConfig

    tmp = tmp_path_factory.mktemp("browser_app")
    user = tmp / "user"
    cfg = UnlearnConfig(concept="kick", iterations=6, batch_size=2, rollout_steps=3, frames=48, lora=LoraSpec(rank=4, alpha=4.0))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTION_LORA_CHECKPOINTS", str(tiny_root))
        unlearn_to_folder(base_name="tiny_base", config=cfg, out_root=user)
    with running_app(tiny_root, tmp, user) as (url, _lab, _demo):
        yield url


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(app_url)
        pg.wait_for_selector("button:has-text('Generate')")
        pg.errors = errors
        yield pg
        browser.close()


def set_slider(pg, label: str, value: float) -> None:
    """Type a value into a Gradio slider's number box (fires the same input as dragging)."""
    box = pg.get_by_label(f"number input for {label}", exact=True).first
    box.fill(str(value))
    box.press("Enter")


def drag_slider(pg, label: str, lo: float, hi: float, value: float) -> None:
    """Press and release the mouse on a slider's track at `value`, as a person would (fires `release`)."""
    track = pg.get_by_label(f"range slider for {label}", exact=True).first
    box = track.bounding_box()
    x = box["x"] + box["width"] * (value - lo) / (hi - lo)
    pg.mouse.click(x, box["y"] + box["height"] / 2)


def wait_two_canvases(pg, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        states = pg.evaluate(CANVAS_STATE)
        if len(states) >= 1 and pg.evaluate("(window.__motionPlayers || []).length") == 1 and all(s["drawn"] > 200 for s in states):
            return states
        time.sleep(0.05)
    raise AssertionError(f"player not drawn: {pg.evaluate(CANVAS_STATE)}")


def test_generate_plays_and_slider_rerenders(page):
    pg = page
    ARTIFACTS.mkdir(exist_ok=True)
    prompt = pg.get_by_label("Prompt", exact=True).first
    prompt.fill("a person kicks high with the left leg")
    set_slider(pg, "Length (s)", 2)
    set_slider(pg, "Sampling steps", 4)
    assert pg.evaluate("typeof MotionPlayer") == "function"

    started = time.perf_counter()
    pg.get_by_role("button", name="Generate").click()
    pg.wait_for_selector("#compare-player canvas.mp-canvas", timeout=30_000)
    states = wait_two_canvases(pg)
    first_frame_s = time.perf_counter() - started
    player = pg.evaluate("(() => { const p = window.__motionPlayers[0]; return {n: p.motions.length, labels: p.motions.map(m => m.label), frames: p.numFrames, playing: p.playing}; })()")
    assert player["n"] == 2 and player["labels"] == ["base", "steered (kick ×1.0)"] and player["frames"] == 40 and player["playing"]

    # animated: the drawing changes between two looks ~300 ms apart (both skeletons are on the canvas)
    shot1 = pg.locator("#compare-player canvas.mp-canvas").first.screenshot()
    f1 = pg.evaluate("window.__motionPlayers[0].frame")
    time.sleep(0.3)
    shot2 = pg.locator("#compare-player canvas.mp-canvas").first.screenshot()
    f2 = pg.evaluate("window.__motionPlayers[0].frame")
    assert shot1 != shot2 and f1 != f2
    assert pg.evaluate(CANVAS_STATE) != states or shot1 != shot2
    print(f"\nGenerate click -> first drawn frame: {first_frame_s:.2f} s")

    # strength slider release -> a new comparison replaces the old player (which is destroyed)
    old_id = pg.evaluate("document.querySelector('#compare-player [data-motion-payload]').id")
    drag_slider(pg, "Strength", -1, 2, 0)
    deadline = time.time() + 30
    while time.time() < deadline:
        node_id = pg.evaluate("(document.querySelector('#compare-player [data-motion-payload]') || {}).id")
        if node_id and node_id != old_id and pg.evaluate("(window.__motionPlayers || []).length") == 1 and pg.locator("#compare-player canvas.mp-canvas").count() == 1:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the strength change did not re-render the player")
    wait_two_canvases(pg)
    label = pg.evaluate("window.__motionPlayers[0].motions[1].label")
    assert label.startswith("steered (kick ×") and label != "steered (kick ×1.0)", label
    assert pg.evaluate("window.__motionPlayers[0].container.isConnected")
    time.sleep(0.5)
    pg.screenshot(path=str(ARTIFACTS / "app.png"), full_page=True)
    assert not pg.errors, pg.errors


def test_other_tabs_render(page):
    pg = page
    ARTIFACTS.mkdir(exist_ok=True)
    pg.get_by_role("tab", name="Strength sweep").click()
    pg.get_by_role("button", name="Run sweep").click()
    pg.wait_for_function("document.querySelectorAll('.mp-layout-grid canvas.mp-canvas').length === 5", timeout=60_000)
    pg.wait_for_selector(".js-plotly-plot", timeout=30_000)
    time.sleep(0.5)
    pg.screenshot(path=str(ARTIFACTS / "app-sweep.png"), full_page=True)
    # leaving the compare tab must not break the single-player bookkeeping
    assert pg.evaluate("(window.__motionPlayers || []).every(p => p.container.isConnected)")
    for tab in ("Unlearn", "Evaluate", "About"):
        pg.get_by_role("tab", name=tab).click()
        time.sleep(0.6)
        pg.screenshot(path=str(ARTIFACTS / f"app-{tab.lower()}.png"), full_page=True)
    pg.get_by_role("tab", name="Evaluate").click()
    # the picked adapter's stored result, or the invitation to run one (other tests may have evaluated it)
    assert pg.get_by_text("No stored evaluation").count() + pg.get_by_text("Stored evaluation").count() >= 1
    assert not pg.errors, pg.errors
