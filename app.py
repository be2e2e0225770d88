"""Motion LoRA demo: compare base vs concept-erased motions, sweep adapter strength, unlearn a concept in the
browser, evaluate adapters. Gradio Blocks only; everything shown comes from one motion_lora.serving.service.MotionLab,
and each tab is built by its own module in motion_lora/serving/ui/ (compare_tab, sweep_tab, unlearn_tab, evaluate_tab).

    python app.py            # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override)

Public API (gradio_client): generate, compare_video, sweep, sweep_video, train, delete_adapter, evaluate, list_adapters.

Deployment switches: the MOTION_LORA_* environment variables, listed with their defaults and bounds in
motion_lora/serving/settings.py and docs/app.md; a bad value stops the start with the variable named.
"""

from __future__ import annotations

import os
import sys

import gradio as gr
from fastapi.exceptions import RequestValidationError

from motion_lora.serving import settings, ui
from motion_lora.serving.service import MotionLab, default_lab
from motion_lora.serving.ui import compare_tab, evaluate_tab, sweep_tab, unlearn_tab
from motion_lora.serving.ui.context import AppContext
from motion_lora.serving.ui.picker_set import PickerSet, adapter_listing

EXAMPLES = [
    "a person kicks with the right leg",
    "a person walks forward, then kicks with the left leg",
    "someone swings a leg up to strike",
    "a person waves with both hands",
    "a person jumps up in place",
    "a man punches forward twice",
]

INTRO = """# Motion LoRA — erase a concept from a text-to-motion model
A small text-to-motion diffusion model **trained on MotionBank** (real motion capture — Bandai Namco and DeepMimic,
55% of its frames — plus calibrated procedural motions; HumanML3D skeleton) and LoRA adapters trained to *unlearn* a
concept such as *kick*. The frozen base model is never changed: the same noise is denoised with and without the
adapter, so you see exactly what the adapter removes.
Concept scores come from our own small evaluator — **proxy metrics**, not the published HumanML3D evaluator.
Runs on CPU; drag a skeleton view to orbit it, scroll to zoom."""

ABOUT = r"""
## What this is
**Concept unlearning with LoRA.** A LoRA adapter adds small low-rank matrices to the attention projections of
the frozen denoiser. It is trained so that, whenever the prompt asks for the concept, the model moves *away* from
it; for other prompts it should change little. Because the base weights never change, the adapter can be
switched off, scaled (the strength slider; negative strengths push *towards* the concept) or combined with others.

**Objective (ESD, Gandikota et al. 2023, in v-space).** For a concept prompt *c* and a noisy motion
*x<sub>t</sub>* drawn from the frozen model's own partial rollout for *c* (10 UniPC steps), the frozen teacher (the same network with
adapters disabled) predicts *v<sub>c</sub>* (conditional) and *v<sub>u</sub>* (unconditional). The student
(network + LoRA) is trained towards

  **v\* = v<sub>u</sub> − η (v<sub>c</sub> − v<sub>u</sub>)**,  loss = ‖v<sub>student</sub>(x<sub>t</sub>, c) − v\*‖²

plus λ‖v<sub>student</sub>(x<sub>r</sub>, r) − v<sub>teacher</sub>(x<sub>r</sub>, r)‖² on retain prompts *r* (the
"preservation weight", 2 by default, 0 = plain ESD). Unless you give your own, the retain prompts are the other
concepts' captions that read most like the concept (for kick: walking "on foot"), because that is where plain ESD
does its collateral damage. Since ε is affine in v at fixed x<sub>t</sub>, this is ESD's ε-space target up to a
per-timestep weight.

## Data and models
- **MotionBank**, built offline for this project in the HumanML3D layout (22 joints, 20 fps, 263-d features):
  motion capture from the Bandai Namco Research Motion dataset (Kobayashi et al. 2023, CC BY-NC 4.0) and the 15
  DeepMimic clips shipped with `pybullet` (Peng et al., SIGGRAPH 2018; Bullet Physics, zlib licence), together 55%
  of its frames; procedural motions calibrated on those real clips (walks, runs, jumps, kicks, punches, waves, …);
  captions written like annotators', with held-out phrasings for testing paraphrase robustness.
  **The shipped weights are for non-commercial use** (CC BY-NC 4.0 training data).
- Text encoder: all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), frozen.
- Base model, trained here: a motion autoencoder (263-d features to a 32-d latent at a quarter of the frame rate) and a
  small transformer denoiser in that latent (as MLD and MotionLCM do; v-prediction, diffusers' UniPC sampler, classifier-free guidance).
  At the default setting a 2-step student distilled from it samples (guidance baked in), and the same adapters
  steer it; Advanced → Fast student off gives the full sampler.
- HumanML3D format: Guo et al., CVPR 2022. LoRA: Hu et al. 2021, via Hugging Face PEFT.

## Known limits
- **Proxy metrics.** Presence, R-precision, FID, MM-Dist and diversity are computed with our own small evaluator
  trained on MotionBank; they are not comparable with published numbers and can be fooled.
- **Small model, small data.** Motions are short and stylised; unusual prompts (including other languages —
  accepted, but the encoder is English) give generic motion.
- **CPU.** Generation takes well under a second with the student, in-app training about a minute; visitors' generations that arrive together are
  denoised in one merged batch, so a busy server answers more of them per second rather than one at a time.
- Erasure is not removal of knowledge: large negative strengths or adversarial prompts can bring the concept back.
"""

CSS = """
.motion-placeholder { min-height: 300px; display: flex; align-items: center; justify-content: center;
  border: 1px dashed color-mix(in srgb, currentColor 25%, transparent); border-radius: 8px; opacity: 0.7; padding: 16px; text-align: center; }
#seed-row { align-items: end; }
#dice { max-width: 90px; min-width: 90px; }
.concept-labels .output-class { font-size: 18px !important; }
.motion-player .mp-reset, .motion-player .mp-play { font-size: 13px; font-weight: 500; padding: 3px 10px; box-shadow: none; }
"""


def launch_options() -> dict:
    """What main() passes to launch(): the player script and styles in head, the app CSS and theme, the sessions kept."""
    # show_error: malformed API calls that fail inside Gradio (wrong types, missing inputs) get their message
    return {"head": ui.head_html(), "css": CSS, "theme": gr.themes.Soft(primary_hue="blue", neutral_hue="slate"), "show_error": True,
            "app_kwargs": {"exception_handlers": {RequestValidationError: ui.malformed_request}},
            "state_session_capacity": settings.setting("MOTION_LORA_MAX_SESSIONS")}  # each session's state stays in memory until pushed out


def build_demo(lab: MotionLab) -> gr.Blocks:
    """The app over `lab`: one builder per tab (motion_lora/serving/ui/*_tab.py), then the events that span tabs."""
    ctx = AppContext.from_settings(lab)
    with gr.Blocks(title="Motion LoRA — concept unlearning") as demo:
        gr.Markdown(INTRO)
        if ctx.require_login:
            with gr.Row():
                gr.LoginButton(size="sm", scale=0, min_width=220)
                gr.Markdown("Log in with your Hugging Face account to train adapters; you can delete or retrain only your own.")
        with gr.Tabs():
            compare_picker = compare_tab.build(ctx, EXAMPLES)
            sweep_picker = sweep_tab.build(ctx, EXAMPLES[0])
            unlearn = unlearn_tab.build(ctx)
            evaluate = evaluate_tab.build(ctx)
            with gr.Tab("About", id="about"):
                gr.Markdown(ABOUT)
        with gr.Row():
            refresh_btn = gr.Button("↻ Reload adapters", size="sm", variant="secondary", scale=0, min_width=160)

        pickers = PickerSet(ctx=ctx, compare=compare_picker, sweep=sweep_picker, evaluate=evaluate.adapter, replace=unlearn.replace, mine=unlearn.mine)
        unlearn_tab.connect(ctx, unlearn, pickers)
        evaluate.follow(refresh_btn.click(pickers.refresh, None, pickers.components, api_visibility="private", queue=False), attack=False)
        gr.api(adapter_listing(ctx), api_name="list_adapters", queue=False)
        evaluate.follow(demo.load(pickers.on_load, [compare_picker, sweep_picker, evaluate.adapter], pickers.components,
                                  api_visibility="private", queue=False))
    demo.outputs_dir = ctx.outputs.root  # for tests and cleanup
    return demo


def main() -> int:
    try:
        settings.read_all()  # a bad switch stops the start, named, before anything loads
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    try:
        lab = default_lab()
    except (FileNotFoundError, ValueError) as err:
        print(f"error: cannot load the models: {err}", file=sys.stderr)
        return 2
    demo = build_demo(lab)
    demo.queue(default_concurrency_limit=1).launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        prevent_thread_lock=True,
        **launch_options(),
    )
    lab.warm_up()  # once the page is served, so the first click runs at full speed
    demo.block_thread()
    return 0


if __name__ == "__main__":
    sys.exit(main())
