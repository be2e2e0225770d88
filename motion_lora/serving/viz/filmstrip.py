"""The static PNG filmstrip: evenly spaced poses in orthographic side and/or front views, at equal scale."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ...motion.skeleton import FPS
from .loading import as_joints
from .style import BONE_GROUPS, GRID_COLOUR, GROUP_COLOURS, GROUP_LABELS, polyline

VIEWS = ("side", "front", "both")


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
                line = polyline(pose, chains)
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
            xanchor="right", y=fig.get_subplot(r, cols).yaxis.domain[1], yanchor="bottom",
            font={"size": 10, "color": "#777777"},
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
