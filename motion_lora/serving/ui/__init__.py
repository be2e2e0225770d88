"""The Gradio app's pieces (app.py builds the page from them).

One builder per tab (compare_tab, sweep_tab, unlearn_tab, evaluate_tab), over what every tab shares (context: the
lab and the deployment settings; picker_set: the adapter pickers of all tabs). Their handlers return
`{component: value}` dicts. Below them, helpers with one idea per module: parsing values, pickers, the player,
download files, result tables, charts, the training queue. The helpers import gradio only inside functions, so they
stay testable on their own; they are re-exported here as `ui.<name>`, the tab modules are imported by name."""

from __future__ import annotations

from .downloads import (
    OutputDir,
    clip_video,
    comparison_clip,
    comparison_files,
    comparison_summary,
    evicted_note,
    steered_label,
    sweep_clip,
    zip_adapter,
)
from .errors import gpu, malformed_request, user_errors
from .pickers import adapter_choices, made_when, own_choices, visitor
from .player import head_html, placeholder_html, player_html
from .plots import loss_figure, presence_figure, sweep_figure
from .tables import (
    TABLE_HEADERS,
    TABLE_LABEL,
    TABLE_WIDTHS,
    attack_summary,
    eval_caption,
    eval_rows,
    preserved_note,
    shipped_eval,
)
from .trainings import TRAINING, AlreadyQueued
from .values import adapter_list, flag, lines, number, number_list, scheduler

__all__ = [
    "TABLE_HEADERS",
    "TABLE_LABEL",
    "TABLE_WIDTHS",
    "TRAINING",
    "AlreadyQueued",
    "OutputDir",
    "adapter_choices",
    "adapter_list",
    "attack_summary",
    "clip_video",
    "comparison_clip",
    "comparison_files",
    "comparison_summary",
    "eval_caption",
    "eval_rows",
    "evicted_note",
    "flag",
    "gpu",
    "head_html",
    "lines",
    "loss_figure",
    "made_when",
    "malformed_request",
    "number",
    "number_list",
    "own_choices",
    "placeholder_html",
    "player_html",
    "presence_figure",
    "preserved_note",
    "scheduler",
    "shipped_eval",
    "steered_label",
    "sweep_clip",
    "sweep_figure",
    "user_errors",
    "visitor",
    "zip_adapter",
]
