"""The HumanML3D text format: one 'caption#word/TAG ...#start#end' line per caption, written and parsed."""

from __future__ import annotations

import math

from .pos import pos_tag


def format_text_line(caption: str, start: float = 0.0, end: float = 0.0) -> str:
    """One HumanML3D texts/*.txt line: 'caption#word/TAG ...#start#end' (0.0, 0.0 means the whole clip)."""
    if "#" in caption or "\n" in caption or not caption.strip():
        raise ValueError(f"caption must be non-empty without '#' or newlines: {caption!r}")
    return f"{caption.strip()}#{pos_tag(caption)}#{float(start)}#{float(end)}"


def _parse_time(text: str, line: str) -> float:
    text = text.strip()
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"bad start/end {text!r} in text line: {line!r}") from None
    # Real HumanML3D files contain 'nan' for some clips; like 0.0 it means "the whole clip".
    return 0.0 if math.isnan(value) else value


def parse_text_line(line: str) -> tuple[str, str, float, float]:
    """Inverse of `format_text_line`: (caption, tokens, start, end).

    Tolerates what real HumanML3D files contain: a missing tokens part ('caption#start#end' or just
    'caption'), empty tokens, NaN or empty start/end (read as 0.0). Raises ValueError naming the line otherwise.
    """
    stripped = line.strip()
    parts = stripped.split("#")
    if not stripped or not parts[0].strip():
        raise ValueError(f"empty caption in text line: {line!r}")
    if len(parts) == 1:
        caption, tokens, start, end = parts[0], "", "", ""
    elif len(parts) == 2:
        caption, tokens, start, end = parts[0], parts[1], "", ""
    elif len(parts) == 3:
        caption, tokens, (start, end) = parts[0], "", parts[1:]
    elif len(parts) == 4:
        caption, tokens, start, end = parts
    else:
        raise ValueError(f"too many '#' fields ({len(parts)}) in text line: {line!r}")
    start_s, end_s = _parse_time(start, line), _parse_time(end, line)
    if math.isinf(start_s) or math.isinf(end_s) or start_s < 0 or (end_s != 0.0 and end_s < start_s):
        raise ValueError(f"bad time span [{start_s}, {end_s}] in text line: {line!r}")
    return caption.strip(), tokens.strip(), start_s, end_s
