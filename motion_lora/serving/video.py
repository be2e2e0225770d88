"""MP4 videos of motions for slides and papers: labelled skeleton panels side by side or in a grid, drawn with
Pillow and encoded by the ffmpeg binary that the `imageio-ffmpeg` wheel ships (no system ffmpeg needed).

    render_video("kick.mp4", [("base", joints_a), ("steered (kick ×1.0)", joints_b)], title="a person kicks")

Every panel uses the same orthographic camera and the same scale, so motions compare at a glance; each panel
is centred on its own motion. A 5 s side-by-side clip renders in well under a second on a laptop CPU
(`python -m benchmarks.performance.video`).
"""

from __future__ import annotations

import functools
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ..motion.skeleton import FPS, KINEMATIC_CHAINS, LEFT_JOINTS, RIGHT_JOINTS, check_joints

MAX_PANELS = 9
PANEL_W, PANEL_H = 400, 400  # pixels; multiples of 16 so the encoder never rescales
GRID_PANEL_W, GRID_PANEL_H = 320, 352
TITLE_H = 48
CAMERA_AZIMUTH_DEG = 30.0  # rotation about y away from the front view (frame 0 faces +Z), so depth shows as sideways motion
FILL = 0.78  # share of the panel the tallest / widest motion takes
BACKGROUND, INK, MUTED, FLOOR = (255, 255, 255), (25, 30, 40), (110, 118, 130), (200, 205, 212)
GROUP_COLOURS = {"left": (31, 111, 209), "right": (215, 55, 63), "centre": (60, 66, 80)}
BONE_WIDTH = 5
MIN_EXTENT_M = 1.9  # the panel always fits a standing person with raised arms
FLOOR_TICK_M = 0.5  # floor marks every half metre move past as the body travels
FLOOR_MARGIN = 28  # pixels from the floor line to the panel's bottom edge


def _group(chain: tuple[int, ...]) -> str:
    limb = set(chain[1:])
    return "left" if limb <= set(LEFT_JOINTS) else "right" if limb <= set(RIGHT_JOINTS) else "centre"


BONES = [(_group(c), c) for c in KINEMATIC_CHAINS]


FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "DejaVuSans.ttf")  # wide Unicode coverage where installed
ASCII_FALLBACK = {"×": "x", "–": "-", "—": "-", "’": "'", "“": '"', "”": '"'}


@functools.lru_cache(maxsize=16)
def font(size: int) -> ImageFont.ImageFont:
    """DejaVu Sans when the system has it, else Pillow's bundled scalable font (always there)."""
    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def drawable(text: str, fnt) -> str:
    """`text` with characters the font has no glyph for replaced (× -> x, other scripts -> ?), so a label never
    shows empty boxes."""
    missing = list(fnt.getmask("\uffff"))
    out = []
    for ch in text:
        if ch.isascii() or list(fnt.getmask(ch)) != missing:
            out.append(ch)
        else:
            out.append(ASCII_FALLBACK.get(ch, "?"))
    return "".join(out)


def project(joints: np.ndarray, azimuth_deg: float = CAMERA_AZIMUTH_DEG) -> np.ndarray:
    """World joints (T, 22, 3), y up -> screen coordinates (T, 22, 2) in metres (x right, y up), orthographic,
    camera turned `azimuth_deg` about the vertical from the front view."""
    a = math.radians(azimuth_deg)
    right = np.array([math.cos(a), 0.0, -math.sin(a)])  # at 0 the camera looks at the front: the body's left (+X) is on screen right
    return np.stack([joints @ right, joints[..., 1]], axis=-1)


def _layout(n: int, columns: int | None) -> tuple[int, int, int, int]:
    """(columns, rows, panel width, panel height) for n panels."""
    if columns is None:
        columns = n if n <= 2 else min(n, 5)
    columns = max(1, min(columns, n))
    rows = math.ceil(n / columns)
    w, h = (PANEL_W, PANEL_H) if n <= 2 else (GRID_PANEL_W, GRID_PANEL_H)
    return columns, rows, w, h


def _fit(text: str, fnt, width: int) -> str:
    """`text` (drawable in `fnt`), cut with an ellipsis to fit `width` pixels."""
    text = drawable(text, fnt)
    if fnt.getlength(text) <= width:
        return text
    while text and fnt.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


def render_video(path: str | Path, motions: list[tuple[str, np.ndarray]], title: str, *, captions: list[str] | None = None,
                 columns: int | None = None, fps: int = FPS, footer: str = "Motion LoRA") -> Path:
    """Write an H.264 MP4 of labelled skeleton panels, one per (label, joints (T, 22, 3)); shorter motions hold
    their last frame. `captions` adds a second line under each label (e.g. the evaluator's concept). Returns path."""
    import imageio_ffmpeg

    if not 1 <= len(motions) <= MAX_PANELS:
        raise ValueError(f"a video shows 1 to {MAX_PANELS} motions, got {len(motions)}")
    if captions is not None and len(captions) != len(motions):
        raise ValueError(f"got {len(captions)} captions for {len(motions)} motions")
    labels = [str(label) for label, _ in motions]
    clips = [check_joints(j) for _, j in motions]
    screens = [project(j) for j in clips]  # (T, 22, 2) each
    frames = max(len(s) for s in screens)
    cols, rows, pw, ph = _layout(len(clips), columns)
    width, height = cols * pw, rows * ph + TITLE_H

    # The camera follows each pelvis sideways (floor ticks show the travel); one scale for every panel, from the
    # largest pose extent around the pelvis and the height of any motion, so all bodies are drawn alike.
    extent = max(max(np.ptp(s[..., 0] - s[:, :1, 0], axis=1).max() * 1.3, s[..., 1].max() * 1.1, MIN_EXTENT_M) for s in screens)
    label_h = 56 if captions else 36
    scale = FILL * min(pw, ph - label_h) / extent  # pixels per metre
    background = _background(width, height, title, labels, captions, cols, pw, ph, label_h, footer)
    clock = font(15)
    panels = [(k % cols * pw, TITLE_H + k // cols * ph + ph - FLOOR_MARGIN) for k in range(len(screens))]  # (left x, floor y) pixels

    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, codec="libx264", pix_fmt_in="rgb24",
                                         pix_fmt_out="yuv420p", macro_block_size=16, quality=7, ffmpeg_log_level="error")
    writer.send(None)
    try:
        for t in range(frames):
            img = background.copy()
            draw = ImageDraw.Draw(img)
            for s, (left, floor_px) in zip(screens, panels):
                pts = s[min(t, len(s) - 1)]  # (22, 2)
                cx, px = pts[0, 0], left + pw / 2  # camera centre: this frame's pelvis
                first = math.ceil((cx - pw / 2 / scale) / FLOOR_TICK_M)
                for i in range(first, first + int(pw / scale / FLOOR_TICK_M) + 1):
                    tx = px + (i * FLOOR_TICK_M - cx) * scale
                    if left + 16 < tx < left + pw - 16:
                        draw.line([(tx, floor_px), (tx, floor_px + 7)], fill=FLOOR, width=2)
                xy = np.stack([px + (pts[:, 0] - cx) * scale, floor_px - pts[:, 1] * scale], axis=-1)
                draw.ellipse([px - 26, floor_px - 5, px + 26, floor_px + 5], fill=FLOOR)  # shadow under the pelvis
                for group, chain in BONES:
                    draw.line([tuple(xy[j]) for j in chain], fill=GROUP_COLOURS[group], width=BONE_WIDTH, joint="curve")
                head = xy[15]
                draw.ellipse([head[0] - 9, head[1] - 9, head[0] + 9, head[1] + 9], fill=GROUP_COLOURS["centre"])
            draw.text((width - 10, height - 8), f"{t / fps:4.2f} s", font=clock, fill=MUTED, anchor="rd")
            writer.send(img.tobytes())
    finally:
        writer.close()
    return Path(path)


def _background(width, height, title, labels, captions, cols, pw, ph, label_h, footer) -> Image.Image:
    """Title, panel labels, floor lines and panel borders: drawn once, copied per frame."""
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    draw.text((14, TITLE_H / 2), _fit(title, font(22), width - 200), font=font(22), fill=INK, anchor="lm")
    draw.text((width - 12, TITLE_H / 2), footer, font=font(14), fill=MUTED, anchor="rm")
    draw.line([(0, TITLE_H - 1), (width, TITLE_H - 1)], fill=FLOOR, width=1)
    big, small = font(19), font(15)
    for k, label in enumerate(labels):
        col, row = k % cols, k // cols
        x0, y0 = col * pw, TITLE_H + row * ph
        if col:
            draw.line([(x0, y0 + 8), (x0, y0 + ph - 8)], fill=FLOOR, width=1)
        draw.text((x0 + pw / 2, y0 + 10), _fit(label, big, pw - 16), font=big, fill=INK, anchor="mt")
        if captions:
            draw.text((x0 + pw / 2, y0 + 34), _fit(captions[k], small, pw - 16), font=small, fill=MUTED, anchor="mt")
        floor_px = y0 + ph - FLOOR_MARGIN
        draw.line([(x0 + 16, floor_px), (x0 + pw - 16, floor_px)], fill=FLOOR, width=2)
    return img
