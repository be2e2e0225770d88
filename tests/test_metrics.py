import numpy as np
import pytest
from scipy import stats

from motion_lora.evaluation.metrics import (
    concept_presence,
    diversity,
    fid,
    frechet_distance,
    mean_ci,
    mm_dist,
    multimodality,
    pairwise_distances,
    r_precision,
)


def test_pairwise_distances():
    a = np.array([[0.0, 0.0], [3.0, 4.0]])
    np.testing.assert_allclose(pairwise_distances(a, a), [[0, 5], [5, 0]], atol=1e-12)


def test_r_precision_identical_separated():
    emb = np.eye(64) * 10.0  # 64 well separated points, text == motion
    np.testing.assert_allclose(r_precision(emb, emb, batch=32, top_k=3), [1, 1, 1])


def test_r_precision_random_is_chance():
    rng = np.random.default_rng(0)
    t, m = rng.normal(size=(32 * 200, 16)), rng.normal(size=(32 * 200, 16))
    r = r_precision(t, m)
    np.testing.assert_allclose(r, np.arange(1, 4) / 32, atol=0.01)
    assert (np.diff(r) >= 0).all()


def test_r_precision_direction_is_text_to_motion():
    # Batch of 2 texts/motions: both texts are nearest motion 0, so text 1 misses at top-1.
    t = np.array([[0.0], [0.1]])
    m = np.array([[0.0], [5.0]])
    np.testing.assert_allclose(r_precision(t, m, batch=2, top_k=2), [0.5, 1.0])


def test_r_precision_drops_partial_batch_and_checks():
    emb = np.eye(40)
    np.testing.assert_allclose(r_precision(emb, emb), [1, 1, 1])  # 8 leftover pairs ignored
    with pytest.raises(ValueError):
        r_precision(np.eye(10), np.eye(10))
    with pytest.raises(ValueError):
        r_precision(np.eye(32), np.eye(33)[:32, :33])


def test_fid_identical_is_zero():
    x = np.random.default_rng(1).normal(size=(500, 8))
    assert abs(fid(x, x)) < 1e-6


def test_fid_shift_is_squared_shift():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4000, 4))
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    assert fid(x, x + shift) == pytest.approx(float(shift @ shift), abs=1e-6)  # same covariance exactly
    y = rng.normal(size=(4000, 4)) + shift
    assert fid(x, y) == pytest.approx(float(shift @ shift), abs=0.1)


def test_frechet_scaled_gaussians():
    # N(0, I) vs N(0, 4I) in d dims: tr(I + 4I - 2*2I) = d
    assert frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), 4 * np.eye(3)) == pytest.approx(3.0)


def test_fid_singular_covariance_is_finite():
    x = np.random.default_rng(3).normal(size=(5, 16))  # N < D: rank-deficient covariance
    assert np.isfinite(fid(x, x + 1.0))


def test_mm_dist():
    t = np.zeros((3, 2))
    m = np.array([[3.0, 4.0], [0.0, 1.0], [0.0, 0.0]])
    assert mm_dist(t, m) == pytest.approx(2.0)


def test_diversity():
    assert diversity(np.ones((400, 5)), rng=0) == 0.0
    x = np.random.default_rng(4).normal(size=(2000, 32))
    assert diversity(x, rng=0) == pytest.approx(8.0, rel=0.05)  # E|x-y| ~ sqrt(2*32)
    assert diversity(x, rng=1) == diversity(x, rng=np.random.default_rng(1))
    with pytest.raises(ValueError):
        diversity(np.ones((10, 2)), pairs=300)


def test_multimodality():
    same = np.repeat(np.arange(4.0)[:, None, None], 30, axis=1) * np.ones((4, 30, 3))
    assert multimodality(same, rng=0) == 0.0  # identical generations per text
    spread = np.random.default_rng(5).normal(size=(50, 30, 32))
    assert multimodality(spread, rng=0) == pytest.approx(8.0, rel=0.1)
    with pytest.raises(ValueError):
        multimodality(np.zeros((2, 5, 3)), pairs=10)


def test_concept_presence():
    logits = np.array([[5.0, 0, 0], [0, 5.0, 0], [5.0, 1, 0], [0, 0, 1.0]])
    assert concept_presence(logits, 0) == 0.5
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    assert concept_presence(probs, 2) == 0.25
    with pytest.raises(ValueError):
        concept_presence(logits, 3)


def test_mean_ci():
    m, h = mean_ci([0.3] * 5)
    assert m == pytest.approx(0.3) and h == pytest.approx(0.0, abs=1e-12)
    m, h = mean_ci([1.0, 2.0, 3.0])
    assert m == 2.0 and h == pytest.approx(stats.t.ppf(0.975, 2) * 1.0 / np.sqrt(3))
    m, h = mean_ci([7.0])
    assert m == 7.0 and np.isnan(h)


def test_bootstrap_interval_over_prompts_and_repeats():
    from motion_lora.evaluation.metrics import bootstrap_interval

    rng = np.random.default_rng(0)
    hits = (rng.random((48, 2)) < 0.65).astype(float)  # 48 prompts x 2 repeats of a 0/1 presence
    out = bootstrap_interval(hits)
    assert out["method"] == "bootstrap" and out["n_prompts"] == 48 and out["n_repeats"] == 2
    assert out["lo"] < out["mean"] < out["hi"] and out["mean"] == pytest.approx(hits.mean())
    # about the binomial standard error of 96 draws, nowhere near the t-interval on 2 repeat means (t = 12.7)
    se = np.sqrt(hits.mean() * (1 - hits.mean()) / hits.size)
    assert 2.5 * se < out["hi"] - out["lo"] < 6 * se
    assert bootstrap_interval(hits, rng=1)["lo"] == pytest.approx(out["lo"], abs=0.03)  # stable across resampling seeds
    # more prompts, narrower interval; identical values, zero width; one cell, no interval
    wide, narrow = bootstrap_interval(hits[:12]), bootstrap_interval(np.tile(hits, (4, 1)))
    assert narrow["hi"] - narrow["lo"] < out["hi"] - out["lo"] < wide["hi"] - wide["lo"]
    flat = bootstrap_interval(np.ones((5, 3)))
    assert flat["lo"] == flat["hi"] == 1.0
    one = bootstrap_interval([[0.4]])
    assert one["mean"] == 0.4 and np.isnan(one["lo"]) and np.isnan(one["hi"])


def test_bootstrap_resamples_repeats_too():
    from motion_lora.evaluation.metrics import bootstrap_interval

    # every prompt agrees within a repeat, repeats disagree: only resampling repeats shows the spread
    table = np.array([[0.0, 1.0]] * 30)
    out = bootstrap_interval(table)
    assert out["lo"] == 0.0 and out["hi"] == 1.0
    with pytest.raises(ValueError, match="non-finite"):
        bootstrap_interval([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="prompts, repeats"):
        bootstrap_interval(np.zeros((2, 2, 2)))


def test_mean_se_reports_its_n():
    from motion_lora.evaluation.metrics import mean_se

    out = mean_se([0.1875, 0.25])
    assert out == {"mean": pytest.approx(0.21875), "se": pytest.approx(0.03125), "n": 2, "method": "se"}
    single = mean_se([0.3])
    assert single["n"] == 1 and np.isnan(single["se"])
    with pytest.raises(ValueError):
        mean_se([])
