"""Task-vector negation (Ilharco et al. 2023, "Editing Models with Task Arithmetic"; SafeMo's use of it for motion):
fine-tune a LoRA *on* the concept's clips with the ordinary v-loss, so the adapter's delta is the direction that
adds the concept, then negate it.

The stored adapter is already negated (every lora_B matrix times -lambda, `--negation_scale`, default 1, which
turns B·A into -lambda B·A exactly), so in the app and
the CLIs scale +1 erases, like every other adapter, and scale 0 is the base; adapter.json records
`"method": "task_vector"` and `"stored_negated": true`. No retain data is used: the negated vector is all there is.
"""

from __future__ import annotations

import torch

from .data_trainer import DataLoraTrainer


def negate_lora(adapters, name: str, scale: float = 1.0) -> None:
    """Replace adapter `name`'s delta by -scale times it, in place: B -> -scale B in every layer."""
    with torch.no_grad():
        for param_name, p in adapters.peft.named_parameters():
            if "lora_B" in param_name and f".{name}." in param_name:
                p.mul_(-float(scale))


class TaskVector(DataLoraTrainer):
    """Training minimises the forget-clip v-loss (learning the concept); `finish` negates the result."""

    uses_retain = False
    negated = False

    def __init__(self, *args, negation_scale: float = 1.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.negation_scale = float(negation_scale)  # task arithmetic's lambda: the stored delta is -lambda x the learned one

    def combine(self, forget: torch.Tensor, retain: torch.Tensor) -> torch.Tensor:
        return forget

    def finish(self) -> None:
        negate_lora(self.adapters, self.name, self.negation_scale)
        self.negated = True
