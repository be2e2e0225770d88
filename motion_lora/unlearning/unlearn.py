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
import threading
import time
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch

from ..checks import check_number
from ..data.captions import concept_paraphrases
from ..data.clip import CONCEPT_INDEX, CONCEPTS
from ..model.diffusion import masked_mse
from ..model.sampler import check_scheduler
from ..model.text_batch import TextBatch
from .adapters import AdapterSet, LoraSpec
from .soft_prompt import append_soft_tokens, clamp_token_norms_, initial_soft_tokens, largest_token_norm
from .target import TextToMotion

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
    # The research code's 1e-4 with preservation lambda 2: on the latent base, 2e-4 with lambda 1 erased kicks as fully
    # (natural kick presence 0.59 -> 0.00 against 0.02) at 2.6x the collateral (retain drop 9.8 against 3.7 points;
    # benchmarks/experiments/collateral.py, docs/unlearning.md).
    lr: float = 1e-4
    iterations: int = 300
    batch_size: int = 4
    method: str = "lora"
    lora: LoraSpec = field(default_factory=LoraSpec)
    retain_prompts: tuple[str, ...] = ()  # empty = the other concepts' captions nearest to the concept prompts
    preserve_weight: float = 2.0  # lambda; 0 = plain ESD
    # Teacher rollouts that provide x_t. 10 UniPC steps instead of the earlier 20 DDIM: on natural prompts
    # (benchmarks/experiments/collateral.py) they erase kick as well with the same collateral, in fewer teacher forwards.
    rollout_steps: int = 10
    scheduler: str = "unipc"  # the rollouts' sampler (sampler.SCHEDULERS); ESD trains on its timesteps
    rollout_guidance: float = 3.0
    # Adversarial unlearning (AdvUnlearn, Zhang et al. 2024): soft tokens appended to the concept prompts are
    # optimised to bring the concept back (the erased model's v pulled to the teacher's v_c, P4D's objective) for
    # `adversarial_steps` Adam steps per iteration, warm-started over a rollout pool; the ESD target is then also
    # trained on the attacked prompts. 0 tokens = off. On by default, at one inner step: on the feature-space base it
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
        check_number(self.negative_guidance, "negative guidance (eta)")
        check_number(self.rollout_guidance, "rollout guidance")
        check_number(self.lr, "learning rate", above=0, high=1e-1)
        check_number(self.preserve_weight, "preserve weight", low=0)
        check_number(self.adversarial_lr, "adversarial learning rate", above=0, high=10)
        for name, lo, hi in (("iterations", 1, MAX_ITERATIONS), ("batch_size", 1, 64), ("rollout_steps", 2, 100), ("pool_refresh", 1, 1000), ("paraphrases", 0, 64),
                             ("adversarial_tokens", 0, 16), ("adversarial_steps", 1, 20)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:  # ints, not 3.0: they size tensors and loops
                raise ValueError(f"{name} must be a whole number between {lo} and {hi}, got {v!r}")
        if not 20 <= self.frames <= 196 or self.frames % 4:
            raise ValueError(f"frames must be a multiple of 4 between 20 and 196, got {self.frames}")
        self.lora.validated(presets=None)  # the model's AdapterSet knows its presets
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


def nearest_retain_prompts(concept: str, prompts: list[str], encode, n: int = RETAIN_PROMPTS, per_concept: int = RETAIN_PER_CONCEPT) -> list[str]:
    """Captions of *other* concepts that read most like the concept prompts (cosine of pooled sentence vectors).

    ESD's collateral damage follows shared words: erasing "kicks with the right foot" turned "a woman moves on
    foot" into side steps. Preserving exactly these near neighbours protects what the adapter would otherwise
    hit; at most `per_concept` captions per concept keep several neighbours in the set. `encode`: prompts ->
    TextBatch (a model's `encode`, or a text encoder).
    """
    encode = getattr(encode, "encode", encode)
    key = concept_key(concept)
    candidates = [(c, p) for c in CONCEPTS if c != key for p in concept_paraphrases(c, np.random.default_rng(1), n=16)]
    a = torch.nn.functional.normalize(encode(prompts).pooled, dim=-1)  # (P, 384)
    b = torch.nn.functional.normalize(encode([p for _, p in candidates]).pooled, dim=-1)  # (N, 384)
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


class Pool:
    """Noisy motions from teacher rollouts: for each prompt, x at every step of one rollout."""

    def __init__(self, xs: torch.Tensor, ts: torch.Tensor, prompt_idx: torch.Tensor):
        self.xs, self.ts, self.prompt_idx = xs, ts, prompt_idx  # (N, T, D), (N,), (N,)

    def draw(self, k: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        i = torch.randint(0, len(self.ts), (k,), generator=g)
        return self.xs[i], self.ts[i], self.prompt_idx[i]

    def split(self, n: int) -> tuple["Pool", "Pool"]:
        """(prompts [0, n), prompts [n, ...)) of one rollout, each indexed from 0."""
        first = self.prompt_idx < n
        return Pool(self.xs[first], self.ts[first], self.prompt_idx[first]), Pool(self.xs[~first], self.ts[~first], self.prompt_idx[~first] - n)


@dataclass(frozen=True)
class Rows:
    """One group of rows of a batched forward: noisy motions x (B, T, D) at timesteps t (B,) under `text`."""

    x: torch.Tensor
    t: torch.Tensor
    text: TextBatch


def forward_rows(model: TextToMotion, module, groups: list[Rows], frames: int) -> list[torch.Tensor]:
    """One forward of `module` over several row groups (token axes padded to the longest), split back per group."""
    text = TextBatch.cat(*(g.text for g in groups))
    x, t = torch.cat([g.x for g in groups]), torch.cat([g.t for g in groups])
    out = model.predict(module, x, t, text, torch.full((len(x),), frames, device=x.device))
    return list(out.split([len(g.x) for g in groups]))


class Unlearner:
    """Iterate to train: `for event in Unlearner(model, adapters, ...): ...`. `model` is any TextToMotion
    (motion_lora.unlearning.target) and `adapters` the AdapterSet on its denoiser. Results are in `adapters` (LoRA)
    or `student` (full)."""

    def __init__(self, model: TextToMotion, adapters: AdapterSet, config: UnlearnConfig, name: str, stop: threading.Event | None = None):
        self.cfg = config.validated()
        if config.method not in ESD_METHODS:
            raise ValueError(f"method {config.method!r} is not ESD; build its trainer with motion_lora.unlearning.methods.make_trainer")
        if adapters.base is not model.denoiser:
            raise ValueError("the adapters must sit on the model's own denoiser (AdapterSet.for_model(model))")
        if config.frames > model.max_frames:
            raise ValueError(f"frames must be at most the model's {model.max_frames}, got {config.frames}")
        config.lora.validated(adapters.presets)
        self.model, self.adapters, self.name = model, adapters, name
        self.frames = model.model_frames(config.frames)  # what the denoiser sees: T / 4 latent frames on a latent model
        self.stop = stop or threading.Event()
        self.prompts = concept_prompts(config.concept, config.extra_prompts, config.paraphrases)
        self.retain = list(config.retain_prompts) or (nearest_retain_prompts(config.concept, self.prompts, model.encode) if config.preserve_weight > 0 else [])
        self.g = torch.Generator().manual_seed(config.seed)
        torch.manual_seed(config.seed)
        self.device = model.device
        if config.method == "lora":
            adapters.add(name, config.lora)
            self.params = adapters.trainable(name)
            self.student = adapters.peft
        else:
            self.student = copy.deepcopy(model.denoiser)
            self.student.requires_grad_(True)
            self.params = list(self.student.parameters())
        self.student.eval()  # no dropout: the student must see what the teacher sees
        self.optimizer = torch.optim.AdamW(self.params, lr=config.lr, weight_decay=0.0)
        self.step = 0
        self.soft: torch.nn.Parameter | None = None  # (pool prompts, adversarial_tokens, 384) when adversarial

    # ----------------------------------------------------------------- networks

    def teacher(self, groups: list[Rows]) -> list[torch.Tensor]:
        """The frozen network (every adapter off) on the row groups, without gradient."""
        with torch.no_grad(), self.adapters.disabled() as module:
            return forward_rows(self.model, module, groups, self.frames)

    def student_forward(self, groups: list[Rows]) -> list[torch.Tensor]:
        return forward_rows(self.model, self.student, groups, self.frames)

    def _full_mask(self, n: int) -> torch.Tensor:
        return torch.ones(n, self.frames, dtype=torch.bool, device=self.device)

    @torch.no_grad()
    def rollout(self, prompts: list[str]) -> Pool:
        """Teacher sampling with CFG from fresh noise; keep x_t at every step (the x_t ESD trains on).

        The chosen scheduler sets the timesteps; x_t is always the model input (Euler's own sample is not)."""
        B, T = len(prompts), self.frames
        text = self.model.text(prompts)
        process = self.model.reverse_process(self.cfg.scheduler, self.cfg.rollout_steps)  # fresh: schedulers are stateful
        sample = process.init(torch.randn(B, T, self.model.feature_dim, generator=self.g).to(self.device))
        xs, ts = [], []
        for i, t in enumerate(process.timesteps):
            tt = torch.full((B,), t, device=self.device, dtype=torch.long)
            x = process.model_input(sample, i)  # (B, T, D)
            xs.append(x)
            ts.append(tt)
            v_c, v_u = self.teacher([Rows(x, tt, text), Rows(x, tt, text.unconditional())])
            sample = process.step(v_u + self.cfg.rollout_guidance * (v_c - v_u), i, sample)
        idx = torch.arange(B).repeat(len(xs))
        return Pool(torch.cat(xs), torch.cat(ts), idx)

    def _sample_prompts(self, prompts: list[str], k: int) -> list[str]:
        order = torch.randperm(len(prompts), generator=self.g).tolist()
        return [prompts[order[i % len(prompts)]] for i in range(k)]

    # ----------------------------------------------------------------- adversarial prompts

    def _new_attack(self, pool_prompts: list[str]) -> None:
        """Fresh soft tokens (and their optimiser) for a new rollout pool's concept prompts."""
        text = self.model.text(pool_prompts)
        self.soft = torch.nn.Parameter(initial_soft_tokens(text, self.cfg.adversarial_tokens, self.g))
        self.soft_limit = largest_token_norm(text)  # (P, 1)
        self.soft_optimizer = torch.optim.Adam([self.soft], lr=self.cfg.adversarial_lr)

    def _attack(self, concept: Rows, pi: torch.Tensor, v_c: torch.Tensor) -> TextBatch:
        """Inner maximisation: move the soft tokens of the drawn concept rows so that the current student,
        given them, predicts the teacher's concept v_c again; returns the attacked conditioning (detached)."""
        for _ in range(self.cfg.adversarial_steps):
            (v,) = self.student_forward([Rows(concept.x, concept.t, append_soft_tokens(concept.text, self.soft[pi]))])
            (grad,) = torch.autograd.grad(masked_mse(v, v_c, self._full_mask(len(v))), [self.soft])
            self.soft.grad = grad
            self.soft_optimizer.step()
            clamp_token_norms_(self.soft, self.soft_limit)
        with torch.no_grad():
            return append_soft_tokens(concept.text, self.soft[pi].detach())

    # ----------------------------------------------------------------- training

    def losses(self, pool: Pool, pool_prompts: list[str], retain_pool: Pool | None, retain_prompts: list[str]):
        """(ESD loss, preservation loss). Concept and retain rows share one student and one teacher forward."""
        cfg, B = self.cfg, self.cfg.batch_size
        x, t, pi = pool.draw(B, self.g)
        preserving = retain_pool is not None and cfg.preserve_weight > 0
        groups = {"concept": [pool_prompts[i] for i in pi.tolist()]}
        if preserving:
            xr, tr, ri = retain_pool.draw(B, self.g)
            groups["retain"] = [retain_prompts[i] for i in ri.tolist()]
        anchor = cfg.anchor.strip()
        if anchor:
            groups["anchor"] = [anchor] * B
        # one encoder call for every group (one token length), then each group's rows
        text = dict(zip(groups, self.model.text([p for ps in groups.values() for p in ps]).split([len(ps) for ps in groups.values()])))
        concept = Rows(x, t, text["concept"])
        retain = Rows(xr, tr, text["retain"]) if preserving else None
        # ESD: v_a - eta (v_c - v_a), v_a the teacher on the concept's x_t under the anchor prompt (ESD's erase_from;
        # Kumari et al. 2023's model-based ablation at eta = 0), or unconditioned when there is no anchor
        reference = Rows(x, t, text["anchor"] if anchor else concept.text.unconditional())
        v_c, v_a, *v_r = self.teacher([concept, reference] + ([retain] if retain else []))
        target = v_a - cfg.negative_guidance * (v_c - v_a)
        erased = [concept]
        if cfg.adversarial_tokens:  # the concept rows once more, under their attacked prompts
            erased.append(Rows(x, t, self._attack(concept, pi, v_c)))
        out = self.student_forward(erased + ([retain] if retain else []))
        esd_rows = torch.cat(out[: len(erased)])
        esd = masked_mse(esd_rows, target.repeat(len(erased), 1, 1), self._full_mask(len(esd_rows)))
        preserve = masked_mse(out[-1], v_r[0], self._full_mask(B)) if retain else torch.zeros((), device=self.device)
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
