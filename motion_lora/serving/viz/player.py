"""The animated 3D HTML player: N clips side by side, played in sync, on a floor with their root trails.

Plotly's 3D scene is z-up, so the player shows our axes cyclically permuted (a rotation, not a mirror):
plotly x = our z (forward), plotly y = our x (left), plotly z = our y (up)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from ...motion.skeleton import FPS, JOINT, check_joints
from .style import BONE_GROUPS, FLOOR_COLOUR, GRID_COLOUR, GROUP_COLOURS, GROUP_LABELS, TRAIL_COLOUR, polyline


def _to_scene(points: np.ndarray) -> np.ndarray:
    """Our (x, y, z) -> plotly scene (x, y, z) = our (z, x, y): a rotation that makes y point up."""
    return points[..., [2, 0, 1]]


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
                **_xyz(polyline(pose, chains)),
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
    play = {"frame": {"duration": frame_ms, "redraw": True}, "fromcurrent": True, "transition": {"duration": 0},
            "mode": "immediate"}
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


def motion_figure(joints_list: list[np.ndarray], labels: list[str] | None = None,
                  title: str | None = None) -> go.Figure:
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
            "camera": {"up": {"x": 0, "y": 0, "z": 1}, "eye": {"x": 1.3, "y": 0.9, "z": 0.5},
                       "center": {"x": 0, "y": 0, "z": -0.1}},
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
