"""The unlearning methods behind `python -m motion_lora.train --method ...`, and what each one's result is.

| method | what it does | result |
|---|---|---|
| `lora` | ESD with a LoRA adapter (ours, the default; `motion_lora.unlearning.unlearn`) | LoRA adapter |
| `full` | ESD fine-tuning every weight (`motion_lora.unlearning.unlearn`, method "full") | changed tensors (`edited.safetensors`) |
| `ga` | gradient ascent on data: retain v-loss - lambda forget v-loss, LoRA (`motion_lora.unlearning.gradient_ascent`) | LoRA adapter |
| `uce` | Unified Concept Editing: closed-form cross-attention key/value edit (`motion_lora.unlearning.uce`) | LoRA adapter (exact factorisation) + `edited.safetensors` |
| `task_vector` | LoRA fine-tuned on the concept's clips, stored negated (`motion_lora.unlearning.task_vector`) | LoRA adapter |

LoRA-shaped results load in the app like any adapter. A full fine-tune changes biases, norms and embeddings too,
which no LoRA can hold: it is evaluated by swapping its tensors into the base (`weight_edit.applied`) in
`python -m motion_lora.test_unlearn` and `benchmarks/experiments/methods.py`, and is not offered in the app.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from ..checks import check_number
from ..model.denoiser import MotionDenoiser
from .adapters import AdapterSet
from .target import TextToMotion
from .unlearn import METHODS, UnlearnConfig, Unlearner

LORA_RESULTS = ("lora", "ga", "uce", "task_vector")  # results stored as PEFT LoRA adapters
WEIGHT_RESULTS = ("full", "uce")  # results that also store edited tensors
DATA_METHODS = ("ga", "task_vector")  # learn from dataset clips (--data)
TAGS = {"lora": "", "full": "", "ga": "_ga", "uce": "_uce", "task_vector": "_task_vector"}  # folder-name suffixes
LABELS = {"lora": "LoRA-ESD (ours)", "full": "full fine-tuning ESD", "ga": "gradient ascent on data (the fork's recipe)", "uce": "UCE (closed form)", "task_vector": "task-vector negation"}


@dataclass(frozen=True, kw_only=True)
class MethodOptions:
    """Options of the baselines that UnlearnConfig (ESD's) does not hold."""

    data: str = ""  # dataset folder of the data methods (ga, task_vector)
    forget_weight: float = 1.0  # lambda of gradient ascent
    uce_erase_scale: float = 1.0  # weight of the edit term of UCE
    uce_lambda: float = 0.1  # UCE's regulariser towards the original weights
    negation_scale: float = 1.0  # task_vector: the stored adapter is -negation_scale x the learned delta

    def validated(self, method: str) -> MethodOptions:
        check_method(method)
        for name in ("forget_weight", "uce_erase_scale", "uce_lambda", "negation_scale"):
            check_number(getattr(self, name), name.replace("_", " "), above=0)
        if method in DATA_METHODS:
            from .concept_data import check_data_folder

            check_data_folder(self.data, method)
        return self


def check_method(method: str) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown unlearning method {method!r}; choose one of {', '.join(METHODS)} ({'; '.join(f'{m}: {LABELS[m]}' for m in METHODS)})")
    return method


def make_trainer(model: TextToMotion, adapters: AdapterSet, config: UnlearnConfig, name: str, *, options: MethodOptions | None = None,
                 base_dir: str | Path | None = None, stop: threading.Event | None = None):
    """The trainer of `config.method`: an iterable of `unlearn.TrainEvent`s with `prompts`, `retain`, `finished`,
    `cfg` and `name`, whose result is adapter `name` in `adapters` (LoRA-shaped methods) or `student` (full).
    ESD (lora, full) runs on any TextToMotion; the baselines edit or train this project's denoiser only."""
    method = check_method(config.method)
    options = (options or MethodOptions()).validated(method)
    if method in ("lora", "full"):
        return Unlearner(model, adapters, config, name, stop=stop)
    if not isinstance(model.denoiser, MotionDenoiser) or model.schedule.prediction != "v":
        raise ValueError(f"method {method!r} is written for this project's v-prediction denoiser; on {model.label} use lora or full (ESD)")
    if method == "uce":
        from .uce import UCE

        return UCE(model, adapters, config, name, stop=stop, erase_scale=options.uce_erase_scale, lam=options.uce_lambda)
    if base_dir is None:
        raise ValueError(f"method {method!r} needs the base checkpoint folder (its Mean/Std normalise the clips)")
    if method == "ga":
        from .gradient_ascent import GradientAscent

        return GradientAscent(model, adapters, config, name, data=options.data, base_dir=base_dir, stop=stop, forget_weight=options.forget_weight)
    from .task_vector import TaskVector

    return TaskVector(model, adapters, config, name, data=options.data, base_dir=base_dir, stop=stop, negation_scale=options.negation_scale)
