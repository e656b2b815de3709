"""Citations: every [n] maps to the n-th passage given to the answerer, with the exact quoted span of the article.

For generated answers, markers that point to no passage are removed and reported, and each cited sentence is checked
against its passage: support = max(lexical overlap of its content terms, rescaled dense similarity to the passage's
closest sentence). A sentence below :data:`SUPPORT_THRESHOLD` is kept but flagged ``supported=False``.
"""

from __future__ import annotations

import re

import numpy as np

from assistant.extractive import Pick
from assistant.models import Citation
from index.analysis import analyze
from index.chunking import split_sentences
from index.embedding import Embedder
from index.reader import Passage

__all__ = ["citations_from_picks", "verify_generated", "SUPPORT_THRESHOLD", "split_answer", "strip_markers"]

SUPPORT_THRESHOLD = 0.5
_MARKER = re.compile(r"\s*\[(\d{1,3})\]")


def strip_markers(text: str) -> str:
    """``text`` without its ``[n]`` citation markers."""
    return _MARKER.sub("", text).strip()


def _citation(n: int, p: Passage, start: int, end: int, sentence: str, support: float = 1.0) -> Citation:
    quote = p.text[start - p.start : end - p.start]
    return Citation(n=n, source=p.source, title=p.title, outlet=p.outlet, date=p.date, start=start, end=end,
                    quote=quote, supported=support >= SUPPORT_THRESHOLD, support=round(support, 3), sentence=sentence)


def citations_from_picks(picks: list[Pick], passages: list[Passage]) -> list[Citation]:
    """Citations for the extractive answer: each quote is the picked sentence itself."""
    return [_citation(pk.n, passages[pk.n - 1], pk.start, pk.end, pk.text) for pk in picks]


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """Answer sentences with the markers that close each one: ``"A. [1] B [2][3]."`` → ``[("A.", [1]), …]``."""
    out: list[tuple[str, list[int]]] = []
    for para in text.split("\n"):
        pos = 0
        buf = ""
        for m in re.finditer(r"(?:\s*\[\d{1,3}\])+[.!?]?|[.!?](?=\s|$)", para):
            piece = para[pos : m.end()]
            buf += piece
            pos = m.end()
            markers = [int(x) for x in re.findall(r"\[(\d{1,3})\]", piece)]
            if markers or m.group().strip() in ".!?":
                sentence = strip_markers(buf)
                if sentence or markers:
                    if not sentence and out:
                        out[-1][1].extend(markers)
                    else:
                        out.append((sentence, markers))
                buf = ""
        rest = (buf + para[pos:]).strip()
        if rest:
            out.append((strip_markers(rest), []))
    return out


def verify_generated(
    answer: str, passages: list[Passage], embedder: Embedder | None
) -> tuple[str, list[Citation], list[int]]:
    """Clean ``answer``'s markers and check each cited sentence; returns (answer, citations, removed markers)."""
    removed: list[int] = []
    citations: list[Citation] = []
    parts: list[str] = []
    for sentence, markers in split_answer(answer):
        valid = []
        for n in markers:
            if 1 <= n <= len(passages):
                if n not in valid:
                    valid.append(n)
            else:
                removed.append(n)
        parts.append(sentence + "".join(f" [{n}]" for n in valid))
        for n in valid:
            citations.append(_support(n, sentence, passages[n - 1], embedder))
    return " ".join(p for p in parts if p).strip(), citations, removed


def _support(n: int, sentence: str, p: Passage, embedder: Embedder | None) -> Citation:
    sents = split_sentences(p.text) or []
    if not sents:
        return _citation(n, p, p.start, p.end, sentence, 0.0)
    s_terms = set(analyze(sentence))
    best_i, best_lex = 0, 0.0
    for i, s in enumerate(sents):
        terms = set(analyze(p.text[s.start : s.end]))
        lex = len(s_terms & terms) / len(s_terms) if s_terms else 0.0
        if lex > best_lex:
            best_i, best_lex = i, lex
    passage_terms = set(analyze(p.text))
    lexical = len(s_terms & passage_terms) / len(s_terms) if s_terms else 0.0
    dense = 0.0
    if embedder is not None and sentence.strip():
        q = embedder.embed_documents([sentence])[0]
        vecs = embedder.embed_documents([p.text[s.start : s.end] for s in sents])
        sims = vecs @ q
        j = int(np.argmax(sims))
        dense = float(np.clip((sims[j] - 0.80) / 0.12, 0.0, 1.0))  # e5: ~0.80 unrelated, ~0.92 paraphrase
        if dense > best_lex:
            best_i = j
    support = max(lexical, dense)
    s = sents[best_i]
    return _citation(n, p, p.start + s.start, p.start + s.end, sentence, support)
