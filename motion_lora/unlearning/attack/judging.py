"""Whether the concept came back: the normal sampler on fresh seeds, then the proxy evaluator (differentiably, for
the evaluator objective) and the rule-based kinematic judge beside it."""

from __future__ import annotations

import numpy as np
import torch

from ...data.clip import CONCEPT_INDEX, CONCEPTS
from ...evaluation import kinematic_judge
from ...model.text_batch import TextBatch
from ...motion.features import denormalize, recover_joints
from .config import AttackConfig
from .target import AttackTarget


class Scorer:
    """Sampled x0 (decoded first on a latent model) -> evaluator concept logits, differentiably (the two normalisers
    composed)."""

    def __init__(self, target: AttackTarget):
        self.decode = lambda x: target.model.motion(x, finish=False)  # noqa: E731
        dev = target.device
        f = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32), device=dev)  # noqa: E731
        self.mean, self.std, self.emean, self.estd = f(target.mean), f(target.std), f(target.eval_mean), f(target.eval_std)
        self.model = target.evaluator

    def logits(self, x0: torch.Tensor) -> torch.Tensor:
        """(B, T, D) whole samples -> (B, concepts)."""
        raw = self.decode(x0) * self.std + self.mean  # (B, frames, 263)
        lengths = torch.full((raw.shape[0],), raw.shape[1], device=raw.device)
        _, logits = self.model.motion_features((raw - self.emean) / self.estd, lengths)
        return logits


@torch.no_grad()
def sample_states(target: AttackTarget, module, text: TextBatch, seeds: list[int], cfg: AttackConfig) -> torch.Tensor:
    """The normal sampler (DDIM `sample_steps`, guidance, seeded noise) on given conditioning: (B, frames, D)."""
    out = []
    for i in range(0, len(seeds), cfg.batch):
        rows = text.rows(slice(i, i + cfg.batch))
        noise = target.model.noise(seeds[i : i + cfg.batch], cfg.frames)
        out.append(target.model.sample(module, rows, noise, guidance=cfg.guidance, steps=cfg.sample_steps, scheduler="ddim"))
    return torch.cat(out)


class Judging:
    """Evaluator and kinematic judge on sampled motions of one concept."""

    def __init__(self, target: AttackTarget, concept: str):
        self.target, self.scorer, self.k = target, Scorer(target), CONCEPT_INDEX[concept]
        self.concept = concept

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Samples (B, T, D) (model space) -> evaluator hit (B,), kinematic hit (B,), probability (B,), top-1 names."""
        probs = torch.softmax(self.scorer.logits(x), -1).cpu().numpy()
        top = probs.argmax(1)
        features = self.scorer.decode(x)  # (B, frames, 263) normalised
        joints = recover_joints(denormalize(features.cpu().numpy().astype(np.float64), self.target.mean, self.target.std))
        judged = np.array([kinematic_judge.judge(j)[self.concept] if self.concept in kinematic_judge.JUDGED_CONCEPTS else False for j in joints])
        return top == self.k, judged, probs[:, self.k], [CONCEPTS[i] for i in top]
