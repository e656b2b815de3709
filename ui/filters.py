"""The chat's filter choices (articles, outlets, date range) → the :class:`Filters` the CLI's ``ask`` flags build.

No gradio here. An outlet stands for the indexed articles of that outlet; with articles picked as well, only the
picked articles of those outlets remain.

>>> FilterChoice(outlets=("Riau24",), date_from="2022-09-01").describe()
'outlet Riau24 · from 2022-09-01'
>>> FilterChoice(date_from="1.9.2022").check()
Traceback (most recent call last):
...
assistant.errors.BadInput: date from must look like yyyy-mm-dd (got '1.9.2022')
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.errors import BadInput
from assistant.retrieval import Filters
from index.state import FileRecord

__all__ = ["FilterChoice", "outlets_of", "sources_of"]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value: str | None, name: str) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError
        dt.date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{name} must look like yyyy-mm-dd (got {text[:40]!r})") from None
    return text


@dataclass(frozen=True)
class FilterChoice:
    """What the user picked in the chat settings (empty = no filter); stored with each answer of the history."""

    sources: tuple[str, ...] = ()
    outlets: tuple[str, ...] = ()
    date_from: str | None = None
    date_to: str | None = None

    @classmethod
    def from_inputs(cls, sources: Sequence[str] | str | None, outlets: Sequence[str] | str | None,
                    date_from: str | None, date_to: str | None) -> FilterChoice:
        """From the settings controls, checked (a bad date or an empty range raises :class:`BadInput`)."""
        def many(v: Sequence[str] | str | None) -> tuple[str, ...]:
            items = [v] if isinstance(v, str) else list(v or [])
            return tuple(dict.fromkeys(str(x).strip() for x in items if str(x).strip()))

        return cls(many(sources), many(outlets), date_from, date_to).check()

    @classmethod
    def from_dict(cls, data: Any) -> FilterChoice:
        """From a stored history entry; anything malformed means no filter."""
        if not isinstance(data, dict):
            return cls()
        try:
            return cls.from_inputs(data.get("sources"), data.get("outlets"), data.get("date_from"),
                                   data.get("date_to"))
        except (BadInput, TypeError):
            return cls()

    def as_dict(self) -> dict[str, Any]:
        return {"sources": list(self.sources), "outlets": list(self.outlets), "date_from": self.date_from,
                "date_to": self.date_to}

    def check(self) -> FilterChoice:
        start, end = _date(self.date_from, "date from"), _date(self.date_to, "date to")
        if start and end and start > end:
            raise BadInput(f"the date range is empty: from {start} is after to {end}")
        return FilterChoice(self.sources, self.outlets, start, end)

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

    def to_filters(self, files: Iterable[FileRecord]) -> Filters:
        """The retrieval filter over the indexed ``files``; raises :class:`BadInput` when no article is left."""
        sources = set(self.sources)
        if self.outlets:
            wanted = {o.casefold() for o in self.outlets}
            of_outlets = {f.source for f in files if str((f.meta or {}).get("outlet") or "").casefold() in wanted}
            sources = (sources & of_outlets) if sources else of_outlets
            if not sources:
                raise BadInput(f"no indexed article matches the filter ({self.describe()}): change it in Settings")
        return Filters(frozenset(sources), self.date_from, self.date_to)


def sources_of(files: Iterable[FileRecord]) -> list[str]:
    """The article choices of the filter (indexed files that are not duplicates of another)."""
    return [f.source for f in files if not f.duplicate_of]


def outlets_of(files: Iterable[FileRecord]) -> list[str]:
    """The distinct outlets of the indexed articles, sorted."""
    found = {str(f.meta.get("outlet")).strip() for f in files if f.meta and f.meta.get("outlet")}
    return sorted((o for o in found if o), key=str.casefold)
