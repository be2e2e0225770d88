"""Parsing UI values (the API accepts the same plain values): numbers, lists, flags, scheduler names, lines."""

from __future__ import annotations

import reprlib

from ...checks import check_number


def number(value, name: str, lo: float, hi: float, whole: bool = False) -> float | int:
    """A finite number in [lo, hi] (whole if asked) from a UI / API value (text is parsed), else a ValueError naming it."""
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise ValueError(f"{name} must be a number, got {reprlib.repr(value)}") from None
    if not isinstance(value, (int, float)):  # an API caller may send anything: shown shortened, never echoed whole
        raise ValueError(f"{name} must be a finite number, got {reprlib.repr(value)}")
    check_number(value, name)  # a NaN or an infinity is named as such, before the bounds or wholeness
    checked = check_number(value, name, low=lo, high=hi, whole=whole)
    return checked if whole else float(checked)


def number_list(text, name: str, lo: float, hi: float, max_items: int = 9) -> list[float]:
    """'-0.5, 0, 1' (or a list of numbers) -> [-0.5, 0.0, 1.0]; an empty text gives []."""
    if text is None:
        return []
    items = text if isinstance(text, (list, tuple)) else [t for t in str(text).replace(";", ",").split(",") if t.strip()]
    if len(items) > max_items:
        raise ValueError(f"give at most {max_items} {name}, got {len(items)}")
    return [number(v, f"each of the {name}", lo, hi) for v in items]


def adapter_list(value) -> list[str]:
    """Dropdown value(s) -> a list of adapter names (a comma-separated string is accepted too)."""
    if value is None:
        return []
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"adapters must be a list of names, got {type(value).__name__}")
    out = []
    for v in value:
        if not isinstance(v, str):
            raise ValueError(f"an adapter name must be text, got {reprlib.repr(v)}")
        if v.strip():
            out.append(v.strip())
    return out


def flag(value, name: str) -> bool:
    """A checkbox value from the UI / API: True or False (None, from an API call before the input existed, is True)."""
    if value is None:
        return True
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false, got {reprlib.repr(value)}")
    return value


def scheduler(value) -> str:
    """A scheduler name from the dropdown / API (one of motion_lora.model.sampler.SCHEDULERS), else a ValueError."""
    from ...model.sampler import DEFAULT_SCHEDULER, SCHEDULERS, check_scheduler

    if value is None or value == "":  # an API call from before the scheduler input existed
        return DEFAULT_SCHEDULER
    if not isinstance(value, str) or len(value) > 40:
        raise ValueError(f"scheduler must be one of {', '.join(SCHEDULERS)}; got {reprlib.repr(value)}")
    return check_scheduler(value)


def lines(text, name: str, max_items: int = 32) -> tuple[str, ...]:
    """Distinct non-empty lines of a text box (prompts, one per line)."""
    if not text:
        return ()
    if not isinstance(text, str):
        raise ValueError(f"{name} must be text, one prompt per line")
    out = tuple(dict.fromkeys(t.strip() for t in text.splitlines() if t.strip()))
    if len(out) > max_items:
        raise ValueError(f"{name}: at most {max_items} distinct lines, got {len(out)}")
    return out
