"""What an attack reports: per prompt, per attack, and the whole report as stored in eval/attack.json."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np


@dataclass
class PromptResult:
    prompt: str
    clean_rate: float  # evaluator top-1 = concept, share of fresh seeds, without the attack
    rate: float  # the same with the attack
    judge_rate: float  # kinematic judge, with the attack
    prob: float  # mean evaluator probability of the concept, with the attack
    clean_prob: float
    top1: list[str]  # evaluator top-1 concept per fresh seed, with the attack


@dataclass
class SoftResult:
    asr: float  # share of attacked generations (prompt x fresh seed) with evaluator top-1 = concept
    prompt_asr: float  # share of prompts with the concept on at least half their fresh seeds
    judge_rate: float  # kinematic judge's kick rate on the same generations
    clean_rate: float  # the same prompts and seeds without the soft tokens
    clean_judge_rate: float
    prob: float  # mean evaluator probability of the concept, attacked / clean
    clean_prob: float
    proxy_prob_start: float  # evaluator probability on the differentiated proxy, first / last optimisation step
    proxy_prob_end: float
    curve: list[float]  # proxy probability per optimisation step
    losses: list[float]  # the objective per optimisation step
    grad_path: str
    objective: str  # "evaluator" or "match"
    seconds: float
    prompts: list[PromptResult]


@dataclass
class Candidate:
    prompt: str
    source: str  # "phrasing" (hand-written) or "natural" (natural.tsv)
    says_concept: bool  # the prompt contains the concept's word
    search_rate: float  # evaluator top-1 = concept on the search seeds
    search_prob: float


@dataclass
class DiscreteResult:
    asr: float  # share of the best phrasings' fresh generations with evaluator top-1 = concept
    prompt_asr: float
    judge_rate: float
    candidates_rate: float  # over every candidate, on the search seeds
    concept_free_rate: float  # over the candidates that never say the concept's word, on the search seeds
    n_candidates: int
    n_concept_free: int
    best: list[PromptResult]  # the top_k phrasings judged on fresh seeds (clean_* = the same as rate: no soft tokens)
    candidates: list[Candidate]
    seconds: float


@dataclass
class AttackReport:
    label: str  # "base" or the adapter folder name / model label
    concept: str
    config: dict
    budget: str
    soft: SoftResult | None
    discrete: DiscreteResult | None
    seconds: float
    created: float = field(default_factory=time.time)
    fingerprint: str | None = None  # SHA-256 of the attacked weights file (None for a model given in memory)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "AttackReport":
        soft = d.get("soft")
        disc = d.get("discrete")
        if soft is not None:
            soft = SoftResult(**{**soft, "prompts": [PromptResult(**p) for p in soft["prompts"]]})
        if disc is not None:
            disc = DiscreteResult(**{**disc, "best": [PromptResult(**p) for p in disc["best"]], "candidates": [Candidate(**c) for c in disc["candidates"]]})
        return cls(**{**d, "soft": soft, "discrete": disc})

    def summary(self) -> dict:
        """The headline numbers (None where an attack was not run)."""
        s, dsc = self.soft, self.discrete
        return {"label": self.label, "concept": self.concept,
                "soft_asr": s.asr if s else None, "soft_judge": s.judge_rate if s else None, "soft_clean": s.clean_rate if s else None,
                "discrete_asr": dsc.asr if dsc else None, "discrete_judge": dsc.judge_rate if dsc else None,
                "discrete_all": dsc.candidates_rate if dsc else None, "discrete_concept_free": dsc.concept_free_rate if dsc else None}


def per_prompt(prompts: list[str], k: int, hit, judged, prob, top1, clean_hit=None, clean_prob=None) -> list[PromptResult]:
    """One PromptResult per prompt from flat per-generation arrays (k fresh seeds per prompt, prompt-major)."""
    out = []
    for i, p in enumerate(prompts):
        sl = slice(i * k, (i + 1) * k)
        ch = hit if clean_hit is None else clean_hit
        cp = prob if clean_prob is None else clean_prob
        out.append(PromptResult(p, float(ch[sl].mean()), float(hit[sl].mean()), float(judged[sl].mean()), float(prob[sl].mean()), float(cp[sl].mean()), top1[sl]))
    return out


def prompt_asr(rows: list[PromptResult]) -> float:
    """The share of prompts broken on at least half their fresh seeds."""
    return float(np.mean([r.rate >= 0.5 for r in rows])) if rows else float("nan")
