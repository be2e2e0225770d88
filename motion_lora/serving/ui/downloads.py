"""Download files: the app's output folders and what is written into them (motion files, videos, zips)."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

from ...motion.skeleton import FPS
from ..export import standalone_html, to_bvh
from ..library import AdapterInfo
from ..service import Comparison, MotionLab, Sweep

MAX_DOWNLOAD_FOLDERS = 64  # per-app outputs kept on disk; older ones are pruned


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


def strength_text(strength: float) -> str:
    """1.0 -> '1.0', 1.25 -> '1.25', -0.5 -> '-0.5': one decimal at least, the grid's quarters in full."""
    text = f"{float(strength) + 0.0:.2f}".rstrip("0")  # + 0.0: no '-0.0'
    return text + "0" if text.endswith(".") else text


def steered_label(c: Comparison, names: dict[str, str], strength: float | None = None) -> str:
    """'steered (kick ×1.0)' at the comparison's strength, or at `strength` (a grid variant's); weights shown when
    they are not all 1."""
    parts = [names.get(n, n) + (f"·{w:g}" if w != 1.0 else "") for n, w in c.adapters.items()]
    shown = c.scale if strength is None else strength
    return f"steered ({' + '.join(parts) or 'no adapter'} ×{strength_text(shown)})"


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
        **({"steps": c.options.steps, "guidance": c.options.guidance, "scheduler": c.options.scheduler, "plant_feet": c.options.plant_feet,
            "fast": c.options.fast} if c.options else {}),
        "sampled_by": c.sampler,  # the few-step student, or the full sampler
        "base_reused": c.base_cached,  # the base motion came from the cache: only the steered one was generated
        "grid": [v.strength for v in c.grid],  # the strengths the player can show without asking the server
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
    from ..video import render_video

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
