"""Find site boilerplate by its shape and keep the article's own text, as character spans of the original.

Two shapes are recognised, in any language the patterns cover (Indonesian and English):

* **Headline lists** ("Populer", "UPDATE", "Baca juga" blocks): a run of short lines without sentence-final
  punctuation in which at least two lines are bare timestamps (a date with or without a time, "Kamis, 4 Juli 2024 | 08:30", "July 4, 2024 8:30 am", or
  "2 jam lalu").
  The whole run goes, with the short section labels around it ("Selengkapnya", "UPDATE").
* **Calls to action** (subscription ads, "klik di sini", "Baca juga:", "Follow us"): a line whose wording is an
  invitation to subscribe, click, download or follow rather than reporting.
* **Link lists** ("Baca juga:", "Berita terkait:", "Related stories"): a line that is only such a heading, and the
  run of short unpunctuated lines right under it (other stories' headlines, not this article's text).

Nothing is rewritten: :func:`content_spans` returns ``(start, end)`` spans of the input, so offsets stay exact.

>>> text = "Judul berita\\nIsi berita yang panjang.\\nPopuler\\nA b c d\\nSenin, 1 Mei 2023 | 10:12\\nE f g\\n" \\
...        "Selasa, 2 Mei 2023 | 11:00\\n"
>>> [text[s:e] for s, e in content_spans(text)]
['Judul berita', 'Isi berita yang panjang.']
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.dates import DATE_PATTERN, WEEKDAY_PATTERN

__all__ = ["CLEANING_VERSION", "Line", "split_lines", "content_spans", "is_timestamp_line", "is_call_to_action"]

# Bumped whenever content_spans() keeps other text: an index cleans each file again on its next build (a chunk that
# comes out the same keeps its stored vector). 2: link lists.
CLEANING_VERSION = 2

_TIME = r"\d{1,2}[:.]\d{2}(?:\s*(?:wib|wita|wit|am|pm|utc|gmt))?"
_TIMESTAMP = re.compile(
    rf"^\W*(?:{WEEKDAY_PATTERN}\W+)?(?:{DATE_PATTERN}(?:\W+{_TIME})?|{_TIME}|\d+\s+(?:menit|jam|hari|minutes?|hours?|days?)\s+(?:yang\s+)?(?:lalu|ago))\W*$",
    re.IGNORECASE,
)
_CTA = re.compile(
    r"\b(?:klik\s+di\s*sini|click\s+here|berlangganan|langganan|subscribe|sign\s+up|daftar\s+sekarang|"
    r"unduh\s+aplikasi|download\s+(?:the\s+)?app|baca\s+juga|read\s+(?:also|more)|ikuti\s+kami|follow\s+us|"
    r"simak\s+berita|selengkapnya\s+di|dapatkan\s+update|tonton\s+juga|watch\s+also)\b",
    re.IGNORECASE,
)
# a heading that is only "read also" / "related" wording: the short lines right under it are other stories' titles
_LINK_LIST_HEADING = re.compile(
    r"^\W*(?:baca\s+(?:juga|pula)|simak\s+juga|lihat\s+juga|tonton\s+juga|(?:berita|artikel)\s+(?:terkait|lainnya)|"
    r"read\s+(?:also|more)|see\s+also|more\s+(?:stories|news)|related(?:\s+(?:stories|articles|news|coverage|links))?)"
    r"\W*$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s*$")
_MAX_LIST_LINE_WORDS = 25


@dataclass(frozen=True)
class Line:
    start: int
    end: int  # exclusive, line break not included
    text: str

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def split_lines(text: str) -> list[Line]:
    """Lines of ``text`` with their offsets; ``\\n``, ``\\r\\n`` and ``\\r`` all end a line."""
    lines = []
    for m in re.finditer(r"[^\r\n]*", text):
        if m.start() == m.end() and m.start() > 0 and text[m.start() - 1] in "\r\n":
            # empty match right after a line break: represents a blank line only if followed by a break
            if m.start() < len(text) and text[m.start()] in "\r\n":
                lines.append(Line(m.start(), m.end(), ""))
            continue
        lines.append(Line(m.start(), m.end(), m.group()))
    return lines


def is_timestamp_line(text: str) -> bool:
    """A line that is only a date and/or time, as under each headline of a headline list."""
    stripped = text.strip()
    return bool(stripped) and len(stripped) <= 60 and bool(_TIMESTAMP.match(stripped))


def is_call_to_action(text: str) -> bool:
    """A line that invites the reader to subscribe, click, download or read more."""
    return bool(_CTA.search(text))


def _listy(text: str) -> bool:
    stripped = text.strip()
    if not stripped:
        return False
    n_words = len(stripped.split())
    return n_words <= _MAX_LIST_LINE_WORDS and not _SENTENCE_END.search(stripped)


def _headline_list_lines(lines: list[Line]) -> set[int]:
    """Indexes of lines inside headline-list blocks."""
    dropped: set[int] = set()
    i = 0
    n = len(lines)
    while i < n:
        if lines[i].blank or not (_listy(lines[i].text) or is_timestamp_line(lines[i].text)):
            i += 1
            continue
        j = i
        members = []
        while j < n and (lines[j].blank or _listy(lines[j].text) or is_timestamp_line(lines[j].text)):
            if not lines[j].blank:
                members.append(j)
            j += 1
        stamps = sum(1 for k in members if is_timestamp_line(lines[k].text))
        if stamps >= 2:
            dropped.update(members)
        i = j
    return dropped


def _link_list_lines(text: str, lines: list[Line]) -> set[int]:
    """Indexes of link-list headings and of the run of short unpunctuated lines right under each (blank lines
    between the heading and the run allowed; the run ends at a blank line or a full sentence).

    >>> text = "Isi berita.\\nBerita Terkait:\\n- Judul lain di kota lain\\n- Judul ketiga\\n\\nSubjudul\\nIsi lagi."
    >>> lines = split_lines(text)
    >>> [lines[i].text for i in sorted(_link_list_lines(text, lines))]
    ['Berita Terkait:', '- Judul lain di kota lain', '- Judul ketiga']
    """
    dropped: set[int] = set()
    filled = [i for i, line in enumerate(lines) if not line.blank]
    for k, i in enumerate(filled):
        if not _LINK_LIST_HEADING.match(lines[i].text.strip()):
            continue
        dropped.add(i)
        prev = None
        for j in filled[k + 1 :]:
            gap = text[lines[prev].end : lines[j].start] if prev is not None else ""
            if not _listy(lines[j].text) or len(re.findall(r"\r\n|\r|\n", gap)) > 1:
                break
            dropped.add(j)
            prev = j
    return dropped


def content_spans(text: str) -> list[tuple[int, int]]:
    """Spans of article content (one per kept non-blank line), boilerplate removed, in document order."""
    lines = split_lines(text)
    dropped = _headline_list_lines(lines) | _link_list_lines(text, lines)
    spans = []
    for idx, line in enumerate(lines):
        if idx in dropped or line.blank or is_call_to_action(line.text):
            continue
        start = line.start + (len(line.text) - len(line.text.lstrip()))
        end = line.start + len(line.text.rstrip())
        if end > start:
            spans.append((start, end))
    return spans
