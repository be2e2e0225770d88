"""The Evaluate tab: an adapter's stored evaluation and attack report, or a quick forget/retain evaluation run here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import gradio as gr
import pandas as pd

from .context import AppContext
from .errors import gpu, user_errors
from .pickers import adapter_choices, picker_info
from .plots import presence_figure
from .tables import TABLE_HEADERS, TABLE_LABEL, TABLE_WIDTHS, attack_summary, eval_caption, eval_rows, shipped_eval
from .values import number


@dataclass(frozen=True, kw_only=True)
class EvaluateTab:
    adapter: gr.Dropdown  # refreshed with the other pickers
    outputs: list  # caption, table, plot, raw result
    attack: gr.Markdown
    show_stored: Callable  # adapter -> the stored evaluation's outputs
    show_attack: Callable  # adapter -> the stored attack report

    def follow(self, event, attack: bool = True):
        """After `event` (a page load, a reload of the adapters): the picked adapter's stored evaluation, and its
        attack report unless `attack` is False."""
        event = event.then(self.show_stored, self.adapter, self.outputs, api_visibility="private", queue=False)
        return event.then(self.show_attack, self.adapter, self.attack, api_visibility="private", queue=False) if attack else event


def build(ctx: AppContext) -> EvaluateTab:
    """The tab's layout and events (inside gr.Tabs)."""
    lab = ctx.lab

    def result_outputs(result: dict, source: str) -> dict:
        return {caption: eval_caption(result, source), table: pd.DataFrame(eval_rows(result), columns=TABLE_HEADERS), plot: presence_figure(result),
                raw: result}

    @user_errors
    def evaluate(adapter, per_kind, per_concept, repeats, steps, progress=gr.Progress()):
        progress(0, desc="generating forget / retain sets")
        result = lab.evaluate(
            adapter, per_kind=number(per_kind, "forget prompts per kind", 1, 64, whole=True),
            per_concept=number(per_concept, "retain prompts per concept", 1, 16, whole=True),
            repeats=number(repeats, "repeats", 1, 10, whole=True), steps=number(steps, "steps", 1, 200, whole=True),
            progress=lambda f, msg: progress(f, desc=msg),
        )
        return result_outputs(result, "Quick evaluation (just run)")

    def show_stored(adapter):
        empty = {table: pd.DataFrame([], columns=TABLE_HEADERS), plot: None, raw: None}
        try:
            info = lab.infos[lab.adapter_name(adapter)]
        except ValueError:
            return {caption: "Pick an adapter.", **empty}
        result = shipped_eval(info)
        if result is None:
            return {caption: f"No stored evaluation for **{info.short}** yet — run a quick one below.  \n{info.describe()}", **empty}
        return result_outputs(result, "Stored evaluation (eval/metrics.json)")

    def show_attack(adapter):
        try:
            return attack_summary(lab.infos[lab.adapter_name(adapter)])
        except ValueError:
            return ""

    with gr.Tab("Evaluate", id="evaluate"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=1, min_width=300):
                adapter = gr.Dropdown(adapter_choices(lab, None), value=ctx.first_pick(), allow_custom_value=True, label="Adapter", info=picker_info(lab))
                with gr.Accordion("Quick evaluation settings", open=False):
                    per_kind = gr.Slider(1, 32, value=11, step=1, label="Forget prompts per kind", info="3 kinds: training phrasing, held-out phrasing, composite")
                    per_concept = gr.Slider(1, 8, value=1, step=1, label="Retain prompts per other concept")
                    repeats = gr.Slider(1, 5, value=2, step=1, label="Repeats (seeds)")
                    steps = gr.Slider(1, 50, value=10, step=1, label="Sampling steps")
                run_btn = gr.Button("Run quick evaluation", variant="primary")
                caption = gr.Markdown(label="summary")
            with gr.Column(scale=3, min_width=420):
                plot = gr.Plot(label="Concept presence")
                table = gr.Dataframe(headers=TABLE_HEADERS, label=TABLE_LABEL, interactive=False, wrap=True, column_widths=TABLE_WIDTHS, elem_id="eval-table")
                with gr.Accordion("Raw result (JSON)", open=False):
                    raw = gr.JSON(label="result")
                attack = gr.Markdown(elem_id="attack-report")
    tab = EvaluateTab(adapter=adapter, outputs=[caption, table, plot, raw], attack=attack, show_stored=show_stored, show_attack=show_attack)
    run_btn.click(gpu(evaluate), [adapter, per_kind, per_concept, repeats, steps], tab.outputs, api_name="evaluate", concurrency_limit=1, concurrency_id="model")
    adapter.change(show_stored, adapter, tab.outputs, api_visibility="private", queue=False).then(
        show_attack, adapter, attack, api_visibility="private", queue=False)
    return tab
