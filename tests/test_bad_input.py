"""Malformed requests through the public HTTP API of the real app: every one is answered with a clear
error, the server keeps serving, and nothing is written outside the designated folders.

Requests go as raw JSON (NaN, wrong types and all: gradio_client would refuse to send some of them) to
/gradio_api/call/<api>, the route every client uses.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from conftest import copy_without_adapters, files_under, repo_snapshot, running_app

REPO = Path(__file__).resolve().parent.parent
NAN, INF = float("nan"), float("inf")

GEN = ["a person kicks", ["kick"], 1.0, 0, 2.0, 2, 2.5, 0, "", "ddim", True, True]  # prompt, adapters, strength, seed, seconds, steps, guidance, start step, weights, scheduler, plant feet, fast student
SWEEP = ["a person kicks", "kick", "0, 1", 0, 2.0, 2, "ddim"]  # prompt, adapter, scales, seed, seconds, steps, scheduler
TRAIN = ["kick", "attn", 2, 2.0, 3e-4, 3, 1.0, "", 0.0, "", 1, 2.0, 2, "", "", 0]  # concept ... rollout steps, save as ("" = a new adapter), replace with ("" = unconditional), adversarial tokens
EVAL = ["kick", 1, 1, 1, 2]  # adapter, per kind, per concept, repeats, steps


def edit(base: list, **changes) -> list:
    out = list(base)
    for index, value in changes.items():
        out[int(index.lstrip("_"))] = value
    return out


# (api, data, a phrase the error message must contain)
CASES = [
    # ---- generate: prompt
    ("generate", edit(GEN, _0=""), "empty"),
    ("generate", edit(GEN, _0="   \n\t "), "empty"),
    ("generate", edit(GEN, _0="k" * 100_000), "too long"),
    ("generate", edit(GEN, _0=None), "must be text"),
    ("generate", edit(GEN, _0="\x00\x01\x02"), "empty"),
    # ---- generate: adapters
    ("generate", edit(GEN, _1=[]), "choose at least one adapter"),
    ("generate", edit(GEN, _1=["../../etc/passwd"]), "invalid adapter name"),
    ("generate", edit(GEN, _1=["..\\..\\windows"]), "invalid adapter name"),
    ("generate", edit(GEN, _1=["/tmp/x"]), "invalid adapter name"),
    ("generate", edit(GEN, _1=["kick\x00"]), "invalid adapter name"),
    ("generate", edit(GEN, _1=["a" * 5000]), "invalid adapter name"),
    ("generate", edit(GEN, _1=["nope"]), "unknown adapter"),
    ("generate", edit(GEN, _1=["kick"] * 5), "at most 4"),
    ("generate", edit(GEN, _1=[["kick"]]), "adapter"),
    ("generate", edit(GEN, _1=[{"name": "kick"}]), "adapter"),
    ("generate", edit(GEN, _1=[42]), "adapter"),
    # ---- generate: numbers
    ("generate", edit(GEN, _2=NAN), "finite"),
    ("generate", edit(GEN, _2=INF), "maximum"),
    ("generate", edit(GEN, _2=-INF), "minimum"),
    ("generate", edit(GEN, _2="strong"), "expected a `float`"),
    ("generate", edit(GEN, _2=1e308), "maximum"),
    ("generate", edit(GEN, _3=-5), "minimum"),
    ("generate", edit(GEN, _3=2**40), "maximum"),
    ("generate", edit(GEN, _3=0.5), "whole number"),
    ("generate", edit(GEN, _3=NAN), "finite"),
    ("generate", edit(GEN, _3=[1, 2]), "expected a `float"),
    ("generate", edit(GEN, _4=0.0), "minimum"),
    ("generate", edit(GEN, _4=1e9), "maximum"),
    ("generate", edit(GEN, _4=NAN), "finite"),
    ("generate", edit(GEN, _4=None), "expected a `float`"),
    ("generate", edit(GEN, _5=0), "minimum"),
    ("generate", edit(GEN, _5=10**6), "maximum"),
    ("generate", edit(GEN, _5=2.5), "whole number"),
    ("generate", edit(GEN, _6=-1.0), "minimum"),
    ("generate", edit(GEN, _6=INF), "maximum"),
    ("generate", edit(GEN, _7=3), "start step"),
    ("generate", edit(GEN, _7=-1), "minimum"),
    ("generate", edit(GEN, _8="1, 2, 3"), "weights for 1 adapters"),
    ("generate", edit(GEN, _8="nan"), "finite"),
    ("generate", edit(GEN, _8="1e999"), "finite"),
    ("generate", edit(GEN, _8="one"), "must be a number"),
    ("generate", edit(GEN, _8="9"), "between -5 and 5"),
    ("generate", edit(GEN, _9="warp-drive"), "not in the list of choices"),
    ("generate", edit(GEN, _9=7), "not in the list of choices"),
    ("generate", edit(GEN, _10="yes"), "plant feet must be true or false"),
    ("generate", edit(GEN, _10=[1]), "plant feet must be true or false"),
    # ---- generate: wrong arity
    ("generate", GEN[:3], "needed"),
    ("generate", [], "needed"),
    # ---- sweep
    ("sweep", edit(SWEEP, _1="../x"), "invalid adapter name"),
    ("sweep", edit(SWEEP, _1="nope"), "unknown adapter"),
    ("sweep", edit(SWEEP, _1=""), "choose an adapter"),
    ("sweep", edit(SWEEP, _2="0, nan"), "finite"),
    ("sweep", edit(SWEEP, _2="0, 99"), "between -5 and 5"),
    ("sweep", edit(SWEEP, _2=", ".join(["0"] * 50)), "at most 9"),
    ("sweep", edit(SWEEP, _2="x" * 100_000), "must be a number"),
    ("sweep", edit(SWEEP, _0=""), "empty"),
    ("sweep", edit(SWEEP, _3=NAN), "finite"),
    ("sweep", edit(SWEEP, _5=500), "maximum"),
    ("sweep", edit(SWEEP, _6="nope"), "not in the list of choices"),
    # ---- train
    ("train", edit(TRAIN, _0=""), "empty"),
    ("train", edit(TRAIN, _0="../../evil"), "letters"),
    ("train", edit(TRAIN, _0="/etc/passwd"), "letters"),
    ("train", edit(TRAIN, _0="kick" * 1000), "too long"),
    ("train", edit(TRAIN, _0="踢腿"), "letters"),
    ("train", edit(TRAIN, _1="everything"), "not in the list of choices"),
    ("train", edit(TRAIN, _2=0), "minimum"),
    ("train", edit(TRAIN, _2=10_000), "maximum"),
    ("train", edit(TRAIN, _3=NAN), "finite"),
    ("train", edit(TRAIN, _4=NAN), "finite"),
    ("train", edit(TRAIN, _4=-1e-3), "learning rate"),
    ("train", edit(TRAIN, _4="fast"), "learning rate"),
    ("train", edit(TRAIN, _5=10**9), "maximum"),
    ("train", edit(TRAIN, _5=2.5), "whole number"),
    ("train", edit(TRAIN, _6=NAN), "finite"),
    ("train", edit(TRAIN, _6=99.0), "maximum"),
    ("train", edit(TRAIN, _8=-1.0), "minimum"),
    ("train", edit(TRAIN, _7="\n".join(f"walk {i}" for i in range(1000))), "retain prompts: at most"),
    ("train", edit(TRAIN, _9="\n".join(f"kick {i}" for i in range(1000))), "extra prompts: at most"),
    ("train", edit(TRAIN, _10=0), "minimum"),
    ("train", edit(TRAIN, _11=100.0), "maximum"),
    ("train", edit(TRAIN, _15=99), "maximum"),
    ("train", edit(TRAIN, _15=1.5), "whole number"),
    ("train", TRAIN[:5], "needed"),
    # ---- evaluate
    ("evaluate", edit(EVAL, _0="../../etc"), "invalid adapter name"),
    ("evaluate", edit(EVAL, _0="nope"), "unknown adapter"),
    ("evaluate", edit(EVAL, _0=None), "choose an adapter"),
    ("evaluate", edit(EVAL, _1=0), "minimum"),
    ("evaluate", edit(EVAL, _3=NAN), "finite"),
    ("evaluate", edit(EVAL, _4=10**6), "maximum"),
]


def error_message(url: str, api: str, data: list) -> str:
    """POST raw JSON; return the error event's message ('' when the call succeeded)."""
    body = json.dumps({"data": data})  # Python writes NaN / Infinity, as a JavaScript client may
    r = httpx.post(f"{url}gradio_api/call/{api}", content=body, headers={"Content-Type": "application/json"}, timeout=30)
    if r.status_code != 200:
        return f"HTTP {r.status_code}: {r.text}"
    stream = httpx.get(f"{url}gradio_api/call/{api}/{r.json()['event_id']}", timeout=120).text
    if "event: error" not in stream:
        return ""
    payload = stream.split("event: error", 1)[1].split("data:", 1)[1].strip().splitlines()[0]
    return payload


@pytest.fixture(scope="module")
def app(tiny_root, tmp_path_factory):
    """The app with one tiny kick adapter; yields (url, tmp, files of the repo and tmp before the calls)."""
    import threading

    from motion_lora.unlearning.unlearn import UnlearnConfig

    tmp = tmp_path_factory.mktemp("bad_input")
    root = copy_without_adapters(tiny_root, tmp / "checkpoints")
    with running_app(root, tmp, tmp / "user", MOTION_LORA_MAX_ITERATIONS="500") as (url, lab, _demo):
        cfg = UnlearnConfig(concept="kick", iterations=2, batch_size=1, frames=40, rollout_steps=2, paraphrases=2)
        assert lab.unlearn(cfg, threading.Event()) is not None
        yield url, tmp, (repo_snapshot(REPO), files_under(root))


def test_there_are_at_least_fifty_cases():
    assert len(CASES) >= 50


@pytest.mark.parametrize("api, data, phrase", CASES, ids=[f"{i:02d}-{c[0]}-{c[2][:20]}" for i, c in enumerate(CASES)])
def test_malformed_request_gets_a_clear_error(app, api, data, phrase):
    url, _, _ = app
    message = error_message(url, api, data)
    assert message, f"{api} accepted {str(data)[:200]}"
    assert phrase.lower() in message.lower(), message[:500]
    assert "Traceback" not in message and len(message) < 2000


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"{not json", "application/json"),
        (b'{"data": "a string, not a list"}', "application/json"),
        (b'{"nodata": []}', "application/json"),
        (b"\xff\xfe\x00garbage", "application/octet-stream"),
        (b"[" * 100_000, "application/json"),
    ],
)
def test_malformed_bodies_are_rejected(app, body, content_type):
    url, _, _ = app
    r = httpx.post(f"{url}gradio_api/call/generate", content=body, headers={"Content-Type": content_type}, timeout=30)
    if r.status_code == 200:  # accepted for processing: the stream must then carry an error
        stream = httpx.get(f"{url}gradio_api/call/generate/{r.json()['event_id']}", timeout=60).text
        assert "event: error" in stream
    else:
        assert 400 <= r.status_code < 500, (r.status_code, r.text[:300])


@pytest.mark.parametrize("name", ["../../evil.txt", "/etc/cron.d/evil", "..\\evil.txt", "a" * 300 + ".txt", "évil 😈.npy"])
def test_malformed_uploads_stay_in_gradios_temp_folder(app, name):
    url, tmp, _ = app
    r = httpx.post(f"{url}gradio_api/upload", files={"files": (name, b"\x00not a motion" * 100, "application/octet-stream")}, timeout=30)
    if r.status_code == 200:
        for path in r.json():
            assert Path(path).resolve().is_relative_to((tmp / "gradio").resolve()), path
    else:
        assert 400 <= r.status_code < 500
    # a server path smuggled in as an uploaded file is refused, never read
    message = error_message(url, "generate", edit(GEN, _1=[{"path": "/etc/passwd", "meta": {"_type": "gradio.FileData"}}]))
    assert "not uploaded by a user" in message


def test_server_still_serves_and_wrote_nothing_outside_its_folders(app):
    url, tmp, (repo_before, root_before) = app
    r = httpx.post(f"{url}gradio_api/call/generate", json={"data": GEN}, timeout=30)
    stream = httpx.get(f"{url}gradio_api/call/generate/{r.json()['event_id']}", timeout=120).text
    assert "event: complete" in stream
    assert repo_snapshot(REPO) == repo_before  # the project's own files (never a venv inside the clone): none added, changed or removed
    assert files_under(tmp / "checkpoints") == root_before  # nor in the checkpoint root the app serves
    gradio_temp = (tmp / "gradio").resolve()
    assert not [p for p in tmp.parent.rglob("*evil*") if not p.resolve().is_relative_to(gradio_temp)]
    user = tmp / "user" / "t2m"
    assert sorted(p.name for p in user.iterdir()) == ["tiny_base_LoRA_kick"]


# ---------------------------------------------------------------------------------------------- security


def test_only_generated_files_are_served(app):
    """Gradio serves its own cache (the download files of answered requests) and nothing else: not the
    repo, not the checkpoints, not system files, however the path is spelled."""
    url, tmp, _ = app
    r = httpx.post(f"{url}gradio_api/call/generate", json={"data": GEN}, timeout=30)
    stream = httpx.get(f"{url}gradio_api/call/generate/{r.json()['event_id']}", timeout=120).text
    served = json.loads(stream.split("event: complete", 1)[1].split("data:", 1)[1].strip().splitlines()[0])[3][0]["url"]
    assert httpx.get(served, timeout=30).status_code == 200  # the positive control
    for path in [REPO / "app.py", REPO / "checkpoints" / "evaluator" / "config.json", Path("/etc/passwd"), tmp / "user" / "t2m" / "tiny_base_LoRA_kick" / "adapter.json"]:
        for spelled in (str(path), str(path).replace("/", "%2F"), f"{tmp}/gradio/../../../../..{path}"):
            r = httpx.get(f"{url}gradio_api/file={spelled}", timeout=30)
            assert r.status_code in (403, 404), (spelled, r.status_code)


def test_checkpoints_never_unpickle():
    """Weights load through safetensors; the few torch.load calls (training state, latest.tar) pass
    weights_only=True; nothing imports pickle or enables allow_pickle."""
    import ast

    for path in sorted((REPO / "motion_lora").rglob("*.py")) + [REPO / "app.py"]:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not any(n.split(".")[0] in ("pickle", "dill", "joblib") for n in names), path
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                kwargs = {k.arg: k.value for k in node.keywords}
                if node.func.attr == "load" and getattr(node.func.value, "id", "") == "torch":
                    assert isinstance(kwargs.get("weights_only"), ast.Constant) and kwargs["weights_only"].value is True, f"{path}:{node.lineno}"
                if node.func.attr == "load" and getattr(node.func.value, "id", "") == "np":
                    assert not (isinstance(kwargs.get("allow_pickle"), ast.Constant) and kwargs["allow_pickle"].value), f"{path}:{node.lineno}"
