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

from index.tokens import count_tokens, encoding

__all__ = ["Chunk", "Sentence", "split_sentences", "chunk_text"]

# Words after which a full stop does not end a sentence.
_ABBREV = frozenset(
    "st dr mr mrs ms prof jl no nos vs etc dll dsb dst tsb bpk ir drs hj h kol jend letjen mayjen brigjen kapt "
    "inc ltd co corp jr sr u.s a.s p.m a.m e.g i.e sdr sdri".split()
)
_BOUNDARY = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+|$)")


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
    out: list[Sentence] = []
    cur = start
    for m in _BOUNDARY.finditer(text, start, end):
        stop = m.end()
        before = text[cur : m.start()].split()
        last_word = before[-1].lower().strip("(\"'“‘") if before else ""
        # "St. Petersburg", "Dr. X", single initials ("J. Psaki"), decimals are not boundaries
        if m.group().startswith(".") and (last_word in _ABBREV or (len(last_word) == 1 and last_word.isalpha())):
            continue
        nxt = text[stop:end].lstrip()
        if nxt and nxt[0].islower():
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


def _split_long(text: str, sent: Sentence, limit: int) -> list[Sentence]:
    """Cut one over-long sentence at token boundaries (the only mid-sentence cut)."""
    enc = encoding()
    piece = text[sent.start : sent.end]
    ids = enc.encode_ordinary(piece)
    parts = []
    pos = 0
    for i in range(0, len(ids), limit):
        chunk_str = enc.decode(ids[i : i + limit])
        # decode may not round-trip byte-split characters; locate by length instead
        length = len(chunk_str)
        parts.append(Sentence(sent.start + pos, min(sent.start + pos + length, sent.end)))
        pos += length
    return [p for p in parts if p.end > p.start]


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
                    for part in _split_long(text, sent, chunk_tokens):
                        sentences.append((part, count_tokens(text[part.start : part.end])))
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
