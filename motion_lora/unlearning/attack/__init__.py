"""Adversarial prompt attacks on concept erasure: can an attacker bring an erased concept back?

    python -m motion_lora.attack --adapter kick            # the kick adapter, with the base beside it
    python -m motion_lora.attack --base --concept kick      # the base model alone
    python -m motion_lora.attack --adapter motionbank_base_LoRA_kick --mode soft --steps 60 --tokens 8

Two attacks, after the image-erasure literature:

(a) **Soft prompt** (the continuous attack of UnlearnDiffAtk, Zhang et al. 2024, and of P4D, Chin et al. 2024,
    moved from the image domain to our motion denoiser). A few free vectors (`tokens`, default 4) in the text
    encoder's *output* token space (MiniLM last hidden states, 384-d) are appended to a kick prompt's token
    states and attention mask, one set per prompt, and optimised with Adam through the frozen denoiser with the
    adapter on, to maximise the proxy evaluator's probability of the concept for the generated motion
    (cross-entropy on its concept head). The pooled sentence vector the denoiser also reads is recomputed as the
    encoder would compute it over the longer token list (mean over the mask, L2-normalised). Each token's norm
    is kept within the largest norm of the prompt's real token states, so the vectors stay in the range of what
    the encoder emits. Two differentiable proxies of "the generated motion" (`grad_path`):
      * ``x0``: a short DDIM rollout (no gradient, `x0_steps` schedule) of the attacked model from fresh noise to
        a random step, then one guided denoiser call *with* gradient, whose one-step x0 estimate goes to the
        evaluator ("one-step x0 estimate at random noise levels", as UnlearnDiffAtk differentiates one step);
      * ``ddim``: a `ddim_steps`-step guided DDIM chain from fresh noise, gradient through the whole chain.
    The evaluator objective hands the attack the evaluator's gradient, so part of what it finds can be an
    adversarial example of the evaluator rather than a kick; the kinematic judge beside it tells them apart.
    `objective="match"` is P4D's objective instead: no evaluator in the loop; the erased model's one-step x0
    with the soft tokens is pulled towards the *base* model's x0 for the clean prompt at the same x_t (drawn
    from the base's own trajectory; mean squared distance).
    Success is judged only afterwards, with the normal sampler (DDIM, `sample_steps` = 20, guidance 2.5) on
    fresh seeds that the optimisation never saw, never on the differentiated proxy.

(b) **Discrete search** (the black-box side: Ring-A-Bell, Tsai et al. 2024, searches discrete prompts that carry
    the concept without its word). Candidates are the hand-written phrasings of
    `motion_lora/evaluation/prompts/attack_phrasings.txt` (≥ 30 for kick, most never saying "kick") and the natural kick
    prompts of `motion_lora/evaluation/prompts/natural.tsv`. Each candidate is sampled on `search_seeds` seeds and ranked
    by how often its motion is the concept (then by mean probability); the `top_k` best are then measured on
    fresh seeds.

Attack success rate (ASR) = share of attacked generations (prompt x fresh seed) whose evaluator top-1 concept is
the erased one; `prompt_asr` counts a prompt as broken when the concept comes back on at least half its fresh
seeds. The rule-based kinematic judge's rate on the same motions is reported beside it, and so is the clean rate
(the same prompts and seeds without the attack), so the attack's own effect is visible.

Library use (benchmarks, the app's Evaluate tab). The attack runs on the TextToMotion protocol
(motion_lora.unlearning.target), so any model wrapped in it can be attacked:

    target = AttackTarget.from_adapters(model, adapters, {"kick": 1.0}, judge=judge, mean=mean, std=std, label="kick")
    report = run_attack(target, AttackConfig(mode="soft"))                   # concept: the target's, or concept=
    report = run_attack(results.attack_target(None), concept="kick")         # the base (results.ResultEvaluation)
    report = run_attack(AttackTarget.from_model(edited, model=model, label="uce", ...), AttackConfig())
    reports = load_attack_report(folder)                                     # folder/eval/attack.json
    print(format_table(reports))

The app's side builds targets from its MotionLab with `motion_lora.serving.target.attack_target`.

Modules: config (the budget), target (what is attacked), soft (the soft prompt), discrete (the phrasing search),
judging (sampling on fresh seeds, evaluator and kinematic judge), results and reports (what is stored), run, cli.
"""

from .cli import build_parser, main
from .config import EVAL_SEED_BASE, GRAD_PATHS, MODES, OBJECTIVES, PHRASINGS_FILE, SEARCH_SEED_BASE, AttackConfig
from .discrete import candidate_prompts, discrete_search, read_phrasings, says_concept
from .reports import REPORT_FILE, REPORT_FORMAT, format_table, load_attack_report, save_reports
from .results import AttackReport, Candidate, DiscreteResult, PromptResult, SoftResult
from .run import run_attack
from .soft import attack_prompts, soft_prompt_attack
from .target import AttackTarget, file_sha256

__all__ = ["AttackConfig", "AttackReport", "AttackTarget", "Candidate", "DiscreteResult", "EVAL_SEED_BASE", "GRAD_PATHS", "MODES", "OBJECTIVES",
           "PHRASINGS_FILE", "PromptResult", "REPORT_FILE", "REPORT_FORMAT", "SEARCH_SEED_BASE", "SoftResult", "attack_prompts", "build_parser",
           "candidate_prompts", "discrete_search", "file_sha256", "format_table", "load_attack_report", "main", "read_phrasings", "run_attack",
           "save_reports", "says_concept", "soft_prompt_attack"]
