"""The Gradio app through its public API (gradio_client) against the real launched server, on tiny models.

The lab is built on the tiny checkpoints of tests/conftest.py (`tiny_root`; the same environment as the
`checkpoints` fixture, set module-wide because the server lives for the whole module). A tiny "kick" adapter
is trained through the app's own /train endpoint first; every call uses 2 s clips and 4 sampling steps.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import files_under, running_app

REPO = Path(__file__).resolve().parent.parent
FAST = dict(seconds=2.0, steps=4, guidance=2.5)
# concept, preset, rank, alpha, lr, iterations, eta, retain, preserve, extra, batch, seconds, rollout steps
TRAIN_ARGS = ["kick", "attn", 4, 4.0, 3e-4, 8, 1.0, "", 1.0, "", 2, 2.4, 3]  # preservation on, as by default


def repo_files() -> set[str]:
    return files_under(REPO)


@pytest.fixture(scope="module")
def server(tiny_root, tmp_path_factory):
    """The app on a free port; yields a dict with url, lab, user dir, outputs root."""
    tmp = tmp_path_factory.mktemp("app")
    user = tmp / "user"
    before = repo_files()
    env = {"MOTION_LORA_MAX_ITERATIONS": "500"}
    os.environ.pop("MOTION_LORA_DISABLE_TRAINING", None)
    with running_app(tiny_root, tmp, user, **env) as (url, lab, demo):
        yield {"url": url, "lab": lab, "user": user, "outputs": Path(demo.outputs_dir), "tmp": tmp, "repo_before": before}


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


def generate(client, prompt="a person kicks with the right leg", adapters=("kick",), scale=1.0, seed=0, start_step=0, weights="", **kw):
    o = dict(FAST, **kw)
    return client.predict(prompt, list(adapters), scale, seed, o["seconds"], o["steps"], o["guidance"], start_step, weights, api_name="/generate")


def joints_of(result) -> np.ndarray:
    npz = [f for f in result[3] if f.endswith(".npz")][0]
    return np.load(npz)["joints"]


# ---------------------------------------------------------------------------------------------------- API


def test_api_names(client):
    names = set(client.view_api(print_info=False, return_format="dict")["named_endpoints"])
    assert {"/generate", "/sweep", "/train", "/evaluate", "/list_adapters"} <= names


def test_training_streams_loss_and_publishes_adapter(trained, client, server):
    statuses = [o[0] for o in trained]
    assert sum("loss" in s for s in statuses) >= 5, statuses
    final = trained[-1]
    assert final[-1]["status"] == "done" and final[-1]["concept"] == "kick"
    assert "Preserved 12 retain prompts" in final[0] and "λ 1" in final[0]  # the derived neighbours are named
    plot = final[1]
    assert plot["columns"] == ["step", "loss", "series"]
    series = [row[2] for row in plot["data"]]
    assert series.count("total") == 8 and "ESD" in series and "preserve" in series
    assert final[2].endswith(".zip") and Path(final[2]).stat().st_size > 0
    assert "kick" in [c[0] for c in final[3]["choices"]]  # the pickers got the new adapter
    listed = client.predict(api_name="/list_adapters")
    assert [a["concept"] for a in listed] == ["kick"] and listed[0]["name"] == "tiny_base_LoRA_kick"
    assert (server["user"] / "t2m" / "tiny_base_LoRA_kick" / "adapter.json").is_file()


def test_generate_two_motions_of_requested_length(trained, client):
    html, base_label, steered_label, files, summary = generate(client, seconds=2.0)
    assert summary["joints_shape"] == [2, 40, 22, 3] and summary["frames"] == 40
    assert summary["labels"] == ["base", "steered (kick ×1.0)"]
    assert "data-motion-payload" in html and "<script" not in html
    payload = json.loads(__import__("html").unescape(html.split('data-motion-payload="')[1].split('"')[0]))
    assert [m["label"] for m in payload["motions"]] == ["base", "steered (kick ×1.0)"] and payload["motions"][0]["frames"] == 40
    assert base_label["confidences"] and steered_label["confidences"]
    assert sorted(Path(f).suffix for f in files) == [".bvh", ".bvh", ".html", ".npz"]
    assert joints_of((html, base_label, steered_label, files, summary)).shape == (2, 40, 22, 3)
    bvh = [f for f in files if f.endswith("_steered.bvh")][0]
    assert Path(bvh).read_text().startswith("HIERARCHY") and "Frames: 40" in Path(bvh).read_text()
    assert "<canvas" not in Path([f for f in files if f.endswith(".html")][0]).read_text()[:200]


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


def test_sweep(trained, client):
    html, plot, data = client.predict("a person kicks", "kick", "-0.5, 0, 1", 1, 2.0, 4, api_name="/sweep")
    assert data["scales"] == [-0.5, 0.0, 1.0] and data["joints_shape"] == [3, 40, 22, 3]
    assert len(data["presence"]) == 3 and data["retain_drift_m"][1] == pytest.approx(0.0, abs=1e-5)
    assert '"layout": "grid"' in __import__("html").unescape(html)
    assert plot["type"] == "plotly"


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
    from motion_lora import ui

    info = server["lab"].infos["tiny_base_LoRA_kick"]
    assert ui.shipped_eval(info) is None
    (info.path / "eval").mkdir(exist_ok=True)
    (info.path / "eval" / "metrics.json").write_text(json.dumps(result))
    assert ui.eval_rows(ui.shipped_eval(info)) == [[c if not isinstance(c, float) else pytest.approx(c) for c in r] for r in rows]
    assert client.predict(api_name="/list_adapters")[0]["has_eval"] is True


def test_cancel_mid_training_leaves_nothing(trained, client, server):
    from gradio_client import Client

    from motion_lora import ui

    job = client.submit("punch", "attn", 4, 4.0, 3e-4, 400, 1.0, "", 0.0, "", 2, 2.0, 3, api_name="/train")
    deadline = time.time() + 60
    while sum("loss" in str(o[0]) for o in job.outputs()) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert ui.TRAINING.busy
    # one training at a time: a second one (another session) is told to wait, not queued forever
    other = Client(server["url"], verbose=False, download_files=False)
    with pytest.raises(Exception, match="already running"):
        other.predict(*TRAIN_ARGS, api_name="/train")
    job.cancel()
    root = server["user"] / "t2m"
    deadline = time.time() + 60
    while (ui.TRAINING.busy or list(root.glob(".*partial*")) or "tiny_base_LoRA_punch" in server["lab"].adapters.specs) and time.time() < deadline:
        time.sleep(0.1)
    assert not ui.TRAINING.busy
    assert not list(root.glob(".*")), list(root.iterdir())
    assert not (root / "tiny_base_LoRA_punch").exists()
    assert [a["concept"] for a in client.predict(api_name="/list_adapters")] == ["kick"]


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
]


@pytest.mark.parametrize("kwargs, message", BAD_GENERATE, ids=[m for _, m in BAD_GENERATE])
def test_generate_bad_input_is_a_clear_error(trained, client, kwargs, message):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as err:
        generate(client, **kwargs)
    assert message in str(err.value)


@pytest.mark.parametrize("position, name", [(2, "strength"), (3, "seed"), (4, "length"), (6, "guidance")])
def test_nan_is_a_clear_error(trained, server, position, name):
    data = ["a person kicks", ["kick"], 1.0, 0, 2.0, 4, 2.5, 0, ""]
    data[position] = math.nan
    text = call_raw(server["url"], "generate", data)
    assert "event: error" in text and name in text and "finite" in text, text


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
        ("/train", [""] + TRAIN_ARGS[1:], "empty"),
        ("/train", ["x" * 10_000] + TRAIN_ARGS[1:], "too long"),
        ("/train", ["kick", "attn", 4, 4.0, 3e-4, 5000, 1.0, "", 0.0, "", 2, 2.0, 3], "greater than maximum value 500"),
        ("/train", ["kick", "nope", 4, 4.0, 3e-4, 5, 1.0, "", 0.0, "", 2, 2.0, 3], "not in the list of choices"),
        ("/train", ["kick", "attn", 4, -1.0, 3e-4, 5, 1.0, "", 0.0, "", 2, 2.0, 3], "less than minimum value 0.01"),
        ("/train", ["kick", "attn", 4, 4.0, 5.0, 5, 1.0, "", 0.0, "", 2, 2.0, 3], "learning rate"),
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
    assert repo_files() == server["repo_before"]
    assert sorted(p.name for p in server["user"].iterdir()) == ["t2m"]
    assert sorted(p.name for p in (server["user"] / "t2m").iterdir()) == ["tiny_base_LoRA_kick"]
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
