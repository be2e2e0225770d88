"""The app in a real browser: headless Debian Chromium (never downloaded) driven by Playwright, tiny models.

Type a prompt, click Generate, wait for both skeletons to be drawn and to move; drag the strength slider and see
the steered skeleton change within 50 ms with no request to the server, labelled with the strength shown; release
it and see the labels and downloads follow without a new player; change the seed and release again and see the
player re-rendered (the old player destroyed) where it was; start a training and see the loss chart draw one line
per loss term while it runs; run a quick evaluation and see intervals with their n. Writes test-artifacts/app*.png
for a person to look at.

Needs Debian's Chromium (`apt-get install chromium`); every test here skips without it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import running_app

from motion_lora.serving.ui.downloads import strength_text

CHROMIUM = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"  # any Chromium build: Debian's, or Playwright's (BROWSER_PATH)
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
    from motion_lora.unlearning.adapters import LoraSpec
    from motion_lora.unlearning.train import unlearn_to_folder
    from motion_lora.unlearning.unlearn import UnlearnConfig

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
    box = pg.locator(f'input[aria-label="number input for {label}"]:visible').first  # several tabs have e.g. "Sampling steps"
    box.fill(str(value))
    box.press("Enter")


def drag_slider(pg, label: str, lo: float, hi: float, value: float) -> None:
    """Press and release the mouse on a slider's track at `value`, as a person would (fires `release`)."""
    track = pg.get_by_label(f"range slider for {label}", exact=True).first
    box = track.bounding_box()
    x = box["x"] + box["width"] * (value - lo) / (hi - lo)
    pg.mouse.click(x, box["y"] + box["height"] / 2)


def slider_point(pg, label: str, lo: float, hi: float, value: float) -> tuple[float, float]:
    """Where on the page a slider's thumb sits at `value` (the native range input spans the track)."""
    box = pg.get_by_label(f"range slider for {label}", exact=True).first.bounding_box()
    return box["x"] + box["width"] * (value - lo) / (hi - lo), box["y"] + box["height"] / 2


# Records every draw of the compare player from now on: when, and which strength its steered skeleton had.
WATCH_DRAWS = """() => {
  const p = window.__motionPlayers[0], draw = p.draw.bind(p);
  window.__draws = [];
  p.draw = function () { const out = draw(); window.__draws.push({t: performance.now(), strength: p.motions[1].strength}); return out; };
}"""

# The input event of the latest scrub (the page's scrub listener), the first draw after it showing its strength.
SCRUB_TO_DRAW = """() => {
  const s = window.__motionScrubbed;
  if (!s) return null;
  const d = (window.__draws || []).find((d) => d.t >= s.at && d.strength === s.shown[0]);
  return d ? {ms: d.t - s.event, value: s.value, shown: s.shown, label: window.__motionPlayers[0].motions[1].label} : null;
}"""


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

    # the player holds the steered motion at the whole strength grid, sent with the base in one payload
    grid = pg.evaluate("window.__motionPlayers[0].motions[1].variants.map((v) => v.strength)")
    assert grid == [-1 + 0.25 * i for i in range(13)], grid

    # dragging the thumb swaps the steered motion in the browser: a new frame within 50 ms, no request meanwhile,
    # the label says which strength is shown; the player stays (no re-mount) and keeps its time position
    old_id = pg.evaluate("document.querySelector('#compare-player [data-motion-payload]').id")
    npz_links = "Array.from(document.querySelectorAll('a')).map((a) => a.href).filter((h) => h.includes('.npz'))"
    links_before = pg.evaluate(npz_links)
    assert links_before
    pg.evaluate("(() => { const p = window.__motionPlayers[0]; p.seek(25); p.pause(); window.__oldPlayer = p; })()")
    pg.evaluate(WATCH_DRAWS)
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pixels = pg.evaluate(CANVAS_STATE)
    pg.mouse.move(*slider_point(pg, "Strength", -1, 2, 1.0))
    pg.mouse.down()
    pg.mouse.move(*slider_point(pg, "Strength", -1, 2, 0.25), steps=4)
    deadline, scrub = time.time() + 5, None
    while time.time() < deadline and scrub is None:
        scrub = pg.evaluate(SCRUB_TO_DRAW)
    assert scrub is not None, "no new steered frame after moving the thumb"
    assert requests == [], requests  # nothing asked of the server between the thumb move and the frame
    assert scrub["ms"] <= 50, scrub
    print(f"thumb moved -> new steered frame drawn: {scrub['ms']:.1f} ms (strength {scrub['value']:g}, no request)")
    assert scrub["shown"] == [scrub["value"]] and scrub["value"] != 1.0, scrub  # a grid point: the slider's own step
    assert scrub["label"] == "steered (kick ×" + strength_text(scrub["value"]) + ")", scrub
    assert pg.evaluate(CANVAS_STATE) != pixels  # the drawn skeleton did change
    assert pg.evaluate("window.__motionPlayers[0] === window.__oldPlayer && window.__motionPlayers[0].frame === 25")

    # release: the labels and downloads follow the strength shown, from the stored grid; no new player
    pg.mouse.up()
    deadline = time.time() + 30
    while time.time() < deadline and not (pg.evaluate(npz_links) and pg.evaluate(npz_links) != links_before):
        time.sleep(0.1)
    assert pg.evaluate(npz_links) and pg.evaluate(npz_links) != links_before, "the downloads did not follow the release"
    assert pg.evaluate("document.querySelector('#compare-player [data-motion-payload]').id") == old_id
    assert pg.evaluate("window.__motionPlayers.length === 1 && window.__motionPlayers[0] === window.__oldPlayer")

    # a changed form (another seed) and a release: a new comparison replaces the old player (which is destroyed),
    # playing on from the old player's time position
    links_before = pg.evaluate(npz_links)
    seed = pg.get_by_label("Seed", exact=True).first
    seed.fill("5")
    drag_slider(pg, "Strength", -1, 2, 0)
    deadline = time.time() + 30
    while time.time() < deadline:
        node_id = pg.evaluate("(document.querySelector('#compare-player [data-motion-payload]') || {}).id")
        if node_id and node_id != old_id and pg.evaluate("(window.__motionPlayers || []).length") == 1 and pg.locator("#compare-player canvas.mp-canvas").count() == 1:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("a strength release after a form change did not re-render the player")
    wait_two_canvases(pg)
    label = pg.evaluate("window.__motionPlayers[0].motions[1].label")
    assert label == "steered (kick ×0.0)", label
    kept = pg.evaluate("(() => { const p = window.__motionPlayers[0], o = window.__oldPlayer; return {resumed: p.resumed, frame: p.frame, playing: p.playing, oldAlive: window.__motionPlayers.includes(o) || o._raf !== 0}; })()")
    assert kept == {"resumed": True, "frame": 25, "playing": False, "oldAlive": False}, kept  # paused at frame 25, as the old one
    pg.evaluate("window.__motionPlayers[0].play()")
    deadline = time.time() + 30
    while time.time() < deadline and not (pg.evaluate(npz_links) and pg.evaluate(npz_links) != links_before):
        time.sleep(0.1)
    assert pg.evaluate(npz_links) and pg.evaluate(npz_links) != links_before, "the downloads did not follow the release"
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


# Per line of the loss chart: its legend name is not in the SVG path, so report the path's drawn length and
# the legend entries separately.
LOSS_LINES = """() => {
  const root = document.querySelector('#loss-plot .js-plotly-plot');
  if (!root) return null;
  const lines = Array.from(root.querySelectorAll('.scatterlayer path.js-line')).map((p) => {
    const d = p.getAttribute('d') || '';
    let length = 0;
    try { length = p.getTotalLength(); } catch (e) {}
    return {segments: (d.match(/L/g) || []).length, length: length, stroke: getComputedStyle(p).stroke};
  });
  const legend = Array.from(root.querySelectorAll('.legend .legendtext')).map((t) => t.textContent);
  return {lines: lines, legend: legend};
}"""


def test_loss_plot_draws_a_line_per_term_while_training(page):
    pg = page
    ARTIFACTS.mkdir(exist_ok=True)
    pg.get_by_role("tab", name="Unlearn").click()
    set_slider(pg, "Iterations", 1000)
    set_slider(pg, "Rank", 2)
    pg.get_by_role("button", name="Start").click()
    deadline, seen = time.time() + 120, None
    while time.time() < deadline:
        seen = pg.evaluate(LOSS_LINES)
        status = pg.evaluate("document.body.innerText.match(/step \\d+\\/\\d+/g) || []")
        status = status[-1] if status else ""
        if seen and len(seen["lines"]) == 3 and all(line["segments"] >= 3 and line["length"] > 50 for line in seen["lines"]):
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"the loss chart draws no lines: {seen}")
    assert seen["legend"] == ["total", "ESD", "preservation"]
    assert len({line["stroke"] for line in seen["lines"]}) == 3  # told apart by colour
    step, total = (int(v) for v in status.split("step ", 1)[1].split(" ")[0].split("/"))
    assert step < total  # drawn live, before the training ended
    pg.screenshot(path=str(ARTIFACTS / "app-unlearn-training.png"), full_page=True)
    deadline = time.time() + 20
    while pg.evaluate(LOSS_LINES)["lines"][0]["segments"] <= seen["lines"][0]["segments"] and time.time() < deadline:
        time.sleep(0.1)
    assert pg.evaluate(LOSS_LINES)["lines"][0]["segments"] > seen["lines"][0]["segments"]  # and it keeps growing
    pg.get_by_role("button", name="Stop").click()
    pg.wait_for_function("document.body.innerText.includes('no adapter was saved')", timeout=30_000)
    assert not pg.errors, pg.errors


def test_evaluate_table_shows_intervals_with_their_n(page):
    pg = page
    pg.get_by_role("tab", name="Evaluate").click()
    pg.get_by_text("Quick evaluation settings").click()
    set_slider(pg, "Forget prompts per kind", 2)
    set_slider(pg, "Sampling steps", 2)
    pg.get_by_role("button", name="Run quick evaluation").click()
    pg.wait_for_function("document.body.innerText.includes('Quick evaluation (just run)')", timeout=120_000)
    text = pg.locator("#eval-table").inner_text()
    assert "prompts × 2 seeds" in text and "base interval" in text
    assert "–" in text  # a bootstrap interval lo–hi
    time.sleep(0.5)
    pg.screenshot(path=str(ARTIFACTS / "app-evaluate-intervals.png"), full_page=True)
    assert not pg.errors, pg.errors
