"""Writing a figure: self-contained HTML, or PNG through kaleido 1.x and a Chrome/Chromium it never downloads.

Kaleido (through choreographer) takes the browser from the BROWSER_PATH environment variable, else searches
PATH for chrome/chromium names and a few typical install paths. `save` sets BROWSER_PATH to the first
Chromium/Chrome it finds when the variable is unset; without one it raises RuntimeError."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import plotly.graph_objects as go

SUPPORTED_OUTPUTS = (".html", ".png")

# Browsers kaleido can drive, in the order we look for them when BROWSER_PATH is unset.
BROWSER_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "google-chrome-stable",
                      "chrome")


def check_output(path: str | os.PathLike) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in SUPPORTED_OUTPUTS:
        raise ValueError(f"unsupported output {os.fspath(path)!r}: "
                         f"the file name must end in {' or '.join(SUPPORTED_OUTPUTS)}")
    return suffix


def find_browser() -> str | None:
    """The Chrome/Chromium kaleido will use: $BROWSER_PATH if set, else the first candidate found."""
    if os.environ.get("BROWSER_PATH"):
        return os.environ["BROWSER_PATH"]
    for candidate in BROWSER_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def save(fig: go.Figure, path: str | os.PathLike) -> Path:
    """Write `fig` to `.html` (self-contained, plotly.js embedded) or `.png` (kaleido + Chromium)."""
    suffix = check_output(path)
    path = Path(path)
    if path.parent and not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".html":
        fig.write_html(path, include_plotlyjs=True, full_html=True, auto_play=False)
        return path

    browser = find_browser()
    if browser is None or not Path(browser).is_file():
        raise RuntimeError(
            "PNG export needs a Chrome/Chromium browser for kaleido and none was found "
            f"(looked for BROWSER_PATH, then {', '.join(BROWSER_CANDIDATES)}). Install chromium "
            "(e.g. `apt-get install chromium`) or set BROWSER_PATH to its executable; or write .html instead."
        )
    os.environ.setdefault("BROWSER_PATH", browser)  # what choreographer, under kaleido, reads first
    try:
        image = fig.to_image(format="png")
    except Exception as err:  # kaleido/choreographer failures surface as assorted exception types
        raise RuntimeError(f"PNG export with kaleido via {browser} failed: {err}") from err
    path.write_bytes(image)
    return path
