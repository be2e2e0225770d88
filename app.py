"""Motion LoRA demo: compare base vs concept-erased motions, sweep adapter strength, unlearn a concept in the
browser, evaluate adapters. Gradio Blocks only; everything shown comes from motion_lora.serving.service.MotionLab.

    python app.py            # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / GRADIO_SERVER_PORT override)

Public API (gradio_client): generate, compare_video, sweep, sweep_video, train, delete_adapter, evaluate, list_adapters.

Deployment switches (environment): MOTION_LORA_USER_DIR (visitors' adapters), MOTION_LORA_MAX_USER_ADAPTERS /
MOTION_LORA_MAX_USER_MB (cap, oldest evicted first), MOTION_LORA_REQUIRE_LOGIN=1 (Hugging Face login to train or
delete), MOTION_LORA_MAX_ITERATIONS, MOTION_LORA_MAX_QUEUED_TRAININGS, MOTION_LORA_DISABLE_TRAINING=1
(all of them: docs/app.md).
"""

from __future__ import annotations

import os
import random
import sys

import gradio as gr
import pandas as pd
from fastapi.exceptions import RequestValidationError

from motion_lora.model.generator import MAX_PROMPT_CHARS
from motion_lora.model.sampler import DEFAULT_SCHEDULER, DEFAULT_STEPS, SCHEDULERS
from motion_lora.motion.skeleton import FPS
from motion_lora.serving import settings, ui
from motion_lora.serving.service import SWEEP_SCALES, MotionLab, default_lab, iterate_training, seconds_to_frames
from motion_lora.serving.ui.pickers import picker_info
from motion_lora.unlearning.adapters import PRESETS, LoraSpec
from motion_lora.unlearning.unlearn import TrainEvent, UnlearnConfig

# "replace with" choices: empty = ESD's unconditional target; the anchors are concepts the evaluator knows (stand, walk)
ANCHORS = [("nothing (the unconditional motion)", ""), ("a person stands still", "a person stands still"), ("a person walks forward", "a person walks forward")]
TRAIN_DEFAULTS = UnlearnConfig()  # the Unlearn tab starts from the train CLI's defaults (the shipped adapters' settings)

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
"preservation weight", 1 by default, 0 = plain ESD). Unless you give your own, the retain prompts are the other
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
- Denoiser: a small transformer (v-prediction, sampled with diffusers schedulers (UniPC by default) and classifier-free guidance) trained here.
- HumanML3D format: Guo et al., CVPR 2022. LoRA: Hu et al. 2021, via Hugging Face PEFT.

## Known limits
- **Proxy metrics.** Presence, R-precision, FID, MM-Dist and diversity are computed with our own small evaluator
  trained on MotionBank; they are not comparable with published numbers and can be fooled.
- **Small model, small data.** Motions are short and stylised; unusual prompts (including other languages —
  accepted, but the encoder is English) give generic motion.
- **CPU.** Generation takes about a second, in-app training minutes; visitors' generations that arrive together are
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
    outputs = ui.OutputDir(settings.setting("MOTION_LORA_OUTPUT_DIR"))
    cap = settings.setting("MOTION_LORA_MAX_ITERATIONS")
    training_off = settings.setting("MOTION_LORA_DISABLE_TRAINING")
    require_login = settings.setting("MOTION_LORA_REQUIRE_LOGIN")
    generations = max(1, lab.batcher.max_rows // 2)  # side-by-sides that fit one merged batch

    def concepts(owner: str | None = None) -> list[tuple[str, str]]:
        return ui.adapter_choices(lab, owner)

    def names() -> dict[str, str]:
        return {i.name: i.short for i in lab.list_adapters()}

    def default_pick() -> list[str]:
        shorts = [i.short for i in lab.list_adapters()]
        return ["kick"] if "kick" in shorts else shorts[:1]

    def who(request: gr.Request | None, profile, required: bool) -> str:
        """The visitor's owner id; raises NotAllowed (shown as a message) when a login is required and missing."""
        return ui.visitor(request, profile, require_login=required)

    def viewer(request: gr.Request | None, profile) -> str | None:
        """The visitor's id for labelling the pickers ('this session'); None when there is no session."""
        try:
            return ui.visitor(request, profile)
        except ValueError:
            return None

    # ------------------------------------------------------------------ handlers

    def run_compare(prompt, adapters, scale, seed, seconds, steps, guidance, start_step, weights, scheduler, plant_feet):
        picked = ui.adapter_list(adapters)
        if not picked:
            raise ValueError("choose at least one adapter to compare with the base model")
        w = ui.number_list(weights, "weights", -5, 5, max_items=4) or None
        c = lab.compare(
            prompt, picked, scale=ui.number(scale, "strength", -5, 5), weights=w, seed=ui.number(seed, "seed", 0, 2**31 - 1, whole=True),
            frames=seconds_to_frames(ui.number(seconds, "length (s)", 1, 9.8)), steps=ui.number(steps, "steps", 1, 200, whole=True),
            guidance=ui.number(guidance, "guidance", 0, 20), start_step=ui.number(start_step, "start step", 0, 200, whole=True),
            scheduler=ui.scheduler(scheduler), plant_feet=ui.flag(plant_feet, "plant feet"),
        )
        return c, ui.steered_label(c, names())

    @ui.user_errors
    def generate(prompt, adapters, scale, seed, seconds, steps, guidance, start_step, weights, scheduler=DEFAULT_SCHEDULER, plant_feet=True):
        c, label = run_compare(prompt, adapters, scale, seed, seconds, steps, guidance, start_step, weights, scheduler, plant_feet)
        player = ui.player_html([("base", c.base_joints), (label, c.steered_joints)], keep="compare")
        files = ui.comparison_files(c, outputs.new("compare"), label)
        return player, dict(c.base_concepts), dict(c.steered_concepts), files, ui.comparison_summary(c, label), ui.comparison_clip(c, label)

    @ui.user_errors
    def restrength(prompt, adapters, scale, seed, seconds, steps, guidance, start_step, weights, scheduler=DEFAULT_SCHEDULER, plant_feet=True):
        """The strength slider's release: the same comparison at the new strength, the base motion reused from the
        cache, the player resuming at its time position. Downloads follow in a second step (`downloads`)."""
        c, label = run_compare(prompt, adapters, scale, seed, seconds, steps, guidance, start_step, weights, scheduler, plant_feet)
        player = ui.player_html([("base", c.base_joints), (label, c.steered_joints)], keep="compare", resume=True)
        return player, dict(c.base_concepts), dict(c.steered_concepts), None, ui.comparison_summary(c, label), ui.comparison_clip(c, label)

    @ui.user_errors
    def downloads(clip):
        """The download files of this session's last comparison (after a slider release)."""
        if not clip or "comparison" not in clip:
            return None
        return ui.comparison_files(clip["comparison"], outputs.new("compare"), clip["labels"][1])

    @ui.user_errors
    def sweep(prompt, adapter, scales, seed, seconds, steps, scheduler=DEFAULT_SCHEDULER):
        values = ui.number_list(scales, "scales", -5, 5) or list(SWEEP_SCALES)
        s = lab.sweep(prompt, adapter, values, seed=ui.number(seed, "seed", 0, 2**31 - 1, whole=True),
                      frames=seconds_to_frames(ui.number(seconds, "length (s)", 1, 9.8)), steps=ui.number(steps, "steps", 1, 200, whole=True),
                      scheduler=ui.scheduler(scheduler))
        concept = lab.infos[s.adapter].concept
        player = ui.player_html([(f"×{v:g}", j) for v, j in zip(s.scales, s.joints)], layout="grid")
        data = {"prompt": s.prompt, "adapter": s.adapter, "concept": concept, "scales": s.scales, "presence": s.presence,
                "retain_drift_m": s.retain_drift, "joints_shape": [len(s.joints), int(s.joints[0].shape[0]), 22, 3]}
        return player, ui.sweep_figure(s, concept), data, ui.sweep_clip(s, lab.infos[s.adapter].short, concept)

    @ui.user_errors
    def video(clip):
        """The last side-by-side or sweep of this session as a labelled MP4."""
        return str(ui.clip_video(clip, outputs.new("video")))

    def infos() -> tuple[str, str]:
        """The help lines of the Compare picker and of the single pickers: each names the broken adapters it skips."""
        return picker_info(lab, "several adapters are combined"), picker_info(lab)

    def pickers(owner: str | None):
        c, (many, one) = concepts(owner), infos()
        return gr.Dropdown(choices=c, info=many), gr.Dropdown(choices=c, info=one), gr.Dropdown(choices=c, info=one)

    def own_pickers(owner: str | None):
        mine = ui.own_choices(lab, owner)
        return gr.Dropdown(choices=[("a new adapter", "")] + mine, value=""), gr.Dropdown(choices=mine, value=mine[-1][1] if mine else None)

    @ui.user_errors
    def train(concept, preset, rank, alpha, lr, iterations, eta, retain, preserve, extra, batch_size, seconds, rollout_steps, replace_adapter,
              anchor="", adversarial_tokens=0, request: gr.Request = None, profile: gr.OAuthProfile | None = None):
        if training_off:
            raise ValueError("training is disabled on this server (MOTION_LORA_DISABLE_TRAINING=1)")
        owner = who(request, profile, require_login)
        n_iter = ui.number(iterations, "iterations", 1, cap, whole=True)
        if preset not in PRESETS:
            raise ValueError(f"unknown target preset {preset!r}; choose one of {', '.join(PRESETS)}")
        config = UnlearnConfig(
            concept=concept if isinstance(concept, str) else "", extra_prompts=ui.lines(extra, "extra prompts"), negative_guidance=ui.number(eta, "η", 0, 10),
            lr=ui.number(lr, "learning rate", 1e-7, 0.1), iterations=n_iter, batch_size=ui.number(batch_size, "batch size", 1, 16, whole=True),
            lora=LoraSpec(rank=ui.number(rank, "rank", 1, 64, whole=True), alpha=ui.number(alpha, "alpha", 0.01, 256), preset=preset),
            retain_prompts=ui.lines(retain, "retain prompts"), preserve_weight=ui.number(preserve, "preservation weight", 0, 100),
            frames=seconds_to_frames(ui.number(seconds, "clip length (s)", 1, 9.8)), rollout_steps=ui.number(rollout_steps, "rollout steps", 2, 100, whole=True),
            anchor=" ".join(anchor.split()) if isinstance(anchor, str) else "",
            adversarial_tokens=ui.number(adversarial_tokens, "adversarial tokens", 0, 16, whole=True),
        ).validated()
        target = replace_adapter.strip() if isinstance(replace_adapter, str) and replace_adapter.strip() else None
        if target:
            lab.refresh_adapters()
            lab.owned(target, owner, "retrain")  # a clear refusal before queueing
        try:
            ticket = ui.TRAINING.join(owner)
        except ui.AlreadyQueued:
            raise gr.Error("You already have a training running or waiting (one per visitor). Wait for it to finish, or press Stop, "
                           "then start again.", title="Already queued") from None
        events: list[TrainEvent] = []
        every = max(1, config.iterations // 40)
        skip = gr.skip()
        try:
            while (ahead := ui.TRAINING.wait_turn(ticket, 0.5)) > 0:
                if ticket.stop.is_set():
                    yield "Stopped before it started — no adapter was saved.", skip, None, skip, skip, skip, skip, skip, {"status": "stopped", "steps": 0}
                    return
                yield (f"Waiting: {ahead} training{'s' if ahead > 1 else ''} ahead of yours (one runs at a time) …", skip, skip, skip, skip, skip, skip, skip,
                       {"status": "waiting", "ahead": ahead})
            yield f"Preparing: teacher rollouts for **{config.concept}** …", ui.loss_figure([], config.iterations), skip, skip, skip, skip, skip, skip, {"status": "starting"}
            result = None
            for item in iterate_training(lab, config, ticket.stop, owner=owner, replace_adapter=target):
                if isinstance(item, TrainEvent):
                    events.append(item)
                    if item.step % every == 0 or item.step == item.total:
                        eta_s = item.elapsed / item.step * (item.total - item.step) if item.step else 0
                        text = f"step {item.step}/{item.total} · loss {item.loss:.4f} · {item.elapsed:.1f} s elapsed, ~{eta_s:.0f} s left"
                        yield (text, ui.loss_figure(events, item.total), skip, skip, skip, skip, skip, skip,
                               {"status": "training", "step": item.step, "total": item.total, "loss": item.loss, "esd_loss": item.esd_loss, "preserve_loss": item.preserve_loss})
                else:
                    result = item
            if result is None:
                yield "Stopped — no adapter was saved.", skip, None, skip, skip, skip, skip, skip, {"status": "stopped", "steps": len(events)}
                return
            archive = ui.zip_adapter(result, outputs.new("adapter"))
            a, b, c = pickers(owner)
            mine, delete_pick = own_pickers(owner)
            info = {"status": "done", "name": result.name, "short": result.short, "concept": result.concept, "steps": len(events),
                    "final_loss": events[-1].loss if events else None, "replaced": target, "evicted": list(result.evicted)}
            yield (f"✅ Done: adapter **{result.short}** ({'retrained' if target else 'new'}; concept *{result.concept}*) is ready in every adapter picker. "
                   f"Final loss {info['final_loss']:.4f}.{ui.preserved_note(result.meta)}{ui.evicted_note(result.evicted, lab)}"), \
                ui.loss_figure(events, config.iterations), archive, a, b, c, mine, delete_pick, info
        finally:
            ui.TRAINING.leave(ticket)  # also stops the training thread at its next step when the request was cancelled

    def stop_training(request: gr.Request, profile: gr.OAuthProfile | None = None):
        owner = viewer(request, profile)
        if owner and ui.TRAINING.request_stop(owner):
            return "Stopped — no adapter was saved."
        return "No training of yours is running."

    @ui.user_errors
    def delete_adapter(name, request: gr.Request, profile: gr.OAuthProfile | None = None):
        owner = who(request, profile, require_login)
        if not isinstance(name, str) or not name.strip():
            raise ValueError("choose one of your adapters to delete")
        lab.refresh_adapters()
        gone = lab.delete_adapter(name.strip(), owner)
        a, b, c = pickers(owner)
        mine, delete_pick = own_pickers(owner)
        return f"Deleted **{gone.split('_LoRA_', 1)[-1]}**.", a, b, c, mine, delete_pick

    @ui.user_errors
    def evaluate(adapter, per_kind, per_concept, repeats, steps, progress=gr.Progress()):
        progress(0, desc="generating forget / retain sets")
        result = lab.evaluate(
            adapter, per_kind=ui.number(per_kind, "forget prompts per kind", 1, 64, whole=True),
            per_concept=ui.number(per_concept, "retain prompts per concept", 1, 16, whole=True),
            repeats=ui.number(repeats, "repeats", 1, 10, whole=True), steps=ui.number(steps, "steps", 1, 200, whole=True),
            progress=lambda f, msg: progress(f, desc=msg),
        )
        return ui.eval_caption(result, "Quick evaluation (just run)"), pd.DataFrame(ui.eval_rows(result), columns=ui.TABLE_HEADERS), ui.presence_figure(result), result

    def show_shipped(adapter):
        empty = pd.DataFrame([], columns=ui.TABLE_HEADERS)
        try:
            info = lab.infos[lab.adapter_name(adapter)]
        except ValueError:
            return "Pick an adapter.", empty, None, None
        result = ui.shipped_eval(info)
        if result is None:
            return f"No stored evaluation for **{info.short}** yet — run a quick one below.  \n{info.describe()}", empty, None, None
        return ui.eval_caption(result, "Stored evaluation (eval/metrics.json)"), pd.DataFrame(ui.eval_rows(result), columns=ui.TABLE_HEADERS), ui.presence_figure(result), result

    def show_attack(adapter):
        try:
            return ui.attack_summary(lab.infos[lab.adapter_name(adapter)])
        except ValueError:
            return ""

    def list_adapters(request: gr.Request, profile: gr.OAuthProfile | None = None) -> list[dict]:
        """Every adapter with who made it relative to the caller ('shipped', 'this session', 'another visitor')."""
        lab.refresh_adapters()
        owner = viewer(request, profile)
        out = []
        for i in lab.list_adapters():
            m = i.meta
            out.append({"name": i.name, "short": i.short, "concept": i.concept, "made_by": i.made_by(owner), "created": ui.made_when(i) or None,
                        "rank": m.get("rank"), "alpha": m.get("alpha"), "targets": m.get("targets"),
                        "eta": m.get("negative_guidance"), "iterations": m.get("iterations"), "has_eval": ui.shipped_eval(i) is not None})
        return out

    def refresh(request: gr.Request, profile: gr.OAuthProfile | None = None):
        lab.refresh_adapters()
        owner = viewer(request, profile)
        return (*pickers(owner), *own_pickers(owner))

    def on_load(picked, single_sweep, single_eval, request: gr.Request, profile: gr.OAuthProfile | None = None):
        """A new page: this visitor's adapter choices, and a default pick where none is made yet."""
        lab.refresh_adapters()
        owner = viewer(request, profile)
        c, first = concepts(owner), (default_pick() or [None])[0]
        many, one = infos()
        return (gr.Dropdown(choices=c, value=picked or default_pick(), info=many), gr.Dropdown(choices=c, value=single_sweep or first, info=one),
                gr.Dropdown(choices=c, value=single_eval or first, info=one), *own_pickers(owner))

    # ------------------------------------------------------------------ layout

    with gr.Blocks(title="Motion LoRA — concept unlearning") as demo:
        gr.Markdown(INTRO)
        if require_login:
            with gr.Row():
                gr.LoginButton(size="sm", scale=0, min_width=220)
                gr.Markdown("Log in with your Hugging Face account to train adapters; you can delete or retrain only your own.")
        with gr.Tabs():
            # ---------------------------------------------------------- Compare
            with gr.Tab("Compare", id="compare"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=320):
                        prompt = gr.Textbox(label="Prompt", value=EXAMPLES[0], max_lines=3, max_length=MAX_PROMPT_CHARS, placeholder="describe a motion, e.g. a person kicks")
                        gr.Examples(EXAMPLES, inputs=[prompt], cache_examples=False, label="Example prompts")
                        adapters = gr.Dropdown(concepts(), value=default_pick(), multiselect=True, allow_custom_value=True, label="Adapters (concepts to erase)", info=infos()[0])
                        strength = gr.Slider(-1, 2, value=1.0, step=0.1, label="Strength", info="0 = base model · 1 = trained strength · negative = amplify the concept")
                        with gr.Row(elem_id="seed-row"):
                            seed = gr.Number(0, label="Seed", minimum=0, maximum=2**31 - 1, scale=4)
                            dice = gr.Button("Random", elem_id="dice", scale=0, min_width=90)  # text: emoji fonts are not everywhere
                        length = gr.Slider(2, 9.8, value=5.0, step=0.2, label="Length (s)")
                        with gr.Row():
                            steps = gr.Slider(1, 100, value=DEFAULT_STEPS, step=1, label="Sampling steps")
                            guidance = gr.Slider(0, 10, value=2.5, step=0.1, label="Guidance")
                        with gr.Accordion("Advanced", open=False):
                            start_step = gr.Slider(0, 100, value=0, step=1, label="Start step", info="the adapter is off for the first N sampling steps (keeps the overall layout, edits details)")
                            weights = gr.Textbox("", label="Per-adapter weights", placeholder="e.g. 1, 0.5 — one per chosen adapter; empty = all 1")
                            scheduler = gr.Dropdown(list(SCHEDULERS), value=DEFAULT_SCHEDULER, label="Scheduler", info="the diffusers sampler of both motions")
                            plant_feet = gr.Checkbox(True, label="Plant feet", info="move the root so the feet the model calls planted do not slide; off = the raw model output")
                        go_btn = gr.Button("Generate", variant="primary", size="lg")
                    with gr.Column(scale=3, min_width=420):
                        player = gr.HTML(label="player", value=ui.placeholder_html("Type a prompt and press Generate: base and steered motion play side by side from the same noise."), elem_id="compare-player", js_on_load=None, min_height=320)
                        with gr.Row():
                            base_label = gr.Label(label="base — evaluator's top concepts", num_top_classes=3, show_heading=False, elem_classes="concept-labels")
                            steered_label = gr.Label(label="steered — evaluator's top concepts", num_top_classes=3, show_heading=False, elem_classes="concept-labels")
                        files = gr.File(label="Downloads: joints (.npz, (2, T, 22, 3)), BVH (steered, base), animated HTML", file_count="multiple", interactive=False)
                        with gr.Row(equal_height=False):  # the button keeps its own height beside the file field
                            video_btn = gr.Button("Download as video (MP4)", size="sm", scale=0, min_width=220)
                            video_file = gr.File(label="side-by-side video, labelled (MP4, 20 fps)", interactive=False, height=70, scale=1)
                        clip_state = gr.State(None)  # this session's last comparison, for the video
                        with gr.Accordion("Details (JSON)", open=False):
                            summary = gr.JSON(label="generation summary")
                gen_inputs = [prompt, adapters, strength, seed, length, steps, guidance, start_step, weights, scheduler, plant_feet]
                gen_outputs = [player, base_label, steered_label, files, summary, clip_state]
                generate_fn = ui.gpu(generate)
                # Generations wait inside MotionLab, whose queue merges the concurrent ones into one batch: the event
                # limit is how many may wait there at once (one merged batch), not one at a time.
                merged = dict(concurrency_limit=generations, concurrency_id="generate")
                go_btn.click(generate_fn, gen_inputs, gen_outputs, api_name="generate", **merged)
                prompt.submit(generate_fn, gen_inputs, gen_outputs, api_visibility="private", **merged)
                strength.release(ui.gpu(restrength), gen_inputs, gen_outputs, api_visibility="private", trigger_mode="always_last", **merged).then(
                    downloads, clip_state, files, api_visibility="private", concurrency_limit=2, concurrency_id="video")
                dice.click(lambda: random.randint(0, 99_999), None, seed, queue=False, api_visibility="private")
                video_btn.click(video, clip_state, video_file, api_name="compare_video", concurrency_limit=2, concurrency_id="video")

            # ---------------------------------------------------------- Sweep
            with gr.Tab("Strength sweep", id="sweep"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=320):
                        sw_prompt = gr.Textbox(label="Prompt", value=EXAMPLES[0], max_lines=3, max_length=MAX_PROMPT_CHARS)
                        sw_adapter = gr.Dropdown(concepts(), value=(default_pick() or [None])[0], allow_custom_value=True, label="Adapter", info=infos()[1])
                        sw_scales = gr.Textbox(label="Strengths", value="-0.5, 0, 0.5, 1, 1.5", info="comma-separated, 1 to 9 values between -5 and 5")
                        with gr.Row():
                            sw_seed = gr.Number(0, label="Seed", minimum=0, maximum=2**31 - 1)
                            sw_length = gr.Slider(2, 9.8, value=4.0, step=0.2, label="Length (s)")
                        with gr.Row():
                            sw_steps = gr.Slider(1, 100, value=DEFAULT_STEPS, step=1, label="Sampling steps", scale=2)
                            sw_scheduler = gr.Dropdown(list(SCHEDULERS), value=DEFAULT_SCHEDULER, label="Scheduler", scale=1)
                        sw_btn = gr.Button("Run sweep", variant="primary", size="lg")
                        gr.Markdown("Each strength also generates two retain probes (*a person walks forward*, *someone jumps up in place*) "
                                    "to measure how far the adapter moves motions it should leave alone.")
                    with gr.Column(scale=3, min_width=420):
                        sw_player = gr.HTML(label="player", value=ui.placeholder_html("One skeleton per strength, same noise, same camera."), js_on_load=None, min_height=320)
                        sw_plot = gr.Plot(label="Concept presence and retain drift vs strength")
                        with gr.Row(equal_height=False):
                            sw_video_btn = gr.Button("Download as video (MP4)", size="sm", scale=0, min_width=220)
                            sw_video_file = gr.File(label="sweep grid video, labelled (MP4, 20 fps)", interactive=False, height=70, scale=1)
                        sw_state = gr.State(None)  # this session's last sweep, for the video
                        with gr.Accordion("Details (JSON)", open=False):
                            sw_json = gr.JSON(label="sweep data")
                sw_btn.click(ui.gpu(sweep), [sw_prompt, sw_adapter, sw_scales, sw_seed, sw_length, sw_steps, sw_scheduler], [sw_player, sw_plot, sw_json, sw_state],
                             api_name="sweep", **merged)
                sw_video_btn.click(video, sw_state, sw_video_file, api_name="sweep_video", concurrency_limit=2, concurrency_id="video")

            # ---------------------------------------------------------- Unlearn
            with gr.Tab("Unlearn", id="unlearn"):
                if training_off:
                    gr.Markdown("⚠️ **Training is disabled on this server** (`MOTION_LORA_DISABLE_TRAINING=1`). Run the app locally to train adapters.")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=2, min_width=320):
                        tr_concept = gr.Textbox(label="Concept to erase", value="kick", max_length=60, info="a MotionBank concept (kick, punch, wave, jump, …) or your own words")
                        tr_preset = gr.Dropdown(list(PRESETS), value=TRAIN_DEFAULTS.lora.preset, label="LoRA targets", info="attn: all attention projections · xattn: cross-attention · xattn-kv: text keys/values · all-linear")
                        with gr.Row():
                            tr_rank = gr.Slider(1, 64, value=TRAIN_DEFAULTS.lora.rank, step=1, label="Rank")
                            tr_alpha = gr.Number(TRAIN_DEFAULTS.lora.alpha, label="Alpha", minimum=0.01)
                        with gr.Row():
                            tr_lr = gr.Number(TRAIN_DEFAULTS.lr, label="Learning rate")
                            tr_eta = gr.Slider(0, 4, value=TRAIN_DEFAULTS.negative_guidance, step=0.1, label="η (negative guidance)")
                        tr_iter = gr.Slider(1, cap, value=min(TRAIN_DEFAULTS.iterations, cap), step=1, label="Iterations", info=f"at most {cap} on this server")
                        tr_retain = gr.Textbox(label="Retain prompts (one per line)", lines=3, placeholder="empty = the other concepts' captions nearest to the concept")
                        tr_preserve = gr.Slider(0, 10, value=TRAIN_DEFAULTS.preserve_weight, step=0.1, label="Preservation weight λ", info="0 = plain ESD")
                        tr_anchor = gr.Dropdown(ANCHORS, value=TRAIN_DEFAULTS.anchor, label="Replace with", allow_custom_value=True,
                                                info="erased prompts turn into this prompt's motion (an anchor); empty = the unconditional motion")
                        with gr.Accordion("Advanced", open=False):
                            tr_extra = gr.Textbox(label="Extra prompts describing the concept (one per line)", lines=2)
                            with gr.Row():
                                tr_batch = gr.Slider(1, 16, value=TRAIN_DEFAULTS.batch_size, step=1, label="Batch size")
                                tr_seconds = gr.Slider(1, 9.8, value=TRAIN_DEFAULTS.frames / FPS, step=0.2, label="Clip length (s)")
                                tr_rollout = gr.Slider(2, 50, value=TRAIN_DEFAULTS.rollout_steps, step=1, label="Rollout steps")
                            tr_adversarial = gr.Slider(0, 16, value=TRAIN_DEFAULTS.adversarial_tokens, step=1, label="Adversarial tokens",
                                                       info="adversarial unlearning: soft tokens attacked during training so prompt attacks bring the concept back less; 0 = plain ESD, which trains in about 0.7x the default's time")
                        tr_replace = gr.Dropdown([("a new adapter", "")], value="", label="Save as", allow_custom_value=True,
                                                 info="a new adapter (kick, else kick-2, …: shipped and others' adapters are never replaced), or retrain one of yours")
                        with gr.Row():
                            tr_start = gr.Button("Start", variant="primary", interactive=not training_off)
                            tr_stop = gr.Button("Stop", variant="stop", interactive=not training_off)
                        with gr.Accordion("Your adapters", open=False):
                            gr.Markdown(f"Adapters you trained in this session{' (your Hugging Face account)' if require_login else ''}. "
                                        f"The server keeps at most {lab.max_user_adapters} visitors' adapters ({lab.max_user_bytes / 2**20:.0f} MB); "
                                        "beyond that the oldest are removed. Shipped adapters are never removed.")
                            with gr.Row(equal_height=True):
                                tr_mine = gr.Dropdown([], label="Adapter", allow_custom_value=True, scale=3)
                                tr_delete = gr.Button("Delete", variant="stop", size="sm", scale=1, min_width=90)
                    with gr.Column(scale=3, min_width=420):
                        tr_status = gr.Markdown(label="status", value="Training is disabled here." if training_off else "Set the options and press **Start**. Loss updates stream live; Stop discards the run.")
                        tr_plot = gr.Plot(label="Loss per step: total, ESD and preservation terms", elem_id="loss-plot")
                        tr_file = gr.File(label="Trained adapter (zip of its folder)", interactive=False, height=90)
                        with gr.Accordion("Details (JSON)", open=False):
                            tr_json = gr.JSON(label="training state")

            # ---------------------------------------------------------- Evaluate
            with gr.Tab("Evaluate", id="evaluate"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=1, min_width=300):
                        ev_adapter = gr.Dropdown(concepts(), value=(default_pick() or [None])[0], allow_custom_value=True, label="Adapter", info=infos()[1])
                        with gr.Accordion("Quick evaluation settings", open=False):
                            ev_kind = gr.Slider(1, 32, value=11, step=1, label="Forget prompts per kind", info="3 kinds: training phrasing, held-out phrasing, composite")
                            ev_concept = gr.Slider(1, 8, value=1, step=1, label="Retain prompts per other concept")
                            ev_repeats = gr.Slider(1, 5, value=2, step=1, label="Repeats (seeds)")
                            ev_steps = gr.Slider(1, 50, value=10, step=1, label="Sampling steps")
                        ev_btn = gr.Button("Run quick evaluation", variant="primary")
                        ev_caption = gr.Markdown(label="summary")
                    with gr.Column(scale=3, min_width=420):
                        ev_plot = gr.Plot(label="Concept presence")
                        ev_table = gr.Dataframe(headers=ui.TABLE_HEADERS, label=ui.TABLE_LABEL, interactive=False, wrap=True,
                                                column_widths=ui.TABLE_WIDTHS, elem_id="eval-table")
                        with gr.Accordion("Raw result (JSON)", open=False):
                            ev_json = gr.JSON(label="result")
                        ev_attack = gr.Markdown(elem_id="attack-report")
                ev_outputs = [ev_caption, ev_table, ev_plot, ev_json]
                ev_btn.click(ui.gpu(evaluate), [ev_adapter, ev_kind, ev_concept, ev_repeats, ev_steps], ev_outputs, api_name="evaluate", concurrency_limit=1, concurrency_id="model")
                ev_adapter.change(show_shipped, ev_adapter, ev_outputs, api_visibility="private", queue=False).then(
                    show_attack, ev_adapter, ev_attack, api_visibility="private", queue=False)

            # ---------------------------------------------------------- About
            with gr.Tab("About", id="about"):
                gr.Markdown(ABOUT)

        with gr.Row():
            refresh_btn = gr.Button("↻ Reload adapters", size="sm", variant="secondary", scale=0, min_width=160)

        train_inputs = [tr_concept, tr_preset, tr_rank, tr_alpha, tr_lr, tr_iter, tr_eta, tr_retain, tr_preserve, tr_extra, tr_batch, tr_seconds, tr_rollout, tr_replace, tr_anchor, tr_adversarial]
        pickers_out = [adapters, sw_adapter, ev_adapter, tr_replace, tr_mine]
        # Trainings wait inside the handler in arrival order (ui.TRAINING, one per visitor), so the limit is how many may wait at once.
        train_event = tr_start.click(ui.gpu(train), train_inputs, [tr_status, tr_plot, tr_file, *pickers_out, tr_json],
                                     api_name="train", concurrency_limit=settings.setting("MOTION_LORA_MAX_QUEUED_TRAININGS"), concurrency_id="train")
        tr_stop.click(stop_training, None, tr_status, cancels=[train_event], queue=False, api_visibility="private")
        tr_delete.click(delete_adapter, tr_mine, [tr_status, *pickers_out], api_name="delete_adapter", queue=False)
        refresh_btn.click(refresh, None, pickers_out, api_visibility="private", queue=False).then(
            show_shipped, ev_adapter, ev_outputs, api_visibility="private", queue=False)
        gr.api(list_adapters, api_name="list_adapters", queue=False)
        demo.load(on_load, [adapters, sw_adapter, ev_adapter], pickers_out, api_visibility="private", queue=False).then(
            show_shipped, ev_adapter, ev_outputs, api_visibility="private", queue=False).then(
            show_attack, ev_adapter, ev_attack, api_visibility="private", queue=False)
    demo.outputs_dir = outputs.root  # for tests and cleanup
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
