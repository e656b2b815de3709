"""Search filters from what a user typed (articles, outlets, a date range) → the :class:`Filters` retrieval applies.

One path for every entry point: the CLI's ``--source/--outlet/--from/--to`` flags, the ``/ask`` API and
:meth:`assistant.chain.Assistant.filters` all call :func:`make_filters`. Dates are ``yyyy-mm-dd`` (as the index
stores them); an outlet stands for the indexed articles of that outlet (compared without case, spaces or
punctuation; "Riau24" also names "RIAU24.COM"); with articles named as well, only the named articles of those
outlets remain. Every mistake is one :class:`BadInput` line.

>>> from index.state import FileRecord
>>> files = [FileRecord("a.txt", "h1", "d1", "txt", {"outlet": "Riau24"}, []),
...          FileRecord("b.txt", "h2", "d2", "txt", {"outlet": "Kompas"}, [])]
>>> make_filters(files, outlets=["riau24"], date_from="2022-09-01")
Filters(sources=frozenset({'a.txt'}), date_from='2022-09-01', date_to=None)
>>> make_filters(files, date_from="1.9.2022")
Traceback (most recent call last):
...
index.errors.BadInput: date from must look like yyyy-mm-dd (got '1.9.2022')
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from assistant.errors import BadInput
from assistant.retrieval import Filters
from assistant.scope import outlet_key
from index.state import FileRecord

__all__ = ["make_filters", "check_date", "describe_filters"]

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def check_date(value: str | None, name: str) -> str | None:
    """``value`` stripped when it is a real ``yyyy-mm-dd`` date, None when empty; else :class:`BadInput`."""
    if value is not None and not isinstance(value, str):
        raise BadInput(f"{name} must be a date as text, yyyy-mm-dd")
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


def _names(values: Iterable[str] | str | None, what: str) -> list[str]:
    items = [values] if isinstance(values, str) else list(values or [])
    if not all(isinstance(v, str) for v in items):
        raise BadInput(f"{what} must be text or a list of text")
    return list(dict.fromkeys(v.strip() for v in items if v.strip()))


def make_filters(files: Iterable[FileRecord], sources: Iterable[str] | str | None = None,
                 outlets: Iterable[str] | str | None = None, date_from: str | None = None,
                 date_to: str | None = None) -> Filters:
    """The retrieval filter over the indexed ``files``; :class:`BadInput` for a bad date, an empty range, an article
    or outlet the index does not hold, or a combination that leaves no article."""
    files = list(files)
    start, end = check_date(date_from, "date from"), check_date(date_to, "date to")
    if start and end and start > end:
        raise BadInput(f"the date range is empty: from {start} is after to {end}")
    wanted = _names(sources, "source")
    known = {f.source for f in files}
    unknown = [s for s in wanted if s not in known]
    if unknown:
        raise BadInput(f"source {unknown[0]!r} is not in the index (give an indexed file name, e.g. "
                       f"{min(known) if known else 'article.txt'})")
    chosen = set(wanted)
    names = _names(outlets, "outlet")
    if names:
        by_outlet: dict[str, set[str]] = {}
        for f in files:
            outlet = str((f.meta or {}).get("outlet") or "").strip()
            if outlet_key(outlet):
                by_outlet.setdefault(outlet_key(outlet), set()).add(f.source)
        missing = [o for o in names if outlet_key(o) not in by_outlet]
        if missing:
            have = ", ".join(sorted({str((f.meta or {}).get("outlet")) for f in files if (f.meta or {}).get("outlet")},
                                    key=str.casefold)[:8]) or "none"
            raise BadInput(f"no indexed article is from outlet {missing[0]!r} (outlets: {have})")
        of_outlets = set().union(*(by_outlet[outlet_key(o)] for o in names))
        chosen = (chosen & of_outlets) if chosen else of_outlets
        if not chosen:
            raise BadInput("no indexed article is both one of the sources named and from the outlets named")
    return Filters(frozenset(chosen), start, end)


def describe_filters(filters: Filters) -> str:
    """One line naming what a search was limited to ("" without a filter).

    >>> describe_filters(Filters(frozenset({"a.txt"}), "2022-09-01", None))
    'articles a.txt · from 2022-09-01'
    """
    parts = []
    if filters.sources:
        parts.append("articles " + ", ".join(sorted(filters.sources)))
    if filters.date_from:
        parts.append(f"from {filters.date_from}")
    if filters.date_to:
        parts.append(f"to {filters.date_to}")
    return " · ".join(parts)
