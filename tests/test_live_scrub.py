"""The live strength slider's grid through the lab (serving/slider_grid.py over the merged batches of
serving/batching.py): a comparison's grid equals separate generations at each strength, strength 0 is the base
exactly, it costs one batch, and under load grid rows only fill the room a batch has left.

The adapters have random non-zero LoRA weights (tests/test_batching.py's), so every strength moves the motion.
"""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch
from conftest import copy_without_adapters
from test_batching import random_adapter

from motion_lora.serving.batching import Batcher, Row, fill_optional, Job
from motion_lora.serving.export import player_payload
from motion_lora.serving.slider_grid import GRID_STRENGTHS, check_grid, fill_order

TOL = 1e-5  # separate runs differ from a batch's rows only in float rounding (batch shapes)
PROMPT = "a person kicks with the right leg"
SMALL = dict(frames=40, steps=4)


@pytest.fixture(scope="module")
def lab(tiny_root, tmp_path_factory):
    from motion_lora.serving.service import MotionLab

    tmp = tmp_path_factory.mktemp("scrub")
    root = copy_without_adapters(tiny_root, tmp / "checkpoints")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTION_LORA_CHECKPOINTS", str(root))
        mp.delenv("MOTION_LORA_HUB_REPO", raising=False)
        random_adapter(root / "t2m" / "tiny_base", tmp / "user" / "t2m" / "tiny_base_LoRA_kick", "kick", seed=3)
        yield MotionLab(base="tiny_base", user_dir=tmp / "user", grid_rows=16)


def rows_run(lab) -> int:
    return sum(r for _, r in lab.batcher.history)


def test_the_grid_equals_separate_generations_and_strength_zero_is_the_base(lab):
    lab.clear_cache()
    before = len(lab.batcher.history)
    c = lab.compare(PROMPT, ["kick"], scale=1.0, seed=5, grid=GRID_STRENGTHS, **SMALL)
    # one batch: the 13 strengths are 13 rows, the base (strength 0) and the steered motion (1.0) among them
    assert list(lab.batcher.history)[before:] == [(1, 13)]
    assert [v.strength for v in c.grid] == list(GRID_STRENGTHS)
    zero = c.at(0.0)
    assert np.array_equal(zero.steered_joints, c.base_joints)  # the very base motion, not a near copy
    assert np.array_equal(c.at(1.0).steered_joints, c.steered_joints)
    for v in c.grid:
        lab.clear_cache()
        alone = lab.compare(PROMPT, ["kick"], scale=v.strength, seed=5, **SMALL)  # a side-by-side of its own
        assert np.abs(alone.steered_joints - v.joints).max() < TOL, v.strength
        assert np.abs(alone.base_joints - c.base_joints).max() < TOL  # another batch size: float rounding only
        assert [k for k, _ in alone.steered_concepts] == [k for k, _ in v.concepts]
    assert np.abs(c.grid[0].joints - c.grid[-1].joints).max() > 1e-2  # the strengths do differ


def test_the_grid_comes_from_the_cache_and_a_release_inside_it_needs_no_generation(lab):
    lab.clear_cache()
    first = lab.compare(PROMPT, ["kick"], scale=1.0, seed=6, grid=GRID_STRENGTHS, **SMALL)
    before = rows_run(lab)
    again = lab.compare(PROMPT, ["kick"], scale=0.25, seed=6, grid=GRID_STRENGTHS, **SMALL)
    assert rows_run(lab) == before  # every strength was in the cache
    assert np.array_equal(again.steered_joints, first.at(0.25).steered_joints)
    assert first.at(0.3) is None and first.at(0.25).scale == 0.25


def test_a_strength_off_the_grid_and_a_start_step(lab):
    c = lab.compare(PROMPT, ["kick"], scale=1.3, seed=7, start_step=2, grid=[0.0, 1.0, 2.0], **SMALL)
    assert [v.strength for v in c.grid] == [0.0, 1.0, 1.3, 2.0]  # the shown strength joins the grid
    assert np.array_equal(c.at(0.0).steered_joints, c.base_joints)
    lab.clear_cache()
    alone = lab.compare(PROMPT, ["kick"], scale=2.0, seed=7, start_step=2, **SMALL)
    assert np.abs(alone.steered_joints - c.at(2.0).steered_joints).max() < TOL
    assert lab.compare(PROMPT, ["kick"], scale=1.0, seed=7, **SMALL).grid == ()  # no grid asked, none given


@pytest.mark.parametrize("grid, match", [("0, 1", "list"), ([0.0, float("nan")], "grid strength"),
                                         ([9.0], "grid strength"), (list(np.linspace(-1, 1, 33)), "1 to 32")])
def test_bad_grids_are_clear_errors(lab, grid, match):
    with pytest.raises(ValueError, match=match):
        lab.compare(PROMPT, ["kick"], grid=grid, **SMALL)


def test_under_load_grids_fill_only_the_room_a_batch_has_left(lab):
    """Six visitors' Generates queued while the model is busy: their 12 own rows all run in the one batch, and the
    grids get the 4 rows left under grid_rows = 16, one more strength each for the first four (their next whole
    strength); the lone Generate after it still gets only 4 (recent demand), not the whole grid."""
    lab.clear_cache()
    out, errors = [None] * 6, []

    def work(i):
        try:
            out[i] = lab.compare(PROMPT, ["kick"], scale=1.0, seed=100 + i, grid=GRID_STRENGTHS, **SMALL)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)

    before = len(lab.batcher.history)
    with lab.lock:
        threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        deadline = time.time() + 30
        while lab.batcher.pending < 6 and time.time() < deadline:
            time.sleep(0.01)
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert list(lab.batcher.history)[before:] == [(6, 16)]
    assert [[v.strength for v in c.grid] for c in out] == [[0.0, 1.0, 2.0]] * 4 + [[0.0, 1.0]] * 2
    lone = lab.compare(PROMPT, ["kick"], scale=1.0, seed=200, grid=GRID_STRENGTHS, **SMALL)
    assert [v.strength for v in lone.grid] == [-1.0, 0.0, 0.5, 1.0, 1.5, 2.0]


def test_fill_order_is_coarse_to_fine_around_the_shown_strength():
    assert fill_order(GRID_STRENGTHS, 1.0) == [1.0, 0.0, 2.0, -1.0, 0.5, 1.5, -0.5, 0.75, 1.25, 0.25, 1.75, -0.25, -0.75]
    assert fill_order([0.1, 0.5, 3.0], 0.0)[0] == 3.0
    assert check_grid([1.0, 1, 0.5], 5) == [1.0, 0.5]


def job(rows: int, optional: int) -> Job:
    return Job("k", [Row("p", i, 20) for i in range(rows)], [Row("p", 100 + i, 20) for i in range(optional)])


@pytest.mark.parametrize("jobs, room, taken", [
    ([(2, 11)], 14, [11]),  # a lone visitor: the whole grid
    ([(2, 11)], 6, [6]),
    ([(2, 11), (2, 11), (1, 11)], 11, [4, 4, 3]),  # in turn: a coarse grid each
    ([(2, 11)] * 8, 0, [0] * 8),  # no room: none
    ([(2, 11)], -2, [0]),
    ([(0, 3), (2, 0)], 14, [3, 0]),
])
def test_fill_optional_shares_the_room_in_turn(jobs, room, taken):
    batch = [job(*j) for j in jobs]
    fill_optional(batch, room)
    assert [j.taken for j in batch] == taken
    assert all(len(j.batch_rows) == len(j.rows) + j.taken for j in batch)


def test_recent_demand_keeps_optional_rows_out_while_the_server_is_busy():
    """A batch that needed 6 rows of requests' own leaves a lone request's next batches room for only 8 - 6 optional
    rows, for the DEMAND_WINDOW batches after it."""
    from motion_lora.serving.batching import DEMAND_WINDOW

    lock = threading.RLock()
    b = Batcher(lambda jobs: [j.finish([torch.zeros(1) for _ in j.batch_rows]) for j in jobs], lock, max_rows=8, fill_rows=8)
    with lock:  # three requests of 2 rows queue while the model is busy
        threads = [threading.Thread(target=b.run, args=("k", [Row("p", 2 * i, 20), Row("p", 2 * i + 1, 20)])) for i in range(3)]
        for t in threads:
            t.start()
        while b.pending < 3:
            time.sleep(0.001)
    for t in threads:
        t.join(10)
    extras = [Row("q", i, 20) for i in range(7)]
    taken = [len(b.run("k", [Row("p", 99, 20)], extras)) - 1 for _ in range(DEMAND_WINDOW + 1)]
    assert list(b.history)[0] == (3, 6)  # no room left in the busy batch itself
    assert taken == [2] * DEMAND_WINDOW + [7]  # 8 - 6 while the busy batch is in the window; then 8 - 1


def test_the_batcher_returns_the_optional_rows_that_ran():
    lock = threading.RLock()
    b = Batcher(lambda jobs: [j.finish([torch.tensor(float(r.seed)) for r in j.batch_rows]) for j in jobs], lock, max_rows=8, fill_rows=4)
    got = b.run("k", [Row("p", 1, 20)], [Row("p", 2, 20), Row("p", 3, 20), Row("p", 4, 20), Row("p", 5, 20)])
    assert [t.item() for t in got] == [1.0, 2.0, 3.0, 4.0] and list(b.history) == [(1, 4)]
    with pytest.raises(ValueError, match="fill_rows"):
        Batcher(lambda jobs: None, lock, fill_rows=-1)


def test_player_payload_variants():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 10, 22, 3))
    p = player_payload([("base", a), ("steered", b)], variants={1: [(0.0, "at 0", a), (1.0, "at 1", b)]}, strengths={1: 1.0})
    steered = p["motions"][1]
    assert steered["strength"] == 1.0 and [v["strength"] for v in steered["variants"]] == [0.0, 1.0]
    assert steered["variants"][0]["joints"] == p["motions"][0]["joints"] and steered["variants"][1]["label"] == "at 1"
    assert "variants" not in p["motions"][0] and "strength" not in p["motions"][0]
    with pytest.raises(ValueError, match="as long as its motion"):
        player_payload([("m", a)], variants={0: [(0.5, "short", a[:5])]})
    with pytest.raises(ValueError, match="motion index"):
        player_payload([("m", a)], variants={1: []})
    with pytest.raises(ValueError, match="strength"):
        player_payload([("m", a)], variants={0: [(float("nan"), "x", a)]})
