"""The README and docs/ stay a project people can pick up: every relative link and image resolves to a file in the
repository (and every #anchor to a heading of its page), the README stays short, and nothing in the code or docs
points outside the repository."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README_MAX_BYTES = 12_000
# Files outside the repository that code and docs once cited (spelt in two parts so this file does not cite them).
OUTSIDE_REFERENCES = ("DESIGN" ".md", ".." "/shared")
# Phrases of superseded history that the docs dropped (git keeps the old figures).
HISTORY_PHRASES = ("previous base", "MotionBank v2", "not been re-run", "not re-run", "earlier default", "last session")
SKIP_DIRS = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules"}
TOP_LEVEL_SKIP = {"data", "runs", "out", "test-artifacts"}  # ignored folders of built data and results (.gitignore)

LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
HTML_SRC = re.compile(r"<(?:img|a)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")


def doc_pages() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def strip_code(text: str) -> str:
    """Markdown without fenced blocks and inline code, where brackets and parentheses are not links."""
    return INLINE_CODE.sub("", FENCE.sub("", text))


def links(text: str) -> list[str]:
    """Every link and image target of a Markdown text (inline, reference-style and HTML src/href)."""
    body = strip_code(text)
    return [*LINK.findall(body), *REFERENCE_LINK.findall(body), *HTML_SRC.findall(body)]


def is_external(target: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target)) or target.startswith("//")


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|<[^>]+>", "", heading).strip().lower()
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", FENCE.sub("", text), re.MULTILINE):
        base = slug(heading)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.add(base if n == 0 else f"{base}-{n}")
    return out


def broken_links(page: Path, text: str | None = None) -> list[str]:
    """The relative links of a page (its text, or `text` read as if it were that page) that do not resolve."""
    text = page.read_text(encoding="utf-8") if text is None else text
    bad = []
    for target in links(text):
        if is_external(target):
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page.resolve()
        try:
            resolved.relative_to(REPO)
        except ValueError:
            bad.append(f"{target} (outside the repository)")
            continue
        if not resolved.is_file():
            bad.append(f"{target} (no such file)")
            continue
        if anchor and resolved.suffix == ".md":
            own = text if resolved == page.resolve() else resolved.read_text(encoding="utf-8")
            if anchor.lower() not in anchors(own):
                bad.append(f"{target} (no heading #{anchor})")
    return bad


def project_files() -> list[Path]:
    """The repository's own .py/.md/.js files: tracked and untracked-but-not-ignored (git), else a walk."""
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                                capture_output=True, check=True).stdout.decode()
        files = [REPO / rel for rel in filter(None, listed.split("\0"))]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for folder, dirs, names in os.walk(REPO):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not (Path(folder) == REPO and d in TOP_LEVEL_SKIP)]
            files += [Path(folder) / n for n in names]
    return [f for f in files if f.suffix in {".py", ".md", ".js"} and f.is_file()
            and not SKIP_DIRS.intersection(f.relative_to(REPO).parts[:-1])]


def test_the_docs_exist():
    assert (REPO / "docs" / "index.md").is_file()
    assert len(doc_pages()) >= 7, [p.name for p in doc_pages()]


@pytest.mark.parametrize("page", doc_pages(), ids=lambda p: str(p.relative_to(REPO)))
def test_relative_links_resolve(page):
    assert broken_links(page) == []


def test_every_docs_page_is_reachable_from_the_index():
    targets = {(REPO / "docs" / t.partition("#")[0]).resolve() for t in links((REPO / "docs" / "index.md").read_text())}
    missing = [p.name for p in doc_pages()[1:] if p.name != "index.md" and p.resolve() not in targets]
    assert missing == []


def test_readme_is_short_and_keeps_the_spaces_header():
    raw = (REPO / "README.md").read_bytes()
    assert len(raw) <= README_MAX_BYTES, f"README.md is {len(raw)} bytes; move detail to docs/"
    header = raw.decode().split("---\n")[1]
    for line in ("sdk: gradio", "app_file: app.py", 'python_version: "3.11"'):
        assert line in header.splitlines()
    assert "![" in raw.decode(), "the README shows a picture of the app"


def test_no_reference_outside_the_repository():
    hits = [f"{f.relative_to(REPO)}:{n}: {ref}" for f in project_files()
            for n, line in enumerate(f.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
            for ref in OUTSIDE_REFERENCES if ref in line]
    assert hits == []


def test_docs_hold_current_figures_only():
    hits = [f"{p.name}: {phrase}" for p in doc_pages() for phrase in HISTORY_PHRASES
            if phrase.lower() in p.read_text(encoding="utf-8").lower()]
    assert hits == []


def test_the_checks_catch_a_broken_page():
    """The link check itself: a missing file, an escape from the repository and an unknown anchor are caught, while
    links inside code and external ones are not checked."""
    page = REPO / "docs" / "index.md"
    text = ("# Title\n[a](missing.md) ![b](../../outside.png) [c](format.md#no-such-heading) [d](#title)\n"
            "`[e](nowhere.md)` [f](https://example.org/x.md)\n```\n[g](nowhere.md)\n```\n")
    assert broken_links(page, text) == ["missing.md (no such file)", "../../outside.png (outside the repository)",
                                        "format.md#no-such-heading (no heading #no-such-heading)"]
