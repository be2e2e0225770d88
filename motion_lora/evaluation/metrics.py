"""Evaluation metrics of the text-to-motion field (Guo et al. 2022), plus concept presence and confidence intervals.

Pure numpy/scipy on embeddings from the evaluator (motion_lora/evaluation/evaluator/); no torch here.
Conventions follow the reference evaluation code so numbers are comparable in spirit:
  * R-precision ranks, for each text, the motions of its batch of 32 by Euclidean distance (text -> motion).
  * Only full batches count (the reference loader drops the last partial batch).
  * Diversity / multimodality draw random index pairs without replacement.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy import linalg, stats

R_PRECISION_BATCH = 32
R_PRECISION_TOP_K = 3
DIVERSITY_PAIRS = 300
MULTIMODALITY_PAIRS = 10
FID_EPS = 1e-6  # diagonal offset when the product of covariances is too singular for sqrtm


def _as_2d(x, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"{name} must be 2-D (N, D), got shape {x.shape}")
    return x


def _rng(rng) -> np.random.Generator:
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances (N, D), (M, D) -> (N, M)."""
    sq = (a * a).sum(1)[:, None] - 2.0 * a @ b.T + (b * b).sum(1)[None, :]
    return np.sqrt(np.maximum(sq, 0.0))  # rounding can make tiny negatives


def r_precision(text_emb, motion_emb, batch: int = R_PRECISION_BATCH, top_k: int = R_PRECISION_TOP_K) -> np.ndarray:
    """Text -> motion retrieval accuracy within batches of matched pairs.

    text_emb (N, D), motion_emb (N, D): row i of each is a matched (caption, motion) pair.
    The N pairs are cut, in order, into floor(N / batch) batches (the remainder is dropped). Within a batch,
    for each text, the `batch` motions are ranked by Euclidean distance to it; the text counts as a hit at
    k when its own motion is among the k nearest. Returns (top_k,) float: the fraction of texts hit at
    k = 1..top_k (non-decreasing). Chance level is k / batch.
    """
    text_emb, motion_emb = _as_2d(text_emb, "text_emb"), _as_2d(motion_emb, "motion_emb")
    if text_emb.shape != motion_emb.shape:
        raise ValueError(f"text_emb {text_emb.shape} and motion_emb {motion_emb.shape} must match")
    if not 1 <= top_k <= batch:
        raise ValueError(f"need 1 <= top_k ({top_k}) <= batch ({batch})")
    n_batches = len(text_emb) // batch
    if n_batches == 0:
        raise ValueError(f"r_precision needs at least one full batch of {batch} pairs, got {len(text_emb)}")
    hits = np.zeros(top_k)
    for b in range(n_batches):
        sl = slice(b * batch, (b + 1) * batch)
        dist = pairwise_distances(text_emb[sl], motion_emb[sl])  # (batch, batch), row = text
        # rank of the matched motion = number of motions strictly closer than it (ties favour the match)
        rank = (dist < np.diag(dist)[:, None]).sum(1)
        hits += (rank[:, None] < np.arange(1, top_k + 1)[None, :]).sum(0)
    return hits / (n_batches * batch)


def mm_dist(text_emb, motion_emb) -> float:
    """Multimodal distance: mean Euclidean distance between matched rows. (N, D), (N, D) -> float."""
    text_emb, motion_emb = _as_2d(text_emb, "text_emb"), _as_2d(motion_emb, "motion_emb")
    if text_emb.shape != motion_emb.shape:
        raise ValueError(f"text_emb {text_emb.shape} and motion_emb {motion_emb.shape} must match")
    return float(np.linalg.norm(text_emb - motion_emb, axis=1).mean())


def gaussian_fit(emb) -> tuple[np.ndarray, np.ndarray]:
    """(N, D) -> mean (D,), covariance (D, D) (unbiased, rows are samples)."""
    emb = _as_2d(emb, "emb")
    if len(emb) < 2:
        raise ValueError("a Gaussian fit needs at least 2 samples")
    return emb.mean(0), np.cov(emb, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = FID_EPS) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2):
    |mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 (sigma1 sigma2)^(1/2))."""
    mu1, mu2 = np.atleast_1d(mu1), np.atleast_1d(mu2)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    diff = mu1 - mu2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)  # singular products are handled just below
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():
            offset = np.eye(len(sigma1)) * eps
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        # Numerical noise gives tiny imaginary parts; a large one means the fit is broken, not the metric.
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"sqrtm has a large imaginary component {np.abs(covmean.imag).max():.3g}")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid(real_emb, gen_emb) -> float:
    """Fréchet Inception-style distance between Gaussian fits of (N, D) and (M, D) embeddings."""
    return frechet_distance(*gaussian_fit(real_emb), *gaussian_fit(gen_emb))


def diversity(emb, pairs: int = DIVERSITY_PAIRS, rng=None) -> float:
    """Mean Euclidean distance between `pairs` random pairs of rows of emb (N, D), N >= pairs.
    Two independent draws of `pairs` indices without replacement, as in the reference code."""
    emb = _as_2d(emb, "emb")
    if len(emb) < pairs:
        raise ValueError(f"diversity needs at least {pairs} samples, got {len(emb)}; lower `pairs`")
    rng = _rng(rng)
    first = rng.choice(len(emb), pairs, replace=False)
    second = rng.choice(len(emb), pairs, replace=False)
    return float(np.linalg.norm(emb[first] - emb[second], axis=1).mean())


def multimodality(emb_per_text, pairs: int = MULTIMODALITY_PAIRS, rng=None) -> float:
    """Mean distance between random pairs of generations for the same text.
    emb_per_text (P, R, D): R generations for each of P prompts, R >= pairs. Each of `pairs` index pairs is
    shared by all prompts (reference code), drawn without replacement from range(R)."""
    emb = np.asarray(emb_per_text, dtype=np.float64)
    if emb.ndim != 3:
        raise ValueError(f"emb_per_text must be (P, R, D), got shape {emb.shape}")
    if emb.shape[1] < pairs:
        raise ValueError(f"multimodality needs at least {pairs} generations per text, got {emb.shape[1]}")
    rng = _rng(rng)
    first = rng.choice(emb.shape[1], pairs, replace=False)
    second = rng.choice(emb.shape[1], pairs, replace=False)
    return float(np.linalg.norm(emb[:, first] - emb[:, second], axis=2).mean())


def concept_presence(scores, concept_index: int) -> float:
    """Fraction of motions whose top-1 concept is `concept_index`. scores (N, C): logits or probabilities
    (argmax is the same for both)."""
    scores = _as_2d(scores, "scores")
    if not 0 <= concept_index < scores.shape[1]:
        raise ValueError(f"concept_index {concept_index} out of range for {scores.shape[1]} classes")
    if len(scores) == 0:
        raise ValueError("concept_presence needs at least one motion")
    return float((scores.argmax(1) == concept_index).mean())


def mean_ci(values, confidence: float = 0.95) -> tuple[float, float]:
    """(mean, half-width of the two-sided t-interval) of 1-D values (e.g. metric over repeated runs).
    A single value has an undefined interval: half-width nan."""
    values = np.asarray(values, dtype=np.float64).ravel()
    if len(values) == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(values.mean())
    if len(values) == 1:
        return mean, float("nan")
    sem = values.std(ddof=1) / np.sqrt(len(values))
    return mean, float(stats.t.ppf(0.5 + confidence / 2, len(values) - 1) * sem)


BOOTSTRAP_RESAMPLES = 2000


def bootstrap_interval(values, confidence: float = 0.95, resamples: int = BOOTSTRAP_RESAMPLES, rng=0) -> dict:
    """Mean of a (prompts N, repeats R) table with a percentile bootstrap interval over prompts and repeats.

    Each resample draws N prompts and R repeats with replacement, independently, and takes the mean of the
    N x R cells they pick: both the prompt set and the sampling seeds vary, as they would in a new evaluation.
    With R = 1 it is the plain bootstrap over prompts. Returns {"mean", "lo", "hi", "n_prompts", "n_repeats",
    "method": "bootstrap"}; lo / hi are nan when there are fewer than 2 cells (no spread to resample).
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2 or v.size == 0:
        raise ValueError(f"bootstrap_interval needs a non-empty (prompts, repeats) table, got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError("bootstrap_interval got non-finite values")
    n, r = v.shape
    out = {"mean": float(v.mean()), "lo": float("nan"), "hi": float("nan"), "n_prompts": n, "n_repeats": r, "method": "bootstrap"}
    if n * r < 2:
        return out
    g = _rng(rng)
    # counts of how often each prompt / repeat is drawn: (B, N) and (B, R); the resampled mean is w_p^T V w_r / (N R)
    w_prompt = g.multinomial(n, np.full(n, 1.0 / n), size=resamples)
    w_repeat = g.multinomial(r, np.full(r, 1.0 / r), size=resamples)
    means = np.einsum("bn,nr,br->b", w_prompt, v, w_repeat) / (n * r)
    alpha = (1.0 - confidence) / 2
    out["lo"], out["hi"] = (float(q) for q in np.quantile(means, [alpha, 1.0 - alpha]))
    return out


def mean_se(values) -> dict:
    """Mean and standard error of the mean of 1-D values (e.g. a set-level metric per repeat), with its n.
    For metrics that exist only per whole set (FID, R-precision, diversity) there is nothing per prompt to
    resample, and with a handful of repeats a t-quantile would be huge and meaningless; the standard error with
    its n is the honest summary. se is nan for a single value. Returns {"mean", "se", "n", "method": "se"}."""
    v = np.asarray(values, dtype=np.float64).ravel()
    if len(v) == 0:
        raise ValueError("mean_se needs at least one value")
    se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")
    return {"mean": float(v.mean()), "se": se, "n": len(v), "method": "se"}
