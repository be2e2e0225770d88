"""Helpers behind the Gradio app (app.py): parsing UI values, the player HTML, download files, tables and
charts, the training slot. Nothing here imports gradio at module level except where a gr.Error is raised,
so the helpers stay testable on their own.
"""

from __future__ import annotations

import functools
import html
import inspect
import json
import math
import os
import reprlib
import shutil
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .export import ASSETS, player_payload, standalone_html, to_bvh
from .service import FPS, SHIPPED, AdapterInfo, Comparison, MotionLab, NotAllowed, Sweep

MAX_DOWNLOAD_FOLDERS = 64  # per-app outputs kept on disk; older ones are pruned
DEFAULT_MAX_ITERATIONS = 1000
DEFAULT_MAX_QUEUED_TRAININGS = 4  # trainings waiting or running at once (one per visitor)


# ----------------------------------------------------------------------------------------------------------
# ZeroGPU and error handling
# ----------------------------------------------------------------------------------------------------------


def gpu(fn: Callable, duration: int | None = None) -> Callable:
    """`spaces.GPU(fn)` when the `spaces` package is importable (a no-op off ZeroGPU), else `fn`."""
    try:
        import spaces
    except Exception:  # not installed or broken: run on whatever device the lab uses
        return fn
    try:
        return spaces.GPU(duration=duration)(fn) if duration else spaces.GPU(fn)
    except Exception:
        return fn


USER_ERRORS = (ValueError, TypeError, OSError)


async def malformed_request(request, exc):
    """A 422 naming what is wrong with a request body that is not the JSON the API expects. (FastAPI's
    default handler echoes the raw body, and fails with a 500 when that body is not valid UTF-8.)"""
    from fastapi.responses import JSONResponse

    problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
    return JSONResponse({"error": "malformed request: send JSON like {\"data\": [...]}", "problems": problems[:10]}, status_code=422)


def user_errors(fn: Callable) -> Callable:
    """Turn the library's ValueError / TypeError (bad input) and OSError (missing files, full or read-only
    disk) into gr.Error: a visible message, not a crash.

    Works for plain and generator functions; the wrapper keeps `fn`'s signature so Gradio still injects
    gr.Progress / gr.Request arguments."""
    import gradio as gr

    def convert(err: Exception) -> Exception:
        if isinstance(err, NotAllowed):
            title = "Not allowed"
        elif isinstance(err, (ValueError, TypeError)):
            title = "Invalid input"
        elif isinstance(err, FileNotFoundError):
            title = "Not found"
        else:
            title = "Could not write files"
        return gr.Error(str(err), title=title, print_exception=False)

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def gen_wrapper(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except USER_ERRORS as err:
                raise convert(err) from err

        return gen_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except USER_ERRORS as err:
            raise convert(err) from err

    return wrapper


# ----------------------------------------------------------------------------------------------------------
# Parsing UI values (the API accepts the same plain values)
# ----------------------------------------------------------------------------------------------------------


def number(value, name: str, lo: float, hi: float, whole: bool = False) -> float | int:
    """A finite number in [lo, hi] (whole if asked) from a UI / API value, else a ValueError naming it."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"{name} must be a number, got {reprlib.repr(value)}") from None
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {reprlib.repr(value)}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo:g} and {hi:g}, got {value:g}")
    if whole:
        if int(value) != value:
            raise ValueError(f"{name} must be a whole number, got {value:g}")
        return int(value)
    return float(value)


def number_list(text, name: str, lo: float, hi: float, max_items: int = 9) -> list[float]:
    """'-0.5, 0, 1' (or a list of numbers) -> [-0.5, 0.0, 1.0]; an empty text gives []."""
    if text is None:
        return []
    items = text if isinstance(text, (list, tuple)) else [t for t in str(text).replace(";", ",").split(",") if t.strip()]
    if len(items) > max_items:
        raise ValueError(f"give at most {max_items} {name}, got {len(items)}")
    return [number(v, f"each of the {name}", lo, hi) for v in items]


def adapter_list(value) -> list[str]:
    """Dropdown value(s) -> a list of adapter names (a comma-separated string is accepted too)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"adapters must be a list of names, got {type(value).__name__}")
    out = []
    for v in value:
        if not isinstance(v, str):
            raise ValueError(f"an adapter name must be text, got {reprlib.repr(v)}")
        if v.strip():
            out.append(v.strip())
    return out


def flag(value, name: str) -> bool:
    """A checkbox value from the UI / API: True or False (None, from an API call before the input existed, is True)."""
    if value is None:
        return True
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {reprlib.repr(value)}")
    return value


def scheduler(value) -> str:
    """A scheduler name from the dropdown / API (one of motion_lora.model.sampler.SCHEDULERS), else a ValueError."""
    from ..model.sampler import DEFAULT_SCHEDULER, SCHEDULERS, check_scheduler

    if value is None or value == "":  # an API call from before the scheduler input existed
        return DEFAULT_SCHEDULER
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}; got {reprlib.repr(value)}")
    return check_scheduler(value)


def lines(text, name: str, max_items: int = 32) -> tuple[str, ...]:
    """Distinct non-empty lines of a text box (prompts, one per line)."""
    if not text:
        return ()
    if not isinstance(text, str):
        raise ValueError(f"{name} must be text, one prompt per line")
    out = tuple(dict.fromkeys(t.strip() for t in text.splitlines() if t.strip()))
    if len(out) > max_items:
        raise ValueError(f"{name}: at most {max_items} distinct lines, got {len(out)}")
    return out


def max_iterations() -> int:
    raw = os.environ.get("MOTION_LORA_MAX_ITERATIONS", "")
    try:
        return max(1, int(raw)) if raw.strip() else DEFAULT_MAX_ITERATIONS
    except ValueError:
        return DEFAULT_MAX_ITERATIONS


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def training_disabled() -> bool:
    return env_flag("MOTION_LORA_DISABLE_TRAINING")


def login_required() -> bool:
    """MOTION_LORA_REQUIRE_LOGIN=1: training and deleting need a Hugging Face login (gr.LoginButton)."""
    return env_flag("MOTION_LORA_REQUIRE_LOGIN")


def max_queued_trainings() -> int:
    raw = os.environ.get("MOTION_LORA_MAX_QUEUED_TRAININGS", "")
    try:
        return max(1, int(raw)) if raw.strip() else DEFAULT_MAX_QUEUED_TRAININGS
    except ValueError:
        return DEFAULT_MAX_QUEUED_TRAININGS


# ----------------------------------------------------------------------------------------------------------
# Visitors and the adapter pickers
# ----------------------------------------------------------------------------------------------------------


def visitor(request, profile=None, require_login: bool = False) -> str:
    """Who is asking: 'hf:<username>' when logged in with Hugging Face, else 'session:<Gradio session>'.
    With require_login, a visitor who is not logged in may not change adapters (NotAllowed)."""
    username = getattr(profile, "username", None) or (profile.get("preferred_username") if isinstance(profile, dict) else None)
    if username:
        return f"hf:{username}"
    if require_login:
        raise NotAllowed("log in with Hugging Face (the button at the top of the page) to train or delete adapters on this server")
    session = getattr(request, "session_hash", None)
    if not session:
        raise NotAllowed("this request has no session; open the app page, or use gradio_client, which keeps one")
    return f"session:{session}"


def made_when(info: AdapterInfo) -> str:
    return "" if info.created is None else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(info.created))


def adapter_label(info: AdapterInfo, owner: str | None) -> str:
    """'kick · shipped', 'kick-2 · this session, 2026-05-03 14:02 UTC', 'kick-3 · another visitor, …'."""
    by = info.made_by(owner)
    return f"{info.short} · {by}" if info.origin == SHIPPED else f"{info.short} · {by}, {made_when(info)}"


def adapter_choices(lab: MotionLab, owner: str | None) -> list[tuple[str, str]]:
    """(label, short name) for every loaded adapter, as the pickers show them to this visitor."""
    return [(adapter_label(i, owner), i.short) for i in lab.list_adapters()]


def own_choices(lab: MotionLab, owner: str | None) -> list[tuple[str, str]]:
    """The adapters this visitor made (the only ones they may retrain or delete)."""
    return [(adapter_label(i, owner), i.short) for i in lab.list_adapters() if i.made_by(owner) == "this session"]


# ----------------------------------------------------------------------------------------------------------
# Player
# ----------------------------------------------------------------------------------------------------------

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


def head_html() -> str:
    """What goes into launch(head=...): the player's styles and script, and the mount observer."""
    css = (ASSETS / "player.css").read_text(encoding="utf-8")
    js = (ASSETS / "player.js").read_text(encoding="utf-8")
    return f"<style>\n{css}\n</style>\n<script>\n{js}\n</script>\n<script>\n{MOUNT_SCRIPT}\n</script>\n"


def player_html(motions: list[tuple[str, np.ndarray]], captions: list[str] | None = None, layout: str = "row",
                keep: str | None = None, resume: bool = False) -> str:
    """A div the head script turns into a MotionPlayer (the payload rides in a data attribute).

    `keep` names a slot ('compare'): the player leaves its playback state there when it is replaced, and a new
    player of the slot rendered with `resume=True` (the strength slider's re-generation) plays on from it."""
    payload = json.dumps(player_payload(motions, captions), separators=(",", ":"))
    options = json.dumps({"layout": layout, **({"resume": True} if resume else {})})
    slot = f' data-motion-keep="{html.escape(keep, quote=True)}"' if keep else ""
    # A fresh id per render makes even an identical re-render replace the old player.
    return (
        f'<div class="motion-player-host" id="mp-{uuid.uuid4().hex[:8]}"{slot} data-motion-options="{html.escape(options, quote=True)}" '
        f'data-motion-payload="{html.escape(payload, quote=True)}"></div>'
    )


def placeholder_html(text: str) -> str:
    return f'<div class="motion-placeholder">{html.escape(text)}</div>'


# ----------------------------------------------------------------------------------------------------------
# Output files
# ----------------------------------------------------------------------------------------------------------


class OutputDir:
    """Download files of one app instance, in its own temp folder; one sub-folder per request, old ones pruned."""

    def __init__(self, root: str | Path | None = None):
        base = Path(root) if root else Path(tempfile.gettempdir())
        base.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="motion_lora_app_", dir=base))
        self._lock = threading.Lock()

    def new(self, tag: str) -> Path:
        with self._lock:
            folders = sorted((p for p in self.root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
            for old in folders[: max(0, len(folders) - MAX_DOWNLOAD_FOLDERS + 1)]:
                shutil.rmtree(old, ignore_errors=True)
            folder = self.root / f"{time.strftime('%H%M%S')}-{tag}-{uuid.uuid4().hex[:6]}"
            folder.mkdir()
            return folder

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def slug(text: str, n: int = 32) -> str:
    s = "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in text.lower()).strip("_")
    return "_".join(filter(None, s.split("_")))[:n] or "motion"


def steered_label(c: Comparison, names: dict[str, str]) -> str:
    """'steered (kick ×1.0)'; weights shown when they are not all 1."""
    parts = [names.get(n, n) + (f"·{w:g}" if w != 1.0 else "") for n, w in c.adapters.items()]
    return f"steered ({' + '.join(parts) or 'no adapter'} ×{c.scale:.1f})"


def comparison_files(c: Comparison, folder: Path, steered: str) -> list[str]:
    """joints (.npz with `joints` (2, T, 22, 3)), BVH of both motions, a standalone animated HTML page."""
    stem = slug(c.prompt)
    joints = np.stack([c.base_joints, c.steered_joints]).astype(np.float32)
    npz = folder / f"{stem}_joints.npz"
    np.savez(npz, joints=joints, labels=np.array(["base", steered]), prompt=np.array(c.prompt), seed=np.array(c.seed), fps=np.array(FPS))
    bvh_s = folder / f"{stem}_steered.bvh"
    bvh_s.write_text(to_bvh(c.steered_joints))
    bvh_b = folder / f"{stem}_base.bvh"
    bvh_b.write_text(to_bvh(c.base_joints))
    page = folder / f"{stem}_compare.html"
    page.write_text(standalone_html([("base", c.base_joints), (steered, c.steered_joints)], c.prompt), encoding="utf-8")
    return [str(npz), str(bvh_s), str(bvh_b), str(page)]


def comparison_summary(c: Comparison, steered: str) -> dict:
    return {
        "prompt": c.prompt,
        "seed": c.seed,
        "frames": c.frames,
        "seconds": c.frames / FPS,
        "fps": FPS,
        "adapters": c.adapters,
        "scale": c.scale,
        "labels": ["base", steered],
        "joints_shape": [2, int(c.base_joints.shape[0]), 22, 3],
        "base_concepts": [[k, round(v, 4)] for k, v in c.base_concepts],
        "steered_concepts": [[k, round(v, 4)] for k, v in c.steered_concepts],
        "max_joint_difference_m": round(float(np.abs(c.base_joints - c.steered_joints).max()), 5),
        **({"steps": c.options.steps, "guidance": c.options.guidance, "scheduler": c.options.scheduler, "plant_feet": c.options.plant_feet} if c.options else {}),
        "base_reused": c.base_cached,  # the base motion came from the cache: only the steered one was generated
        "elapsed_s": round(c.seconds, 3),
    }


def comparison_clip(c: Comparison, steered: str) -> dict:
    """What the side-by-side video needs (kept in the session's gr.State, never sent to the browser)."""
    top = lambda pairs: f"evaluator: {pairs[0][0]} {pairs[0][1]:.2f}" if pairs else ""  # noqa: E731
    return {"title": c.prompt, "labels": ["base", steered], "joints": [c.base_joints, c.steered_joints],
            "captions": [top(c.base_concepts), top(c.steered_concepts)], "footer": f"Motion LoRA · seed {c.seed}", "stem": slug(c.prompt) + "_compare",
            "comparison": c}  # for the downloads made after a slider release


def sweep_clip(s: Sweep, adapter: str, concept: str) -> dict:
    return {"title": f"{s.prompt}  —  adapter {adapter}, strength sweep", "labels": [f"strength ×{v:g}" for v in s.scales], "joints": list(s.joints),
            "captions": [f"{concept} presence {p:.2f}" for p in s.presence], "footer": "Motion LoRA", "stem": slug(s.prompt) + "_sweep"}


def clip_video(clip: dict | None, folder: Path) -> Path:
    """The MP4 of a comparison_clip / sweep_clip in `folder`."""
    from .video import render_video

    if not clip:
        raise ValueError("nothing to render yet: generate a comparison (or run a sweep) first")
    return render_video(folder / f"{clip['stem']}.mp4", list(zip(clip["labels"], clip["joints"])), clip["title"], captions=clip["captions"], footer=clip["footer"])


def evicted_note(evicted, lab: MotionLab) -> str:
    """' The server keeps at most N visitors' adapters; removed the oldest: kick-2.' or empty."""
    if not evicted:
        return ""
    shown = ", ".join(n.split("_LoRA_", 1)[-1] for n in evicted)
    return f" The server keeps at most {lab.max_user_adapters} visitors' adapters ({lab.max_user_bytes / 2**20:.0f} MB); removed the oldest: {shown}."


def zip_adapter(info: AdapterInfo, folder: Path) -> str:
    """A zip of the adapter folder (weights, adapter.json, logs, eval) in `folder`."""
    return shutil.make_archive(str(folder / info.name), "zip", root_dir=info.path.parent, base_dir=info.path.name)


# ----------------------------------------------------------------------------------------------------------
# Tables and charts
# ----------------------------------------------------------------------------------------------------------

METRIC_NOTES = {
    "presence": "share of motions the evaluator classifies as the prompt's concept",
    "r_precision_top1": "text retrieval top-1 (higher = motion matches text)",
    "r_precision_top2": "text retrieval top-2",
    "r_precision_top3": "text retrieval top-3",
    "fid": "Fréchet distance to real motions (lower = more realistic)",
    "mm_dist": "text–motion embedding distance (lower = better match)",
    "diversity": "spread of generated motions (close to real = good)",
}
METRIC_ORDER = ("presence", "r_precision_top1", "r_precision_top2", "r_precision_top3", "fid", "mm_dist", "diversity")
TABLE_HEADERS = ["set", "metric", "base", "base interval", "unlearned", "unlearned interval", "kinematic judge", "n", "meaning"]
TABLE_WIDTHS = ["7%", "13%", "7%", "11%", "8%", "11%", "11%", "12%", "20%"]
TABLE_LABEL = ("Base vs unlearned: 95% bootstrap interval over prompts and seeds (per-prompt metrics) or ± one standard error "
               "over seeds (set-level metrics); n = what was resampled")


def interval_text(m: dict) -> str | None:
    """'0.52–0.77' (bootstrap), '± 0.021 SE' (standard error), None when there is none: a single sample, or
    an old stored result whose t-interval over 2 repeats is not shown (misleading: t = 12.7 at n = 2)."""
    if m.get("method") == "bootstrap" and _finite(m.get("lo")) and _finite(m.get("hi")):
        return f"{m['lo']:.3f}–{m['hi']:.3f}"
    if m.get("method") == "se" and _finite(m.get("se")):
        return f"± {m['se']:.3f} SE"
    return None


def sample_text(m: dict, fallback_repeats) -> str:
    """What an interval was computed from: '48 prompts × 2 seeds', '2 seeds'; for old results, '2 seeds (no interval stored)'."""
    if m.get("method") == "bootstrap":
        return f"{m['n_prompts']} prompts × {m['n_repeats']} seed{'s' if m['n_repeats'] != 1 else ''}"
    if m.get("method") == "se":
        return f"{m['n']} seed{'s' if m['n'] != 1 else ''}"
    return f"{fallback_repeats} seeds (old result: re-run for intervals)" if m else ""


def eval_rows(result: dict) -> list[list]:
    rows = []
    for set_name in ("forget", "retain"):
        part = result.get(set_name) or {}
        base_part, unl_part = part.get("base") or {}, part.get("unlearned") or {}
        base, unl = base_part.get("metrics", {}), unl_part.get("metrics", {})
        names = [m for m in METRIC_ORDER if m in base or m in unl] + sorted((set(base) | set(unl)) - set(METRIC_ORDER))
        for m in names:
            b, u = base.get(m) or {}, unl.get(m) or {}
            rows.append([set_name, m, _r(b.get("mean")), interval_text(b), _r(u.get("mean")), interval_text(u),
                         judge_text(base_part, unl_part) if m == "presence" else None,
                         sample_text(b or u, base_part.get("repeats", "?")), METRIC_NOTES.get(m, "")])
    return rows


def judge_text(base_part: dict, unl_part: dict) -> str | None:
    """'0.62 → 0.08': the kinematic judge's presence (base → unlearned) on the set's judged concepts."""
    b, u = (base_part.get("kinematic") or {}).get("judged_average"), (unl_part.get("kinematic") or {}).get("judged_average")
    return None if b is None or u is None else f"{b:.3f} → {u:.3f}"


def judge_disagreements(result: dict) -> list[str]:
    """Sentences naming every set/model/concept where the evaluator and the kinematic judge disagree."""
    from ..evaluation.kinematic_judge import disagreement_notes

    return [f"{s} set, {m}: {note}" for s in ("forget", "retain") for m in ("base", "unlearned")
            for note in disagreement_notes(((result.get(s) or {}).get(m) or {}).get("kinematic") or {})]


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def _r(v):
    return round(float(v), 3) if _finite(v) else None


def _error_bars(entries: list[dict]) -> dict | None:
    """Plotly error_y for bootstrap intervals (asymmetric) or standard errors; None when an entry has neither."""
    up, down = [], []
    for m in entries:
        if m.get("method") == "bootstrap" and _finite(m.get("lo")) and _finite(m.get("hi")):
            up.append(m["hi"] - m["mean"]), down.append(m["mean"] - m["lo"])
        elif m.get("method") == "se" and _finite(m.get("se")):
            up.append(m["se"]), down.append(m["se"])
        else:
            return None
    return dict(type="data", symmetric=False, array=up, arrayminus=down)


def presence_figure(result: dict):
    """Grouped bars: concept presence, base vs unlearned, by forget prompt kind and by retain concept, with the
    95% bootstrap intervals as error bars (none for old stored results)."""
    import plotly.graph_objects as go

    xs, base, unl = [], [], []
    for set_name, key in (("forget", "presence_by_kind"), ("retain", "presence_by_concept")):
        part = result.get(set_name) or {}
        b, u = (part.get("base") or {}).get(key, {}), (part.get("unlearned") or {}).get(key, {})
        for k in b:
            xs.append(f"{set_name}: {k}")
            base.append(b[k]), unl.append(u.get(k, {}))
    fig = go.Figure()
    fig.add_bar(name="base", x=xs, y=[m.get("mean") for m in base], error_y=_error_bars(base), marker_color="#8a94a6")
    fig.add_bar(name="unlearned", x=xs, y=[m.get("mean") for m in unl], error_y=_error_bars(unl), marker_color="#d7373f")
    fig.update_layout(
        barmode="group", height=360, margin=dict(l=50, r=20, t=50, b=90), yaxis=dict(title="presence (proxy)", range=[0, 1.05]),
        title=dict(text=f"Concept presence — {result.get('concept', '')}: forget set should drop, retain set should stay", font=dict(size=14)),
        legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
    )
    return fig


def sweep_figure(s: Sweep, concept: str):
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_scatter(x=s.scales, y=s.presence, name=f"presence of '{concept}'", mode="lines+markers", line=dict(color="#d7373f", width=3))
    fig.add_scatter(x=s.scales, y=s.retain_drift, name="retain drift (m)", mode="lines+markers", yaxis="y2", line=dict(color="#1f6fd1", width=3, dash="dot"))
    fig.update_layout(
        height=340, margin=dict(l=55, r=55, t=40, b=45), xaxis=dict(title="adapter strength", zeroline=True),
        yaxis=dict(title="concept presence (evaluator prob.)", range=[0, 1.05]),
        yaxis2=dict(title="retain drift: mean joint distance (m)", overlaying="y", side="right", rangemode="tozero"),
        legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"),
    )
    return fig


def preserved_note(meta: dict) -> str:
    """' Preserved N retain prompts (*a*, *b*, *c*, …; λ w).' for a training summary; empty without preservation."""
    retain, weight = meta.get("retain_prompts") or [], meta.get("preserve_weight") or 0
    if not retain or not weight:
        return ""
    shown = ", ".join(f"*{p}*" for p in retain[:3]) + (", …" if len(retain) > 3 else "")
    return f" Preserved {len(retain)} retain prompts ({shown}; λ {weight:g})."


# (event field, legend name, colour, dash, width). The total is drawn first, wide and translucent, so where it equals
# the ESD term (λ 0, or a tiny preservation loss) both stay visible.
LOSS_SERIES = (("loss", "total", "rgba(31,41,55,0.45)", "solid", 6), ("esd_loss", "ESD", "#d7373f", "solid", 2),
               ("preserve_loss", "preservation", "#1f6fd1", "dot", 2.5))


def loss_range(values: list[float]) -> list[float]:
    """A y-range that fits the losses: from 0 (or just below the smallest) to just above the largest."""
    finite = [v for v in values if _finite(v)]
    if not finite:
        return [0.0, 1.0]
    lo, hi = min(finite), max(finite)
    pad = 0.06 * (hi - lo) or 0.05 * abs(hi) or 0.05
    return [max(0.0, lo - pad) if lo >= 0 else lo - pad, hi + pad]


def loss_figure(events: list, total: int | None = None):
    """The Unlearn tab's live chart: one line per loss term (total, ESD, preservation when λ > 0) over steps."""
    import plotly.graph_objects as go

    steps = [e.step for e in events]
    fig = go.Figure()
    shown = []
    for attr, name, color, dash, width in LOSS_SERIES:
        ys = [float(getattr(e, attr)) for e in events]
        if attr == "preserve_loss" and not any(ys):
            continue  # λ 0 (plain ESD) or not started: no preservation term to draw
        shown += ys
        fig.add_scatter(x=steps, y=ys, name=name, mode="lines+markers" if len(steps) <= 30 else "lines",
                        line=dict(color=color, width=width, dash=dash), marker=dict(size=5))
    fig.update_layout(
        height=320, margin=dict(l=60, r=20, t=40, b=45), title=dict(text="Loss per step", font=dict(size=14)),
        xaxis=dict(title="step", range=[0, max(total or 0, steps[-1] if steps else 1)]),
        yaxis=dict(title="loss", range=loss_range(shown)),
        legend=dict(orientation="h", y=1.02, x=1, xanchor="right", yanchor="bottom"), uirevision="loss",
    )
    return fig


def shipped_eval(info: AdapterInfo) -> dict | None:
    path = info.path / "eval" / "metrics.json"
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "forget" in data and "retain" in data else None


def eval_caption(result: dict, source: str) -> str:
    f = result.get("forget", {}).get("base", {})
    r = result.get("retain", {}).get("base", {})
    return (
        f"**{source}** for adapter `{result.get('adapter', '?')}` (concept **{result.get('concept', '?')}**): "
        f"{f.get('n_prompts', '?')} forget prompts, {r.get('n_prompts', '?')} retain prompts, {f.get('repeats', '?')} repeats, "
        f"{result.get('steps', '?')} sampling steps. Proxy metrics from our own evaluator: mean with a 95% bootstrap "
        "interval over prompts and seeds, or ± one standard error over seeds for set-level metrics; "
        "not comparable with published HumanML3D numbers. The kinematic judge column is the presence found by "
        "rule-based checks on the joints (motion_lora/kinematic_judge.py), averaged over the concepts it can judge."
        + disagreement_text(judge_disagreements(result))
    )


def disagreement_text(notes: list[str], shown: int = 6) -> str:
    more = f"  \n… and {len(notes) - shown} more disagreements (see the result JSON)" if len(notes) > shown else ""
    return "".join(f"  \n⚠ {note}" for note in notes[:shown]) + more


# ----------------------------------------------------------------------------------------------------------
# Trainings: one at a time, in arrival order, at most one per visitor
# ----------------------------------------------------------------------------------------------------------


class AlreadyQueued(Exception):
    """The visitor already has a training waiting or running."""


@dataclass(eq=False)
class Ticket:
    owner: str
    stop: threading.Event


class TrainingQueue:
    """First come, first served; a visitor may hold one ticket (waiting or running) at a time. The first ticket
    in line is the one training; Stop sets its owner's ticket's event, whether it is running or still waiting."""

    def __init__(self):
        self._cond = threading.Condition()
        self._line: list[Ticket] = []

    def join(self, owner: str) -> Ticket:
        with self._cond:
            if any(t.owner == owner for t in self._line):
                raise AlreadyQueued(owner)
            ticket = Ticket(owner, threading.Event())
            self._line.append(ticket)
            return ticket

    def wait_turn(self, ticket: Ticket, timeout: float) -> int:
        """Wait up to `timeout` s for the ticket to reach the front; returns how many trainings are ahead of it."""
        with self._cond:
            self._cond.wait_for(lambda: self._line[0] is ticket or ticket.stop.is_set(), timeout)
            return self._line.index(ticket)

    def leave(self, ticket: Ticket) -> None:
        with self._cond:
            if ticket in self._line:
                self._line.remove(ticket)
            ticket.stop.set()
            self._cond.notify_all()

    def request_stop(self, owner: str) -> bool:
        with self._cond:
            mine = [t for t in self._line if t.owner == owner]
            for t in mine:
                t.stop.set()
            self._cond.notify_all()
            return bool(mine)

    @property
    def busy(self) -> bool:
        return bool(self._line)

    def __len__(self) -> int:
        return len(self._line)


TRAINING = TrainingQueue()


def attack_summary(info: AdapterInfo) -> str:
    """Markdown of the adapter's stored attack report (eval/attack.json), flagged when it was made for other weights."""
    from ..unlearning.attack import file_sha256, format_table, load_attack_report

    try:
        reports = load_attack_report(info.path)
    except FileNotFoundError:
        return (f"No adversarial attack report for **{info.short}** yet. Run `python -m motion_lora.attack --adapter {info.short}` "
                "(a few minutes on a CPU) to measure how easily the concept comes back.")
    except ValueError as err:
        return f"The attack report of **{info.short}** cannot be read: {err}"
    current = file_sha256(info.path / "model" / "adapter_model.safetensors")
    stale = [r.label for r in reports if r.fingerprint and r.label != "base" and r.fingerprint != current]
    note = f"\n\n⚠️ Made for earlier weights of {', '.join(stale)}; rerun the attack." if stale else ""
    return ("**Adversarial prompt attack** (stored `eval/attack.json`): attack success rate = share of attacked generations "
            "on fresh seeds in which the concept comes back.\n\n" + format_table(reports) + note)
