"""Shared fixtures. The hub variables are read once at import, so they are set before anything imports
transformers, peft or huggingface_hub: the tests never touch the network."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def quick_bank(tmp_path_factory):
    """A small MotionBank build (the builder's --quick mode), shared by the tests that read data."""
    from motion_lora.data.builder import QUICK, build

    root = tmp_path_factory.mktemp("motionbank")
    summary = build(root, QUICK, log=lambda *_: None)
    return root, summary
