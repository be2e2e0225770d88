"""ESD concept erasure (Gandikota et al. 2023) in v-space, written once as an iterator of training events.

For a concept prompt c and a noisy motion x_t drawn from the *frozen teacher's* own DDIM rollout for c:
    v* = v_u - eta * (v_c - v_u)        (v_c, v_u: the teacher's conditional / unconditional predictions)
With an anchor prompt a ("a person stands still"), v_u is replaced by the teacher's v_a on the same x_t, so the
concept is mapped to the anchor's motion (ESD's erase_from; the anchor of Kumari et al. 2023, "Ablating Concepts").
    loss = || v_student(x_t, c) - v* ||^2  [+ lambda * || v_student(x_r, r) - v_teacher(x_r, r) ||^2 on retain prompts r]
The student is the same network with a trainable LoRA adapter (method "lora") or a fully trainable copy
(method "full", for comparison); the teacher is the network with adapters disabled, under no_grad.
Unless given, the retain prompts are the other concepts' captions nearest to the concept prompts
(`nearest_retain_prompts`), where plain ESD does its collateral damage; concept and retain rows share one
teacher rollout and one forward per network.

The CLI (`python -m motion_lora.train`) and the app both consume `Unlearner` events; stopping between steps
is done by setting `stop` (a threading.Event).
"""

from __future__ import annotations

import copy
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from ..data.captions import concept_paraphrases
from ..data.clip import CONCEPT_INDEX, CONCEPTS
from ..model.diffusion import Schedule, masked_mse
from ..model.sampler import Sampler, check_scheduler
from ..model.text_encoder import TextBatch, TextEncoder
from ..motion.features import FEATURE_DIM
from .adapters import AdapterSet, LoraSpec
from .soft_prompt import append_soft_tokens, clamp_token_norms_, initial_soft_tokens, largest_token_norm

METHODS = ("lora", "full", "ga", "uce", "task_vector")  # the train CLI's --method; what each is: motion_lora.unlearning.methods
ESD_METHODS = ("lora", "full")  # the ones this module trains (motion_lora.unlearning.methods.make_trainer dispatches the rest)
MAX_ITERATIONS = 5000
MAX_CONCEPT_CHARS = 60


@dataclass(frozen=True, kw_only=True)
class UnlearnConfig:
    concept: str = "kick"
    extra_prompts: tuple[str, ...] = ()  # user prompts added to the derived paraphrases
    paraphrases: int = 16
    negative_guidance: float = 1.0  # eta
    anchor: str = ""  # "a person stands still": map the concept to this prompt's motion; "" = the unconditional one
    # 2e-4, not the research code's 1e-4: the base retrained from scratch on real mocap resists 1e-4 (natural kick
    # presence 0.52 -> 0.12 in 300 iterations; 2e-4 reaches 0.01 with the same collateral, benchmarks/experiments/collateral.py).
    lr: float = 2e-4
    iterations: int = 300
    batch_size: int = 4
    method: str = "lora"
    lora: LoraSpec = field(default_factory=LoraSpec)
    retain_prompts: tuple[str, ...] = ()  # empty = the other concepts' captions nearest to the concept prompts
    preserve_weight: float = 1.0  # lambda; 0 = plain ESD
    # Teacher rollouts that provide x_t. 10 UniPC steps instead of the earlier 20 DDIM: on natural prompts
    # (benchmarks/experiments/collateral.py) they erase kick as well with the same collateral, in fewer teacher forwards.
    rollout_steps: int = 10
    scheduler: str = "unipc"  # the rollouts' sampler (sampler.SCHEDULERS); ESD trains on its timesteps
    rollout_guidance: float = 3.0
    # Adversarial unlearning (AdvUnlearn, Zhang et al. 2024): soft tokens appended to the concept prompts are
    # optimised to bring the concept back (the erased model's v pulled to the teacher's v_c, P4D's objective) for
    # `adversarial_steps` Adam steps per iteration, warm-started over a rollout pool; the ESD target is then also
    # trained on the attacked prompts. 0 tokens = off. On by default, at one inner step: on the shipped base it
    # cut P4D's soft-prompt attack on the kick adapter from 25% to 9% and left natural kicks 0.008 (plain: 0.025)
    # with less collateral, at 54 s of training instead of 39 s (two inner steps: ~2.5x the time).
    adversarial_tokens: int = 4
    adversarial_steps: int = 1
    adversarial_lr: float = 0.05
    pool_refresh: int = 20  # iterations between fresh rollouts
    frames: int = 120
    seed: int = 0

    def validated(self) -> "UnlearnConfig":
        concept_key(self.concept)
        if self.method not in METHODS:
            raise ValueError(f"unknown unlearning method {self.method!r}; choose one of {', '.join(METHODS)}")
        labels = {"negative_guidance": "negative guidance (eta)", "lr": "learning rate", "preserve_weight": "preserve weight", "rollout_guidance": "rollout guidance",
                  "adversarial_lr": "adversarial learning rate"}
        for name, label in labels.items():
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ValueError(f"{label} must be a finite number, got {v!r}")
        if not 0 < self.lr <= 1e-1:
            raise ValueError(f"learning rate must be in (0, 0.1], got {self.lr}")
        if self.preserve_weight < 0:
            raise ValueError(f"preserve weight must be >= 0, got {self.preserve_weight}")
        if not 0 < self.adversarial_lr <= 10:
            raise ValueError(f"adversarial learning rate must be in (0, 10], got {self.adversarial_lr}")
        for name, lo, hi in (("iterations", 1, MAX_ITERATIONS), ("batch_size", 1, 64), ("rollout_steps", 2, 100), ("pool_refresh", 1, 1000), ("paraphrases", 0, 64),
                             ("adversarial_tokens", 0, 16), ("adversarial_steps", 1, 20)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
                raise ValueError(f"{name} must be a whole number between {lo} and {hi}, got {v!r}")
        if not 20 <= self.frames <= 196 or self.frames % 4:
            raise ValueError(f"frames must be a multiple of 4 between 20 and 196, got {self.frames}")
        self.lora.validated()
        check_scheduler(self.scheduler)
        if not isinstance(self.anchor, str) or len(self.anchor) > 300:
            raise ValueError("the anchor must be a prompt of at most 300 characters (or empty for the unconditional motion)")
        if self.anchor.strip() and concept_key(self.concept) in CONCEPT_INDEX and concept_key(self.concept).replace("_", " ") in self.anchor.lower():
            raise ValueError(f"the anchor {self.anchor!r} names the concept being erased")
        return self


@dataclass(frozen=True)
class TrainEvent:
    step: int
    total: int
    loss: float
    esd_loss: float
    preserve_loss: float
    lr: float
    elapsed: float


def concept_key(concept: str) -> str:
    """Normalise a user's concept text: 'Kicks', 'kicking', 'raise arms' -> a known concept or clean text."""
    if not isinstance(concept, str):
        raise ValueError(f"the concept must be text, got {type(concept).__name__}")
    text = " ".join(concept.lower().split())
    if not text:
        raise ValueError("the concept is empty: name what to erase, e.g. 'kick'")
    if len(text) > MAX_CONCEPT_CHARS:
        raise ValueError(f"the concept is too long ({len(text)} characters; at most {MAX_CONCEPT_CHARS})")
    if not all(ch.isalpha() or ch in " -_'" for ch in text):
        raise ValueError(f"the concept may contain letters, spaces, '-' and '_' only, got {concept!r}")
    underscored = text.replace(" ", "_").replace("-", "_")
    for candidate in (underscored, underscored.rstrip("s"), underscored.removesuffix("ing"), underscored.removesuffix("es")):
        if candidate in CONCEPT_INDEX:
            return candidate
    return text


def concept_prompts(concept: str, extra: tuple[str, ...] = (), n: int = 16) -> list[str]:
    """The prompt set to erase: the concept itself, paraphrases from our caption grammar when the concept is
    known (else simple templates), and the user's own prompts."""
    key = concept_key(concept)
    words = key.replace("_", " ")
    prompts = [words, f"a person {words}s" if key in CONCEPT_INDEX else f"a person does {words}"]
    if key in CONCEPT_INDEX:
        prompts += concept_paraphrases(key, np.random.default_rng(0), n=n)
    else:
        prompts += [t.format(w=words) for t in ("someone performs {w}", "a person is doing {w}", "a man does {w}", "a woman performs {w}", "{w} motion")][: max(n, 1)]
    prompts += [p.strip() for p in extra if p and p.strip()]
    return list(dict.fromkeys(prompts))


# Measured on the natural prompts (benchmarks/experiments/collateral.py, 61 kick / 363 retain prompts, 2 seeds): 12 captions at
# most 3 per concept left punch -13 points; 24 at most 4 per concept -8, retain mean -1.3, at the same cost per step.
RETAIN_PROMPTS, RETAIN_PER_CONCEPT = 24, 4


def nearest_retain_prompts(concept: str, prompts: list[str], text_encoder: TextEncoder, n: int = RETAIN_PROMPTS, per_concept: int = RETAIN_PER_CONCEPT) -> list[str]:
    """Captions of *other* concepts that read most like the concept prompts (cosine of pooled sentence vectors).

    ESD's collateral damage follows shared words: erasing "kicks with the right foot" turned "a woman moves on
    foot" into side steps. Preserving exactly these near neighbours protects what the adapter would otherwise
    hit; at most `per_concept` captions per concept keep several neighbours in the set.
    """
    key = concept_key(concept)
    candidates = [(c, p) for c in CONCEPTS if c != key for p in concept_paraphrases(c, np.random.default_rng(1), n=16)]
    a = torch.nn.functional.normalize(text_encoder.encode(prompts).pooled, dim=-1)  # (P, 384)
    b = torch.nn.functional.normalize(text_encoder.encode([p for _, p in candidates]).pooled, dim=-1)  # (N, 384)
    similarity = (b @ a.T).max(dim=1).values  # (N,) closeness to the nearest concept prompt
    chosen, taken = [], {}
    for i in similarity.argsort(descending=True).tolist():
        c, p = candidates[i]
        if taken.get(c, 0) < per_concept and p not in chosen:
            chosen.append(p)
            taken[c] = taken.get(c, 0) + 1
        if len(chosen) == n:
            break
    return chosen


def unconditional(text: tuple, n: int | None = None) -> tuple:
    """The null condition for the first n rows of (tokens, mask, pooled): no tokens attended, zero pooled vector."""
    tokens, mask, pooled = (a[:n] for a in text)
    return tokens, torch.zeros_like(mask), torch.zeros_like(pooled)


def pad_tokens(text: tuple, length: int) -> tuple:
    """(tokens, mask, pooled) with the token axis padded to `length` (zero states, not attended)."""
    tokens, mask, pooled = text
    extra = length - tokens.shape[1]
    return (torch.cat([tokens, tokens.new_zeros(tokens.shape[0], extra, tokens.shape[2])], 1),
            torch.cat([mask, mask.new_zeros(mask.shape[0], extra)], 1), pooled)


def cat_text(a: tuple, b: tuple) -> tuple:
    """Row-concatenate two (tokens, mask, pooled) triples from one encoder batch (same token length)."""
    return tuple(torch.cat([x, y]) for x, y in zip(a, b))


class Pool:
    """Noisy motions from teacher rollouts: for each prompt, x at every DDIM step of one rollout."""

    def __init__(self, xs: torch.Tensor, ts: torch.Tensor, prompt_idx: torch.Tensor):
        self.xs, self.ts, self.prompt_idx = xs, ts, prompt_idx  # (N, T, D), (N,), (N,)

    def draw(self, k: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        i = torch.randint(0, len(self.ts), (k,), generator=g)
        return self.xs[i], self.ts[i], self.prompt_idx[i]

    def split(self, n: int) -> tuple["Pool", "Pool"]:
        """(prompts [0, n), prompts [n, ...)) of one rollout, each indexed from 0."""
        first = self.prompt_idx < n
        return Pool(self.xs[first], self.ts[first], self.prompt_idx[first]), Pool(self.xs[~first], self.ts[~first], self.prompt_idx[~first] - n)


class Unlearner:
    """Iterate to train: `for event in Unlearner(...): ...`. Results are in `adapters` (LoRA) or `student` (full)."""

    def __init__(self, adapters: AdapterSet, text_encoder: TextEncoder, config: UnlearnConfig, name: str, stop: threading.Event | None = None):
        self.cfg = config.validated()
        if config.method not in ESD_METHODS:
            raise ValueError(f"method {config.method!r} is not ESD; build its trainer with motion_lora.unlearning.methods.make_trainer")
        self.adapters, self.text_encoder, self.name = adapters, text_encoder, name
        self.stop = stop or threading.Event()
        self.schedule = Schedule()
        self.prompts = concept_prompts(config.concept, config.extra_prompts, config.paraphrases)
        self.retain = list(config.retain_prompts) or (nearest_retain_prompts(config.concept, self.prompts, text_encoder) if config.preserve_weight > 0 else [])
        self.g = torch.Generator().manual_seed(config.seed)
        torch.manual_seed(config.seed)
        base = adapters.base
        self.device = next(base.parameters()).device
        if config.method == "lora":
            adapters.add(name, config.lora)
            self.params = adapters.trainable(name)
            self.student = adapters.peft
        else:
            self.student = copy.deepcopy(base)
            self.student.requires_grad_(True)
            self.params = list(self.student.parameters())
        self.student.eval()  # no dropout: the student must see what the teacher sees
        self.optimizer = torch.optim.AdamW(self.params, lr=config.lr, weight_decay=0.0)
        self.step = 0
        self.soft: torch.nn.Parameter | None = None  # (pool prompts, adversarial_tokens, 384) when adversarial

    # ----------------------------------------------------------------- networks

    def teacher(self, x, t, text, lengths) -> torch.Tensor:
        with torch.no_grad(), self.adapters.disabled() as model:
            return model(x, t, *text, lengths)

    def _text(self, prompts: list[str]):
        b = self.text_encoder.encode(prompts)
        return b.tokens.to(self.device), b.mask.to(self.device), b.pooled.to(self.device)

    def _lengths(self, n: int) -> torch.Tensor:
        return torch.full((n,), self.cfg.frames, device=self.device)

    @torch.no_grad()
    def rollout(self, prompts: list[str]) -> Pool:
        """Teacher sampling with CFG from fresh noise; keep x_t at every step (the x_t ESD trains on).

        The chosen scheduler sets the timesteps; x_t is always the VP model input (Euler's own sample is not)."""
        B, T = len(prompts), self.cfg.frames
        text = self._text(prompts)
        both = cat_text(text, unconditional(text))
        lengths = self._lengths(2 * B)
        sampler = Sampler(check_scheduler(self.cfg.scheduler), self.cfg.rollout_steps)  # fresh: schedulers are stateful
        sample = sampler.init(torch.randn(B, T, FEATURE_DIM, generator=self.g).to(self.device))
        xs, ts = [], []
        for i, t in enumerate(sampler.timesteps):
            tt = torch.full((B,), t, device=self.device, dtype=torch.long)
            x = sampler.model_input(sample, i)  # (B, T, D)
            xs.append(x)
            ts.append(tt)
            v = self.teacher(torch.cat([x, x]), torch.cat([tt, tt]), both, lengths)
            v = v[B:] + self.cfg.rollout_guidance * (v[:B] - v[B:])
            sample = sampler.step(v, i, sample)
        idx = torch.arange(B).repeat(len(xs))
        return Pool(torch.cat(xs), torch.cat(ts), idx)

    def _sample_prompts(self, prompts: list[str], k: int) -> list[str]:
        order = torch.randperm(len(prompts), generator=self.g).tolist()
        return [prompts[order[i % len(prompts)]] for i in range(k)]

    # ----------------------------------------------------------------- adversarial prompts

    def _new_attack(self, pool_prompts: list[str]) -> None:
        """Fresh soft tokens (and their optimiser) for a new rollout pool's concept prompts."""
        text = TextBatch(*self._text(pool_prompts))
        self.soft = torch.nn.Parameter(initial_soft_tokens(text, self.cfg.adversarial_tokens, self.g))
        self.soft_limit = largest_token_norm(text)  # (P, 1)
        self.soft_optimizer = torch.optim.Adam([self.soft], lr=self.cfg.adversarial_lr)

    def _attack(self, x, t, pi: torch.Tensor, text: TextBatch, v_c: torch.Tensor) -> tuple:
        """Inner maximisation: move the soft tokens of the drawn concept rows so that the current student,
        given them, predicts the teacher's concept v_c again; returns the attacked conditioning (detached)."""
        lengths = self._lengths(len(x))
        mask = torch.ones(len(x), self.cfg.frames, dtype=torch.bool, device=self.device)
        for _ in range(self.cfg.adversarial_steps):
            v = self.student(x, t, *append_soft_tokens(text, self.soft[pi]), lengths)
            (grad,) = torch.autograd.grad(masked_mse(v, v_c, mask), [self.soft])
            self.soft.grad = grad
            self.soft_optimizer.step()
            clamp_token_norms_(self.soft, self.soft_limit)
        with torch.no_grad():
            return append_soft_tokens(text, self.soft[pi].detach())

    # ----------------------------------------------------------------- training

    def losses(self, pool: Pool, pool_prompts: list[str], retain_pool: Pool | None, retain_prompts: list[str]):
        """(ESD loss, preservation loss). Concept and retain rows share one student and one teacher forward."""
        cfg, B = self.cfg, self.cfg.batch_size
        x, t, pi = pool.draw(B, self.g)
        prompts = [pool_prompts[i] for i in pi.tolist()]
        preserving = retain_pool is not None and cfg.preserve_weight > 0
        if preserving:
            xr, tr, ri = retain_pool.draw(B, self.g)
            x, t = torch.cat([x, xr]), torch.cat([t, tr])
            prompts += [retain_prompts[i] for i in ri.tolist()]
        n = len(prompts)
        anchor = cfg.anchor.strip()
        # one encoder batch: concept rows [0, B), retain rows [B, n), then B anchor rows when anchored
        text = self._text(prompts + [anchor] * B if anchor else prompts)
        student_text = tuple(a[:n] for a in text)
        # teacher rows: every prompt conditioned, then the concept rows under the anchor (or unconditioned)
        reference = tuple(a[n:] for a in text) if anchor else unconditional(text, B)
        v_teacher = self.teacher(torch.cat([x, x[:B]]), torch.cat([t, t[:B]]), cat_text(student_text, reference), self._lengths(n + B))
        v_c, v_a = v_teacher[:B], v_teacher[n:]
        # ESD: v_a - eta (v_c - v_a); with an anchor, v_a is the anchor prompt's prediction on the concept's x_t
        # (ESD's erase_from; Kumari et al. 2023's model-based ablation at eta = 0)
        target = v_a - cfg.negative_guidance * (v_c - v_a)
        text, rows = student_text, n
        if cfg.adversarial_tokens:  # B more student rows: the concept rows under their attacked prompts
            attacked = self._attack(x[:B], t[:B], pi, TextBatch(*(a[:B] for a in student_text)), v_c)
            text = cat_text(pad_tokens(student_text, attacked[0].shape[1]), attacked)
            x, t, target, rows = torch.cat([x, x[:B]]), torch.cat([t, t[:B]]), torch.cat([target, target]), n + B
        v = self.student(x, t, *text, self._lengths(rows))
        esd_rows = torch.cat([v[:B], v[n:]])  # the concept rows (clean, then attacked when adversarial)
        esd = masked_mse(esd_rows, target, torch.ones(len(target), cfg.frames, dtype=torch.bool, device=self.device))
        mask = torch.ones(B, cfg.frames, dtype=torch.bool, device=self.device)
        preserve = masked_mse(v[B:n], v_teacher[B:n], mask) if preserving else torch.zeros((), device=self.device)
        return esd, preserve

    def __iter__(self) -> Iterator[TrainEvent]:
        cfg = self.cfg
        started = time.perf_counter()
        pool = retain_pool = None
        for self.step in range(1, cfg.iterations + 1):
            if self.stop.is_set():
                return
            if (self.step - 1) % cfg.pool_refresh == 0:  # one batched rollout for concept and retain prompts
                pool_prompts = self._sample_prompts(self.prompts, cfg.batch_size)
                retain_prompts = self._sample_prompts(self.retain, cfg.batch_size) if self.retain and cfg.preserve_weight > 0 else []
                pool, retain_pool = self.rollout(pool_prompts + retain_prompts).split(len(pool_prompts))
                if cfg.adversarial_tokens:
                    self._new_attack(pool_prompts)
                retain_pool = retain_pool if retain_prompts else None
            esd, preserve = self.losses(pool, pool_prompts, retain_pool, retain_prompts)
            loss = esd + cfg.preserve_weight * preserve
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            yield TrainEvent(self.step, cfg.iterations, loss.item(), esd.item(), preserve.item(), cfg.lr, time.perf_counter() - started)

    def run(self) -> list[TrainEvent]:
        return list(self)

    @property
    def finished(self) -> bool:
        return self.step >= self.cfg.iterations and not self.stop.is_set()


def lora_state(adapters: AdapterSet, name: str) -> dict[str, torch.Tensor]:
    """The adapter's LoRA matrices with adapter-independent keys (as stored in latest.tar)."""
    out = {}
    for key, value in adapters.peft.state_dict().items():
        if "lora_" in key and f".{name}." in key:
            out[key.replace(f".{name}.", ".")] = value.detach().cpu().clone()
    return out
