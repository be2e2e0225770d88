"""The motion player in the page: its HTML, the head assets, the script that mounts players and the one that lets a
strength slider scrub them."""

from __future__ import annotations

import html
import json
import uuid

import numpy as np

from ..export import ASSETS, player_payload

# Mounts a MotionPlayer on every [data-motion-payload] element as it appears, and destroys players whose
# element left the page, lost the player's DOM, or got a new payload (Gradio re-rendering the same gr.HTML).
# A host with data-motion-keep="<slot>" leaves its playback state (time, playing, speed, loop, camera) under that
# slot when its player goes; a new host of the same slot with the option resume: true picks it up (from the
# old player itself while it is still on the page), so a re-generated motion plays on from the same instant.
MOUNT_SCRIPT = """
(function () {
  if (window.__motionMountInstalled) return;
  window.__motionMountInstalled = true;
  var kept = window.__motionKept = window.__motionKept || {};
  function stateOf(p) {
    return {time: p.time, playing: p.playing, speed: p.speed, loop: p.loop, yaw: p.yaw, pitch: p.pitch, zoom: p.zoom};
  }
  function restore(p, st) {
    var end = (p.numFrames - 1) / p.fps;
    p.time = st.time > end ? (p.loop && p.duration > 0 ? st.time % p.duration : end) : Math.max(0, st.time);
    p.speed = st.speed; p.loop = st.loop; p.yaw = st.yaw; p.pitch = st.pitch; p.zoom = st.zoom;
    if (p.speedSelect) p.speedSelect.value = String(st.speed);
    if (p.loopBox) p.loopBox.checked = st.loop;
    p._setFrame(Math.min(p.numFrames - 1, Math.floor(p.time * p.fps + 1e-6)));
    if (st.playing) p.play(); else p.pause();
    p._cameraChanged();
    p._dirty = true;
  }
  function sync() {
    if (!window.MotionPlayer) return;
    (window.__motionPlayers || []).slice().forEach(function (p) {
      var c = p.container;
      if (!c.isConnected || !c.contains(p.root) || c.getAttribute("data-motion-payload") !== c.__motionSource) {
        if (c.dataset && c.dataset.motionKeep) kept[c.dataset.motionKeep] = stateOf(p);
        p.destroy();
      }
    });
    document.querySelectorAll("[data-motion-payload]").forEach(function (node) {
      if (node.__motionPlayer) return;
      try {
        var opts = node.dataset.motionOptions ? JSON.parse(node.dataset.motionOptions) : {};
        var slot = node.dataset.motionKeep, st = null;
        if (slot && opts.resume) {
          (window.__motionPlayers || []).forEach(function (p) { if (p.container.dataset.motionKeep === slot) st = stateOf(p); });
          st = st || kept[slot] || null;
        }
        node.__motionSource = node.getAttribute("data-motion-payload");
        var player = node.__motionPlayer = new MotionPlayer(node, JSON.parse(node.__motionSource), opts);
        if (st) restore(player, st);
        player.resumed = !!st;
      } catch (err) { console.error("MotionPlayer:", err); }
    });
  }
  var pending = false;
  function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () { pending = false; sync(); });
  }
  window.__mountMotionPlayers = sync;
  function start() {
    new MutationObserver(function (records) {
      for (var i = 0; i < records.length; i++) {
        var r = records[i];
        if (r.type === "attributes") { schedule(); return; }
        var lists = [r.addedNodes, r.removedNodes];
        for (var k = 0; k < 2; k++) for (var j = 0; j < lists[k].length; j++) {
          var n = lists[k][j];
          if (n.nodeType === 1 && (n.hasAttribute("data-motion-payload") || n.querySelector("[data-motion-payload]") || n.__motionPlayer)) { schedule(); return; }
        }
      }
    }).observe(document.documentElement, {childList: true, subtree: true, attributes: true, attributeFilter: ["data-motion-payload"]});
    sync();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
"""


SCRUB_CLASS = "motion-strength"  # a slider with this class (Gradio's elem_classes) scrubs the players' variants

# One document-level listener, in the capture phase so no component can swallow the event: while a strength slider
# moves, every mounted player shows its variants nearest to the slider's value (MotionPlayer.scrub) on the next
# animation frame, with no server round trip. The slider's number box fires the same event.
SCRUB_SCRIPT = """
(function () {
  if (window.__motionScrubInstalled) return;
  window.__motionScrubInstalled = true;
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (!window.MotionPlayer || !t || !t.closest || !t.closest(".%s")) return;
    var value = Number(t.value);
    if (t.value === "" || !isFinite(value)) return;
    // for tests and benchmarks: the event's time, when the swap was made, the strengths now shown
    var at = performance.now(), shown = MotionPlayer.scrub(value);
    window.__motionScrubbed = {value: value, event: e.timeStamp, at: at, shown: shown};
  }, true);
})();
""" % SCRUB_CLASS


def head_html() -> str:
    """What goes into launch(head=...): the player's styles and script, the mount observer and the scrub listener."""
    css = (ASSETS / "player.css").read_text(encoding="utf-8")
    js = (ASSETS / "player.js").read_text(encoding="utf-8")
    scripts = "".join(f"<script>\n{code}\n</script>\n" for code in (js, MOUNT_SCRIPT, SCRUB_SCRIPT))
    return f"<style>\n{css}\n</style>\n{scripts}"


def player_html(motions: list[tuple[str, np.ndarray]], captions: list[str] | None = None, layout: str = "row",
                keep: str | None = None, resume: bool = False,
                variants: dict[int, list[tuple[float, str, np.ndarray]]] | None = None,
                strengths: dict[int, float] | None = None) -> str:
    """A div the head script turns into a MotionPlayer (the payload rides in a data attribute).

    `keep` names a slot ('compare'): the player leaves its playback state there when it is replaced, and a new
    player of the slot rendered with `resume=True` (the strength slider's re-generation) plays on from it.
    `variants` / `strengths`: a motion at other strengths, swapped in the browser by a SCRUB_CLASS slider
    (export.player_payload)."""
    payload = json.dumps(player_payload(motions, captions, variants=variants, strengths=strengths),
                         separators=(",", ":"))
    options = json.dumps({"layout": layout, **({"resume": True} if resume else {})})
    slot = f' data-motion-keep="{html.escape(keep, quote=True)}"' if keep else ""
    # A fresh id per render makes even an identical re-render replace the old player.
    return (
        f'<div class="motion-player-host" id="mp-{uuid.uuid4().hex[:8]}"{slot} data-motion-options="{html.escape(options, quote=True)}" '
        f'data-motion-payload="{html.escape(payload, quote=True)}"></div>'
    )


def placeholder_html(text: str) -> str:
    return f'<div class="motion-placeholder">{html.escape(text)}</div>'
