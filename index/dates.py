"""Calendar words and dates as articles write them, in Indonesian and English: the one home of month and day names.

:func:`parse_date` reads the forms news sites use and returns ISO ``yyyy-mm-dd``:

>>> [parse_date(s) for s in ("Selasa, 27 September 2022", "Selasa, 27/09/2022 | 10:12 WIB", "Sep 27, 2022",
...                          "2022-09-27T08:00:00Z", "27 Sept. 2022", "Tuesday 27th September 2022")]
['2022-09-27', '2022-09-27', '2022-09-27', '2022-09-27', '2022-09-27', '2022-09-27']
>>> parse_date("pada 7 Januari") is None  # no year: not a date this module will guess
True
"""

from __future__ import annotations

import re

__all__ = ["MONTHS", "WEEKDAYS", "MONTH_PATTERN", "WEEKDAY_PATTERN", "DATE_PATTERN", "parse_date", "find_dates"]

MONTHS = {
    "januari": 1, "january": 1, "jan": 1, "februari": 2, "february": 2, "feb": 2, "pebruari": 2, "maret": 3,
    "march": 3, "mar": 3, "april": 4, "apr": 4, "mei": 5, "may": 5, "juni": 6, "june": 6, "jun": 6, "juli": 7,
    "july": 7, "jul": 7, "agustus": 8, "august": 8, "agu": 8, "agt": 8, "aug": 8, "september": 9, "sep": 9,
    "sept": 9, "oktober": 10, "october": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11, "nopember": 11,
    "desember": 12, "december": 12, "des": 12, "dec": 12,
}  # fmt: skip
"""Month names and their usual abbreviations (Indonesian and English, lowercase) → month number."""

WEEKDAYS = {
    "senin": 0, "selasa": 1, "rabu": 2, "kamis": 3, "jumat": 4, "jum'at": 4, "sabtu": 5, "minggu": 6, "ahad": 6,
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip
"""Day names (Indonesian and English, lowercase) → weekday number, Monday = 0."""


def _alternation(words: dict[str, int]) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


MONTH_PATTERN = _alternation(MONTHS)
"""Regular expression (a non-capturing group) matching any month word; use with ``re.IGNORECASE``."""
WEEKDAY_PATTERN = _alternation(WEEKDAYS)
"""Regular expression (a non-capturing group) matching any day name; use with ``re.IGNORECASE``."""

_ORD = r"(?:st|nd|rd|th)?"
_DMY = rf"(\d{{1,2}}){_ORD}\s+(?:of\s+)?({MONTH_PATTERN})\.?,?\s+(\d{{4}})"  # 27 September 2022, 27th Sept. 2022
_MDY = rf"({MONTH_PATTERN})\.?\s+(\d{{1,2}}){_ORD},?\s+(\d{{4}})"  # Sep 27, 2022
_NUM = r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})"  # 27/09/2022, 27-9-22 (day first, as Indonesian sites write)
_ISO = r"(\d{4})-(\d{1,2})-(\d{1,2})"  # 2022-09-27, 2022-09-27T08:00
DATE_PATTERN = rf"(?:{_DMY}|{_MDY}|(?<![\d/.-]){_NUM}(?![\d/.-]*\d)|(?<![\d-]){_ISO}(?![\d-]))"
"""Regular expression for one date in any form :func:`parse_date` reads (a year is always required)."""
_DATE = re.compile(rf"\b{DATE_PATTERN}", re.IGNORECASE)


def _valid(y: int, mo: int, d: int) -> str | None:
    if not (1 <= mo <= 12 and 1 <= d <= 31 and 1900 <= y <= 2100):
        return None
    if d > (29 if mo == 2 else 30 if mo in (4, 6, 9, 11) else 31):
        return None
    return f"{y:04d}-{mo:02d}-{d:02d}"


def _from_match(m: re.Match[str]) -> str | None:
    g = m.groups()
    if g[0]:  # day month year
        return _valid(int(g[2]), MONTHS[g[1].lower()], int(g[0]))
    if g[3]:  # month day, year
        return _valid(int(g[5]), MONTHS[g[3].lower()], int(g[4]))
    if g[6]:  # numeric, day first unless only month first makes sense (09/27/2022)
        a, b, y = int(g[6]), int(g[7]), int(g[8])
        y = y + 2000 if y < 100 else y
        return _valid(y, b, a) or _valid(y, a, b)
    return _valid(int(g[9]), int(g[10]), int(g[11]))


def find_dates(text: str) -> list[tuple[int, int, str]]:
    """Every date in ``text`` as ``(start, end, yyyy-mm-dd)``, in order (impossible dates such as 31/02 skipped)."""
    out = []
    for m in _DATE.finditer(text):
        iso = _from_match(m)
        if iso:
            out.append((m.start(), m.end(), iso))
    return out


def parse_date(text: str) -> str | None:
    """First date in ``text`` as ``yyyy-mm-dd`` (``30 SEPTEMBER 2022`` → ``2022-09-30``), or ``None``."""
    found = find_dates(text)
    return found[0][2] if found else None
