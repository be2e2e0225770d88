"""Visitors and the adapter pickers: who is asking, and which adapters they are shown."""

from __future__ import annotations

import time

from ..library import SHIPPED, AdapterInfo, NotAllowed
from ..service import MotionLab


def visitor(request, profile=None, require_login: bool = False) -> str:
    """Who is asking: 'hf:<username>' when logged in with Hugging Face, else 'session:<Gradio session>'.
    With require_login, a visitor who is not logged in may not change adapters (NotAllowed)."""
    username = getattr(profile, "username", None) or (profile.get("preferred_username") if isinstance(profile, dict) else None)
    if username:
        return f"hf:{username}"
    if require_login:
        raise NotAllowed("log in with Hugging Face (the button at the top of the page) to train or delete adapters on this server")
    session = getattr(request, "session_hash", None)
    if not session:
        raise NotAllowed("this request has no session; open the app page, or use gradio_client, which keeps one")
    return f"session:{session}"


def made_when(info: AdapterInfo) -> str:
    return "" if info.created is None else time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(info.created))


def adapter_label(info: AdapterInfo, owner: str | None) -> str:
    """'kick · shipped', 'kick-2 · this session, 2026-05-03 14:02 UTC', 'kick-3 · another visitor, …'."""
    by = info.made_by(owner)
    return f"{info.short} · {by}" if info.origin == SHIPPED else f"{info.short} · {by}, {made_when(info)}"


def adapter_choices(lab: MotionLab, owner: str | None) -> list[tuple[str, str]]:
    """(label, short name) for every loaded adapter, as the pickers show them to this visitor."""
    return [(adapter_label(i, owner), i.short) for i in lab.list_adapters()]


def broken_note(lab: MotionLab, limit: int = 160) -> str:
    """'' when every adapter folder loaded, else 'not loaded (broken files): kick-3 (reason); …': what the pickers
    tell visitors about the folders they skip. Each reason is cut to `limit` characters (the server log has it whole)."""
    def short(reason: str) -> str:
        return reason if len(reason) <= limit else reason[: limit - 1] + "…"

    skipped = [f"{folder.name.removeprefix(lab.prefix)} ({short(reason)})" for folder, reason in lab.broken_adapters()]
    return "not loaded (broken files): " + "; ".join(skipped) if skipped else ""


def picker_info(lab: MotionLab, info: str = "") -> str:
    """A picker's help line: its own `info`, then the broken_note when there is one."""
    return " · ".join(part for part in (info, broken_note(lab)) if part)


def own_choices(lab: MotionLab, owner: str | None) -> list[tuple[str, str]]:
    """The adapters this visitor made (the only ones they may retrain or delete)."""
    return [(adapter_label(i, owner), i.short) for i in lab.list_adapters() if i.made_by(owner) == "this session"]
