"""The Compare tab: base and steered motion side by side from the same noise, the live strength slider, downloads.

Each Generate also computes the steered motion at the strength grid (-1 to 2 in the slider's steps of 0.25, as far
as the merged batch has room: serving/slider_grid.py) and sends it in the same player payload. Moving the slider
then swaps the steered motion in the browser (the page's scrub listener, ui/player.py), keeping time and camera,
with no server round trip. Its release asks the server only to bring the evaluator's labels, the summary and the
downloads to the strength shown, from the session's stored grid; it generates (and re-mounts the player, resuming
its time position) only for a strength outside the grid, or after the form changed.

`compare_kwargs` turns the form into MotionLab.compare's arguments, `CompareView.show` turns a result into the
outputs' values, and `build` wires the events.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import gradio as gr

from ...model.generator import MAX_PROMPT_CHARS
from ...model.sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS, SCHEDULERS
from ..service import GRID_STRENGTHS, Comparison, seconds_to_frames
from .context import AppContext
from .downloads import comparison_clip, comparison_files, comparison_summary, steered_label
from .errors import gpu, user_errors
from .picker_set import COMBINED_INFO
from .pickers import adapter_choices, picker_info
from .player import SCRUB_CLASS, placeholder_html, player_html
from .values import adapter_list, flag, number, number_list, scheduler

MAX_SEED = 2**31 - 1


def compare_kwargs(prompt, adapters, scale, seed, seconds, steps, guidance, start_step, weights, scheduler_name, plant_feet, fast=True) -> dict:
    """The Compare form's values (as the UI or an API client sends them) -> MotionLab.compare's keyword arguments."""
    picked = adapter_list(adapters)
    if not picked:
        raise ValueError("choose at least one adapter to compare with the base model")
    return dict(
        prompt=prompt, adapters=picked, scale=number(scale, "strength", -5, 5), weights=number_list(weights, "weights", -5, 5, max_items=4) or None,
        seed=number(seed, "seed", 0, MAX_SEED, whole=True), frames=seconds_to_frames(number(seconds, "length (s)", 1, 9.8)),
        steps=number(steps, "steps", 1, 200, whole=True), guidance=number(guidance, "guidance", 0, 20),
        start_step=number(start_step, "start step", 0, 200, whole=True), scheduler=scheduler(scheduler_name), plant_feet=flag(plant_feet, "plant feet"),
        fast=flag(fast, "fast student"),
    )


@dataclass(frozen=True, kw_only=True)
class CompareView:
    """The outputs of a comparison: the player, the evaluator's labels, downloads, the summary, the session's clip."""

    player: gr.HTML
    base_label: gr.Label
    steered_label: gr.Label
    files: gr.File
    summary: gr.JSON
    clip: gr.State  # this session's last comparison, for the video and the downloads after a slider release

    @property
    def components(self) -> list:
        return [self.player, self.base_label, self.steered_label, self.files, self.summary, self.clip]

    def show(self, c: Comparison, names: dict[str, str], files: list[str] | None, form: tuple, resume: bool = False,
             player: bool = True) -> dict:
        """The outputs' values for comparison `c` (adapter folder names -> `names`' short ones in its labels), made
        from the form `form` (form_key); `resume`: the player goes on from the previous one's time position (a slider
        release); `player=False` leaves the player as it is (it already shows `c`: a strength of its grid)."""
        label = steered_label(c, names)
        out = {self.base_label: dict(c.base_concepts), self.steered_label: dict(c.steered_concepts), self.files: files,
               self.summary: comparison_summary(c, label), self.clip: {**comparison_clip(c, label), "form": form}}
        if player:
            grid = [(v.strength, steered_label(c, names, v.strength), v.joints) for v in c.grid]
            out[self.player] = player_html([("base", c.base_joints), (label, c.steered_joints)], keep="compare",
                                           resume=resume, variants={1: grid} if grid else None,
                                           strengths={1: c.scale} if grid else None)
        return out


def form_key(kwargs: dict) -> tuple:
    """What makes a comparison's motions (its compare_kwargs but the strength): a grid serves a release only while
    this is unchanged."""
    return tuple((k, repr(v)) for k, v in sorted(kwargs.items()) if k != "scale")


def student_info(lab) -> str:
    """The Fast student checkbox's help: which setting the student serves, or that this base has none."""
    spec = lab.generator.student
    if spec is None:
        return "this base has no few-step student: every setting runs the full sampler"
    return (f"a {spec.steps}-step student distilled from the base serves {spec.teacher_scheduler} {spec.teacher_steps} steps at "
            f"guidance {spec.guidance:g} (the defaults; no start step); off = the full sampler, slower, the reference quality")


def build(ctx: AppContext, examples: list[str]) -> gr.Dropdown:
    """The tab's layout and events (inside gr.Tabs); returns its adapter picker (refreshed with the others)."""
    lab = ctx.lab

    def names() -> dict[str, str]:
        return {i.name: i.short for i in lab.list_adapters()}

    @user_errors
    def generate(prompt, adapters, scale, seed, seconds, steps, guidance, start_step, weights, scheduler=DEFAULT_SCHEDULER, plant_feet=True,
                 fast=True):
        """Base and steered motion, and the steered one at the strength grid, in one merged batch."""
        kwargs = compare_kwargs(prompt, adapters, scale, seed, seconds, steps, guidance, start_step, weights, scheduler,
                                plant_feet, fast)
        c, shorts = lab.compare(**kwargs, grid=GRID_STRENGTHS), names()
        files = comparison_files(c, ctx.outputs.new("compare"), steered_label(c, shorts))
        return view.show(c, shorts, files, form_key(kwargs))

    @user_errors
    def restrength(prompt, adapters, scale, seed, seconds, steps, guidance, start_step, weights, scheduler, plant_feet,
                   fast, clip):
        """The strength slider's release. The player already shows the grid's strength nearest to it: when that is
        the strength released (and the form unchanged), only the labels, summary and session clip follow, from the
        stored grid. Otherwise the comparison at the new strength (base from the cache), the player resuming at its
        time position. Downloads follow in a second step (`downloads`)."""
        kwargs = compare_kwargs(prompt, adapters, scale, seed, seconds, steps, guidance, start_step, weights, scheduler,
                                plant_feet, fast)
        stored = (clip or {}).get("comparison") if (clip or {}).get("form") == form_key(kwargs) else None
        shown = stored.at(kwargs["scale"]) if stored is not None else None
        if shown is not None:
            return view.show(shown, names(), None, form_key(kwargs), player=False)
        return view.show(lab.compare(**kwargs, grid=GRID_STRENGTHS), names(), None, form_key(kwargs), resume=True)

    @user_errors
    def downloads(clip):
        """The download files of this session's last comparison (after a slider release)."""
        if not clip or "comparison" not in clip:
            return None
        return comparison_files(clip["comparison"], ctx.outputs.new("compare"), clip["labels"][1])

    with gr.Tab("Compare", id="compare"):
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                prompt = gr.Textbox(label="Prompt", value=examples[0], max_lines=3, max_length=MAX_PROMPT_CHARS, placeholder="describe a motion, e.g. a person kicks")
                gr.Examples(examples, inputs=[prompt], cache_examples=False, label="Example prompts")
                adapters = gr.Dropdown(adapter_choices(lab, None), value=ctx.default_pick(), multiselect=True, allow_custom_value=True,
                                       label="Adapters (concepts to erase)", info=picker_info(lab, COMBINED_INFO))
                # the grid's own steps: every value the slider takes is a strength the player already holds
                strength = gr.Slider(min(GRID_STRENGTHS), max(GRID_STRENGTHS), value=1.0, step=GRID_STRENGTHS[1] - GRID_STRENGTHS[0],
                                     label="Strength", elem_id="compare-strength", elem_classes=SCRUB_CLASS,
                                     info="0 = base model · 1 = trained strength · negative = amplify the concept · "
                                          "the steered motion follows as you drag")
                with gr.Row(elem_id="seed-row"):
                    seed = gr.Number(0, label="Seed", minimum=0, maximum=MAX_SEED, scale=4)
                    dice = gr.Button("Random", elem_id="dice", scale=0, min_width=90)  # text: emoji fonts are not everywhere
                length = gr.Slider(2, 9.8, value=5.0, step=0.2, label="Length (s)")
                with gr.Row():
                    steps = gr.Slider(1, 100, value=DEFAULT_STEPS, step=1, label="Sampling steps")
                    guidance = gr.Slider(0, 10, value=2.5, step=0.1, label="Guidance")
                with gr.Accordion("Advanced", open=False):
                    start_step = gr.Slider(0, 100, value=0, step=1, label="Start step", info="the adapter is off for the first N sampling steps (keeps the overall layout, edits details)")
                    weights = gr.Textbox("", label="Per-adapter weights", placeholder="e.g. 1, 0.5 — one per chosen adapter; empty = all 1")
                    sampler = gr.Dropdown(list(SCHEDULERS), value=DEFAULT_SCHEDULER, label="Scheduler", info="the diffusers sampler of both motions")
                    plant_feet = gr.Checkbox(True, label="Plant feet", info="move the root so the feet the model calls planted do not slide; off = the raw model output")
                    fast = gr.Checkbox(True, label="Fast student", info=student_info(lab), interactive=lab.generator.student is not None)
                go_btn = gr.Button("Generate", variant="primary", size="lg")
            with gr.Column(scale=3, min_width=420):
                player = gr.HTML(label="player", value=placeholder_html("Type a prompt and press Generate: base and steered motion play side by side from the same noise."),
                                 elem_id="compare-player", js_on_load=None, min_height=320)
                with gr.Row():
                    base_label = gr.Label(label="base — evaluator's top concepts", num_top_classes=3, show_heading=False, elem_classes="concept-labels")
                    steered = gr.Label(label="steered — evaluator's top concepts", num_top_classes=3, show_heading=False, elem_classes="concept-labels")
                files = gr.File(label="Downloads: joints (.npz, (2, T, 22, 3)), BVH (steered, base), animated HTML", file_count="multiple", interactive=False)
                with gr.Row(equal_height=False):  # the button keeps its own height beside the file field
                    video_btn = gr.Button("Download as video (MP4)", size="sm", scale=0, min_width=220)
                    video_file = gr.File(label="side-by-side video, labelled (MP4, 20 fps)", interactive=False, height=70, scale=1)
                clip = gr.State(None)
                with gr.Accordion("Details (JSON)", open=False):
                    summary = gr.JSON(label="generation summary")
    view = CompareView(player=player, base_label=base_label, steered_label=steered, files=files, summary=summary, clip=clip)
    form = [prompt, adapters, strength, seed, length, steps, guidance, start_step, weights, sampler, plant_feet, fast]
    generate_fn = gpu(generate)
    go_btn.click(generate_fn, form, view.components, api_name="generate", **ctx.merged)
    prompt.submit(generate_fn, form, view.components, api_visibility="private", **ctx.merged)
    release = strength.release(gpu(restrength), [*form, clip], view.components, api_visibility="private",
                               trigger_mode="always_last", **ctx.merged)
    release.then(
        downloads, clip, files, api_visibility="private", **ctx.video_events)
    dice.click(lambda: random.randint(0, 99_999), None, seed, queue=False, api_visibility="private")
    video_btn.click(ctx.video_handler(), clip, video_file, api_name="compare_video", **ctx.video_events)
    return adapters
