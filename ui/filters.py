"""The chat's filter picks (articles, outlets, date range), kept with each answer of the conversation.

No gradio here. They become the retrieval filter through :meth:`assistant.chain.Assistant.filters`, the one path
the CLI's ``--source/--outlet/--from/--to`` flags and the ``/ask`` API take too (it checks dates and names).

>>> FilterChoice.from_inputs(None, ["Riau24"], " 2022-09-01 ", "").describe()
'outlet Riau24 · from 2022-09-01'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.chain import Assistant
from assistant.library import FileRecord
from assistant.retrieval import Filters

__all__ = ["FilterChoice", "outlets_of", "sources_of"]


def _many(values: Sequence[str] | str | None) -> tuple[str, ...]:
    items = [values] if isinstance(values, str) else list(values or [])
    return tuple(dict.fromkeys(str(x).strip() for x in items if str(x).strip()))


def _one(value: Any) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


@dataclass(frozen=True)
class FilterChoice:
    """What the user picked in the chat settings (empty = no filter), as typed; checked by :meth:`to_filters`."""

    sources: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    @classmethod
    def from_inputs(cls, sources: Sequence[str] | str | None, outlets: Sequence[str] | str | None,
                    date_from: Any, date_to: Any) -> FilterChoice:
        """From the settings controls (or a stored entry): names stripped and deduplicated, empty dates dropped."""
        return cls(_many(sources), _many(outlets), _one(date_from), _one(date_to))

    @classmethod
    def from_dict(cls, data: Any) -> FilterChoice:
        """From a stored history entry; anything malformed means no filter."""
        if not isinstance(data, dict):
            return cls()
        try:
            return cls.from_inputs(data.get("sources"), data.get("outlets"), data.get("date_from"),
                                   data.get("date_to"))
        except TypeError:
            return cls()

    def as_dict(self) -> dict[str, Any]:
        return {"sources": list(self.sources), "outlets": list(self.outlets), "date_from": self.date_from,
                "date_to": self.date_to}

    def __bool__(self) -> bool:
        return bool(self.sources or self.outlets or self.date_from or self.date_to)

    def describe(self) -> str:
        """One line for the chat: what the answer was limited to ('' without a filter)."""
        parts = []
        if self.sources:
            parts.append(("article " if len(self.sources) == 1 else "articles ") + ", ".join(self.sources))
        if self.outlets:
            parts.append(("outlet " if len(self.outlets) == 1 else "outlets ") + ", ".join(self.outlets))
        if self.date_from:
            parts.append(f"from {self.date_from}")
        if self.date_to:
            parts.append(f"to {self.date_to}")
        return " · ".join(parts)

    def to_filters(self, assistant: Assistant) -> Filters:
        """The retrieval filter, checked against the current index (:class:`BadInput` for a bad date, an unknown
        article or outlet, or picks that leave no article)."""
        return assistant.filters(self.sources, self.outlets, self.date_from, self.date_to)


def sources_of(files: Iterable[FileRecord]) -> list[str]:
    """The article choices of the filter (indexed files that are not duplicates of another)."""
    return [f.source for f in files if not f.duplicate_of]


def outlets_of(files: Iterable[FileRecord]) -> list[str]:
    """The distinct outlets of the indexed articles (one spelling per outlet, whatever the case), sorted."""
    found: dict[str, str] = {}
    for f in files:
        name = str((f.meta or {}).get("outlet") or "").strip()
        if name:
            found.setdefault(name.casefold(), name)
    return sorted(found.values(), key=str.casefold)
