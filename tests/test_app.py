"""The Gradio app through its public API (gradio_client) against the real launched server, on tiny models.

The lab is built on a private copy of the tiny checkpoints of tests/conftest.py with one tiny *shipped* "kick"
adapter (with an eval report) in its checkpoint root, as a fresh clone has. A visitor then trains "kick" through
the app's own /train endpoint, which must become a new adapter (`kick-2`) and leave the shipped one alone; every
call uses 2 s clips and 4 sampling steps.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import copy_without_adapters, repo_snapshot, running_app

from motion_lora.model.sampler import DEFAULT_SCHEDULER

REPO = Path(__file__).resolve().parent.parent
FAST = dict(seconds=2.0, steps=4, guidance=2.5)
# concept, preset, rank, alpha, lr, iterations, eta, retain, preserve, extra, batch, seconds, rollout steps (, save as: "" = new)
TRAIN_ARGS = ["kick", "attn", 4, 4.0, 3e-4, 8, 1.0, "", 1.0, "", 2, 2.4, 3]  # preservation on, as by default
SHIPPED = "tiny_base_LoRA_kick"
VISITOR = "tiny_base_LoRA_kick-2"  # what the visitor's training of "kick" must be called


def repo_files() -> dict:
    return repo_snapshot(REPO)


def tree_digest(folder: Path) -> dict[str, str]:
    """sha256 of every file below `folder`, by relative path."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def shipped_checkpoints(tiny_root, root: Path) -> Path:
    """A checkpoint root like a fresh clone's: the tiny base, the evaluator and a shipped kick adapter with a report."""
    from motion_lora.unlearning.adapters import LoraSpec
    from motion_lora.unlearning.train import unlearn_to_folder
    from motion_lora.unlearning.unlearn import UnlearnConfig

    copy_without_adapters(tiny_root, root)
    cfg = UnlearnConfig(concept="kick", iterations=3, batch_size=1, frames=40, rollout_steps=2, paraphrases=2, lora=LoraSpec(rank=2, alpha=2.0))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MOTION_LORA_CHECKPOINTS", str(root))
        folder = unlearn_to_folder(base_name="tiny_base", config=cfg, out_root=root)
    (folder / "eval" / "report.md").write_text("# Unlearning report: shipped kick\n")
    return root


@pytest.fixture(scope="module")
def server(tiny_root, tmp_path_factory):
    """The app on a free port; yields a dict with url, lab, user dir, outputs root, checkpoint root."""
    tmp = tmp_path_factory.mktemp("app")
    root = shipped_checkpoints(tiny_root, tmp / "checkpoints")
    user = tmp / "user"
    before = repo_files()
    env = {"MOTION_LORA_MAX_ITERATIONS": "500"}
    os.environ.pop("MOTION_LORA_DISABLE_TRAINING", None)
    shipped_before = tree_digest(root / "t2m" / SHIPPED)
    with running_app(root, tmp, user, **env) as (url, lab, demo):
        yield {"url": url, "lab": lab, "user": user, "outputs": Path(demo.outputs_dir), "tmp": tmp, "repo_before": before, "root": root,
               "shipped_before": shipped_before}


@pytest.fixture(scope="module")
def client(server):
    from gradio_client import Client

    downloads = server["tmp"] / "client"
    downloads.mkdir()
    return Client(server["url"], verbose=False, download_files=str(downloads))


@pytest.fixture(scope="module")
def trained(client, server):
    """Train the tiny kick adapter through /train; returns the streamed outputs."""
    job = client.submit(*TRAIN_ARGS, api_name="/train")
    outputs = list(job)
    assert job.status().success, job.exception()
    return outputs


def generate(client, prompt="a person kicks with the right leg", adapters=("kick",), scale=1.0, seed=0, start_step=0, weights="", scheduler=None, plant_feet=None, **kw):
    o = dict(FAST, **kw)
    extra = [] if scheduler is None else [scheduler]  # left out: the dropdown's default (as older API callers do)
    extra += [] if plant_feet is None else [plant_feet]
    return client.predict(prompt, list(adapters), scale, seed, o["seconds"], o["steps"], o["guidance"], start_step, weights, *extra, api_name="/generate")


def submit(client, prompt="a person kicks with the right leg", adapters=("kick",), scale=1.0, seed=0, start_step=0, weights="", scheduler="ddim", **kw):
    o = dict(FAST, **kw)
    return client.submit(prompt, list(adapters), scale, seed, o["seconds"], o["steps"], o["guidance"], start_step, weights, scheduler, api_name="/generate")


def joints_of(result) -> np.ndarray:
    npz = [f for f in result[3] if f.endswith(".npz")][0]
    return np.load(npz)["joints"]


def payload_of(html: str) -> dict:
    """The player payload of a player's HTML."""
    return json.loads(__import__("html").unescape(html.split('data-motion-payload="')[1].split('"')[0]))


# ---------------------------------------------------------------------------------------------------- API


def test_api_names(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/generate", "/sweep", "/train", "/evaluate", "/list_adapters"} <= names


def plot_traces(plot: dict) -> dict[str, dict]:
    """A gr.Plot value from gradio_client -> {trace name: trace} of its plotly figure."""
    assert plot["type"] == "plotly"
    figure = json.loads(plot["plot"])
    return {t["name"]: t for t in figure["data"]}, figure["layout"]


def test_training_streams_loss_and_publishes_adapter(trained, client, server):
    statuses = [o[0] for o in trained]
    assert sum("loss" in s for s in statuses) >= 5, statuses
    final = trained[-1]
    assert final[-1]["status"] == "done" and final[-1]["concept"] == "kick"
    assert re.search(r"Preserved \d+ retain prompts", final[0]) and "λ 1" in final[0]  # the derived neighbours are named
    traces, layout = plot_traces(final[1])
    assert list(traces) == ["total", "ESD", "preservation"]  # one line per loss term, named in the legend
    assert all(len(t["x"]) == 8 and len(t["y"]) == 8 and t["x"] == list(range(1, 9)) for t in traces.values())
    values = [v for t in traces.values() for v in t["y"]]
    lo, hi = layout["yaxis"]["range"]
    assert lo <= min(values) and hi >= max(values) and hi - lo <= 1.5 * (max(values) - min(values)) + 0.1  # fits the values
    live = [o[1] for o in trained if isinstance(o[1], dict) and o[1].get("type") == "plotly"]
    assert len({len(plot_traces(p)[0]["total"]["x"]) for p in live}) >= 4  # the chart grew while training ran
    assert final[2].endswith(".zip") and Path(final[2]).stat().st_size > 0
    assert "kick-2" in [c[1] for c in final[3]["choices"]]  # the pickers got the new adapter
    listed = client.predict(api_name="/list_adapters")
    assert [(a["short"], a["made_by"]) for a in listed] == [("kick", "shipped"), ("kick-2", "this session")]
    assert listed[1]["name"] == VISITOR and listed[1]["created"].endswith("UTC")
    assert (server["user"] / "t2m" / VISITOR / "adapter.json").is_file() and (server["user"] / "t2m" / VISITOR / "owner.json").is_file()
    labels = dict((v, k) for k, v in final[3]["choices"])
    assert labels["kick"] == "kick · shipped" and labels["kick-2"].startswith("kick-2 · this session, ")


def test_visitor_training_leaves_the_shipped_adapter_byte_identical(trained, client, server):
    """Training an existing concept creates kick-2: the shipped kick's files (weights, config, log, eval
    report) are byte-identical, it still lists as shipped and still generates."""
    shipped = server["root"] / "t2m" / SHIPPED
    assert tree_digest(shipped) == server["shipped_before"]
    assert (shipped / "eval" / "report.md").read_text().startswith("# Unlearning report")
    assert not (shipped / "owner.json").exists()
    assert server["lab"].infos[SHIPPED].origin == "shipped" and server["lab"].infos[VISITOR].origin == "user"
    out = generate(client, adapters=["kick"], seed=2)  # "kick" still means the shipped adapter
    assert out[4]["adapters"] == {SHIPPED: 1.0}
    out = generate(client, adapters=["kick-2"], seed=2)
    assert out[4]["adapters"] == {VISITOR: 1.0} and out[4]["labels"][1] == "steered (kick-2 ×1.0)"


def test_another_session_cannot_delete_or_retrain(trained, client, server):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    other = Client(server["url"], verbose=False, download_files=False)
    assert [(a["short"], a["made_by"]) for a in other.predict(api_name="/list_adapters")] == [("kick", "shipped"), ("kick-2", "another visitor")]
    for target, why in (("kick-2", "belongs to another visitor"), ("kick", "shipped adapters are read-only"), (SHIPPED, "read-only")):
        with pytest.raises(AppError, match=why):
            other.predict(target, api_name="/delete_adapter")
        with pytest.raises(AppError, match=why):
            other.predict(*TRAIN_ARGS, target, api_name="/train")
    with pytest.raises(AppError, match="read-only"):  # nor its creator can touch a shipped adapter
        client.predict(*TRAIN_ARGS, "kick", api_name="/train")
    assert tree_digest(server["root"] / "t2m" / SHIPPED) == server["shipped_before"]
    assert (server["user"] / "t2m" / VISITOR / "adapter.json").is_file()
    assert [a["short"] for a in client.predict(api_name="/list_adapters")] == ["kick", "kick-2"]


def test_generate_two_motions_of_requested_length(trained, client):
    html, base_label, steered_label, files, summary = generate(client, seconds=2.0)
    assert summary["joints_shape"] == [2, 40, 22, 3] and summary["frames"] == 40
    assert summary["labels"] == ["base", "steered (kick ×1.0)"]
    assert "data-motion-payload" in html and "<script" not in html
    payload = payload_of(html)
    assert [m["label"] for m in payload["motions"]] == ["base", "steered (kick ×1.0)"] and payload["motions"][0]["frames"] == 40
    assert base_label["confidences"] and steered_label["confidences"]
    assert sorted(Path(f).suffix for f in files) == [".bvh", ".bvh", ".html", ".npz"]
    assert joints_of((html, base_label, steered_label, files, summary)).shape == (2, 40, 22, 3)
    bvh = [f for f in files if f.endswith("_steered.bvh")][0]
    assert Path(bvh).read_text().startswith("HIERARCHY") and "Frames: 40" in Path(bvh).read_text()
    assert "<canvas" not in Path([f for f in files if f.endswith(".html")][0]).read_text()[:200]


def test_generate_sends_the_strength_grid_with_the_base(trained, client, server):
    """One Generate: the steered motion at every strength of the slider's grid rides in the player payload, from one
    batch; strength 0 is the base, the strength asked for is the steered motion, and each equals a separate
    generation at that strength (same noise)."""
    from motion_lora.serving.slider_grid import GRID_STRENGTHS

    lab = server["lab"]
    lab.clear_cache()
    before = len(lab.batcher.history)
    html, _, _, _, summary = out = generate(client, seed=51, scale=1.0)
    assert list(lab.batcher.history)[before:] == [(1, len(GRID_STRENGTHS))]
    assert summary["grid"] == list(GRID_STRENGTHS)
    base, steered = payload_of(html)["motions"]
    assert steered["strength"] == 1.0 and [v["strength"] for v in steered["variants"]] == summary["grid"]
    grid = {v["strength"]: v for v in steered["variants"]}
    assert grid[0.0]["joints"] == base["joints"] and grid[1.0]["joints"] == steered["joints"]
    assert grid[0.25]["label"] == "steered (kick ×0.25)" and grid[-1.0]["label"] == "steered (kick ×-1.0)"
    assert np.abs(np.reshape(grid[1.0]["joints"], (-1, 22, 3)) - joints_of(out)[1]).max() <= 5e-4  # the payload is in mm
    for s in (-1.0, 0.25, 2.0):
        lab.clear_cache()
        alone = joints_of(generate(client, seed=51, scale=s))
        assert np.abs(np.reshape(grid[s]["joints"], (-1, 22, 3)) - alone[1]).max() <= 5e-4 + 1e-5, s


def test_same_seed_same_motions_and_other_seed_differs(trained, client):
    a, b, c = (joints_of(generate(client, seed=s)) for s in (7, 7, 8))
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_scale_zero_is_the_base_model(trained, client):
    j = joints_of(generate(client, scale=0.0, seed=3))
    assert np.allclose(j[0], j[1], atol=1e-5)
    s = generate(client, scale=2.0, seed=3)[4]
    assert s["max_joint_difference_m"] > 0


def test_advanced_options_and_non_latin_prompt(trained, client):
    out = generate(client, prompt="一个人用右腿踢 — человек бьёт ногой 🦵", start_step=2, weights="0.5", seconds=3.0)
    assert out[4]["joints_shape"] == [2, 60, 22, 3]
    assert out[4]["adapters"] == {"tiny_base_LoRA_kick": 0.5}
    # a start step equal to the number of steps keeps the adapter off: steered equals base
    j = joints_of(generate(client, start_step=4, seed=5))
    assert np.allclose(j[0], j[1], atol=1e-5)


def test_scheduler_choice(trained, client):
    ddim = generate(client, seed=12, scheduler="ddim")
    dpm = generate(client, seed=12, scheduler="dpmsolver++")
    assert ddim[4]["scheduler"] == "ddim" and dpm[4]["scheduler"] == "dpmsolver++" and generate(client, seed=12)[4]["scheduler"] == DEFAULT_SCHEDULER
    assert not np.allclose(joints_of(ddim), joints_of(dpm))
    assert not dpm[4]["base_reused"]  # the scheduler is part of the cache key


def test_the_fast_student_switch_without_a_student(trained, client):
    """The tiny base has no student: the Fast student box changes nothing, and the summary says the full sampler ran."""
    fast = generate(client, seed=14, scheduler="ddim", plant_feet=True)
    full = client.predict("a person kicks with the right leg", ["kick"], 1.0, 14, FAST["seconds"], FAST["steps"], FAST["guidance"], 0, "",
                          "ddim", True, False, api_name="/generate")
    assert fast[4]["fast"] is False and full[4]["fast"] is False and full[4]["base_reused"]  # the same sampler: shared cache
    assert fast[4]["sampled_by"] == full[4]["sampled_by"] == f"ddim {FAST['steps']} steps, guidance {FAST['guidance']:g}"
    assert np.array_equal(joints_of(fast), joints_of(full))


def test_plant_feet_switch(trained, client):
    planted = generate(client, seed=13, scheduler="ddim")
    raw = generate(client, seed=13, scheduler="ddim", plant_feet=False)
    assert planted[4]["plant_feet"] is True and raw[4]["plant_feet"] is False and not raw[4]["base_reused"]
    shift = joints_of(planted) - joints_of(raw)  # (2, T, 22, 3): the root moved, the pose did not
    assert np.abs(shift - shift[:, :, :1]).max() < 1e-4 and np.abs(shift[..., 1]).max() < 1e-5
    assert np.abs(shift).max() > 1e-4  # the checkbox reached the sampler


def test_new_strength_reuses_the_cached_base(trained, client, server):
    """Another strength for the same prompt, seed, length and sampling settings: only the steered motion is
    generated, the base is the very same motion, and a fresh run (cache cleared) gives the same pair."""
    first = generate(client, seed=31, scale=1.0)
    second = generate(client, seed=31, scale=0.5)
    assert not first[4]["base_reused"] and second[4]["base_reused"]
    a, b = joints_of(first), joints_of(second)
    assert np.array_equal(a[0], b[0]) and not np.allclose(a[1], b[1])
    server["lab"].clear_cache()
    fresh = generate(client, seed=31, scale=0.5)
    assert not fresh[4]["base_reused"]
    c = joints_of(fresh)
    assert np.array_equal(c[0], b[0]) and np.abs(c[1] - b[1]).max() < 1e-5


def test_concurrent_generations_merge_into_one_batch_with_the_results_of_single_runs(trained, client, server):
    """Four visitors at once (other prompts, seeds, lengths, strengths, schedulers' shared setting): one merged batch,
    and each gets what it gets alone."""
    from gradio_client import Client

    lab = server["lab"]
    requests = [dict(prompt="a person kicks", seed=41, seconds=2.0, scheduler="ddim"), dict(prompt="someone jumps", seed=42, seconds=3.0, scale=-0.5, scheduler="ddim"),
                dict(prompt="a man punches", seed=43, seconds=2.4, scale=1.5, scheduler="ddim"), dict(prompt="a person waves", seed=44, seconds=2.0, start_step=2, scheduler="ddim")]
    alone = []
    for r in requests:
        lab.clear_cache()
        alone.append(joints_of(generate(client, **r)))
    lab.clear_cache()
    clients = [Client(server["url"], verbose=False, download_files=str(server["tmp"] / "client")) for _ in requests]
    before = len(lab.batcher.history)
    with lab.lock:  # the model is busy: all four queue up
        jobs = [submit(c, **r) for c, r in zip(clients, requests)]
        deadline = time.time() + 60
        while lab.batcher.pending < len(requests) and time.time() < deadline:
            time.sleep(0.02)
        assert lab.batcher.pending == len(requests)
    merged = [joints_of(j.result(timeout=120)) for j in jobs]
    # one batch: their 8 rows, and 8 grid rows (MOTION_LORA_GRID_ROWS = 16), two more strengths for each
    assert list(lab.batcher.history)[before:] == [(4, 16)]
    for a, b, r in zip(alone, merged, requests):
        assert a.shape == b.shape == (2, int(r["seconds"] * 20), 22, 3)
        assert np.abs(a - b).max() < 1e-5, r


def test_sweep(trained, client):
    html, plot, data = client.predict("a person kicks", "kick", "-0.5, 0, 1", 1, 2.0, 4, api_name="/sweep")
    assert data["scales"] == [-0.5, 0.0, 1.0] and data["joints_shape"] == [3, 40, 22, 3]
    assert len(data["presence"]) == 3 and data["retain_drift_m"][1] == pytest.approx(0.0, abs=1e-5)
    assert '"layout": "grid"' in __import__("html").unescape(html)
    assert plot["type"] == "plotly"
    check_video(client.predict(api_name="/sweep_video"), frames=40, width=3 * 320)


def check_video(path: str, frames: int, width: int) -> None:
    """An MP4 that decodes to `frames` frames of `width` pixels, with a drawn (non-blank) picture."""
    import imageio_ffmpeg

    assert path.endswith(".mp4") and Path(path).stat().st_size > 1000
    reader = imageio_ffmpeg.read_frames(path)
    meta = next(reader)
    got = [np.frombuffer(f, np.uint8).reshape(meta["size"][1], meta["size"][0], 3) for f in reader]
    assert meta["size"][0] == width and meta["fps"] == 20 and len(got) == frames
    assert (got[len(got) // 2] < 128).mean() > 0.005  # skeletons and labels, not an empty frame


def test_side_by_side_video(trained, client):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError, match="generate a comparison"):
        Client(client.src, verbose=False).predict(api_name="/compare_video")  # a new session has nothing to render
    generate(client, seconds=5.0, seed=1)
    started = time.perf_counter()
    path = client.predict(api_name="/compare_video")
    assert time.perf_counter() - started < 10  # docs/performance.md's figure (<= 3 s for 5 s) is benchmarks/performance/video.py's
    check_video(path, frames=100, width=800)


def test_evaluate_returns_table(trained, client, server):
    caption, table, plot, result = client.predict("kick", 2, 1, 1, 2, api_name="/evaluate")
    assert "proxy" in caption.lower()
    assert table["headers"][:3] == ["set", "metric", "base"]
    rows = table["data"]
    assert {r[0] for r in rows} == {"forget", "retain"} and any(r[1] == "presence" for r in rows)
    assert len({(r[0], r[1]) for r in rows}) == len(rows)  # no duplicated metric rows
    assert result["forget"]["base"]["metrics"]["presence"]["mean"] >= 0
    assert plot["type"] == "plotly"
    # stored results in <adapter>/eval/metrics.json are what the tab shows at once
    from motion_lora.serving import ui

    info = server["lab"].infos[VISITOR]
    assert ui.shipped_eval(info) is None
    (info.path / "eval").mkdir(exist_ok=True)
    (info.path / "eval" / "metrics.json").write_text(json.dumps(result))
    assert ui.eval_rows(ui.shipped_eval(info)) == [[c if not isinstance(c, float) else pytest.approx(c) for c in r] for r in rows]
    assert client.predict(api_name="/list_adapters")[1]["has_eval"] is True
    # intervals: a bootstrap over prompts and seeds with its n, or a standard error with its n; never a bare t-interval
    presence = result["forget"]["base"]["metrics"]["presence"]
    n = result["forget"]["base"]["n_prompts"]
    assert presence["method"] == "bootstrap" and presence["n_prompts"] == n >= 6 and presence["n_repeats"] == 1
    assert presence["lo"] <= presence["mean"] <= presence["hi"]
    headers = table["headers"]
    assert headers[:6] == ["set", "metric", "base", "base interval", "unlearned", "unlearned interval"] and "n" in headers
    row = next(r for r in rows if r[:2] == ["forget", "presence"])
    assert row[headers.index("n")] == f"{n} prompts × 1 seed"
    assert all(r[headers.index("n")] for r in rows)  # every row says what its interval rests on


def wait_for(job, phrase: str, count: int = 1, timeout: float = 60) -> None:
    deadline = time.time() + timeout
    while sum(phrase in str(o[0]) for o in job.outputs()) < count and time.time() < deadline:
        time.sleep(0.05)
    assert sum(phrase in str(o[0]) for o in job.outputs()) >= count, job.outputs()


def test_one_training_per_visitor_others_wait_cancel_leaves_nothing(trained, client, server):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    from motion_lora.serving import ui

    job = client.submit("punch", "attn", 4, 4.0, 3e-4, 400, 1.0, "", 0.0, "", 2, 2.0, 3, api_name="/train")
    wait_for(job, "loss", 2)
    assert ui.TRAINING.busy
    # the same visitor may not queue a second training: a clear message, at once
    started = time.perf_counter()
    with pytest.raises(AppError, match="already have a training running or waiting"):
        client.predict(*TRAIN_ARGS, api_name="/train")
    assert time.perf_counter() - started < 10
    # another visitor's training waits its turn instead
    other = Client(server["url"], verbose=False, download_files=False)
    waiting = other.submit("wave", "attn", 4, 4.0, 3e-4, 400, 1.0, "", 0.0, "", 2, 2.0, 3, api_name="/train")
    wait_for(waiting, "Waiting: 1 training ahead")
    assert len(ui.TRAINING) == 2
    waiting.cancel()
    job.cancel()
    root = server["user"] / "t2m"
    deadline = time.time() + 60
    while (ui.TRAINING.busy or list(root.glob(".*partial*")) or any(n.startswith("tiny_base_LoRA_punch") for n in server["lab"].adapters.specs)) and time.time() < deadline:
        time.sleep(0.1)
    assert not ui.TRAINING.busy
    assert not list(root.glob(".*")), list(root.iterdir())
    assert sorted(p.name for p in root.iterdir()) == [VISITOR]
    assert [a["short"] for a in client.predict(api_name="/list_adapters")] == ["kick", "kick-2"]


def test_cap_evicts_the_oldest_user_adapter_never_a_shipped_one(tiny_root, tmp_path):
    """With room for 2 visitors' adapters, a third training evicts the oldest (another visitor's); with a byte cap
    of one adapter, the next evicts every older one; the shipped adapter stays byte-identical throughout. Owners
    can delete their own adapters."""
    from gradio_client import Client

    root = shipped_checkpoints(tiny_root, tmp_path / "checkpoints")
    shipped = tree_digest(root / "t2m" / SHIPPED)
    args = lambda concept: [concept, "attn", 2, 2.0, 3e-4, 2, 1.0, "", 0.0, "", 1, 2.0, 2]  # noqa: E731
    with running_app(root, tmp_path, tmp_path / "user") as (url, lab, _demo):
        lab.library.max_user_adapters = 2
        alice, bob = Client(url, verbose=False, download_files=False), Client(url, verbose=False, download_files=False)
        assert alice.predict(*args("kick"), api_name="/train")[-1]["short"] == "kick-2"
        assert bob.predict(*args("jump"), api_name="/train")[-1]["evicted"] == []
        done = bob.predict(*args("wave"), api_name="/train")
        assert done[-1]["evicted"] == ["tiny_base_LoRA_kick-2"] and "removed the oldest: kick-2" in done[0]
        assert [a["short"] for a in bob.predict(api_name="/list_adapters")] == ["kick", "jump", "wave"]
        lab.library.max_user_bytes = lab.user_usage()[1] / 2 + 1  # room for about one adapter
        assert bob.predict(*args("punch"), api_name="/train")[-1]["evicted"] == ["tiny_base_LoRA_jump", "tiny_base_LoRA_wave"]
        assert [a["short"] for a in bob.predict(api_name="/list_adapters")] == ["kick", "punch"]
        assert tree_digest(root / "t2m" / SHIPPED) == shipped
        assert "Deleted **punch**" in bob.predict("punch", api_name="/delete_adapter")[0]
        assert [a["short"] for a in alice.predict(api_name="/list_adapters")] == ["kick"]
        assert sorted(p.name for p in (tmp_path / "user" / "t2m").iterdir()) == []


# ---------------------------------------------------------------------------------------------------- bad input


def call_raw(url: str, api: str, data: list) -> str:
    """POST a raw JSON body (NaN and all) to /gradio_api/call/<api>; return the streamed event text."""
    body = json.dumps({"data": data})  # allow_nan: Python writes NaN, which gradio_client refuses to send
    r = httpx.post(f"{url}gradio_api/call/{api}", content=body, headers={"Content-Type": "application/json"}, timeout=30)
    r.raise_for_status()
    event = r.json()["event_id"]
    return httpx.get(f"{url}gradio_api/call/{api}/{event}", timeout=60).text


BAD_GENERATE = [
    (dict(prompt="   "), "empty"),
    (dict(prompt="x" * 10_000), "too long"),
    (dict(adapters=["../x"]), "invalid adapter name"),
    (dict(adapters=["a/b"]), "invalid adapter name"),
    (dict(adapters=["nope"]), "unknown adapter"),
    (dict(adapters=[]), "choose at least one adapter"),
    # out-of-range slider / number values: Gradio's own bounds check answers first, with a clear message
    (dict(scale=50.0), "greater than maximum value 2"),
    (dict(seed=-1), "less than minimum value 0"),
    (dict(seed=2.5), "whole number"),
    (dict(steps=0), "less than minimum value 1"),
    (dict(steps=10_000), "greater than maximum value 100"),
    (dict(seconds=60.0), "greater than maximum value 9.8"),
    (dict(guidance=-3.0), "less than minimum value 0"),
    (dict(start_step=9), "start step"),
    (dict(weights="a, b"), "must be a number"),
    (dict(weights="1, 2"), "2 weights for 1 adapters"),
    (dict(scheduler="nope"), "not in the list of choices"),
]


@pytest.mark.parametrize("kwargs, message", BAD_GENERATE, ids=[m for _, m in BAD_GENERATE])
def test_generate_bad_input_is_a_clear_error(trained, client, kwargs, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as err:
        generate(client, **kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize("position, name", [(2, "strength"), (3, "seed"), (4, "length"), (6, "guidance")])
def test_nan_is_a_clear_error(trained, server, position, name):
    data = ["a person kicks", ["kick"], 1.0, 0, 2.0, 4, 2.5, 0, "", "ddim", True, True]
    data[position] = math.nan
    text = call_raw(server["url"], "generate", data)
    assert "event: error" in text and name in text and "finite" in text, text


def test_training_with_an_anchor_records_it(trained, client, server):
    """The Unlearn tab's "replace with" reaches the ESD target: the new adapter's adapter.json names the anchor."""
    outputs = list(client.submit(*TRAIN_ARGS, "", "a person stands still", api_name="/train"))
    final = outputs[-1][-1]
    assert final["status"] == "done", outputs[-1][0]
    meta = json.loads((server["user"] / "t2m" / final["name"] / "adapter.json").read_text())
    assert meta["anchor"] == "a person stands still"
    client.predict(final["name"], api_name="/delete_adapter")


def test_training_with_adversarial_tokens_records_them(trained, client, server):
    """The Unlearn tab's "adversarial tokens" reaches the ESD loop (AdvUnlearn): adapter.json names the count."""
    outputs = list(client.submit(*TRAIN_ARGS, "", "", 2, api_name="/train"))
    final = outputs[-1][-1]
    assert final["status"] == "done", outputs[-1][0]
    meta = json.loads((server["user"] / "t2m" / final["name"] / "adapter.json").read_text())
    assert meta["adversarial_tokens"] == 2 and meta["anchor"] == ""
    client.predict(final["name"], api_name="/delete_adapter")


@pytest.mark.parametrize(
    "api, args, message",
    [
        ("/sweep", ["a kick", "../x", "0, 1", 0, 2.0, 4], "invalid adapter name"),
        ("/sweep", ["a kick", "kick", "0, 1, 99", 0, 2.0, 4], "between -5 and 5"),
        ("/sweep", ["a kick", "kick", ", ".join(["1"] * 12), 0, 2.0, 4], "at most 9"),
        ("/sweep", ["", "kick", "0, 1", 0, 2.0, 4], "empty"),
        ("/evaluate", ["../../etc", 2, 1, 1, 2], "invalid adapter name"),
        ("/evaluate", ["nope", 2, 1, 1, 2], "unknown adapter"),
        ("/evaluate", ["kick", 0, 1, 1, 2], "less than minimum value 1"),
        ("/train", ["../x"] + TRAIN_ARGS[1:], "letters"),
        ("/train", TRAIN_ARGS + ["", "", 17], "greater than maximum value 16"),
        ("/train", [""] + TRAIN_ARGS[1:], "empty"),
        ("/train", ["x" * 10_000] + TRAIN_ARGS[1:], "too long"),
        ("/train", ["kick", "attn", 4, 4.0, 3e-4, 5000, 1.0, "", 0.0, "", 2, 2.0, 3], "greater than maximum value 500"),
        ("/train", ["kick", "nope", 4, 4.0, 3e-4, 5, 1.0, "", 0.0, "", 2, 2.0, 3], "not in the list of choices"),
        ("/train", ["kick", "attn", 4, -1.0, 3e-4, 5, 1.0, "", 0.0, "", 2, 2.0, 3], "less than minimum value 0.01"),
        ("/train", ["kick", "attn", 4, 4.0, 5.0, 5, 1.0, "", 0.0, "", 2, 2.0, 3], "learning rate"),
        ("/train", TRAIN_ARGS + ["", "a person kicks high"], "names the concept"),
    ],
)
def test_other_endpoints_bad_input(trained, client, api, args, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as err:
        client.predict(*args, api_name=api)
    assert message in str(err.value)


def test_nothing_written_outside_adapter_and_output_folders(trained, client, server):
    generate(client, seed=11)
    for bad in (["../x"], ["..", "x"], ["/etc/passwd"]):
        with pytest.raises(Exception):
            generate(client, adapters=bad)
    with pytest.raises(Exception):
        client.predict("../../evil", "attn", 4, 4.0, 3e-4, 5, 1.0, "", 0.0, "", 2, 2.0, 3, api_name="/train")
    after = repo_files()
    assert {k for k in after.keys() ^ server["repo_before"].keys()} == set()  # no file of the project added or removed
    assert {k for k in after if after[k] != server["repo_before"][k]} == set()  # none changed
    assert sorted(p.name for p in server["user"].iterdir()) == ["t2m"]
    assert sorted(p.name for p in (server["user"] / "t2m").iterdir()) == [VISITOR]
    # download files live in the app's own output folder
    assert server["outputs"].is_relative_to(server["tmp"] / "outputs")
    assert any(server["outputs"].rglob("*.npz")) and any(server["outputs"].rglob("*.zip"))
    assert not list(server["tmp"].parent.glob("evil*"))


def test_training_can_be_disabled(tiny_root, tmp_path):
    from gradio_client import Client

    with running_app(tiny_root, tmp_path, tmp_path / "user", MOTION_LORA_DISABLE_TRAINING="1") as (url, _lab, _demo):
        with pytest.raises(Exception, match="training is disabled"):
            Client(url, verbose=False).predict(*TRAIN_ARGS, api_name="/train")
    assert not (tmp_path / "user").exists() or not any((tmp_path / "user").rglob("adapter.json"))
