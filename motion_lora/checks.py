"""One check for the numbers users and callers hand the library (configs, CLI values, app fields, settings).

Every layer imports it; it imports nothing from the package, so it sits below the stage order.
"""

from __future__ import annotations

import math


def check_number(value: object, name: str, *, low: float | None = None, high: float | None = None,
                 whole: bool = False, above: float | None = None) -> float | int:
    """`value` as a finite number (an int when `whole`), or a ValueError that names `name` and says what is allowed.

    A bool is not a number here (True would pass as 1); `low`/`high` are inclusive bounds, `above` an exclusive one.
    Whole numbers given as floats (3.0, what JSON and sliders send) are accepted and returned as int.
    """
    kind = "a whole number" if whole else "a finite number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be {kind}{_range(low, high, above)}, got {value!r}")
    if whole:
        if int(value) != value:
            raise ValueError(f"{name} must be {kind}{_range(low, high, above)}, got {value!r}")
        value = int(value)
    if (low is not None and value < low) or (high is not None and value > high) or (above is not None and value <= above):
        raise ValueError(f"{name} must be {kind}{_range(low, high, above)}, got {value!r}")
    return value


def _range(low: float | None, high: float | None, above: float | None) -> str:
    if above is not None:
        return f" > {above:g}" + (f" and <= {high:g}" if high is not None else "")
    if low is not None and high is not None:
        return f" between {low:g} and {high:g}"
    if low is not None:
        return f" >= {low:g}"
    if high is not None:
        return f" <= {high:g}"
    return ""
