"""The canvas player in a real browser: headless Debian Chromium driven by Playwright (never downloaded).

Writes test-artifacts/player.png and test-artifacts/player-grid.png for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from motion_lora.motion.quaternion import qfrom_axis_angle, qyaw
from motion_lora.motion.skeleton import JOINT, pose_joints, rest_quats
from motion_lora.serving.export import standalone_html

CHROMIUM = os.environ.get("BROWSER_PATH") or "/usr/bin/chromium"  # any Chromium build: Debian's, or Playwright's (BROWSER_PATH)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
LAUNCH_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--no-first-run"]

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed")

# Pixels of the canvas that differ from its top-left corner (the background), counted in the page.
COUNT_DRAWN = """(canvas) => {
  const ctx = canvas.getContext('2d');
  const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (Math.abs(d[i] - d[0]) + Math.abs(d[i + 1] - d[1]) + Math.abs(d[i + 2] - d[2]) > 30) n++;
  }
  return n;
}"""


def walk(num_frames: int = 80, swing: float = 0.5, turn: float = 0.0, fps: int = 20) -> np.ndarray:
    """A stylised walk forward (+z), legs and arms swinging in opposition."""
    t = np.arange(num_frames) / fps
    phase = 2 * np.pi * t
    x_axis = np.array([1.0, 0.0, 0.0])
    quats = rest_quats(num_frames)
    quats[:, 0] = qyaw(turn * t)
    quats[:, JOINT["left_hip"]] = qfrom_axis_angle(x_axis, -swing * np.sin(phase))
    quats[:, JOINT["right_hip"]] = qfrom_axis_angle(x_axis, swing * np.sin(phase))
    quats[:, JOINT["left_knee"]] = qfrom_axis_angle(x_axis, swing * (1 + np.sin(phase)))
    quats[:, JOINT["right_knee"]] = qfrom_axis_angle(x_axis, swing * (1 - np.sin(phase)))
    quats[:, JOINT["left_shoulder"]] = qfrom_axis_angle(x_axis, swing * np.sin(phase))
    quats[:, JOINT["right_shoulder"]] = qfrom_axis_angle(x_axis, -swing * np.sin(phase))
    quats[:, JOINT["left_elbow"]] = qfrom_axis_angle(x_axis, -0.6)
    quats[:, JOINT["right_elbow"]] = qfrom_axis_angle(x_axis, -0.6)
    heading = turn * t
    step = np.stack([np.sin(heading), np.zeros_like(t), np.cos(heading)], axis=-1) * 1.1 / fps
    root = np.cumsum(step, axis=0) + np.array([0.0, 0.93, 0.0])
    return pose_joints(root, quats)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


def open_page(browser, tmp_path: Path, name: str, motions, **kwargs):
    path = tmp_path / f"{name}.html"
    path.write_text(standalone_html(motions, title=name, **kwargs), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1000, "height": 720}, device_scale_factor=1)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_function("window.__motionPlayers && window.__motionPlayers.length === 1")
    page.wait_for_timeout(150)  # a couple of animation frames
    return page, errors


def frame(page) -> int:
    return page.evaluate("window.__motionPlayers[0].frame")


def test_row_player_draws_animates_pauses_and_scrubs(browser, tmp_path):
    motions = [("base", walk()), ("unlearned", walk(60, swing=0.2, turn=0.5))]
    page, errors = open_page(browser, tmp_path, "compare", motions,
                             captions=["a person walks forward", "a person walks forward (concept removed)"])
    canvas = page.locator("canvas.mp-canvas")
    assert canvas.count() == 1
    assert page.evaluate(COUNT_DRAWN, canvas.element_handle()) > 2000

    # It animates in real time: the frame moves and the picture changes.
    assert page.evaluate("window.__motionPlayers[0].playing") is True
    first_frame, first_shot = frame(page), canvas.screenshot()
    page.wait_for_timeout(300)
    second_frame, second_shot = frame(page), canvas.screenshot()
    assert second_frame != first_frame and first_shot != second_shot

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "player.png"), full_page=True)

    # Pause holds the frame.
    page.click("button.mp-play")
    assert page.evaluate("window.__motionPlayers[0].playing") is False
    paused = frame(page)
    page.wait_for_timeout(300)
    assert frame(page) == paused

    # The scrub slider sets the frame (and the drawing follows).
    before = canvas.screenshot()
    page.evaluate("""() => { const s = document.querySelector('input.mp-scrub');
                             s.value = 42; s.dispatchEvent(new Event('input', {bubbles: true})); }""")
    assert frame(page) == 42
    page.wait_for_timeout(80)
    assert canvas.screenshot() != before
    assert page.locator(".mp-time").inner_text().startswith("2.10")

    # Play resumes from there; destroy() stops and unregisters the player.
    page.click("button.mp-play")
    page.wait_for_timeout(200)
    assert frame(page) > 42
    page.evaluate("window.__motionPlayers[0].destroy()")
    assert page.evaluate("window.__motionPlayers.length") == 0
    assert page.locator("canvas").count() == 0
    assert not errors, errors
    page.close()


def test_grid_layout_draws_every_skeleton(browser, tmp_path):
    sweep = [(f"strength {s:.1f}", walk(60, swing=0.1 + 0.12 * i)) for i, s in enumerate(np.linspace(0, 1, 6))]
    page, errors = open_page(browser, tmp_path, "sweep", sweep, layout="grid")
    canvases = page.locator("canvas.mp-canvas")
    assert canvases.count() == 6
    for i in range(6):
        assert page.evaluate(COUNT_DRAWN, canvases.nth(i).element_handle()) > 800, f"canvas {i} is blank"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "player-grid.png"), full_page=True)
    assert not errors, errors
    page.close()


def test_mount_all_and_from_json(browser, tmp_path):
    page, errors = open_page(browser, tmp_path, "mount", [("a", walk(20))])  # 1 m walk: fitted whole
    page.evaluate("""() => {
        const host = document.createElement('div');
        host.dataset.motionPayload = JSON.stringify(window.__payload);
        host.dataset.motionOptions = JSON.stringify({layout: 'grid', autoplay: false});
        document.body.appendChild(host);
        const mounted = MotionPlayer.mountAll(document);
        const again = MotionPlayer.mountAll(document);   // already mounted: nothing new
        const other = document.createElement('div');
        document.body.appendChild(other);
        MotionPlayer.fromJSON(other, JSON.stringify(window.__payload), {follow: false});
        window.__counts = [mounted.length, again.length];
    }""")
    # Both camera modes draw: the page's own player follows a long walk, the last one fits it whole.
    assert page.evaluate("window.__motionPlayers.map((p) => p.follow)") == [False, False, False]
    assert page.evaluate("window.__counts") == [1, 0]
    assert page.evaluate("window.__motionPlayers.length") == 3
    assert page.evaluate("window.__motionPlayers[1].playing") is False
    for i in range(page.locator("canvas.mp-canvas").count()):
        assert page.evaluate(COUNT_DRAWN, page.locator("canvas.mp-canvas").nth(i).element_handle()) > 500
    assert not errors, errors
    page.close()


@pytest.mark.parametrize("count", [2, 8])
def test_draw_cost_per_frame(browser, tmp_path, count):
    motions = [(f"m{i}", walk(80, swing=0.2 + 0.05 * i)) for i in range(count)]
    page, errors = open_page(browser, tmp_path, f"bench{count}", motions)
    page.evaluate("window.__motionPlayers[0].pause()")
    page.evaluate("MotionPlayer.benchmark(20)")  # warm-up
    ms = page.evaluate("MotionPlayer.benchmark(200)")
    print(f"\n{count} skeletons: {ms:.3f} ms per drawn frame")
    assert 0 < ms < 50
    assert not errors, errors
    page.close()


# Scrub to `value`, then watch animation frames until the canvas differs from before; returns what was shown,
# how long until it was drawn (ms) and the player's frame afterwards. All in the page: no server involved.
SCRUB_AND_WATCH = """async (value) => {
  const p = window.__motionPlayers[0], canvas = document.querySelector('canvas.mp-canvas');
  const before = canvas.toDataURL();
  const t0 = performance.now();
  const shown = MotionPlayer.scrub(value);
  let ms = null;
  for (let i = 0; i < 30 && ms === null; i++) {
    await new Promise(requestAnimationFrame);
    if (canvas.toDataURL() !== before) ms = performance.now() - t0;
  }
  return {shown, ms, frame: p.frame, label: p.motions[1].label};
}"""


def test_variants_swap_client_side_keeping_time_and_camera(browser, tmp_path):
    import json

    from motion_lora.serving.export import player_payload

    motions = [("base", walk()), ("steered 0.50", walk(swing=0.3))]
    strengths = (0.0, 0.5, 1.0, 1.5)
    payload = player_payload(motions)
    payload["motions"][1]["strength"] = 0.5
    payload["motions"][1]["variants"] = [
        {"strength": s, "label": f"steered {s:.2f}", "joints": m["joints"]}
        for s, m in zip(strengths, player_payload([(str(s), walk(swing=0.5 - 0.4 * s, turn=0.6 * s)) for s in strengths])["motions"])]
    page, errors = open_page(browser, tmp_path, "variants", motions)
    page.evaluate("""(payload) => { const old = window.__motionPlayers[0], host = old.container;
                                    old.destroy(); const p = new MotionPlayer(host, payload);
                                    p.pause(); p.seek(30); p.yaw = 1.0; p._cameraChanged(); }""", json.loads(json.dumps(payload)))
    page.wait_for_timeout(100)
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))

    first = page.evaluate(SCRUB_AND_WATCH, 1.4)  # nearest grid point: 1.5
    assert first["shown"] == [1.5] and first["label"] == "steered 1.50"
    assert first["ms"] is not None and first["ms"] <= 50, first
    assert first["frame"] == 30 and page.evaluate("window.__motionPlayers[0].yaw") == 1.0  # time and camera kept

    second = page.evaluate(SCRUB_AND_WATCH, 0.6)  # between 0.5 and 1.0: the nearer one, labelled as shown
    assert second["shown"] == [0.5] and second["label"] == "steered 0.50" and second["ms"] is not None
    assert page.evaluate("MotionPlayer.scrub(0.55)") == [0.5]  # already shown: nothing to swap
    assert requests == [], requests
    assert not errors, errors
    page.close()


def test_a_variant_of_another_length_is_refused(browser, tmp_path):
    from motion_lora.serving.export import player_payload

    payload = player_payload([("base", walk(40))])
    payload["motions"][0]["variants"] = [{"strength": 1, "label": "x", "joints": player_payload([("x", walk(30))])["motions"][0]["joints"]}]
    page, errors = open_page(browser, tmp_path, "bad-variant", [("base", walk(40))])
    message = page.evaluate("""(payload) => { try { new MotionPlayer(document.createElement('div'), payload); return ''; }
                                              catch (e) { return e.message; } }""", payload)
    assert "as long as its motion" in message
    page.close()
