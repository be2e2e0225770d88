"""A LoRA adapter trained on motion clips with the ordinary v-loss: the loop that gradient ascent and the task
vector share.

Unlike ESD (`motion_lora.unlearning.unlearn`), these methods learn from data, not from the frozen model's rollouts: each step
draws a batch of forget clips (the concept's) and, when the method wants them, a batch of retain clips, and takes
the pretraining v-loss (`pretrain.training_loss`, no caption dropout: the caption is the condition being edited) on
each. Subclasses say how the two losses combine. Only the adapter's LoRA matrices are optimised (the base stays
frozen; `AdapterSet.trainable`), with the gradient norm clipped at 1. Events are `unlearn.TrainEvent`s, with
`esd_loss` holding the forget-set v-loss and `preserve_loss` the retain-set v-loss.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import torch

from ..model.autoencoder import latent_batch
from ..model.diffusion import Schedule
from ..model.pretrain import TrainConfig, training_loss
from .adapters import AdapterSet
from .concept_data import ClipStream, concept_split
from .our_denoiser import folder_autoencoder
from .target import TextToMotion
from .unlearn import TrainEvent, UnlearnConfig, concept_key

GRAD_CLIP = 1.0


class DataLoraTrainer:
    """Iterate to train: `for event in trainer: ...`; the result is the LoRA adapter `name` in `adapters`."""

    uses_retain = True  # draw retain batches

    def __init__(self, model: TextToMotion, adapters: AdapterSet, config: UnlearnConfig, name: str, *, data: str | Path, base_dir: str | Path, stop: threading.Event | None = None):
        self.cfg = config.validated()
        self.model, self.adapters, self.name = model, adapters, name
        self.stop = stop or threading.Event()
        self.concept = concept_key(config.concept)
        forget, retain = concept_split(data, self.concept, base_dir, seed=config.seed, method=config.method)
        self.g = torch.Generator().manual_seed(config.seed)
        torch.manual_seed(config.seed)
        self.forget = ClipStream(forget, config.batch_size, self.g)
        self.retain_clips = ClipStream(retain, config.batch_size, self.g) if self.uses_retain else None
        self.prompts: list[str] = []  # no prompt sets: the data's own captions condition every step
        self.retain: list[str] = []
        self.summary = {"data": str(data), "forget_clips": len(forget), "retain_clips": len(retain) if self.uses_retain else 0}
        self.device = model.device
        self.autoencoder = folder_autoencoder(base_dir, self.device)  # a latent base learns from its clips' latents
        self.schedule = Schedule()
        self.loss_cfg = TrainConfig(cond_drop=0.0)
        adapters.add(name, config.lora)
        self.params = adapters.trainable(name)
        self.student = adapters.peft
        self.student.eval()  # no dropout
        self.optimizer = torch.optim.AdamW(self.params, lr=config.lr, weight_decay=0.0)
        self.step = 0

    def v_loss(self, stream: ClipStream) -> torch.Tensor:
        batch = stream.next(self.device)
        if self.autoencoder is not None:
            with torch.no_grad():
                batch = latent_batch(batch, self.autoencoder)
        text = self.model.text(batch["caption"])
        return training_loss(self.student, self.schedule, batch, text, self.loss_cfg, self.g)

    def combine(self, forget: torch.Tensor, retain: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def finish(self) -> None:
        """Called once after the last step of a run that was not stopped."""

    def __iter__(self) -> Iterator[TrainEvent]:
        started = time.perf_counter()
        zero = torch.zeros((), device=self.device)
        for step in range(1, self.cfg.iterations + 1):
            self.step = step
            if self.stop.is_set():
                return
            forget = self.v_loss(self.forget)
            retain = self.v_loss(self.retain_clips) if self.retain_clips is not None else zero
            loss = self.combine(forget, retain)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.params, GRAD_CLIP)
            self.optimizer.step()
            if self.step == self.cfg.iterations:
                self.finish()
            yield TrainEvent(self.step, self.cfg.iterations, loss.item(), forget.item(), retain.item(), self.cfg.lr, time.perf_counter() - started)

    def run(self) -> list[TrainEvent]:
        return list(self)

    @property
    def finished(self) -> bool:
        return self.step >= self.cfg.iterations and not self.stop.is_set()
