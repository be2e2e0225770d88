"""Look at motions: an animated 3D HTML player and a static PNG filmstrip, both built with plotly.

    python -m motion_lora.viz 000021 --out walk.html                  # clip id from data/motionbank
    python -m motion_lora.viz sample.npy --out sample.png --view side  # joints (T,22,3) or features (T,263)

Coordinates are HumanML3D's: metres, y up, the body faces +z at frame 0, its left is +x, 20 fps.
Plotly's 3D scene is z-up, so the player shows our axes cyclically permuted (a rotation, not a mirror):
plotly x = our z (forward), plotly y = our x (left), plotly z = our y (up).

PNG export goes through kaleido 1.x, which drives a Chrome/Chromium. Kaleido (through choreographer) takes
the browser from the BROWSER_PATH environment variable, else searches PATH for chrome/chromium names and a few
typical install paths. `save` sets BROWSER_PATH to the first Chromium/Chrome it finds when the variable is
unset and never downloads a browser; without one it raises RuntimeError.
"""

from __future__ import annotations

import argparse
import os
import shutil
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..motion.features import FEATURE_DIM, recover_joints
from ..motion.skeleton import FPS, JOINT, KINEMATIC_CHAINS, LEFT_JOINTS, NUM_JOINTS, RIGHT_JOINTS, check_joints

DEFAULT_DATA = "data/motionbank"
SUPPORTED_OUTPUTS = (".html", ".png")
VIEWS = ("side", "front", "both")

# Body-part groups: (name, colour). A chain is "left"/"right" when every joint after its first one is.
GROUP_COLOURS = {"left": "#1f77b4", "right": "#d62728", "centre": "#3a3a3a"}
GROUP_LABELS = {"left": "left limbs", "right": "right limbs", "centre": "spine / head"}
TRAIL_COLOUR = "#2ca02c"
FLOOR_COLOUR = "#d9d9d9"
GRID_COLOUR = "#a8a8a8"

# Browsers kaleido can drive, in the order we look for them when BROWSER_PATH is unset.
BROWSER_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def _chain_group(chain: tuple[int, ...]) -> str:
    limb = set(chain[1:])
    if limb <= set(LEFT_JOINTS):
        return "left"
    if limb <= set(RIGHT_JOINTS):
        return "right"
    return "centre"


# group -> list of chains, in KINEMATIC_CHAINS order
# Drawn left, centre, right: in the side view the camera is on the body's right, so the near limbs go on top.
BONE_GROUPS: dict[str, list[tuple[int, ...]]] = {"left": [], "centre": [], "right": []}
for _chain in KINEMATIC_CHAINS:
    BONE_GROUPS[_chain_group(_chain)].append(_chain)


# ---------------------------------------------------------------------------------------------- loading


def as_joints(array: np.ndarray) -> np.ndarray:
    """Joints (T, 22, 3) or HumanML3D features (T, 263), told apart by shape -> validated joints (T, 22, 3)."""
    array = np.asarray(array)
    if not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"expected a numeric array, got dtype {array.dtype}")
    if array.ndim == 2 and array.shape[1] == FEATURE_DIM:
        if not np.isfinite(array).all():
            raise ValueError("features contain NaN or infinite values")
        if array.shape[0] < 1:
            raise ValueError("features have no frames")
        return check_joints(recover_joints(array))
    if array.ndim == 3 and array.shape[1:] == (NUM_JOINTS, 3):
        if array.shape[0] < 1:
            raise ValueError("joints have no frames")
        return check_joints(array)
    raise ValueError(
        f"cannot tell what an array of shape {array.shape} is: expected joints (T, {NUM_JOINTS}, 3) "
        f"or features (T, {FEATURE_DIM})"
    )


def _first_caption(text_file: Path) -> str | None:
    if not text_file.is_file():
        return None
    for line in text_file.read_text(encoding="utf-8").splitlines():
        caption = line.split("#", 1)[0].strip()
        if caption:
            return caption
    return None


def load_motion(arg: str | os.PathLike, data_dir: str | os.PathLike = DEFAULT_DATA) -> tuple[np.ndarray, str]:
    """A `.npy` path or a clip id -> (joints (T, 22, 3), title).

    An id is looked up in `<data_dir>/new_joints/<id>.npy` (then `new_joint_vecs/<id>.npy`); the title is
    the clip's first caption from `texts/<id>.txt` when there is one, else the id / file name.
    Raises FileNotFoundError for a missing file or unknown id and ValueError for unusable contents.
    """
    arg_str = os.fspath(arg)
    path = Path(arg_str)
    if arg_str.endswith(".npy") or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"no such motion file: {path}")
        # A file inside a HumanML3D layout (<root>/new_joints/<id>.npy) still gets its caption.
        title = _first_caption(path.parent.parent / "texts" / f"{path.stem}.txt") or path.stem
    else:
        data = Path(data_dir)
        candidates = [data / "new_joints" / f"{arg_str}.npy", data / "new_joint_vecs" / f"{arg_str}.npy"]
        found = [c for c in candidates if c.is_file()]
        if not found:
            if not data.is_dir():
                raise FileNotFoundError(f"unknown clip id {arg_str!r}: data folder {data} does not exist")
            raise FileNotFoundError(f"unknown clip id {arg_str!r}: neither {candidates[0]} nor {candidates[1]} exists")
        path = found[0]
        title = _first_caption(data / "texts" / f"{arg_str}.txt") or arg_str
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as err:  # pickled object arrays, truncated files
        raise ValueError(f"cannot read {path} as a numeric .npy array: {err}") from None
    try:
        return as_joints(array), title
    except ValueError as err:
        raise ValueError(f"{path}: {err}") from None


# ---------------------------------------------------------------------------------------------- 3D player


def _to_scene(points: np.ndarray) -> np.ndarray:
    """Our (x, y, z) -> plotly scene (x, y, z) = our (z, x, y): a rotation that makes y point up."""
    return points[..., [2, 0, 1]]


def _polyline(pose: np.ndarray, chains: list[tuple[int, ...]]) -> np.ndarray:
    """Chains of one pose joined into one polyline, None-separated (as NaN rows): (K, 3)."""
    pieces = []
    for chain in chains:
        pieces.append(pose[list(chain)])
        pieces.append(np.full((1, 3), np.nan))
    return np.concatenate(pieces[:-1])


def _xyz(points: np.ndarray) -> dict:
    """(K, 3) scene points -> plotly x/y/z lists with None in the NaN gaps."""
    def column(i):
        return [None if np.isnan(v) else float(round(v, 4)) for v in points[:, i]]

    return {"x": column(0), "y": column(1), "z": column(2)}


def _skeleton_traces(pose: np.ndarray, label: str, show_legend: bool) -> list[go.Scatter3d]:
    """One pose (22, 3) in scene coordinates -> three line traces (left, right, centre) and a name tag."""
    traces = []
    for group, chains in BONE_GROUPS.items():
        traces.append(
            go.Scatter3d(
                **_xyz(_polyline(pose, chains)),
                mode="lines+markers",
                line={"color": GROUP_COLOURS[group], "width": 7},
                marker={"color": GROUP_COLOURS[group], "size": 3},
                name=GROUP_LABELS[group],
                legendgroup=group,
                showlegend=show_legend,
                hoverinfo="skip",
            )
        )
    head = pose[JOINT["head"]] + np.array([0.0, 0.0, 0.25])
    traces.append(
        go.Scatter3d(
            **_xyz(head[None]),
            mode="text",
            text=[label],
            textfont={"size": 13, "color": "#222222"},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    return traces


def _floor_traces(x_range: tuple[float, float], y_range: tuple[float, float], step: float = 0.5) -> list:
    """A flat plane at our y = 0 (scene z = 0) with grid lines every `step` metres."""
    plane = go.Surface(
        x=list(x_range),
        y=list(y_range),
        z=[[0.0, 0.0], [0.0, 0.0]],
        colorscale=[[0, FLOOR_COLOUR], [1, FLOOR_COLOUR]],
        showscale=False,
        opacity=0.6,
        hoverinfo="skip",
        name="floor",
    )
    xs, ys = [], []
    for x in np.arange(np.ceil(x_range[0] / step) * step, x_range[1] + 1e-9, step):
        xs += [x, x, None]
        ys += [y_range[0], y_range[1], None]
    for y in np.arange(np.ceil(y_range[0] / step) * step, y_range[1] + 1e-9, step):
        xs += [x_range[0], x_range[1], None]
        ys += [y, y, None]
    grid = go.Scatter3d(
        x=xs,
        y=ys,
        z=[None if v is None else 0.0 for v in xs],
        mode="lines",
        line={"color": GRID_COLOUR, "width": 1},
        showlegend=False,
        hoverinfo="skip",
        name="grid",
    )
    return [plane, grid]


def _animation_controls(num_frames: int) -> tuple[list, list]:
    frame_ms = 1000 / FPS
    play = {"frame": {"duration": frame_ms, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0}, "mode": "immediate"}
    pause = {"frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}, "mode": "immediate"}
    buttons = [
        {
            "type": "buttons",
            "direction": "left",
            "x": 0.0,
            "y": 0.0,
            "xanchor": "left",
            "yanchor": "top",
            "pad": {"t": 10, "r": 10},
            "showactive": False,
            "buttons": [
                {"label": "▶ play", "method": "animate", "args": [None, play]},
                {"label": "❚❚ pause", "method": "animate", "args": [[None], pause]},
            ],
        }
    ]
    seek = {"frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}, "mode": "immediate"}
    sliders = [
        {
            "active": 0,
            "x": 0.25,  # to the right of the buttons
            "len": 0.73,
            "y": 0.0,
            "yanchor": "top",
            "pad": {"t": 10},
            # one step per frame; the step labels are hidden (they would overlap), the current one is shown
            "font": {"color": "rgba(0,0,0,0)"},
            "ticklen": 0,
            "minorticklen": 0,
            "currentvalue": {"prefix": "frame ", "font": {"size": 13, "color": "#222222"}},
            "steps": [
                {"label": f"{i}  ({i / FPS:.2f} s)", "method": "animate", "args": [[str(i)], seek]}
                for i in range(num_frames)
            ],
        }
    ]
    return buttons, sliders


def motion_figure(joints_list: list[np.ndarray], labels: list[str] | None = None, title: str | None = None) -> go.Figure:
    """Animated 3D figure of N clips (each (T_i, 22, 3)) played in sync, side by side along x.

    Clips shorter than the longest hold their last pose. Axis ranges are fixed over the whole animation and
    have equal scale; the floor is the plane y = 0 and each clip's root trail is drawn on it.
    """
    if isinstance(joints_list, np.ndarray):
        joints_list = [joints_list]
    if len(joints_list) == 0:
        raise ValueError("motion_figure needs at least one clip")
    clips = [check_joints(j) for j in joints_list]
    labels = list(labels) if labels is not None else [f"clip {i}" for i in range(len(clips))]
    if len(labels) != len(clips):
        raise ValueError(f"got {len(clips)} clips but {len(labels)} labels")

    # Side by side: clip i is shifted along our x so that the clips' x extents do not overlap.
    gap = 0.6
    placed, cursor = [], 0.0
    for clip in clips:
        lo, hi = clip[..., 0].min(), clip[..., 0].max()
        placed.append(clip + np.array([cursor - lo, 0.0, 0.0]))
        cursor += (hi - lo) + gap
    centre_x = (cursor - gap) / 2
    scene_clips = [_to_scene(c - np.array([centre_x, 0.0, 0.0])) for c in placed]

    # Fixed, equal-scale ranges over every frame of every clip, with the floor and head-room for the labels.
    everything = np.concatenate([c.reshape(-1, 3) for c in scene_clips])
    lo = everything.min(0) - 0.4
    hi = everything.max(0) + 0.4
    lo[2] = min(0.0, everything[:, 2].min()) - 0.02
    hi[2] = everything[:, 2].max() + 0.35
    span = hi - lo
    # keep very flat scenes from looking squashed: each horizontal axis at least as long as the height
    for axis in (0, 1):
        if span[axis] < span[2]:
            mid = (lo[axis] + hi[axis]) / 2
            lo[axis], hi[axis] = mid - span[2] / 2, mid + span[2] / 2
    span = hi - lo

    num_frames = max(len(c) for c in scene_clips)

    def pose_traces(frame: int) -> list:
        traces = []
        for i, (clip, label) in enumerate(zip(scene_clips, labels)):
            traces += _skeleton_traces(clip[min(frame, len(clip) - 1)], label, show_legend=(i == 0))
        return traces

    static = _floor_traces((lo[0], hi[0]), (lo[1], hi[1]))
    for i, clip in enumerate(scene_clips):
        trail = clip[:, 0].copy()
        trail[:, 2] = 0.005  # just above the floor plane
        static.append(
            go.Scatter3d(
                **_xyz(trail),
                mode="lines",
                line={"color": TRAIL_COLOUR, "width": 4},
                name="root trail",
                legendgroup="trail",
                showlegend=(i == 0),
                hoverinfo="skip",
            )
        )
    animated_ids = list(range(len(static), len(static) + len(pose_traces(0))))

    fig = go.Figure(data=static + pose_traces(0))
    fig.frames = [go.Frame(name=str(f), data=pose_traces(f), traces=animated_ids) for f in range(num_frames)]

    buttons, sliders = _animation_controls(num_frames)
    biggest = span.max()

    def axis(title_text: str, i: int) -> dict:
        return {
            "title": {"text": title_text},
            "range": [float(lo[i]), float(hi[i])],
            "autorange": False,
            "backgroundcolor": "#f7f7f7",
            "gridcolor": "#e0e0e0",
            "zeroline": False,
        }

    fig.update_layout(
        title={"text": title or "", "x": 0.5},
        scene={
            "xaxis": axis("z  (forward, m)", 0),
            "yaxis": axis("x  (left, m)", 1),
            "zaxis": axis("y  (up, m)", 2),
            "aspectmode": "manual",
            "aspectratio": {k: float(s / biggest) for k, s in zip("xyz", span)},
            # three-quarter view from in front of the body, slightly above
            "camera": {"up": {"x": 0, "y": 0, "z": 1}, "eye": {"x": 1.3, "y": 0.9, "z": 0.5}, "center": {"x": 0, "y": 0, "z": -0.1}},
            "dragmode": "turntable",
        },
        updatemenus=buttons,
        sliders=sliders,
        legend={"x": 0.01, "y": 0.98, "bgcolor": "rgba(255,255,255,0.7)"},
        margin={"l": 0, "r": 0, "t": 50, "b": 80},
        height=720,
        template="plotly_white",
    )
    return fig


# ---------------------------------------------------------------------------------------------- filmstrip


def _view_axes(view: str) -> tuple[int, str]:
    """Which of our axes is horizontal in a 2D view, and its label."""
    if view == "side":
        return 2, "z"  # looking from the body's right side: forward (+z) points right
    if view == "front":
        return 0, "x"  # looking at the body's front: its left (+x) appears on the right
    raise ValueError(f"unknown view {view!r}; choose one of {VIEWS}")


def filmstrip_figure(joints: np.ndarray, poses: int = 8, view: str = "both", title: str | None = None) -> go.Figure:
    """Static strip of `poses` evenly spaced poses, orthographic side and/or front view, equal scale.

    Every cell shows the same extent in metres (centred on that pose's root), so sizes compare across cells.
    """
    joints = as_joints(joints)
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; choose one of {VIEWS}")
    if poses < 1:
        raise ValueError(f"poses must be at least 1, got {poses}")
    views = ["side", "front"] if view == "both" else [view]
    frames = np.unique(np.linspace(0, len(joints) - 1, poses).round().astype(int))
    cols = len(frames)

    # One horizontal half-width and one vertical range for all cells: equal scale everywhere.
    half_width = 0.0
    for v in views:
        h, _ = _view_axes(v)
        offsets = joints[frames, :, h] - joints[frames, :1, h]
        half_width = max(half_width, np.abs(offsets).max())
    half_width += 0.15
    y_lo = min(0.0, joints[frames, :, 1].min()) - 0.08
    y_hi = joints[frames, :, 1].max() + 0.12
    cell_w_m, cell_h_m = 2 * half_width, y_hi - y_lo

    px_per_m = 190.0
    cell_w, cell_h = px_per_m * cell_w_m, px_per_m * cell_h_m
    gap_w, gap_h, margin_l, margin_r, margin_t, margin_b = 18, 70, 70, 20, 70 if title else 40, 60
    width = int(margin_l + margin_r + cols * cell_w + (cols - 1) * gap_w)
    height = int(margin_t + margin_b + len(views) * cell_h + (len(views) - 1) * gap_h)
    plot_w, plot_h = width - margin_l - margin_r, height - margin_t - margin_b

    fig = make_subplots(
        rows=len(views),
        cols=cols,
        horizontal_spacing=gap_w / plot_w if cols > 1 else 0.0,
        vertical_spacing=gap_h / plot_h if len(views) > 1 else 0.0,
    )
    for r, v in enumerate(views, start=1):
        h, h_name = _view_axes(v)
        for c, f in enumerate(frames, start=1):
            pose = joints[f]
            centre = pose[0, h]
            fig.add_shape(
                type="line", x0=centre - half_width, x1=centre + half_width, y0=0, y1=0,
                line={"color": GRID_COLOUR, "width": 2}, row=r, col=c,
            )
            for group, chains in BONE_GROUPS.items():
                line = _polyline(pose, chains)
                fig.add_trace(
                    go.Scatter(
                        x=[None if np.isnan(p) else p for p in line[:, h]],
                        y=[None if np.isnan(p) else p for p in line[:, 1]],
                        mode="lines+markers",
                        line={"color": GROUP_COLOURS[group], "width": 3},
                        marker={"color": GROUP_COLOURS[group], "size": 4},
                        name=GROUP_LABELS[group],
                        legendgroup=group,
                        showlegend=(r == 1 and c == 1),
                        hoverinfo="skip",
                    ),
                    row=r,
                    col=c,
                )
            fig.update_xaxes(
                range=[centre - half_width, centre + half_width],
                title={"text": f"frame {f}<br>{f / FPS:.2f} s", "font": {"size": 12}, "standoff": 4},
                row=r, col=c,
            )
            fig.update_yaxes(range=[y_lo, y_hi], row=r, col=c)
            # the cell sizes above already give equal scale; the anchor keeps it exact if someone resizes
            y_axis_id = fig.get_subplot(r, c).xaxis.anchor  # e.g. "y3"
            fig.update_xaxes(scaleanchor=y_axis_id, scaleratio=1, constrain="domain", row=r, col=c)
        fig.update_yaxes(title={"text": f"{v} view<br>y (m)", "font": {"size": 12}}, row=r, col=1)
        fig.add_annotation(
            text=f"horizontal: {h_name} (m)", xref="paper", yref="paper", showarrow=False, x=1.0,
            xanchor="right", y=fig.get_subplot(r, cols).yaxis.domain[1], yanchor="bottom", font={"size": 10, "color": "#777777"},
        )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, ticks="")
    fig.update_yaxes(showgrid=True, gridcolor="#eeeeee", zeroline=False, dtick=0.5)
    fig.update_yaxes(showticklabels=False)
    for r in range(1, len(views) + 1):
        fig.update_yaxes(showticklabels=True, row=r, col=1)
    fig.update_layout(
        width=width,
        height=height,
        title={"text": title or "", "x": 0.5, "y": 1 - 18 / height, "yanchor": "top"},
        margin={"l": margin_l, "r": margin_r, "t": margin_t, "b": margin_b},
        template="plotly_white",
        legend={"orientation": "h", "x": 0.0, "y": 1.0, "yanchor": "bottom", "xanchor": "left"},
        plot_bgcolor="white",
    )
    return fig


# ---------------------------------------------------------------------------------------------- saving


def _check_output(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUPPORTED_OUTPUTS:
        raise ValueError(f"unsupported output {os.fspath(path)!r}: the file name must end in {' or '.join(SUPPORTED_OUTPUTS)}")
    return suffix


def find_browser() -> str | None:
    """The Chrome/Chromium kaleido will use: $BROWSER_PATH if set, else the first candidate found."""
    if os.environ.get("BROWSER_PATH"):
        return os.environ["BROWSER_PATH"]
    for candidate in BROWSER_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def save(fig: go.Figure, path: str | os.PathLike) -> Path:
    """Write `fig` to `.html` (self-contained, plotly.js embedded) or `.png` (kaleido + Chromium)."""
    suffix = _check_output(path)
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        fig.write_html(path, include_plotlyjs=True, full_html=True, auto_play=False)
        return path

    browser = find_browser()
    if browser is None or not Path(browser).is_file():
        raise RuntimeError(
            "PNG export needs a Chrome/Chromium browser for kaleido and none was found "
            f"(looked for BROWSER_PATH, then {', '.join(BROWSER_CANDIDATES)}). Install chromium "
            "(e.g. `apt-get install chromium`) or set BROWSER_PATH to its executable; or write .html instead."
        )
    os.environ.setdefault("BROWSER_PATH", browser)  # what choreographer, under kaleido, reads first
    try:
        image = fig.to_image(format="png")
    except Exception as err:  # kaleido/choreographer failures surface as assorted exception types
        raise RuntimeError(f"PNG export with kaleido via {browser} failed: {err}") from err
    path.write_bytes(image)
    return path


# ---------------------------------------------------------------------------------------------- CLI


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m motion_lora.viz",
        description="Render a HumanML3D-format motion as an animated 3D HTML player or a PNG filmstrip.",
    )
    parser.add_argument("motion", help="clip id (looked up in DATA/new_joints) or a .npy of joints (T,22,3) or features (T,263)")
    parser.add_argument("--out", required=True, help="output file: .html (animated 3D) or .png (filmstrip)")
    parser.add_argument("--data", default=DEFAULT_DATA, help=f"dataset folder in HumanML3D layout (default {DEFAULT_DATA})")
    parser.add_argument("--title", default=None, help="figure title (default: the clip's first caption, or its name)")
    parser.add_argument("--view", choices=VIEWS, default="both", help="filmstrip views (PNG only; default both)")
    parser.add_argument("--poses", type=int, default=8, help="number of poses in the filmstrip (PNG only; default 8)")
    return parser


def main(argv: list[str] | None = None) -> Path:
    args = build_parser().parse_args(argv)
    try:
        suffix = _check_output(args.out)
        if args.poses < 1:
            raise ValueError(f"--poses must be at least 1, got {args.poses}")
        joints, default_title = load_motion(args.motion, args.data)
        title = args.title if args.title is not None else default_title
        if suffix == ".html":
            label = Path(args.motion).stem if args.motion.endswith(".npy") else args.motion
            fig = motion_figure([joints], [label], title=title)
        else:
            fig = filmstrip_figure(joints, poses=args.poses, view=args.view, title=title)
        out = save(fig, args.out)
    except (OSError, ValueError, RuntimeError) as err:
        raise SystemExit(f"error: {err}") from None
    print(f"wrote {out} ({len(joints)} frames)")
    return out


if __name__ == "__main__":
    main()
