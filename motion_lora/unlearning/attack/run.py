"""One attack run on one model: the soft prompt, the discrete search or both, in one report."""

from __future__ import annotations

import dataclasses
import time

from ...data.clip import CONCEPT_INDEX, CONCEPTS
from .config import AttackConfig
from .discrete import discrete_search
from .results import AttackReport
from .soft import attack_prompts, soft_prompt_attack
from .target import AttackTarget


def run_attack(target: AttackTarget, config: AttackConfig | None = None, *, concept: str | None = None, prompts: list[str] | None = None,
               extra_phrasings: list[str] | None = None, progress=None) -> AttackReport:
    """Attack one model and report. `target`: an AttackTarget (`AttackTarget.from_adapters` for a model with an
    adapter mix on, `from_model` for a changed model in memory; the app's side builds one with
    `motion_lora.serving.target.attack_target`). `concept` defaults to the target's; `prompts` to
    `config.prompts` natural prompts of the concept."""
    if config is not None and not isinstance(config, AttackConfig):
        raise TypeError(f"config must be an AttackConfig, got {type(config).__name__}")
    cfg = (config or AttackConfig()).validated()
    if not isinstance(target, AttackTarget):
        raise TypeError(f"target must be an AttackTarget (AttackTarget.from_adapters / from_model), got {type(target).__name__}")
    concept = concept or target.concept
    if concept is None:
        raise ValueError("say which concept to attack (concept='kick'): the base has no erased concept of its own")
    if concept not in CONCEPT_INDEX:
        raise ValueError(f"the evaluator cannot score {concept!r}; it knows {', '.join(CONCEPTS)}")
    started = time.perf_counter()
    soft = disc = None
    if cfg.mode in ("soft", "both"):
        attacked = prompts if prompts is not None else attack_prompts(concept, cfg.prompts, cfg.seed)
        if not attacked or not all(isinstance(p, str) and p.strip() for p in attacked):
            raise ValueError("prompts must be a non-empty list of non-empty strings")
        soft = soft_prompt_attack(target, concept, list(attacked), cfg, progress)
    if cfg.mode in ("discrete", "both"):
        disc = discrete_search(target, concept, cfg, extra_phrasings, progress)
    return AttackReport(label=target.label, concept=concept, config=dataclasses.asdict(cfg), budget=cfg.budget(), soft=soft,
                        discrete=disc, seconds=time.perf_counter() - started, fingerprint=target.fingerprint)
