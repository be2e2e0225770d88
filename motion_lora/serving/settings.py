"""The app's environment switches: every `MOTION_LORA_*` variable, its type, default and bounds, read by one parser.

An unset or empty variable means its default. Any other value must parse, or it is a ValueError that names the
variable and what it accepts: `read_all` checks every switch at once, and the app calls it before it loads
anything, so a typo stops the start with that message instead of being ignored. docs/app.md lists the same
table (tests/test_settings.py keeps the two in step).

The three path switches (MOTION_LORA_CHECKPOINTS, MOTION_LORA_HUB_REPO, MOTION_LORA_USER_DIR) are also read by
motion_lora.model.checkpoints, which sits below the serving layer; any text is a valid value for them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from ..checks import check_number
from ..model.checkpoints import AUTO_STUDENT, DEFAULT_BASE
from . import memory

DEFAULT_MAX_USER_ADAPTERS = 20
DEFAULT_MAX_USER_MB = 200.0
DEFAULT_MAX_BATCH_ROWS = 32  # motions denoised in one merged batch (a side-by-side is 2, 1 when its base is cached)
# A merged batch takes strength-grid rows (the live slider's) only while it holds fewer rows than this: a lone
# visitor's side-by-side plus its 13-strength grid is 13 rows; a batch of 8 side-by-sides (16 rows) gets no grid.
DEFAULT_GRID_ROWS = 16
DEFAULT_CACHE_MB = 64.0  # generated motions kept, by size (base ones for the live slider; 0.26 MB per full-length motion)
DEFAULT_TRAINING_NICE = 10  # how much an in-app training lowers its thread's CPU priority (0 = not)
DEFAULT_MAX_ITERATIONS = 1000
DEFAULT_MAX_QUEUED_TRAININGS = 4  # trainings waiting or running at once (one per visitor)
# Gradio keeps every session's last inputs and outputs (its player page, its gr.State) until that many newer sessions
# pushed it out: ~0.35 MB a session, and Gradio's own limit of 10,000 sessions would let that grow to gigabytes.
DEFAULT_MAX_SESSIONS = 100

TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
TEXT, FLAG, WHOLE, NUMBER = "text", "flag", "whole number", "number"


@dataclass(frozen=True, kw_only=True)
class Switch:
    name: str
    kind: str  # TEXT, FLAG, WHOLE or NUMBER
    default: object  # the value when unset; None = the library decides (see `effect`)
    low: float | None = None  # inclusive bound of a number
    above: float | None = None  # exclusive lower bound of a number
    high: float | None = None  # inclusive upper bound of a number
    effect: str = ""


SWITCHES: dict[str, Switch] = {s.name: s for s in (
    Switch(name="MOTION_LORA_BASE", kind=TEXT, default=DEFAULT_BASE, effect="the base checkpoint"),
    Switch(name="MOTION_LORA_STUDENT", kind=TEXT, default=AUTO_STUDENT,
           effect="the few-step student serving the default setting: auto = <base>_student when there is one, none = never, or a checkpoint name"),
    Switch(name="MOTION_LORA_CHECKPOINTS", kind=TEXT, default=None, effect="the local checkpoint root (default: checkpoints/)"),
    Switch(name="MOTION_LORA_HUB_REPO", kind=TEXT, default=None, effect="Hub repo to fetch checkpoints from when they are not local"),
    Switch(name="MOTION_LORA_USER_DIR", kind=TEXT, default=None, effect="where visitors' adapters live (checkpoints.user_adapter_root)"),
    Switch(name="MOTION_LORA_MAX_USER_ADAPTERS", kind=WHOLE, default=DEFAULT_MAX_USER_ADAPTERS, low=1, effect="most user adapters kept"),
    Switch(name="MOTION_LORA_MAX_USER_MB", kind=NUMBER, default=DEFAULT_MAX_USER_MB, above=0, effect="most megabytes of user adapters kept"),
    Switch(name="MOTION_LORA_REQUIRE_LOGIN", kind=FLAG, default=False, effect="training and deleting need a Hugging Face login"),
    Switch(name="MOTION_LORA_MAX_QUEUED_TRAININGS", kind=WHOLE, default=DEFAULT_MAX_QUEUED_TRAININGS, low=1,
           effect="trainings waiting or running at once"),
    Switch(name="MOTION_LORA_MAX_ITERATIONS", kind=WHOLE, default=DEFAULT_MAX_ITERATIONS, low=1, effect="most iterations per training"),
    Switch(name="MOTION_LORA_DISABLE_TRAINING", kind=FLAG, default=False, effect="no in-app training at all"),
    Switch(name="MOTION_LORA_MAX_BATCH_ROWS", kind=WHOLE, default=DEFAULT_MAX_BATCH_ROWS, low=2,
           effect="most motions in one merged batch (at least one side-by-side)"),
    Switch(name="MOTION_LORA_GRID_ROWS", kind=WHOLE, default=DEFAULT_GRID_ROWS, low=0,
           effect="rows up to which the live slider's strength grids fill a merged batch (0 = no grids)"),
    Switch(name="MOTION_LORA_CACHE_MB", kind=NUMBER, default=DEFAULT_CACHE_MB, low=0, effect="motion cache budget (0 = no cache)"),
    Switch(name="MOTION_LORA_TRAINING_NICE", kind=WHOLE, default=DEFAULT_TRAINING_NICE, low=0, high=19,
           effect="how much an in-app training lowers its thread's CPU priority (0 = not)"),
    Switch(name="MOTION_LORA_THREADS", kind=WHOLE, default=None, low=1, effect="CPU threads for torch (default: torch's choice)"),
    Switch(name="MOTION_LORA_OUTPUT_DIR", kind=TEXT, default=None, effect="where download files are written (default: the system temp folder)"),
    Switch(name="MOTION_LORA_MAX_SESSIONS", kind=WHOLE, default=DEFAULT_MAX_SESSIONS, low=1, effect="visitors' sessions kept in memory"),
    Switch(name="MOTION_LORA_RELEASE_S", kind=NUMBER, default=memory.DEFAULT_RELEASE_S, low=0,
           effect="at most how often free memory is handed back after a batch (0 = never)"),
)}


def parse(switch: Switch, raw: str | None) -> object:
    """The value of `switch` given the environment's text `raw` (None or blank: the default); a ValueError naming
    the variable when the text is not a value of its kind within its bounds."""
    text = (raw or "").strip()
    if not text:
        return switch.default
    if switch.kind == TEXT:
        return text
    if switch.kind == FLAG:
        if text.lower() not in TRUE_WORDS + FALSE_WORDS:
            raise ValueError(f"{switch.name} must be one of {', '.join(TRUE_WORDS)} (on) or {', '.join(FALSE_WORDS)} (off), got {text!r}")
        return text.lower() in TRUE_WORDS
    try:
        value: object = float(text)
    except ValueError:
        value = text  # check_number rejects it with the variable's name and what it accepts
    number = check_number(value, switch.name, low=switch.low, high=switch.high, above=switch.above, whole=switch.kind == WHOLE)
    return number if switch.kind == WHOLE else float(number)


def setting(name: str, environ: Mapping[str, str] | None = None) -> object:
    """The value of the switch `name` in `environ` (default: the process environment)."""
    env = os.environ if environ is None else environ
    return parse(SWITCHES[name], env.get(name))


def read_all(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Every switch's value; the first bad one is a ValueError naming it (the app calls this before it starts)."""
    return {name: setting(name, environ) for name in SWITCHES}


def apply_thread_setting() -> int | None:
    """MOTION_LORA_THREADS=n: torch uses n CPU threads (the app calls this first). Unset leaves torch's own
    choice (one per core, or OMP_NUM_THREADS); returns the number applied."""
    threads = setting("MOTION_LORA_THREADS")
    if threads is None:
        return None
    torch.set_num_threads(threads)
    return threads
