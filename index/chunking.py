"""Sentence-aware, token-based chunking with exact character offsets.

Sentences are found inside the content spans that cleaning kept (a boilerplate line never joins a chunk), then
packed into chunks of at most ``chunk_tokens`` ``cl100k_base`` tokens, the next chunk repeating up to
``overlap_tokens`` of the previous chunk's last whole sentences. A chunk starts mid-sentence only when one sentence
alone exceeds the limit. For every chunk, ``text[chunk.start:chunk.end] == chunk.text``.

>>> chunks = chunk_text("Satu dua. Tiga empat.", [(0, 21)], chunk_tokens=200, overlap_tokens=0)
>>> [(c.start, c.end, c.text) for c in chunks]
[(0, 21, 'Satu dua. Tiga empat.')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from index.tokens import count_tokens, encoding

__all__ = ["Chunk", "Sentence", "split_sentences", "chunk_text"]

# Words after which a full stop does not end a sentence.
_ABBREV = frozenset(
    "st dr mr mrs ms prof jl no nos vs etc dll dsb dst tsb bpk ir drs hj h kol jend letjen mayjen brigjen kapt "
    "inc ltd co corp jr sr u.s a.s p.m a.m e.g i.e sdr sdri".split()
)
# Possessive and anchored at the start of a run of marks, so a long run ("!!!!…", a line of dots) costs linear time.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++[\"'”’)\]]*+(?=\s|$)")
_NEXT_CHAR = re.compile(r"\s*+(\S)")
_LAST_WORD_WINDOW = 64  # characters looked back for the word before a full stop (abbreviations are short)


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int


@dataclass(frozen=True)
class Chunk:
    index: int  # position of the chunk within its article
    start: int
    end: int
    text: str
    tokens: int


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Sentence]:
    """Sentences of ``text[start:end]`` as offsets into ``text`` (whitespace around them excluded).

    A line break always ends a sentence (news text puts headlines and paragraphs on lines of their own).
    """
    end = len(text) if end is None else end
    out: list[Sentence] = []
    pos = start
    for m in re.finditer(r"[\r\n]+", text[start:end]):
        out.extend(_split_line(text, pos, start + m.start()))
        pos = start + m.end()
    out.extend(_split_line(text, pos, end))
    return out


def _split_line(text: str, start: int, end: int) -> list[Sentence]:
    # Linear in the line's length: only a short window before and one character after each candidate boundary is
    # looked at, so a 1 MB line without breaks costs milliseconds, not minutes.
    out: list[Sentence] = []
    cur = start
    for m in _BOUNDARY.finditer(text, start, end):
        stop = m.end()
        if m.group().startswith("."):
            before = text[max(cur, m.start() - _LAST_WORD_WINDOW) : m.start()].split()
            last_word = before[-1].lower().strip("(\"'“‘") if before else ""
            # "St. Petersburg", "Dr. X", single initials ("J. Psaki"), decimals are not boundaries
            if last_word in _ABBREV or (len(last_word) == 1 and last_word.isalpha()):
                continue
        nxt = _NEXT_CHAR.match(text, stop, end)
        if nxt and nxt.group(1).islower():
            continue
        _append(text, out, cur, stop)
        cur = stop
    _append(text, out, cur, end)
    return out


def _append(text: str, out: list[Sentence], s: int, e: int) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        out.append(Sentence(s, e))


def _split_long(text: str, sent: Sentence, limit: int) -> list[tuple[Sentence, int]]:
    """Cut one over-long sentence at token boundaries (the only mid-sentence cut); pieces with their token counts.

    Cuts fall on the character where a token starts (``decode_with_offsets``), so offsets stay exact even when a
    token boundary splits a character's bytes; a piece that counts over ``limit`` on its own is halved again.
    """
    enc = encoding()
    ids = enc.encode_ordinary(text[sent.start : sent.end])
    _, offsets = enc.decode_with_offsets(ids)
    cuts = sorted({0, *(offsets[i] for i in range(limit, len(ids), limit)), sent.end - sent.start})
    parts: list[tuple[Sentence, int]] = []
    for a, b in pairwise(cuts):
        parts.extend(_fit(text, sent.start + a, sent.start + b, limit))
    return parts


def _fit(text: str, start: int, end: int, limit: int) -> list[tuple[Sentence, int]]:
    n = count_tokens(text[start:end])
    if n <= limit or end - start <= 1:
        return [(Sentence(start, end), n)] if end > start else []
    mid = (start + end) // 2
    return _fit(text, start, mid, limit) + _fit(text, mid, end, limit)


def _regions(spans: list[tuple[int, int]], text: str) -> list[list[tuple[int, int]]]:
    """Group consecutive kept lines; a gap holding dropped (non-blank) text starts a new region."""
    regions: list[list[tuple[int, int]]] = []
    prev_end = None
    for s, e in spans:
        if prev_end is not None and text[prev_end:s].strip() == "":
            regions[-1].append((s, e))
        else:
            regions.append([(s, e)])
        prev_end = e
    return regions


def chunk_text(text: str, spans: list[tuple[int, int]], chunk_tokens: int, overlap_tokens: int) -> list[Chunk]:
    """Chunks of the content ``spans`` of ``text`` (see the module docstring)."""
    if chunk_tokens < 16:
        raise ValueError("chunk_tokens must be at least 16")
    chunks: list[Chunk] = []
    for region in _regions(spans, text):
        sentences: list[tuple[Sentence, int]] = []
        for s, e in region:
            for sent in split_sentences(text, s, e):
                n = count_tokens(text[sent.start : sent.end])
                if n > chunk_tokens:
                    sentences.extend(_split_long(text, sent, chunk_tokens))
                else:
                    sentences.append((sent, n))
        i = 0
        while i < len(sentences):
            j = i
            total = 0
            while j < len(sentences) and (j == i or total + sentences[j][1] + 1 <= chunk_tokens):
                total += sentences[j][1] + (1 if j > i else 0)
                j += 1
            start, end = sentences[i][0].start, sentences[j - 1][0].end
            chunk_str = text[start:end]
            chunks.append(Chunk(len(chunks), start, end, chunk_str, count_tokens(chunk_str)))
            if j >= len(sentences):
                break
            # overlap: step back over whole sentences worth at most overlap_tokens
            k = j
            back = 0
            while k - 1 > i and back + sentences[k - 1][1] <= overlap_tokens:
                back += sentences[k - 1][1]
                k -= 1
            i = k
    return chunks
