"""Article metadata read from the cleaned text: title, outlet, publication date, author, language.

Each field comes from what the text itself states (a dateline such as ``RIAU24.COM -``, a byline such as
``JUMAT, 30 SEPTEMBER 2022 | 07:13 WIB | LAPORAN: RENI ERINA``); HTML metadata from trafilatura wins when present.
Every article gets a ``title``: its headline, or, without one, a label cut from its lead sentence plus the outlet
(``headline`` then stays ``None``). Any other field the article does not state stays ``None``; a date is read only
from a dateline or byline, never guessed from a date in the running text.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from index.cleaning import is_timestamp_line
from index.dates import MONTHS, find_dates, parse_date
from index.language import detect_language

__all__ = ["ArticleMeta", "METADATA_VERSION", "MONTHS", "extract_metadata", "lead_label", "parse_date"]

METADATA_VERSION = 3
"""Bumped whenever extraction changes: the next build re-reads the metadata of files it would otherwise keep."""
_AUTHOR = re.compile(
    r"\b(?:LAPORAN|Laporan|PENULIS|Penulis|REPORTER|Reporter|Pewarta|PEWARTA|Oleh|OLEH|By|BY|Author|Editor|EDITOR)"
    r"\s*:?\s+([A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,4})"
)
_DOMAIN = re.compile(r"\b[\w-]+\.(?:com|co\.id|id|net|org|co|news|tv)\b", re.IGNORECASE)
_TITLE_END = re.compile(r"[.…:;,][\"'”’)\]]*$")  # a headline may end with ? or !
_HEADER_LINES = 8


_LABEL_CHARS = 60
_SEPARATOR = re.compile(r"\s*[-–—|]\s*")


@dataclass
class ArticleMeta:
    title: str | None = None  # the headline, or (no headline) a label from the lead sentence and the outlet
    headline: str | None = None  # the article's own headline line, when it has one
    outlet: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd
    author: str | None = None
    language: str = "id"
    version: int = METADATA_VERSION

    def as_dict(self) -> dict[str, str | int | None]:
        return asdict(self)


def _dateline(line: str) -> tuple[str, int] | None:
    """``RIAU24.COM - Presiden …`` → (``RIAU24.COM``, where ``Presiden`` starts); ``Intisari - Online.com -Fakta …``
    → (``Intisari - Online.com``, …); ``None`` when the line does not open with an outlet."""
    head = line[:60]
    best = None
    for m in _SEPARATOR.finditer(head):
        prefix = head[: m.start()].strip()
        if not prefix or len(prefix.split()) > 5 or m.group().strip() == "|":
            continue
        letters = [c for c in prefix if c.isalpha()]
        shouting = bool(letters) and all(c.isupper() for c in letters) and len(letters) >= 3
        if _DOMAIN.search(prefix) or shouting:
            best = (prefix, m.end())
    return best


def _outlet_from_dateline(line: str) -> str | None:
    found = _dateline(line)
    return found[0] if found else None


def _short_outlet(outlet: str) -> str:
    """A name to show: ``RIAU24.COM`` → ``Riau24``, ``JAKARTA, KOMPAS.com`` → ``Kompas``, ``JAKARTA (ANTARA)`` →
    ``Antara``, ``Intisari - Online.com`` → ``Intisari Online``."""
    name = outlet.strip()
    agency = re.search(r"\(([^()]+)\)\s*$", name)
    if agency:
        name = agency.group(1)
    name = name.rsplit(",", 1)[-1]
    name = re.sub(r"\.(?:com|co\.id|id|net|org|co|news|tv)\b", "", name, flags=re.IGNORECASE)
    name = " ".join(w for w in re.split(r"\s+[-–—]\s+|\s+", name) if w)
    return _title_case(name) if name.isupper() else name


def lead_label(line: str, outlet: str | None = None, limit: int = _LABEL_CHARS) -> str:
    """A short label for an article without a headline: its lead sentence, cut at a word boundary near ``limit``
    characters, then the outlet (``Kazakhstan menyambut warga Rusia yang… — Riau24``)."""
    text = " ".join(line.split())
    opened = _dateline(text)
    if opened:
        text = text[opened[1]:]
    sentence = re.match(r".+?[.!?…](?=\s+[\"“'‘(]?[A-Z0-9]|$)", text)
    text = (sentence.group() if sentence else text).strip()
    if len(text) > limit:
        cut = text[: limit + 1]
        text = (cut[: cut.rfind(" ")] if " " in cut else cut[:limit]).rstrip(" ,;:–—-\"“'‘(") + "…"
    else:
        text = text.rstrip(".")
    return f"{text} — {_short_outlet(outlet)}" if outlet else text


def _dateline_date(line: str) -> str | None:
    """A date that opens a line as a dateline (``JAKARTA, Selasa (27/9/2022) - …``, ``Sep 27, 2022 | …``): at most
    five words before it and a dash or bar right after it (a time and a closing bracket may come between)."""
    for start, end, iso in find_dates(line[:100]):
        if len(line[:start].split()) > 5:
            break
        if re.match(r"\s*\)?\s*(?:\d{1,2}[:.]\d{2}\s*\w*\s*)?\)?\s*[-–—|]", line[end:]):
            return iso
    return None


def _title_case(name: str) -> str:
    return " ".join(w.capitalize() if w.isupper() else w for w in name.split())


def extract_metadata(text: str, spans: list[tuple[int, int]], html_meta: dict[str, str | None] | None = None) -> ArticleMeta:
    """Metadata from the kept ``spans`` of ``text`` (see :func:`index.cleaning.content_spans`)."""
    lines = [text[s:e] for s, e in spans]
    header = lines[:_HEADER_LINES]
    meta = ArticleMeta()
    body = " ".join(lines)
    meta.language = detect_language(body[:5000])

    dateline_idx = None
    for i, line in enumerate(header):
        date = parse_date(line) if len(line.split()) <= 16 or "|" in line else None
        date = date or _dateline_date(line)
        if date:
            dateline_idx, meta.date = i, date
            break
    for line in header:
        m = _AUTHOR.search(line)
        if m and len(line.split()) <= 20:
            meta.author = _title_case(m.group(1).strip())
            break
    for line in header[:4]:
        outlet = _outlet_from_dateline(line)
        if outlet:
            meta.outlet = outlet
            break

    def headline(line: str) -> bool:
        n = len(line.split())
        return 4 <= n <= 30 and not _TITLE_END.search(line.strip()) and not is_timestamp_line(line) \
            and _dateline(line) is None

    if len(lines) < 2:  # a headline heads something: a text of one line is all body (a paragraph, a note)
        header = []

    if dateline_idx is not None:
        for line in reversed(header[:dateline_idx]):
            if headline(line):
                meta.headline = line.strip()
                break
    if meta.headline is None:
        for line in header[:3]:
            if headline(line):
                meta.headline = line.strip()
                break

    html_meta = html_meta or {}
    meta.headline = html_meta.get("title") or meta.headline
    meta.outlet = html_meta.get("site") or meta.outlet
    meta.author = html_meta.get("author") or meta.author
    if html_meta.get("date"):
        meta.date = parse_date(str(html_meta["date"])) or meta.date
    meta.title = meta.headline
    if meta.title is None and lines:
        lead = next((ln for ln in header if len(ln.split()) >= 8 and not is_timestamp_line(ln)), lines[0])
        meta.title = lead_label(lead, meta.outlet) or None
    return meta
