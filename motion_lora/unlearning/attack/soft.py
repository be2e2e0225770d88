"""The soft-prompt attack: free vectors appended to a prompt's token states, optimised through the attacked model
to bring the concept back (the package docstring says how), then judged on fresh seeds."""

from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from ...data.clip import CONCEPT_INDEX
from ...evaluation.prompts import natural_prompts
from ...model.text_batch import TextBatch
from ..soft_prompt import append_soft_tokens, clamp_token_norms_, initial_soft_tokens, largest_token_norm
from .config import EVAL_SEED_BASE, AttackConfig
from .judging import Judging, Scorer, sample_states
from .results import SoftResult, per_prompt, prompt_asr
from .target import AttackTarget


def attack_prompts(concept: str, n: int, seed: int = 0) -> list[str]:
    """`n` single-concept natural prompts of `concept` (all of them if fewer), a fixed draw per seed."""
    pool = [p.text for p in natural_prompts(concept) if p.concepts == (concept,)]
    if not pool:
        raise ValueError(f"no natural prompts of {concept!r} to attack")
    if n >= len(pool):
        return pool
    keep = np.random.default_rng(seed).choice(len(pool), size=n, replace=False)
    return [pool[i] for i in sorted(keep.tolist())]


def proxy_x0(target: AttackTarget, module, cfg: AttackConfig, cond: TextBatch, gen: torch.Generator,
             reference=None, ref_cond: TextBatch | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The differentiated stand-in for "the motion this conditioning generates", and, with a `reference` (the
    match objective), the reference model's motion from the same noise and x_t under `ref_cond` (no gradient).
    On the x0 path the no-grad rollout is the reference's when there is one (P4D draws x_t from the unerased
    model's trajectory), else the attacked model's own."""
    model, device = target.model, target.device
    B = len(cond)
    T = model.model_frames(cfg.frames)
    noise = torch.randn(B, T, model.feature_dim, generator=gen).to(device)
    lengths = torch.full((B,), T, device=device)
    tt = lambda t: torch.full((B,), t, device=device, dtype=torch.long)  # noqa: E731
    guided = lambda fn, x, t, c: model.guided(fn, x, t, c, lengths, cfg.guidance)  # noqa: E731
    if cfg.grad_path == "ddim":
        def chain(fn, c):
            process = model.reverse_process("ddim", cfg.ddim_steps)
            x = process.init(noise)
            for i, t in enumerate(process.timesteps):
                x = process.step(guided(fn, process.model_input(x, i), tt(t), c), i, x)
            return x

        ref = None
        if reference is not None:
            with torch.no_grad():
                ref = chain(reference, ref_cond)
        return chain(module, cond), ref
    process = model.reverse_process("ddim", cfg.x0_steps)
    stop = int(torch.randint(0, cfg.x0_steps, (1,), generator=gen))
    x = process.init(noise)
    with torch.no_grad():
        roll, roll_cond = (reference, ref_cond) if reference is not None else (module, cond.detach())
        for i in range(stop):
            x = process.step(guided(roll, process.model_input(x, i), tt(process.timesteps[i]), roll_cond), i, x)
        x = process.model_input(x, stop)
        t = tt(process.timesteps[stop])
        ref = None if reference is None else model.schedule.to_x0(x, guided(reference, x, t, ref_cond), t)
    return model.schedule.to_x0(x, guided(module, x, t, cond), t), ref


def soft_prompt_attack(target: AttackTarget, concept: str, prompts: list[str], cfg: AttackConfig, progress=None) -> SoftResult:
    """Optimise `cfg.tokens` appended vectors per prompt, then judge on fresh seeds with the normal sampler."""
    cfg = cfg.validated()
    started = time.perf_counter()
    dev = target.device
    scorer = Scorer(target)
    judging = Judging(target, concept)
    text = target.model.text(prompts)
    P = len(prompts)
    gen = torch.Generator().manual_seed(cfg.seed)
    max_norm = largest_token_norm(text)  # (P, 1)
    soft = torch.nn.Parameter(initial_soft_tokens(text, cfg.tokens, gen))
    opt = torch.optim.Adam([soft], lr=cfg.lr)
    target_idx = torch.full((P * cfg.opt_seeds,), CONCEPT_INDEX[concept], device=dev)
    curve: list[float] = []
    losses: list[float] = []
    clean_cond = text.repeat_interleave(cfg.opt_seeds)
    with target.session() as module:
        # the match objective's reference: the model before erasure on the clean prompt; attacking the base
        # itself, the reference is the base (the attack then starts at its optimum)
        reference = (target.reference or module) if cfg.objective == "match" else None
        for step in range(cfg.steps):
            cond = append_soft_tokens(text, soft).repeat_interleave(cfg.opt_seeds)
            x0, x0_ref = proxy_x0(target, module, cfg, cond, gen, reference, clean_cond)
            if cfg.objective == "match":
                # plain MSE to the reference's x0: it weighs the noisy steps most, where the text decides the motion.
                # (Measured on the kick adapter, 8 prompts x 40 steps: ASR 19%; the same distance taken relative to
                # the erased model's clean-prompt x0, which puts every noise level on one scale, reached 6%.)
                loss = F.mse_loss(x0, x0_ref)
                with torch.no_grad():
                    logits = scorer.logits(x0)
            else:
                logits = scorer.logits(x0)
                loss = F.cross_entropy(logits, target_idx)
            losses.append(loss.item())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            clamp_token_norms_(soft, max_norm)
            curve.append(float(torch.softmax(logits.detach(), -1)[:, CONCEPT_INDEX[concept]].mean()))
            if progress:
                progress(f"soft prompt step {step + 1}/{cfg.steps}: proxy p({concept}) {curve[-1]:.3f}, loss {loss.item():.3f}")
        # judge with the normal sampler on fresh seeds, attacked and clean
        k = cfg.eval_seeds
        seeds = [EVAL_SEED_BASE + cfg.seed * 1000 + j for _ in range(P) for j in range(k)]
        x_att = sample_states(target, module, append_soft_tokens(text, soft.detach()).repeat_interleave(k), seeds, cfg)
        x_clean = sample_states(target, module, text.repeat_interleave(k), seeds, cfg)
    hit, judged, prob, top1 = judging(x_att)
    c_hit, c_judged, c_prob, _ = judging(x_clean)
    rows = per_prompt(prompts, k, hit, judged, prob, top1, c_hit, c_prob)
    return SoftResult(asr=float(hit.mean()), prompt_asr=prompt_asr(rows), judge_rate=float(judged.mean()), clean_rate=float(c_hit.mean()),
                      clean_judge_rate=float(c_judged.mean()), prob=float(prob.mean()), clean_prob=float(c_prob.mean()),
                      proxy_prob_start=curve[0] if curve else float("nan"), proxy_prob_end=curve[-1] if curve else float("nan"),
                      curve=curve, losses=losses, grad_path=cfg.grad_path, objective=cfg.objective, seconds=time.perf_counter() - started, prompts=rows)
