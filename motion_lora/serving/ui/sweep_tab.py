"""The Strength sweep tab: one skeleton per strength from the same noise, concept presence and retain drift."""

from __future__ import annotations

import gradio as gr

from ...model.generator import MAX_PROMPT_CHARS
from ...model.sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS, SCHEDULERS
from ..service import SWEEP_SCALES, seconds_to_frames
from . import values
from .context import AppContext
from .downloads import sweep_clip
from .errors import gpu, user_errors
from .pickers import adapter_choices, picker_info
from .player import placeholder_html, player_html
from .plots import sweep_figure


def build(ctx: AppContext, example: str) -> gr.Dropdown:
    """The tab's layout and events (inside gr.Tabs); returns its adapter picker (refreshed with the others)."""
    lab = ctx.lab

    @user_errors
    def sweep(prompt, adapter, scales, seed, seconds, steps, scheduler=DEFAULT_SCHEDULER):
        s = lab.sweep(prompt, adapter, values.number_list(scales, "scales", -5, 5) or list(SWEEP_SCALES),
                      seed=values.number(seed, "seed", 0, 2**31 - 1, whole=True), frames=seconds_to_frames(values.number(seconds, "length (s)", 1, 9.8)),
                      steps=values.number(steps, "steps", 1, 200, whole=True), scheduler=values.scheduler(scheduler))
        info = lab.infos[s.adapter]
        data = {"prompt": s.prompt, "adapter": s.adapter, "concept": info.concept, "scales": s.scales, "presence": s.presence,
                "retain_drift_m": s.retain_drift, "joints_shape": [len(s.joints), int(s.joints[0].shape[0]), 22, 3]}
        return {player: player_html([(f"×{v:g}", j) for v, j in zip(s.scales, s.joints)], layout="grid"), plot: sweep_figure(s, info.concept),
                details: data, clip: sweep_clip(s, info.short, info.concept)}

    with gr.Tab("Strength sweep", id="sweep"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                prompt = gr.Textbox(label="Prompt", value=example, max_lines=3, max_length=MAX_PROMPT_CHARS)
                adapter = gr.Dropdown(adapter_choices(lab, None), value=ctx.first_pick(), allow_custom_value=True, label="Adapter", info=picker_info(lab))
                scales = gr.Textbox(label="Strengths", value="-0.5, 0, 0.5, 1, 1.5", info="comma-separated, 1 to 9 values between -5 and 5")
                with gr.Row():
                    seed = gr.Number(0, label="Seed", minimum=0, maximum=2**31 - 1)
                    length = gr.Slider(2, 9.8, value=4.0, step=0.2, label="Length (s)")
                with gr.Row():
                    steps = gr.Slider(1, 100, value=DEFAULT_STEPS, step=1, label="Sampling steps", scale=2)
                    sampler = gr.Dropdown(list(SCHEDULERS), value=DEFAULT_SCHEDULER, label="Scheduler", scale=1)
                run_btn = gr.Button("Run sweep", variant="primary", size="lg")
                gr.Markdown("Each strength also generates two retain probes (*a person walks forward*, *someone jumps up in place*) "
                            "to measure how far the adapter moves motions it should leave alone.")
            with gr.Column(scale=3, min_width=420):
                player = gr.HTML(label="player", value=placeholder_html("One skeleton per strength, same noise, same camera."), js_on_load=None, min_height=320)
                plot = gr.Plot(label="Concept presence and retain drift vs strength")
                with gr.Row(equal_height=False):
                    video_btn = gr.Button("Download as video (MP4)", size="sm", scale=0, min_width=220)
                    video_file = gr.File(label="sweep grid video, labelled (MP4, 20 fps)", interactive=False, height=70, scale=1)
                clip = gr.State(None)  # this session's last sweep, for the video
                with gr.Accordion("Details (JSON)", open=False):
                    details = gr.JSON(label="sweep data")
    run_btn.click(gpu(sweep), [prompt, adapter, scales, seed, length, steps, sampler], [player, plot, details, clip], api_name="sweep", **ctx.merged)
    video_btn.click(ctx.video_handler(), clip, video_file, api_name="sweep_video", **ctx.video_events)
    return adapter
