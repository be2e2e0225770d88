"""Plotly charts: presence bars (base vs unlearned), the scale sweep, the training loss."""

from __future__ import annotations

from ...checks import check_number
from ..service import Sweep


def _finite(v) -> bool:
    """Is `v` a finite number? Stored results hold None or NaN where a metric was not computed."""
    try:
        check_number(v, "a metric")
    except ValueError:
        return False
    return True


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
