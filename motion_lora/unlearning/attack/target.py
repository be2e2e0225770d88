"""What is attacked: one model (a TextToMotion, possibly with adapters on), held for the whole attack, and the
judges that say whether the concept came back."""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Iterator

import numpy as np
import torch

from ...checks import check_number
from ..adapters import AdapterSet
from ..our_denoiser import denoiser_target
from ..target import TextToMotion

NO_LOCK = contextlib.nullcontext


@dataclass
class AttackTarget:
    """Everything the attack needs of a model: the protocol object (text encoder, schedule, sampler, forward), a
    session that yields the module to run and keeps it valid (an adapter switched on, a lock held) for the whole
    attack, and the judges. `mean`/`std` are the model's feature normaliser; `evaluator`, `eval_mean`, `eval_std`
    the proxy evaluator and its own normaliser."""

    label: str
    model: TextToMotion
    session: Callable[[], ContextManager[object]]  # yields the module (or callable) that `model.forward` runs
    evaluator: torch.nn.Module
    eval_mean: np.ndarray
    eval_std: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    concept: str | None = None  # the erased concept, when the target knows it (an adapter's)
    folder: Path | None = None  # where eval/attack.json goes by default
    # the model before erasure (a module `model.forward` runs, used inside `session()`), for the "match"
    # objective; None = the target itself
    reference: object | None = None
    fingerprint: str | None = None  # SHA-256 of the weights file attacked, so a report can be matched to its model

    @property
    def device(self) -> torch.device:
        return self.model.device

    @classmethod
    def from_adapters(cls, model: TextToMotion, adapters: AdapterSet, weights: dict[str, float], scale: float = 1.0, *, judge, mean, std,
                      label: str, concept: str | None = None, folder: str | Path | None = None, fingerprint: str | None = None,
                      lock: Callable[[], ContextManager] = NO_LOCK) -> "AttackTarget":
        """The adapter mix `weights` at `scale` on `model` (no weights: the base alone). `judge` is an
        evaluation.protocol.Judge (its evaluator and normaliser); `lock` a context factory held around every
        use of the adapters (a server shares them between threads). The match objective's reference is the
        base with every adapter off."""
        scale = check_number(scale, "scale", low=-5, high=5)
        if judge is None:
            raise ValueError("the attack needs the evaluator checkpoint (it was loaded without one)")

        @contextlib.contextmanager
        def session() -> Iterator[object]:
            with lock(), adapters.using(weights, float(scale)) as module:
                yield module

        def reference(x, t, tokens, mask, pooled, lengths):
            with lock(), adapters.disabled() as base:
                return base(x, t, tokens, mask, pooled, lengths)

        return cls(label=label, model=model, session=session, evaluator=judge.model, eval_mean=judge.mean, eval_std=judge.std, mean=np.asarray(mean),
                   std=np.asarray(std), concept=concept, folder=Path(folder) if folder else None, reference=reference if weights else None,
                   fingerprint=fingerprint)

    @classmethod
    def from_model(cls, module, *, model: TextToMotion | None = None, text_encoder=None, label: str = "model", evaluator, eval_mean, eval_std,
                   mean, std, concept: str | None = None, folder: str | Path | None = None, reference=None) -> "AttackTarget":
        """A changed model given in memory: `module` is run by `model.forward` (the protocol object it belongs to;
        None: this project's denoiser signature `module(x_t, t, tokens, mask, pooled, lengths) -> v`, with
        `text_encoder`). `reference`: the model before the change, for the "match" objective."""
        if not callable(module):
            raise TypeError(f"model must be a denoiser module or a callable denoise(x, t, tokens, mask, pooled, lengths), got {type(module).__name__}")
        if reference is not None and not callable(reference):
            raise TypeError(f"reference must be a denoiser module or a callable, got {type(reference).__name__}")
        if model is None:
            if text_encoder is None:
                raise ValueError("from_model needs the protocol object (model=) or a text encoder (text_encoder=)")
            model = denoiser_target(module if isinstance(module, torch.nn.Module) else torch.nn.Module(), text_encoder, label=label)
        if isinstance(module, torch.nn.Module):
            module.eval()
        return cls(label=label, model=model, session=lambda: contextlib.nullcontext(module), evaluator=evaluator, eval_mean=np.asarray(eval_mean),
                   eval_std=np.asarray(eval_std), mean=np.asarray(mean), std=np.asarray(std), concept=concept,
                   folder=Path(folder) if folder else None, reference=reference)


def file_sha256(path: Path) -> str | None:
    path = Path(path)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
