"""The app's model in the unlearning's terms: a MotionLab's base as a TextToMotion, and one of its adapters (or
its base) as an AttackTarget held under the lab's lock. The unlearning layer never sees the lab itself."""

from __future__ import annotations

from pathlib import Path

from ..unlearning.attack import AttackTarget, file_sha256
from ..unlearning.our_denoiser import generator_target
from ..unlearning.target import TextToMotion


def lab_model(lab) -> TextToMotion:
    """The lab's base denoiser, text encoder and foot planting as the protocol object."""
    return generator_target(lab.generator)


def attack_target(lab, adapter: str | None = None, scale: float = 1.0) -> AttackTarget:
    """The lab's base (adapter None) or one of its adapters (folder name, short name or concept alias) at `scale`
    (1 = as trained), run under the lab's lock for the whole attack."""
    if lab.judge is None:
        raise ValueError("the attack needs the evaluator checkpoint (the lab was built with evaluator=None)")
    if adapter is None:
        weights, label, concept, folder = {}, "base", None, Path(lab.generator.checkpoint)
        weights_file = folder / "model.safetensors"
    else:
        with lab.lock:
            name = lab.adapter_name(adapter)
            info = lab.infos[name]
        weights, label, concept, folder = {name: 1.0}, name if scale == 1 else f"{name} x{scale:g}", info.concept, info.path
        weights_file = folder / "model" / "adapter_model.safetensors"
    g = lab.generator
    return AttackTarget.from_adapters(lab_model(lab), lab.adapters, weights, scale, judge=lab.judge, mean=g.mean, std=g.std, label=label,
                                      concept=concept, folder=folder, fingerprint=file_sha256(weights_file), lock=lambda: lab.lock)
