"""Article metadata read from the cleaned text: title, outlet, publication date, author, language.

Each field comes from what the text itself states (a dateline such as ``RIAU24.COM -``, a byline such as
``JUMAT, 30 SEPTEMBER 2022 | 07:13 WIB | LAPORAN: RENI ERINA``); HTML metadata from trafilatura wins when present.
A field the article does not state stays ``None``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from index.cleaning import is_timestamp_line
from index.language import detect_language

__all__ = ["ArticleMeta", "MONTHS", "extract_metadata", "parse_date"]

MONTHS = {
    "januari": 1, "january": 1, "jan": 1, "februari": 2, "february": 2, "feb": 2, "maret": 3, "march": 3,
    "mar": 3, "april": 4, "apr": 4, "mei": 5, "may": 5, "juni": 6, "june": 6, "jun": 6, "juli": 7, "july": 7,
    "jul": 7, "agustus": 8, "august": 8, "agu": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "october": 10, "okt": 10, "oct": 10, "november": 11, "nov": 11, "desember": 12,
    "december": 12, "des": 12, "dec": 12,
}  # fmt: skip
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_DMY = re.compile(rf"\b(\d{{1,2}})\s+({_MONTH_RE})\.?\s+(\d{{4}})\b", re.IGNORECASE)
_MDY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.IGNORECASE)
_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_AUTHOR = re.compile(
    r"\b(?:LAPORAN|Laporan|PENULIS|Penulis|REPORTER|Reporter|Pewarta|PEWARTA|Oleh|OLEH|By|BY|Author|Editor|EDITOR)"
    r"\s*:?\s+([A-Z][\w.'’-]*(?:\s+[A-Z][\w.'’-]*){0,4})"
)
_DOMAIN = re.compile(r"\b[\w-]+\.(?:com|co\.id|id|net|org|co|news|tv)\b", re.IGNORECASE)
_TITLE_END = re.compile(r"[.…:;,][\"'”’)\]]*$")  # a headline may end with ? or !
_HEADER_LINES = 8


@dataclass
class ArticleMeta:
    title: str | None = None
    outlet: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd
    author: str | None = None
    language: str = "id"

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


def parse_date(text: str) -> str | None:
    """First explicit calendar date in ``text`` as ``yyyy-mm-dd`` (``30 SEPTEMBER 2022`` → ``2022-09-30``)."""
    candidates = []
    for m in _DMY.finditer(text):
        candidates.append((m.start(), int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1))))
    for m in _MDY.finditer(text):
        candidates.append((m.start(), int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2))))
    for m in _ISO.finditer(text):
        candidates.append((m.start(), int(m.group(1)), int(m.group(2)), int(m.group(3))))
    for _, y, mo, d in sorted(candidates):
        if 1 <= mo <= 12 and 1 <= d <= 31 and 1900 <= y <= 2100:
            return f"{y:04d}-{mo:02d}-{d:02d}"
    return None


def _outlet_from_dateline(line: str) -> str | None:
    """``RIAU24.COM - Presiden …`` → ``RIAU24.COM``; ``Intisari - Online.com -Fakta …`` → ``Intisari - Online.com``."""
    head = line[:60]
    best = None
    for m in re.finditer(r"\s*[-–—]\s*", head):
        prefix = head[: m.start()].strip()
        if not prefix or len(prefix.split()) > 5:
            continue
        letters = [c for c in prefix if c.isalpha()]
        shouting = bool(letters) and all(c.isupper() for c in letters) and len(letters) >= 3
        if _DOMAIN.search(prefix) or shouting:
            best = prefix
    if best and re.search(r"\(\w+\)$", best):  # "JAKARTA (ANTARA)" keeps the agency
        return best
    return best


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
        if parse_date(line) and (len(line.split()) <= 16 or "|" in line):
            dateline_idx = i
            meta.date = parse_date(line)
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
        return 4 <= n <= 30 and not _TITLE_END.search(line.strip()) and not is_timestamp_line(line)

    if dateline_idx is not None:
        for line in reversed(header[:dateline_idx]):
            if headline(line):
                meta.title = line.strip()
                break
    if meta.title is None:
        for line in header[:3]:
            if headline(line):
                meta.title = line.strip()
                break

    html_meta = html_meta or {}
    meta.title = html_meta.get("title") or meta.title
    meta.outlet = html_meta.get("site") or meta.outlet
    meta.author = html_meta.get("author") or meta.author
    if html_meta.get("date"):
        meta.date = parse_date(str(html_meta["date"])) or meta.date
    return meta
