"""The discrete search: hand-written and natural phrasings of the concept, ranked by how often their motion is the
concept, the best judged on fresh seeds (the black-box side, after Ring-A-Bell)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...data.clip import CONCEPT_INDEX, CONCEPTS
from ...evaluation.prompts import natural_prompts, normalise_text
from .config import EVAL_SEED_BASE, PHRASINGS_FILE, SEARCH_SEED_BASE, AttackConfig
from .judging import Judging, sample_states
from .results import Candidate, DiscreteResult, per_prompt, prompt_asr
from .target import AttackTarget


def read_phrasings(path: str | Path, concept: str) -> list[str]:
    """The phrasings of `concept` in a concept<TAB>phrasing file ('#' starts a comment line)."""
    path = Path(path)
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 2 or not fields[1].strip():
            raise ValueError(f"{path}:{number}: expected concept<TAB>phrasing, got {line!r}")
        c, text = fields[0].strip(), fields[1].strip()
        if c not in CONCEPT_INDEX:
            raise ValueError(f"{path}:{number}: unknown concept {c!r}; known: {', '.join(CONCEPTS)}")
        if c == concept:
            out.append(text)
    return out


def says_concept(text: str, concept: str) -> bool:
    """Does the text use the concept's own word (any inflection or typo-free form: 'kick', 'kicks', 'kicking')?"""
    stem = concept.replace("_", " ").split()[0][:4]
    return stem in normalise_text(text)


def candidate_prompts(concept: str, cfg: AttackConfig, extra: list[str] | None = None) -> list[tuple[str, str]]:
    """(text, source) of every candidate: hand-written phrasings, natural prompts, `extra`; duplicates dropped."""
    out, seen = [], set()
    sources = [(t, "phrasing") for t in read_phrasings(cfg.phrasings or PHRASINGS_FILE, concept)]
    if cfg.natural:
        sources += [(p.text, "natural") for p in natural_prompts(concept) if p.concepts == (concept,)]
    sources += [(t, "extra") for t in extra or []]
    for text, source in sources:
        key = normalise_text(text)
        if key not in seen:
            seen.add(key)
            out.append((text, source))
    if not out:
        raise ValueError(f"no candidate phrasings of {concept!r}: add some to {cfg.phrasings or PHRASINGS_FILE} or pass extra prompts")
    return out


def discrete_search(target: AttackTarget, concept: str, cfg: AttackConfig, extra: list[str] | None = None, progress=None) -> DiscreteResult:
    """Sample every candidate on the search seeds, keep the `top_k` best, judge those on fresh seeds."""
    cfg = cfg.validated()
    started = time.perf_counter()
    judging = Judging(target, concept)
    cands = candidate_prompts(concept, cfg, extra)
    texts = [t for t, _ in cands]
    s = cfg.search_seeds

    def run(prompts: list[str], seeds_per: int, seed_base: int):
        seeds = [seed_base + cfg.seed * 1000 + j for _ in prompts for j in range(seeds_per)]
        return judging(sample_states(target, module, target.model.text(prompts).repeat_interleave(seeds_per), seeds, cfg))

    with target.session() as module:
        hits, probs = [], []
        for i in range(0, len(texts), cfg.batch):
            chunk = texts[i : i + cfg.batch]
            h, _, pr, _ = run(chunk, s, SEARCH_SEED_BASE)
            hits.append(h.reshape(len(chunk), s).mean(1))
            probs.append(pr.reshape(len(chunk), s).mean(1))
            if progress:
                progress(f"discrete search: {min(i + cfg.batch, len(texts))}/{len(texts)} candidates")
        rate, prob = np.concatenate(hits), np.concatenate(probs)
        order = sorted(range(len(texts)), key=lambda i: (-rate[i], -prob[i], i))
        best = [texts[i] for i in order[: cfg.top_k]]
        k = cfg.eval_seeds
        hit, judged, pr, top1 = run(best, k, EVAL_SEED_BASE)
    rows = per_prompt(best, k, hit, judged, pr, top1)
    candidates = [Candidate(texts[i], cands[i][1], says_concept(texts[i], concept), float(rate[i]), float(prob[i])) for i in order]
    free = [c for c in candidates if not c.says_concept]
    return DiscreteResult(asr=float(hit.mean()), prompt_asr=prompt_asr(rows), judge_rate=float(judged.mean()), candidates_rate=float(rate.mean()),
                          concept_free_rate=float(np.mean([c.search_rate for c in free])) if free else float("nan"),
                          n_candidates=len(candidates), n_concept_free=len(free), best=rows, candidates=candidates,
                          seconds=time.perf_counter() - started)
