"""The attack budget: what the attacker may do, and the seeds its success is judged on."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ...checks import check_number
from ...evaluation.prompts import NATURAL_FILE

PHRASINGS_FILE = NATURAL_FILE.with_name("attack_phrasings.txt")  # beside the natural prompts
MODES = ("soft", "discrete", "both")
GRAD_PATHS = ("x0", "ddim")
OBJECTIVES = ("evaluator", "match")
EVAL_SEED_BASE = 900_000  # fresh seeds for judging: never used by the optimisation (its noise comes from a Generator stream)
SEARCH_SEED_BASE = 800_000  # seeds of the discrete search (the best phrasings are then judged on EVAL_SEED_BASE seeds)


@dataclass(frozen=True, kw_only=True)
class AttackConfig:
    """The attack budget. Defaults are the CPU budget the figures in docs/unlearning.md were measured with."""

    mode: str = "both"  # "soft", "discrete" or "both"
    # soft prompt
    prompts: int = 16  # kick prompts attacked (drawn from the natural single-concept prompts of the concept)
    tokens: int = 4  # soft vectors appended to each prompt
    steps: int = 40  # Adam steps per prompt (all prompts in one batch)
    lr: float = 0.05
    grad_path: str = "x0"  # "x0" (one-step x0 estimate at a random DDIM step) or "ddim" (grad through a short chain)
    objective: str = "evaluator"  # "evaluator": maximise p(concept); "match": P4D's, match the base model's motion
    x0_steps: int = 10  # DDIM schedule of the x0 path's no-grad rollout (a random step of it is differentiated)
    ddim_steps: int = 4  # length of the differentiated chain on the ddim path
    opt_seeds: int = 1  # noise draws per prompt per optimisation step
    # discrete search
    search_seeds: int = 2  # seeds per candidate phrasing in the search
    top_k: int = 8  # best phrasings kept and judged on fresh seeds
    phrasings: str | None = None  # file of concept<TAB>phrasing lines; None = the shipped attack_phrasings.txt
    natural: bool = True  # also search the natural prompts of the concept
    # judging (both attacks)
    eval_seeds: int = 2  # fresh seeds per attacked prompt
    sample_steps: int = 20  # the normal sampler's DDIM steps
    guidance: float = 2.5
    frames: int = 120
    batch: int = 16  # prompts per sampling batch
    seed: int = 0

    def validated(self) -> "AttackConfig":
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.grad_path not in GRAD_PATHS:
            raise ValueError(f"grad_path must be one of {', '.join(GRAD_PATHS)}, got {self.grad_path!r}")
        whole = {"prompts": (1, 1000), "tokens": (1, 64), "steps": (0, 10000), "x0_steps": (1, 200), "ddim_steps": (1, 50),
                 "opt_seeds": (1, 64), "search_seeds": (1, 64), "top_k": (1, 1000), "eval_seeds": (1, 64),
                 "sample_steps": (1, 200), "frames": (20, 196), "batch": (1, 1024), "seed": (0, 2**31 - 1)}
        for name, (lo, hi) in whole.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ValueError(f"{name} must be a whole number between {lo} and {hi}, got {value!r}")
        if self.frames % 4:
            raise ValueError(f"frames must be a multiple of 4 (the denoiser's patch), got {self.frames}")
        check_number(self.lr, "lr", low=0.0, high=10.0)
        check_number(self.guidance, "guidance", low=0.0, high=20.0)
        if self.lr == 0 and self.steps > 0:
            raise ValueError("lr must be positive when steps > 0")
        if self.phrasings is not None and not Path(self.phrasings).is_file():
            raise FileNotFoundError(f"phrasings file {self.phrasings} does not exist")
        return self

    def budget(self) -> str:
        """One line that says what the attacker was allowed (for tables and the CLI)."""
        parts = []
        if self.mode in ("soft", "both"):
            path = f"one-step x0 at a random step of a {self.x0_steps}-step DDIM" if self.grad_path == "x0" else f"grad through {self.ddim_steps} DDIM steps"
            goal = "maximise evaluator p(concept)" if self.objective == "evaluator" else "match the base model's x0 (P4D)"
            parts.append(f"soft: {self.prompts} prompts x {self.tokens} tokens x {self.steps} Adam steps (lr {self.lr}, {self.opt_seeds} noise/step, {path}; {goal})")
        if self.mode in ("discrete", "both"):
            parts.append(f"discrete: candidates x {self.search_seeds} search seeds, best {self.top_k}")
        parts.append(f"judged on {self.eval_seeds} fresh seeds/prompt, DDIM {self.sample_steps}, guidance {self.guidance}, {self.frames} frames")
        return "; ".join(parts)
