"""Shared fixtures. The hub variables are read once at import, so they are set before anything imports
transformers, peft or huggingface_hub: the tests never touch the network."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import contextlib  # noqa: E402
import socket  # noqa: E402

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def quick_bank(tmp_path_factory):
    """A small MotionBank build (the builder's --quick mode), shared by the tests that read data."""
    from motion_lora.data.builder import QUICK, build

    root = tmp_path_factory.mktemp("motionbank")
    summary = build(root, QUICK, log=lambda *_: None)
    return root, summary


from motion_lora.model.denoiser import DenoiserConfig  # noqa: E402

TINY_DENOISER = DenoiserConfig(d_model=48, n_layers=2, n_heads=2, dropout=0.0)


def filled_denoiser(cfg: DenoiserConfig, seed: int = 0):
    """A random denoiser whose zero-initialised layers are filled too, so every parameter matters (invariant tests)."""
    import torch

    from motion_lora.model.denoiser import MotionDenoiser

    torch.manual_seed(seed)
    model = MotionDenoiser(cfg)
    with torch.no_grad():
        for p in model.parameters():
            if p.abs().sum() == 0 and p.dim() > 1:
                p.normal_(0, 0.05)
    return model.eval()


@pytest.fixture(scope="session")
def tiny_root(quick_bank, tmp_path_factory):
    """A checkpoint root with a tiny base model (t2m/tiny_base) and a tiny evaluator trained on the quick
    MotionBank: the real training code, seconds of CPU. Point MOTION_LORA_CHECKPOINTS at it to use it."""
    from motion_lora.evaluation import evaluator as evaluator_cli
    from motion_lora.model.pretrain import TrainConfig, pretrain

    data, _ = quick_bank
    root = tmp_path_factory.mktemp("checkpoints")
    pretrain(data, root / "t2m" / "tiny_base", TINY_DENOISER, TrainConfig(steps=60, batch_size=16, lr=1e-3, warmup=5, ckpt_every=30), device="cpu", log=lambda *_: None)
    small = evaluator_cli.EvaluatorConfig(hidden=32, embed_dim=32, layers=1, heads=2)
    evaluator_cli.main(["--data", str(data), "--out", str(root / "evaluator"), "--steps", "30", "--batch-size", "16"], config=small)
    return root


def use_checkpoint_root(monkeypatch, root):
    """`root` as the process's checkpoint root, with no Hub fallback."""
    monkeypatch.setenv("MOTION_LORA_CHECKPOINTS", str(root))
    monkeypatch.delenv("MOTION_LORA_HUB_REPO", raising=False)
    return root


@pytest.fixture
def checkpoints(tiny_root, monkeypatch):
    """The tiny checkpoints as the process's checkpoint root."""
    return use_checkpoint_root(monkeypatch, tiny_root)


def copy_without_adapters(tiny_root, root):
    """root/t2m/tiny_base and root/evaluator copied from tiny_root: a checkpoint root with no adapters,
    for tests that count adapters (other tests add theirs to tiny_root)."""
    import shutil

    shutil.copytree(tiny_root / "t2m" / "tiny_base", root / "t2m" / "tiny_base")
    shutil.copytree(tiny_root / "evaluator", root / "evaluator")
    return root


def files_under(*roots) -> set[str]:
    """Every file below the roots (caches and test artifacts left out): to prove nothing else was written."""
    skip = {".git", "__pycache__", ".pytest_cache", ".ruff_cache", "test-artifacts"}
    out = set()
    for top in roots:
        for folder, dirs, files in os.walk(top):
            dirs[:] = [d for d in dirs if d not in skip]
            out.update(os.path.join(folder, f) for f in files)
    return out


def repo_snapshot(repo) -> dict[str, tuple[int, int]]:
    """(size, mtime) of the repository's own files — tracked, and untracked but not ignored — by relative path.
    Never looks inside ignored folders such as a virtual environment in the clone (Gradio writes there on its
    first launch) or caches: to prove the app wrote, changed or deleted nothing of the project."""
    import subprocess

    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=repo, capture_output=True, check=True).stdout
    out = {}
    for rel in filter(None, listed.decode().split("\0")):
        path = os.path.join(repo, rel)
        if os.path.isfile(path):
            st = os.stat(path)
            out[rel] = (st.st_size, st.st_mtime_ns)
    return out


@pytest.fixture
def private_root(tiny_root, tmp_path, monkeypatch):
    """copy_without_adapters as the process's checkpoint root."""
    root = copy_without_adapters(tiny_root, tmp_path / "checkpoints")
    monkeypatch.setenv("MOTION_LORA_CHECKPOINTS", str(root))
    monkeypatch.delenv("MOTION_LORA_HUB_REPO", raising=False)
    return root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(tiny_root, tmp, user, **env):
    """The real app (app.build_demo over a MotionLab on the tiny checkpoints) served on a free port.

    Yields (url, lab, demo). Environment: the tiny checkpoint root, no Hub, outputs under `tmp`, plus `env`."""
    mp = pytest.MonkeyPatch()
    mp.setenv("MOTION_LORA_CHECKPOINTS", str(tiny_root))
    mp.delenv("MOTION_LORA_HUB_REPO", raising=False)
    mp.setenv("MOTION_LORA_OUTPUT_DIR", str(tmp / "outputs"))
    mp.setenv("GRADIO_TEMP_DIR", str(tmp / "gradio"))
    for key, value in env.items():
        mp.setenv(key, value)
    import app
    from motion_lora.serving.service import MotionLab

    lab = MotionLab(base="tiny_base", user_dir=user)
    demo = app.build_demo(lab)
    port = free_port()
    demo.queue().launch(prevent_thread_lock=True, server_port=port, quiet=True, **app.launch_options())
    try:
        yield f"http://127.0.0.1:{port}/", lab, demo
    finally:
        demo.close()
        mp.undo()


@pytest.fixture
def lab(private_root, tmp_path):
    """A lab on the tiny base with a private checkpoint root and its own visitors' folder (a test file may
    define its own `lab`, which wins)."""
    from motion_lora.serving.service import MotionLab

    return MotionLab(base="tiny_base", user_dir=tmp_path / "user")


def compare_works(lab, adapter: str = "kick") -> None:
    """One small side-by-side with `adapter` runs and gives joints."""
    c = lab.compare("a person kicks", [adapter], frames=20, steps=2)
    assert c.steered_joints.shape == (20, 22, 3)
