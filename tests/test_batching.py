"""Merged batches (serving/batching.py, serving/sampling.py behind MotionLab.generate_rows) and the base-motion cache behind the live slider.

Every row of a merged batch has its own prompt, seed, length, adapters and strength; each must come out as the
same request run alone (within float tolerance: only the batch shapes differ), and a base row must be exactly the
base network's output. The adapters here have random non-zero LoRA weights, so steering visibly moves the motion.
"""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
import torch
from conftest import copy_without_adapters

from motion_lora.model.denoiser import MotionDenoiser
from motion_lora.model.generator import SampleOptions
from motion_lora.serving.batching import Batcher, Job, Row, steering
from motion_lora.unlearning.adapters import BASE, AdapterSet, LoraSpec

TOL = 1e-5


def random_adapter(base_dir, folder, concept: str, seed: int, rank: int = 4) -> None:
    """An adapter folder (adapter.json + PEFT files) whose LoRA matrices are random, not the zero-B start."""
    adapters = AdapterSet(MotionDenoiser.load(base_dir))
    adapters.add(concept, LoraSpec(rank=rank, alpha=float(rank)))
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in adapters.lora_parameters(concept):
            p.copy_(torch.randn(p.shape, generator=g) * 0.15)
    adapters.save(concept, folder / "model")
    (folder / "adapter.json").write_text(json.dumps({"concept": concept, "rank": rank, "alpha": rank}))


@pytest.fixture(scope="module")
def lab(tiny_root, tmp_path_factory):
    from motion_lora.serving.service import MotionLab

    tmp = tmp_path_factory.mktemp("batching")
    root = copy_without_adapters(tiny_root, tmp / "checkpoints")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTION_LORA_CHECKPOINTS", str(root))
        mp.delenv("MOTION_LORA_HUB_REPO", raising=False)
        user = tmp / "user" / "t2m"
        for k, concept in enumerate(("kick", "punch")):
            random_adapter(root / "t2m" / "tiny_base", user / f"tiny_base_LoRA_{concept}", concept, seed=k)
        lab = MotionLab(base="tiny_base", user_dir=tmp / "user")
        assert sorted(i.short for i in lab.list_adapters()) == ["kick", "punch"], lab.load_errors
        yield lab


def old_mixed_pair(lab, prompt, seed, opts, weights, scale, start_step):
    """The side-by-side as it was computed before merged batches: AdapterSet.mixed (one adapter mix at one scale,
    base rows masked) in a [base, steered] batch."""
    with lab.lock, lab.adapters.mixed(weights, scale) as (model, name):

        def denoise(x, t, tokens, mask, pooled, lengths, i):
            if name == BASE:
                return model(x, t, tokens, mask, pooled, lengths)
            steer = name if i >= start_step else BASE
            return model(x, t, tokens, mask, pooled, lengths, adapter_names=[BASE, steer] * (x.shape[0] // 2))

        return lab.generator.sample([prompt, prompt], [seed, seed], opts, denoise=denoise)


def names(lab, *short):
    return [lab.adapter_name(s) for s in short]


@pytest.mark.parametrize("mix, scale, start", [({"kick": 1.0}, 1.0, 0), ({"kick": 1.0}, -0.7, 2), ({"kick": 1.0, "punch": 0.5}, 1.3, 0)])
def test_mixed_batch_unchanged(lab, mix, scale, start):
    """The row-scaled batch gives the old mixed batch's pair: the base row bit for bit, the steered row within 1e-5."""
    opts = SampleOptions(frames=40, steps=4).validated()
    w = {lab.adapter_name(k): v for k, v in mix.items()}
    old = old_mixed_pair(lab, "a person kicks high", 3, opts, w, scale, start)
    new = lab.sample_pair("a person kicks high", 3, opts, w, scale, start)
    assert torch.equal(new[0], old[0])
    assert (new[1] - old[1]).abs().max().item() < TOL
    assert (new[1] - new[0]).abs().max().item() > 0.05  # the adapter does steer


def test_a_row_without_steering_is_exactly_the_base(lab):
    """In a batch where other rows steer, a row with no adapter (or strength 0) equals the base network's output
    for the same batch exactly (the LoRA delta is B·0 = 0)."""
    opts = SampleOptions(frames=40, steps=3).validated()
    k = lab.adapter_name("kick")
    rows = [Row("a person waves", 1, 40), Row("a person waves", 1, 40, steering({k: 1.0}, 1.0)), Row("a person jumps", 2, 40, steering({k: 1.0}, 0.0))]
    with lab.lock:
        mixed = lab.sampler.sample(rows, opts)
        with lab.adapters.disabled() as model:
            plain = lab.generator.sample([r.prompt for r in rows], [r.seed for r in rows], opts,
                                         denoise=lambda x, t, tok, m, p, L, _i: model(x, t, tok, m, p, L))
    assert torch.equal(mixed[0], plain[0]) and torch.equal(mixed[2], plain[2])
    assert not torch.allclose(mixed[1], plain[1])


REQUESTS = [  # prompt, adapters, weights, scale, seed, frames, start step
    ("a person kicks with the right leg", ["kick"], None, 1.0, 0, 40, 0),
    ("someone jumps up in place", ["kick", "punch"], [1.0, 0.5], 1.5, 7, 20, 0),
    ("a man punches forward twice", ["punch"], None, -0.5, 11, 48, 2),
    ("a person walks forward", ["kick"], None, 0.0, 5, 32, 0),  # strength 0: the steered motion is the base
    ("a person waves with both hands", ["punch", "kick"], [0.3, -1.0], 0.8, 2**31 - 1, 40, 1),
]


def run_merged(lab, calls):
    """Run the calls in threads while the model lock is held, so they all queue and merge into one batch."""
    out, errors = [None] * len(calls), []

    def work(i, fn):
        try:
            out[i] = fn()
        except Exception as err:  # noqa: BLE001 - reported by the test
            errors.append(err)

    before = len(lab.batcher.history)
    with lab.lock:
        threads = [threading.Thread(target=work, args=(i, fn)) for i, fn in enumerate(calls)]
        for t in threads:
            t.start()
        deadline = time.time() + 30
        while lab.batcher.pending < len(calls) and time.time() < deadline:
            time.sleep(0.01)
        assert lab.batcher.pending == len(calls)
    for t in threads:
        t.join(60)
    assert not errors, errors
    return out, list(lab.batcher.history)[before:]


def test_batched_results_identical_to_unbatched_runs(lab):
    """Five visitors' side-by-sides (other prompts, seeds, lengths, adapter mixes, strengths, start steps) merged
    into one forward give what each gets alone."""
    kw = lambda r: {"weights": r[2], "scale": r[3], "seed": r[4], "frames": r[5], "steps": 4, "start_step": r[6]}
    alone = []
    for r in REQUESTS:
        lab.clear_cache()
        alone.append(lab.compare(r[0], r[1], **kw(r)))
        assert not alone[-1].base_cached
    lab.clear_cache()
    merged, batches = run_merged(lab, [lambda r=r: lab.compare(r[0], r[1], **kw(r)) for r in REQUESTS])
    assert batches == [(5, 9)]  # one batch: 5 requests, 9 rows (the strength-0 request needs only its base)
    for a, b, r in zip(alone, merged, REQUESTS):
        assert b.base_joints.shape == (r[5], 22, 3) and b.steered_joints.shape == (r[5], 22, 3)
        assert np.abs(a.base_joints - b.base_joints).max() < TOL, r
        assert np.abs(a.steered_joints - b.steered_joints).max() < TOL, r
        assert [c for c, _ in a.steered_concepts] == [c for c, _ in b.steered_concepts]
    assert np.array_equal(merged[3].base_joints, merged[3].steered_joints)
    assert np.abs(merged[0].base_joints - merged[0].steered_joints).max() > 0.01


def test_rows_features_match_alone_within_tolerance(lab):
    """The same on the normalised features, straight from generate_rows: every row of one merged batch equals the
    row generated on its own."""
    opts = SampleOptions(frames=48, steps=3).validated()
    k, p = names(lab, "kick", "punch")
    rows = [Row("a person kicks", 1, 48, steering({k: 1.0}, 1.0)), Row("a person kicks", 1, 24), Row("a man punches", 9, 36, steering({k: 1.0, p: 2.0}, 0.5), 1)]
    lab.clear_cache()
    together = lab.generate_rows(rows, opts)
    for row, m in zip(rows, together):
        lab.clear_cache()
        (single,) = lab.generate_rows([row], opts)
        assert single.features.shape == m.features.shape == (row.frames, 263) and m.joints.shape == (row.frames, 22, 3)
        assert (single.features - m.features).abs().max().item() < TOL
        assert np.abs(single.joints - m.joints).max() < TOL
        assert [c for c, _ in single.concepts] == [c for c, _ in m.concepts]


def test_cached_base_is_exactly_the_base(lab):
    """A new strength for the same prompt, seed, length and sampling settings reuses the base motion: the very
    same motion a fresh side-by-side computes, and only the steered motion is denoised."""
    lab.clear_cache()
    first = lab.compare("a person kicks with the left leg", ["kick"], scale=1.0, seed=21, frames=40, steps=4)
    rows_before = sum(r for _, r in lab.batcher.history)
    second = lab.compare("a person kicks with the left leg", ["kick"], scale=0.4, seed=21, frames=40, steps=4)
    assert second.base_cached and not first.base_cached
    assert sum(r for _, r in lab.batcher.history) - rows_before == 1  # the steered row alone
    assert np.array_equal(second.base_joints, first.base_joints)
    lab.clear_cache()
    fresh = lab.compare("a person kicks with the left leg", ["kick"], scale=0.4, seed=21, frames=40, steps=4)
    assert not fresh.base_cached
    assert np.array_equal(fresh.base_joints, second.base_joints)  # exactly the base
    assert np.abs(fresh.steered_joints - second.steered_joints).max() < TOL
    assert np.abs(second.steered_joints - first.steered_joints).max() > 1e-3  # the strength did change the motion


def test_a_repeated_request_is_the_same_and_a_reloaded_adapter_is_not_served_from_the_cache(lab):
    args = {"scale": 0.9, "seed": 77, "frames": 40, "steps": 3}
    first = lab.compare("a person kicks", ["kick"], **args)
    rows_before = sum(r for _, r in lab.batcher.history)
    again = lab.compare("a person kicks", ["kick"], **args)
    assert sum(r for _, r in lab.batcher.history) == rows_before  # nothing denoised
    assert np.array_equal(again.steered_joints, first.steered_joints) and np.array_equal(again.base_joints, first.base_joints)
    name = lab.adapter_name("kick")
    folder = lab.infos[name].path
    with lab.lock:  # what a retraining does once its new weights are written
        lab.library.unload(name)
        lab.library.load(folder)
    lab.compare("a person kicks", ["kick"], **args)
    assert sum(r for _, r in lab.batcher.history) == rows_before + 1  # the steered row again, the base from the cache


@pytest.mark.parametrize("change", [{}, {"seed": 22}, {"frames": 44}, {"steps": 3}, {"guidance": 3.0}, {"prompt": "a person kicks"}])
def test_cache_key_has_prompt_seed_length_and_sampling_settings(lab, change):
    first = {"prompt": "a person kicks with the left leg", "seed": 21, "frames": 40, "steps": 4, "guidance": 2.5}
    lab.compare(first.pop("prompt"), ["kick"], **first)
    again = {"prompt": "a person kicks with the left leg", "seed": 21, "frames": 40, "steps": 4, "guidance": 2.5, **change}
    assert lab.compare(again.pop("prompt"), ["kick"], scale=0.5, **{k: v for k, v in again.items()}).base_cached is (not change)


def test_sweep_reuses_one_batched_run(lab):
    """The strength sweep is one merged batch (the prompt at every strength, the retain probes' base and steered
    motions), and gives what per-strength side-by-sides give."""
    from motion_lora.serving.service import RETAIN_PROBES

    lab.clear_cache()
    before = len(lab.batcher.history)
    scales = [-0.5, 0.0, 1.0]
    s = lab.sweep("a person kicks", "kick", scales, seed=3, frames=40, steps=3)
    batches = list(lab.batcher.history)[before:]
    # strength 0 of the prompt is its base row; probes: 2 bases + 2 x 2 non-zero strengths
    assert batches == [(1, 3 + 2 + 2 * 2)]
    opts = SampleOptions(frames=40, steps=3).validated()
    k = lab.adapter_name("kick")
    for scale, joints, drift in zip(scales, s.joints, s.retain_drift):
        pair = lab.generator.to_joints(lab.sample_pair("a person kicks", 3, opts, {k: 1.0}, scale, 0))
        assert np.abs(pair[1] - joints).max() < TOL
        probes = [lab.generator.to_joints(lab.sample_pair(p, 3, opts, {k: 1.0}, scale, 0)) for p in RETAIN_PROBES]
        expected = float(np.mean([np.linalg.norm(j[1] - j[0], axis=-1).mean() for j in probes]))
        assert abs(expected - drift) < TOL
    assert s.retain_drift[1] == 0.0 and s.retain_drift[0] > 0
    before = len(lab.batcher.history)
    lab.sweep("a person kicks", "kick", [0.5], seed=3, frames=40, steps=3)
    assert list(lab.batcher.history)[before:] == [(1, 1 + 2)]  # the probes' bases came from the cache


def test_a_request_for_a_removed_adapter_fails_alone(lab):
    opts = SampleOptions(frames=20, steps=2).validated()
    k = lab.adapter_name("kick")
    ok = Job(lab.sampler.batch_key(opts), [Row("a person kicks", 0, 20, steering({k: 1.0}, 1.0))])
    gone = Job(lab.sampler.batch_key(opts), [Row("a person kicks", 0, 20, (("tiny_base_LoRA_gone", 1.0),))])
    with lab.lock:
        lab.sampler.execute([gone, ok])
    assert ok.done and ok.error is None and ok.result[0].features.shape == (20, 263)
    assert gone.done and isinstance(gone.error, ValueError) and "'gone' was removed" in str(gone.error)


def test_a_failing_batch_fails_its_callers_and_the_queue_goes_on():
    lock = threading.RLock()
    calls = []

    def execute(jobs):
        calls.append(len(jobs))
        if len(calls) == 1:
            raise RuntimeError("boom")
        for j in jobs:
            j.finish([torch.full((1,), float(r.seed)) for r in j.rows])

    b = Batcher(execute, lock, max_rows=4)
    with pytest.raises(RuntimeError, match="boom"):
        b.run("k", [Row("p", 1, 20)])
    assert b.run("k", [Row("p", 2, 20), Row("p", 3, 20)])[1].item() == 3.0
    assert calls == [1, 1]


def test_batcher_merges_compatible_jobs_up_to_the_row_cap():
    """Jobs queued while the model is busy merge by key, in arrival order, at most max_rows rows a batch; a job
    with another key (other sampling settings) waits for its own batch; nobody waits forever."""
    lock = threading.RLock()
    seen = []

    def execute(jobs):
        seen.append([(j.key, len(j.rows)) for j in jobs])
        for j in jobs:
            j.finish([torch.tensor([float(r.seed)]) for r in j.rows])

    b = Batcher(execute, lock, max_rows=4)
    jobs = [("a", 2), ("a", 1), ("b", 1), ("a", 2), ("a", 1)]
    results = [None] * len(jobs)

    def work(i, key, n):
        results[i] = b.run(key, [Row("p", 10 * i + k, 20) for k in range(n)])

    with lock:
        threads = []
        for i, (key, n) in enumerate(jobs):
            threads.append(threading.Thread(target=work, args=(i, key, n)))
            threads[-1].start()
            while b.pending < i + 1:
                time.sleep(0.001)
    for t in threads:
        t.join(10)
    assert seen == [[("a", 2), ("a", 1), ("a", 1)], [("b", 1)], [("a", 2)]]
    for i, (_, n) in enumerate(jobs):
        assert [r.item() for r in results[i]] == [10.0 * i + k for k in range(n)]


def test_caller_holding_the_model_lock_does_not_deadlock():
    lock = threading.RLock()
    b = Batcher(lambda jobs: [j.finish([torch.zeros(1)]) for j in jobs], lock)
    with lock:
        assert b.run("k", [Row("p", 0, 20)])[0].shape == (1,)


def test_bad_batch_size_is_refused(tiny_root, monkeypatch):
    from motion_lora.serving.service import MotionLab

    monkeypatch.setenv("MOTION_LORA_CHECKPOINTS", str(tiny_root))
    with pytest.raises(ValueError, match="at least 2 motions"):
        MotionLab(base="tiny_base", user_dir=tiny_root / "nobody", evaluator=None, max_batch_rows=1)


def test_under_load_the_leader_gathers_returning_callers_and_a_lone_one_never_waits():
    lock = threading.RLock()
    seen = []

    def execute(jobs):
        seen.append(len(jobs))
        for j in jobs:
            j.finish([torch.zeros(1) for _ in j.rows])

    b = Batcher(execute, lock, max_rows=8, gather_fraction=1.0, gather_max_s=2.0)
    b._last = (3, 1.0)  # the previous batch held 3 jobs and took 1 s
    threads = [threading.Thread(target=b.run, args=("k", [Row("p", i, 20)])) for i in range(3)]
    started = time.perf_counter()
    threads[0].start()
    time.sleep(0.2)
    for t in threads[1:]:
        t.start()
    for t in threads:
        t.join(5)
    assert seen == [3] and time.perf_counter() - started < 1.5
    b._last = (1, 1.0)
    started = time.perf_counter()
    b.run("k", [Row("p", 9, 20)])
    assert seen == [3, 1] and time.perf_counter() - started < 0.1


def test_motion_cache_is_bounded_by_its_size_in_mb(lab, monkeypatch):
    """The cache keeps the most recently used motions that fit its byte budget, never more."""
    from motion_lora.serving.motion_cache import motion_bytes

    opts = SampleOptions(frames=40, steps=2).validated()
    lab.clear_cache()
    (one,) = lab.generate_rows([Row("a person waves", 0, 40)], opts)
    monkeypatch.setattr(lab.sampler.cache, "limit", 3 * motion_bytes(one) + 100)  # room for three 40-frame motions
    lab.clear_cache()
    rows = [Row("a person waves", seed, 40) for seed in range(5)]
    for row in rows:
        lab.generate_rows([row], opts)
    count, used = lab.cache_usage()
    assert count == 3 and used == 3 * motion_bytes(one) <= lab.sampler.cache.limit
    before = sum(r for _, r in lab.batcher.history)
    lab.generate_rows(rows[2:], opts)  # the three newest: all from the cache
    assert sum(r for _, r in lab.batcher.history) == before
    lab.generate_rows(rows[:1], opts)  # the oldest was evicted: computed again
    assert sum(r for _, r in lab.batcher.history) == before + 1
    monkeypatch.setattr(lab.sampler.cache, "limit", 0)  # MOTION_LORA_CACHE_MB=0: nothing is kept
    lab.generate_rows([Row("a person waves", 99, 40)], opts)
    assert lab.cache_usage() == (0, 0)
