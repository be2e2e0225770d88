"""Helpers behind the Gradio app (app.py), one idea per module: parsing values, limits, pickers, the player,
download files, result tables, charts, the training queue. Nothing imports gradio at module level, so the
helpers stay testable on their own; app.py calls them as `ui.<name>`, re-exported here."""

from __future__ import annotations

from .errors import gpu, malformed_request, user_errors
from .values import adapter_list, flag, lines, number, number_list, scheduler
from .settings import login_required, max_iterations, max_queued_trainings, training_disabled
from .pickers import adapter_choices, made_when, own_choices, visitor
from .player import head_html, placeholder_html, player_html
from .downloads import (
    OutputDir, clip_video, comparison_clip, comparison_files, comparison_summary, evicted_note, steered_label,
    sweep_clip, zip_adapter,
)
from .tables import (
    TABLE_HEADERS, TABLE_LABEL, TABLE_WIDTHS, attack_summary, eval_caption, eval_rows, preserved_note,
    shipped_eval,
)
from .plots import loss_figure, presence_figure, sweep_figure
from .trainings import TRAINING, AlreadyQueued

__all__ = [
    "gpu", "malformed_request", "user_errors", "adapter_list", "flag", "lines", "number", "number_list",
    "scheduler", "login_required", "max_iterations", "max_queued_trainings", "training_disabled",
    "adapter_choices", "made_when", "own_choices", "visitor", "head_html", "placeholder_html", "player_html",
    "OutputDir", "clip_video", "comparison_clip", "comparison_files", "comparison_summary", "evicted_note",
    "steered_label", "sweep_clip", "zip_adapter", "TABLE_HEADERS", "TABLE_LABEL", "TABLE_WIDTHS",
    "attack_summary", "eval_caption", "eval_rows", "preserved_note", "shipped_eval", "loss_figure",
    "presence_figure", "sweep_figure", "TRAINING", "AlreadyQueued",
]
