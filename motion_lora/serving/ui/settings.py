"""Deployment limits read from the environment: training iterations and queue size, training off, login."""

from __future__ import annotations

import os

DEFAULT_MAX_ITERATIONS = 1000
DEFAULT_MAX_QUEUED_TRAININGS = 4  # trainings waiting or running at once (one per visitor)


def max_iterations() -> int:
    raw = os.environ.get("MOTION_LORA_MAX_ITERATIONS", "")
    try:
        return max(1, int(raw)) if raw.strip() else DEFAULT_MAX_ITERATIONS
    except ValueError:
        return DEFAULT_MAX_ITERATIONS


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def training_disabled() -> bool:
    return env_flag("MOTION_LORA_DISABLE_TRAINING")


def login_required() -> bool:
    """MOTION_LORA_REQUIRE_LOGIN=1: training and deleting need a Hugging Face login (gr.LoginButton)."""
    return env_flag("MOTION_LORA_REQUIRE_LOGIN")


def max_queued_trainings() -> int:
    raw = os.environ.get("MOTION_LORA_MAX_QUEUED_TRAININGS", "")
    try:
        return max(1, int(raw)) if raw.strip() else DEFAULT_MAX_QUEUED_TRAININGS
    except ValueError:
        return DEFAULT_MAX_QUEUED_TRAININGS
