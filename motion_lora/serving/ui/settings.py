"""Deployment limits read from the environment: training iterations and queue size, training off, login, sessions kept."""

from __future__ import annotations

import os

DEFAULT_MAX_ITERATIONS = 1000
DEFAULT_MAX_QUEUED_TRAININGS = 4  # trainings waiting or running at once (one per visitor)
# Gradio keeps every session's last inputs and outputs (its player page, its gr.State) until that many newer sessions
# pushed it out: ~0.35 MB a session, and Gradio's own limit of 10,000 sessions would let that grow to gigabytes.
DEFAULT_MAX_SESSIONS = 100


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


def max_sessions() -> int:
    """MOTION_LORA_MAX_SESSIONS: how many visitors' sessions Gradio keeps in memory, least recently used dropped first
    (a dropped visitor's next click starts a fresh session; only the video of their last comparison is lost)."""
    raw = os.environ.get("MOTION_LORA_MAX_SESSIONS", "")
    try:
        return max(1, int(raw)) if raw.strip() else DEFAULT_MAX_SESSIONS
    except ValueError:
        return DEFAULT_MAX_SESSIONS
