"""The Unlearn tab: train an adapter that erases a concept (live loss, queue, stop), delete your own adapters."""

from __future__ import annotations

from dataclasses import dataclass

import gradio as gr

from ...motion.skeleton import FPS
from ...unlearning.adapters import PRESETS, LoraSpec
from ...unlearning.unlearn import TrainEvent, UnlearnConfig
from ..service import iterate_training, seconds_to_frames
from .context import AppContext, viewer
from .downloads import evicted_note, zip_adapter
from .errors import gpu, user_errors
from .picker_set import PickerSet
from .plots import loss_figure
from .tables import preserved_note
from .trainings import TRAINING, AlreadyQueued
from .values import lines, number

# "replace with" choices: empty = ESD's unconditional target; the anchors are concepts the evaluator knows (stand, walk)
ANCHORS = [("nothing (the unconditional motion)", ""), ("a person stands still", "a person stands still"), ("a person walks forward", "a person walks forward")]
TRAIN_DEFAULTS = UnlearnConfig()  # the tab starts from the train CLI's defaults (the shipped adapters' settings)
LOSS_POINTS = 40  # about how many loss updates a training streams


@dataclass(frozen=True, kw_only=True)
class UnlearnTab:
    form: list  # the training's settings, in the /train API's order
    replace: gr.Dropdown  # "Save as": a new adapter or one of the visitor's own
    mine: gr.Dropdown  # the visitor's own adapters, to delete
    start: gr.Button
    stop: gr.Button
    delete: gr.Button
    status: gr.Markdown
    plot: gr.Plot
    archive: gr.File
    state: gr.JSON


def training_config(concept, preset, rank, alpha, lr, iterations, eta, retain, preserve, extra, batch_size, seconds, rollout_steps,
                    anchor, adversarial_tokens, max_iterations: int) -> UnlearnConfig:
    """The tab's values (as the UI or an API client sends them) -> a validated training configuration."""
    n_iter = number(iterations, "iterations", 1, max_iterations, whole=True)
    if preset not in PRESETS:
        raise ValueError(f"unknown target preset {preset!r}; choose one of {', '.join(PRESETS)}")
    return UnlearnConfig(
        concept=concept if isinstance(concept, str) else "", extra_prompts=lines(extra, "extra prompts"), negative_guidance=number(eta, "η", 0, 10),
        lr=number(lr, "learning rate", 1e-7, 0.1), iterations=n_iter,
        batch_size=number(batch_size, "batch size", 1, 16, whole=True),
        lora=LoraSpec(rank=number(rank, "rank", 1, 64, whole=True), alpha=number(alpha, "alpha", 0.01, 256), preset=preset),
        retain_prompts=lines(retain, "retain prompts"), preserve_weight=number(preserve, "preservation weight", 0, 100),
        frames=seconds_to_frames(number(seconds, "clip length (s)", 1, 9.8)), rollout_steps=number(rollout_steps, "rollout steps", 2, 100, whole=True),
        anchor=" ".join(anchor.split()) if isinstance(anchor, str) else "",
        adversarial_tokens=number(adversarial_tokens, "adversarial tokens", 0, 16, whole=True),
    ).validated()


def build(ctx: AppContext) -> UnlearnTab:
    """The tab's layout (inside gr.Tabs); `connect` wires its events once every tab's picker exists."""
    cap, off = ctx.max_iterations, ctx.training_off
    with gr.Tab("Unlearn", id="unlearn"):
        if off:
            gr.Markdown("⚠️ **Training is disabled on this server** (`MOTION_LORA_DISABLE_TRAINING=1`). Run the app locally to train adapters.")
        with gr.Row(equal_height=False):
            with gr.Column(scale=2, min_width=320):
                concept = gr.Textbox(label="Concept to erase", value="kick", max_length=60, info="a MotionBank concept (kick, punch, wave, jump, …) or your own words")
                preset = gr.Dropdown(list(PRESETS), value=TRAIN_DEFAULTS.lora.preset, label="LoRA targets",
                                     info="attn: all attention projections · xattn: cross-attention · xattn-kv: text keys/values · all-linear")
                with gr.Row():
                    rank = gr.Slider(1, 64, value=TRAIN_DEFAULTS.lora.rank, step=1, label="Rank")
                    alpha = gr.Number(TRAIN_DEFAULTS.lora.alpha, label="Alpha", minimum=0.01)
                with gr.Row():
                    lr = gr.Number(TRAIN_DEFAULTS.lr, label="Learning rate")
                    eta = gr.Slider(0, 4, value=TRAIN_DEFAULTS.negative_guidance, step=0.1, label="η (negative guidance)")
                iterations = gr.Slider(1, cap, value=min(TRAIN_DEFAULTS.iterations, cap), step=1, label="Iterations", info=f"at most {cap} on this server")
                retain = gr.Textbox(label="Retain prompts (one per line)", lines=3, placeholder="empty = the other concepts' captions nearest to the concept")
                preserve = gr.Slider(0, 10, value=TRAIN_DEFAULTS.preserve_weight, step=0.1, label="Preservation weight λ", info="0 = plain ESD")
                anchor = gr.Dropdown(ANCHORS, value=TRAIN_DEFAULTS.anchor, label="Replace with", allow_custom_value=True,
                                     info="erased prompts turn into this prompt's motion (an anchor); empty = the unconditional motion")
                with gr.Accordion("Advanced", open=False):
                    extra = gr.Textbox(label="Extra prompts describing the concept (one per line)", lines=2)
                    with gr.Row():
                        batch = gr.Slider(1, 16, value=TRAIN_DEFAULTS.batch_size, step=1, label="Batch size")
                        seconds = gr.Slider(1, 9.8, value=TRAIN_DEFAULTS.frames / FPS, step=0.2, label="Clip length (s)")
                        rollout = gr.Slider(2, 50, value=TRAIN_DEFAULTS.rollout_steps, step=1, label="Rollout steps")
                    adversarial = gr.Slider(0, 16, value=TRAIN_DEFAULTS.adversarial_tokens, step=1, label="Adversarial tokens",
                                            info="adversarial unlearning: soft tokens attacked during training so prompt attacks bring the concept back less; 0 = plain ESD, which trains in about 0.7x the default's time")
                replace = gr.Dropdown([("a new adapter", "")], value="", label="Save as", allow_custom_value=True,
                                      info="a new adapter (kick, else kick-2, …: shipped and others' adapters are never replaced), or retrain one of yours")
                with gr.Row():
                    start = gr.Button("Start", variant="primary", interactive=not off)
                    stop = gr.Button("Stop", variant="stop", interactive=not off)
                with gr.Accordion("Your adapters", open=False):
                    gr.Markdown(f"Adapters you trained in this session{' (your Hugging Face account)' if ctx.require_login else ''}. "
                                f"The server keeps at most {ctx.lab.max_user_adapters} visitors' adapters ({ctx.lab.max_user_bytes / 2**20:.0f} MB); "
                                "beyond that the oldest are removed. Shipped adapters are never removed.")
                    with gr.Row(equal_height=True):
                        mine = gr.Dropdown([], label="Adapter", allow_custom_value=True, scale=3)
                        delete = gr.Button("Delete", variant="stop", size="sm", scale=1, min_width=90)
            with gr.Column(scale=3, min_width=420):
                status = gr.Markdown(label="status", value="Training is disabled here." if off else "Set the options and press **Start**. Loss updates stream live; Stop discards the run.")
                plot = gr.Plot(label="Loss per step: total, ESD and preservation terms", elem_id="loss-plot")
                archive = gr.File(label="Trained adapter (zip of its folder)", interactive=False, height=90)
                with gr.Accordion("Details (JSON)", open=False):
                    state = gr.JSON(label="training state")
    return UnlearnTab(form=[concept, preset, rank, alpha, lr, iterations, eta, retain, preserve, extra, batch, seconds, rollout, replace, anchor, adversarial],
                      replace=replace, mine=mine, start=start, stop=stop, delete=delete, status=status, plot=plot, archive=archive, state=state)


def connect(ctx: AppContext, tab: UnlearnTab, pickers: PickerSet) -> None:
    """The tab's events: Start (streams, refreshes every picker when done), Stop, Delete."""
    lab = ctx.lab

    @user_errors
    def train(concept, preset, rank, alpha, lr, iterations, eta, retain, preserve, extra, batch_size, seconds, rollout_steps, replace_adapter,
              anchor="", adversarial_tokens=0, request: gr.Request = None, profile: gr.OAuthProfile | None = None):
        if ctx.training_off:
            raise ValueError("training is disabled on this server (MOTION_LORA_DISABLE_TRAINING=1)")
        owner = ctx.owner(request, profile)
        config = training_config(concept, preset, rank, alpha, lr, iterations, eta, retain, preserve, extra, batch_size, seconds, rollout_steps,
                                 anchor, adversarial_tokens, ctx.max_iterations)
        target = replace_adapter.strip() if isinstance(replace_adapter, str) and replace_adapter.strip() else None
        if target:
            lab.refresh_adapters()
            lab.owned(target, owner, "retrain")  # a clear refusal before queueing
        try:
            ticket = TRAINING.join(owner)
        except AlreadyQueued:
            raise gr.Error("You already have a training running or waiting (one per visitor). Wait for it to finish, or press Stop, "
                           "then start again.", title="Already queued") from None
        try:
            yield from run_training(ticket, owner, config, target)
        finally:
            TRAINING.leave(ticket)  # also stops the training thread at its next step when the request was cancelled

    def run_training(ticket, owner: str, config: UnlearnConfig, target: str | None):
        """Wait for the visitor's turn, then train, streaming the status, the loss chart and the state."""
        while (ahead := TRAINING.wait_turn(ticket, 0.5)) > 0:
            if ticket.stop.is_set():
                yield {tab.status: "Stopped before it started — no adapter was saved.", tab.archive: None, tab.state: {"status": "stopped", "steps": 0}}
                return
            yield {tab.status: f"Waiting: {ahead} training{'s' if ahead > 1 else ''} ahead of yours (one runs at a time) …",
                   tab.state: {"status": "waiting", "ahead": ahead}}
        yield {tab.status: f"Preparing: teacher rollouts for **{config.concept}** …", tab.plot: loss_figure([], config.iterations), tab.state: {"status": "starting"}}
        events: list[TrainEvent] = []
        every, result = max(1, config.iterations // LOSS_POINTS), None
        for item in iterate_training(lab, config, ticket.stop, owner=owner, replace_adapter=target):
            if not isinstance(item, TrainEvent):
                result = item
                continue
            events.append(item)
            if item.step % every == 0 or item.step == item.total:
                eta_s = item.elapsed / item.step * (item.total - item.step) if item.step else 0
                yield {tab.status: f"step {item.step}/{item.total} · loss {item.loss:.4f} · {item.elapsed:.1f} s elapsed, ~{eta_s:.0f} s left",
                       tab.plot: loss_figure(events, item.total),
                       tab.state: {"status": "training", "step": item.step, "total": item.total, "loss": item.loss, "esd_loss": item.esd_loss,
                                   "preserve_loss": item.preserve_loss}}
        if result is None:
            yield {tab.status: "Stopped — no adapter was saved.", tab.archive: None, tab.state: {"status": "stopped", "steps": len(events)}}
            return
        info = {"status": "done", "name": result.name, "short": result.short, "concept": result.concept, "steps": len(events),
                "final_loss": events[-1].loss if events else None, "replaced": target, "evicted": list(result.evicted)}
        yield {tab.status: f"✅ Done: adapter **{result.short}** ({'retrained' if target else 'new'}; concept *{result.concept}*) is ready in every adapter picker. "
                           f"Final loss {info['final_loss']:.4f}.{preserved_note(result.meta)}{evicted_note(result.evicted, lab)}",
               tab.plot: loss_figure(events, config.iterations), tab.archive: zip_adapter(result, ctx.outputs.new("adapter")), **pickers.updated(owner),
               tab.state: info}

    def stop_training(request: gr.Request, profile: gr.OAuthProfile | None = None):
        owner = viewer(request, profile)
        if owner and TRAINING.request_stop(owner):
            return "Stopped — no adapter was saved."
        return "No training of yours is running."

    @user_errors
    def delete_adapter(name, request: gr.Request, profile: gr.OAuthProfile | None = None):
        owner = ctx.owner(request, profile)
        if not isinstance(name, str) or not name.strip():
            raise ValueError("choose one of your adapters to delete")
        lab.refresh_adapters()
        gone = lab.delete_adapter(name.strip(), owner)
        return {tab.status: f"Deleted **{gone.split('_LoRA_', 1)[-1]}**.", **pickers.updated(owner)}

    # Trainings wait inside the handler in arrival order (TRAINING, one per visitor), so the limit is how many may wait at once.
    started = tab.start.click(gpu(train), tab.form, [tab.status, tab.plot, tab.archive, *pickers.components, tab.state],
                              api_name="train", concurrency_limit=ctx.max_queued_trainings, concurrency_id="train")
    tab.stop.click(stop_training, None, tab.status, cancels=[started], queue=False, api_visibility="private")
    tab.delete.click(delete_adapter, tab.mine, [tab.status, *pickers.components], api_name="delete_adapter", queue=False)
