"""Task-vector negation (Ilharco et al. 2023, "Editing Models with Task Arithmetic"; SafeMo's use of it for motion):
fine-tune a LoRA *on* the concept's clips with the ordinary v-loss, so the adapter's delta is the direction that
adds the concept, then negate it.

The stored adapter is already negated (every lora_B matrix times -1, which flips B·A exactly), so in the app and
the CLIs scale +1 erases, like every other adapter, and scale 0 is the base; adapter.json records
`"method": "task_vector"` and `"stored_negated": true`. No retain data is used: the negated vector is all there is.
"""

from __future__ import annotations

import torch

from .data_trainer import DataLoraTrainer


def negate_lora(adapters, name: str) -> None:
    """Flip the sign of adapter `name`'s delta in place: B -> -B in every layer."""
    with torch.no_grad():
        for param_name, p in adapters.peft.named_parameters():
            if "lora_B" in param_name and f".{name}." in param_name:
                p.neg_()


class TaskVector(DataLoraTrainer):
    """Training minimises the forget-clip v-loss (learning the concept); `finish` negates the result."""

    uses_retain = False
    negated = False

    def combine(self, forget: torch.Tensor, retain: torch.Tensor) -> torch.Tensor:
        return forget

    def finish(self) -> None:
        negate_lora(self.adapters, self.name)
        self.negated = True
