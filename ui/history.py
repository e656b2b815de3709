"""The conversation as kept in the browser (``gr.BrowserState``): answers with the filter each was asked under.

Stored as plain JSON so a reload rebuilds the chat, its per-answer sources and the citation picker. What comes
back from the browser is validated; an entry that does not parse is dropped (never an error for the user). The
retrieval trace is kept for the last answer only, and at most :data:`MAX_TURNS` answers are kept.
No gradio here.
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from assistant.models import Answer, Turn
from ui.filters import FilterChoice

__all__ = ["Entry", "MAX_TURNS", "load", "dump", "turns", "history_secret", "SECRET_FILE"]

MAX_TURNS = 30
SECRET_FILE = "history-secret"
log = logging.getLogger(__name__)


def history_secret(configured: str | None, index_dir: Path) -> str:
    """The key the browser-kept conversation is encrypted with: ``configured`` (``ASSISTANT_HISTORY_SECRET``) when set;
    else one kept in ``index_dir/history-secret`` (made once, owner-only), so the history a browser holds still opens
    after a server restart; else (a folder this server cannot write) a key for this process only, said in the log."""
    if configured:
        return configured
    path = Path(index_dir) / SECRET_FILE
    try:
        return _read_secret(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("conversation history key unreadable (%s): browser histories last until this server stops", exc)
        return secrets.token_urlsafe(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another server made it meanwhile
            return _read_secret(path)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(secrets.token_urlsafe(32))
    except OSError as exc:
        log.warning("cannot keep the conversation history key in %s (%s): browser histories last until this server "
                    "stops; set ASSISTANT_HISTORY_SECRET to keep them", path.parent, exc)
        return secrets.token_urlsafe(32)
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    text = path.read_text(encoding="ascii").strip()
    if len(text) < 16:
        raise OSError(f"{path} holds no key")
    return text


@dataclass(frozen=True)
class Entry:
    """One answered question of the chat."""

    answer: Answer
    filters: FilterChoice = field(default_factory=FilterChoice)


def load(state: Any) -> list[Entry]:
    """The entries held by the browser state (``[]`` for anything that is not a list of stored entries)."""
    entries: list[Entry] = []
    for item in state if isinstance(state, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            answer = Answer.model_validate(item.get("answer"))
        except ValidationError:
            continue
        entries.append(Entry(answer, FilterChoice.from_dict(item.get("filters"))))
    return entries[-MAX_TURNS:]


def dump(entries: list[Entry]) -> list[dict[str, Any]]:
    """The JSON the browser keeps (the last :data:`MAX_TURNS` entries; traces dropped but for the last)."""
    kept = entries[-MAX_TURNS:]
    out = []
    for i, e in enumerate(kept):
        exclude = None if i == len(kept) - 1 else {"trace"}
        out.append({"answer": e.answer.model_dump(mode="json", exclude=exclude), "filters": e.filters.as_dict()})
    return out


def turns(entries: list[Entry]) -> list[Turn]:
    """The conversation so far, for follow-up rewriting."""
    return [Turn(question=e.answer.question, answer=e.answer.answer) for e in entries]
