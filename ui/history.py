"""The conversation as kept in the browser (``gr.BrowserState``): answers with the filter each was asked under.

Stored as plain JSON so a reload rebuilds the chat, its per-answer sources and the citation picker. What comes
back from the browser is validated; an entry that does not parse is dropped (never an error for the user). The
retrieval trace is kept for the last answer only, and at most :data:`MAX_TURNS` answers are kept.
No gradio here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from assistant.models import Answer, Turn
from ui.filters import FilterChoice

__all__ = ["Entry", "MAX_TURNS", "load", "dump", "turns"]

MAX_TURNS = 30


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
